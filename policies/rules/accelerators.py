"""Accelerator node pools: tainted, and not spot-only in prod."""

from __future__ import annotations

from pulumi_policy import (
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from inferstack.policies.entry import ADVISORY_IN_DEV, PolicyEntry, environment_setting
from inferstack.policies.rules.common import get

NODEPOOL = "kubernetes:karpenter.sh/v1:NodePool"
GKE_POOL = "gcp:container/nodePool:NodePool"
ACCEL_LABEL = "inferstack.io/accelerator"
ACCEL_RESOURCES = ("nvidia.com/gpu", "aws.amazon.com/neuron", "aws.amazon.com/neuroncore", "google.com/tpu")


def karpenter_is_accelerator(props: dict) -> bool:
    tmpl = get(props, "spec", "template") or {}
    if ACCEL_LABEL in (get(tmpl, "metadata", "labels") or {}):
        return True
    reqs = get(tmpl, "spec", "requirements") or []
    return any(r.get("key") in ("karpenter.k8s.aws/instance-gpu-count", "karpenter.k8s.aws/instance-accelerator-count") for r in reqs)


def karpenter_capacity_types(props: dict) -> set[str]:
    for r in get(props, "spec", "template", "spec", "requirements") or []:
        if r.get("key") == "karpenter.sh/capacity-type" and r.get("operator") == "In":
            return set(r.get("values") or [])
    return {"on-demand"}  # Karpenter's default when no capacity-type requirement is given


#: GCE machine families that come with accelerators attached (GPUs: A2, A3, A4, G2, G4; TPUs: ct*, tpu7x).
GKE_ACCEL_MACHINE_PREFIXES = ("a2-", "a3-", "a4-", "g2-", "g4-", "ct", "tpu")


def gke_is_accelerator(props: dict) -> bool:
    nc = props.get("nodeConfig") or {}
    return bool(nc.get("guestAccelerators")) or str(nc.get("machineType") or "").startswith(
        GKE_ACCEL_MACHINE_PREFIXES
    ) or bool(get(props, "placementPolicy", "tpuTopology"))


def _tainted(args: ResourceValidationArgs, report) -> None:
    if args.resource_type == NODEPOOL and karpenter_is_accelerator(args.props):
        if not get(args.props, "spec", "template", "spec", "taints"):
            report("accelerator NodePool has no taint; general pods would land on accelerator nodes.")
    elif args.resource_type == GKE_POOL and gke_is_accelerator(args.props):
        if not get(args.props, "nodeConfig", "taints"):
            report("accelerator node pool has no nodeConfig.taints; add NO_SCHEDULE taints for the device.")


def _pool_key(res) -> str | None:
    if res.resource_type == NODEPOOL:
        labels = get(res.props, "spec", "template", "metadata", "labels") or {}
    else:
        labels = get(res.props, "nodeConfig", "labels") or {}
    return labels.get("inferstack.io/pool") or labels.get(ACCEL_LABEL)


#: What fixes a spot-only accelerator pool in prod.
SPOT_ONLY_FIX = ("set the pool's capacity to spot-first or on-demand (inferstack:acceleratorPools[].capacity), i.e. a "
                 "Karpenter NodePool allowing karpenter.sh/capacity-type [spot, on-demand], or a GKE node pool "
                 "without spot beside the spot one (same inferstack.io/pool label).")


def _spot_only(args: StackValidationArgs, report) -> None:
    if (args.get_config() or {}).get("environment", "prod") != "prod":
        return
    on_demand: set[str | None] = set()
    spot_only = []
    for r in args.resources:
        if r.resource_type == NODEPOOL and karpenter_is_accelerator(r.props):
            types = karpenter_capacity_types(r.props)
            (spot_only.append(r) if types == {"spot"} else on_demand.add(_pool_key(r)))
        elif r.resource_type == GKE_POOL and gke_is_accelerator(r.props):
            spot = get(r.props, "nodeConfig", "spot") is True or get(r.props, "nodeConfig", "preemptible") is True
            (spot_only.append(r) if spot else on_demand.add(_pool_key(r)))
    for r in spot_only:
        if _pool_key(r) is None or _pool_key(r) not in on_demand:
            report("spot-only accelerator capacity without an on-demand fallback in prod; " + SPOT_ONLY_FIX, r.urn)


ENTRIES = [
    PolicyEntry(ResourceValidationPolicy(
        name="accelerator-pools-tainted",
        description="GPU, TPU and Neuron node pools are tainted.",
        validate=_tainted,
        remediation_steps="Taint accelerator pools (e.g. nvidia.com/gpu=true:NoSchedule) and tolerate it in model pods.",
    ), ADVISORY_IN_DEV, types=(NODEPOOL, GKE_POOL),
       controls=("NIST 800-53 SC-6",)),
    PolicyEntry(StackValidationPolicy(
        name="prod-accelerators-not-spot-only",
        description="In prod, accelerator capacity has an on-demand fallback.",
        validate=_spot_only,
        config_schema=PolicyConfigSchema(properties={"environment": {"type": "string"}}),
        remediation_steps="In prod, give accelerator pools capacity spot-first (spot with on-demand fallback) or "
                          "on-demand (inferstack:acceleratorPools[].capacity); in a program of your own, allow "
                          "karpenter.sh/capacity-type on-demand beside spot, or add an on-demand GKE node pool.",
    ), ADVISORY_IN_DEV, environment_setting,
       controls=("NIST 800-53 CP-10",), clouds={"aws", "gcp"}),
]
