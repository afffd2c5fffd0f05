"""Grafana dashboards per model: valid dashboard JSON, the panels per track, every query from the metrics catalogue."""

from __future__ import annotations

import json
import re

import pytest

from inferstack.components.platform import MONITORING_NAMESPACE
from inferstack.config.serving import ModelConfig
from inferstack.serving import metrics
from inferstack.serving.dashboards import DASHBOARD_LABEL, dashboard, dashboard_config_map, panels
from tests.conftest import recording, stack_config

LLM = {"shape": {"parametersB": 8, "layers": 32, "kvHeads": 8}}
MODELS = {
    "llm": {"llm": LLM, "scaleMetric": "waiting-requests"},
    "knative": {},
    "standard": {"deploymentMode": "standard", "scaleMetric": "rps"},
}


def model(**extra) -> ModelConfig:
    base = {"name": "chat", "namespace": "team-nlp", "format": "huggingface", "registryModel": "llama", "version": "3"}
    base.update(extra)
    return ModelConfig.model_validate(base)


def _series(expr: str) -> set[str]:
    return set(re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{", expr))


@pytest.mark.parametrize("track", list(MODELS))
def test_every_panel_query_reads_catalogue_series_of_the_model(track: str) -> None:
    m = model(**MODELS[track])
    assert metrics.track_of(m) == track
    allowed = set(metrics.raw_series(track))
    for panel in dashboard(m)["panels"]:
        assert panel["targets"], panel["title"]
        for t in panel["targets"]:
            names = _series(t["expr"])
            assert names and names <= allowed, (panel["title"], names - allowed)
            assert 'namespace="team-nlp",model="chat"' in t["expr"]


def test_panels_per_track() -> None:
    common = {"Latency p50 / p95 / p99", "Requests per second", "Error ratio"}
    llm = {p.title for p in panels(model(**MODELS["llm"]))}
    assert llm == common | {"Time to first token p50 / p95", "Generated tokens per second", "Waiting requests", "KV-cache usage"}
    assert {p.title for p in panels(model(**MODELS["knative"]))} == common | {"Queue depth"}
    assert {p.title for p in panels(model(**MODELS["standard"]))} == common


def test_dashboard_is_grafana_json() -> None:
    d = json.loads(json.dumps(dashboard(model(**MODELS["llm"]))))
    assert d["title"] == "team-nlp/chat" and len(d["uid"]) <= 40 and isinstance(d["schemaVersion"], int)
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids))
    for p in d["panels"]:
        assert p["type"] == "timeseries" and p["datasource"] == {"type": "prometheus", "uid": "prometheus"}
        assert set(p["gridPos"]) == {"h", "w", "x", "y"} and p["gridPos"]["x"] + p["gridPos"]["w"] <= 24
        assert [t["refId"] for t in p["targets"]] == [chr(ord("A") + i) for i in range(len(p["targets"]))]
    other = dashboard(model(**MODELS["llm"], namespace="team-other"))
    assert other["uid"] != d["uid"]


def test_config_map_for_the_sidecar() -> None:
    cm = dashboard_config_map(model(**MODELS["standard"]))
    assert cm["metadata"]["namespace"] == MONITORING_NAMESPACE
    assert cm["metadata"]["labels"][DASHBOARD_LABEL[0]] == DASHBOARD_LABEL[1]
    [(key, body)] = cm["data"].items()
    assert key.endswith(".json") and json.loads(body)["title"] == "team-nlp/chat"


@pytest.mark.parametrize("stack", ["prod", "gcp-prod"])
def test_stacks_ship_one_dashboard_per_model(stack: str) -> None:
    cms = [r for r in recording(stack).by_type("kubernetes:core/v1:ConfigMap") if (r.inputs["metadata"].get("labels") or {}).get(DASHBOARD_LABEL[0])]
    titles = {json.loads(next(iter(r.inputs["data"].values())))["title"] for r in cms}
    assert titles == {f"{m.namespace}/{m.name}" for m in stack_config(stack).settings.models}
