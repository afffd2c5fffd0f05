"""Cost per inference: USD per 1M by hand, tier mixes, interruptions, the ranking of kinds, the CLI and its chart."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from inferstack import sizing
from inferstack.catalog.prices import TierPrices, node_price, tier_prices
from inferstack.cli import main
from inferstack.config import Cloud
from inferstack.config.platform import AcceleratorPoolConfig
from inferstack.cost import per_inference as pi
from inferstack.cost.estimate import pool_load
from inferstack.cost.tiers import ALL_ON_DEMAND, LADDER, SPOT_HEAVY, tier_mix
from inferstack.load import load_stack
from tests.conftest import stack_config
from tests.sizing.test_capacity_planner import aws_config, gcp_config

DAYS = 730 / 24


# ---------------------------------------------------------------- arithmetic


def test_usd_per_million_by_hand() -> None:
    # 3.60 USD per replica-hour serving 1 request/s = 3,600 requests: 0.001 USD each, 1,000 USD per million.
    assert pi.usd_per_million(3.6, 1) == pytest.approx(1000)
    assert pi.usd_per_million(1.0, 2) == pytest.approx(1e6 / 7200)
    with pytest.raises(ValueError):
        pi.usd_per_million(1.0, 0)


def test_reloads_and_lost_hours_by_hand() -> None:
    # 2 replicas, 0.1 interruptions per node-day, replicas spanning 2 nodes: 2 x 0.1 x 2 x 30.42 days.
    assert pi.reloads_per_month(2, 0.1, 2) == pytest.approx(2 * 0.1 * 2 * DAYS)
    assert pi.replica_hours_lost(12, 300) == pytest.approx(1.0)


def test_mix_hourly_usd_falls_back_to_on_demand_without_flex_start() -> None:
    prices = TierPrices("t", on_demand=2.0, spot=0.8, reserved=1.5, flex_start=None)
    assert pi.mix_hourly_usd({"reserved": 0.5, "on-demand": 0.25, "spot": 0.25}, prices) == pytest.approx(0.75 + 0.5 + 0.2)
    assert pi.mix_hourly_usd({"flex-start": 1.0}, prices) == pytest.approx(2.0)


def test_tier_prices_reserved_and_flex_start() -> None:
    tpu = tier_prices(node_price("europe-west4", "ct5lp-hightpu-8t"))
    assert tpu.reserved == tpu.on_demand and tpu.flex_start == pytest.approx(tpu.on_demand * (1 - 0.53))
    g2 = tier_prices(node_price("europe-west4", "g2-standard-8"))
    assert g2.flex_start == g2.on_demand  # G2 is not among the discounted flex-start series
    ec2 = tier_prices(node_price("eu-central-1", "g6.xlarge"), reserved_discount=0.3)
    assert ec2.flex_start is None and ec2.reserved == pytest.approx(ec2.on_demand * 0.7)
    assert tier_prices(node_price("europe-west4", "g2-standard-8"), flex_override=0.2).flex_start == pytest.approx(g2.on_demand * 0.8)


# ---------------------------------------------------------------- tier mixes

LADDER_POOL = {
    "name": "gpu", "kind": "nvidia-l4", "maxNodes": 12,
    "ladder": [
        {"tier": "reserved", "minNodes": 2, "maxNodes": 2, "reservations": [{"id": "cr-0a1b2c3d4e5f60718"}]},
        {"tier": "on-demand", "maxNodes": 6},
        {"tier": "spot", "maxNodes": 4},
    ],
}


def _plan() -> sizing.PoolPlan:
    return sizing.plan_pool(Cloud.AWS, AcceleratorPoolConfig.model_validate(LADDER_POOL))


def test_tier_mixes_of_a_ladder() -> None:
    plan = _plan()
    ladder = tier_mix(plan, 3.5, 0.8, LADDER)
    assert ladder.running == {"reserved": 2, "on-demand": 1.5, "flex-start": 0, "spot": 0}
    assert ladder.shares()["reserved"] == pytest.approx(2 / 3.5)
    # Past the reserved and on-demand rungs, nodes go to spot.
    assert tier_mix(plan, 10, 0.8, LADDER).running == {"reserved": 2, "on-demand": 6, "flex-start": 0, "spot": 2}
    assert tier_mix(plan, 3.5, 0.8, ALL_ON_DEMAND).running == {"reserved": 0, "on-demand": 3.5, "flex-start": 0, "spot": 0}
    # Spot-heavy: the ladder's floor (2 nodes) on demand, the rest spot first with a 20 % on-demand fallback.
    heavy = tier_mix(plan, 3.5, 0.8, SPOT_HEAVY)
    assert heavy.running["on-demand"] == pytest.approx(2 + 1.5 * 0.2) and heavy.running["spot"] == pytest.approx(1.5 * 0.8)


def test_reserved_nodes_bill_whether_used_or_not() -> None:
    mix = tier_mix(_plan(), 1.0, 0.8, LADDER)
    assert mix.running["reserved"] == 1 and mix.billed["reserved"] == 2
    prices = TierPrices("t", on_demand=1.0, spot=0.4, reserved=1.0, flex_start=None)
    assert mix.hourly_usd(prices) == pytest.approx(2.0)


# ---------------------------------------------------------------- a small stack by hand


def _stack(capacity: dict[str, Any], throughput: list[dict[str, Any]], **model: Any):
    pool = {"name": "gpu", "kind": "nvidia-l4", "maxNodes": 4, **capacity}
    m = {"name": "chat", "namespace": "team-nlp", "format": "huggingface", "registryModel": "m", "version": "1",
         "pool": "gpu", "cpu": "2", "memory": "8Gi", "minReplicas": 1, "maxReplicas": 1, "throughput": throughput, **model}
    return load_stack("t", aws_config(pools=[pool], models=[m], pricing={
        "onDemandHourlyUsd": {"g6.xlarge": 1.0}, "spotDiscount": {"g6.xlarge": 0.5}, "spotShare": 0.8}))


def test_one_replica_by_hand() -> None:
    """One g6.xlarge node at 1.00 USD/h (spot 0.50), one replica measured at 2 requests/s and 100 tokens/s."""
    cfg = _stack({"capacity": "spot-first", "spotInterruptionsPerNodeDay": 0.5},
                 [{"kind": "nvidia-l4", "requestsPerSecond": 2, "tokensPerSecond": 100}], modelLoadSeconds=360)
    (row,) = pi.model_costs(cfg, pool_load(cfg, cfg.settings.accelerator_pools[0]))
    od, ladder = row.mix(ALL_ON_DEMAND), row.mix(LADDER)
    assert od.monthly_usd == pytest.approx(730) and od.usd_per_device_hour == pytest.approx(1.0)
    assert od.usd_per_million == pytest.approx({"requests": 1e6 / 7200, "tokens": 1e6 / 360000})
    # Spot first: 80 % spot at 0.50, 20 % on demand at 1.00 = 0.60 USD per node-hour.
    assert ladder.tier_mix["spot"] == pytest.approx(0.8)
    assert ladder.usd_per_device_hour == pytest.approx(0.6)
    assert ladder.usd_per_million["requests"] == pytest.approx(0.6 * 1e6 / 7200)
    assert ladder.savings_vs_on_demand_usd == pytest.approx(730 * 0.4)
    # Interruptions: 1 replica x 80 % on spot x 0.5 per node-day x 30.42 days; 360 s each.
    i = ladder.interruptions
    assert i.reloads == pytest.approx(0.8 * 0.5 * DAYS)
    assert i.replica_hours_lost == pytest.approx(0.8 * 0.5 * DAYS * 0.1)
    assert i.cost_usd == pytest.approx(i.replica_hours_lost * 0.6)
    assert i.capacity_lost_share == pytest.approx(i.replica_hours_lost / 730)
    assert od.interruptions.reloads == 0


def test_interruption_default_is_the_family_one() -> None:
    cfg = _stack({"capacity": "spot-only"}, [{"kind": "nvidia-l4", "requestsPerSecond": 1}])
    (row,) = pi.model_costs(cfg, pool_load(cfg, cfg.settings.accelerator_pools[0]))
    assert row.mix(LADDER).interruptions.spot_per_node_day == 0.05
    assert row.mix(LADDER).interruptions.reloads == pytest.approx(0.05 * DAYS)


def test_model_without_measurement_has_no_usd_per_million() -> None:
    cfg = _stack({"capacity": "on-demand"}, [{"kind": "nvidia-l40s", "requestsPerSecond": 5}])
    (row,) = pi.model_costs(cfg, pool_load(cfg, cfg.settings.accelerator_pools[0]))
    assert row.throughput is None and row.mix(LADDER).usd_per_million == {} and "no throughput" in row.note


def test_flex_start_reloads_once_per_node_week() -> None:
    pool = {"name": "gpu", "kind": "nvidia-l4", "maxNodes": 6, "spotInterruptionsPerNodeDay": 0.2,
            "ladder": [{"tier": "spot", "maxNodes": 2}, {"tier": "flex-start", "maxNodes": 2},
                       {"tier": "on-demand", "minNodes": 1, "maxNodes": 2}]}
    m = {"name": "chat", "namespace": "team-nlp", "format": "huggingface", "registryModel": "m", "version": "1",
         "pool": "gpu", "minReplicas": 1, "maxReplicas": 6, "modelLoadSeconds": 600,
         "throughput": [{"kind": "nvidia-l4", "requestsPerSecond": 10}]}
    cfg = load_stack("t", gcp_config([pool], [m]))
    load = pool_load(cfg, cfg.settings.accelerator_pools[0])
    assert load.average == pytest.approx(1 + 0.25 * 5)
    mix = tier_mix(load.plan, load.average, 0.8)
    # The on-demand rung keeps its 1 node; the other 1.25 go to the spot rung, which gets spot for 80% of them and
    # falls to the next rung (flex-start) for the rest.
    assert mix.running == pytest.approx({"reserved": 0, "on-demand": 1, "flex-start": 0.25, "spot": 1.0})
    assert tier_mix(load.plan, 4.5, 0.8).running == pytest.approx({"reserved": 0, "on-demand": 1, "flex-start": 1.9, "spot": 1.6})
    (row,) = pi.model_costs(cfg, load)
    i = row.mix(LADDER).interruptions
    # 2.25 replicas on average: 1.0 on spot at 0.2 per node-day, 0.25 on flex-start (a node lives 7 days); 600 s per reload.
    assert i.reloads == pytest.approx(1.0 * 0.2 * DAYS + 0.25 * DAYS / 7)
    assert i.replica_hours_lost == pytest.approx(i.reloads / 6)
    # Flex-start nodes live 7 days: a replica there reloads once a node-week.
    assert pi.reloads_per_month(1.5, 1 / 7) == pytest.approx(1.5 * DAYS / 7)


# ---------------------------------------------------------------- compare kinds


def test_ranking_on_a_small_catalogue() -> None:
    """An 8B LLM measured on L4, L40S, A10G (fit) and T4 (too little memory), not on H100; TPUs are not on AWS."""
    shape = {"parametersB": 8, "layers": 32, "kvHeads": 8, "headDim": 128}
    throughput = [
        {"kind": "nvidia-l4", "tokensPerSecond": 1000, "requestsPerSecond": 4},
        {"kind": "nvidia-l40s", "tokensPerSecond": 3000},
        {"kind": "nvidia-a10g", "tokensPerSecond": 600},
        {"kind": "nvidia-t4", "tokensPerSecond": 400},
    ]
    pool = {"name": "gpu", "kind": "nvidia-l4", "maxNodes": 4, "capacity": "on-demand"}
    m = {"name": "chat", "namespace": "team-nlp", "format": "huggingface", "registryModel": "m", "version": "1",
         "pool": "gpu", "cpu": "1", "memory": "8Gi", "minReplicas": 1, "maxReplicas": 1, "throughput": throughput,
         "llm": {"shape": shape}, "scaleMetric": "waiting-requests"}
    cfg = load_stack("t", aws_config(pools=[pool], models=[m], pricing={"onDemandHourlyUsd": {
        "g6.xlarge": 1.0, "g6e.xlarge": 2.7, "g6e.2xlarge": 3.0, "g5.xlarge": 0.9, "p5.48xlarge": 55.0}}))
    c = pi.compare_kinds(cfg, cfg.settings.models[0], {"on-demand": 1.0})
    by = {o.kind: o for o in c.options}
    assert c.metric == "tokens"
    ranked = [o.kind for o in c.options if o.status == "ranked"]
    # 2.70 / 3,000 tok/s < 1.00 / 1,000 tok/s < 0.90 / 600 tok/s
    assert ranked == ["nvidia-l40s", "nvidia-l4", "nvidia-a10g"]
    assert [by[k].rank for k in ranked] == [1, 2, 3]
    assert by["nvidia-l40s"].usd_per_million["tokens"] == pytest.approx(2.7 / (3000 * 3600) * 1e6)
    assert by["nvidia-l4"].usd_per_million["tokens"] == pytest.approx(1.0 / (1000 * 3600) * 1e6)
    assert by["nvidia-l4"].node_type == "g6.xlarge" and by["nvidia-l4"].current
    assert by["nvidia-t4"].status == "does not fit" and "GiB" in by["nvidia-t4"].reason and by["nvidia-t4"].rank is None
    assert by["nvidia-h100"].status == "no measurement" and by["nvidia-h100"].rank is None
    assert by["tpu-v5e"].status == "not offered"
    # Ranked kinds come first, in rank order.
    assert [o.kind for o in c.options[:3]] == ranked


def test_a_kind_whose_nodes_cannot_hold_the_replica_does_not_fit() -> None:
    """100Gi per replica: only the 4-device L4 node (192 GiB) holds it; g5.xlarge / g5.2xlarge cannot."""
    cfg = _stack({"capacity": "on-demand", "devicesPerNode": 4}, [{"kind": "nvidia-l4", "requestsPerSecond": 2},
                                                                  {"kind": "nvidia-a10g", "requestsPerSecond": 3}], memory="100Gi")
    by = {o.kind: o for o in pi.compare_kinds(cfg, cfg.settings.models[0], {"on-demand": 1.0}).options}
    assert by["nvidia-l4"].status == "ranked" and by["nvidia-l4"].node_type == "g6.12xlarge"
    assert by["nvidia-l4"].replicas_per_node == 4
    assert by["nvidia-a10g"].status == "ranked" and by["nvidia-a10g"].node_type in ("g5.12xlarge", "g5.48xlarge")
    # trn1.32xlarge (512 GiB) holds it, but nothing measured; and the catalogue prices trn1 in US regions only
    assert by["aws-trainium1"].status == "no price" and by["aws-trainium1"].reason == "no catalog price for aws-trainium1 nodes in eu-central-1"


# ---------------------------------------------------------------- the CLI


def test_cost_json_for_prod_has_usd_per_million_and_tier_mix(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--stack", "prod", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = {m["model"]: m for m in data["models"]}
    report = pi.per_inference(stack_config("prod"))
    chat = report.models[[m.model for m in report.models].index("chat")]
    assert rows["chat"]["usd_per_million"]["tokens"] == round(chat.mix(LADDER).usd_per_million["tokens"], 4)
    assert rows["chat"]["usd_per_million"]["requests"] > 0
    # prod's gpu-l4 ladder: 2 reserved nodes of 3.5 on average, the rest on demand.
    assert rows["chat"]["tier_mix"]["reserved"] == pytest.approx(2 / 3.5, abs=1e-4)
    assert sum(rows["chat"]["tier_mix"].values()) == pytest.approx(1, abs=1e-3)
    assert rows["embed"]["usd_per_million"] is None and rows["embed"]["tier_mix"]["spot"] > 0
    assert rows["fraud-score"]["tier_mix"] is None
    mixes = {m["mix"] for m in data["per_inference"]["models"][0]["mixes"]}
    assert mixes == {"all-on-demand", "ladder", "spot-heavy"}
    assert "compare_kinds" not in data["per_inference"]


def test_cost_compare_kinds_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--stack", "gcp-prod", "--format", "json", "--compare-kinds"]) == 0
    comps = {c["model"]: c for c in json.loads(capsys.readouterr().out)["per_inference"]["compare_kinds"]}
    chat = comps["chat"]
    assert chat["metric"] == "tokens"
    assert [o["kind"] for o in chat["options"] if o["status"] == "ranked"] == ["nvidia-l4", "tpu-v5e"]
    assert {"gemma-tpu"}.isdisjoint(comps)  # no measurement at all: nothing to rank


def test_cost_text_shows_per_inference_and_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--stack", "prod", "--compare-kinds"]) == 0
    out = capsys.readouterr().out
    assert "Cost per inference of stack prod" in out and "spot-heavy" in out
    assert "accelerator kinds for team-nlp/chat, ranked by USD per 1M tokens" in out and "does not fit" in out


def test_cost_chart_writes_a_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "charts" / "cost.png"
    assert main(["cost", "--stack", "prod", "--chart", str(out)]) == 0
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


@pytest.mark.parametrize("argv", [
    ["--chart", "cost.svg"],
    ["--format", "xml"],
    ["--compare-kinds=yes"],
])
def test_cost_bad_arguments_exit_2(argv: list[str], tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "inferstack", "cost", "--stack", "prod", *argv],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not (tmp_path / "cost.svg").exists()


def test_help_does_not_import_matplotlib() -> None:
    code = "import sys\nfrom inferstack.cli import main\ntry:\n    main(['cost', '--help'])\nexcept SystemExit:\n    pass\n" \
           "print('matplotlib' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip().endswith("False"), proc.stdout + proc.stderr
