"""SLO-gated canary analysis: compare a canary with the stable version and the model's SLO; promote, hold or rollback.

Pure decision (:func:`decide`, numbers in, decision out) plus a small Prometheus HTTP API client
(:class:`PrometheusClient`, ``/api/v1/query``) and :func:`measure`, which reads one version's numbers with the
queries of :mod:`inferstack.serving.metrics`.

Decision, in order:

1. **hold** when the canary served fewer than ``canary.analysis.minRequests`` requests in the window (too little
   traffic to judge);
2. **rollback** when the canary breaks an objective of the SLO (error ratio above ``1 - availability``; p95 / p99
   latency or p95 time to first token above the objective) and is worse than the stable version there; **hold**
   when the stable version breaks it as much (not the canary's doing);
3. **hold** when a measurement the SLO needs is missing, or the canary's p95 exceeds the stable one's by more than
   ``canary.analysis.maxLatencyRatio`` (slower, within the SLO);
4. **promote** otherwise.
"""

from __future__ import annotations

import math
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from typing import Any

from inferstack.config.bounded import json_value
from inferstack.config.serving import CanaryAnalysis, ModelConfig, SloConfig
from inferstack.serving import metrics as m

PROMOTE, HOLD, ROLLBACK = "promote", "hold", "rollback"


@dataclass(frozen=True)
class VersionStats:
    """One version's numbers over the window: requests, server-error ratio (0-1), latencies in ms (None: no data)."""

    version: str
    requests: float | None
    error_ratio: float | None
    p95_ms: float | None
    p99_ms: float | None = None
    ttft_p95_ms: float | None = None


@dataclass(frozen=True)
class Decision:
    """The analysis result: ``action`` (promote / hold / rollback), why, and the numbers it was based on."""

    action: str
    reasons: list[str]
    stable: VersionStats
    canary: VersionStats
    objectives: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.action,
            "reasons": list(self.reasons),
            "objectives": dict(self.objectives),
            "stable": asdict(self.stable),
            "canary": asdict(self.canary),
        }


def objectives_of(slo: SloConfig) -> dict[str, float]:
    """The objectives a canary is held to: ``errorRatio`` (0-1) and latencies in ms."""
    out: dict[str, float] = {"errorRatio": round(slo.error_rate, 10)}
    if slo.latency_p95_ms:
        out["p95Ms"] = slo.latency_p95_ms
    if slo.latency_p99_ms:
        out["p99Ms"] = slo.latency_p99_ms
    if slo.time_to_first_token_p95_ms:
        out["ttftP95Ms"] = slo.time_to_first_token_p95_ms
    return out


_CHECKS = (  # objective key, VersionStats field, label, unit
    ("errorRatio", "error_ratio", "error ratio", ""),
    ("p95Ms", "p95_ms", "p95 latency", " ms"),
    ("p99Ms", "p99_ms", "p99 latency", " ms"),
    ("ttftP95Ms", "ttft_p95_ms", "p95 time to first token", " ms"),
)


def _fmt(value: float, unit: str) -> str:
    return f"{value * 100:.3g}%" if not unit else f"{value:.0f}{unit}"


def decide(stable: VersionStats, canary: VersionStats, slo: SloConfig, analysis: CanaryAnalysis) -> Decision:
    """Promote, hold or rollback the canary (see the module docstring for the order of the rules)."""
    objectives = objectives_of(slo)

    def result(action: str, reasons: list[str]) -> Decision:
        return Decision(action, reasons, stable, canary, objectives)

    if canary.requests is None or canary.requests < analysis.min_requests:
        seen = 0 if canary.requests is None else canary.requests
        return result(HOLD, [f"too little traffic: the canary served {seen:.0f} requests, fewer than minRequests {analysis.min_requests}"])
    breaks, holds = [], []
    for key, attr, label, unit in _CHECKS:
        if key not in objectives:
            continue
        limit, value, base = objectives[key], getattr(canary, attr), getattr(stable, attr)
        if value is None:
            holds.append(f"no {label} data for the canary")
        elif value > limit:
            if base is not None and base >= value:
                holds.append(
                    f"{label} {_fmt(value, unit)} breaks the objective {_fmt(limit, unit)}, but the stable version's "
                    f"{_fmt(base, unit)} does too"
                )
            else:
                breaks.append(f"{label} {_fmt(value, unit)} breaks the objective {_fmt(limit, unit)}")
    if breaks:
        return result(ROLLBACK, breaks)
    if canary.p95_ms is not None and stable.p95_ms and canary.p95_ms > stable.p95_ms * analysis.max_latency_ratio:
        holds.append(
            f"p95 latency {canary.p95_ms:.0f} ms is more than {analysis.max_latency_ratio:g}x the stable version's "
            f"{stable.p95_ms:.0f} ms (within the SLO)"
        )
    if holds:
        return result(HOLD, holds)
    return result(PROMOTE, [f"the canary meets the SLO over {canary.requests:.0f} requests"])


# ---------------------------------------------------------------- Prometheus


class PrometheusError(Exception):
    """The Prometheus API could not be reached or gave no usable answer (exit 3)."""


class PrometheusClient:
    """Instant queries against a Prometheus HTTP API (``GET <url>/api/v1/query``), with a timeout per request."""

    def __init__(self, url: str, timeout: float = 10.0):
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"{url!r} is not an http(s) URL, e.g. http://prometheus.monitoring:9090")
        self.url = url.rstrip("/")
        self.timeout = timeout

    def query(self, promql: str) -> float | None:
        """The value of an instant query: the sum of its samples; None when it returns no (finite) sample."""
        endpoint = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        try:
            with urllib.request.urlopen(endpoint, timeout=self.timeout) as resp:
                body = resp.read()
        except urllib.error.HTTPError as err:
            body = err.read()
            try:
                detail = json_value(body.decode("utf-8", "replace")).get("error") or err.reason
            except (ValueError, AttributeError):
                detail = err.reason
            raise PrometheusError(f"Prometheus at {self.url} answered HTTP {err.code}: {detail}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise PrometheusError(f"cannot reach Prometheus at {self.url}: {reason}") from None
        try:
            doc = json_value(body.decode("utf-8", "replace"))
            if doc.get("status") != "success":
                raise PrometheusError(f"Prometheus at {self.url} refused the query: {doc.get('error', doc.get('status'))}")
            data = doc["data"]
            if data["resultType"] == "scalar":
                samples = [data["result"][1]]
            elif data["resultType"] == "vector":
                samples = [s["value"][1] for s in data["result"]]
            else:
                raise PrometheusError(f"Prometheus at {self.url}: unexpected result type {data['resultType']!r}")
            values = [float(v) for v in samples]
        except (ValueError, KeyError, TypeError, IndexError, AttributeError):
            raise PrometheusError(f"{self.url} did not answer like a Prometheus API (/api/v1/query)") from None
        finite = [v for v in values if math.isfinite(v)]
        return sum(finite) if finite else None


def measure(client: PrometheusClient, model: ModelConfig, version: str, window: str) -> VersionStats:
    """One version's numbers over ``window`` from Prometheus (queries of :mod:`inferstack.serving.metrics`)."""
    track = m.track_of(model)
    ns, name = model.namespace, model.name
    slo = model.slo

    def ms(value: float | None) -> float | None:
        return None if value is None else value * 1000

    return VersionStats(
        version=version,
        requests=client.query(m.request_count(track, ns, name, version, window)),
        error_ratio=client.query(m.error_ratio(track, ns, name, version, window)),
        p95_ms=ms(client.query(m.latency_quantile(track, 0.95, ns, name, version, window))),
        p99_ms=ms(client.query(m.latency_quantile(track, 0.99, ns, name, version, window))) if slo and slo.latency_p99_ms else None,
        ttft_p95_ms=(
            ms(client.query(m.ttft_quantile(track, 0.95, ns, name, version, window)))
            if slo and slo.time_to_first_token_p95_ms and m.metrics_for(track).ttft is not None
            else None
        ),
    )
