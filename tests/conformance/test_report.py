"""The conformance report: the upstream checklist's rows, each with a computed status, evidence or notes, and the
KAR test plan; the catalogue's checklists; the ``inferstack conformance`` command's contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from inferstack.catalog.ai_conformance import CHECKLISTS, STATUSES, TEST_PLANS
from inferstack.conformance import EVALUATORS, build_report, render, summary
from inferstack.conformance.report import rows
from tests.conftest import recording

REPO = Path(__file__).resolve().parents[2]

#: The 1.35 levels (cncf/k8s-ai-conformance docs/AIConformance-1.35.yaml; ../shared/notes/facts.md).
MUST_135 = {"dra_support", "ai_inference", "gang_scheduling", "cluster_autoscaling", "pod_autoscaling",
            "accelerator_metrics", "ai_service_metrics", "secure_accelerator_access", "robust_controller"}
SHOULD_135 = {"driver_runtime_management", "gpu_sharing", "virtualized_accelerator"}


def test_checklists_hold_the_upstream_ids_and_levels() -> None:
    levels = {r.id: r.level for _, r in CHECKLISTS["1.35"].requirements()}
    assert levels == {**{i: "MUST" for i in MUST_135}, **{i: "SHOULD" for i in SHOULD_135}}
    ids_136 = {r.id for _, r in CHECKLISTS["1.36"].requirements()}
    # 1.36 drops dra_support and adds three SHOULDs.
    assert ids_136 == (set(levels) - {"dra_support"}) | {"advanced_inference_ingress", "high_performance_networking",
                                                         "disaggregated_inference"}
    for checklist in CHECKLISTS.values():
        assert all(r.id in EVALUATORS for _, r in checklist.requirements())
        assert all(r.description and r.level in ("MUST", "SHOULD") for _, r in checklist.requirements())
    assert set(TEST_PLANS) == (set(EVALUATORS) - {"ai_inference"})


@pytest.mark.parametrize("version", sorted(CHECKLISTS))
def test_report_of_prod_has_every_row_computed(version: str) -> None:
    rec = recording("prod")
    report = build_report(rec, version, {"platformName": "p"})
    assert report["metadata"]["kubernetesVersion"] == f"v{version}"
    assert set(report["metadata"]) == set(CHECKLISTS[version].metadata_keys)
    got = rows(report)
    assert [r["id"] for r in got] == [r.id for _, r in CHECKLISTS[version].requirements()]
    for row in got:
        assert row["status"] in STATUSES
        assert row["status"] == EVALUATORS[row["id"]](rec).status  # computed from the recording
        if row["status"] == "Implemented":
            assert row["evidence"], row["id"]
        else:
            assert row["notes"], row["id"]  # what is missing, or the N/A reason
        assert row["liveChecks"]["steps"] or row["id"] == "ai_inference"
    assert sum(v for k, v in summary(report).items() if k != "mustNotImplemented") == len(got)
    # Every format renders; YAML and JSON are the same document.
    assert yaml.safe_load(render(report, "yaml")) == json.loads(render(report, "json")) == report
    assert all(f"`{r['id']}`" in render(report, "markdown") for r in got)


def test_evidence_names_urns_of_the_stack() -> None:
    report = build_report(recording("prod"), "1.35", {})
    gang = next(r for r in rows(report) if r["id"] == "gang_scheduling")
    assert any("urn:pulumi:prod::" in e and "ClusterQueue" in e for e in gang["evidence"])


def test_prod_accelerator_metrics_cover_neuron_with_the_neuron_monitor_daemonset() -> None:
    """prod's inf2 pool: accelerator_metrics is Implemented by the neuron-monitor DaemonSet (kube-system, the
    catalogue's pinned image) and the PodMonitor of the monitoring stack; the privileged agent is named as a platform
    node agent by secure_accelerator_access, which stays Implemented."""
    from inferstack.catalog.versions import NEURON_MONITOR_IMAGE

    report = build_report(recording("prod"), "1.35", {})
    by_id = {r["id"]: r for r in rows(report)}
    metrics = by_id["accelerator_metrics"]
    assert metrics["status"] == "Implemented", metrics["notes"]
    [neuron] = [e for e in metrics["evidence"] if "DaemonSet kube-system/neuron-monitor" in e]
    assert NEURON_MONITOR_IMAGE in neuron and "PodMonitor monitoring/neuron-monitor" in neuron
    assert "prod-devices-neuron-monitor" in neuron and "prod-serving-monitoring-neuron-monitor" in neuron
    secure = by_id["secure_accelerator_access"]
    assert secure["status"] == "Implemented", secure["notes"]
    assert any("pinned platform node agents" in e and "DaemonSet kube-system/neuron-monitor" in e for e in secure["evidence"])


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "inferstack", *argv], capture_output=True, text=True, cwd=REPO,
                          timeout=300)


def test_cli_json_lists_every_requirement(tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    proc = _run("conformance", "--stack", "prod", "--format", "json", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert [r["id"] for r in rows(report)] == [r.id for _, r in CHECKLISTS["1.35"].requirements()]
    assert "MUST not Implemented" in proc.stderr


@pytest.mark.parametrize(("argv", "needle"), [
    (["--version", "1.37"], "--version"),
    (["--format", "html"], "--format"),
    (["--stack", "no-such-stack"], "no-such-stack"),
])
def test_cli_bad_input_is_one_error_line_exit_2(tmp_path: Path, argv: list[str], needle: str) -> None:
    out = tmp_path / "c.yaml"
    proc = _run("conformance", *(["--stack", "prod"] if "--stack" not in argv else []), *argv, "--out", str(out))
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and needle in errors[0] and "Traceback" not in proc.stderr
    assert not out.exists()


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_cli_stdout_is_the_document_alone(fmt: str) -> None:
    """``--format json | jq`` works: stdout holds the document and nothing else; the count goes to stderr."""
    proc = _run("conformance", "--stack", "prod", "--format", fmt)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout) if fmt == "json" else yaml.safe_load(proc.stdout)
    assert [r["id"] for r in rows(doc)] == [r.id for _, r in CHECKLISTS["1.35"].requirements()]
    assert "MUST not Implemented" not in proc.stdout
    assert "MUST not Implemented" in proc.stderr


@pytest.mark.parametrize("stack", ["prod", "gcp-prod"])
def test_cli_fail_on_must_gates_on_must_rows(tmp_path: Path, stack: str) -> None:
    """Without ``--fail-on-must`` the report exits 0 whatever the statuses; with it, 1 exactly when a MUST row is not
    Implemented, naming those rows on stderr (the report is written either way)."""
    out = tmp_path / "c.json"
    plain = _run("conformance", "--stack", stack, "--format", "json", "--out", str(out))
    assert plain.returncode == 0, plain.stderr
    failing = [f"{r['id']} ({r['status']})" for r in rows(json.loads(out.read_text()))
               if r["level"] == "MUST" and r["status"] != "Implemented"]
    out.unlink()
    gated = _run("conformance", "--stack", stack, "--format", "json", "--out", str(out), "--fail-on-must")
    assert out.exists()
    if failing:
        assert gated.returncode == 1
        [error] = [line for line in gated.stderr.splitlines() if line.startswith("error:")]
        assert all(f in error for f in failing)
    else:
        assert gated.returncode == 0, gated.stderr
        assert "error:" not in gated.stderr
    # Every 1.35 MUST of both is Implemented: gcp-prod by GKE's DCGM and TPU system metrics, prod's Inferentia pool by
    # AWS's neuron-monitor DaemonSet and its PodMonitor.
    assert not failing
