"""Cost of GPU slices: a model on a shared pool pays for its slice (pool cost over devices x slices), and
``--compare-kinds`` lists MIG / time-slice options beside whole devices with their USD per 1M."""

from __future__ import annotations

import json
from typing import Any

import pytest

from inferstack.cost import per_inference as pi
from inferstack.cost.estimate import HOURS_PER_MONTH, estimate, pool_load
from inferstack.cost.tiers import LADDER
from inferstack.load import load_stack
from tests.sizing.test_capacity_planner import MODEL, aws_config, gcp_config

SMALL = {**MODEL, "cpu": "1", "memory": "4Gi", "minReplicas": 2, "maxReplicas": 4}


def _stack(config: dict[str, Any]):
    return load_stack("t", config)


def test_shared_pool_counts_slices_per_node():
    pool = {"name": "gpu", "kind": "nvidia-l4", "maxNodes": 2, "capacity": "on-demand", "sharing": {"timeSlicingReplicas": 4}}
    cfg = _stack(aws_config(pools=[pool], models=[{**SMALL, "gpu": "shared"}]))
    load = pool_load(cfg, cfg.settings.accelerator_pools[0])
    assert load.devices_per_node == 1 and load.units_per_node == 4
    # 2..4 replicas of one slice each fit one node of 4 slices: steady = peak = 1 node.
    assert (load.steady, load.peak) == (1, 1)


def test_model_on_a_slice_pays_its_share_of_the_pool():
    pool = {"name": "gpu", "kind": "nvidia-l4", "maxNodes": 2, "capacity": "on-demand", "sharing": {"timeSlicingReplicas": 4}}
    cfg = _stack(aws_config(pools=[pool], models=[{**SMALL, "gpu": "shared"}]))
    est = estimate(cfg)
    [row] = [m for m in est.models if m.model == "chat"]
    [pool_row] = [p for p in est.pools if p.pool == "gpu"]
    # One node (4 slices) all month; the model's 2.5 average replicas use 2.5 of the 4 slices.
    assert row.monthly_usd == pytest.approx(pool_row.monthly_usd * row.average_replicas / 4)


def test_whole_gpu_model_pays_whole_devices():
    pool = {"name": "gpu", "kind": "nvidia-l4", "maxNodes": 4, "capacity": "on-demand"}
    cfg = _stack(aws_config(pools=[pool], models=[dict(SMALL)]))
    load = pool_load(cfg, cfg.settings.accelerator_pools[0])
    assert load.units_per_node == 1 and load.peak == 4


def test_compare_kinds_lists_mig_beside_whole_devices():
    pool = {"name": "gpu", "kind": "nvidia-a100", "devicesPerNode": 1, "maxNodes": 2, "capacity": "on-demand", "sharing": {"mig": "1g.10gb"}}
    m = {**SMALL, "gpu": "1g.10gb", "throughput": [
        {"kind": "nvidia-a100", "requestsPerSecond": 200}, {"kind": "nvidia-a100", "gpu": "1g.10gb", "requestsPerSecond": 90},
        {"kind": "nvidia-a100", "gpu": "3g.20gb", "requestsPerSecond": 150}]}
    cfg = _stack(gcp_config([pool], [m]))
    report = pi.per_inference(cfg, kinds=True)
    [cmp] = report.comparisons
    by = {o.kind: o for o in cmp.options}
    whole, small, large = by["nvidia-a100"], by["nvidia-a100 1g.10gb"], by["nvidia-a100 3g.20gb"]
    assert whole.status == small.status == large.status == "ranked"
    # A 1g.10gb slice is a quarter of the GPU's price (4 per A100), a 3g.20gb half (2 per A100).
    assert small.usd_per_replica_hour == pytest.approx(whole.usd_per_replica_hour / 4)
    assert large.usd_per_replica_hour == pytest.approx(whole.usd_per_replica_hour / 2)
    assert small.usd_per_million["requests"] == pytest.approx(small.usd_per_replica_hour / (90 * 3600) * 1e6)
    assert small.current and not whole.current and not large.current
    assert small.rank == 1
    text = pi.render_text(report)
    assert "nvidia-a100 1g.10gb" in text and "nvidia-a100 3g.20gb" in text


def test_model_cost_uses_the_slice_measurement():
    pool = {"name": "gpu", "kind": "nvidia-a100", "devicesPerNode": 1, "maxNodes": 2, "capacity": "on-demand", "sharing": {"mig": "1g.10gb"}}
    m = {**SMALL, "gpu": "1g.10gb", "throughput": [
        {"kind": "nvidia-a100", "requestsPerSecond": 200}, {"kind": "nvidia-a100", "gpu": "1g.10gb", "requestsPerSecond": 90}]}
    cfg = _stack(gcp_config([pool], [m]))
    [row] = pi.per_inference(cfg).models
    mix = row.mix(LADDER)
    assert row.throughput["requests_per_second"] == 90
    assert mix.usd_per_million["requests"] == pytest.approx(mix.usd_per_device_hour / (90 * 3600) * 1e6)
    assert mix.monthly_usd == pytest.approx(row.average_replicas * mix.usd_per_device_hour * HOURS_PER_MONTH)


def test_mig_option_on_aws_is_not_offered_with_the_reason():
    m = {**SMALL, "throughput": [{"kind": "nvidia-l4", "requestsPerSecond": 100}, {"kind": "nvidia-a100", "gpu": "1g.10gb", "requestsPerSecond": 90}]}
    cfg = _stack(aws_config(models=[m]))
    [cmp] = pi.per_inference(cfg, kinds=True).comparisons
    [opt] = [o for o in cmp.options if o.kind == "nvidia-a100 1g.10gb"]
    assert opt.status == "not offered" and "MIG manager" in opt.reason


@pytest.mark.parametrize(("stack", "whole", "slice_kind"), [
    ("prod", "nvidia-l4", "nvidia-l4 shared"),          # gpu-shared: time-sliced L4s
    ("gcp-prod", "nvidia-a100", "nvidia-a100 1g.10gb"),  # gpu-a100-mig: MIG 1g.10gb
])
def test_reference_stacks_compare_slices_beside_whole_devices(capsys: pytest.CaptureFixture[str], stack: str,
                                                              whole: str, slice_kind: str) -> None:
    """``inferstack cost --stack prod|gcp-prod --compare-kinds``: the sliced model's comparison ranks its slice (the
    current option) and the whole device, each with USD per 1M requests; the slice costs less per replica-hour."""
    from inferstack.cli import main

    assert main(["cost", "--stack", stack, "--format", "json", "--compare-kinds"]) == 0
    comps = json.loads(capsys.readouterr().out)["per_inference"]["compare_kinds"]
    [classify] = [c for c in comps if c["model"] == "classify"]
    by = {o["kind"]: o for o in classify["options"]}
    part, full = by[slice_kind], by[whole]
    assert part["status"] == full["status"] == "ranked" and part["current"] and not full["current"]
    assert part["usd_per_million"]["requests"] > 0 and full["usd_per_million"]["requests"] > 0
    assert part["usd_per_replica_hour"] < full["usd_per_replica_hour"]
    assert main(["cost", "--stack", stack, "--compare-kinds"]) == 0
    text = capsys.readouterr().out
    assert f" {slice_kind} " in text and f" {whole} " in text and "$/1M requests" in text
