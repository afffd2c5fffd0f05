"""One capacity plan: Karpenter NodePools (AWS), GKE node pools and the cost estimate agree for every capacity mode.

Each side is built from ``inferstack.sizing.plan_pool`` / ``capacity_tiers``; these tests fail if one of them
drifts back to a rule of its own (as AWS, GKE and the estimate once disagreed on a spot-only pool with a baseline).
"""

from __future__ import annotations

import itertools

import pytest

from inferstack import sizing
from inferstack.components.aws.node_pools import plan_pool as aws_plan
from inferstack.components.gcp.node_pools import node_pool_plans as gke_pools
from inferstack.config.base import Cloud
from inferstack.config.platform import AcceleratorPoolConfig, Capacity

CASES = list(itertools.product(list(Capacity), (0, 1, 3), (0, 2), (1, 4)))


def _pool(capacity: Capacity, baseline: int, min_nodes: int, max_nodes: int) -> AcceleratorPoolConfig:
    return AcceleratorPoolConfig(name="gpu", kind="nvidia-l4", capacity=capacity, on_demand_baseline=baseline,
                                 min_nodes=min_nodes, max_nodes=max_nodes)


@pytest.mark.parametrize(("capacity", "baseline", "min_nodes", "max_nodes"), CASES)
def test_aws_gke_and_cost_read_the_same_tiers(capacity: Capacity, baseline: int, min_nodes: int, max_nodes: int) -> None:
    pool = _pool(capacity, baseline, min_nodes, max_nodes)
    plan = sizing.plan_pool(Cloud.AWS, pool)
    nodepools = aws_plan(pool).node_pools
    gke = {np.suffix: np for np in gke_pools(pool)}

    # Never more than maxNodes in the tiers, on AWS's NodePool limits, nor in GKE's guaranteed + spot nodes.
    assert sum(t.max_nodes for t in plan.tiers) == max_nodes
    assert sum(limit for _, _, limit, _ in nodepools) == max_nodes

    # Spot: the same nodes may be spot on AWS, on GKE and in the estimate.
    aws_spot = sum(limit for _, types, limit, _ in nodepools if "spot" in types)
    gke_spot = gke["spot"].max_nodes if "spot" in gke else 0
    est_spot = plan.split(max_nodes, spot_share=1.0)[1]
    assert aws_spot == gke_spot == est_spot == (plan.spot_range() or (0, 0))[1]

    # On-demand only: the baseline NodePool on AWS, the on-demand pool's minimum on GKE, the estimate's floor.
    aws_on_demand_only = sum(limit for _, types, limit, _ in nodepools if types == ("on-demand",))
    gke_on_demand_min = gke["on-demand"].min_nodes if "on-demand" in gke else 0
    est_on_demand_floor = plan.split(max_nodes, spot_share=1.0)[0]
    if capacity is Capacity.ON_DEMAND:
        assert aws_on_demand_only == est_on_demand_floor == max_nodes
        assert gke_on_demand_min == min(max_nodes, max(min_nodes, baseline))
    else:
        assert aws_on_demand_only == gke_on_demand_min == est_on_demand_floor == plan.baseline == min(baseline, max_nodes)

    # Fallback to on-demand exists on every side or on none.
    aws_fallback = any(types == ("spot", "on-demand") for _, types, _, _ in nodepools)
    gke_fallback = "on-demand" in gke and gke["on-demand"].max_nodes > gke_on_demand_min
    est_fallback = plan.split(max_nodes, spot_share=0.0)[0] > est_on_demand_floor
    assert aws_fallback == est_fallback == (capacity is Capacity.SPOT_FIRST and max_nodes > min(baseline, max_nodes))
    if capacity is not Capacity.ON_DEMAND:
        assert gke_fallback == aws_fallback


def test_spot_only_with_a_baseline_keeps_the_baseline_on_demand_everywhere() -> None:
    pool = _pool(Capacity.SPOT_ONLY, 1, 0, 4)
    assert [(t.name, t.purchase, t.max_nodes) for t in sizing.capacity_tiers(pool)] == [
        ("baseline", ("on-demand",), 1), ("spot-only", ("spot",), 3)]
    assert aws_plan(pool).node_pools == (("gpu-on-demand-baseline", ("on-demand",), 1, 50), ("gpu", ("spot",), 3, None))
    assert [(p.suffix, p.min_nodes, p.max_nodes) for p in gke_pools(pool)] == [("spot", 0, 3), ("on-demand", 1, 1)]
    assert sizing.plan_pool(Cloud.GCP, pool).split(4, 0.8) == (1, 3)
