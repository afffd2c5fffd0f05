"""prod-latency-critical-not-spot-first: compliant and violating fixtures (Karpenter weights and capacity types,
ComputeClass priorities and the node pools they name), prod only, and the reference stacks."""

from __future__ import annotations

from typing import Any

from tests.policies.test_rules import (
    GKE_POOL,
    NODEPOOL,
    Case,
    Res,
    _findings,
    case_tests,
    gke_pool,
    karpenter_pool,
)

POLICY = "prod-latency-critical-not-spot-first"
COMPUTE_CLASS = "kubernetes:cloud.google.com/v1:ComputeClass"
LC = {"inferstack.io/accelerator": "nvidia-l4", "inferstack.io/pool": "gpu-l4", "inferstack.io/workload": "latency-critical"}


def weighted(capacity: list[str], weight: int, labels: dict[str, str] = LC) -> dict[str, Any]:
    props = karpenter_pool(capacity, labels=dict(labels))
    props["spec"]["weight"] = weight
    props["metadata"] = {"labels": dict(labels)}
    return props


def compute_class(*nodepools: str, workload: str = "latency-critical") -> dict[str, Any]:
    return {"metadata": {"name": "inferstack-gpu-l4", "labels": {"inferstack.io/workload": workload}},
            "spec": {"priorities": [{"nodepools": [n]} for n in nodepools], "activeMigration": {"optimizeRulePriority": True}}}


LADDER = (Res(NODEPOOL, weighted(["reserved"], 100), name="gpu-l4-reserved"),
          Res(NODEPOOL, weighted(["on-demand"], 90), name="gpu-l4-on-demand"),
          Res(NODEPOOL, weighted(["spot"], 80), name="gpu-l4-spot"))
GKE = (Res(COMPUTE_CLASS, compute_class("gpu-l4-reserved", "gpu-l4-spot"), name="gpu-l4-class"),
       Res(GKE_POOL, {**gke_pool(pool="gpu-l4"), "name": "gpu-l4-reserved"}, name="gpu-l4-reserved"),
       Res(GKE_POOL, {**gke_pool(spot=True, pool="gpu-l4"), "name": "gpu-l4-spot"}, name="gpu-l4-spot"))

CASES = [
    Case("karpenter-lc-spot-heaviest", POLICY, LADDER, (0, "props", "spec", "template", "spec", "requirements", 0, "values"), ["spot"]),
    Case("karpenter-lc-spot-weight-tied", POLICY, LADDER, (2, "props", "spec", "weight"), 100, flagged=2),
    Case("karpenter-lc-spot-in-top-pool", POLICY, LADDER,  # Karpenter takes spot before on-demand inside one NodePool
         (0, "props", "spec", "template", "spec", "requirements", 0, "values"), ["on-demand", "spot"]),
    Case("gke-lc-spot-first-priority", POLICY, GKE, (0, "props", "spec", "priorities", 0, "nodepools"), ["gpu-l4-spot"]),
    Case("gke-lc-first-pool-made-spot", POLICY, GKE, (1, "props", "nodeConfig", "spot"), True, flagged=0),
    Case("gke-lc-priority-spot-field", POLICY, GKE, (0, "props", "spec", "priorities", 0, "spot"), True),
]


test_compliant_fixture_passes, test_one_field_change_violates = case_tests(CASES)


def test_batch_pools_and_other_environments_may_start_on_spot() -> None:
    batch = {**LC, "inferstack.io/workload": "batch"}
    spot_first = (Res(NODEPOOL, weighted(["spot"], 100, batch)), Res(NODEPOOL, weighted(["on-demand"], 90, batch)))
    assert _findings(spot_first, POLICY) == []
    lc_spot_first = (Res(NODEPOOL, weighted(["spot"], 100)), Res(NODEPOOL, weighted(["on-demand"], 90)))
    assert _findings(lc_spot_first, POLICY)
    assert _findings(lc_spot_first, POLICY, environment="staging") == []
    gke_batch = (Res(COMPUTE_CLASS, compute_class("gpu-l4-spot", workload="batch")), GKE[2])
    assert _findings(gke_batch, POLICY) == []
