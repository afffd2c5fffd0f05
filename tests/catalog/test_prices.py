"""The price catalog: every figure sane and sourced, every reference stack's node types priced, overrides win."""

from __future__ import annotations

import pytest

from inferstack import sizing
from inferstack.catalog import accelerators
from inferstack.catalog.prices import NODE_PRICES, PLATFORM_PRICES, PriceNotFound, node_price, platform_prices
from inferstack.config import Cloud
from inferstack.cost.estimate import DEFAULT_SYSTEM_NODE_TYPE
from tests.conftest import REFERENCE_STACKS, stack_config


@pytest.mark.parametrize("price", list(NODE_PRICES.values()), ids=lambda p: f"{p.region}/{p.node_type}")
def test_every_entry_is_sane_and_sourced(price) -> None:
    assert 0.01 < price.on_demand_hourly_usd < 200
    assert 0 <= price.spot_discount < 1
    assert price.source.startswith("https://")
    assert price.as_of and price.basis in ("list", "derived")
    assert price.basis == "list" or price.note, "derived figures say how they were derived"


def test_catalog_covers_every_accelerator_shape_in_the_stack_regions() -> None:
    for acc in accelerators.CATALOG.values():
        for shape in acc.shapes(Cloud.AWS):
            assert ("eu-west-1", shape.name) in NODE_PRICES, shape.name
        for shape in acc.shapes(Cloud.GCP):
            regions = {"europe-west4", "europe-west1"} & acc.gcp_regions
            for region in regions:
                assert (region, shape.name) in NODE_PRICES, (region, shape.name)
    for region in ("eu-west-1",):
        assert (region, DEFAULT_SYSTEM_NODE_TYPE[Cloud.AWS]) in NODE_PRICES
    for region in ("europe-west4", "europe-west1"):
        assert (region, DEFAULT_SYSTEM_NODE_TYPE[Cloud.GCP]) in NODE_PRICES


@pytest.mark.parametrize("name", REFERENCE_STACKS)
def test_every_reference_stack_node_type_has_a_price(name: str) -> None:
    cfg = stack_config(name)
    platform_prices(cfg.region)
    for pool in cfg.settings.accelerator_pools:
        placed = [m for _, m in sizing.models_on(cfg.settings.models, pool.name)]
        shape = sizing.pool_shape(cfg.cloud, pool, [sizing.replica_of(m) for m in placed])
        assert node_price(cfg.region, shape.name).on_demand_hourly_usd > 0


def test_platform_prices_are_sourced() -> None:
    for p in PLATFORM_PRICES.values():
        assert p.control_plane_hourly_usd == pytest.approx(0.10)
        assert p.storage_gb_month_usd > 0 and p.nat_per_gb_usd > 0
        assert all(s.startswith("https://") for s in (p.control_plane_source, p.nat_source, p.storage_source))


def test_overrides_replace_catalog_figures() -> None:
    base = node_price("eu-west-1", "g6.xlarge")
    neg = node_price("eu-west-1", "g6.xlarge", on_demand_override=0.5)
    assert neg.on_demand_hourly_usd == 0.5 and neg.spot_discount == base.spot_discount and neg.basis == "override"
    disc = node_price("eu-west-1", "g6.xlarge", discount_override=0.3)
    assert disc.on_demand_hourly_usd == base.on_demand_hourly_usd and disc.spot_hourly_usd == pytest.approx(base.on_demand_hourly_usd * 0.7)


def test_missing_price_names_the_key_to_set() -> None:
    with pytest.raises(PriceNotFound, match=r"set inferstack:pricing.onDemandHourlyUsd.g6.xlarge"):
        node_price("us-east-1", "g6.xlarge")
    assert node_price("us-east-1", "g6.xlarge", on_demand_override=0.8).on_demand_hourly_usd == 0.8
    with pytest.raises(PriceNotFound, match="us-east-1"):
        platform_prices("us-east-1")
