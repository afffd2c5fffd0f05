"""Sizing, the one capacity plan: replicas from traffic, node shapes that fit the replicas, pool limits that hold them.

Pure functions, tested without Pulumi. ``inferstack.load`` derives replicas with :func:`derive_replicas`;
``inferstack.checks.capacity`` turns violations into config errors showing the numbers; the AWS and GKE node pools,
serving's placement and the cost estimate read the shapes and topologies from here.

Rules:

- **Replicas from traffic** (a model's ``capacity`` block): ``maxReplicas = ceil(peakRps x (1 + headroom) /
  replicaRps)``; ``minReplicas = ceil(baseRps x (1 + headroom) / replicaRps)`` (at least 1) when ``baseRps`` is
  given, else 1. Values the entry omits are filled with the derived ones (:func:`derive_replicas`); explicit values are
  checked: a ``maxReplicas`` below the derived one, or a ``minReplicas`` below the one ``baseRps`` needs, is an error.
- **Node shape of a pool**: the catalog shapes of the pool's kind with ``devicesPerNode`` devices (default: the
  smallest count); of those, the smallest (memory, then vCPU) whose capacity holds the largest replica scheduled on
  the pool (Karpenter launches the cheapest instance type that fits; GKE node pools get that machine type). TPU pools:
  the single-host shape of ``tpuTopology``, or the 4-chip host shape for multi-host topologies.
- **A replica fits a node**: accelerators <= devices per node (TPU: accelerators == chips of the topology),
  memory and CPU requests <= the node's capacity.
- **Pool limits**: sum over the pool's models of ``maxReplicas x accelerators`` <= ``maxNodes x devicesPerNode``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from inferstack.catalog import accelerators
from inferstack.catalog.accelerators import Family, Shape
from inferstack.config.base import Cloud
from inferstack.config.platform import AcceleratorPoolConfig
from inferstack.config.serving import CapacityPlanConfig, ModelConfig

# ---------------------------------------------------------------- quantities

_MEM_UNITS = {
    "": 1 / 2**30, "k": 1e3 / 2**30, "M": 1e6 / 2**30, "G": 1e9 / 2**30, "T": 1e12 / 2**30,
    "Ki": 1 / 2**20, "Mi": 1 / 2**10, "Gi": 1.0, "Ti": 2**10,
}
_QTY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([A-Za-z]*)$")


def memory_gib(quantity: str) -> float:
    """A Kubernetes memory quantity (``24Gi``, ``512Mi``, ``8G``) in GiB; ValueError when malformed."""
    m = _QTY.match(str(quantity).strip())
    if not m or m.group(2) not in _MEM_UNITS:
        raise ValueError(f"not a memory quantity: {quantity!r} (e.g. 24Gi, 512Mi)")
    return float(m.group(1)) * _MEM_UNITS[m.group(2)]


def cpu_cores(quantity: str) -> float:
    """A Kubernetes CPU quantity (``4``, ``2.5``, ``500m``) in cores; ValueError when malformed."""
    m = _QTY.match(str(quantity).strip())
    if not m or m.group(2) not in ("", "m"):
        raise ValueError(f"not a CPU quantity: {quantity!r} (e.g. 4, 500m)")
    return float(m.group(1)) / (1000 if m.group(2) == "m" else 1)


# ---------------------------------------------------------------- replicas from traffic


def replicas_for(rps: float, replica_rps: float, headroom: float) -> int:
    """Replicas that serve ``rps`` with ``headroom`` (0.25 = 25 % spare) when one replica serves ``replica_rps``."""
    if replica_rps <= 0:
        raise ValueError("replica_rps must be positive")
    # Round before ceil so that 40 x 1.2 / 6 = 8.000000001 stays 8.
    return max(1, math.ceil(round(rps * (1 + headroom) / replica_rps, 9)))


@dataclass(frozen=True)
class ReplicaPlan:
    """Replicas a traffic plan needs."""

    min_replicas: int
    max_replicas: int


def plan_replicas(plan: CapacityPlanConfig) -> ReplicaPlan:
    """Derived min/max replicas of a model's capacity block."""
    peak = replicas_for(plan.peak_rps, plan.replica_rps, plan.headroom)
    base = replicas_for(plan.base_rps, plan.replica_rps, plan.headroom) if plan.base_rps else 1
    return ReplicaPlan(min_replicas=min(base, peak), max_replicas=peak)


def derive_replicas(model: ModelConfig) -> ModelConfig:
    """``model`` with the minReplicas/maxReplicas its entry omits taken from its capacity plan (explicit values are
    kept; ``inferstack.checks`` checks them against the plan)."""
    if model.capacity is None:
        return model
    plan = plan_replicas(model.capacity)
    update: dict[str, int] = {}
    if "min_replicas" not in model.model_fields_set:
        update["min_replicas"] = plan.min_replicas
    if "max_replicas" not in model.model_fields_set:
        update["max_replicas"] = max(plan.max_replicas, update.get("min_replicas", model.min_replicas))
    return model.model_copy(update=update) if update else model


# ---------------------------------------------------------------- node shapes


@dataclass(frozen=True)
class Replica:
    """What one replica requests from a node."""

    accelerators: int
    memory_gib: float
    cpu: float


def replica_of(model: ModelConfig) -> Replica:
    return Replica(model.accelerators, memory_gib(model.memory), cpu_cores(model.cpu))


def fits(replica: Replica, shape: Shape) -> bool:
    """Whether one replica fits one node of ``shape`` (devices, memory and CPU within capacity)."""
    return replica.accelerators <= shape.devices and replica.memory_gib <= shape.memory_gib and replica.cpu <= shape.vcpu


def candidate_shapes(cloud: Cloud, pool: AcceleratorPoolConfig) -> list[Shape]:
    """Shapes a pool's nodes may have: the TPU topology's host shape, or the shapes with the pool's devices per node."""
    acc = accelerators.lookup(pool.kind, cloud)
    shapes = list(acc.shapes(cloud))
    if acc.family is Family.TPU:
        if pool.tpu_topology:
            try:
                return [accelerators.tpu_host_shape(acc, pool.tpu_topology)]
            except KeyError:
                return shapes[:1]  # an unoffered topology: reported by check_tpu_topology
        # No topology: the single-host slice with devicesPerNode chips (default the smallest).
        wanted = pool.devices_per_node or shapes[0].devices
        return [s for s in shapes if s.devices == wanted][:1] or shapes[:1]
    count = pool.devices_per_node if pool.devices_per_node is not None else min(s.devices for s in shapes)
    return sorted((s for s in shapes if s.devices == count), key=lambda s: (s.memory_gib, s.vcpu))


def pool_shape(cloud: Cloud, pool: AcceleratorPoolConfig, replicas: Sequence[Replica] = ()) -> Shape:
    """The node shape of a pool: the smallest candidate that holds every replica; the largest candidate if none does."""
    candidates = candidate_shapes(cloud, pool)
    for shape in candidates:
        if all(fits(r, shape) for r in replicas):
            return shape
    return candidates[-1]


def tpu_topology(cloud: Cloud, pool: AcceleratorPoolConfig) -> str | None:
    """The slice topology a TPU pool runs: ``tpuTopology``, or its host shape's single-host topology; None otherwise."""
    acc = accelerators.lookup(pool.kind, cloud)
    if acc.family is not Family.TPU:
        return None
    return pool.tpu_topology or candidate_shapes(cloud, pool)[0].tpu_topology


def topology_chips(cloud: Cloud, pool: AcceleratorPoolConfig) -> int | None:
    """Chips of a TPU pool's slice (see :func:`tpu_topology`), None for other families."""
    topology = tpu_topology(cloud, pool)
    return accelerators.topology_chips(topology) if topology else None


def pool_device_capacity(pool: AcceleratorPoolConfig, shape: Shape) -> int:
    """Devices the pool can hold at its limit: maxNodes x devices per node."""
    return pool.max_nodes * shape.devices


def models_on(models: Sequence[ModelConfig], pool_name: str) -> list[tuple[int, ModelConfig]]:
    """The models placed on ``pool_name``, with their index in ``models``."""
    return [(i, m) for i, m in enumerate(models) if m.pool == pool_name]
