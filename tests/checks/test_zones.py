"""Config checks of zones and capacity ladders: catalogued regions and zone counts, pools in zones offering their
kind, reservation zones (region, residency, offering), flex-start on GKE only, Capacity Blocks with a later rung."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from inferstack.catalog import zones as zones_catalogue
from inferstack.config import ConfigError
from inferstack.engine import run_stack
from inferstack.load import load_stack
from tests.sizing.test_capacity_planner import gcp_config as _gcp_config

AWS: dict[str, Any] = {
    "aws:region": "eu-west-1",
    "inferstack:cloud": "aws",
    "inferstack:environment": "dev",
    "inferstack:residency": {"allowedRegions": ["eu-west-1", "eu-central-1"]},
}
CR = "cr-0a1b2c3d4e5f60718"


def gcp_config(pools: list[dict[str, Any]], models: list[dict[str, Any]]) -> dict[str, Any]:
    """The planner tests' GCP config with a project id GCP accepts (gcp:project is checked against its rule)."""
    return {**_gcp_config(pools, models), "gcp:project": "acme-ml"}


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


NEW_REGION = {"aws:region": "ap-south-9", "inferstack:residency": {"allowedRegions": ["ap-south-9"]}}


def test_region_outside_the_catalogue_without_zones_is_refused_naming_the_key() -> None:
    # A region launched after the catalogue: refused only until its zones are listed, and the message says where.
    (issue,) = issues(aws([], **NEW_REGION))
    assert issue == (
        "inferstack:network.zones: region ap-south-9 is not in the zone catalogue (inferstack/catalog/zones.py, checked "
        f"{zones_catalogue.CHECKED}): set inferstack:network.zones to 2 of its zones, e.g. [ap-south-9a, ap-south-9b]"
    )


def test_region_outside_the_catalogue_with_listed_zones_is_accepted_with_a_warning() -> None:
    pools = [{"name": "gpu", "kind": "nvidia-l4", "maxNodes": 2}]
    cfg = load_stack("t", aws(pools, **NEW_REGION, **{"inferstack:network": {"zones": ["ap-south-9a", "ap-south-9c"], "natGateways": 1}}))
    assert cfg.settings.network.availability_zones == 2
    assert [str(w) for w in cfg.warnings] == [
        f"aws:region: region ap-south-9 is not in the zone catalogue (checked {zones_catalogue.CHECKED}): using network.zones as "
        "listed (ap-south-9a, ap-south-9c); which zones offer each accelerator is not checked"
    ]


@pytest.mark.parametrize(
    ("region", "listed", "message"),
    [
        ("ap-south-9", ["ap-south-9a", "ap-south-1b"], "ap-south-1b: not a zone of ap-south-9; its zones are named like ap-south-9a, ap-south-9b"),
        ("ap-south-9", ["ap-south-9a", "ap-south-9ab"], "ap-south-9ab: not a zone of ap-south-9; its zones are named like ap-south-9a, ap-south-9b"),
        ("eu-west-1", ["eu-west-1a", "eu-west-1z"], "eu-west-1z: not a zone of eu-west-1; its zones: eu-west-1a, eu-west-1b, eu-west-1c"),
    ],
)
def test_listed_zones_must_be_zones_of_the_region(region: str, listed: list[str], message: str) -> None:
    extra = {"aws:region": region, "inferstack:residency": {"allowedRegions": [region]}, "inferstack:network": {"zones": listed}}
    assert issues(aws([], **extra)) == [f"inferstack:network.zones: {message}"]


@pytest.mark.parametrize(
    ("network", "message"),
    [
        ({"zones": ["eu-west-1a", "eu-west-1a"]}, "zones must be distinct; listed more than once: eu-west-1a"),
        ({"zones": ["eu-west-1a\n", "eu-west-1b"]}, "'eu-west-1a\\n' is not a zone name"),
        ({"zones": ["eu-west-1a", "eu-west-1b"], "availabilityZones": 3}, "availabilityZones is 3 but zones lists 2"),
    ],
)
def test_bad_zone_lists_are_refused(network: dict[str, Any], message: str) -> None:
    (issue,) = issues(aws([], **{"inferstack:network": network}))
    assert issue.startswith("inferstack:network") and message in issue, issue


def test_listed_zones_place_the_network_and_the_pools() -> None:
    from inferstack.checks.zones import network_zones, pool_zones

    pools = [{"name": "gpu", "kind": "nvidia-l4", "maxNodes": 2}]
    cfg = load_stack("t", aws(pools, **{"inferstack:network": {"zones": ["eu-west-1c", "eu-west-1b"]}}))
    assert network_zones(cfg) == ["eu-west-1c", "eu-west-1b"]
    assert pool_zones(cfg, cfg.settings.accelerator_pools[0]) == ["eu-west-1c", "eu-west-1b"]


def test_more_zones_than_the_region_has_is_refused_with_its_zones(monkeypatch: pytest.MonkeyPatch) -> None:
    # availabilityZones is at most 3 and every catalogued region has 3 or more: a two-zone region stands in
    from inferstack.catalog import zones

    two = zones.RegionZones(zones.Cloud.AWS, "eu-west-1", ("eu-west-1a", "eu-west-1b"), source="test", checked="2026-12-01")
    monkeypatch.setattr(zones, "REGIONS", {**zones.REGIONS, (zones.Cloud.AWS, "eu-west-1"): two})
    found = issues(aws([], **{"inferstack:network": {"availabilityZones": 3, "natGateways": 1}}))
    assert found == [
        "inferstack:network.availabilityZones: eu-west-1 has 2 zones open to every account (eu-west-1a, eu-west-1b); set "
        "availabilityZones to at most 2, or list the zones your account has in network.zones"
    ]


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
    pools = [ladder_pool([{"tier": "reserved", "maxNodes": 1, "reservations": [{"id": "v5e", "zone": "europe-west4-c"}]},
                          {"tier": "on-demand", "maxNodes": 1}], kind="tpu-v5e", max_nodes=1)]
    found = issues(gcp_config(pools, []))
    assert any("cannot use europe-west4-c: its nodes run in europe-west4-a, europe-west4-b" in i for i in found), found


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


def test_an_aws_kind_no_source_shows_in_the_region_is_a_warning() -> None:
    # EC2 G6 (L4) has no offering or price in eu-west-1 in any source of the catalogue; Frankfurt has it
    pools = [{"name": "gpu", "kind": "nvidia-l4", "maxNodes": 2}]
    ireland = load_stack("t", aws(pools, **{"aws:region": "eu-west-1", "inferstack:residency": {"allowedRegions": ["eu-west-1"]}}))
    (warning,) = [str(w) for w in ireland.warnings]
    assert warning.startswith(
        "inferstack:acceleratorPools[0].kind: no source of the catalogue shows g6.xlarge, g6.2xlarge, g6.12xlarge in "
        "eu-west-1: EC2 may not offer nvidia-l4 there (check: aws ec2 describe-instance-type-offerings --region eu-west-1)"
    ), warning
    frankfurt = load_stack("t", aws(pools, **{"aws:region": "eu-central-1", "inferstack:residency": {"allowedRegions": ["eu-central-1"]}}))
    assert frankfurt.warnings == ()


def test_a_gcp_region_outside_the_catalogue_takes_its_listed_zones() -> None:
    config = gcp_config([{"name": "gpu", "kind": "nvidia-l4", "maxNodes": 2}], [])
    config.update({"gcp:region": "me-west9", "inferstack:residency": {"allowedRegions": ["me-west9"]},
                   "inferstack:network": {"zones": ["me-west9-a", "me-west9-b"]}})
    cfg = load_stack("t", config)
    assert cfg.settings.network.zones == ["me-west9-a", "me-west9-b"] and len(cfg.warnings) == 2
    rec = run_stack(cfg)
    (cluster,) = rec.by_type("gcp:container/cluster:Cluster")
    assert cluster.inputs["nodeLocations"] == ["me-west9-a", "me-west9-b"]
