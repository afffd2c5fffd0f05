"""This repository's program on a bring-your-own-cluster stack, with the real Pulumi CLI (issue #27 items 3a and 3c).

The stack targets the e2e API server through ``inferstack:existingCluster`` (kubeconfig path and context; every
add-on ``present``: the CRDs of ../shared/schemas are installed first, no controller runs), with a model that has a
canary. Project ``inferstack`` in a temp dir whose ``main`` is this repository (the same ``__main__.py`` users run) and
whose virtualenv is the repo's .venv.

- `pulumi up --yes`, then `pulumi preview --expect-no-changes`: the second run changes nothing.
- `inferstack rollout promote --config <the stack file>` prints the resources `pulumi up` will change; the real
  `pulumi preview` then proposes exactly those (same operations on the same resources), `pulumi up` applies them and
  a last preview changes nothing.
"""

from __future__ import annotations

import re
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
    changed_steps,
    print_log,
    pulumi_tools,
    read_events,
    step_ops,
    write_project,
)
from tests.e2e.tools import REPO, server_apply

STACK = "e2e"
MODEL = "chat"
NAMESPACE = "team-nlp"


def stack_config(kubeconfig: str) -> dict[str, Any]:
    present = {"certManager": "present", "knative": "present", "kserve": "present", "llm": "present",
               "monitoring": "present", "keda": "present", "externalSecrets": "present", "kueue": "present"}
    return {
        "aws:region": "eu-west-1",
        "inferstack:cloud": "aws",
        "inferstack:environment": "dev",
        "inferstack:residency": {"allowedRegions": ["eu-west-1"]},
        "inferstack:existingCluster": {
            "name": "e2e", "kubeconfig": kubeconfig, "context": CONTEXT, "addons": present,
            "registry": {"bucket": "inferstack-e2e-models"},
        },
        "inferstack:acceleratorPools": [{"name": "gpu-l4", "kind": "nvidia-l4", "maxNodes": 2}],
        "inferstack:models": [{
            "name": MODEL, "namespace": NAMESPACE, "format": "huggingface", "registryModel": "llama-3-8b-instruct",
            "version": "4", "canary": {"version": "5", "percent": 20}, "pool": "gpu-l4", "accelerators": 1,
            "cpu": "4", "memory": "24Gi", "minReplicas": 1, "maxReplicas": 2,
        }],
    }


@pytest.fixture(scope="module")
def tools() -> PulumiTools:
    return pulumi_tools()


@pytest.fixture(scope="module")
def control_plane(tools: PulumiTools) -> Iterator[ControlPlane]:
    """This module's own API server: the stack's objects (team-nlp's model, cluster-wide RBAC and runtimes) have the
    names other e2e tests apply with other values (server-side apply would report field conflicts between them)."""
    with ControlPlane() as cp:
        yield cp


@pytest.fixture(scope="module")
def crds(control_plane: ControlPlane, shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The add-ons' CRDs (every add-on is `present`: the cluster has them)."""
    sa = server_apply()
    client = sa.Client(sa.read_kubeconfig(Path(control_plane.kubeconfig), CONTEXT, tmp_path_factory.mktemp("crds")))
    report = sa.install_crds(client, sa.build_crds(sa.load_schema_files(shared_dir / "schemas")))
    assert report.rejected == [], report.rejected


@pytest.fixture(scope="module")
def byo(tools: PulumiTools, control_plane: ControlPlane, crds: None, tmp_path_factory: pytest.TempPathFactory
        ) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("pulumi-byo")
    ws = Workspace(tools, root)
    project = write_project(root / "project", "inferstack", "", main=REPO,
                            description="inferstack e2e: this repository's program on a BYO-cluster stack")
    ws.stack_init(project, STACK)
    stack_file = project / f"Pulumi.{STACK}.yaml"
    doc = yaml.safe_load(stack_file.read_text()) or {}
    doc["config"] = stack_config(control_plane.kubeconfig)
    stack_file.write_text(yaml.safe_dump(doc, sort_keys=False))
    events = root / "up-events.jsonl"
    up = ws.up(project, "--event-log", str(events))
    print("\n".join(print_log(ws.log)))
    return {"ws": ws, "project": project, "stack_file": stack_file, "up": up, "events": read_events(events)}


def test_up_deploys_the_kubernetes_layer(byo: dict[str, Any], control_plane: ControlPlane) -> None:
    ops = step_ops(byo["events"])
    created = [urn for urn, op in ops.items() if op == "create"]
    types = sorted({urn.split("::")[2].rsplit("$", 1)[-1] for urn in created})
    print(f"pulumi up (repo program, BYO stack): {len(created)} resources created; types: {types}")
    assert not [urn for urn in created if ":aws:" in urn or "::aws:" in urn], "a BYO stack creates no cloud resource"
    s = control_plane.session()
    isvc = s.get(f"{control_plane.url}/apis/serving.kserve.io/v1beta1/namespaces/{NAMESPACE}/inferenceservices/{MODEL}")
    assert isvc.status_code == 200, isvc.text
    ns = s.get(f"{control_plane.url}/api/v1/namespaces/{NAMESPACE}").json()
    assert ns["metadata"]["labels"].get("pod-security.kubernetes.io/enforce"), ns["metadata"]


def test_preview_after_up_expects_no_changes(byo: dict[str, Any]) -> None:
    ws, project = byo["ws"], byo["project"]
    result, events = ws.preview_events(project, "--expect-no-changes", check=False)
    ops = step_ops(events)
    print(f"pulumi preview --expect-no-changes: {len(ops)} resources, ops {sorted(set(ops.values()))}")
    assert result.returncode == 0, (changed_steps(events), result.describe())
    assert set(ops.values()) == {"same"}


CHANGE_LINE = re.compile(r"^  ([+~-]) (\S+) (\S+)$")
OPS = {"+": "create", "~": "update", "-": "delete"}


def printed_changes(stdout: str) -> set[tuple[str, str, str]]:
    """(op, type, name) of every resource `inferstack rollout` says `pulumi up` will change."""
    return {(OPS[m.group(1)], m.group(2), m.group(3)) for line in stdout.splitlines() if (m := CHANGE_LINE.match(line))}


def engine_changes(events: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    out = set()
    for urn, meta in changed_steps(events).items():
        op = {"create-replacement": "update", "replace": "update", "delete-replaced": "update"}.get(meta["op"], meta["op"])
        out.add((op, meta["type"], urn.rsplit("::", 1)[1]))
    return out


PRINTED_PATH = re.compile(r"^      (\S+): ")


def printed_paths(stdout: str) -> set[str]:
    """The input paths `inferstack rollout` says change (``spec.predictor.canaryTrafficPercent``)."""
    return {m.group(1) for line in stdout.splitlines() if (m := PRINTED_PATH.match(line))}


def engine_paths(events: list[dict[str, Any]]) -> set[str]:
    """The property paths of the engine's detailed diffs, in the rollout's notation (``a.b["c.d/e"]`` -> ``a.b.c.d/e``)."""
    paths = set()
    for meta in changed_steps(events).values():
        for path in (meta.get("detailedDiff") or {}):
            paths.add(re.sub(r'\["([^"]*)"\]', r".\1", path).lstrip("."))
    return paths


def test_rollout_promote_diff_matches_the_engine(byo: dict[str, Any]) -> None:
    ws, project, stack_file = byo["ws"], byo["project"], byo["stack_file"]
    proc = subprocess.run([str(VENV / "bin" / "inferstack"), "rollout", "promote", "--config", str(stack_file),
                           "--model", f"{NAMESPACE}/{MODEL}"], capture_output=True, text=True, timeout=300, cwd=REPO)
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    printed = printed_changes(proc.stdout)
    assert printed, proc.stdout
    result, events = ws.preview_events(project)
    real = engine_changes(events)
    print(f"rollout printed {len(printed)} change(s); pulumi preview proposes {len(real)}")
    for c in sorted(printed | real):
        print(("both     " if c in printed and c in real else "rollout  " if c in printed else "engine   ") + " ".join(c))
    assert real == printed
    # and the same inputs: the engine's detailed diff names the paths rollout printed
    print(f"changed paths: rollout {sorted(printed_paths(proc.stdout))}; engine {sorted(engine_paths(events))}")
    assert engine_paths(events) == printed_paths(proc.stdout)
    ws.up(project)
    ws.preview(project, "--expect-no-changes")
