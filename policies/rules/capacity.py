"""Capacity ladders: in prod, a latency-critical pool never prefers spot capacity.

Judged on the real resources: Karpenter NodePools (the heaviest ``weight`` of the pool is tried first; inside one
NodePool Karpenter takes reserved, then spot, then on-demand capacity) and GKE ComputeClasses (the first priority's
node pools, looked up by name, or a priority's own ``spot: true``). A pool is latency-critical when its NodePools or
ComputeClass carry the label ``inferstack.io/workload: latency-critical`` (set from the pool's ``workload``).
"""

from __future__ import annotations

from collections import defaultdict

from pulumi_policy import PolicyConfigSchema, StackValidationArgs, StackValidationPolicy

from inferstack.policies.entry import MANDATORY, PolicyEntry, environment_setting
from inferstack.policies.rules.common import get

NODEPOOL = "kubernetes:karpenter.sh/v1:NodePool"
GKE_POOL = "gcp:container/nodePool:NodePool"
COMPUTE_CLASS = "kubernetes:cloud.google.com/v1:ComputeClass"
WORKLOAD_LABEL = "inferstack.io/workload"
POOL_LABEL = "inferstack.io/pool"
LATENCY_CRITICAL = "latency-critical"
#: The order in which Karpenter takes the capacity types one NodePool allows (karpenter.sh docs, ODCR task).
KARPENTER_ORDER = ("reserved", "spot", "on-demand")


def _labels(props: dict) -> dict:
    return {**(get(props, "spec", "template", "metadata", "labels") or {}), **(get(props, "metadata", "labels") or {})}


def karpenter_first_capacity(props: dict) -> str:
    """The capacity type a NodePool launches first: reserved, then spot, then on-demand among those it allows."""
    for r in get(props, "spec", "template", "spec", "requirements") or []:
        if r.get("key") == "karpenter.sh/capacity-type" and r.get("operator") == "In":
            allowed = set(r.get("values") or [])
            return next((c for c in KARPENTER_ORDER if c in allowed), "on-demand")
    return "on-demand"  # Karpenter's default when no capacity-type requirement is given


def _spot_first(args: StackValidationArgs, report) -> None:
    if (args.get_config() or {}).get("environment", "prod") != "prod":
        return
    # Karpenter: per latency-critical pool, the NodePools of the heaviest weight are tried first.
    by_pool: dict[str, list] = defaultdict(list)
    gke_pools = {}
    for r in args.resources:
        if r.resource_type == NODEPOOL and _labels(r.props).get(WORKLOAD_LABEL) == LATENCY_CRITICAL:
            by_pool[_labels(r.props).get(POOL_LABEL) or r.name].append(r)
        elif r.resource_type == GKE_POOL and r.props.get("name"):
            gke_pools[r.props["name"]] = r
    for pool, nps in by_pool.items():
        top = max(int(get(np.props, "spec", "weight") or 0) for np in nps)
        for np in nps:
            if int(get(np.props, "spec", "weight") or 0) == top and karpenter_first_capacity(np.props) == "spot":
                report(f"latency-critical pool {pool} takes spot capacity first (the heaviest NodePool, weight {top}); "
                       "put a reserved or on-demand NodePool above it (a higher spec.weight), or mark the pool "
                       "workload: batch (inferstack:acceleratorPools[].workload).", np.urn)
    # GKE: the first priority of a latency-critical ComputeClass.
    for r in args.resources:
        if r.resource_type != COMPUTE_CLASS or (get(r.props, "metadata", "labels") or {}).get(WORKLOAD_LABEL) != LATENCY_CRITICAL:
            continue
        priorities = get(r.props, "spec", "priorities") or []
        if not priorities:
            continue
        first = priorities[0] or {}
        spot = first.get("spot") is True or any(
            get(gke_pools[n].props, "nodeConfig", "spot") is True or get(gke_pools[n].props, "nodeConfig", "preemptible") is True
            for n in first.get("nodepools") or [] if n in gke_pools
        )
        if spot:
            report("latency-critical ComputeClass prefers spot capacity (its first priority); put a reservation or "
                   "on-demand node pool first (spec.priorities[0]).", r.urn)


ENTRIES = [
    PolicyEntry(StackValidationPolicy(
        name="prod-latency-critical-not-spot-first",
        description="In prod, a latency-critical accelerator pool never prefers spot capacity (Karpenter weights, ComputeClass priorities).",
        validate=_spot_first,
        config_schema=PolicyConfigSchema(properties={"environment": {"type": "string"}}),
        remediation_steps="Order the pool's capacity ladder reserved or on-demand first (spot later), or mark the pool workload: batch.",
    ), MANDATORY, environment_setting,
       controls=("NIST 800-53 CP-10",), clouds={"aws", "gcp"}),
]
