"""The Kubernetes families (policies/families/kubernetes.py) against the installed pulumi_kubernetes and the rules.

The coverage test (test_family_coverage.py) counts a member judged when any entry's types match it; here each
family is held to the rules that actually read its control: every workload member's pod spec, at the path the SDK
gives, is found by ``k8s_objects.pod_specs`` and judged by every pod policy; every RBAC, stored-data and node-volume
member is named by the rules of its family, or explained.
"""

from __future__ import annotations

from typing import Any

import pytest

from inferstack.policies import families
from inferstack.policies.families import kubernetes as k8s_families
from inferstack.policies.families.base import camel, sdk_types
from inferstack.policies.families.coverage import explanation
from inferstack.policies.pack import ENTRY_BY_NAME
from inferstack.policies.rules import k8s_workloads, pod_security
from inferstack.policies.rules.k8s_objects import objects, pod_specs
from tests.policies.test_rules import _findings, one

POD = {"containers": [{"name": "app", "image": "registry.example/app:1"}]}
POD_POLICIES = [*(name for name, *_ in pod_security.PSS_CONTROLS), "k8s-no-literal-secret-env",
                *(e.name for e in k8s_workloads.ENTRIES if e.families)]


def _members(family: str) -> dict[str, tuple[str, ...]]:
    return {t: f for t, f in families.members(family).items()
            if explanation(t, k8s_families.EXPLAINED) is None}


def _at(path: str, value: Any) -> dict[str, Any]:
    """Props with ``value`` at a generated input path (``spec.template.spec``, ``items[].spec``), camelCased."""
    head, _, rest = path.partition(".")
    key = camel(head.removesuffix("[]"))
    inner = _at(rest, value) if rest else value
    return {key: [inner] if head.endswith("[]") else inner}


def test_generated_members_are_current() -> None:
    types = sdk_types("kubernetes")
    for spec in k8s_families.SPECS:
        assert spec.members(types) == dict(families.members(spec.name)), \
            f"{spec.name}: run python scripts/gen_families.py --cloud kubernetes"


@pytest.mark.parametrize("token", sorted(_members("k8s-workload")))
def test_every_workload_member_is_read_and_judged_by_the_pod_policies(token: str) -> None:
    for path in families.fields("k8s-workload", token):
        found = [s for o in objects(token, _at(path, POD)) for s in pod_specs(o)]
        assert [s.containers[0].container["image"] for s in found] == ["registry.example/app:1"], (token, path)
    for name in POD_POLICIES:
        assert ENTRY_BY_NAME[name].applies_to(token), (name, token)


def test_rbac_data_and_volume_members_are_named_by_their_rules() -> None:
    """Each member is named (its exact token) by a rule of its family, not only reached by a blanket prefix."""
    rules = {
        "k8s-rbac": {"rbac-no-wildcards", "rbac-no-escalation-verbs", "rbac-bindings", "rbac-no-cluster-secret-read"},
        "k8s-stored-data": {"k8s-configmap-credentials", "k8s-contained-secrets-not-plaintext"},
        "k8s-node-volume": {"k8s-persistent-volume-host-path"},
    }
    for family, names in rules.items():
        members = _members(family)
        assert members, family
        for token in members:
            naming = {e.name for e in ENTRY_BY_NAME.values() if e.types and token in e.types}
            # Secret and SecretPatch values are judged by the exposure rules (plain values in the program)
            assert naming & names or (":Secret" in token and naming), (family, token, naming)


def test_removed_api_versions_and_controller_objects_are_explained() -> None:
    for token in ("kubernetes:rbac.authorization.k8s.io/v1beta1:ClusterRole", "kubernetes:batch/v1beta1:CronJob",
                  "kubernetes:apps/v1:ControllerRevision", "kubernetes:storage.k8s.io/v1:VolumeAttachment"):
        assert explanation(token, k8s_families.EXPLAINED), token
    tokens = {t for s in k8s_families.SPECS for t in families.members(s.name)}
    stale = [k for k in k8s_families.EXPLAINED
             if not any(t == k or (k.endswith((":", "/")) and t.startswith(k)) for t in tokens)]
    assert stale == []


@pytest.mark.parametrize("token", sorted(_members("k8s-service-exposure")))
def test_every_service_member_is_read_and_judged_by_the_node_port_rule(token: str) -> None:
    """A NodePort spec at each generated path of each member is reported by k8s-no-node-port-services; ClusterIP
    passes."""
    for path in families.fields("k8s-service-exposure", token):
        for service_type, found in (("NodePort", 1), ("ClusterIP", 0)):
            props = _at(path, {"type": service_type, "ports": [{"port": 80}]})
            assert len(_findings(one(token, props), "k8s-no-node-port-services")) == found, \
                (token, path, service_type)
    assert ENTRY_BY_NAME["k8s-no-node-port-services"].applies_to(token)
