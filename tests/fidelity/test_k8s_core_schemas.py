"""Core Kubernetes objects of every reference stack validate strictly against Kubernetes' own OpenAPI schemas
(kubernetes-validate) at the pinned version, with scripts/k8s_validate.py, the checker `make conformance` runs.
Custom resources are the CRD schemas' job (../shared, CI only); kinds with no schema are reported, not dropped."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter

import pytest

from inferstack.catalog.versions import EKS_VERSION
from inferstack.cli.render import kubernetes_objects
from tests.conftest import REFERENCE_STACKS, REPO, recording


def _load():
    spec = importlib.util.spec_from_file_location("k8s_validate", REPO / "scripts" / "k8s_validate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


kv = _load()


def test_the_script_pins_the_platform_version() -> None:
    assert kv.DEFAULT_VERSION == EKS_VERSION
    assert kv.schema_version(EKS_VERSION).startswith(EKS_VERSION + "."), "kubernetes-validate has the pinned version"


@pytest.mark.parametrize("stack", REFERENCE_STACKS)
def test_core_objects_validate(stack: str) -> None:
    objs = [(f"{stack}:{i}", o) for i, o in enumerate(kubernetes_objects(recording(stack)))]
    report = kv.validate_objects(objs, EKS_VERSION)
    print("\n".join(report.lines()))
    assert not report.failures, "\n".join(report.failures)
    # not vacuous: the platform's own core objects were checked
    assert {"Namespace", "ServiceAccount", "RoleBinding"} <= set(report.validated_kinds), report.validated_kinds
    assert report.passed + sum(report.skipped.values()) == len(objs)


def test_kinds_without_a_schema_are_reported_by_kind() -> None:
    objs = [(f"gcp-prod:{i}", o) for i, o in enumerate(kubernetes_objects(recording("gcp-prod")))]
    crds = frozenset({("serving.kserve.io/v1beta1", "InferenceService")})
    report = kv.validate_objects(objs, EKS_VERSION, crds)
    compute_classes = sum(1 for _, o in objs if o["kind"] == "ComputeClass")
    assert compute_classes and report.skipped[("cloud.google.com/v1", "ComputeClass")] == compute_classes
    assert report.crd == sum(1 for _, o in objs if o["kind"] == "InferenceService")
    assert any(line.startswith("SKIP ComputeClass (cloud.google.com/v1):") for line in report.lines())


def test_a_wrong_core_object_fails() -> None:
    bad = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "x", "lables": {"a": "b"}},
        "spec": {"finalizers": "kubernetes"},
    }
    report = kv.validate_objects([("t", bad)], EKS_VERSION)
    assert report.failed == 1 and report.passed == 0
    assert any("lables" in f or "finalizers" in f for f in report.failures), report.failures


def test_a_crd_group_sharing_a_core_prefix_is_not_validated_as_core() -> None:
    """kubernetes-validate maps ``gateway.networking.k8s.io/v1`` to the ``gateway-v1`` file name; the script
    classifies by exact group/version/kind, so a custom resource is never judged by a core schema."""
    route = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r"}}
    pool = {"apiVersion": "inference.networking.k8s.io/v1", "kind": "InferencePool", "metadata": {"name": "p"}}
    report = kv.validate_objects([("a", route), ("b", pool)], EKS_VERSION)
    assert report.passed == 0 and not report.failures
    assert Counter({k[1]: n for k, n in report.skipped.items()}) == Counter({"HTTPRoute": 1, "InferencePool": 1})


def test_the_script_exits_nonzero_on_a_failure(tmp_path) -> None:
    (tmp_path / "ns.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\nspec: {bogus: 1}\n")
    assert kv.main([str(tmp_path)]) == 1
    (tmp_path / "ns.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n")
    assert kv.main([str(tmp_path)]) == 0
    assert kv.main(["--version", "9.99", str(tmp_path)]) == 2
