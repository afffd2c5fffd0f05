"""SLO rules under promtool: they load (``check rules``) and each burn-rate alert fires on a synthetic bad series and
stays quiet on a healthy one (``test rules``). Skips when promtool is absent (CI installs Debian's ``prometheus``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from inferstack.config.serving import ModelConfig
from inferstack.load import load_stack_file
from inferstack.serving import metrics as m
from inferstack.serving import slo

ROOT = Path(__file__).resolve().parents[2]
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (Debian package prometheus)")

MINUTE_REQUESTS = 10_000  # requests per minute in the synthetic series


def _stack_model(stack: str, name: str) -> ModelConfig:
    models = load_stack_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml").settings.models
    return next(x for x in models if x.name == name)


def _knative_model() -> ModelConfig:
    return ModelConfig(
        name="ranker", namespace="team-search", format="sklearn", registry_model="ranker", version="2",
        slo={"availability": 0.99, "latency_p95_ms": 200},
    )


MODELS = {
    "chat": _stack_model("prod", "chat"),  # LLM: availability, latency-p95 (4 s, interpolated), ttft-p95 (800 ms)
    "fraud-score": _stack_model("prod", "fraud-score"),  # Standard: availability from `up`, p95 50 ms, p99 120 ms
    "ranker": _knative_model(),  # Knative queue-proxy series, Go-style `le` labels
}


def _le(bound: float, track: str) -> str:
    # Python's prometheus_client writes 5.0; the OpenTelemetry Go exporter (Knative) writes 5.
    return f"{bound:g}" if track == m.KNATIVE else repr(float(bound))


def _labels(model: ModelConfig, **extra: str) -> str:
    base = {"namespace": model.namespace, "model": model.name, "version": model.version, **extra}
    return "{" + ",".join(f'{k}="{v}"' for k, v in base.items()) + "}"


def _counter(per_minute: list[tuple[float, int]]) -> str:
    """promtool expanding notation of a counter: [(increase per minute, minutes), ...]."""
    parts, value = [], 0.0
    for step, minutes in per_minute:
        parts.append(f"{value:g}+{step:g}x{minutes}")
        value += step * minutes
    return " ".join(parts)


def _input_series(model: ModelConfig, objective: str, phases: list[tuple[float, int]]) -> list[dict[str, str]]:
    """Synthetic raw series giving ``objective`` the bad-event ratio of each phase: [(ratio, minutes), ...]."""
    track = m.track_of(model)
    tm = m.metrics_for(track)
    bad = [(r * MINUTE_REQUESTS, n) for r, n in phases]
    good = [((1 - r) * MINUTE_REQUESTS, n) for r, n in phases]
    if objective == "availability":
        if track == m.STANDARD:  # ratio = share of targets down: 1 of round(1/r) targets (r=0: all up)
            out = []
            for i in range(10):
                down = phases[0][0] > 0 and i == 0
                total = sum(n for _, n in phases)
                out.append({"series": "up" + _labels(model, instance=f"10.0.0.{i}:8080"), "values": f"{0 if down else 1}x{total}"})
            return out
        if track == m.LLM:
            ok, err = _labels(model, handler="/v1/chat/completions", status="2xx"), _labels(model, handler="/v1/chat/completions", status="5xx")
        else:
            ok, err = _labels(model, http_response_status_code="200"), _labels(model, http_response_status_code="503")
        return [{"series": tm.requests + ok, "values": _counter(good)}, {"series": tm.requests + err, "values": _counter(bad)}]
    hist = tm.ttft if objective == "ttft-p95" else tm.latency
    # Good requests land below the first bound (every bucket), bad ones above the last (only +Inf and the count).
    series = [{"series": hist.bucket + _labels(model, le=_le(b, track)), "values": _counter(good)} for b in hist.buckets]
    series.append({"series": hist.bucket + _labels(model, le="+Inf"), "values": _counter([(MINUTE_REQUESTS, n) for _, n in phases])})
    series.append({"series": hist.count + _labels(model), "values": _counter([(MINUTE_REQUESTS, n) for _, n in phases])})
    return series


def _exp_alert(model: ModelConfig, rule: dict) -> dict:
    labels = {"namespace": model.namespace, "model": model.name, **rule["labels"]}
    return {"exp_labels": labels, "exp_annotations": rule["annotations"]}


def _alert_rules(model: ModelConfig, objective: str) -> list[dict]:
    return [r for g in slo.rule_groups(model) for r in g["rules"] if "alert" in r and r["labels"]["slo"] == objective]


def _case(model: ModelConfig, objective: str, phases: list[tuple[float, int]], firing: set[str], at: str) -> dict:
    return {
        "interval": "1m",
        "input_series": _input_series(model, objective, phases),
        "alert_rule_test": [
            {"eval_time": at, "alertname": r["alert"], "exp_alerts": [_exp_alert(model, r)] if r["labels"]["long_window"] in firing else []}
            for r in _alert_rules(model, objective)
        ],
    }


def _cases(model: ModelConfig) -> list[dict]:
    cases = []
    for o in slo.objectives(model):
        if o.name == "availability" and m.track_of(model) == m.STANDARD:
            # 1 of 10 targets down (far above every threshold): all four fire; all up: none.
            cases.append(_case(model, o.name, [(0.1, 20)], {"1h", "6h", "1d", "3d"}, "15m"))
            cases.append(_case(model, o.name, [(0.0, 20)], set(), "15m"))
            continue
        # A steady bad ratio of k x budget fires exactly the alerts whose factor is below k.
        for k, firing in ((18, {"1h", "6h", "1d", "3d"}), (8, {"6h", "1d", "3d"}), (4, {"1d", "3d"}), (2, {"3d"}), (0.5, set())):
            cases.append(_case(model, o.name, [(min(k * o.budget, 1.0), 20)], firing, "15m"))
        # 60 minutes at 18x, then 30 healthy: the 5m and 30m short windows are clean, so both pages stop; tickets go on.
        cases.append(_case(model, o.name, [(18 * o.budget, 60), (0.0, 31)], {"1d", "3d"}, "90m"))
    return cases


def _write(tmp_path: Path, model: ModelConfig) -> tuple[Path, Path]:
    rules = tmp_path / f"{model.name}-rules.yaml"
    rules.write_text(yaml.safe_dump({"groups": slo.rule_groups(model)}, sort_keys=False))
    tests = tmp_path / f"{model.name}-test.yaml"
    tests.write_text(
        yaml.safe_dump({"rule_files": [rules.name], "evaluation_interval": "1m", "tests": _cases(model)}, sort_keys=False)
    )
    return rules, tests


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_rule_groups_cover_each_objective_and_window():
    chat = MODELS["chat"]
    names = [r["alert"] for g in slo.rule_groups(chat) for r in g["rules"] if "alert" in r]
    assert {o.name for o in slo.objectives(chat)} == {"availability", "latency-p95", "ttft-p95"}
    assert len(names) == 3 * 4 and "SLOAvailabilityBurn1h" in names and "SLOTtftP95Burn3d" in names
    severities = {r["labels"]["long_window"]: r["labels"]["severity"] for r in _alert_rules(chat, "availability")}
    assert severities == {"1h": "page", "6h": "page", "1d": "ticket", "3d": "ticket"}
    assert slo.rule_groups(ModelConfig(name="plain", namespace="ns", format="onnx", registry_model="plain", version="1")) == []


def test_prometheus_rule_object_is_selected_by_the_platform_prometheus():
    obj = slo.prometheus_rule(MODELS["fraud-score"])
    assert (obj["apiVersion"], obj["kind"]) == ("monitoring.coreos.com/v1", "PrometheusRule")
    assert obj["metadata"]["namespace"] == "team-search"
    assert m.RULE_SELECTOR_LABELS.items() <= obj["metadata"]["labels"].items()
    assert {o.name for o in slo.objectives(MODELS["fraud-score"])} == {"availability", "latency-p95", "latency-p99"}


@needs_promtool
@pytest.mark.parametrize("name", sorted(MODELS))
def test_promtool_check_rules(tmp_path, name):
    rules, _ = _write(tmp_path, MODELS[name])
    out = _promtool("check", "rules", str(rules), cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout


@needs_promtool
@pytest.mark.parametrize("name", sorted(MODELS))
def test_promtool_burn_rate_alerts_fire_on_bad_series_and_stay_quiet_on_healthy(tmp_path, name):
    _, tests = _write(tmp_path, MODELS[name])
    out = _promtool("test", "rules", tests.name, cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr


@needs_promtool
def test_promtool_catches_a_wrong_expectation(tmp_path):
    """The harness can fail: claiming the 1h page stays quiet at 18x budget makes promtool report a failure."""
    model = MODELS["chat"]
    _, tests = _write(tmp_path, model)
    doc = yaml.safe_load(tests.read_text())
    doc["tests"] = [_case(model, "availability", [(18 * 0.001, 20)], {"6h", "1d", "3d"}, "15m")]
    tests.write_text(yaml.safe_dump(doc, sort_keys=False))
    out = _promtool("test", "rules", tests.name, cwd=tmp_path)
    assert out.returncode != 0 and "SLOAvailabilityBurn1h" in out.stdout + out.stderr
