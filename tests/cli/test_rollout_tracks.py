"""``inferstack rollout status`` / ``analyze`` per serving track: Knative tag routes only for Knative-mode models,
the routing group (weights, Gateway, HTTPRoutes, pools) for LLMInferenceService versions, the predictor Service for
Standard-mode models; each checked against the objects the offline engine records for the same stack."""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from inferstack.engine import run_stack
from inferstack.load import load_stack_file
from inferstack.serving import llm
from inferstack.serving import metrics as m
from tests.cli.test_rollout import run
from tests.conftest import stack_path

LLMISVC = "kubernetes:serving.kserve.io/v1alpha2:LLMInferenceService"
ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"


def _copy(tmp_path: Path, stack: str, replace: tuple[tuple[str, str], ...] = ()) -> Path:
    text = stack_path(stack).read_text()
    for old, new in replace:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(text)
    return path


def _status(capsys, path: Path, *extra: str) -> tuple[int, str, str]:
    return run(capsys, "rollout", "status", "--config", str(path), *extra)


def _objects(path: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """type -> ``namespace/name`` -> inputs, of the serving objects the engine records for the stack file."""
    rec = run_stack(load_stack_file(path))
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rec.resources:
        if r.type in (LLMISVC, ISVC, GATEWAY):
            meta = r.inputs["metadata"]
            out.setdefault(r.type, {})[f"{meta['namespace']}/{meta['name']}"] = r.inputs
    return out


# ---------------------------------------------------------------- status


def test_status_text_names_each_tracks_routes(capsys, tmp_path):
    code, out, err = _status(capsys, _copy(tmp_path, "prod"))
    assert code == 0, err
    blocks = {f"team-{b.split(':', 1)[0]}": b for b in out.split("\n  team-")[1:]}
    assert list(blocks) == [f"{m.namespace}/{m.name}" for m in load_stack_file(stack_path("prod")).settings.models]
    chat, summarize, embed, classify, fraud, reason = (
        blocks[k] for k in ("team-nlp/chat", "team-nlp/summarize", "team-search/embed", "team-search/classify",
                            "team-search/fraud-score", "team-nlp/reason")
    )
    # LLM track: the routing group on the Gateway, each version's weight, route, pool and direct path; no Knative tags.
    assert "LLMInferenceService routing group chat on Gateway inferstack-gateway/inference: /publishers/team-nlp/models/chat/v1/..." in chat
    assert ("v3 stable: chat-v3 router.route.weight 90, HTTPRoute chat-v3-kserve-route, InferencePool chat-v3-inference-pool, "
            "direct /team-nlp/chat-v3/v1/...") in chat
    assert "v5 canary: chat-v5 router.route.weight 10, HTTPRoute chat-v5-kserve-route" in chat
    assert "tag routes" not in chat and "-predictor" not in chat
    # Knative mode: the InferenceService and the latest- tag route (no prev- without a canary).
    assert "Knative mode: InferenceService summarize\n" in summarize
    assert summarize.endswith("tag routes: latest-summarize-predictor.team-nlp.svc.cluster.local") and "prev-" not in summarize
    assert "tag routes: latest-embed-predictor.team-search.svc.cluster.local" in embed
    assert "Knative mode: InferenceService classify\n" in classify
    assert "tag routes: latest-classify-predictor.team-search.svc.cluster.local" in classify
    # Standard mode: the Service KServe creates, no tag routes.
    assert ("Standard mode: InferenceService fraud-score, Service fraud-score-predictor "
            "(fraud-score-predictor.team-search.svc.cluster.local); no canary in Standard mode") in fraud
    assert "tag routes" not in fraud and "latest-" not in fraud
    # A multi-node LLM is on the LLM track too: its own routing group, one stable version at weight 100.
    assert "LLMInferenceService routing group reason on Gateway inferstack-gateway/inference: /publishers/team-nlp/models/reason/v1/..." in reason
    assert "v1 stable: reason-v1 router.route.weight 100, HTTPRoute reason-v1-kserve-route" in reason
    assert "canary" not in reason.split("\n", 1)[1] and "tag routes" not in reason


def test_status_json_matches_the_declared_objects(capsys, tmp_path):
    path = _copy(tmp_path, "prod")
    code, out, err = _status(capsys, path, "--format", "json")
    assert code == 0, err
    rows = {r["model"]: r for r in json.loads(out)["models"]}
    objects = _objects(path)

    chat = rows["team-nlp/chat"]
    assert chat["track"] == "llm" and "tagRoutes" not in chat and "inferenceService" not in chat
    gateway = next(iter(objects[GATEWAY]))
    assert chat["gateway"] == gateway == "inferstack-gateway/inference"
    assert [v["version"] for v in chat["versions"]] == ["3", "5"]
    for v in chat["versions"]:
        obj = objects[LLMISVC][f"team-nlp/{v['llmInferenceService']}"]
        assert v["weight"] == obj["spec"]["router"]["route"]["weight"]
        assert chat["routingGroup"] == obj["spec"]["router"]["route"]["group"] == "chat"
        assert [f"{r['namespace']}/{r['name']}" for r in obj["spec"]["router"]["gateway"]["refs"]] == [gateway]
        assert v["httpRoute"] == f"{obj['metadata']['name']}-kserve-route"
        assert v["inferencePool"] == f"{obj['metadata']['name']}-inference-pool"
        assert v["path"] == f"/team-nlp/{obj['metadata']['name']}/v1/"
    assert {v["role"]: v["weight"] for v in chat["versions"]} == {"stable": 90, "canary": 10}
    assert chat["path"] == "/publishers/team-nlp/models/chat/v1/"

    summarize = rows["team-nlp/summarize"]
    obj = objects[ISVC]["team-nlp/summarize"]
    assert summarize["track"] == "knative" and summarize["deploymentMode"] == obj["metadata"]["annotations"]["serving.kserve.io/deploymentMode"]
    assert summarize["tagRoutes"] == {"latest": "latest-summarize-predictor.team-nlp.svc.cluster.local"}
    assert summarize["canaryTrafficPercent"] is None and "canaryTrafficPercent" not in obj["spec"]["predictor"]

    fraud = rows["team-search/fraud-score"]
    obj = objects[ISVC]["team-search/fraud-score"]
    assert fraud["track"] == "standard" and obj["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Standard"
    assert (fraud["service"], fraud["host"]) == ("fraud-score-predictor", "fraud-score-predictor.team-search.svc.cluster.local")
    assert "tagRoutes" not in fraud and "versions" not in fraud


def test_knative_canary_shows_both_tag_routes_and_its_percent(capsys, tmp_path):
    path = _copy(tmp_path, "staging")
    code, out, err = _status(capsys, path, "--model", "chat", "--format", "json")
    assert code == 0, err
    (chat,) = json.loads(out)["models"]
    assert chat["track"] == "knative"
    assert chat["canaryTrafficPercent"] == 20 == _objects(path)[ISVC]["team-nlp/chat"]["spec"]["predictor"]["canaryTrafficPercent"]
    assert chat["tagRoutes"] == {"latest": "latest-chat-predictor.team-nlp.svc.cluster.local",
                                 "prev": "prev-chat-predictor.team-nlp.svc.cluster.local"}
    code, out, _ = _status(capsys, path, "--model", "chat")
    assert "Knative mode: InferenceService chat, canaryTrafficPercent 20\n" in out
    assert "tag routes: latest-chat-predictor.team-nlp.svc.cluster.local, prev-chat-predictor.team-nlp.svc.cluster.local" in out


def test_llm_weights_follow_rollback_and_promote(capsys, tmp_path):
    path = _copy(tmp_path, "prod")
    assert run(capsys, "rollout", "rollback", "--config", str(path), "--model", "chat")[0] == 0
    code, out, _ = _status(capsys, path, "--model", "chat", "--format", "json")
    (chat,) = json.loads(out)["models"]
    assert {v["llmInferenceService"]: v["weight"] for v in chat["versions"]} == {"chat-v3": 100, "chat-v5": 0}
    assert run(capsys, "rollout", "promote", "--config", str(path), "--model", "chat", "--force")[0] == 0
    code, out, _ = _status(capsys, path, "--model", "chat", "--format", "json")
    (chat,) = json.loads(out)["models"]
    assert [(v["llmInferenceService"], v["role"], v["weight"]) for v in chat["versions"]] == [("chat-v5", "stable", 100)]
    # chat's canary is now its only version; the other LLM model (reason) is untouched.
    assert set(_objects(path)[LLMISVC]) == {"team-nlp/chat-v5", "team-nlp/reason-v1"}


def test_long_names_are_hashed_as_kserve_names_children():
    name = "a" * 60
    obj = {"metadata": {"name": name, "namespace": "team"},
           "spec": {"model": {"name": "m"}, "router": {"route": {"group": "m", "weight": 100}, "gateway": {"refs": [{"name": "gw"}]}}}}
    r = llm.kserve_routing(obj)
    assert r["httpRoute"] == llm.child_name(name, "-kserve-route") and len(r["httpRoute"]) == 63
    assert r["httpRoute"] != name + "-kserve-route" and r["httpRoute"].endswith("-kserve-route")
    assert r["gateways"] == ["team/gw"]  # a ref without a namespace is the object's namespace


# ---------------------------------------------------------------- analyze


class _FakePrometheus(BaseHTTPRequestHandler):
    """A Prometheus HTTP API answering instant queries from a table (promql -> value); anything else: no sample."""

    answers: dict[str, float] = {}

    def do_GET(self):  # noqa: N802 (http.server's name)
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query).get("query", [""])[0]
        value = self.answers.get(query) if url.path == "/api/v1/query" else None
        result = [] if value is None else [{"metric": {}, "value": [0, str(value)]}]
        body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_prometheus():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakePrometheus)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


def _healthy(model: Any, window: str = "10m") -> dict[str, float]:
    """The answers of a healthy stable and canary for ``model``: 1,000 requests, no errors, p95 0.5 s, TTFT 0.1 s."""
    track, ns, name = m.track_of(model), model.namespace, model.name
    out: dict[str, float] = {}
    for version in (model.version, model.canary.version):
        out[m.request_count(track, ns, name, version, window)] = 1000
        out[m.error_ratio(track, ns, name, version, window)] = 0
        for q in (0.95, 0.99):
            out[m.latency_quantile(track, q, ns, name, version, window)] = 0.5
        if m.metrics_for(track).ttft is not None:
            out[m.ttft_quantile(track, 0.95, ns, name, version, window)] = 0.1
    return out


SLO = "      slo: {availability: 0.999, latencyP95Ms: 2000}\n"


def test_analyze_names_the_llm_routing_group_and_the_weights_advance_sets(capsys, tmp_path, fake_prometheus):
    path = _copy(tmp_path, "prod")
    model = load_stack_file(path).settings.models[0]
    _FakePrometheus.answers = _healthy(model)
    url = f"http://127.0.0.1:{fake_prometheus.server_port}"
    code, out, err = run(capsys, "rollout", "analyze", "--config", str(path), "--model", "chat", "--prometheus", url)
    assert code == 0, err
    assert "compares LLMInferenceServices chat-v3 (v3, weight 90) and chat-v5 (v5, weight 10) of routing group chat" in out
    assert "decision: promote" in out
    # prod's chat steps [10, 25, 50, 100]: the next step is 25.
    assert "advance: routing group chat: chat-v3: router.route.weight 90 -> 75; chat-v5: router.route.weight 10 -> 25" in out
    assert "canaryTrafficPercent" not in out and "tag route" not in out
    code, out, err = run(capsys, "rollout", "analyze", "--config", str(path), "--model", "chat", "--prometheus", url, "--format", "json")
    doc = json.loads(out)
    assert doc["decision"] == "promote" and doc["routing"]["track"] == "llm"
    assert doc["advance"] == ["routing group chat: chat-v3: router.route.weight 90 -> 75; chat-v5: router.route.weight 10 -> 25"]


def test_analyze_of_a_failing_llm_canary_says_its_weight_goes_to_0(capsys, tmp_path, fake_prometheus):
    path = _copy(tmp_path, "prod")
    model = load_stack_file(path).settings.models[0]
    _FakePrometheus.answers = {**_healthy(model), m.error_ratio("llm", "team-nlp", "chat", "5", "10m"): 0.05}
    url = f"http://127.0.0.1:{fake_prometheus.server_port}"
    code, out, err = run(capsys, "rollout", "analyze", "--config", str(path), "--model", "chat", "--prometheus", url)
    assert code == 0, err
    assert "decision: rollback" in out
    assert "advance: routing group chat: chat-v3: router.route.weight 90 -> 100; chat-v5: router.route.weight 10 -> 0" in out


def test_analyze_of_a_knative_canary_names_canary_traffic_percent(capsys, tmp_path, fake_prometheus):
    path = _copy(tmp_path, "staging", (("      maxReplicas: 4\n", "      maxReplicas: 4\n" + SLO),))
    model = load_stack_file(path).settings.models[0]
    assert m.track_of(model) == "knative"
    _FakePrometheus.answers = _healthy(model)
    url = f"http://127.0.0.1:{fake_prometheus.server_port}"
    code, out, err = run(capsys, "rollout", "analyze", "--config", str(path), "--model", "chat", "--prometheus", url)
    assert code == 0, err
    assert ("compares InferenceService chat (Knative mode): stable revision v4 and canary revision v5 at "
            "canaryTrafficPercent 20") in out
    assert "advance: InferenceService chat: canaryTrafficPercent 20 -> 25" in out
    assert "routing group" not in out and "LLMInferenceService" not in out
    _FakePrometheus.answers = {**_healthy(model), m.latency_quantile("knative", 0.95, "team-nlp", "chat", "5", "10m"): 9.0}
    code, out, err = run(capsys, "rollout", "analyze", "--config", str(path), "--model", "chat", "--prometheus", url)
    assert "decision: rollback" in out
    assert ("advance: InferenceService chat: canaryTrafficPercent 20 -> 0 (all traffic back on v4; v5 stays reachable at "
            "latest-chat-predictor.team-nlp.svc.cluster.local)") in out


def test_analyze_of_a_standard_mode_model_says_it_has_no_canary(capsys, tmp_path):
    path = _copy(tmp_path, "prod")
    before = path.read_bytes()
    code, out, err = run(capsys, "rollout", "analyze", "--config", str(path), "--model", "fraud-score",
                         "--prometheus", "http://127.0.0.1:9")
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1
    idx = next(i for i, mod in enumerate(load_stack_file(path).settings.models) if mod.name == "fraud-score")
    assert f"team-search/fraud-score runs in Standard mode (inferstack:models[{idx}].deploymentMode)" in err
    assert "KServe ignores canaryTrafficPercent" in err and "rollout set" not in err
    assert path.read_bytes() == before
