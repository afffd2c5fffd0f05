"""The reference stacks moved around the world: prod (AWS) and gcp-prod (GCP), each in six regions on at least three
continents, with the pools those regions offer. Every zone name the program declares exists in its region, and the
stack's cost is priced from the catalogue (or names exactly the price keys the catalogue lacks)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from inferstack.catalog import accelerators, zones_data
from inferstack.catalog.clouds import Cloud
from inferstack.catalog.zones import REGIONS
from inferstack.cost.estimate import monthly_totals
from inferstack.engine import run_stack
from inferstack.load import load_stack
from tests.fidelity.variations import stack_in_region

#: region -> continent; six per cloud, three or more continents each.
AWS_REGIONS = {"us-east-1": "North America", "us-west-2": "North America", "eu-central-1": "Europe",
               "ap-northeast-1": "Asia", "ap-south-1": "Asia", "ap-southeast-2": "Oceania"}
GCP_REGIONS = {"us-central1": "North America", "us-east1": "North America", "europe-west4": "Europe",
               "asia-southeast1": "Asia", "asia-northeast1": "Asia", "asia-south1": "Asia"}
ZONE = {Cloud.AWS: re.compile(r"^[a-z]{2}-[a-z]+-\d[a-z]$"), Cloud.GCP: re.compile(r"^[a-z]+-[a-z]+\d+-[a-z]$")}


def _offered(cloud: Cloud, kind: str, region: str) -> bool:
    acc = accelerators.CATALOG[kind]
    if cloud is Cloud.GCP:
        return region in acc.gcp_regions
    return any(region in zones_data.AWS_INSTANCE_REGIONS.get(s.name, ()) for s in acc.shapes(Cloud.AWS))


def moved(name: str, cloud: Cloud, region: str) -> tuple[str, dict[str, Any], frozenset[str]]:
    """Stack ``name`` moved to ``region`` with the pools of kinds the region offers."""
    return stack_in_region(name, f"{cloud.value}:region", region, lambda kind: _offered(cloud, kind, region))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return []


def test_six_regions_on_three_continents_per_cloud() -> None:
    assert len(AWS_REGIONS) == len(GCP_REGIONS) == 6
    assert len(set(AWS_REGIONS.values())) >= 3 and len(set(GCP_REGIONS.values())) >= 3


@pytest.mark.parametrize(
    ("name", "cloud", "region"),
    [("prod", Cloud.AWS, r) for r in AWS_REGIONS] + [("gcp-prod", Cloud.GCP, r) for r in GCP_REGIONS],
)
def test_reference_stack_in_another_region_uses_real_zones_and_is_priced(name: str, cloud: Cloud, region: str) -> None:
    stack, config, secrets = moved(name, cloud, region)
    cfg = load_stack(stack, config, secret_keys=secrets)
    assert not cfg.warnings, cfg.warnings  # a catalogued region: nothing taken on trust
    rec = run_stack(cfg)
    used = {s for r in rec.resources for s in _strings(r.plain_inputs) if ZONE[cloud].match(s)}
    assert len(used) >= 2, used
    assert used <= set(REGIONS[(cloud, region)].zones), used - set(REGIONS[(cloud, region)].zones)
    totals = monthly_totals(cfg)
    assert not isinstance(totals, str), totals
    assert totals[0] > 0 and totals[1] >= totals[0]
