"""The capacity ladder in the one capacity plan: tiers in ladder order, ranges, node-hours per tier and purchase."""

from __future__ import annotations

from typing import Any

import pytest

from inferstack import sizing
from inferstack.config.base import Cloud
from inferstack.config.platform import AcceleratorPoolConfig

CR = {"id": "cr-0a1b2c3d4e5f60718", "zone": "eu-west-1a"}
BLOCK = {"id": "cr-0123456789abcdef0", "zone": "eu-west-1b", "capacityBlock": True, "endsAt": "2027-01-15T11:30:00Z"}

#: Every ladder shape the issue names, with the tiers (name, purchase, min, max) the plan must give.
SHAPES: dict[str, tuple[list[dict[str, Any]], int, list[tuple[str, tuple[str, ...], int, int]]]] = {
    "reserved-only": ([{"tier": "reserved", "minNodes": 2, "maxNodes": 2, "reservations": [CR]}], 2,
                      [("reserved", ("reserved",), 2, 2)]),
    "reserved-on-demand-spot": (
        [{"tier": "reserved", "minNodes": 2, "maxNodes": 2, "reservations": [CR]}, {"tier": "on-demand", "maxNodes": 6},
         {"tier": "spot", "maxNodes": 4}], 12,
        [("reserved", ("reserved",), 2, 2), ("on-demand", ("on-demand",), 0, 6), ("spot", ("spot",), 0, 4)]),
    "spot-on-demand": ([{"tier": "spot", "maxNodes": 5}, {"tier": "on-demand", "minNodes": 1, "maxNodes": 6}], 6,
                       [("spot", ("spot",), 0, 5), ("on-demand", ("on-demand",), 1, 6)]),
    "spot-flex-on-demand": (
        [{"tier": "spot", "maxNodes": 3}, {"tier": "flex-start", "maxNodes": 2}, {"tier": "on-demand", "minNodes": 1, "maxNodes": 2}], 4,
        [("spot", ("spot",), 0, 3), ("flex-start", ("flex-start",), 0, 2), ("on-demand", ("on-demand",), 1, 2)]),
    "on-demand-only": ([{"tier": "on-demand", "minNodes": 1, "maxNodes": 3}], 3, [("on-demand", ("on-demand",), 1, 3)]),
    "capacity-block": ([{"tier": "reserved", "maxNodes": 2, "reservations": [BLOCK]}, {"tier": "on-demand", "maxNodes": 4}], 4,
                       [("reserved", ("reserved",), 0, 2), ("on-demand", ("on-demand",), 0, 4)]),
}


def ladder_pool(ladder: list[dict[str, Any]], max_nodes: int, **kw: Any) -> AcceleratorPoolConfig:
    return AcceleratorPoolConfig.model_validate({"name": "gpu", "kind": "nvidia-l4", "maxNodes": max_nodes, "ladder": ladder, **kw})


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_the_ladder_is_the_plans_tiers_in_ladder_order(shape: str) -> None:
    ladder, max_nodes, expected = SHAPES[shape]
    plan = sizing.plan_pool(Cloud.AWS, ladder_pool(ladder, max_nodes))
    assert plan.ladder
    assert [(t.name, t.purchase, t.min_nodes, t.max_nodes) for t in plan.tiers] == expected
    assert all(not t.fallback for t in plan.tiers)  # a ladder's fallback is its next rung, never inside a tier
    reserved = [t for t in plan.tiers if t.purchase == ("reserved",)]
    assert [r.id for t in reserved for r in t.reservations] == [r["id"] for rung in ladder for r in rung.get("reservations", [])]


def test_tier_caps_are_clipped_to_the_pool_max() -> None:
    plan = sizing.plan_pool(Cloud.AWS, ladder_pool([{"tier": "spot", "maxNodes": 9}, {"tier": "on-demand", "maxNodes": 9}], 4))
    assert [t.max_nodes for t in plan.tiers] == [4, 4]


def test_ranges_per_purchase() -> None:
    plan = sizing.plan_pool(Cloud.AWS, ladder_pool(*SHAPES["reserved-on-demand-spot"][:2]))
    assert plan.range_of("reserved") == (2, 2)
    assert plan.on_demand_range() == (0, 6)
    assert plan.spot_range() == (0, 4)
    assert plan.range_of("flex-start") is None
    assert plan.baseline == 2  # reserved minimum: always running
    flex = sizing.plan_pool(Cloud.GCP, ladder_pool(*SHAPES["spot-flex-on-demand"][:2], kind="tpu-v5e"))
    assert flex.range_of("flex-start") == (0, 2) and flex.baseline == 1


def test_node_hours_fill_minimums_then_ladder_order() -> None:
    plan = sizing.plan_pool(Cloud.AWS, ladder_pool(*SHAPES["reserved-on-demand-spot"][:2]))
    assert plan.nodes_by_tier(1.5) == {"reserved": 1.5, "on-demand": 0.0, "spot": 0.0}
    assert plan.nodes_by_tier(5) == {"reserved": 2.0, "on-demand": 3.0, "spot": 0.0}
    assert plan.nodes_by_tier(10) == {"reserved": 2.0, "on-demand": 6.0, "spot": 2.0}
    # spot first with an always-on on-demand node: the minimum runs first, then spot takes the rest
    batch = sizing.plan_pool(Cloud.AWS, ladder_pool(*SHAPES["spot-on-demand"][:2]))
    assert batch.nodes_by_tier(3) == {"spot": 2.0, "on-demand": 1.0}
    assert batch.nodes_by_tier(6) == {"spot": 5.0, "on-demand": 1.0}
    # the spot rung gets spot for spot_share of its node-hours; the rest falls to the next rung (on-demand)
    by = batch.nodes_by_purchase(3, spot_share=0.7)
    assert by == pytest.approx({"reserved": 0.0, "on-demand": 1.0 + 0.6, "flex-start": 0.0, "spot": 1.4})
    assert batch.split(3, 0.7) == pytest.approx((1.6, 1.4))
    # a spot rung with no later rung stays spot (nothing to fall back to)
    spot_only = sizing.plan_pool(Cloud.AWS, AcceleratorPoolConfig.model_validate(
        {"name": "gpu", "kind": "nvidia-l4", "maxNodes": 4, "ladder": [{"tier": "spot", "maxNodes": 4}]}
    ))
    assert spot_only.nodes_by_purchase(3, 0.7)["spot"] == 3.0
    for avg in (0, 0.5, 2.2, 7.9, 20):
        assert sum(plan.nodes_by_tier(avg).values()) == pytest.approx(avg)


def test_flex_start_and_reserved_count_on_the_non_spot_side_of_split() -> None:
    plan = sizing.plan_pool(Cloud.GCP, ladder_pool(*SHAPES["spot-flex-on-demand"][:2], kind="tpu-v5e"))
    # spot rung: 3 nodes, 70% obtained as spot, the rest falls to the next non-spot rung (flex-start)
    by = plan.nodes_by_purchase(4.0, spot_share=0.7)
    assert by == pytest.approx({"reserved": 0.0, "on-demand": 1.0, "flex-start": 0.9, "spot": 2.1})
    assert plan.nodes_by_purchase(6.0, 0.7)["flex-start"] == pytest.approx(2.0 + 0.9)
    non_spot, spot = plan.split(6.0, 0.7)
    assert (non_spot, spot) == pytest.approx((3.9, 2.1))


@pytest.mark.parametrize(
    "kw",
    [{"maxNodes": 4}, {"maxNodes": 6, "onDemandBaseline": 2, "minNodes": 3}, {"capacity": "on-demand", "maxNodes": 3},
     {"capacity": "spot-only", "maxNodes": 3, "onDemandBaseline": 1}],
)
def test_pools_without_a_ladder_keep_their_tiers_and_split(kw: dict[str, Any]) -> None:
    pool = AcceleratorPoolConfig.model_validate({"name": "gpu", "kind": "nvidia-l4", **kw})
    plan = sizing.plan_pool(Cloud.AWS, pool)
    assert not plan.ladder
    assert plan.tiers == sizing.capacity_tiers(pool)
    names = {t.name for t in plan.tiers}
    assert names <= {"baseline", "on-demand", "spot-first", "spot-only"}
    # split is (on-demand, spot) as before ladders: a spot-first tier shares its nodes by spot_share
    od, spot = plan.split(4.0, 0.7)
    by = plan.nodes_by_purchase(4.0, 0.7)
    assert (od, spot) == (by["on-demand"], by["spot"]) and by["reserved"] == by["flex-start"] == 0.0
    assert od + spot == pytest.approx(4.0)
