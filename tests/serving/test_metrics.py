"""The metrics catalogue: raw series per track and the PromQL builders over them."""

from __future__ import annotations

import pytest

from inferstack.config.serving import ModelConfig
from inferstack.serving import metrics as m


def _model(**kw):
    base = {"name": "chat", "namespace": "team-nlp", "format": "huggingface", "registry_model": "x", "version": "3"}
    return ModelConfig(**{**base, **kw})


def test_track_of_models():
    assert m.track_of(_model(llm={"shape": {"parameters_b": 8, "layers": 32, "kv_heads": 8, "head_dim": 128}})) == m.LLM
    assert m.track_of(_model()) == m.KNATIVE
    assert m.track_of(_model(deployment_mode="standard")) == m.STANDARD


def test_catalogue_names_the_runtimes_series():
    llm = m.metrics_for(m.LLM)
    assert llm.latency.name == "vllm:e2e_request_latency_seconds"
    assert llm.ttft.name == "vllm:time_to_first_token_seconds"
    assert (llm.waiting, llm.tokens, llm.kv_cache) == (
        "vllm:num_requests_waiting", "vllm:generation_tokens_total", "vllm:kv_cache_usage_perc")
    assert m.metrics_for(m.KNATIVE).requests == "kn_serving_invocation_duration_seconds_count"
    assert m.metrics_for(m.STANDARD).latency.name == "request_predict_seconds"
    assert "up" in m.raw_series(m.STANDARD) and "up" not in m.raw_series(m.LLM)
    with pytest.raises(ValueError, match="unknown track"):
        m.metrics_for("nope")


def test_selectors_use_the_relabelled_labels():
    assert m.matchers("team-nlp", "chat", "5") == 'namespace="team-nlp",model="chat",version="5"'
    assert m.matchers("ns", "m") == 'namespace="ns",model="m"'
    assert m.request_rate(m.LLM, "ns", "m", "5", "10m") == (
        'sum(rate(http_requests_total{namespace="ns",model="m",version="5",handler=~"/v1/.*"}[10m]))')


def test_error_ratio_counts_5xx_and_is_zero_without_errors():
    q = m.error_ratio(m.KNATIVE, "ns", "m", window="5m", by=("version",))
    assert 'http_response_status_code=~"5.."' in q
    assert " or " in q and q.count("sum by (version)") == 3
    assert m.error_ratio(m.STANDARD, "ns", "m").startswith("1 - avg(avg_over_time(up{")


def test_quantiles_group_by_le():
    q = m.latency_quantile(m.LLM, 0.95, "ns", "m", "5", "10m")
    assert q.startswith("histogram_quantile(0.95, sum by (le)(rate(vllm:e2e_request_latency_seconds_bucket{")
    assert "vllm:time_to_first_token_seconds_bucket" in m.ttft_quantile(m.LLM, 0.95, "ns", "m")
    with pytest.raises(ValueError, match="LLM track only"):
        m.ttft_quantile(m.KNATIVE, 0.95, "ns", "m")
    with pytest.raises(ValueError, match="between 0 and 1"):
        m.latency_quantile(m.LLM, 95, "ns", "m")


def test_slow_ratio_reads_a_bound_or_interpolates():
    on_bound = m.slow_ratio(m.KSERVE_PREDICT, 0.05, "ns", "m")
    assert 'le="0.05"' in on_bound and "*" not in on_bound
    whole = m.slow_ratio(m.VLLM_E2E, 5.0, "ns", "m")
    assert 'le=~"5([.]0)?"' in whole
    between = m.slow_ratio(m.VLLM_E2E, 4.0, "ns", "m")  # between 2.5 and 5.0: 60% of the way
    assert 'le="2.5"' in between and 'le=~"5([.]0)?"' in between and "* 0.6)" in between


def test_llm_gauges_and_tokens():
    assert m.waiting_requests(m.LLM, "ns", "m") == 'sum(vllm:num_requests_waiting{namespace="ns",model="m"})'
    assert m.kv_cache_usage(m.LLM, "ns", "m", percent=True).endswith(" * 100")
    assert m.tokens_per_second(m.LLM, "ns", "m", window="2m").startswith("sum(rate(vllm:generation_tokens_total{")
    with pytest.raises(ValueError):
        m.tokens_per_second(m.STANDARD, "ns", "m")
