"""The serving metrics catalogue: which raw series each runtime exports, and PromQL builders over them.

Pure functions (no Pulumi). One place for every query inferstack writes: the SLO rules (``serving/slo.py``), the
canary analysis (``inferstack rollout analyze``), KEDA triggers and dashboards.

Label contract: every serving pod carries :data:`POD_MODEL_LABEL` and :data:`POD_VERSION_LABEL`; the PodMonitors
relabel them into the series labels :data:`MODEL` and :data:`VERSION` (with :data:`NAMESPACE`), so every query
selects ``{namespace="team-nlp", model="chat", version="5"}``.

Raw series per track (checked against the runtimes' source):

- ``llm`` (vLLM behind an LLMInferenceService): ``vllm:e2e_request_latency_seconds`` and
  ``vllm:time_to_first_token_seconds`` (histograms), ``vllm:num_requests_waiting``, ``vllm:kv_cache_usage_perc``
  (0-1), ``vllm:generation_tokens_total`` (vllm/v1/metrics/loggers.py); HTTP requests with status class from
  prometheus-fastapi-instrumentator: ``http_requests_total{handler, method, status="2xx"|"5xx"}``.
- ``knative`` (predictive, Knative mode): the queue-proxy's OpenTelemetry histogram ``kn.serving.invocation.duration``
  (seconds, attribute ``http.response.status_code``), exported by Knative Serving 1.21 on port 9091
  (``http-usermetric``) as ``kn_serving_invocation_duration_seconds`` when ``config-observability`` has
  ``request-metrics-protocol: prometheus`` (knative/serving pkg/queue/request_metric.go); queue depth
  ``kn_serving_queue_depth``.
- ``standard`` (predictive, Standard mode, KServe's Python model server): ``request_predict_seconds`` (histogram,
  label ``model_name``; kserve/metrics.py v0.20.0). It has no status-coded series: availability there is the share
  of scrape targets up (``up``), a time-based SLI. With the batcher a sample is one batch, not one request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: Pod labels every serving pod carries (set by serving/, relabelled by the PodMonitors).
POD_MODEL_LABEL = "inferstack.io/model"
POD_VERSION_LABEL = "inferstack.io/version"
#: Series labels after relabelling.
NAMESPACE = "namespace"
MODEL = "model"
VERSION = "version"
#: Labels a PrometheusRule carries so the Prometheus selects it (its ``ruleSelector`` matches these).
RULE_SELECTOR_LABELS: dict[str, str] = {"inferstack.io/rules": "slo"}

LLM = "llm"
KNATIVE = "knative"
STANDARD = "standard"
TRACKS = (LLM, KNATIVE, STANDARD)

#: prometheus_client's default buckets (KServe's model server histograms use them), in seconds.
_PROMETHEUS_CLIENT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)


@dataclass(frozen=True)
class Histogram:
    """A classic Prometheus histogram: base name (``<name>_bucket``, ``_count``) and its bucket bounds in seconds."""

    name: str
    buckets: tuple[float, ...]

    @property
    def bucket(self) -> str:
        return f"{self.name}_bucket"

    @property
    def count(self) -> str:
        return f"{self.name}_count"


@dataclass(frozen=True)
class TrackMetrics:
    """The raw series of one serving track.

    ``requests`` counts every request; ``requests_match`` narrows it (e.g. vLLM's inference handlers);
    ``errors_match`` selects the server errors among them (None: the runtime exports no status, see ``standard``).
    """

    track: str
    requests: str
    requests_match: tuple[str, ...]
    errors_match: tuple[str, ...] | None
    latency: Histogram
    ttft: Histogram | None = None
    waiting: str | None = None
    tokens: str | None = None
    kv_cache: str | None = None


VLLM_E2E = Histogram(
    "vllm:e2e_request_latency_seconds",
    (0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0),
)
VLLM_TTFT = Histogram(
    "vllm:time_to_first_token_seconds",
    (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0),
)
KNATIVE_INVOCATION = Histogram(
    "kn_serving_invocation_duration_seconds", (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
)
KSERVE_PREDICT = Histogram("request_predict_seconds", _PROMETHEUS_CLIENT_BUCKETS)

CATALOGUE: dict[str, TrackMetrics] = {
    LLM: TrackMetrics(
        track=LLM,
        requests="http_requests_total",
        requests_match=('handler=~"/v1/.*"',),
        errors_match=('status="5xx"',),
        latency=VLLM_E2E,
        ttft=VLLM_TTFT,
        waiting="vllm:num_requests_waiting",
        tokens="vllm:generation_tokens_total",
        kv_cache="vllm:kv_cache_usage_perc",
    ),
    KNATIVE: TrackMetrics(
        track=KNATIVE,
        requests=KNATIVE_INVOCATION.count,
        requests_match=(),
        errors_match=('http_response_status_code=~"5.."',),
        latency=KNATIVE_INVOCATION,
        waiting="kn_serving_queue_depth",
    ),
    STANDARD: TrackMetrics(
        track=STANDARD,
        requests=KSERVE_PREDICT.count,
        requests_match=(),
        errors_match=None,
        latency=KSERVE_PREDICT,
    ),
}


def track_of(model: Any) -> str:
    """The metrics track of a ``ModelConfig``: ``llm`` with an ``llm`` block, else ``knative`` or ``standard``."""
    if getattr(model, "llm", None) is not None:
        return LLM
    mode = getattr(model, "deployment_mode", None)
    return STANDARD if getattr(mode, "value", mode) == STANDARD else KNATIVE


def metrics_for(track: str) -> TrackMetrics:
    """The catalogue entry of ``track``."""
    if track not in CATALOGUE:
        raise ValueError(f"{track}: unknown track; one of {', '.join(TRACKS)}")
    return CATALOGUE[track]


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def matchers(namespace: str, model: str, version: str | None = None, extra: Sequence[str] = ()) -> str:
    """Label matchers of one model (and version), without braces: ``namespace="ns",model="m",version="5"``."""
    parts = [f"{NAMESPACE}={_quote(namespace)}", f"{MODEL}={_quote(model)}"]
    if version is not None:
        parts.append(f"{VERSION}={_quote(str(version))}")
    return ",".join([*parts, *extra])


def _by(by: Sequence[str]) -> str:
    return f" by ({', '.join(by)})" if by else ""


def _series(name: str, sel: str) -> str:
    return f"{name}{{{sel}}}"


def request_rate(track: str, namespace: str, model: str, version: str | None = None, window: str = "5m", by: Sequence[str] = ()) -> str:
    """Requests per second over ``window``."""
    m = metrics_for(track)
    return f"sum{_by(by)}(rate({_series(m.requests, matchers(namespace, model, version, m.requests_match))}[{window}]))"


def request_count(track: str, namespace: str, model: str, version: str | None = None, window: str = "5m", by: Sequence[str] = ()) -> str:
    """Requests served in ``window`` (the canary analysis's traffic floor)."""
    m = metrics_for(track)
    return f"sum{_by(by)}(increase({_series(m.requests, matchers(namespace, model, version, m.requests_match))}[{window}]))"


def error_ratio(track: str, namespace: str, model: str, version: str | None = None, window: str = "5m", by: Sequence[str] = ()) -> str:
    """Share of requests answered with a server error (5xx) over ``window``, 0-1.

    ``standard`` track: the share of scrape targets down over ``window`` (KServe's model server exports no status)."""
    m = metrics_for(track)
    if m.errors_match is None:
        return f"1 - avg{_by(by)}(avg_over_time({_series('up', matchers(namespace, model, version))}[{window}]))"
    errors = _series(m.requests, matchers(namespace, model, version, (*m.requests_match, *m.errors_match)))
    total = _series(m.requests, matchers(namespace, model, version, m.requests_match))
    # "or vector(0)"-free: no errors at all gives an empty numerator; ``(... or 0 * total)`` keeps the ratio at 0.
    return (
        f"(sum{_by(by)}(rate({errors}[{window}])) or sum{_by(by)}(rate({total}[{window}])) * 0)"
        f" / sum{_by(by)}(rate({total}[{window}]))"
    )


def _quantile(hist: Histogram, q: float, namespace: str, model: str, version: str | None, window: str, by: Sequence[str]) -> str:
    if not 0 < q < 1:
        raise ValueError(f"{q}: a quantile is between 0 and 1")
    group = ", ".join(["le", *by])
    return f"histogram_quantile({q}, sum by ({group})(rate({_series(hist.bucket, matchers(namespace, model, version))}[{window}])))"


def latency_quantile(
    track: str, q: float, namespace: str, model: str, version: str | None = None, window: str = "5m", by: Sequence[str] = ()
) -> str:
    """Request latency quantile ``q`` (e.g. 0.95) over ``window``, in seconds (LLMs: end-to-end)."""
    return _quantile(metrics_for(track).latency, q, namespace, model, version, window, by)


def ttft_quantile(track: str, q: float, namespace: str, model: str, version: str | None = None, window: str = "5m", by: Sequence[str] = ()) -> str:
    """Time-to-first-token quantile ``q`` over ``window``, in seconds (LLM track only)."""
    m = metrics_for(track)
    if m.ttft is None:
        raise ValueError(f"{track}: no time-to-first-token series (LLM track only)")
    return _quantile(m.ttft, q, namespace, model, version, window, by)


def _le(bound: float) -> str:
    # Python clients write 5.0, Go's OpenTelemetry exporter writes 5: match both spellings.
    text = repr(float(bound))
    base = text[:-2] if text.endswith(".0") else text
    return f'le=~"{base.replace(".", "[.]")}([.]0)?"' if text.endswith(".0") else f'le="{text}"'


def slow_ratio(
    hist: Histogram, threshold_s: float, namespace: str, model: str, version: str | None = None, window: str = "5m", by: Sequence[str] = ()
) -> str:
    """Share of observations slower than ``threshold_s`` over ``window``, 0-1 (the latency SLI's bad events).

    A threshold on a bucket bound reads that bucket; between two bounds the count below it is interpolated linearly,
    as ``histogram_quantile`` does, so the alert and the quantile agree. Above the last finite bound: the last bound."""
    if threshold_s <= 0:
        raise ValueError(f"{threshold_s}: a latency threshold is positive")
    sel = matchers(namespace, model, version)
    total = f"sum{_by(by)}(rate({_series(hist.count, sel)}[{window}]))"

    def below(bound: float) -> str:
        return f"sum{_by(by)}(rate({_series(hist.bucket, sel + ',' + _le(bound))}[{window}]))"

    bounds = sorted(hist.buckets)
    if threshold_s in bounds or threshold_s >= bounds[-1]:
        good = below(threshold_s if threshold_s in bounds else bounds[-1])
    elif threshold_s < bounds[0]:
        good = f"{below(bounds[0])} * {threshold_s / bounds[0]:.6g}"
    else:
        hi = next(b for b in bounds if b > threshold_s)
        lo = bounds[bounds.index(hi) - 1]
        frac = (threshold_s - lo) / (hi - lo)
        good = f"({below(lo)} + ({below(hi)} - {below(lo)}) * {frac:.6g})"
    return f"1 - {good} / {total}"


def waiting_requests(track: str, namespace: str, model: str, version: str | None = None, by: Sequence[str] = ()) -> str:
    """Requests waiting (vLLM's scheduler queue; Knative: the queue-proxy's queue depth), summed over replicas."""
    m = metrics_for(track)
    if m.waiting is None:
        raise ValueError(f"{track}: no waiting-requests series")
    return f"sum{_by(by)}({_series(m.waiting, matchers(namespace, model, version))})"


def tokens_per_second(track: str, namespace: str, model: str, version: str | None = None, window: str = "1m", by: Sequence[str] = ()) -> str:
    """Generated tokens per second over ``window``, summed over replicas (LLM track only)."""
    m = metrics_for(track)
    if m.tokens is None:
        raise ValueError(f"{track}: no token counter (LLM track only)")
    return f"sum{_by(by)}(rate({_series(m.tokens, matchers(namespace, model, version))}[{window}]))"


def kv_cache_usage(track: str, namespace: str, model: str, version: str | None = None, percent: bool = False, by: Sequence[str] = ()) -> str:
    """Mean KV-cache use over replicas, 0-1 (``percent``: 0-100) (LLM track only)."""
    m = metrics_for(track)
    if m.kv_cache is None:
        raise ValueError(f"{track}: no KV-cache series (LLM track only)")
    expr = f"avg{_by(by)}({_series(m.kv_cache, matchers(namespace, model, version))})"
    return f"{expr} * 100" if percent else expr


def raw_series(track: str) -> tuple[str, ...]:
    """Every raw series name the builders read for ``track`` (what a scrape must provide)."""
    m = metrics_for(track)
    names = [m.requests, m.latency.bucket, m.latency.count]
    if m.errors_match is None:
        names.append("up")
    if m.ttft:
        names += [m.ttft.bucket, m.ttft.count]
    names += [n for n in (m.waiting, m.tokens, m.kv_cache) if n]
    return tuple(dict.fromkeys(names))
