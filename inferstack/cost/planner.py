"""Capacity planner: replicas from traffic, node shapes that fit the replicas, pool limits that hold them.

Pure functions first (tested without Pulumi), then the ``@semantic_check`` functions that turn violations into
config errors showing the numbers.

Rules:

- **Replicas from traffic** (a model's ``capacity`` block): ``maxReplicas = ceil(peakRps x (1 + headroom) /
  replicaRps)``; ``minReplicas = ceil(baseRps x (1 + headroom) / replicaRps)`` (at least 1) when ``baseRps`` is
  given, else 1. Values the entry omits are filled with the derived ones (see ``ModelConfig``); explicit values are
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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from inferstack.components import accelerators
from inferstack.components.accelerators import Family, Shape
from inferstack.config.base import Cloud
from inferstack.config.platform import AcceleratorPoolConfig
from inferstack.config.serving import CapacityPlanConfig, ModelConfig
from inferstack.config.stack import ConfigIssue, StackConfig, semantic_check

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


def _fmt(x: float) -> str:
    return f"{x:g}"


def replica_issues(model: ModelConfig, path: str) -> list[ConfigIssue]:
    """Explicit minReplicas/maxReplicas that contradict the model's capacity block."""
    plan = model.capacity
    if plan is None:
        return []
    derived = plan_replicas(plan)
    explicit = model.model_fields_set
    issues = []
    formula = f"{_fmt(plan.peak_rps)} rps x (1 + {_fmt(plan.headroom)} headroom) / {_fmt(plan.replica_rps)} rps per replica"
    if "max_replicas" in explicit and model.max_replicas < derived.max_replicas:
        issues.append(
            ConfigIssue(
                f"{path}.maxReplicas",
                f"maxReplicas {model.max_replicas} cannot serve the planned peak: {formula} needs {derived.max_replicas} "
                f"replicas; raise maxReplicas to {derived.max_replicas} or omit it to use the derived value",
            )
        )
    if plan.base_rps and "min_replicas" in explicit and model.min_replicas < derived.min_replicas:
        issues.append(
            ConfigIssue(
                f"{path}.minReplicas",
                f"minReplicas {model.min_replicas} cannot serve baseRps {_fmt(plan.base_rps)}: "
                f"{_fmt(plan.base_rps)} x (1 + {_fmt(plan.headroom)}) / {_fmt(plan.replica_rps)} needs {derived.min_replicas} replicas",
            )
        )
    if plan.base_rps and plan.base_rps > plan.peak_rps:
        issues.append(ConfigIssue(f"{path}.capacity.baseRps", f"baseRps {_fmt(plan.base_rps)} exceeds peakRps {_fmt(plan.peak_rps)}"))
    if plan.latency_target_ms is not None and plan.latency_target_ms > model.timeout_seconds * 1000:
        issues.append(
            ConfigIssue(
                f"{path}.capacity.latencyTargetMs",
                f"latencyTargetMs {plan.latency_target_ms} exceeds the request timeout ({model.timeout_seconds} s = "
                f"{model.timeout_seconds * 1000} ms)",
            )
        )
    return issues


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


def models_on(cfg: StackConfig, pool_name: str) -> list[tuple[int, ModelConfig]]:
    return [(i, m) for i, m in enumerate(cfg.settings.models) if m.pool == pool_name]


# ---------------------------------------------------------------- semantic checks


@semantic_check
def check_capacity_plans(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """Explicit replica counts agree with each model's traffic plan."""
    for i, model in enumerate(cfg.settings.models):
        yield from replica_issues(model, f"inferstack:models[{i}]")


@semantic_check
def check_replicas_fit_pools(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """Each replica fits a node of its pool, and each pool's limits hold the max replicas of all its models."""
    for p, pool in enumerate(cfg.settings.accelerator_pools):
        try:
            acc = accelerators.lookup(pool.kind, cfg.cloud)
        except ValueError:
            continue  # reported by check_accelerator_pools
        if acc.family is Family.TPU and pool.tpu_topology and pool.tpu_topology not in accelerators.tpu_topologies(acc):
            continue  # an unoffered topology: reported by check_tpu_topology
        placed = models_on(cfg, pool.name)
        replicas = []
        bad = False
        for i, model in placed:
            for key, parse, value in (("memory", memory_gib, model.memory), ("cpu", cpu_cores, model.cpu)):
                try:
                    parse(value)
                except ValueError as err:
                    yield ConfigIssue(f"inferstack:models[{i}].{key}", str(err))
                    bad = True
            if not bad:
                replicas.append(replica_of(model))
        if bad:
            continue
        candidates = candidate_shapes(cfg.cloud, pool)
        if not candidates:
            continue  # a devicesPerNode the kind does not offer: reported by check_accelerator_pools
        shape = pool_shape(cfg.cloud, pool, replicas)
        chips = topology_chips(cfg.cloud, pool)
        for (i, model), rep in zip(placed, replicas, strict=True):
            path = f"inferstack:models[{i}]"
            if acc.family is Family.TPU and chips is not None:
                if model.accelerators != chips:
                    yield ConfigIssue(
                        f"{path}.accelerators",
                        f"pool {pool.name} runs TPU slices of topology {pool.tpu_topology or candidates[0].tpu_topology} "
                        f"({chips} chips); a replica must request all {chips} chips, got {model.accelerators}",
                    )
                    continue
            elif model.accelerators > shape.devices:
                yield ConfigIssue(
                    f"{path}.accelerators",
                    f"{model.accelerators} {pool.kind} per replica do not fit a node of pool {pool.name} "
                    f"({shape.name}: {shape.devices} per node); set the pool's devicesPerNode to at least {model.accelerators}",
                )
                continue
            if rep.memory_gib > shape.memory_gib or rep.cpu > shape.vcpu:
                biggest = max(candidates, key=lambda s: (s.memory_gib, s.vcpu))
                yield ConfigIssue(
                    f"{path}.memory",
                    f"a replica requests {model.memory} memory and {model.cpu} CPU; the largest node of pool {pool.name} "
                    f"({biggest.name}) has {biggest.memory_gib} GiB and {biggest.vcpu} vCPU",
                )
        if not placed:
            continue
        per_host = shape.devices
        capacity = pool_device_capacity(pool, shape)
        demand = sum(m.max_replicas * m.accelerators for _, m in placed)
        if demand > capacity:
            terms = " + ".join(f"{m.name} {m.max_replicas} x {m.accelerators}" for _, m in placed)
            last = placed[-1][0]
            need = math.ceil(demand / per_host)
            yield ConfigIssue(
                f"inferstack:models[{last}].maxReplicas",
                f"the max replicas of the models on pool {pool.name} need {demand} {pool.kind} devices ({terms}); "
                f"the pool holds {capacity} (maxNodes {pool.max_nodes} x {per_host} per {shape.name} node); "
                f"raise inferstack:acceleratorPools[{p}].maxNodes to {need} or lower maxReplicas",
            )


@semantic_check
def check_pricing_overrides(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """Price overrides name node types the stack's cloud has (accelerator shapes, system types, catalog types)."""
    from inferstack.cost.prices import known_node_types

    known = {s.name for a in accelerators.CATALOG.values() for s in a.shapes(cfg.cloud)}
    known |= {t for t in known_node_types() if ("-" in t) == (cfg.cloud is Cloud.GCP)}
    if cfg.settings.cluster.system_node_type:
        known.add(cfg.settings.cluster.system_node_type)
    pricing = cfg.settings.pricing
    for key, table in (("onDemandHourlyUsd", pricing.on_demand_hourly_usd), ("spotDiscount", pricing.spot_discount)):
        for node_type in table:
            if node_type not in known:
                yield ConfigIssue(
                    f"inferstack:pricing.{key}.{node_type}",
                    f"unknown {cfg.cloud.value} node type {node_type!r}; known: {', '.join(sorted(known))}",
                )
