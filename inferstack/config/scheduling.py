"""Config of gang scheduling and quotas with Kueue (``inferstack:scheduling``).

Kueue is on by default for every stack with accelerator pools: one ClusterQueue per pool holding the pool's capacity
(devices, CPU and memory of its ``maxNodes`` nodes, from the capacity plan), one LocalQueue per team namespace, a
cohort in which the teams borrow idle quota. ``queues`` overrides a pool's quota; ``inferstack.checks.scheduling``
refuses a quota the pool cannot hold.
"""

from __future__ import annotations

from enum import Enum

from pydantic import Field, field_validator

from inferstack.config.base import StrictModel
from inferstack.config.bounded import cpu_quantity, memory_quantity

_NAME = r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$"
#: A duration Kueue's ``waitForPodsReady.timeout`` accepts (a Go duration, minutes or hours here).
_DURATION = r"^[1-9][0-9]{0,3}(m|h)$"


class ReclaimPolicy(str, Enum):
    """Kueue ``preemption.reclaimWithinCohort``: whom a queue may preempt to take back its lent quota."""

    NEVER = "Never"
    LOWER_PRIORITY = "LowerPriority"
    ANY = "Any"


class QueueConfig(StrictModel):
    """The quota of one pool's ClusterQueue; each value left out is the pool's whole capacity at ``maxNodes``."""

    pool: str = Field(description="Accelerator pool (inferstack:acceleratorPools[].name) the ClusterQueue is for.", pattern=_NAME)
    devices: int | None = Field(None, ge=0, description="Nominal quota of accelerator devices; default maxNodes x devices per node.")
    cpu: str | None = Field(None, description="Nominal CPU quota (e.g. '90' or '90500m'); default maxNodes x the node's allocatable CPU.")
    memory: str | None = Field(None, description="Nominal memory quota (e.g. 360Gi); default maxNodes x the node's allocatable memory.")

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, v: str | None) -> str | None:
        if v is not None:
            cpu_quantity(v)
        return v

    @field_validator("memory")
    @classmethod
    def _memory(cls, v: str | None) -> str | None:
        if v is not None:
            memory_quantity(v)
        return v


class SchedulingConfig(StrictModel):
    """Queueing, quotas and all-or-nothing admission of accelerator workloads with Kueue."""

    enabled: bool = Field(
        True,
        description=(
            "Install Kueue and queue the LLM workloads of the accelerator pools (gang admission of LeaderWorkerSet "
            "groups); no effect on a stack without accelerator pools."
        ),
    )
    cohort: str = Field(
        "inferstack", description="Cohort of every ClusterQueue: the teams' queues borrow the pools' idle quota in it.", pattern=_NAME
    )
    queues: list[QueueConfig] = Field(
        default_factory=list, description="Per pool, a nominal quota below the pool's capacity (default: the whole pool)."
    )
    reclaim_within_cohort: ReclaimPolicy = Field(
        ReclaimPolicy.ANY,
        description="Whom a queue preempts to take back quota it lent: Any (default), LowerPriority or Never.",
    )
    pods_ready_timeout: str = Field(
        "30m",
        description=(
            "How long an admitted workload (a whole LeaderWorkerSet group) may take to have every pod ready before "
            "Kueue evicts and requeues it (waitForPodsReady); minutes or hours, e.g. 30m."
        ),
        pattern=_DURATION,
    )

    @field_validator("queues")
    @classmethod
    def _distinct(cls, v: list[QueueConfig]) -> list[QueueConfig]:
        names = [q.pool for q in v]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"one entry per pool; listed more than once: {', '.join(dupes)}")
        return v

    def queue(self, pool: str) -> QueueConfig | None:
        """The ``queues`` entry of ``pool``, if any."""
        return next((q for q in self.queues if q.pool == pool), None)

