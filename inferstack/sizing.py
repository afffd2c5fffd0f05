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
  memory and CPU requests plus the serving sidecars <= the node's *allocatable* resources (capacity less the
  kubelet and system reservations of EKS / GKE, eviction headroom and the pool's DaemonSets:
  ``catalog.node_overhead``).
- **Pool limits**: sum over the pool's models of ``maxReplicas x accelerators`` <= ``maxNodes x devicesPerNode``
  (x slices per device on a shared pool: MIG instances of its profile or time-slicing replicas; a model on it asks
  for one slice, whose memory the memory-fit check uses: :func:`sliced`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from inferstack.catalog import accelerators, gpu_sharing
from inferstack.catalog.accelerators import Family, Shape
from inferstack.catalog.node_overhead import (
    CPU_RESERVATION,
    DEVICE_DAEMONSETS,
    EKS_MAX_PODS,
    EVICTION_MEMORY_GIB,
    GKE_MEMORY_RESERVATION,
    SERVING_SIDECARS,
    SYSTEM_DAEMONSETS,
)
from inferstack.config.base import Cloud
from inferstack.config.bounded import cpu_quantity, memory_quantity
from inferstack.config.platform import AcceleratorPoolConfig, Capacity, ReservationConfig
from inferstack.config.serving import CapacityPlanConfig, ModelConfig

# ---------------------------------------------------------------- quantities

def memory_gib(quantity: str) -> float:
    """A Kubernetes memory quantity (``24Gi``, ``512Mi``, ``8G``) in GiB; ValueError when malformed (bounded: ASCII
    digits, the whole text, see inferstack.config.bounded)."""
    return memory_quantity(quantity)


def cpu_cores(quantity: str) -> float:
    """A Kubernetes CPU quantity (``4``, ``2.5``, ``500m``) in cores; ValueError when malformed."""
    return cpu_quantity(quantity)


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
    """What one replica of ``model`` requests: its accelerators, and its CPU and memory plus the serving sidecars."""
    return Replica(
        model.accelerators,
        memory_gib(model.memory) + SERVING_SIDECARS.memory_gib,
        cpu_cores(model.cpu) + SERVING_SIDECARS.cpu,
    )


def _bracketed(amount: float, brackets: Sequence[tuple[float, float]]) -> float:
    reserved, left = 0.0, amount
    for size, fraction in brackets:
        part = min(left, size)
        reserved += part * fraction
        left -= part
        if left <= 0:
            break
    return reserved


@dataclass(frozen=True)
class Allocatable:
    """What pods may request on one node of a shape: devices, CPU cores and memory (GiB)."""

    devices: int
    cpu: float
    memory_gib: float


def allocatable(cloud: Cloud, family: Family, shape: Shape) -> Allocatable:
    """Allocatable resources of a ``shape`` node for model pods: capacity less the kubelet's and the system's
    reservations and eviction headroom (EKS / GKE formulas), less the DaemonSets every pool node runs
    (``catalog.node_overhead``)."""
    cpu_reserved = _bracketed(shape.vcpu, CPU_RESERVATION)
    if cloud is Cloud.AWS:
        max_pods = next(pods for below, pods in EKS_MAX_PODS if shape.vcpu < below)
        memory_reserved = (255 + 11 * max_pods) / 1024
    elif shape.memory_gib < 1:
        memory_reserved = 255 / 1024
    else:
        memory_reserved = _bracketed(shape.memory_gib, GKE_MEMORY_RESERVATION)
    daemons = (SYSTEM_DAEMONSETS[cloud], DEVICE_DAEMONSETS[family])
    return Allocatable(
        devices=shape.devices,
        cpu=shape.vcpu - cpu_reserved - sum(d.cpu for d in daemons),
        memory_gib=shape.memory_gib - memory_reserved - EVICTION_MEMORY_GIB - sum(d.memory_gib for d in daemons),
    )


def fits(replica: Replica, node: Allocatable) -> bool:
    """Whether one replica fits one node (devices, memory and CPU within what the node can allocate)."""
    return replica.accelerators <= node.devices and replica.memory_gib <= node.memory_gib and replica.cpu <= node.cpu


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
    """The node shape of a pool: the smallest candidate whose allocatable resources hold every replica; the largest
    candidate if none does."""
    family = accelerators.lookup(pool.kind, cloud).family
    candidates = candidate_shapes(cloud, pool)
    for shape in candidates:
        node = allocatable(cloud, family, shape)
        if all(fits(r, node) for r in replicas):
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
    """Devices (slices, on a shared pool) the pool can hold at its limit: maxNodes x devices per node x slices per
    device."""
    return pool.max_nodes * shape.devices * pool.slices_per_device()


def slice_memory_gib(pool: AcceleratorPoolConfig, acc: accelerators.Accelerator) -> float:
    """Device memory one unit of ``pool`` gives a replica: the MIG profile's memory (GB as NVIDIA names it), a
    time-slice's fair share of the GPU (time-slicing does not isolate memory: the replicas together must fit), or
    the whole device."""
    if pool.sharing is None:
        return float(acc.device_memory_gib)
    if pool.sharing.mig is not None:
        return float(gpu_sharing.mig_profile(pool.kind, pool.sharing.mig).memory_gb)
    return acc.device_memory_gib / pool.slices_per_device()


def sliced(pool: AcceleratorPoolConfig, acc: accelerators.Accelerator) -> accelerators.Accelerator:
    """``acc`` as a replica on ``pool`` sees it: the slice's memory as its device memory (memory-fit checks)."""
    if pool.sharing is None:
        return acc
    return replace(acc, device_memory_gib=slice_memory_gib(pool, acc))  # type: ignore[arg-type]


def models_on(models: Sequence[ModelConfig], pool_name: str) -> list[tuple[int, ModelConfig]]:
    """The models placed on ``pool_name``, with their index in ``models``."""
    return [(i, m) for i, m in enumerate(models) if m.pool == pool_name]


# ---------------------------------------------------------------- the capacity plan of a pool

#: Purchase options, in the vocabulary of Karpenter's ``karpenter.sh/capacity-type`` (GKE: spot or standard VMs,
#: reservations, flex-start VMs).
RESERVED = "reserved"
ON_DEMAND = "on-demand"
FLEX_START = "flex-start"
SPOT = "spot"
#: Every purchase option, most committed first.
PURCHASES = (RESERVED, ON_DEMAND, FLEX_START, SPOT)


@dataclass(frozen=True)
class CapacityTier:
    """One slice of a pool's nodes bought one way, in the order the pool takes capacity.

    ``purchase`` lists the options in preference order: ``("reserved",)``, ``("on-demand",)``, ``("flex-start",)``,
    ``("spot",)``, or (a pool without a ladder) ``("spot", "on-demand")`` for spot with an on-demand fallback inside
    the tier. ``reservations`` are the reservations a reserved tier consumes."""

    name: str
    purchase: tuple[str, ...]
    min_nodes: int
    max_nodes: int
    reservations: tuple[ReservationConfig, ...] = ()

    @property
    def fallback(self) -> bool:
        """Spot first, falling back to on-demand when spot is unavailable (legacy ``spot-first`` tier)."""
        return self.purchase == (SPOT, ON_DEMAND)

    @property
    def capacity_blocks(self) -> tuple[ReservationConfig, ...]:
        """The reservations of this tier that are AWS Capacity Blocks (fixed term, reclaimed at its end)."""
        return tuple(r for r in self.reservations if r.capacity_block)


@dataclass(frozen=True)
class PoolPlan:
    """Everything the clouds and the cost estimate derive from one accelerator pool, computed once.

    AWS turns each tier into a Karpenter NodePool, GKE turns each tier into a node pool joined by a ComputeClass
    (priorities in tier order), placement reads ``topology``, and the cost estimate splits node-hours by the same
    tiers (:meth:`nodes_by_purchase`)."""

    pool: AcceleratorPoolConfig
    cloud: Cloud
    #: Shapes the pool may launch (AWS: every instance type with the pool's devices per node).
    shapes: tuple[Shape, ...]
    #: The shape sized for the pool's replicas (GKE's machine type, the cost estimate's price).
    shape: Shape
    #: TPU slice topology (None for other families) and hosts per slice.
    topology: str | None
    hosts: int
    tiers: tuple[CapacityTier, ...]

    @property
    def ladder(self) -> bool:
        """Whether the tiers come from the pool's capacity ladder (else from ``capacity``/``onDemandBaseline``)."""
        return self.pool.ladder is not None

    @property
    def baseline(self) -> int:
        """Nodes always kept on committed capacity: the on-demand-only tiers' minimum (with a ladder: the reserved
        and on-demand tiers' minimum)."""
        if self.ladder:
            return sum(t.min_nodes for t in self.tiers if t.purchase in ((RESERVED,), (ON_DEMAND,)))
        return sum(t.min_nodes for t in self.tiers if t.purchase == (ON_DEMAND,)) if self.pool.capacity is not Capacity.ON_DEMAND else 0

    @property
    def devices_per_node(self) -> int:
        return self.shape.devices

    def range_of(self, purchase: str) -> tuple[int, int] | None:
        """(min, max) nodes of the tiers that buy only ``purchase`` (one of :data:`PURCHASES`); None when none does."""
        tiers = [t for t in self.tiers if t.purchase == (purchase,)]
        return (sum(t.min_nodes for t in tiers), sum(t.max_nodes for t in tiers)) if tiers else None

    def on_demand_range(self) -> tuple[int, int] | None:
        """(min, max) nodes of on-demand VMs: the on-demand tiers, plus every node of a tier that falls back to
        on-demand; None when the pool never buys on demand. Reserved and flex-start tiers are not counted
        (:meth:`range_of`)."""
        if not any(ON_DEMAND in t.purchase for t in self.tiers):
            return None
        low = sum(t.min_nodes for t in self.tiers if t.purchase == (ON_DEMAND,))
        high = sum(t.max_nodes for t in self.tiers if ON_DEMAND in t.purchase)
        return low, high

    def spot_range(self) -> tuple[int, int] | None:
        """(min, max) nodes of spot VMs, or None when the pool never buys spot."""
        tiers = [t for t in self.tiers if SPOT in t.purchase]
        return (sum(t.min_nodes for t in tiers), sum(t.max_nodes for t in tiers)) if tiers else None

    def nodes_by_tier(self, avg_nodes: float) -> dict[str, float]:
        """Average nodes on each tier (by tier name) when the pool runs ``avg_nodes`` on average.

        Pools without a ladder fill their tiers in order, the last tier taking the rest (as before ladders). With a
        ladder, every tier first holds its ``minNodes`` (always running), then the remaining nodes go to the tiers
        in ladder order up to each tier's ``maxNodes``; nodes beyond every tier's maximum land on the last tier."""
        out = {t.name: 0.0 for t in self.tiers}
        left = float(avg_nodes)
        if not self.ladder:
            for tier in self.tiers:
                take = min(left, float(tier.max_nodes)) if tier is not self.tiers[-1] else left
                out[tier.name] += take
                left -= take
            return out
        for tier in self.tiers:
            take = min(left, float(tier.min_nodes))
            out[tier.name] += take
            left -= take
        for tier in self.tiers:
            take = min(left, float(tier.max_nodes) - out[tier.name])
            if take > 0:
                out[tier.name] += take
                left -= take
        if left > 0 and self.tiers:
            out[self.tiers[-1].name] += left
        return out

    def nodes_by_purchase(self, avg_nodes: float, spot_share: float) -> dict[str, float]:
        """Average nodes per purchase option (every key of :data:`PURCHASES`, zero when unused) when the pool runs
        ``avg_nodes``: :meth:`nodes_by_tier`, with a legacy spot-first tier's nodes split ``spot_share`` spot and the
        rest on-demand. A ladder's spot rung is obtainable for ``spot_share`` of its node-hours too: the rest falls
        to the first later rung that is not spot (Karpenter's weights, GKE's ComputeClass priorities), or stays on
        spot when no rung follows. This is what the cost estimate prices (reserved: pre-paid; flex-start: its own
        discount)."""
        out = dict.fromkeys(PURCHASES, 0.0)
        by_tier = self.nodes_by_tier(avg_nodes)
        for i, tier in enumerate(self.tiers):
            n = by_tier[tier.name]
            if tier.fallback:
                out[SPOT] += n * spot_share
                out[ON_DEMAND] += n * (1 - spot_share)
                continue
            later = [t.purchase[0] for t in self.tiers[i + 1 :] if t.purchase[0] != SPOT] if self.ladder else []
            if tier.purchase[0] == SPOT and later:
                out[SPOT] += n * spot_share
                out[later[0]] += n * (1 - spot_share)
            else:
                out[tier.purchase[0]] += n
        return out

    def split(self, avg_nodes: float, spot_share: float) -> tuple[float, float]:
        """(non-spot, spot) nodes on average when the pool runs ``avg_nodes`` (:meth:`nodes_by_purchase`): without a
        ladder exactly (on-demand, spot); with one, reserved and flex-start nodes count on the non-spot side (use
        :meth:`nodes_by_purchase` to price them apart)."""
        by = self.nodes_by_purchase(avg_nodes, spot_share)
        return by[RESERVED] + by[ON_DEMAND] + by[FLEX_START], by[SPOT]


def ladder_tiers(pool: AcceleratorPoolConfig) -> tuple[CapacityTier, ...]:
    """The tiers of a pool's capacity ladder, in ladder order (most preferred first): one tier per rung, named and
    bought as the rung's ``tier`` (reserved, on-demand, flex-start or spot), with its ``minNodes``, its ``maxNodes``
    capped at the pool's ``maxNodes``, and its reservations."""
    assert pool.ladder is not None
    return tuple(
        CapacityTier(t.tier.value, (t.tier.value,), min(t.min_nodes, pool.max_nodes), min(t.max_nodes, pool.max_nodes), tuple(t.reservations))
        for t in pool.ladder
    )


def capacity_tiers(pool: AcceleratorPoolConfig) -> tuple[CapacityTier, ...]:
    """The purchase tiers of ``pool``: its ladder's (:func:`ladder_tiers`) when it has one; else, from
    ``maxNodes`` N, ``minNodes`` M, ``onDemandBaseline`` B:

    - ``on-demand``: one on-demand tier, max(M, B) .. N;
    - ``spot-first``: B on-demand nodes (``baseline``), then N - B spot nodes falling back to on-demand;
    - ``spot-only``: B on-demand nodes (``baseline``), then N - B spot nodes with no fallback.

    ``minNodes`` beyond the baseline is kept on the spot tier. The tiers never hold more than N nodes together."""
    if pool.ladder is not None:
        return ladder_tiers(pool)
    n, m = pool.max_nodes, pool.min_nodes
    if pool.capacity is Capacity.ON_DEMAND:
        return (CapacityTier("on-demand", (ON_DEMAND,), min(n, max(m, pool.on_demand_baseline)), n),)
    b = min(pool.on_demand_baseline, n)
    purchase = (SPOT, ON_DEMAND) if pool.capacity is Capacity.SPOT_FIRST else (SPOT,)
    tiers = [CapacityTier("baseline", (ON_DEMAND,), b, b)] if b else []
    if n - b > 0:
        tiers.append(CapacityTier(pool.capacity.value, purchase, max(0, m - b), n - b))
    return tuple(tiers)


def plan_pool(cloud: Cloud, pool: AcceleratorPoolConfig, replicas: Sequence[Replica] = ()) -> PoolPlan:
    """The capacity plan of ``pool`` on ``cloud`` for the replicas placed on it."""
    acc = accelerators.lookup(pool.kind, cloud)
    candidates = candidate_shapes(cloud, pool)
    shape = pool_shape(cloud, pool, replicas)
    topology = tpu_topology(cloud, pool)
    hosts = accelerators.tpu_hosts(acc, topology) if topology else 1
    return PoolPlan(pool, cloud, tuple(candidates), shape, topology, hosts, capacity_tiers(pool))
