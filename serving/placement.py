"""Where a model's predictor runs: device resources, node selector, tolerations and scheduler, from the catalog.

Pure functions (no Pulumi). The accelerator catalog (``inferstack/catalog/accelerators.py``) gives the extended resource
(``nvidia.com/gpu``, ``aws.amazon.com/neuron``, ``google.com/tpu``) and the taint of each kind; the platform's
:class:`~inferstack.components.platform.PoolInfo`, when it knows the pool, adds or overrides node labels.

- Every accelerator model selects ``inferstack.io/accelerator=<kind>`` and ``inferstack.io/pool=<pool>`` and
  tolerates ``<device resource>:NoSchedule`` (operator Exists, so both ``=true`` and GKE's ``=present`` match).
- GKE TPU models also select ``cloud.google.com/gke-tpu-accelerator`` and ``cloud.google.com/gke-tpu-topology``
  (GKE schedules TPU pods only with both).
- Neuron models asking for more than one device use the Neuron scheduler extension (``my-scheduler``), which
  places them on nodes whose devices are contiguous.
- CPU-only models (no pool) get no selector or toleration; they run on the system nodes.
- Models on an ``allocation: dra`` pool request no extended resource: the pod claims its GPUs through the model's
  ResourceClaimTemplate ``<model>-gpu`` (``resourceClaims``; the container lists the claim in ``resources.claims``).
- Models on a shared pool request one ``nvidia.com/gpu`` (one slice: a MIG instance or a time-slice); on GKE they
  also select the pool's partition-size or time-sharing labels (via the pool's node selector).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inferstack import sizing
from inferstack.catalog import accelerators
from inferstack.catalog.accelerators import (
    ACCELERATOR_LABEL,
    GKE_TPU_ACCELERATOR_LABEL,
    GKE_TPU_TOPOLOGY_LABEL,
    POOL_LABEL,
    Family,
)
from inferstack.components.dra import CLAIM_NAME, claim_template_name
from inferstack.components.platform import PoolInfo
from inferstack.config.base import Cloud
from inferstack.config.platform import AcceleratorPoolConfig, GpuAllocation
from inferstack.config.serving import ModelConfig

#: Scheduler name of the Neuron scheduler extension's own scheduler (aws-neuron/neuron-helm-charts customScheduler).
NEURON_SCHEDULER = "my-scheduler"
__all__ = ["GKE_TPU_ACCELERATOR_LABEL", "GKE_TPU_TOPOLOGY_LABEL", "NEURON_SCHEDULER", "Placement", "gke_tpu_selector", "placement"]


@dataclass(frozen=True)
class Placement:
    """Scheduling of one model's predictor pods."""

    #: Extended resource and count (``{"nvidia.com/gpu": 1}``); empty for CPU-only models.
    devices: dict[str, int] = field(default_factory=dict)
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: list[dict[str, str]] = field(default_factory=list)
    scheduler_name: str | None = None
    #: DRA pools: the ResourceClaimTemplate each pod claims its GPUs through (``devices`` is then empty).
    claim_template: str | None = None

    def resources(self, cpu: str, memory: str) -> dict[str, Any]:
        """Requests and limits: CPU and memory limits equal the requests (KServe would otherwise default a 1 CPU /
        2Gi limit below them); devices are requested and limited alike, as Kubernetes requires; on a DRA pool the
        container uses the pod's claim instead."""
        base: dict[str, str | int] = {"cpu": cpu, "memory": memory}
        base.update(self.devices)
        out: dict[str, Any] = {"requests": dict(base), "limits": dict(base)}
        if self.claim_template:
            out["claims"] = [{"name": CLAIM_NAME}]
        return out

    def pod_fields(self) -> dict[str, Any]:
        """The pod spec fields of this placement that are set: ``nodeSelector``, ``tolerations``, ``schedulerName``."""
        out: dict[str, Any] = {}
        if self.node_selector:
            out["nodeSelector"] = dict(self.node_selector)
        if self.tolerations:
            out["tolerations"] = [dict(x) for x in self.tolerations]
        if self.scheduler_name:
            out["schedulerName"] = self.scheduler_name
        if self.claim_template:
            out["resourceClaims"] = [{"name": CLAIM_NAME, "resourceClaimTemplateName": self.claim_template}]
        return out


def gke_tpu_selector(pool: AcceleratorPoolConfig, cloud: Cloud) -> dict[str, str]:
    """GKE's TPU node labels for a TPU pool (empty for other kinds or clouds)."""
    acc = accelerators.CATALOG.get(pool.kind)
    if cloud is not Cloud.GCP or acc is None or acc.family is not Family.TPU:
        return {}
    # The topology the GKE node pool runs (the capacity planner picks its machine type the same way).
    topology = sizing.tpu_topology(cloud, pool)
    return accelerators.gke_tpu_labels(acc, topology) if topology else {GKE_TPU_ACCELERATOR_LABEL: acc.gcp_accelerator_type or ""}


def placement(
    model: ModelConfig, pool: AcceleratorPoolConfig | None, cloud: Cloud, info: PoolInfo | None = None
) -> Placement:
    """The placement of ``model`` on ``pool`` (None: CPU only). ``info`` is the platform's view of the pool, if any."""
    if pool is None or model.accelerators == 0:
        return Placement()
    acc = accelerators.lookup(pool.kind, cloud)
    device_resource = info.device_resource if info else acc.device_resource
    taint_key = info.taint_key if info else acc.taint_key
    selector = {ACCELERATOR_LABEL: acc.kind, POOL_LABEL: pool.name}
    selector.update(gke_tpu_selector(pool, cloud))
    if info:
        selector.update(info.node_selector)
    scheduler = NEURON_SCHEDULER if acc.family is Family.NEURON and model.accelerators > 1 else None
    dra = pool.allocation is GpuAllocation.DRA
    return Placement(
        devices={} if dra else {device_resource: model.accelerators},
        claim_template=claim_template_name(model.name) if dra else None,
        node_selector=dict(sorted(selector.items())),
        tolerations=[{"key": taint_key, "operator": "Exists", "effect": "NoSchedule"}, *(info.tolerations if info else ())],
        scheduler_name=scheduler,
    )
