"""Each reference stack's serving layer on an existing cluster with the real Pulumi CLI: every object created once, a
second preview changes nothing (issue #27: "a second `pulumi up` has never been shown to change nothing"), and the
policy pack through Pulumi's analyzer reports what `inferstack policy check` reports offline.

Each stacks/Pulumi.<stack>.yaml becomes an ``inferstack:existingCluster`` stack on an API server of its own: its pools
and models (prod: the LLM track with a stepped canary, KEDA, SLOs, a batched predictive model) and secret delivery
from the cluster's own store; no network, cluster, registry or cloud secret. Every add-on is ``present``: the CRDs of
../shared/schemas are installed, plus ``inferenceobjectives.llm-d.ai``, which ../shared lacks: KServe v0.20's chart
installs it with GAIE v1.5.0's InferenceObjective spec (serving/llm.py), so that schema is installed under llm-d.ai.
"""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.controlplane import CONTEXT, ControlPlane
from tests.e2e.pulumi_cli import (
    VENV,
    PulumiTools,
    Workspace,
    analyzed,
    changed_steps,
    policy_events,
    policy_pack,
    print_log,
    pulumi_tools,
    read_events,
    step_ops,
    write_project,
)
from tests.e2e.tools import REPO, server_apply

#: The reference stacks whose serving layer is deployed to an existing cluster, one API server each.
REFERENCE_STACKS = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in (REPO / "stacks").glob("Pulumi.*.yaml"))
EXPECTED_KINDS = {
    "prod": ("kubernetes:serving.kserve.io/v1alpha2:LLMInferenceService", "kubernetes:llm-d.ai/v1alpha2:InferenceObjective",
             "kubernetes:keda.sh/v1alpha1:ScaledObject", "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
             "kubernetes:external-secrets.io/v1:ExternalSecret"),
}
PRESENT = ("certManager", "knative", "kserve", "llm", "monitoring", "keda", "externalSecrets", "kueue")
#: Keys of the cloud stack an existing cluster does not take (the cluster, its network, the registry it would make).
CLOUD_ONLY = ("inferstack:network", "inferstack:cluster", "inferstack:registry")


def byo_config(stack_file: Path, kubeconfig: str, *, keep_examples: bool = False) -> dict[str, Any]:
    config = copy.deepcopy(yaml.safe_load(stack_file.read_text())["config"])
    if not keep_examples:
        # The real engine refuses the reference stacks' example reservation ids (inferstack.checks.example_values).
        for pool in config.get("inferstack:acceleratorPools", []):
            for reservation in (r for tier in pool.get("ladder", []) for r in tier.get("reservations", [])):
                reservation["id"] = "cr-0e2e0e2e0e2e0e2e0" if reservation["id"].startswith("cr-") else "e2e-reserved-l4"
    secrets = config.pop("inferstack:secrets", [])
    config = {k: v for k, v in config.items() if k not in CLOUD_ONLY and not k.startswith("inferstack-secrets:")}
    config["inferstack:existingCluster"] = {
        "name": "byo", "kubeconfig": kubeconfig, "context": CONTEXT, "addons": {a: "present" for a in PRESENT},
        "registry": {"bucket": "inferstack-e2e-models"}, "secretStore": "platform-secrets",
    }
    # on an existing cluster the values come from its store: no valueFrom
    config["inferstack:secrets"] = [{k: v for k, v in s.items() if k != "valueFrom"} for s in secrets]
    return config


@pytest.fixture(scope="module")
def tools() -> PulumiTools:
    return pulumi_tools()


@pytest.fixture(scope="module", params=REFERENCE_STACKS)
def reference(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def control_plane(tools: PulumiTools, reference: str) -> Iterator[ControlPlane]:
    """This module's own API server: the stack's objects (team-nlp's model, cluster-wide RBAC and runtimes) have the
    names other e2e tests apply with other values (server-side apply would report field conflicts between them)."""
    with ControlPlane() as cp:
        yield cp


@pytest.fixture(scope="module")
def crds(control_plane: ControlPlane, shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    sa = server_apply()
    docs = sa.load_schema_files(shared_dir / "schemas")
    gaie = [d for d in docs if d["group"] == "inference.networking.x-k8s.io" and d["kind"] == "InferenceObjective"]
    assert gaie, "../shared/schemas has no GAIE InferenceObjective schema"
    llmd = [{**copy.deepcopy(d), "group": "llm-d.ai", "source": "", "_file": "llm-d.ai (GAIE's schema)"} for d in gaie]
    client = sa.Client(sa.read_kubeconfig(Path(control_plane.kubeconfig), CONTEXT, tmp_path_factory.mktemp("crds")))
    report = sa.install_crds(client, sa.build_crds([*docs, *llmd]))
    assert report.rejected == [], report.rejected


@pytest.fixture(scope="module")
def deployed(tools: PulumiTools, reference: str, control_plane: ControlPlane, crds: None,
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp(f"pulumi-byo-{reference}")
    ws = Workspace(tools, root)
    project = write_project(root / "project", "inferstack", "", main=REPO)
    stack = f"{reference}-byo"
    ws.stack_init(project, stack)
    stack_file = project / f"Pulumi.{stack}.yaml"
    doc = yaml.safe_load(stack_file.read_text()) or {}
    doc["config"] = byo_config(REPO / "stacks" / f"Pulumi.{reference}.yaml", control_plane.kubeconfig)
    stack_file.write_text(yaml.safe_dump(doc, sort_keys=False))
    events = root / "up-events.jsonl"
    up = ws.run("up", "--yes", "--skip-preview", "--event-log", str(events), cwd=project, check=False)
    print("\n".join(print_log(ws.log)))
    return {"ws": ws, "project": project, "stack_file": stack_file, "up": up, "events": read_events(events),
            "reference": reference}


def test_up_creates_the_serving_layer(deployed: dict[str, Any]) -> None:
    assert deployed["up"].returncode == 0, deployed["up"].describe()[-8000:]
    ops = step_ops(deployed["events"])
    created = [urn for urn, op in ops.items() if op == "create"]
    kinds = sorted({urn.split("::")[2].rsplit("$", 1)[-1] for urn in created if "$kubernetes:" in urn})
    print(f"pulumi up ({deployed['reference']}'s models on an existing cluster): {len(created)} resources created, "
          f"{deployed['up'].seconds:.1f} s; Kubernetes kinds: {kinds}")
    for kind in EXPECTED_KINDS.get(deployed["reference"], ()):
        assert kind in kinds, kind
    assert any(k.startswith("kubernetes:serving.kserve.io/") for k in kinds), kinds


def test_second_preview_changes_nothing(deployed: dict[str, Any]) -> None:
    assert deployed["up"].returncode == 0
    ws, project = deployed["ws"], deployed["project"]
    result, events = ws.preview_events(project, "--expect-no-changes", check=False)
    ops = step_ops(events)
    print(f"pulumi preview --expect-no-changes: {len(ops)} resources, ops {sorted(set(ops.values()))}")
    assert result.returncode == 0, {urn: (m["op"], m.get("detailedDiff")) for urn, m in changed_steps(events).items()}
    assert set(ops.values()) == {"same"}


def test_analyzer_agrees_with_the_offline_check(deployed: dict[str, Any], tmp_path: Path) -> None:
    """The pack on the real engine's view of the serving layer reports what `inferstack policy check` reports
    offline for the same stack file (the pack config generated from it by `inferstack policy config`)."""
    assert deployed["up"].returncode == 0
    ws, project = deployed["ws"], deployed["project"]
    stack_file = deployed["stack_file"]
    inferstack = str(VENV / "bin" / "inferstack")
    pack_config = tmp_path / "pack-config.json"
    proc = subprocess.run([inferstack, "policy", "config", "--config", str(stack_file)], capture_output=True, text=True,
                          cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr
    pack_config.write_text(proc.stdout)
    report = tmp_path / "offline.json"
    offline = subprocess.run([inferstack, "policy", "check", "--config", str(stack_file), "--json", str(report)],
                             capture_output=True, text=True, cwd=REPO, timeout=300)
    assert report.is_file(), offline.stdout + offline.stderr
    expected = {(f["policy"], (f["resource"] or {}).get("urn", ""), f["enforcementLevel"])
                for f in json.loads(report.read_text())["findings"]}
    result, events = ws.preview_events(project, "--policy-pack", str(policy_pack(tmp_path / "pack")),
                                       "--policy-pack-config", str(pack_config), check=False)
    real = {(v["policyName"], v.get("resourceUrn", ""), v["enforcementLevel"]) for v in policy_events(events)}
    seen = analyzed(events, "inferstack")
    print(f"analyzer: {len(real)} findings, {len(seen)} resources analyzed; offline: {len(expected)} findings")
    assert seen == set(step_ops(events)), "the pack analyzed every resource of the preview"
    assert real == expected
    assert (result.returncode == 0) == (offline.returncode == 0), (result.describe()[-4000:], offline.stdout)


def test_real_engine_refuses_example_values(deployed: dict[str, Any]) -> None:
    """The reference stack with its example reservation id kept: `pulumi preview` fails naming the key and value
    (inferstack.checks.example_values), although the offline engine previews that stack."""
    reference = deployed["reference"]
    if reference not in ("prod", "gcp-prod"):
        pytest.skip(f"{reference} has no example value in its serving layer")
    ws, project = deployed["ws"], deployed["project"]
    stack = f"{reference}-examples"
    ws.stack_init(project, stack)
    try:
        stack_file = project / f"Pulumi.{stack}.yaml"
        doc = yaml.safe_load(stack_file.read_text()) or {}
        doc["config"] = byo_config(REPO / "stacks" / f"Pulumi.{reference}.yaml", "unused", keep_examples=True)
        stack_file.write_text(yaml.safe_dump(doc, sort_keys=False))
        result = ws.preview(project, check=False)
    finally:
        ws.run("stack", "select", f"{reference}-byo", cwd=project)
    out = result.stdout + result.stderr
    print(f"pulumi preview of {reference} with its example reservation id: exit {result.returncode}")
    assert result.returncode != 0, out[-4000:]
    assert "inferstack:acceleratorPools[0].ladder[0].reservations[0].id" in out, out[-4000:]
    assert "example values cannot be deployed" in out, out[-4000:]
