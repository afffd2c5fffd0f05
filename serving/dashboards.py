"""One Grafana dashboard per model, as JSON, shipped as a ConfigMap Grafana's dashboard sidecar loads.

:func:`dashboard` is a pure builder: latency p50/p95/p99, requests per second and error ratio per version for every
model; time to first token, generated tokens per second, waiting requests and KV-cache use for LLMs; queue depth
for Knative-mode models. Every query is built by :mod:`inferstack.serving.metrics`. :func:`dashboard_config_map`
puts it in the monitoring namespace with the sidecar's label.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from inferstack.components.platform import MONITORING_NAMESPACE
from inferstack.config.serving import ModelConfig
from inferstack.serving import metrics

#: Grafana's dashboard sidecar loads ConfigMaps with this label (kube-prometheus-stack's default label).
DASHBOARD_LABEL = ("grafana_dashboard", "1")
#: The Prometheus datasource kube-prometheus-stack provisions in Grafana (uid ``prometheus``).
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
SCHEMA_VERSION = 39
BY_VERSION = (metrics.VERSION,)


@dataclass(frozen=True)
class Panel:
    title: str
    unit: str
    #: ``(PromQL, legend)`` per series.
    targets: tuple[tuple[str, str], ...]


def panels(model: ModelConfig) -> list[Panel]:
    """The panels of ``model``'s dashboard, per its metrics track."""
    track = metrics.track_of(model)
    ns, name = model.namespace, model.name
    out = [
        Panel(
            "Latency p50 / p95 / p99",
            "s",
            tuple(
                (metrics.latency_quantile(track, q, ns, name, by=BY_VERSION), f"p{round(q * 100)} v{{{{{metrics.VERSION}}}}}")
                for q in (0.5, 0.95, 0.99)
            ),
        ),
        Panel("Requests per second", "reqps", ((metrics.request_rate(track, ns, name, by=BY_VERSION), f"v{{{{{metrics.VERSION}}}}}"),)),
        Panel("Error ratio", "percentunit", ((metrics.error_ratio(track, ns, name, by=BY_VERSION), f"v{{{{{metrics.VERSION}}}}}"),)),
    ]
    if track == metrics.LLM:
        out += [
            Panel(
                "Time to first token p50 / p95",
                "s",
                tuple((metrics.ttft_quantile(track, q, ns, name, by=BY_VERSION), f"p{round(q * 100)} v{{{{{metrics.VERSION}}}}}") for q in (0.5, 0.95)),
            ),
            Panel("Generated tokens per second", "short", ((metrics.tokens_per_second(track, ns, name, by=BY_VERSION), f"v{{{{{metrics.VERSION}}}}}"),)),
            Panel("Waiting requests", "short", ((metrics.waiting_requests(track, ns, name, by=BY_VERSION), f"v{{{{{metrics.VERSION}}}}}"),)),
            Panel("KV-cache usage", "percent", ((metrics.kv_cache_usage(track, ns, name, percent=True, by=BY_VERSION), f"v{{{{{metrics.VERSION}}}}}"),)),
        ]
    elif metrics.metrics_for(track).waiting is not None:
        out.append(Panel("Queue depth", "short", ((metrics.waiting_requests(track, ns, name, by=BY_VERSION), f"v{{{{{metrics.VERSION}}}}}"),)))
    return out


def dashboard_uid(model: ModelConfig) -> str:
    """A stable Grafana uid (at most 40 characters) for ``namespace/name``."""
    return "inferstack-" + hashlib.sha256(f"{model.namespace}/{model.name}".encode()).hexdigest()[:16]


def dashboard(model: ModelConfig) -> dict[str, Any]:
    """The Grafana dashboard JSON model of ``model``: one time-series panel per :func:`panels` entry, two a row."""
    items = []
    for i, p in enumerate(panels(model)):
        items.append(
            {
                "id": i + 1,
                "type": "timeseries",
                "title": p.title,
                "datasource": dict(DATASOURCE),
                "gridPos": {"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i // 2) * 8},
                "fieldConfig": {"defaults": {"unit": p.unit}, "overrides": []},
                "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True}, "tooltip": {"mode": "multi", "sort": "none"}},
                "targets": [
                    {"refId": chr(ord("A") + j), "datasource": dict(DATASOURCE), "expr": expr, "legendFormat": legend}
                    for j, (expr, legend) in enumerate(p.targets)
                ],
            }
        )
    return {
        "uid": dashboard_uid(model),
        "title": f"{model.namespace}/{model.name}",
        "description": f"inferstack model {model.namespace}/{model.name} ({metrics.track_of(model)})",
        "tags": ["inferstack", metrics.track_of(model)],
        "timezone": "utc",
        "editable": False,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "annotations": {"list": []},
        "templating": {"list": []},
        "panels": items,
    }


def dashboard_config_map(model: ModelConfig) -> dict[str, Any]:
    """ConfigMap ``dashboard-<namespace>-<name>`` in the monitoring namespace holding the dashboard JSON."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"dashboard-{model.namespace}-{model.name}",
            "namespace": MONITORING_NAMESPACE,
            "labels": {DASHBOARD_LABEL[0]: DASHBOARD_LABEL[1], "app.kubernetes.io/managed-by": "inferstack"},
        },
        "data": {f"{model.namespace}-{model.name}.json": json.dumps(dashboard(model), indent=1, sort_keys=True)},
    }
