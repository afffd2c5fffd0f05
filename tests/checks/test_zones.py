"""Config checks of zones and capacity ladders: catalogued regions and zone counts, pools in zones offering their
kind, reservation zones (region, residency, offering), flex-start on GKE only, Capacity Blocks with a later rung."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from inferstack.config import ConfigError
from inferstack.load import load_stack
from tests.sizing.test_capacity_planner import gcp_config

AWS: dict[str, Any] = {
    "aws:region": "eu-west-1",
    "inferstack:cloud": "aws",
    "inferstack:environment": "dev",
    "inferstack:residency": {"allowedRegions": ["eu-west-1", "eu-central-1"]},
}
CR = "cr-0a1b2c3d4e5f60718"


def aws(pools: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {**copy.deepcopy(AWS), "inferstack:acceleratorPools": pools, **extra}


def ladder_pool(ladder: list[dict[str, Any]], kind: str = "nvidia-l4", max_nodes: int = 6) -> dict[str, Any]:
    return {"name": "gpu", "kind": kind, "maxNodes": max_nodes, "ladder": ladder}


def issues(config: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_stack("t", config)
    return [str(i) for i in err.value.issues]


def test_reference_ladders_are_valid() -> None:
    load_stack("t", aws([ladder_pool([{"tier": "reserved", "maxNodes": 2, "reservations": [{"id": CR, "zone": "eu-west-1a"}]},
                                      {"tier": "spot", "maxNodes": 4}])]))


def test_region_outside_the_catalogue_is_refused_with_the_catalogued_regions() -> None:
    config = aws([], **{"aws:region": "ap-south-1", "inferstack:residency": {"allowedRegions": ["ap-south-1"]}})
    (issue,) = issues(config)
    assert issue.startswith("aws:region:") and "eu-central-1, eu-west-1, us-east-1" in issue


def test_more_zones_than_the_region_has_is_refused_with_its_zones(monkeypatch: pytest.MonkeyPatch) -> None:
    # availabilityZones is at most 3 and every catalogued region has 3 or more: a two-zone region stands in
    from inferstack.catalog import zones

    two = zones.RegionZones(zones.Cloud.AWS, "eu-west-1", ("eu-west-1a", "eu-west-1b"), source="test", checked="2026-12-01")
    monkeypatch.setattr(zones, "REGIONS", {**zones.REGIONS, (zones.Cloud.AWS, "eu-west-1"): two})
    found = issues(aws([], **{"inferstack:network": {"availabilityZones": 3, "natGateways": 1}}))
    assert found == ["inferstack:network.availabilityZones: eu-west-1 has 2 zones (eu-west-1a, eu-west-1b); set availabilityZones to at most 2"]


def test_flex_start_is_gke_only() -> None:
    found = issues(aws([ladder_pool([{"tier": "spot", "maxNodes": 3}, {"tier": "flex-start", "maxNodes": 2}])]))
    assert any(i.startswith("inferstack:acceleratorPools[0].ladder[1].tier: flex-start is a GKE capacity tier") for i in found), found
    pools = [ladder_pool([{"tier": "spot", "maxNodes": 3}, {"tier": "flex-start", "maxNodes": 2}, {"tier": "on-demand", "maxNodes": 2}],
                         kind="tpu-v5e", max_nodes=4)]
    load_stack("t", gcp_config(pools, []))


@pytest.mark.parametrize(
    ("reservation", "message"),
    [
        ({"id": CR, "zone": "eu-central-1a"}, "eu-central-1a is not a zone of the stack's region eu-west-1; its zones: eu-west-1a, eu-west-1b, eu-west-1c"),
        ({"id": CR, "zone": "eu-west-1c"}, "cannot use eu-west-1c: its nodes run in eu-west-1a, eu-west-1b"),
        ({"id": "l4-reservation", "zone": "eu-west-1a"}, "is not an EC2 capacity reservation id"),
        ({"id": CR, "zone": "us-east-1a"}, "us-east-1a is not a zone of the stack's region eu-west-1"),
    ],
)
def test_reservation_zones_must_be_usable(reservation: dict[str, Any], message: str) -> None:
    found = issues(aws([ladder_pool([{"tier": "reserved", "maxNodes": 2, "reservations": [reservation]}, {"tier": "on-demand", "maxNodes": 2}])]))
    assert any(i.startswith("inferstack:acceleratorPools[0].ladder[0].reservations[0].") and message in i for i in found), found


def test_reservation_zone_outside_residency_is_refused() -> None:
    config = aws([ladder_pool([{"tier": "reserved", "maxNodes": 2, "reservations": [{"id": CR, "zone": "eu-west-1a"}]}])])
    config["inferstack:residency"] = {"allowedRegions": ["eu-west-1"]}
    load_stack("t", config)
    # a GKE reservation in a TPU zone that does not offer the pool's kind is refused with the zones that would
    pools = [ladder_pool([{"tier": "reserved", "maxNodes": 1, "reservations": [{"id": "v5e", "zone": "europe-west4-a"}]},
                          {"tier": "on-demand", "maxNodes": 1}], kind="tpu-v5e", max_nodes=1)]
    found = issues(gcp_config(pools, []))
    assert any("cannot use europe-west4-a: its nodes run in europe-west4-b" in i for i in found), found


def test_capacity_block_needs_a_later_rung_and_is_aws_only() -> None:
    block = {"id": CR, "zone": "eu-west-1a", "capacityBlock": True, "endsAt": "2027-01-15T11:30:00Z"}
    found = issues(aws([ladder_pool([{"tier": "reserved", "maxNodes": 2, "reservations": [block]}])]))
    assert any("inferstack:acceleratorPools[0].ladder[0].reservations: a Capacity Block ends" in i for i in found), found
    load_stack("t", aws([ladder_pool([{"tier": "reserved", "maxNodes": 2, "reservations": [block]}, {"tier": "on-demand", "maxNodes": 2}])]))
    gke = [ladder_pool([{"tier": "reserved", "maxNodes": 1, "reservations": [{**block, "id": "l4", "zone": "europe-west4-b"}]},
                        {"tier": "on-demand", "maxNodes": 2}])]
    found = issues(gcp_config(gke, []))
    assert any("reservations[0].capacityBlock: Capacity Blocks are AWS reservations" in i for i in found), found


def test_gpu_pool_zones_follow_the_catalogue_on_europe_west1() -> None:
    from inferstack.checks.zones import pool_zones

    config = gcp_config([{"name": "gpu", "kind": "nvidia-l4", "maxNodes": 2}], [])
    config["gcp:region"] = "europe-west1"
    config["inferstack:residency"] = {"allowedRegions": ["europe-west1"]}
    cfg = load_stack("t", config)
    assert pool_zones(cfg, cfg.settings.accelerator_pools[0]) == ["europe-west1-b", "europe-west1-c"]


def test_multi_host_slice_rungs_hold_whole_slices() -> None:
    pools = [{"name": "slice", "kind": "tpu-v5e", "tpuTopology": "4x4", "maxNodes": 4,
              "ladder": [{"tier": "spot", "maxNodes": 2}, {"tier": "on-demand", "maxNodes": 4}]}]
    found = issues(gcp_config(pools, []))
    assert found == ["inferstack:acceleratorPools[0].ladder[0].maxNodes: a multi-host slice scales as a whole: each rung's maxNodes must be 4, got 2"]
    pools[0]["ladder"][0]["maxNodes"] = 4
    load_stack("t", gcp_config(pools, []))
