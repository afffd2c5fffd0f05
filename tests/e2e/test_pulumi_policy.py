"""The policy pack loaded by Pulumi's analyzer equals the offline check (issue #27 item 3b).

A Kubernetes program with seeded violations (cluster-admin bound to a group that is not the platform admins, a
privileged Pod, a Namespace without a Pod Security label) in project ``inferstack``, stack ``dev`` (so that URNs are
the offline engine's). `pulumi preview --policy-pack policies --policy-pack-config policies/config/dev.json` runs the
pack through the Python language host (`python -m pulumi.policy` in policies/); its policy events are compared with
`inferstack policy check --config <dev config> --program <the same file> --json`: same policies, resources, levels
and messages, and both fail (mandatory findings).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.controlplane import ControlPlane
from tests.e2e.pulumi_cli import (
    VENV,
    PulumiTools,
    Workspace,
    analyzed,
    policy_events,
    policy_pack,
    print_log,
    pulumi_tools,
    step_ops,
    write_project,
)
from tests.e2e.tools import REPO

STACK = "dev"

SEEDED = '''
    """Seeded policy violations on a Kubernetes-only stack."""
    import pulumi
    import pulumi_kubernetes as k8s

    cfg = pulumi.Config()
    provider = k8s.Provider("e2e", kubeconfig=cfg.require_secret("kubeconfig"), context="inferstack-e2e")
    opts = pulumi.ResourceOptions(provider=provider)
    ns = k8s.core.v1.Namespace("seeded", metadata={"name": "seeded"}, opts=opts)
    k8s.rbac.v1.ClusterRoleBinding(
        "ops-admin",
        metadata={"name": "ops-admin"},
        role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        subjects=[{"kind": "Group", "name": "ops", "apiGroup": "rbac.authorization.k8s.io"}],
        opts=opts,
    )
    k8s.core.v1.Pod(
        "debug",
        metadata={"name": "debug", "namespace": ns.metadata.name},
        spec={"containers": [{"name": "sh", "image": "busybox:1.37", "securityContext": {"privileged": True}}]},
        opts=opts,
    )
'''

#: What the seeded program must trip, at least (policy -> resource name).
SEEDED_MANDATORY = {("rbac-bindings", "ops-admin"), ("pss-privileged", "debug"), ("no-privileged-workloads", "debug"),
                    ("k8s-namespace-pod-security", "seeded")}


@pytest.fixture(scope="module")
def tools() -> PulumiTools:
    return pulumi_tools()


@pytest.fixture(scope="module")
def project(tools: PulumiTools, control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[Workspace, Path]:
    root = tmp_path_factory.mktemp("pulumi-policy")
    ws = Workspace(tools, root)
    project = write_project(root / "project", "inferstack", SEEDED)
    ws.stack_init(project, STACK)
    ws.config_set(project, "kubeconfig", Path(control_plane.kubeconfig).read_text(), secret=True)
    return ws, project


def offline_findings(program: Path, tmp: Path) -> tuple[int, list[dict[str, Any]]]:
    """`inferstack policy check` on the same program with the dev stack's policy settings."""
    config = yaml.safe_load((REPO / "stacks" / f"Pulumi.{STACK}.yaml").read_text())
    config["config"]["inferstack:kubeconfig"] = "offline: the offline engine contacts no cluster"
    config_file = tmp / f"Pulumi.{STACK}.yaml"
    config_file.write_text(yaml.safe_dump(config))
    report = tmp / "offline.json"
    proc = subprocess.run([str(VENV / "bin" / "inferstack"), "policy", "check", "--config", str(config_file),
                           "--program", str(program), "--json", str(report)],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert report.is_file(), proc.stdout + proc.stderr
    return proc.returncode, json.loads(report.read_text())["findings"]


def key(policy: str, urn: str | None, level: str) -> tuple[str, str, str]:
    return policy, urn or "", level


def test_analyzer_findings_equal_offline(project: tuple[Workspace, Path], tmp_path: Path) -> None:
    ws, proj = project
    result, events = ws.preview_events(
        proj, "--policy-pack", str(policy_pack(tmp_path / "pack")),
        "--policy-pack-config", str(REPO / "policies" / "config" / f"{STACK}.json"), check=False)
    print("\n".join(print_log(ws.log)))
    violations = policy_events(events)
    assert violations, result.describe()
    real = {key(v["policyName"], v.get("resourceUrn"), v["enforcementLevel"]): v for v in violations}
    assert all(v["policyPackName"] == "inferstack" for v in violations), violations
    assert analyzed(events, "inferstack") == set(step_ops(events)), "the pack analyzed every resource"
    code, offline = offline_findings(proj / "__main__.py", tmp_path)
    expected = {key(f["policy"], (f["resource"] or {}).get("urn"), f["enforcementLevel"]): f for f in offline}
    print(f"analyzer: {len(real)} findings; offline: {len(expected)} findings")
    for k in sorted(set(real) | set(expected)):
        print(("both     " if k in real and k in expected else "analyzer " if k in real else "offline  ") + " ".join(k))
    assert set(real) == set(expected)
    # Offline, a policy's problems on one resource are one finding (with the fix appended); the analyzer reports each
    # problem as a diagnostic of its own: every offline problem is one of the analyzer's messages for that key.
    messages: dict[tuple[str, str, str], list[str]] = {}
    for v in violations:
        messages.setdefault(key(v["policyName"], v.get("resourceUrn"), v["enforcementLevel"]), []).append(v["message"])
    for k, f in expected.items():
        for problem in f.get("problems") or [f["message"]]:
            assert any(problem in m for m in messages[k]), (k, problem, messages[k])
    names = {(p, urn.rsplit("::", 1)[1]) for p, urn, level in real if level == "mandatory"}
    assert SEEDED_MANDATORY <= names
    # mandatory findings fail both: the preview exits non-zero, the offline check exits 1
    assert result.returncode != 0 and code == 1
