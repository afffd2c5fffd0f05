"""Autoscaling: the config rules of scale metrics per track, who KEDA scales, and each model's ScaledObject."""

from __future__ import annotations

import re

import pytest

from inferstack.checks.models import autoscaling_problems
from inferstack.config import Environment
from inferstack.config.serving import ModelConfig
from inferstack.serving import metrics
from inferstack.serving.autoscaling import (
    PROMETHEUS_ADDRESS,
    replica_bounds,
    scale_target_ref,
    scaled_names,
    scaled_object,
    scaled_objects,
    trigger_query,
    uses_keda,
)
from tests.conftest import recording, stack_config

LLM = {"shape": {"parametersB": 8, "layers": 32, "kvHeads": 8}}


def model(**extra) -> ModelConfig:
    base = {"name": "chat", "namespace": "team-nlp", "format": "huggingface", "registryModel": "llama", "version": "3", "pool": "gpu"}
    base.update(extra)
    return ModelConfig.model_validate(base)


# ---------------------------------------------------------------- config rules (failing inputs first)


@pytest.mark.parametrize("metric", ["concurrency", "rps", "cpu", "memory"])
def test_llm_model_refuses_predictive_metric(metric: str) -> None:
    problems = autoscaling_problems(model(llm=LLM, scaleMetric=metric), Environment.PROD)
    [(key, msg)] = problems
    assert key == "scaleMetric"
    assert msg.startswith(f"{metric} is not an LLM metric")
    assert "kv-cache, tokens-per-second, waiting-requests" in msg


@pytest.mark.parametrize("metric", ["waiting-requests", "tokens-per-second", "kv-cache"])
@pytest.mark.parametrize("mode", ["knative", "standard"])
def test_predictive_model_refuses_llm_metric(metric: str, mode: str) -> None:
    [(key, msg)] = autoscaling_problems(model(scaleMetric=metric, deploymentMode=mode, scaleTarget=50), Environment.PROD)
    assert key == "scaleMetric"
    assert "needs llm set" in msg and "concurrency, cpu, memory, rps" in msg


def test_kv_cache_target_is_a_percentage() -> None:
    [(key, msg)] = autoscaling_problems(model(llm=LLM, scaleMetric="kv-cache", scaleTarget=150), Environment.PROD)
    assert key == "scaleTarget" and "1-100" in msg
    assert autoscaling_problems(model(llm=LLM, scaleMetric="kv-cache", scaleTarget=80), Environment.PROD) == []


@pytest.mark.parametrize("env", [Environment.STAGING, Environment.PROD])
def test_llm_scale_to_zero_refused_outside_dev(env: Environment) -> None:
    problems = autoscaling_problems(model(llm=LLM, scaleMetric="waiting-requests", minReplicas=0), env)
    assert [k for k, _ in problems] == ["minReplicas"]


def test_llm_metric_scales_to_zero_in_dev() -> None:
    # KEDA scales LLMs: the HPA-only rule (cpu / memory cannot reach zero) must not fire for vLLM metrics.
    assert autoscaling_problems(model(llm=LLM, scaleMetric="waiting-requests", minReplicas=0), Environment.DEV) == []


@pytest.mark.parametrize("metric", ["cpu", "memory"])
def test_standard_hpa_metrics_cannot_scale_to_zero(metric: str) -> None:
    [(key, msg)] = autoscaling_problems(model(deploymentMode="standard", scaleMetric=metric, minReplicas=0), Environment.DEV)
    assert key == "scaleMetric" and "cannot scale to zero" in msg


def test_reference_stacks_have_no_autoscaling_problems() -> None:
    for stack in ("dev", "staging", "prod", "gcp-dev", "gcp-prod"):
        cfg = stack_config(stack)
        assert [p for m in cfg.settings.models for p in autoscaling_problems(m, cfg.environment)] == []


# ---------------------------------------------------------------- who KEDA scales, and how


def test_who_keda_scales() -> None:
    assert uses_keda(model(llm=LLM, scaleMetric="waiting-requests"))
    assert uses_keda(model(deploymentMode="standard", scaleMetric="rps"))
    assert uses_keda(model(deploymentMode="standard", scaleMetric="concurrency"))
    assert not uses_keda(model(deploymentMode="standard", scaleMetric="cpu"))  # KServe's HPA
    assert not uses_keda(model(deploymentMode="knative", scaleMetric="rps"))  # Knative's KPA


def test_scale_targets_are_the_workloads_kserve_creates() -> None:
    # Each LLM version is its own LLMInferenceService <model>-v<version>; KServe names its workload <that>-kserve.
    assert scale_target_ref(model(llm=LLM, scaleMetric="kv-cache")) == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "chat-v3-kserve"}
    multi = model(llm={**LLM, "nodesPerReplica": 2}, scaleMetric="kv-cache")
    assert scale_target_ref(multi) == {"apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet", "name": "chat-v3-kserve-mn"}
    assert scale_target_ref(model(deploymentMode="standard", scaleMetric="rps"))["name"] == "chat-predictor"


def _series_names(query: str) -> set[str]:
    return set(re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{", query))


@pytest.mark.parametrize(
    ("extra", "metric_type", "series"),
    [
        ({"llm": LLM, "scaleMetric": "waiting-requests"}, "AverageValue", "vllm:num_requests_waiting"),
        ({"llm": LLM, "scaleMetric": "tokens-per-second", "scaleTarget": 900}, "AverageValue", "vllm:generation_tokens_total"),
        ({"llm": LLM, "scaleMetric": "kv-cache", "scaleTarget": 80}, "Value", "vllm:kv_cache_usage_perc"),
        ({"deploymentMode": "standard", "scaleMetric": "rps"}, "AverageValue", "request_predict_seconds_count"),
        ({"deploymentMode": "standard", "scaleMetric": "concurrency"}, "AverageValue", "request_predict_seconds_sum"),
    ],
)
def test_trigger_queries_read_catalogue_series(extra: dict, metric_type: str, series: str) -> None:
    m = model(**extra)
    query, kind = trigger_query(m)
    assert kind == metric_type
    assert _series_names(query) == {series}
    track = metrics.track_of(m)
    catalogue = set(metrics.raw_series(track)) | {f"{metrics.metrics_for(track).latency.name}_sum"}
    assert _series_names(query) <= catalogue
    assert 'namespace="team-nlp",model="chat"' in query


def test_trigger_refuses_non_keda_metric() -> None:
    with pytest.raises(ValueError, match="not a KEDA metric"):
        trigger_query(model(scaleMetric="cpu"))


def test_scaled_object_bounds_and_trigger() -> None:
    m = model(llm=LLM, scaleMetric="waiting-requests", scaleTarget=8, minReplicas=2, maxReplicas=6)
    so = scaled_object(m, Environment.PROD)
    assert (so["apiVersion"], so["kind"]) == ("keda.sh/v1alpha1", "ScaledObject")
    assert (so["metadata"]["name"], so["metadata"]["namespace"]) == ("chat-v3", "team-nlp")
    spec = so["spec"]
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (2, 6)
    [trig] = spec["triggers"]
    assert trig["type"] == "prometheus"
    assert trig["metadata"]["serverAddress"] == PROMETHEUS_ADDRESS
    assert trig["metadata"]["threshold"] == "8"


def test_scale_to_zero_only_in_dev() -> None:
    m = model(llm=LLM, scaleMetric="waiting-requests", minReplicas=0)
    assert scaled_object(m, Environment.DEV)["spec"]["minReplicaCount"] == 0
    assert scaled_object(m, Environment.PROD)["spec"]["minReplicaCount"] == 1


def test_llm_canary_gets_its_own_scaled_object_on_its_own_series() -> None:
    m = model(llm=LLM, scaleMetric="waiting-requests", canary={"version": "4", "percent": 10})
    assert scaled_names(m) == [("chat-v3", "3"), ("chat-v4", "4")]
    objs = scaled_objects(m, Environment.PROD)
    assert [o["spec"]["scaleTargetRef"]["name"] for o in objs] == ["chat-v3-kserve", "chat-v4-kserve"]
    assert ['version="3"' in o["spec"]["triggers"][0]["metadata"]["query"] for o in objs] == [True, False]
    assert ['version="4"' in o["spec"]["triggers"][0]["metadata"]["query"] for o in objs] == [False, True]
    # Standard-mode predictive models: one object, all versions.
    assert scaled_names(model(deploymentMode="standard", scaleMetric="rps")) == [("chat", None)]


@pytest.mark.parametrize(("stack", "predictive"), [("prod", "fraud-score"), ("gcp-prod", "rerank")])
def test_reference_stacks_declare_one_scaled_object_per_keda_model(stack: str, predictive: str) -> None:
    cfg = stack_config(stack)
    objs = {r.inputs["metadata"]["name"]: r for r in recording(stack).by_type("kubernetes:keda.sh/v1alpha1:ScaledObject")}
    expected = {n: (m, v) for m in cfg.settings.models if uses_keda(m) for n, v in scaled_names(m)}
    assert set(objs) == set(expected)
    assert predictive in objs and any(n.startswith("chat-v") for n in objs)
    per_model: dict[str, int] = {}
    for n, (m, version) in expected.items():
        spec = objs[n].inputs["spec"]
        assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == replica_bounds(m, cfg.environment)[version]
        assert spec["minReplicaCount"] >= 1  # prod: no scale to zero
        per_model[m.name] = per_model.get(m.name, 0) + spec["maxReplicaCount"]
    # stable + canary together stay within the model's maxReplicas (what the pool plan sized)
    assert per_model == {m.name: m.max_replicas for m in cfg.settings.models if uses_keda(m)}


@pytest.mark.parametrize(
    ("percent", "stable", "canary"),
    [(0, (2, 7), (0, 1)), (10, (2, 7), (1, 1)), (25, (2, 6), (1, 2)), (50, (2, 4), (1, 4)), (90, (1, 1), (1, 7)), (100, (0, 1), (1, 8))],
)
def test_llm_canary_splits_max_replicas_by_weight(percent: int, stable: tuple, canary: tuple) -> None:
    m = model(llm=LLM, scaleMetric="waiting-requests", minReplicas=2, maxReplicas=8, canary={"version": "4", "percent": percent})
    assert replica_bounds(m, Environment.PROD) == {"3": stable, "4": canary}
    objs = {o["metadata"]["name"]: o["spec"] for o in scaled_objects(m, Environment.PROD)}
    assert (objs["chat-v4"]["minReplicaCount"], objs["chat-v4"]["maxReplicaCount"]) == canary


def test_without_a_canary_the_model_bounds_apply() -> None:
    m = model(llm=LLM, scaleMetric="waiting-requests", minReplicas=0, maxReplicas=3)
    assert replica_bounds(m, Environment.DEV) == {"3": (0, 3)}
    assert replica_bounds(m, Environment.PROD) == {"3": (1, 3)}
