"""The zone catalogue: every region the stacks, examples and accelerator catalogue use is in it, zone names are
real (europe-west1 has b/c/d), and its TPU zones agree with the accelerator catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from inferstack.catalog import accelerators, zones
from inferstack.catalog.clouds import Cloud
from tests.conftest import REPO

CLOUD_OF_KEY = {"aws:region": Cloud.AWS, "gcp:region": Cloud.GCP}


def _stack_files() -> list[Path]:
    return sorted((REPO / "stacks").glob("Pulumi.*.yaml")) + sorted((REPO / "examples").glob("*/Pulumi.*.yaml"))


def test_every_region_the_stacks_and_examples_allow_is_catalogued() -> None:
    seen = set()
    for path in _stack_files():
        config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
        cloud = next((c for key, c in CLOUD_OF_KEY.items() if key in config), None)
        if cloud is None:
            continue
        regions = {config[next(k for k, c in CLOUD_OF_KEY.items() if c is cloud)]}
        regions |= set((config.get("inferstack:residency") or {}).get("allowedRegions") or [])
        for region in regions:
            if region == "required":  # an example's placeholder (Pulumi.yaml-style), not a region
                continue
            assert (cloud, region) in zones.REGIONS, f"{path.name}: {region} missing from inferstack/catalog/zones.py"
            seen.add(region)
    assert {"eu-west-1", "eu-central-1", "europe-west4", "europe-west1"} <= seen


def test_every_gcp_region_of_the_accelerator_catalogue_is_catalogued() -> None:
    for acc in accelerators.CATALOG.values():
        for region in acc.gcp_regions:
            zones.region_zones(Cloud.GCP, region)


def test_tpu_zones_agree_with_the_accelerator_catalogue() -> None:
    for acc in accelerators.CATALOG.values():
        for region, tpu_zones in acc.gcp_zones.items():
            assert zones.region_zones(Cloud.GCP, region).offering(acc.kind) == tpu_zones, acc.kind


def test_zone_names_come_from_the_catalogue_not_letters() -> None:
    assert zones.zones_for(Cloud.GCP, "europe-west1", 3) == ["europe-west1-b", "europe-west1-c", "europe-west1-d"]
    assert zones.zones_for(Cloud.GCP, "europe-west4", 2) == ["europe-west4-a", "europe-west4-b"]
    assert zones.zones_for(Cloud.AWS, "eu-west-1", 3) == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    with pytest.raises(ValueError, match="europe-west1 has 3 zones"):
        zones.zones_for(Cloud.GCP, "europe-west1", 4)
    # A region launched after the catalogue: the message names the key that lists its zones.
    with pytest.raises(KeyError, match=r"not in the zone catalogue .* inferstack:network\.zones, e\.g\. \[us-south9-a, us-south9-b\]"):
        zones.region_zones(Cloud.GCP, "us-south9")
    assert zones.zones_for(Cloud.GCP, "us-south9", 2, ["us-south9-b", "us-south9-c"]) == ["us-south9-b", "us-south9-c"]


def test_every_entry_is_well_formed_and_sourced() -> None:
    for (cloud, region), entry in zones.REGIONS.items():
        assert entry.cloud is cloud and entry.region == region
        assert entry.source and "checked" in entry.source and entry.checked <= zones.CHECKED
        assert len(entry.zones) >= 2 and len(set(entry.zones)) == len(entry.zones)
        sep = "" if cloud is Cloud.AWS else "-"
        assert all(z.startswith(f"{region}{sep}") and len(z) == len(region) + len(sep) + 1 for z in entry.zones), region
        assert set(entry.restricted) <= set(entry.zones)
        if cloud is Cloud.AWS:
            # zone ids carry the region's prefix (euw1-az1), one per zone name
            prefixes = {i.rsplit("-az", 1)[0] for i in entry.zone_ids}
            assert len(prefixes) == 1 and len(entry.zone_ids) >= len(entry.zones) - len(entry.restricted), region
        for kind, offered in entry.offerings.items():
            assert kind in accelerators.CATALOG and set(offered) <= set(entry.zones), (region, kind)


def test_every_region_of_both_clouds_is_catalogued() -> None:
    import botocore.session

    endpoints = botocore.session.get_session().get_data("endpoints")
    (aws,) = [p for p in endpoints["partitions"] if p["partition"] == "aws"]
    assert set(zones.regions_of(Cloud.AWS)) == set(aws["regions"]), "regenerate with scripts/gen_catalog.py"
    assert len(zones.regions_of(Cloud.GCP)) >= 40


def test_zones_that_newer_accounts_lack_are_never_defaults() -> None:
    # ap-northeast-1b is closed to newer accounts: a Tokyo stack gets a, c, d
    assert zones.zones_for(Cloud.AWS, "ap-northeast-1", 3) == ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"]
    assert "us-east-1e" not in zones.zones_for(Cloud.AWS, "us-east-1", 3)
    # uniform mapping: the i-th name is the i-th zone id in every account (eu-west-2a is euw2-az2)
    london = zones.region_zones(Cloud.AWS, "eu-west-2")
    assert london.uniform_mapping and dict(zip(london.zones, london.zone_ids, strict=False))["eu-west-2a"] == "euw2-az2"


def test_zones_offering_restricts_only_known_offerings() -> None:
    assert zones.zones_offering(Cloud.GCP, "europe-west4", "tpu-v6e") == ["europe-west4-a"]
    assert zones.zones_offering(Cloud.GCP, "europe-west4", "tpu-v5e", ["europe-west4-a", "europe-west4-c"]) == ["europe-west4-a"]
    # AWS: EC2 offerings per zone are per account and not catalogued: every zone of the region
    assert zones.zones_offering(Cloud.AWS, "eu-central-1", "nvidia-l4") == ["eu-central-1a", "eu-central-1b", "eu-central-1c"]
