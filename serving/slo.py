"""Service-level objectives as Prometheus rules: a model's ``slo:`` block becomes one PrometheusRule.

Multi-window, multi-burn-rate alerts (Google SRE workbook, "Alerting on SLOs"): an alert fires when the error
budget burns faster than a factor over both a long and a short window, so it starts fast and stops soon after
recovery. The four pairs, for each objective:

============  ============  ======  ========  ======================================
long window   short window  factor  severity  budget spent at that rate (30 days)
============  ============  ======  ========  ======================================
1h            5m            14.4    page      2% in 1 hour
6h            30m           6       page      5% in 6 hours
1d            2h            3       ticket    10% in 1 day
3d            6h            1       ticket    10% in 3 days
============  ============  ======  ========  ======================================

Objectives (each a "bad events / all events" ratio, see :mod:`inferstack.serving.metrics`):

- ``availability``: server errors (5xx); budget ``1 - availability``. Standard-mode predictive models: scrape
  targets down (KServe's model server exports no status codes);
- ``latency-p95`` / ``latency-p99``: requests slower than ``latencyP95Ms`` / ``latencyP99Ms``; budget 5% / 1%;
- ``ttft-p95`` (LLMs): time to first token above ``timeToFirstTokenP95Ms``; budget 5%.

Recording rules ``inferstack:slo_<objective>:ratio_rate<window>`` (per namespace and model, all versions) feed the
alerts. The rule object lives in the model's namespace and carries :data:`~inferstack.serving.metrics.RULE_SELECTOR_LABELS`,
which the platform Prometheus's ``ruleSelector`` matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from inferstack.components.custom_resource import custom_resource
from inferstack.config.serving import ModelConfig, SloConfig
from inferstack.serving import metrics as m

#: Where the alerts' runbook is, relative to the repository.
RUNBOOK = "docs/serving.md#slos-and-alerts"
PAGE = "page"
TICKET = "ticket"


@dataclass(frozen=True)
class BurnWindow:
    """One alert of the multi-window pair: long and short window, burn-rate factor, severity."""

    long: str
    short: str
    factor: float
    severity: str


BURN_WINDOWS: tuple[BurnWindow, ...] = (
    BurnWindow("1h", "5m", 14.4, PAGE),
    BurnWindow("6h", "30m", 6, PAGE),
    BurnWindow("1d", "2h", 3, TICKET),
    BurnWindow("3d", "6h", 1, TICKET),
)
#: Every window a recording rule is kept for.
RATE_WINDOWS: tuple[str, ...] = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")


@dataclass(frozen=True)
class Objective:
    """One objective of a model: its name, error budget (0-1) and the PromQL of its bad-event ratio per window."""

    name: str  # availability, latency-p95, latency-p99, ttft-p95
    budget: float
    target: str  # what is promised, for the alert text
    ratio: Any  # Callable[[str], str]: window -> PromQL of the bad-event ratio

    @property
    def record_prefix(self) -> str:
        return f"inferstack:slo_{self.name.replace('-', '_')}"

    def record(self, window: str) -> str:
        return f"{self.record_prefix}:ratio_rate{window}"

    @property
    def alert_stem(self) -> str:
        return "SLO" + "".join(p.capitalize() for p in self.name.split("-")) + "Burn"


def objectives(model: ModelConfig) -> list[Objective]:
    """The objectives of a model with an ``slo`` (empty without one)."""
    slo: SloConfig | None = model.slo
    if slo is None:
        return []
    track = m.track_of(model)
    tm = m.metrics_for(track)
    ns, name, by = model.namespace, model.name, (m.NAMESPACE, m.MODEL)
    out = [
        Objective(
            "availability",
            slo.error_rate,
            f"{slo.availability * 100:g}% of requests without a server error",
            lambda w: m.error_ratio(track, ns, name, window=w, by=by),
        )
    ]
    for q, ms in ((95, slo.latency_p95_ms), (99, slo.latency_p99_ms)):
        if ms:
            out.append(
                Objective(
                    f"latency-p{q}",
                    (100 - q) / 100,
                    f"{q}% of requests faster than {ms} ms",
                    lambda w, ms=ms: m.slow_ratio(tm.latency, ms / 1000, ns, name, window=w, by=by),
                )
            )
    if slo.time_to_first_token_p95_ms and tm.ttft is not None:
        ms = slo.time_to_first_token_p95_ms
        out.append(
            Objective(
                "ttft-p95",
                0.05,
                f"95% of requests with a first token within {ms} ms",
                lambda w: m.slow_ratio(tm.ttft, ms / 1000, ns, name, window=w, by=by),
            )
        )
    return out


def _selector(model: ModelConfig) -> str:
    return "{" + m.matchers(model.namespace, model.name) + "}"


def rule_groups(model: ModelConfig) -> list[dict[str, Any]]:
    """The Prometheus rule groups of a model's SLO: one recording group and one alerting group (empty without slo)."""
    objs = objectives(model)
    if not objs:
        return []
    stem = f"inferstack-slo-{model.namespace}-{model.name}"
    records = [
        {"record": o.record(w), "expr": o.ratio(w), "labels": {"slo": o.name}} for o in objs for w in RATE_WINDOWS
    ]
    alerts = []
    sel = _selector(model)
    for o in objs:
        for bw in BURN_WINDOWS:
            threshold = f"{bw.factor:g} * {o.budget:.6g}"
            alerts.append(
                {
                    "alert": f"{o.alert_stem}{bw.long}",
                    "expr": (
                        f"{o.record(bw.long)}{sel} > ({threshold})\n"
                        f"and\n{o.record(bw.short)}{sel} > ({threshold})"
                    ),
                    "labels": {
                        "severity": bw.severity,
                        "slo": o.name,
                        "burn_rate": f"{bw.factor:g}",
                        "long_window": bw.long,
                        "short_window": bw.short,
                    },
                    "annotations": {
                        "summary": f"{model.namespace}/{model.name}: {o.name} error budget burning {bw.factor:g}x over {bw.long}",
                        "description": (
                            f"Objective: {o.target} (budget {o.budget * 100:.4g}% over {model.slo.window_days} days). "
                            f"The bad-event ratio is above {bw.factor:g}x the budget over {bw.long}, and still over "
                            f"the last {bw.short}: at this rate the budget lasts {model.slo.window_days / bw.factor:.3g} days."
                        ),
                        "runbook_url": RUNBOOK,
                    },
                }
            )
    return [{"name": f"{stem}-recording", "rules": records}, {"name": f"{stem}-alerts", "rules": alerts}]


def prometheus_rule(model: ModelConfig) -> dict[str, Any] | None:
    """The ``monitoring.coreos.com/v1`` PrometheusRule of a model with an ``slo`` (None without one)."""
    groups = rule_groups(model)
    if not groups:
        return None
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": f"{model.name}-slo",
            "namespace": model.namespace,
            "labels": {**m.RULE_SELECTOR_LABELS, "app.kubernetes.io/managed-by": "inferstack", m.POD_MODEL_LABEL: model.name},
        },
        "spec": {"groups": groups},
    }


class SloRules(pulumi.ComponentResource):
    """A model's SLO as a PrometheusRule: recording rules and multi-window burn-rate alerts (see module docstring).

    Provisions ``monitoring.coreos.com/v1`` ``PrometheusRule`` ``<model>-slo`` in the model's namespace, labelled
    with :data:`~inferstack.serving.metrics.RULE_SELECTOR_LABELS` so the platform Prometheus loads it.

    Args:
        name (str): component name; the child is ``<name>-rule``.
        model (ModelConfig): a model entry with an ``slo``.
        provider (k8s.Provider): provider of the cluster.
        depends_on (list[pulumi.Resource] | None, default None): what the rule waits for (the PrometheusRule CRD, the namespace).
        opts (pulumi.ResourceOptions | None, default None): options of the component.

    Outputs:
        rule (k8s.apiextensions.CustomResource). Registered outputs: ``name``, ``namespace``, ``alerts`` (count).
    """

    def __init__(
        self,
        name: str,
        model: ModelConfig,
        provider: k8s.Provider,
        depends_on: list[pulumi.Resource] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("inferstack:serving:SloRules", name, None, opts)
        obj = prometheus_rule(model)
        if obj is None:
            raise ValueError(f"{model.namespace}/{model.name}: no slo")
        self.rule: k8s.apiextensions.CustomResource = custom_resource(
            f"{name}-rule", obj, pulumi.ResourceOptions(parent=self, provider=provider, depends_on=depends_on or [])
        )
        alerts = sum(1 for g in obj["spec"]["groups"] for r in g["rules"] if "alert" in r)
        self.register_outputs({"name": obj["metadata"]["name"], "namespace": model.namespace, "alerts": alerts})
