"""The price catalog: every figure sane and sourced, every reference stack's node types priced, overrides win."""

from __future__ import annotations

import pytest

from inferstack import sizing
from inferstack.catalog import accelerators, prices_data, zones_data
from inferstack.catalog.prices import (
    AS_OF,
    NODE_PRICES,
    PLATFORM_PRICES,
    PriceNotFound,
    node_price,
    platform_prices,
)
from inferstack.catalog.prices_data import GCP_PRICE_GAPS, PRICE_SOURCES
from inferstack.config import Cloud
from inferstack.cost.estimate import DEFAULT_SYSTEM_NODE_TYPE
from tests.conftest import REFERENCE_STACKS, stack_config


@pytest.mark.parametrize("price", list(NODE_PRICES.values()), ids=lambda p: f"{p.region}/{p.node_type}")
def test_every_entry_is_sane_and_sourced(price) -> None:
    assert 0.01 < price.on_demand_hourly_usd < 200
    assert 0 <= price.spot_discount < 1
    # the generated snapshot's source (repository, path and commit or URL, and the date checked) is named
    assert any(price.source.startswith(src) for src in PRICE_SOURCES.values()), price.source
    assert price.as_of == AS_OF and price.basis in ("list", "derived")
    assert price.basis == "list" or price.note, "derived figures say how they were derived"


def test_catalog_covers_every_accelerator_shape() -> None:
    # AWS: every shape in us-east-1 (the complete snapshot); GCP: every shape in every region the machine type is
    # offered and priced by the snapshot, or listed as a gap.
    for acc in accelerators.CATALOG.values():
        for shape in acc.shapes(Cloud.AWS):
            assert ("us-east-1", shape.name) in NODE_PRICES, shape.name
        for shape in acc.shapes(Cloud.GCP):
            priced = {r for r, t in NODE_PRICES if t == shape.name}
            gaps = {g.split(" in ", 1)[1].split(":")[0] for g in GCP_PRICE_GAPS if g.startswith(f"{shape.name} ")}
            assert priced | gaps, shape.name
            assert not priced & gaps, shape.name
    for region in zones_data.AWS_REGIONS:
        if region in prices_data.AWS_ON_DEMAND:
            assert (region, DEFAULT_SYSTEM_NODE_TYPE[Cloud.AWS]) in NODE_PRICES or DEFAULT_SYSTEM_NODE_TYPE[Cloud.AWS] in {
                t for t, regions in prices_data.AWS_PRICE_GAPS.items() if region in regions
            }


def test_every_catalogued_region_has_platform_prices() -> None:
    assert set(PLATFORM_PRICES) == set(zones_data.AWS_REGIONS) | set(zones_data.GCP_REGIONS)


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
        assert all(any(s.startswith(src) for src in PRICE_SOURCES.values()) for s in (p.control_plane_source, p.nat_source, p.storage_source))
        assert p.basis == "list" or "derived" in p.nat_source, "derived figures say how they were derived"


def test_overrides_replace_catalog_figures() -> None:
    base = node_price("us-east-1", "g6.xlarge")
    neg = node_price("us-east-1", "g6.xlarge", on_demand_override=0.5)
    assert neg.on_demand_hourly_usd == 0.5 and neg.spot_discount == base.spot_discount and neg.basis == "override"
    disc = node_price("us-east-1", "g6.xlarge", discount_override=0.3)
    assert disc.on_demand_hourly_usd == base.on_demand_hourly_usd and disc.spot_hourly_usd == pytest.approx(base.on_demand_hourly_usd * 0.7)


def test_missing_price_names_the_key_to_set() -> None:
    # a region launched after the snapshot
    with pytest.raises(PriceNotFound, match=r"set inferstack:pricing.onDemandHourlyUsd.g6.xlarge"):
        node_price("us-east-9", "g6.xlarge")
    assert node_price("us-east-9", "g6.xlarge", on_demand_override=0.8).on_demand_hourly_usd == 0.8
    with pytest.raises(PriceNotFound, match=r"us-east-9; set inferstack:pricing.platform.controlPlaneHourlyUsd, "):
        platform_prices("us-east-9")
