"""GKE accelerator node pools: per inferstack pool one node pool per capacity tier, joined by a ComputeClass.

Per accelerator pool of the stack (see docs/gcp.md):

- **Capacity ladder** (``ladder``): one node pool per rung, ``<pool>-reserved`` (reservation affinity
  ``SPECIFIC_RESERVATION`` on the rung's GCE reservations, placed in their zones), ``<pool>-on-demand``,
  ``<pool>-flex`` (flex-start VMs: ``node_config.flex_start``, no reservation, location policy ANY) and
  ``<pool>-spot``, each limited to its rung's ``maxNodes`` and keeping its ``minNodes``; the ComputeClass lists them
  as priorities in ladder order, and active migration moves pods back up the ladder when a preferred rung has
  capacity again.
- **Node pools** without a ladder (``plan_pool``, from the pool's capacity tiers in ``inferstack.sizing``): ``spot-first`` gives a
  ``<pool>-spot`` pool (0 .. ``maxNodes - onDemandBaseline`` nodes, location policy ANY so the autoscaler takes spot
  wherever it is free) and a ``<pool>-on-demand`` pool (``onDemandBaseline`` .. ``maxNodes``, BALANCED: baseline and
  fallback); ``on-demand`` gives the on-demand pool only; ``spot-only`` the spot pool, plus an on-demand pool of
  exactly ``onDemandBaseline`` nodes when it is set. Each pool's limits stay within ``maxNodes``; the cluster autoscaler only adds nodes for pending
  pods, and the capacity planner checks that the models' ``maxReplicas`` fit ``maxNodes``, so demand bounds the
  total across both pools.
- **ComputeClass** ``inferstack-<pool>`` (``cloud.google.com/v1``): priorities spot pool first, on-demand pool
  second; ``whenUnsatisfiable: DoNotScaleUp`` (never a node outside these pools), no node-pool auto-creation, and
  active migration back to spot when spot capacity returns.
- **Nodes**: the machine type the capacity planner picks for the pool's models; GPU pools attach the GPUs as guest
  accelerators with GKE-managed driver installation (``versions.GKE_GPU_DRIVER_VERSION``); TPU pools use the TPU
  machine type of ``tpuTopology`` in the kind's TPU zone, and a multi-host slice gets placement policy COMPACT with
  the topology and per-zone limits (one slice). Labels ``inferstack.io/accelerator``, ``inferstack.io/pool`` and
  ``cloud.google.com/compute-class``; taints ``nvidia.com/gpu=present`` or ``google.com/tpu=present`` and the
  compute-class taint, all NoSchedule. 200 GB CMEK-encrypted boot disks (Hyperdisk Balanced where the machine series
  supports no Persistent Disk, such as TPU v6e); the shared node config of :func:`..cluster.node_config`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from inferstack import sizing
from inferstack.catalog import accelerators
from inferstack.catalog import zones as zone_catalogue
from inferstack.catalog.accelerators import (
    ACCELERATOR_LABEL,
    POOL_LABEL,
    Accelerator,
    Family,
    Shape,
)
from inferstack.catalog.drivers import driver_labels
from inferstack.catalog.versions import GKE_GPU_DRIVER_VERSION
from inferstack.components.dra import gke_guest_accelerator_sharing, gke_sharing_selector, pool_node_labels
from inferstack.components.gcp.cluster import node_config
from inferstack.components.platform import PoolInfo, pool_gpu_access
from inferstack.config.base import Cloud
from inferstack.config.platform import AcceleratorPoolConfig, ReservationConfig

#: Node label and taint key GKE uses to bind nodes of manually created node pools to a ComputeClass.
COMPUTE_CLASS_LABEL = "cloud.google.com/compute-class"
#: Label on ComputeClasses naming the pool's workload class (read by the capacity-ladder policy).
WORKLOAD_LABEL = "inferstack.io/workload"
#: Value of the device taint (GKE's own convention for GPU and TPU nodes).
DEVICE_TAINT_VALUE = "present"
#: Boot disk of accelerator nodes: model server images are large.
BOOT_DISK_GB = 200
#: Machine series that take no Persistent Disk boot disk (TPU v6e, A4, A3 Ultra, C4, N4): Hyperdisk Balanced.
HYPERDISK_ONLY_SERIES = ("ct6e", "tpu7x", "a4", "a3-ultragpu", "c4", "n4")


#: Node pool name suffix per ladder tier (``-flex`` keeps ``<pool>-<suffix>`` within GKE's 40 characters, as
#: ``-on-demand`` does).
TIER_SUFFIX = {sizing.RESERVED: "reserved", sizing.ON_DEMAND: "on-demand", sizing.FLEX_START: "flex", sizing.SPOT: "spot"}
#: GCE reservation label key that targets a reservation by name (pulumi-gcp ``reservation_affinity.key``).
RESERVATION_NAME_KEY = "compute.googleapis.com/reservation-name"


@dataclass(frozen=True)
class GkeNodePoolPlan:
    """One GKE node pool of an inferstack pool: its name suffix, purchase option, node counts and reservations."""

    suffix: str
    spot: bool
    min_nodes: int
    max_nodes: int
    #: reserved, on-demand, flex-start or spot (``sizing.PURCHASES``).
    purchase: str = ""
    reservations: tuple[ReservationConfig, ...] = ()

    @property
    def capacity_type(self) -> str:
        return self.purchase or ("spot" if self.spot else "on-demand")

    @property
    def flex_start(self) -> bool:
        return self.purchase == sizing.FLEX_START

    def zones(self, pool_zones: Sequence[str]) -> tuple[str, ...]:
        """Zones of this node pool: a reserved pool's reservation zones among ``pool_zones`` (when every reservation
        names one), else ``pool_zones``."""
        if self.reservations and all(r.zone for r in self.reservations):
            held = [z for z in pool_zones if z in {r.zone for r in self.reservations}]
            return tuple(held or pool_zones)
        return tuple(pool_zones)


@dataclass(frozen=True)
class GkePoolPlan:
    """What one accelerator pool becomes on GKE (pure: tested without Pulumi)."""

    pool: AcceleratorPoolConfig
    accelerator: Accelerator
    shape: Shape
    #: TPU slice topology (None for GPUs).
    topology: str | None
    #: Hosts per slice (1 for GPUs and single-host TPU slices).
    hosts: int
    zones: tuple[str, ...]
    node_pools: tuple[GkeNodePoolPlan, ...]

    @property
    def multi_host(self) -> bool:
        return self.hosts > 1

    @property
    def compute_class(self) -> str:
        return compute_class_name(self.pool.name)

    @property
    def boot_disk_type(self) -> str:
        return boot_disk_type(self.shape.name)

    def labels(self) -> dict[str, str]:
        """Node labels of every node of the pool (with the expected driver and runtime, ``inferstack.catalog.drivers``)."""
        return {ACCELERATOR_LABEL: self.accelerator.kind, POOL_LABEL: self.pool.name, COMPUTE_CLASS_LABEL: self.compute_class,
                **driver_labels(Cloud.GCP, self.accelerator.kind)}

    def taints(self) -> list[tuple[str, str]]:
        """(key, value) of the NoSchedule taints of every node of the pool."""
        return [(self.accelerator.taint_key, DEVICE_TAINT_VALUE), (COMPUTE_CLASS_LABEL, self.compute_class)]

    def node_selector(self) -> dict[str, str]:
        """What a pod selects to land on the pool (TPU pods also need GKE's TPU labels)."""
        selector = {ACCELERATOR_LABEL: self.accelerator.kind, POOL_LABEL: self.pool.name, COMPUTE_CLASS_LABEL: self.compute_class}
        if self.topology:
            selector.update(accelerators.gke_tpu_labels(self.accelerator, self.topology))
        selector.update(gke_sharing_selector(self.pool))  # MIG partition size or time-sharing labels GKE sets
        return selector


def guest_sharing_args(pool: AcceleratorPoolConfig) -> dict[str, Any]:
    """``gpu_partition_size`` / ``gpu_sharing_config`` arguments of a shared pool's guest accelerator."""
    kw = gke_guest_accelerator_sharing(pool)
    if "gpu_sharing_config" in kw:
        kw["gpu_sharing_config"] = gcp.container.NodePoolNodeConfigGuestAcceleratorGpuSharingConfigArgs(**kw["gpu_sharing_config"])
    return kw


def compute_class_name(pool: str) -> str:
    """Name of the ComputeClass of an inferstack pool."""
    return f"inferstack-{pool}"


def boot_disk_type(machine_type: str) -> str:
    """``hyperdisk-balanced`` for machine series without Persistent Disk support, else ``pd-balanced``."""
    return "hyperdisk-balanced" if machine_type.startswith(HYPERDISK_ONLY_SERIES) else "pd-balanced"


def node_pool_plans(pool: AcceleratorPoolConfig) -> tuple[GkeNodePoolPlan, ...]:
    """The node pools of ``pool``, from its capacity tiers (``sizing.capacity_tiers``), in ComputeClass priority
    order. With a ladder: one node pool per rung, in ladder order (:data:`TIER_SUFFIX`). Without: a ``spot`` pool
    holding the spot tier, then an ``on-demand`` pool holding the on-demand tiers (the baseline) and, for
    spot-first, the on-demand fallback (up to the tier's size); spot comes first."""
    tiers = sizing.capacity_tiers(pool)
    if pool.ladder is not None:
        return tuple(
            GkeNodePoolPlan(TIER_SUFFIX[t.name], t.name == sizing.SPOT, t.min_nodes, t.max_nodes, t.name, t.reservations)
            for t in tiers
        )
    plans = []
    spot = [t for t in tiers if sizing.SPOT in t.purchase]
    if spot:
        plans.append(GkeNodePoolPlan("spot", True, sum(t.min_nodes for t in spot), sum(t.max_nodes for t in spot)))
    on_demand = [t for t in tiers if sizing.ON_DEMAND in t.purchase]
    if on_demand:
        low = sum(t.min_nodes for t in tiers if t.purchase == (sizing.ON_DEMAND,))
        plans.append(GkeNodePoolPlan("on-demand", False, low, sum(t.max_nodes for t in on_demand)))
    return tuple(plans)


def plan_pool(
    pool: AcceleratorPoolConfig, region: str, cluster_zones: Sequence[str], replicas: Sequence[sizing.Replica] = ()
) -> GkePoolPlan:
    """Machine shape, topology and hosts (the capacity plan's, ``sizing.plan_pool``, sized for ``replicas``), zones
    (TPU: the kind's TPU zones in ``region``; GPU: the cluster's zones that offer the kind, per the zone catalogue)
    and node pools of ``pool``. Raises ValueError when the kind has no TPU zone in ``region``."""
    acc = accelerators.lookup(pool.kind, Cloud.GCP)
    capacity = sizing.plan_pool(Cloud.GCP, pool, replicas)
    # A region the catalogue lacks: the cluster's zones (network.zones) as listed, for GPUs and TPUs alike.
    zones = tuple(zone_catalogue.zones_offering(Cloud.GCP, region, pool.kind, list(cluster_zones))) or tuple(cluster_zones)
    if acc.family is Family.TPU:
        zones = zone_catalogue.tpu_zones(acc, region, cluster_zones)
        if not zones:
            raise ValueError(f"{pool.kind} has no TPU zone in {region}; regions: {', '.join(sorted(acc.gcp_zones))}")
    return GkePoolPlan(
        pool=pool, accelerator=acc, shape=capacity.shape, topology=capacity.topology, hosts=capacity.hosts, zones=zones,
        node_pools=node_pool_plans(pool),
    )


def initial_nodes_per_zone(min_nodes: int, zones: Sequence[str]) -> int:
    """GKE creates ``initial_node_count`` nodes in *each* zone: the fewest per zone that reach ``min_nodes`` in total
    (the autoscaler then trims any surplus down to the pool's total minimum)."""
    return -(-min_nodes // max(len(zones), 1))


def compute_class_spec(plan: GkePoolPlan, node_pool_names: Mapping[str, str]) -> dict[str, Any]:
    """The ComputeClass spec: the pool's node pools in plan order (a ladder's order, or spot first), only them
    (no node-pool auto-creation, never a node outside them), migrating back to the preferred ones. Each priority
    names one node pool; the purchase option (reservation, flex-start, spot) is that node pool's own setting."""
    return {
        "priorities": [{"nodepools": [node_pool_names[np.suffix]]} for np in plan.node_pools],
        "nodePoolAutoCreation": {"enabled": False},
        "whenUnsatisfiable": "DoNotScaleUp",
        "activeMigration": {"optimizeRulePriority": True},
    }


def compute_class_labels(plan: GkePoolPlan) -> dict[str, str]:
    """Labels of a pool's ComputeClass: pool, accelerator and workload class (which the capacity-ladder policy
    reads)."""
    return {POOL_LABEL: plan.pool.name, ACCELERATOR_LABEL: plan.accelerator.kind, WORKLOAD_LABEL: plan.pool.workload.value}


def reservation_affinity(np: GkeNodePoolPlan) -> gcp.container.NodePoolNodeConfigReservationAffinityArgs | None:
    """A reserved node pool consumes exactly its reservations (``SPECIFIC_RESERVATION`` by name); a flex-start pool
    none (``NO_RESERVATION``); other pools keep GKE's default."""
    if np.reservations:
        return gcp.container.NodePoolNodeConfigReservationAffinityArgs(
            consume_reservation_type="SPECIFIC_RESERVATION", key=RESERVATION_NAME_KEY, values=[r.id for r in np.reservations]
        )
    if np.flex_start:
        return gcp.container.NodePoolNodeConfigReservationAffinityArgs(consume_reservation_type="NO_RESERVATION")
    return None


def pool_info(plan: GkePoolPlan) -> PoolInfo:
    """The pool as serving sees it (node selector with the compute class, and its taint to tolerate)."""
    acc = plan.accelerator
    return PoolInfo(
        name=plan.pool.name,
        kind=acc.kind,
        max_nodes=plan.pool.max_nodes,
        devices_per_node=plan.shape.devices,
        node_selector=plan.node_selector(),
        taint_key=acc.taint_key,
        device_resource=acc.device_resource,
        tolerations=({"key": COMPUTE_CLASS_LABEL, "operator": "Equal", "value": plan.compute_class, "effect": "NoSchedule"},),
        gpu_access=pool_gpu_access(plan.pool),
    )


class GkeAcceleratorPools(pulumi.ComponentResource):
    """Spot and on-demand GKE node pools plus a ComputeClass per accelerator pool (see the module docstring).

    Args: ``pools`` (the stack's accelerator pools), ``replicas`` (per pool name, the replicas the planner sizes
    the machine type for; default none: the smallest shape), ``project``, ``region``, ``cluster_name``, ``zones``
    (the cluster's node zones, used by GPU pools), ``node_service_account`` (email), ``kms_key`` (CryptoKey id for
    boot disks), ``node_tag`` (network tag), ``k8s_provider`` (for the ComputeClasses), ``depends_on``.

    Attributes: ``plans`` (name -> :class:`GkePoolPlan`), ``node_pools`` (``<pool>-<spot|on-demand>`` ->
    NodePool), ``compute_classes`` (name -> CustomResource), ``pools`` (name -> PoolInfo for serving).
    """

    def __init__(
        self,
        name: str,
        *,
        pools: Sequence[AcceleratorPoolConfig],
        project: str,
        region: str,
        cluster_name: pulumi.Input[str],
        zones: Sequence[str],
        node_service_account: pulumi.Input[str],
        kms_key: pulumi.Input[str],
        node_tag: str,
        k8s_provider: k8s.Provider,
        replicas: Mapping[str, Sequence[sizing.Replica]] | None = None,
        depends_on: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("inferstack:gcp:AcceleratorPools", name, None, opts)
        replicas = replicas or {}
        self.plans = {p.name: plan_pool(p, region, zones, replicas.get(p.name, ())) for p in pools}
        self.node_pools: dict[str, gcp.container.NodePool] = {}
        self.compute_classes: dict[str, k8s.apiextensions.CustomResource] = {}
        self.pools = {pool: pool_info(plan) for pool, plan in self.plans.items()}
        for pool, plan in self.plans.items():
            names: dict[str, str] = {}
            created: list[pulumi.Resource] = []
            for np in plan.node_pools:
                np_name = f"{pool}-{np.suffix}"
                names[np.suffix] = np_name
                self.node_pools[np_name] = self._node_pool(
                    f"{name}-{np_name}", np_name, plan, np, project, region, cluster_name, node_service_account,
                    kms_key, node_tag, list(depends_on),
                )
                created.append(self.node_pools[np_name])
            self.compute_classes[pool] = k8s.apiextensions.CustomResource(
                f"{name}-{pool}-class",
                api_version="cloud.google.com/v1",
                kind="ComputeClass",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=plan.compute_class, labels=compute_class_labels(plan)),
                spec=compute_class_spec(plan, names),
                opts=pulumi.ResourceOptions(parent=self, provider=k8s_provider, depends_on=created),
            )
        self.register_outputs({"nodePools": {k: v.name for k, v in self.node_pools.items()}})

    def _node_pool(
        self,
        resource_name: str,
        np_name: str,
        plan: GkePoolPlan,
        np: GkeNodePoolPlan,
        project: str,
        region: str,
        cluster_name: pulumi.Input[str],
        node_service_account: pulumi.Input[str],
        kms_key: pulumi.Input[str],
        node_tag: str,
        depends_on: list[pulumi.Resource],
    ) -> gcp.container.NodePool:
        acc = plan.accelerator
        guest = None
        if acc.family is Family.NVIDIA:
            guest = [
                gcp.container.NodePoolNodeConfigGuestAcceleratorArgs(
                    type=acc.gcp_accelerator_type or "",
                    count=plan.shape.devices,
                    gpu_driver_installation_config=gcp.container.NodePoolNodeConfigGuestAcceleratorGpuDriverInstallationConfigArgs(
                        gpu_driver_version=GKE_GPU_DRIVER_VERSION
                    ),
                    **guest_sharing_args(plan.pool),
                )
            ]
        zones = np.zones(plan.zones)
        if plan.multi_host:
            # A multi-host slice is one atomic unit in one zone: that zone only (the first the pool may use; with two
            # zones the per-zone limits would allow two slices), per-zone limits, compact placement.
            zones = tuple(zones)[:1]
            autoscaling = gcp.container.NodePoolAutoscalingArgs(min_node_count=np.min_nodes, max_node_count=np.max_nodes)
            placement = gcp.container.NodePoolPlacementPolicyArgs(type="COMPACT", tpu_topology=plan.topology)
        else:
            autoscaling = gcp.container.NodePoolAutoscalingArgs(
                total_min_node_count=np.min_nodes,
                total_max_node_count=np.max_nodes,
                location_policy="ANY" if np.spot or np.flex_start or np.reservations else "BALANCED",
            )
            placement = None
        return gcp.container.NodePool(
            resource_name,
            name=np_name,
            cluster=cluster_name,
            location=region,
            project=project,
            node_locations=list(zones),
            initial_node_count=initial_nodes_per_zone(np.min_nodes, zones),
            autoscaling=autoscaling,
            placement_policy=placement,
            management=gcp.container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
            # Surge one node at a time; a multi-host slice is upgraded as a whole by GKE (no surge settings).
            upgrade_settings=None if plan.multi_host else gcp.container.NodePoolUpgradeSettingsArgs(max_surge=1, max_unavailable=0),
            node_config=node_config(
                machine_type=plan.shape.name,
                service_account=node_service_account,
                kms_key=kms_key,
                tag=node_tag,
                labels={**plan.labels(), **pool_node_labels(plan.pool, Cloud.GCP)},
                disk_gb=BOOT_DISK_GB,
                disk_type=plan.boot_disk_type,
                spot=np.spot,
                taints=[
                    gcp.container.NodePoolNodeConfigTaintArgs(key=k, value=v, effect="NO_SCHEDULE") for k, v in plan.taints()
                ],
                guest_accelerators=guest,
                flex_start=np.flex_start,
                reservation_affinity=reservation_affinity(np),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on, ignore_changes=["initialNodeCount"]),
        )
