"""Karpenter EC2NodeClass and NodePools per accelerator pool: a capacity ladder or spot first with on-demand
fallback, tainted, limited.

Shape (see docs/aws.md), from the pool's capacity plan (``inferstack.sizing``):

- **Capacity ladder** (``ladder``): one NodePool ``<pool>-<tier>`` per rung, ``karpenter.sh/capacity-type`` In
  [reserved] / [on-demand] / [spot], ``weight`` in ladder order (100 for the first rung, 10 less per rung: Karpenter
  tries heavier NodePools first), ``limits`` of the rung's ``maxNodes``. A reserved rung's reservations become the
  EC2NodeClass's ``capacityReservationSelectorTerms`` (by id) and pin its NodePool to the reservations' zones.
  Capacity Blocks: Karpenter itself deletes a block's NodeClaims 40 minutes before the block ends (10 minutes before
  EC2 starts terminating its instances); the rung's NodePool gets a ``terminationGracePeriod`` of 10 minutes so the
  drain completes before EC2 reclaims the instances, and the next rungs take the evicted pods. ``flex-start`` is GKE
  only (refused by ``inferstack.checks.zones``).
- **Without a ladder**: one NodePool for the spot tier (``spot`` and ``on-demand`` for spot-first: Karpenter launches
  spot and falls back to on-demand when spot is unavailable; ``spot`` alone for spot-only; ``on-demand`` for
  on-demand pools), plus, when ``onDemandBaseline`` > 0, a heavier-weighted on-demand-only NodePool limited to the
  baseline, which Karpenter fills first. The tiers are limited to ``maxNodes`` together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from inferstack import sizing
from inferstack.catalog.accelerators import ACCELERATOR_LABEL, POOL_LABEL, Accelerator, Shape, lookup
from inferstack.catalog.drivers import driver_labels
from inferstack.catalog.versions import EKS_AL2023_AMI_ALIAS
from inferstack.components.dra import pool_node_labels
from inferstack.components.platform import PoolInfo, pool_gpu_access
from inferstack.config.base import Cloud
from inferstack.config.platform import AcceleratorPoolConfig, ReservationConfig

#: Root volume of accelerator nodes: container images of model servers are large.
ROOT_VOLUME = "200Gi"
#: How long a node being disrupted (drift, expiry) waits for pods to drain before it is terminated anyway.
TERMINATION_GRACE_PERIOD = "1h"
#: Weight of the on-demand baseline NodePool: higher than the spot-first pool (default 0), so it fills first.
BASELINE_WEIGHT = 50
#: Weight of a ladder's first rung (the NodePool schema allows 1..100); each later rung weighs LADDER_STEP less.
LADDER_TOP_WEIGHT = 100
LADDER_STEP = 10
#: Grace period of a Capacity Block rung: Karpenter starts draining 40 min before the block ends and EC2 starts
#: terminating at 30 min, so pods get 10 minutes (karpenter-provider-aws v1.14.1,
#: pkg/controllers/capacityreservation/expiration/controller.go; website tasks/odcrs.md "Capacity Blocks").
CAPACITY_BLOCK_GRACE_PERIOD = "10m"
#: Node label Karpenter sets on nodes launched into a capacity reservation.
CAPACITY_RESERVATION_TYPE_LABEL = "karpenter.k8s.aws/capacity-reservation-type"
#: Label on NodePools and their nodes naming the pool's workload class (read by the capacity-ladder policy).
WORKLOAD_LABEL = "inferstack.io/workload"


@dataclass(frozen=True)
class PoolPlan:
    """What one accelerator pool becomes on AWS: its shapes and the NodePools (name, capacity types, nodes)."""

    pool: AcceleratorPoolConfig
    accelerator: Accelerator
    shapes: tuple[Shape, ...]
    #: (NodePool name, capacity types, max nodes, weight)
    node_pools: tuple[tuple[str, tuple[str, ...], int, int | None], ...]
    #: The capacity tier of each NodePool (same order as ``node_pools``).
    tiers: tuple[sizing.CapacityTier, ...] = ()

    @property
    def devices_per_node(self) -> int:
        return self.shapes[0].devices

    @property
    def reservations(self) -> tuple[ReservationConfig, ...]:
        """Every reservation the pool's reserved tiers consume (its EC2NodeClass selects them)."""
        return tuple(r for t in self.tiers for r in t.reservations)


def ladder_weight(rung: int) -> int:
    """Karpenter weight of the ``rung``-th tier of a ladder (0 = most preferred): 100, 90, 80, 70."""
    return LADDER_TOP_WEIGHT - LADDER_STEP * rung


def plan_pool(pool: AcceleratorPoolConfig) -> PoolPlan:
    """The pool's NodePools from its capacity plan (``sizing.plan_pool``).

    With a ladder: one NodePool ``<pool>-<tier>`` per rung, capacity type the rung's, weight :func:`ladder_weight`
    in ladder order. Without: the ``baseline`` tier becomes an on-demand NodePool ``<pool>-on-demand-baseline``
    weighted to fill first; the other tier the NodePool ``<pool>`` with the tier's capacity types (``spot`` and
    ``on-demand``: Karpenter prefers spot and falls back). Instance types: every shape with the pool's devices per
    node (Karpenter launches the cheapest that fits). ValueError for a flex-start rung (GKE only)."""
    plan = sizing.plan_pool(Cloud.AWS, pool)
    if plan.ladder:
        if any(t.purchase == (sizing.FLEX_START,) for t in plan.tiers):
            raise ValueError(f"pool {pool.name}: flex-start is a GKE capacity tier; on AWS use reserved, on-demand or spot")
        nps = tuple((f"{pool.name}-{t.name}", t.purchase, t.max_nodes, ladder_weight(i)) for i, t in enumerate(plan.tiers))
    else:
        nps = tuple(
            (f"{pool.name}-on-demand-baseline", tier.purchase, tier.max_nodes, BASELINE_WEIGHT)
            if tier.name == "baseline"
            else (pool.name, tier.purchase, tier.max_nodes, None)
            for tier in plan.tiers
        )
    return PoolPlan(pool=pool, accelerator=lookup(pool.kind, Cloud.AWS), shapes=plan.shapes, node_pools=nps, tiers=plan.tiers)


def limits(shapes: tuple[Shape, ...], device_resource: str, nodes: int) -> dict[str, str]:
    """NodePool limits for ``nodes`` nodes of the largest allowed shape: devices, CPU and memory."""
    return {
        device_resource: str(nodes * max(s.devices for s in shapes)),
        "cpu": str(nodes * max(s.vcpu for s in shapes)),
        "memory": f"{nodes * max(s.memory_gib for s in shapes)}Gi",
    }


def disruption(pool: AcceleratorPoolConfig, prod: bool) -> dict[str, Any]:
    """Only empty nodes are consolidated (a node serving a model is never packed away); one node at a time;
    in prod, drift replacements are frozen during business hours (Mon-Fri 07:00-19:00 UTC)."""
    budgets: list[dict[str, Any]] = [{"nodes": "1"}]
    if prod:
        budgets.append({"nodes": "0", "reasons": ["Drifted"], "schedule": "0 7 * * mon-fri", "duration": "12h"})
    return {"consolidationPolicy": "WhenEmpty", "consolidateAfter": pool.consolidate_after, "budgets": budgets}


def tier_zones(tier: sizing.CapacityTier | None, zones: list[str]) -> list[str]:
    """Zones a tier's NodePool may launch in: a reserved tier whose reservations all name a zone, the ones of
    ``zones`` holding them (capacity reservations are zonal); every other tier, ``zones``."""
    if tier is None or not tier.reservations or any(r.zone is None for r in tier.reservations):
        return list(zones)
    held = {r.zone for r in tier.reservations}
    return [z for z in zones if z in held] or list(zones)


def node_pool_spec(
    plan: PoolPlan, np_name: str, types: tuple[str, ...], nodes: int, weight: int | None, zones: list[str], node_class: str, prod: bool,
    tier: sizing.CapacityTier | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The ``spec`` of one Karpenter v1 NodePool (``tier``: the capacity tier it holds, for a ladder's rungs)."""
    acc = plan.accelerator
    labels = {ACCELERATOR_LABEL: acc.kind, POOL_LABEL: plan.pool.name, **driver_labels(Cloud.AWS, acc.kind)}
    if plan.pool.ladder is not None:
        labels[WORKLOAD_LABEL] = plan.pool.workload.value
    labels.update(pool_node_labels(plan.pool, Cloud.AWS))  # DRA nodes; the device plugin's time-slicing config
    spec: dict[str, Any] = {
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": node_class},
                "requirements": [
                    {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": [s.name for s in plan.shapes]},
                    {"key": "karpenter.sh/capacity-type", "operator": "In", "values": list(types)},
                    {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
                    {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
                    {"key": "topology.kubernetes.io/zone", "operator": "In", "values": tier_zones(tier, zones)},
                ],
                "taints": [{"key": acc.taint_key, "value": "true", "effect": "NoSchedule"}],
                "expireAfter": plan.pool.expire_after,
                "terminationGracePeriod": CAPACITY_BLOCK_GRACE_PERIOD if tier is not None and tier.capacity_blocks else TERMINATION_GRACE_PERIOD,
            },
        },
        "limits": limits(plan.shapes, acc.device_resource, nodes),
        "disruption": disruption(plan.pool, prod),
    }
    if weight is not None:
        spec["weight"] = weight
    return spec


def ec2_node_class_spec(
    *, pool: str, kind: str, cluster_name: str, instance_profile: str, security_group_id: str, kms_key_arn: str,
    reservations: tuple[ReservationConfig, ...] = (),
) -> dict[str, Any]:  # fmt: skip
    """The ``spec`` of one EC2NodeClass: AL2023 (NVIDIA or Neuron variant picked per instance type), IMDSv2 only,
    CMK-encrypted gp3 root volume, private subnets tagged for the cluster, the cluster security group; with
    ``reservations``, ``capacityReservationSelectorTerms`` selecting each by id (Karpenter's reserved capacity,
    feature gate ``reservedCapacity``, on by default in v1.14)."""
    spec: dict[str, Any] = {
        "amiSelectorTerms": [{"alias": EKS_AL2023_AMI_ALIAS}],
        "instanceProfile": instance_profile,
        "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": cluster_name}}],
        "securityGroupSelectorTerms": [{"id": security_group_id}],
        "associatePublicIPAddress": False,
        "metadataOptions": {"httpEndpoint": "enabled", "httpProtocolIPv6": "disabled", "httpPutResponseHopLimit": 1, "httpTokens": "required"},
        "blockDeviceMappings": [
            {
                "deviceName": "/dev/xvda",
                "rootVolume": True,
                "ebs": {
                    "volumeSize": ROOT_VOLUME,
                    "volumeType": "gp3",
                    "iops": 3000,
                    "throughput": 250,
                    "encrypted": True,
                    "kmsKeyID": kms_key_arn,
                    "deleteOnTermination": True,
                },
            }
        ],
        "tags": {POOL_LABEL: pool, ACCELERATOR_LABEL: kind},
        "detailedMonitoring": True,
    }
    if reservations:
        spec["capacityReservationSelectorTerms"] = [{"id": rid} for rid in dict.fromkeys(r.id for r in reservations)]
    return spec


class AcceleratorPools(pulumi.ComponentResource):
    """One Karpenter EC2NodeClass and its NodePool(s) per accelerator pool; ``pools`` describes them for serving.

    Provisions, per ``AcceleratorPoolConfig``: an ``EC2NodeClass`` (pinned AL2023 AMI alias, IMDSv2 only, 200 GiB
    gp3 root volume encrypted with the CMK, no public IPs, subnets selected by the ``karpenter.sh/discovery`` tag,
    the cluster security group; the ladder's reservations as ``capacityReservationSelectorTerms``) and the NodePools
    of :func:`plan_pool`: with a ladder, one NodePool ``<pool>-<tier>`` per rung (capacity type reserved, on-demand
    or spot, weights 100, 90, ... in ladder order, limits per rung, label ``inferstack.io/workload``); without, one NodePool ``<pool>`` with the pool's
    capacity types (``spot-first``: spot and on-demand, Karpenter prefers spot; ``on-demand``; ``spot-only``) and,
    with ``onDemandBaseline`` > 0, an on-demand NodePool ``<pool>-on-demand-baseline`` (weight 50, filled first)
    limited to the baseline, the first one to the rest of ``maxNodes``. Templates carry the
    labels ``inferstack.io/accelerator`` and ``inferstack.io/pool`` and the family's ``NoSchedule`` taint; limits
    are the devices, CPU and memory of ``maxNodes`` nodes of the largest allowed shape; disruption is
    ``WhenEmpty`` after ``consolidateAfter``, one node at a time, ``expireAfter`` with a 1 h grace period, and in
    prod no drift replacement on weekdays 07:00-19:00 UTC.

    Args:
        name (str): component name; children are ``<name>-<pool>-nodeclass`` and ``<name>-<nodepool>``.
        pools (list[AcceleratorPoolConfig]): ``inferstack:acceleratorPools`` (kind, devicesPerNode, capacity
            default ``spot-first``, onDemandBaseline default 0, maxNodes default 4, consolidateAfter default 30m,
            expireAfter default 720h).
        zones (list[str]): zones the NodePools may use.
        prod (bool): adds the weekday drift blackout.
        cluster_name (str): discovery tag value of the subnets.
        instance_profile (pulumi.Input[str]): Karpenter node instance profile.
        security_group_id (pulumi.Input[str]): cluster security group.
        kms_key_arn (pulumi.Input[str]): CMK of the root volumes.
        k8s_provider (k8s.Provider): provider of the cluster.
        depends_on (list[pulumi.Resource]): what the objects wait for (the Karpenter release and its CRDs).
        opts (pulumi.ResourceOptions | None, default None): options of the component.
        All arguments but ``name`` and ``opts`` are keyword-only.

    Outputs:
        pools (dict[str, PoolInfo]): per pool its kind, limits, node selector, taint key and device resource.
        node_classes, node_pools (list[k8s.apiextensions.CustomResource]): the children.
        Registered outputs: ``pools`` (pool names).

    Secure choices:
        - accelerator nodes IMDSv2-only with CMK-encrypted root volumes, in private subnets only;
        - tainted so that only pods tolerating the device taint land there; hard limits bound cost;
        - ``spot-only`` pools are allowed here but refused in prod by the policy pack.
    """

    def __init__(
        self,
        name: str,
        *,
        pools: list[AcceleratorPoolConfig],
        zones: list[str],
        prod: bool,
        cluster_name: str,
        instance_profile: pulumi.Input[str],
        security_group_id: pulumi.Input[str],
        kms_key_arn: pulumi.Input[str],
        k8s_provider: k8s.Provider,
        depends_on: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("inferstack:aws:AcceleratorPools", name, None, opts)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=k8s_provider, depends_on=depends_on)
        self.pools: dict[str, PoolInfo] = {}
        self.node_classes: list[k8s.apiextensions.CustomResource] = []
        self.node_pools: list[k8s.apiextensions.CustomResource] = []
        for pool in pools:
            plan = plan_pool(pool)
            acc = plan.accelerator
            labels = {ACCELERATOR_LABEL: acc.kind, POOL_LABEL: pool.name, "app.kubernetes.io/managed-by": "inferstack"}
            spec = pulumi.Output.all(instance_profile, security_group_id, kms_key_arn).apply(
                lambda a, p=pool.name, k=acc.kind, r=plan.reservations: ec2_node_class_spec(
                    pool=p, kind=k, cluster_name=cluster_name, instance_profile=a[0], security_group_id=a[1], kms_key_arn=a[2],
                    reservations=r,
                )
            )
            node_class = k8s.apiextensions.CustomResource(
                f"{name}-{pool.name}-nodeclass",
                api_version="karpenter.k8s.aws/v1",
                kind="EC2NodeClass",
                metadata={"name": pool.name, "labels": labels},
                spec=spec,
                opts=k8s_opts,
            )
            self.node_classes.append(node_class)
            for i, (np_name, types, nodes, weight) in enumerate(plan.node_pools):
                tier = plan.tiers[i] if plan.pool.ladder is not None else None
                self.node_pools.append(
                    k8s.apiextensions.CustomResource(
                        f"{name}-{np_name}",
                        api_version="karpenter.sh/v1",
                        kind="NodePool",
                        metadata={"name": np_name, "labels": {**labels, WORKLOAD_LABEL: pool.workload.value}},
                        spec=node_pool_spec(plan, np_name, types, nodes, weight, zones, pool.name, prod, tier),
                        opts=pulumi.ResourceOptions(parent=self, provider=k8s_provider, depends_on=[*depends_on, node_class]),
                    )
                )
            self.pools[pool.name] = PoolInfo(
                name=pool.name,
                kind=acc.kind,
                max_nodes=pool.max_nodes,
                devices_per_node=plan.devices_per_node,
                node_selector={ACCELERATOR_LABEL: acc.kind, POOL_LABEL: pool.name},
                taint_key=acc.taint_key,
                device_resource=acc.device_resource,
                gpu_access=pool_gpu_access(pool),
            )
        self.register_outputs({"pools": sorted(self.pools)})
