"""Canary analysis decisions (pure): traffic floor, SLO breaches against the stable version, latency ratio."""

from __future__ import annotations

import pytest

from inferstack.config.serving import CanaryAnalysis, SloConfig
from inferstack.serving.analysis import HOLD, PROMOTE, ROLLBACK, PrometheusClient, VersionStats, decide

SLO = SloConfig(availability=0.999, latency_p95_ms=4000, time_to_first_token_p95_ms=800)
RULES = CanaryAnalysis(min_requests=100, max_latency_ratio=1.2)
STABLE = VersionStats("3", requests=5000, error_ratio=0.0, p95_ms=2000, ttft_p95_ms=300)


def canary(**kw) -> VersionStats:
    return VersionStats(**{"version": "5", "requests": 500, "error_ratio": 0.0, "p95_ms": 2100, "ttft_p95_ms": 310, **kw})


def test_healthy_canary_is_promoted_with_numbers():
    d = decide(STABLE, canary(), SLO, RULES)
    assert d.action == PROMOTE
    assert d.to_dict()["canary"]["p95_ms"] == 2100 and d.to_dict()["objectives"]["p95Ms"] == 4000


@pytest.mark.parametrize("requests", [None, 0, 99])
def test_too_little_traffic_holds(requests):
    d = decide(STABLE, canary(requests=requests, error_ratio=0.5), SLO, RULES)
    assert d.action == HOLD and "too little traffic" in d.reasons[0]


@pytest.mark.parametrize(
    ("change", "words"),
    [({"error_ratio": 0.002}, "error ratio"), ({"p95_ms": 4500}, "p95 latency"), ({"ttft_p95_ms": 900}, "time to first token")],
)
def test_breaking_an_objective_rolls_back(change, words):
    d = decide(STABLE, canary(**change), SLO, RULES)
    assert d.action == ROLLBACK and words in d.reasons[0]


def test_stable_breaking_as_much_holds_instead():
    stable = VersionStats("3", requests=5000, error_ratio=0.01, p95_ms=2000, ttft_p95_ms=300)
    d = decide(stable, canary(error_ratio=0.005), SLO, RULES)
    assert d.action == HOLD and "stable version" in d.reasons[0]


def test_slower_within_slo_holds_and_missing_data_holds():
    assert decide(STABLE, canary(p95_ms=2500), SLO, RULES).action == HOLD  # 1.25x the stable p95
    assert decide(STABLE, canary(p95_ms=2300), SLO, RULES).action == PROMOTE  # 1.15x
    d = decide(STABLE, canary(ttft_p95_ms=None), SLO, RULES)
    assert d.action == HOLD and "no p95 time to first token data" in d.reasons[0]


def test_p99_objective_is_checked_when_declared():
    slo = SloConfig(availability=0.9995, latency_p95_ms=50, latency_p99_ms=120)
    stable = VersionStats("4", 5000, 0.0, 30, p99_ms=80)
    assert decide(stable, VersionStats("5", 500, 0.0, 32, p99_ms=150), slo, RULES).action == ROLLBACK
    assert decide(stable, VersionStats("5", 500, 0.0, 32, p99_ms=90), slo, RULES).action == PROMOTE


def test_client_refuses_a_non_http_url():
    with pytest.raises(ValueError, match="not an http"):
        PrometheusClient("localhost:9090")
