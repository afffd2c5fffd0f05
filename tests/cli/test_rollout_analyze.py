"""``inferstack rollout analyze`` / ``advance`` against a real Prometheus.

The tests start the ``prometheus`` binary (Debian's package; CI installs it) on loopback, scraping every second a
small local exporter that serves synthetic stable (v3) and canary (v5) series of the prod stack's ``chat`` model in
vLLM's raw metric names (:mod:`inferstack.serving.metrics`), counters growing with time. Each scenario is the same
model in its own namespace: healthy canary -> promote, slow or failing canary -> rollback, too little traffic ->
hold. The error paths (no slo, unreachable or non-Prometheus URL) need no Prometheus.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from inferstack.load import load_stack_file
from inferstack.serving import metrics as m
from tests.cli.test_rollout import run as _run
from tests.conftest import stack_path

PROMETHEUS = shutil.which("prometheus")
needs_prometheus = pytest.mark.skipif(PROMETHEUS is None, reason="prometheus not installed (Debian package prometheus)")

LLM = m.metrics_for(m.LLM)
# Scenario -> per version: requests/s, share of 5xx, e2e latency point masses [(seconds, share)], TTFT in seconds.
HEALTHY = {"rps": 200.0, "errors": 0.0, "e2e": [(0.9, 0.6), (1.8, 0.4)], "ttft": 0.2}
SCENARIOS = {
    "team-good": {"3": HEALTHY, "5": HEALTHY},
    "team-slow": {"3": HEALTHY, "5": {**HEALTHY, "e2e": [(9.0, 1.0)]}},
    "team-failing": {"3": HEALTHY, "5": {**HEALTHY, "errors": 0.05}},
    "team-quiet": {"3": HEALTHY, "5": {**HEALTHY, "rps": 0.5}},
}


def exposition(elapsed: float) -> str:
    """The exporter's /metrics at ``elapsed`` seconds: every scenario's series, counters = rate x elapsed."""
    lines = []
    for ns, versions in SCENARIOS.items():
        for version, s in versions.items():
            base = f'namespace="{ns}",model="chat",version="{version}",model_name="llama-3-8b-instruct"'
            total = s["rps"] * elapsed
            errors = total * s["errors"]
            handler = 'handler="/v1/chat/completions",method="POST"'
            lines.append(f'{LLM.requests}{{{base},{handler},status="2xx"}} {total - errors}')
            lines.append(f'{LLM.requests}{{{base},{handler},status="5xx"}} {errors}')
            for hist, masses in ((LLM.latency, s["e2e"]), (LLM.ttft, [(s["ttft"], 1.0)])):
                for le in hist.buckets:
                    below = sum(share for value, share in masses if value <= le)
                    lines.append(f'{hist.bucket}{{{base},le="{float(le)!r}"}} {total * below}')
                lines.append(f'{hist.bucket}{{{base},le="+Inf"}} {total}')
                lines.append(f"{hist.count}{{{base}}} {total}")
                lines.append(f"{hist.name}_sum{{{base}}} {total * sum(v * share for v, share in masses)}")
    return "\n".join(lines) + "\n"


class _Exporter(BaseHTTPRequestHandler):
    started = time.monotonic()

    def do_GET(self):  # noqa: N802 (http.server's name)
        body = exposition(time.monotonic() - self.started).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _query(url: str, promql: str) -> list:
    q = urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(f"{url}/api/v1/query?{q}", timeout=5) as resp:
        return json.loads(resp.read())["data"]["result"]


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    """A Prometheus on 127.0.0.1 scraping the exporter every second; its URL once every series has 5 samples."""
    if PROMETHEUS is None:
        pytest.skip("prometheus not installed (Debian package prometheus)")
    tmp = tmp_path_factory.mktemp("prometheus")
    exporter = ThreadingHTTPServer(("127.0.0.1", 0), _Exporter)
    threading.Thread(target=exporter.serve_forever, daemon=True).start()
    port = _free_port()
    (tmp / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - job_name: exporter\n    honor_labels: true\n    static_configs: [{{targets: ['127.0.0.1:{exporter.server_port}']}}]\n"
    )
    proc = subprocess.Popen(
        [PROMETHEUS, f"--config.file={tmp / 'prometheus.yml'}", f"--storage.tsdb.path={tmp / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=(tmp / "prometheus.log").open("w"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _query(url, f"min(count_over_time({LLM.latency.count}[1m])) >= 5"):
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Prometheus did not become ready: {(tmp / 'prometheus.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        exporter.shutdown()


def _stack(tmp_path: Path, namespace: str, percent: int = 10) -> Path:
    """The prod stack with ``chat`` in ``namespace`` (one scenario of the exporter) and its canary at ``percent``."""
    text = stack_path("prod").read_text()
    text = text.replace("    - name: chat\n      namespace: team-nlp\n", f"    - name: chat\n      namespace: {namespace}\n", 1)
    text = text.replace('        version: "5"\n        percent: 10\n', f'        version: "5"\n        percent: {percent}\n', 1)
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(text)
    return path


def _analyze(capsys, tmp_path, url, namespace) -> dict:
    code, out, err = _run(
        capsys, "rollout", "analyze", "--config", str(_stack(tmp_path, namespace)), "--model", f"{namespace}/chat",
        "--prometheus", url, "--window", "1m", "--format", "json",
    )
    assert code == 0, err
    return json.loads(out)


@needs_prometheus
def test_healthy_canary_is_promoted(prometheus, tmp_path, capsys):
    result = _analyze(capsys, tmp_path, prometheus, "team-good")
    assert result["decision"] == "promote", result
    canary = result["canary"]
    assert canary["version"] == "5" and canary["requests"] > 100 and canary["error_ratio"] == 0
    assert 1500 < canary["p95_ms"] < 2000 and canary["ttft_p95_ms"] < 250  # 40% at 1.8 s: p95 inside (1.5 s, 2 s]
    assert result["objectives"] == {"errorRatio": 0.001, "p95Ms": 4000, "ttftP95Ms": 800}


@needs_prometheus
def test_slow_canary_is_rolled_back(prometheus, tmp_path, capsys):
    result = _analyze(capsys, tmp_path, prometheus, "team-slow")
    assert result["decision"] == "rollback", result
    assert result["canary"]["p95_ms"] > 4000 and result["stable"]["p95_ms"] < 2000
    assert any("p95 latency" in r and "4000 ms" in r for r in result["reasons"])


@needs_prometheus
def test_failing_canary_is_rolled_back(prometheus, tmp_path, capsys):
    result = _analyze(capsys, tmp_path, prometheus, "team-failing")
    assert result["decision"] == "rollback", result
    assert result["canary"]["error_ratio"] == pytest.approx(0.05, rel=0.01)
    assert result["stable"]["error_ratio"] == 0
    assert any("error ratio" in r for r in result["reasons"])


@needs_prometheus
def test_too_little_traffic_holds(prometheus, tmp_path, capsys):
    result = _analyze(capsys, tmp_path, prometheus, "team-quiet")
    assert result["decision"] == "hold", result
    assert result["canary"]["requests"] < 100 and "too little traffic" in result["reasons"][0]


@needs_prometheus
def test_text_output_shows_numbers_and_decision(prometheus, tmp_path, capsys):
    code, out, _ = _run(
        capsys, "rollout", "analyze", "--config", str(_stack(tmp_path, "team-slow")), "--model", "chat",
        "--prometheus", prometheus, "--window", "1m",
    )
    assert code == 0
    assert "decision: rollback" in out and "canary  v5" in out and "stable  v3" in out


@needs_prometheus
def test_advance_steps_a_healthy_canary_and_rolls_back_a_failing_one(prometheus, tmp_path, capsys):
    (tmp_path / "good").mkdir()
    good = _stack(tmp_path / "good", "team-good")
    code, out, err = _run(capsys, "rollout", "advance", "--config", str(good), "--model", "chat", "--prometheus", prometheus, "--window", "1m")
    assert code == 0, err
    assert load_stack_file(good).settings.models[0].canary.percent == 25  # steps [10, 25, 50, 100]
    assert "decision: promote" in out
    (tmp_path / "bad").mkdir()
    bad = _stack(tmp_path / "bad", "team-failing", percent=50)
    code, out, err = _run(capsys, "rollout", "advance", "--config", str(bad), "--model", "chat", "--prometheus", prometheus, "--window", "1m")
    assert code == 0, err
    assert load_stack_file(bad).settings.models[0].canary.percent == 0
    (tmp_path / "full").mkdir()
    full = _stack(tmp_path / "full", "team-good", percent=100)
    code, out, err = _run(capsys, "rollout", "advance", "--config", str(full), "--model", "chat", "--prometheus", prometheus, "--window", "1m")
    assert code == 0, err
    chat = load_stack_file(full).settings.models[0]
    assert chat.version == "5" and chat.canary is None


@needs_prometheus
def test_advance_on_hold_leaves_the_file_alone(prometheus, tmp_path, capsys):
    path = _stack(tmp_path, "team-quiet")
    before = path.read_bytes()
    code, out, _ = _run(capsys, "rollout", "advance", "--config", str(path), "--model", "chat", "--prometheus", prometheus, "--window", "1m")
    assert code == 0 and "hold: stack file unchanged" in out
    assert path.read_bytes() == before


# ---------------------------------------------------------------- error paths (no Prometheus needed)


def test_model_without_slo_is_refused_naming_slo(tmp_path, capsys):
    path = _stack(tmp_path, "team-nlp")
    cfg = load_stack_file(path)
    plain = next(x for x in cfg.settings.models if x.slo is None)
    code, _, err = _run(capsys, "rollout", "analyze", "--config", str(path), "--model", plain.name, "--prometheus", "http://127.0.0.1:9")
    assert code == 2 and "slo" in err and err.startswith("error:")


def test_unreachable_prometheus_exits_3(tmp_path, capsys):
    path = _stack(tmp_path, "team-nlp")
    code, _, err = _run(capsys, "rollout", "analyze", "--config", str(path), "--model", "chat", "--prometheus", f"http://127.0.0.1:{_free_port()}", "--timeout", "2")
    assert code == 3 and "cannot reach Prometheus" in err and len(err.strip().splitlines()) == 1


def test_non_prometheus_answer_exits_3(tmp_path, capsys):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Exporter)  # answers every path with the exposition text
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        path = _stack(tmp_path, "team-nlp")
        code, _, err = _run(capsys, "rollout", "analyze", "--config", str(path), "--model", "chat", "--prometheus", f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
    assert code == 3 and "did not answer like a Prometheus API" in err


def test_bad_url_and_window_exit_2(tmp_path, capsys):
    path = _stack(tmp_path, "team-nlp")
    code, _, err = _run(capsys, "rollout", "analyze", "--config", str(path), "--model", "chat", "--prometheus", "localhost:9090")
    assert code == 2 and "--prometheus" in err
    code, _, err = _run(capsys, "rollout", "analyze", "--config", str(path), "--model", "chat", "--prometheus", "http://x:1", "--window", "ten")
    assert code == 2 and "--window" in err
