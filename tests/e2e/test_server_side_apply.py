"""Server-side conformance of every reference stack and example on a real kube-apiserver (scripts/server_apply.py).

The upstream CRDs of ../shared/schemas (CEL rules included) are installed once; then each target is rendered
(`inferstack render`, the program's own objects: chart objects need chart archives) and applied with server-side
apply, dry run first, namespaces first. Each must have zero rejections, zero warnings (Pod Security at each
namespace's enforce level included) and a second apply that changes nothing. Kinds with no CRD here are printed.
Seeded bad objects show the harness fails: a CEL rule, an unknown field, a Pod Security violation, a drift.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.controlplane import ControlPlane
from tests.e2e.tools import server_apply

sa = server_apply()
TARGETS = [f"stack:{s}" for s in sa.REFERENCE_STACKS] + [f"example:{e}" for e in sa.examples()]


@pytest.fixture(scope="module")
def client(control_plane: ControlPlane, shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    work = tmp_path_factory.mktemp("server-apply")
    c = sa.Client(sa.read_kubeconfig(Path(control_plane.kubeconfig), "inferstack-e2e", work))
    report = sa.install_crds(c, sa.build_crds(sa.load_schema_files(shared_dir / "schemas")))
    print("\n".join(report.lines()))
    assert report.rejected == [], report.rejected
    assert report.applied == report.objects > 0
    return c


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each target rendered once per module (lazily)."""
    return {}


def _render(rendered: dict[str, Path], target: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if target not in rendered:
        rendered[target] = sa.render(target, tmp_path_factory.mktemp(target.replace(":", "-")))
    return rendered[target]


@pytest.mark.parametrize("target", TARGETS)
def test_every_object_applies_cleanly_and_idempotently(
    client: Any, rendered: dict[str, Path], target: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    objs = sa.load_manifests(_render(rendered, target, tmp_path_factory))
    report = sa.apply_objects(client, target, objs)
    print("\n".join(report.lines()))
    assert report.objects == len(objs) > 0
    assert report.rejected == []
    assert report.pod_security_warnings == []
    assert report.other_warnings == []
    assert report.changed_on_second_apply == []
    assert report.applied + sum(report.not_applied.values()) == report.objects


# ------------------------------------------------------------------ the harness can fail


def _one(objs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return copy.deepcopy(next(o for o in objs if o["kind"] == kind))


def _dev_objects(rendered: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return sa.load_manifests(_render(rendered, "stack:dev", tmp_path_factory))


def test_a_cel_rule_violation_is_a_rejection(
    client: Any, rendered: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    node_class = _one(_dev_objects(rendered, tmp_path_factory), "EC2NodeClass")
    node_class["metadata"]["name"] = "seeded-cel"
    assert "instanceProfile" in node_class["spec"]
    node_class["spec"]["role"] = "also-a-role"  # CEL: exactly one of role, instanceProfile
    report = sa.apply_objects(client, "seeded", [node_class])
    print("\n".join(report.lines()))
    assert report.applied == 0 and len(report.rejected) == 1
    assert "must specify exactly one of ['role', 'instanceProfile']" in report.rejected[0]
    assert "[dryRun=All]" in report.rejected[0]
    assert not report.ok


def test_an_unknown_field_is_a_rejection_not_silently_pruned(
    client: Any, rendered: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    isvc = _one(_dev_objects(rendered, tmp_path_factory), "InferenceService")
    isvc["metadata"].update(name="seeded-unknown", namespace="default")
    isvc["spec"]["predictor"]["minReplica"] = 1  # typo of minReplicas
    report = sa.apply_objects(client, "seeded", [isvc])
    print("\n".join(report.lines()))
    assert len(report.rejected) == 1 and ".spec.predictor.minReplica: field not declared in schema" in report.rejected[0]


def test_a_pod_security_violation_is_a_warning(
    client: Any, rendered: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    objs = _dev_objects(rendered, tmp_path_factory)
    ns = next(o for o in objs if o["kind"] == "Namespace"
              and o["metadata"].get("labels", {}).get("pod-security.kubernetes.io/enforce"))
    # PodSecurity enforces on pods; on workload objects it warns at the namespace's warn level (as strict as the
    # enforce level or stricter: the stacks enforce baseline and warn at restricted).
    level = ns["metadata"]["labels"]["pod-security.kubernetes.io/warn"]
    deploy = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "seeded-privileged", "namespace": ns["metadata"]["name"]},
        "spec": {"selector": {"matchLabels": {"app": "x"}},
                 "template": {"metadata": {"labels": {"app": "x"}},
                              "spec": {"containers": [{"name": "c", "image": "busybox:1.37",
                                                       "securityContext": {"privileged": True}}]}}},
    }
    report = sa.apply_objects(client, "seeded", [ns, deploy])
    print("\n".join(report.lines()))
    assert report.rejected == [] and report.pod_security_warnings
    assert len(report.pod_security_warnings) == 1  # the same warning of the dry run and the two applies, once
    assert f'would violate PodSecurity "{level}:latest": privileged (container "c"' in report.pod_security_warnings[0]
    assert not report.ok


def test_a_changed_object_on_second_apply_is_reported(
    client: Any, rendered: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The idempotence check sees a write: an object applied again with a field changed in between."""
    cm = _one(_dev_objects(rendered, tmp_path_factory), "ConfigMap")
    cm["metadata"].update(name="seeded-drift", namespace="default")
    res = client.resource("v1", "ConfigMap")
    first = client.apply(cm, res, dry_run=False)[0].json()
    same = client.apply(cm, res, dry_run=False)[0].json()
    assert sa.changed(first, same) is None
    drifted = copy.deepcopy(cm)
    drifted.setdefault("data", {})["seeded"] = "x"
    after = client.apply(drifted, res, dry_run=False)[0].json()
    assert sa.changed(same, after) == (
        f"resourceVersion {same['metadata']['resourceVersion']} -> {after['metadata']['resourceVersion']}, "
        "generation None -> None")


def test_a_pod_spec_inside_a_custom_resource_is_judged_by_pod_security(
    client: Any, rendered: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """PodSecurity never sees the pod specs of custom resources; the harness dry-runs them as Pods: a privileged
    container in an LLMInferenceService template is refused at the namespace's enforce level."""
    objs = sa.load_manifests(_render(rendered, "stack:prod", tmp_path_factory))
    llm = _one(objs, "LLMInferenceService")
    ns = next(o for o in objs if o["kind"] == "Namespace" and o["metadata"]["name"] == llm["metadata"]["namespace"])
    enforce = ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
    llm["metadata"]["name"] = "seeded-privileged-llm"
    llm["spec"]["template"]["containers"][0]["securityContext"] = {"privileged": True}
    report = sa.apply_objects(client, "seeded", [ns, llm])
    print("\n".join(report.lines()))
    assert report.pods_probed == 1 and report.rejected == []
    assert any(f'violates PodSecurity "{enforce}:latest": privileged' in w for w in report.pod_security_warnings)
    assert not report.ok


# ------------------------------------------------------------------ the workloads stack of a two-stack deployment


@pytest.mark.parametrize("platform", ["prod", "gcp-prod"])
def test_a_workloads_stack_applies_cleanly_and_idempotently(
    client: Any, platform: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The workloads stack of docs/deploy.md (``existingCluster.platformStack``), its platform's outputs answered
    offline from the platform stack's recording: its own objects (add-ons' objects, teams, models) apply like a
    reference stack's."""
    import subprocess
    import sys

    import yaml

    from inferstack.engine import run_stack
    from inferstack.load import load_stack
    from tests.components.test_two_stacks import platform_values, workloads_values

    work = tmp_path_factory.mktemp(f"{platform}-workloads")
    values = workloads_values(platform, run_stack(load_stack(platform, platform_values(platform))))
    stack_file = work / f"Pulumi.{platform}-workloads.yaml"
    stack_file.write_text(yaml.safe_dump({"config": values}))
    out = work / "rendered"
    proc = subprocess.run(
        [sys.executable, "-m", "inferstack", "render", "--config", str(stack_file), "--out", str(out)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    objs = sa.load_manifests(out)
    report = sa.apply_objects(client, f"workloads:{platform}", objs)
    print("\n".join(report.lines()))
    assert report.objects == len(objs) > 0
    assert report.rejected == [] and report.pod_security_warnings == [] and report.other_warnings == []
    assert report.changed_on_second_apply == []
    assert {o["kind"] for o in objs} >= {"Namespace", "InferenceService"}
