"""Monthly cost estimate: the arithmetic (pure functions), every reference stack, the CLI and the preview total."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from inferstack import sizing
from inferstack.catalog.prices import AS_OF, NodePrice, platform_prices
from inferstack.cli import main
from inferstack.cli.preview import build_report
from inferstack.cli.target import Target
from inferstack.config import Cloud
from inferstack.config.platform import AcceleratorPoolConfig, Capacity
from inferstack.cost import estimate as est_mod
from inferstack.load import load_stack
from tests.conftest import REFERENCE_STACKS, recording, stack_config, stack_path
from tests.sizing.test_capacity_planner import aws_config

PRICE = NodePrice("r", "t", 2.0, 0.6, "https://example.invalid")


# ---------------------------------------------------------------- arithmetic


def test_nodes_for() -> None:
    assert est_mod.nodes_for(0, 4) == 0
    assert est_mod.nodes_for(1, 4) == 1
    assert est_mod.nodes_for(8, 4) == 2
    assert est_mod.nodes_for(9, 4) == 3


def test_average() -> None:
    assert est_mod.average(2, 8, 0.25) == 3.5
    assert est_mod.average(2, 8, 0) == 2
    assert est_mod.average(2, 8, 1) == 8


def _split(avg: float, baseline: int, capacity: Capacity, share: float = 0.8) -> tuple[float, float]:
    pool = AcceleratorPoolConfig(name="gpu", kind="nvidia-l4", max_nodes=4, on_demand_baseline=baseline, capacity=capacity)
    return sizing.plan_pool(Cloud.AWS, pool).split(avg, share)


def test_purchase_split() -> None:
    assert _split(4, 1, Capacity.SPOT_FIRST) == pytest.approx((1 + 3 * 0.2, 3 * 0.8))
    assert _split(4, 1, Capacity.ON_DEMAND) == (4, 0)
    assert _split(4, 0, Capacity.SPOT_ONLY) == (0, 4)
    # A spot-only pool's baseline is on-demand (as its NodePools and GKE node pools are); the rest has no fallback.
    assert _split(4, 1, Capacity.SPOT_ONLY) == (1, 3)
    # The baseline never exceeds the nodes that run.
    assert _split(0.5, 2, Capacity.SPOT_FIRST) == (0.5, 0)


def test_monthly_usd() -> None:
    assert est_mod.monthly_usd(1, 0, PRICE) == pytest.approx(730 * 2.0)
    assert est_mod.monthly_usd(0, 1, PRICE) == pytest.approx(730 * 0.8)
    assert est_mod.monthly_usd(1.5, 2, PRICE, hours=10) == pytest.approx(10 * (3.0 + 1.6))


def test_nat_monthly_usd() -> None:
    # AWS: per gateway-hour + per GB.
    assert est_mod.nat_monthly_usd(Cloud.AWS, 3, 10, 100, platform_prices("eu-west-1")) == pytest.approx(730 * 3 * 0.048 + 100 * 0.048)
    # GCP Cloud NAT: per VM-hour, capped at 32 VMs.
    assert est_mod.nat_monthly_usd(Cloud.GCP, 1, 10, 0, platform_prices("europe-west4")) == pytest.approx(730 * 10 * 0.0014)
    assert est_mod.nat_monthly_usd(Cloud.GCP, 1, 100, 0, platform_prices("europe-west4")) == pytest.approx(730 * 32 * 0.0014)


def test_small_stack_by_hand() -> None:
    """One on-demand L4 pool of 1 steady node, 3 at peak: every figure recomputed by hand."""
    cfg = load_stack("t", aws_config(
        pools=[{"name": "gpu", "kind": "nvidia-l4", "maxNodes": 4, "capacity": "on-demand"}],
        models=[{"name": "chat", "namespace": "team-nlp", "format": "huggingface", "registryModel": "m", "version": "1",
                 "pool": "gpu", "cpu": "2", "memory": "8Gi", "minReplicas": 1, "maxReplicas": 3}],
        pricing={"onDemandHourlyUsd": {"g6.xlarge": 1.0, "m6i.large": 0.1}, "natProcessedGbPerMonth": 0, "registryStorageGb": 100},
    ))
    est = est_mod.estimate(cfg)
    (pool,) = est.pools
    assert (pool.node_type, pool.steady_nodes, pool.peak_nodes, pool.average_nodes) == ("g6.xlarge", 1, 3, 1.5)
    assert pool.monthly_usd == pytest.approx(730 * 1.5) == pool.all_on_demand_monthly_usd
    lines = {line.item: line.monthly_usd for line in est.platform}
    assert lines["system nodes"] == pytest.approx(730 * 2 * 0.1)
    assert lines["control plane"] == pytest.approx(73.0)
    plat = platform_prices(cfg.region)
    assert lines["NAT"] == pytest.approx(730 * plat.nat_hourly_usd)
    assert lines["registry storage"] == pytest.approx(100 * plat.storage_gb_month_usd)
    assert est.monthly_usd == pytest.approx(730 * 1.5 + 146 + 73 + 730 * plat.nat_hourly_usd + 100 * plat.storage_gb_month_usd)
    assert est.spot_savings_usd == pytest.approx(0)
    assert est.models[0].monthly_usd == pytest.approx(pool.monthly_usd)


def test_spot_first_costs_less_than_all_on_demand() -> None:
    cfg = load_stack("t", aws_config(pools=[{"name": "gpu", "kind": "nvidia-l4", "maxNodes": 4, "onDemandBaseline": 1}]))
    est = est_mod.estimate(cfg)
    (pool,) = est.pools
    price = pool.on_demand_hourly_usd
    od, spot = _split(pool.average_nodes, 1, Capacity.SPOT_FIRST)
    assert pool.monthly_usd == pytest.approx(730 * price * (od + spot * (1 - pool.spot_discount)))
    assert est.spot_savings_usd == pytest.approx(pool.all_on_demand_monthly_usd - pool.monthly_usd)
    assert est.spot_savings_usd > 0


def test_cost_is_linear_in_the_number_of_models() -> None:
    def stack(n: int):
        models = [{"name": f"m{i}", "namespace": "team-nlp", "format": "huggingface", "registryModel": "m", "version": "1",
                   "pool": "gpu", "cpu": "2", "memory": "8Gi", "minReplicas": 1, "maxReplicas": 1} for i in range(n)]
        return est_mod.estimate(load_stack("t", aws_config(pools=[{"name": "gpu", "kind": "nvidia-l4", "maxNodes": 100}], models=models)))
    one, ten = stack(1).pools[0].monthly_usd, stack(10).pools[0].monthly_usd
    assert ten == pytest.approx(10 * one)


# ---------------------------------------------------------------- reference stacks


@pytest.mark.parametrize("name", REFERENCE_STACKS)
def test_reference_stack_estimate_adds_up(name: str) -> None:
    est = est_mod.estimate(stack_config(name))
    cfg = stack_config(name)
    assert [p.pool for p in est.pools] == [p.name for p in cfg.settings.accelerator_pools]
    assert {m.model for m in est.models} == {m.name for m in cfg.settings.models}
    for p in est.pools:
        assert p.steady_nodes <= p.peak_nodes <= p.max_nodes
        assert p.reserved_nodes + p.on_demand_nodes + p.flex_start_nodes + p.spot_nodes == pytest.approx(p.average_nodes)
        assert p.monthly_usd <= p.all_on_demand_monthly_usd
        models = sum(m.monthly_usd for m in est.models if m.pool == p.pool)
        assert models + p.unallocated_usd == pytest.approx(p.monthly_usd)
    assert {line.item for line in est.platform} == {"system nodes", "control plane", "NAT", "registry storage"}
    assert 0 < est.monthly_usd <= est.all_on_demand_monthly_usd
    data = est.to_json()
    assert data["monthly_usd"] == round(est.monthly_usd, 2)
    assert data["all_on_demand_monthly_usd"] == round(est.all_on_demand_monthly_usd, 2)
    assert len(data["pools"]) == len(cfg.settings.accelerator_pools)


def test_prod_baselines_are_on_demand() -> None:
    est = est_mod.estimate(stack_config("prod"))
    cfg = stack_config("prod")
    for pool, row in zip(cfg.settings.accelerator_pools, est.pools, strict=True):
        assert row.on_demand_nodes >= pool.on_demand_baseline


# ---------------------------------------------------------------- CLI and preview


@pytest.mark.parametrize("name", REFERENCE_STACKS)
def test_cost_command_json(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--stack", name, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["stack"] == name
    assert data["monthly_usd"] == round(est_mod.estimate(stack_config(name)).monthly_usd, 2)
    assert {"monthly_usd", "all_on_demand_monthly_usd", "pools", "models", "platform"} <= set(data)


def test_cost_command_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--config", str(stack_path("prod"))]) == 0
    out = capsys.readouterr().out
    est = est_mod.estimate(stack_config("prod"))
    assert f"{est.monthly_usd:,.2f}" in out and f"{est.all_on_demand_monthly_usd:,.2f}" in out
    assert "spot saves" in out and "gpu-l40s" in out


def test_cost_command_bad_input_exits_2_without_traceback(tmp_path) -> None:
    bad = tmp_path / "Pulumi.bad.yaml"
    bad.write_text(stack_path("dev").read_text() + "  inferstack:pricing:\n    spotDiscount:\n      g6.xlarge: 2\n")
    proc = subprocess.run([sys.executable, "-m", "inferstack", "cost", "--config", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "inferstack:pricing.spotDiscount.g6.xlarge" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def _new_region_dev(tmp_path: Path, pricing: str = "") -> Path:
    """The dev stack moved to a region launched after the catalogues (zones listed), with optional pricing lines."""
    text = stack_path("dev").read_text().replace("eu-central-1", "us-east-9")
    text = text.replace("    availabilityZones: 2\n", "    zones: [us-east-9a, us-east-9b]\n")
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(text + pricing)
    return path


MISSING = [
    "inferstack:pricing.onDemandHourlyUsd.g6.2xlarge",
    "inferstack:pricing.onDemandHourlyUsd.m6i.large",
    "inferstack:pricing.platform.controlPlaneHourlyUsd",
    "inferstack:pricing.platform.natHourlyUsd",
    "inferstack:pricing.platform.natPerGbUsd",
    "inferstack:pricing.platform.storageGbMonthUsd",
]


def test_cost_command_names_every_missing_price_key_at_once(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--config", str(_new_region_dev(tmp_path))]) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert errors == [f"error: inferstack cost: no catalog price for 6 item(s) in us-east-9 (catalog as of {AS_OF}); set: {', '.join(MISSING)}"]
    assert "Traceback" not in err


def test_preview_says_why_it_shows_no_cost(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", "--config", str(_new_region_dev(tmp_path)), "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert summary["monthlyCostUsd"] is None and summary["costUnavailable"].endswith(", ".join(MISSING))
    assert main(["preview", "--config", str(_new_region_dev(tmp_path))]) == 0
    assert "Estimated cost: not available: no catalog price for 6 item(s) in us-east-9" in capsys.readouterr().out


def test_every_missing_price_key_once_set_prices_the_stack(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    pricing = (
        "  inferstack:pricing:\n    onDemandHourlyUsd: {g6.2xlarge: 1.0, m6i.large: 0.1}\n"
        "    platform: {controlPlaneHourlyUsd: 0.1, natHourlyUsd: 0.05, natPerGbUsd: 0.05, storageGbMonthUsd: 0.025}\n"
    )
    assert main(["cost", "--config", str(_new_region_dev(tmp_path, pricing)), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    nat = next(line for line in report["platform"] if line["item"] == "NAT")
    assert nat["monthly_usd"] == pytest.approx(730 * 1 * 0.05 + 500 * 0.05)
    assert nat["source"] == "inferstack:pricing.platform (override)"


@pytest.mark.parametrize("name", ["prod", "gcp-prod"])
def test_preview_summary_carries_the_monthly_cost(name: str) -> None:
    cfg = stack_config(name)
    report = build_report(Target(cfg.name, cfg.cloud, cfg.region, cfg.policy_settings(), recording(name), Path(), cfg))
    est = est_mod.estimate(stack_config(name))
    assert report["summary"]["monthlyCostUsd"] == round(est.monthly_usd, 2)
    assert report["summary"]["allOnDemandMonthlyCostUsd"] == round(est.all_on_demand_monthly_usd, 2)
