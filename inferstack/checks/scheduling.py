"""Kueue quotas from the capacity plan, and the checks of ``inferstack:scheduling``.

Pure functions (no Pulumi): :func:`queue_plan` turns the pools and models of a stack into the quotas that
``inferstack.serving.kueue`` declares; :func:`check_scheduling` refuses what the pools cannot hold.

The quota plan, per accelerator pool (quantities Kueue compares with pod requests):

- **capacity**: what the pool holds at ``maxNodes`` nodes of its planned shape (``inferstack.sizing``): devices,
  and the node's *allocatable* CPU and memory (after kubelet, system reservations and the pool's DaemonSets);
- **unqueued**: what the pool's models that Kueue does not admit use at ``maxReplicas`` (predictive
  InferenceServices, whose pods KServe does not label for Kueue), with the serving sidecars; kept out of the queues;
- **offered**: what the pool's queues hand out: ``scheduling.queues[].devices/cpu/memory`` when given, else
  capacity minus unqueued;
- **guaranteed** per team namespace: the ``minReplicas`` of the team's queued models on the pool (LLM track: every
  pod of a replica, ``nodesPerReplica`` pods of a LeaderWorkerSet group, and the prefill replicas), the nominal quota
  of the team's ClusterQueue;
- **pool queue**: offered minus the teams' guaranteed shares: the nominal quota of the pool's ClusterQueue, which
  admits nothing itself and lends everything to the teams in the cohort (scale-up beyond ``minReplicas`` borrows it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from inferstack import sizing
from inferstack.catalog import accelerators
from inferstack.catalog.accelerators import Family
from inferstack.config.base import Cloud
from inferstack.config.platform import AcceleratorPoolConfig, GpuAllocation
from inferstack.config.scheduling import SchedulingConfig
from inferstack.config.serving import ModelConfig
from inferstack.config.stack import ConfigIssue, StackConfig


@dataclass(frozen=True)
class Quota:
    """Devices, CPU (millicores) and memory (MiB): whole units, so Kueue's quantities compare exactly."""

    devices: int = 0
    cpu_milli: int = 0
    memory_mib: int = 0

    def __add__(self, other: Quota) -> Quota:
        return Quota(self.devices + other.devices, self.cpu_milli + other.cpu_milli, self.memory_mib + other.memory_mib)

    def __sub__(self, other: Quota) -> Quota:
        return Quota(self.devices - other.devices, self.cpu_milli - other.cpu_milli, self.memory_mib - other.memory_mib)

    def times(self, n: int) -> Quota:
        return Quota(self.devices * n, self.cpu_milli * n, self.memory_mib * n)

    def short_of(self, other: Quota) -> list[str]:
        """The resources of which ``self`` holds less than ``other``, in words (empty when it holds all)."""
        out = []
        if self.devices < other.devices:
            out.append(f"devices {self.devices} < {other.devices}")
        if self.cpu_milli < other.cpu_milli:
            out.append(f"cpu {cpu_text(self.cpu_milli)} < {cpu_text(other.cpu_milli)}")
        if self.memory_mib < other.memory_mib:
            out.append(f"memory {memory_text(self.memory_mib)} < {memory_text(other.memory_mib)}")
        return out


def cpu_text(milli: int) -> str:
    """A CPU quantity: whole cores as ``12``, else millicores ``11500m``."""
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


def memory_text(mib: int) -> str:
    """A memory quantity: whole GiB as ``96Gi``, else ``98304Mi``."""
    return f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi"


def _milli(cores: float) -> int:
    return int(math.floor(cores * 1000 + 1e-6))


def _mib(gib: float) -> int:
    return int(math.floor(gib * 1024 + 1e-6))


def _ceil_milli(cores: float) -> int:
    return int(math.ceil(cores * 1000 - 1e-6))


def _ceil_mib(gib: float) -> int:
    return int(math.ceil(gib * 1024 - 1e-6))


def queued(model: ModelConfig) -> bool:
    """Whether Kueue admits ``model``'s pods: an LLM-track model on an accelerator pool. KServe v0.20.0 copies the
    ``kueue.x-k8s.io/`` labels of an LLMInferenceService onto its LeaderWorkerSet or Deployment and their pod
    templates (``propagateTopLevelLeaderWorkerSetMetadata``); it does not for InferenceServices."""
    return model.llm is not None and model.pool is not None and model.accelerators > 0


def pod_request(model: ModelConfig, devices: int | None = None) -> Quota:
    """What one pod of ``model``'s replica requests (its main container: devices, CPU, memory)."""
    return Quota(
        model.accelerators if devices is None else devices,
        _ceil_milli(sizing.cpu_cores(model.cpu)),
        _ceil_mib(sizing.memory_gib(model.memory)),
    )


def guaranteed_share(model: ModelConfig) -> Quota:
    """The quota ``model``'s ``minReplicas`` hold: every pod of each replica (a LeaderWorkerSet group has
    ``nodesPerReplica`` pods), plus the prefill replicas of a disaggregated model."""
    assert model.llm is not None
    share = pod_request(model).times(model.min_replicas * model.llm.nodes_per_replica)
    pd = model.llm.prefill_decode
    if pd is not None:
        share = share + pod_request(model, pd.prefill_accelerators or model.accelerators).times(pd.prefill_replicas)
    return share


def unqueued_usage(model: ModelConfig) -> Quota:
    """What a model Kueue does not admit uses at ``maxReplicas`` (requests plus the serving sidecars)."""
    r = sizing.replica_of(model)
    return Quota(r.accelerators, _ceil_milli(r.cpu), _ceil_mib(r.memory_gib)).times(model.max_replicas)


def pool_capacity(cloud: Cloud, pool: AcceleratorPoolConfig, models: Sequence[ModelConfig]) -> Quota:
    """Devices, allocatable CPU and memory of ``maxNodes`` nodes of the pool's planned shape."""
    replicas = [sizing.replica_of(m) for _, m in sizing.models_on(models, pool.name)]
    family = accelerators.lookup(pool.kind, cloud).family
    shape = sizing.pool_shape(cloud, pool, replicas)
    node = sizing.allocatable(cloud, family, shape)
    return Quota(
        sizing.pool_device_capacity(pool, shape),
        _milli(node.cpu) * pool.max_nodes,
        _mib(node.memory_gib) * pool.max_nodes,
    )


#: Quota resource of the GPUs of an ``allocation: dra`` pool: its pods claim them through ResourceClaimTemplates of the
#: kind's DeviceClass, which Kueue counts under the name its ``deviceClassMappings`` give (``inferstack.serving.kueue``).
DRA_RESOURCE_PREFIX = "dra.inferstack.io/"


def device_resource(pool: AcceleratorPoolConfig, extended: str) -> str:
    """What Kueue counts a pool's devices as: the extended resource (``nvidia.com/gpu``: whole GPUs, MIG partitions or
    time-slices, ``google.com/tpu``, ``aws.amazon.com/neuron``), or on a DRA pool ``dra.inferstack.io/<kind>``."""
    return f"{DRA_RESOURCE_PREFIX}{pool.kind}" if pool.allocation is GpuAllocation.DRA else extended


@dataclass(frozen=True)
class PoolQueue:
    """The Kueue quotas of one accelerator pool."""

    pool: AcceleratorPoolConfig
    #: Extended resource of the pool's devices (``nvidia.com/gpu``, ``google.com/tpu``, ``aws.amazon.com/neuron``).
    device_resource: str
    capacity: Quota
    unqueued: Quota
    offered: Quota
    #: Team namespace -> the nominal quota its ClusterQueue holds on this pool (namespaces with queued models only).
    guaranteed: Mapping[str, Quota] = field(default_factory=dict)
    #: Hosts of one TPU slice (1 for every other pool): a slice of several hosts is a topology Kueue keeps gangs in.
    slice_hosts: int = 1

    @property
    def lender(self) -> Quota:
        """The nominal quota of the pool's own ClusterQueue: offered less the teams' guaranteed shares."""
        return self.offered - sum(self.guaranteed.values(), Quota())

    @property
    def multi_host_slice(self) -> bool:
        return self.slice_hosts > 1


def queue_plan(
    cloud: Cloud,
    pools: Sequence[AcceleratorPoolConfig],
    models: Sequence[ModelConfig],
    scheduling: SchedulingConfig,
) -> list[PoolQueue]:
    """The quotas of every accelerator pool, in the pools' order (empty when scheduling is off)."""
    if not scheduling.enabled:
        return []
    out = []
    for pool in pools:
        acc = accelerators.lookup(pool.kind, cloud)
        on_pool = [m for _, m in sizing.models_on(models, pool.name)]
        capacity = pool_capacity(cloud, pool, models)
        unqueued = sum((unqueued_usage(m) for m in on_pool if not queued(m) and m.accelerators > 0), Quota())
        offered = capacity - unqueued
        override = scheduling.queue(pool.name)
        if override is not None:
            offered = Quota(
                offered.devices if override.devices is None else override.devices,
                offered.cpu_milli if override.cpu is None else _milli(sizing.cpu_cores(override.cpu)),
                offered.memory_mib if override.memory is None else _mib(sizing.memory_gib(override.memory)),
            )
        guaranteed: dict[str, Quota] = {}
        for m in on_pool:
            if queued(m):
                guaranteed[m.namespace] = guaranteed.get(m.namespace, Quota()) + guaranteed_share(m)
        hosts = 1
        if acc.family is Family.TPU:
            topology = sizing.tpu_topology(cloud, pool)
            hosts = accelerators.tpu_hosts(acc, topology) if topology else 1
        out.append(PoolQueue(pool, device_resource(pool, acc.device_resource), capacity, unqueued, offered, dict(sorted(guaranteed.items())), hosts))
    return out


# ---------------------------------------------------------------- checks


def _pool_index(cfg: StackConfig) -> dict[str, int]:
    return {p.name: i for i, p in enumerate(cfg.settings.accelerator_pools)}


def check_scheduling(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """``scheduling.queues`` name pools of the stack; a queue's quota fits its pool (capacity less what the models
    Kueue does not admit use at maxReplicas); the teams' guaranteed shares (their queued models' minReplicas) fit
    the quota the pool's queues offer."""
    s = cfg.settings
    pools = _pool_index(cfg)
    issues: list[ConfigIssue] = []
    for i, q in enumerate(s.scheduling.queues):
        if q.pool not in pools:
            allowed = ", ".join(pools) or "none: the stack has no acceleratorPools"
            issues.append(ConfigIssue(("scheduling", "queues", i, "pool"), f"no accelerator pool {q.pool!r}; pools: {allowed}"))
    if issues or not s.scheduling.enabled or not s.accelerator_pools:
        return issues
    try:
        plan = queue_plan(cfg.cloud, s.accelerator_pools, s.models, s.scheduling)
    except (KeyError, ValueError):
        return issues  # an unknown kind or a bad quantity: reported by the pool and model checks
    for pq in plan:
        name = pq.pool.name
        limit = pq.capacity - pq.unqueued
        override = s.scheduling.queue(name)
        qi = s.scheduling.queues.index(override) if override is not None else None
        too_large = False
        if override is not None:
            shape = f"maxNodes {pq.pool.max_nodes}"
            if pq.unqueued != Quota():
                shape += ", less what its models outside Kueue use at maxReplicas"
            for key, asked, held, text in (
                ("devices", pq.offered.devices, limit.devices, str),
                ("cpu", pq.offered.cpu_milli, limit.cpu_milli, cpu_text),
                ("memory", pq.offered.memory_mib, limit.memory_mib, memory_text),
            ):
                if getattr(override, key) is not None and asked > held:
                    too_large = True
                    issues.append(
                        ConfigIssue(
                            ("scheduling", "queues", qi, key),
                            f"{text(asked)} is more than pool {name} can hold: at most {text(max(held, 0))} ({shape}); "
                            f"lower it or raise acceleratorPools[{pools[name]}].maxNodes",
                        )
                    )
        short = pq.offered.short_of(sum(pq.guaranteed.values(), Quota()))
        # Models outside Kueue that alone overfill the pool are the capacity checks' finding, not the queues'.
        overfilled = override is None and bool(limit.short_of(Quota()))
        if pq.guaranteed and short and not too_large and not overfilled:
            loc = ("scheduling", "queues", qi) if qi is not None else ("acceleratorPools", pools[name], "maxNodes")
            issues.append(
                ConfigIssue(
                    loc,
                    f"the queues of pool {name} cannot hold the minReplicas of its queued models (teams "
                    f"{', '.join(pq.guaranteed)}): {'; '.join(short)}; raise the quota or lower minReplicas",
                )
            )
    return issues
