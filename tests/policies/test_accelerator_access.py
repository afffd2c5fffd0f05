"""secure-accelerator-access and dra-claims-not-shared: compliant fixtures pass, each one-field change is a finding
naming what to fix; the reference stacks' DRA and shared-GPU models pass."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from inferstack.policies.pack import ENTRY_BY_NAME
from tests.policies.test_rules import Case, Res, _findings, case_tests, one

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
POD = "kubernetes:core/v1:Pod"
ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
CLAIM = "kubernetes:resource.k8s.io/v1:ResourceClaim"
TEMPLATE = "kubernetes:resource.k8s.io/v1:ResourceClaimTemplate"

GPU_POD: dict[str, Any] = {
    "containers": [{
        "name": "main", "image": "registry.example/vllm:1",
        "env": [{"name": "NVIDIA_VISIBLE_DEVICES", "value": "void"}, {"name": "LOG_LEVEL", "value": "info"}],
        "resources": {"limits": {"nvidia.com/gpu": 1}, "claims": [{"name": "gpu"}]},
        "securityContext": {"privileged": False},
    }],
    "resourceClaims": [{"name": "gpu", "resourceClaimTemplateName": "chat-gpu"}],
    "volumes": [{"name": "cache", "emptyDir": {}}, {"name": "logs", "hostPath": {"path": "/var/log/app"}}],
}


def deployment(pod: dict[str, Any], ns: str = "team-nlp") -> dict[str, Any]:
    return {"metadata": {"name": "chat", "namespace": ns}, "spec": {"template": {"spec": pod}}}


def access(resources: tuple[Res, ...]) -> list[str]:
    return [f.message for f in _findings(resources, "secure-accelerator-access")]


def claims(resources: tuple[Res, ...]) -> list[str]:
    return [f.message for f in _findings(resources, "dra-claims-not-shared")]


def test_registered_mandatory_with_the_conformance_control():
    entry = ENTRY_BY_NAME["secure-accelerator-access"]
    assert "Kubernetes AI Conformance: secure_accelerator_access" in entry.controls
    assert set(entry.levels.values()) == {"mandatory"}
    assert "dra-claims-not-shared" in ENTRY_BY_NAME


def test_compliant_gpu_pod_passes():
    assert access(one(DEPLOYMENT, deployment(copy.deepcopy(GPU_POD)))) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda p: p["containers"][0]["env"].__setitem__(0, {"name": "NVIDIA_VISIBLE_DEVICES", "value": "all"}),
         "sets NVIDIA_VISIBLE_DEVICES=all"),
        (lambda p: p["containers"][0]["env"].__setitem__(0, {"name": "NVIDIA_VISIBLE_DEVICES", "value": "0,1"}),
         "sets NVIDIA_VISIBLE_DEVICES=0,1"),
        (lambda p: p["containers"][0]["securityContext"].__setitem__("privileged", True),
         "is privileged and requests accelerators"),
        (lambda p: p["volumes"].append({"name": "dev", "hostPath": {"path": "/dev/nvidia0"}}),
         "mounts hostPath /dev/nvidia0"),
        (lambda p: p["volumes"].append({"name": "dev", "hostPath": {"path": "/dev/"}}),
         "mounts hostPath /dev/"),
        (lambda p: p.__setitem__("resourceClaims", [{"name": "gpu", "resourceClaimName": "shared-gpus"}]),
         "names the ResourceClaim shared-gpus: every pod of the workload shares its devices"),
    ],
)
def test_each_way_to_see_an_unclaimed_device_is_a_finding(change, expected):
    pod = copy.deepcopy(GPU_POD)
    change(pod)
    [msg] = access(one(DEPLOYMENT, deployment(pod)))
    assert expected in msg and "resourceClaimTemplateName" in msg


def test_privileged_without_accelerators_is_left_to_pod_security():
    pod = copy.deepcopy(GPU_POD)
    pod["containers"][0]["resources"] = {"limits": {"cpu": "1"}}
    pod["containers"][0]["securityContext"]["privileged"] = True
    assert access(one(DEPLOYMENT, deployment(pod))) == []


def test_a_bare_pod_may_name_its_own_claim():
    pod = copy.deepcopy(GPU_POD)
    pod["resourceClaims"] = [{"name": "gpu", "resourceClaimName": "mine"}]
    assert access(one(POD, {"metadata": {"name": "p", "namespace": "team-nlp"}, "spec": pod})) == []


def test_inference_service_predictor_is_judged():
    predictor = {"model": {"modelFormat": {"name": "huggingface"}, "resources": {"claims": [{"name": "gpu"}]},
                           "env": [{"name": "NVIDIA_VISIBLE_DEVICES", "value": "all"}]},
                 "resourceClaims": [{"name": "gpu", "resourceClaimTemplateName": "chat-gpu"}]}
    [msg] = access(one(ISVC, {"metadata": {"name": "chat", "namespace": "team-nlp"}, "spec": {"predictor": predictor}}))
    assert "spec.predictor.model sets NVIDIA_VISIBLE_DEVICES=all" in msg


def _template(admin: bool = False) -> dict[str, Any]:
    exactly: dict[str, Any] = {"deviceClassName": "inferstack-nvidia-l4", "allocationMode": "ExactCount", "count": 1}
    if admin:
        exactly["adminAccess"] = True
    return {"metadata": {"name": "chat-gpu", "namespace": "team-nlp"},
            "spec": {"spec": {"devices": {"requests": [{"name": "gpu", "exactly": exactly}]}}}}


def test_claims_in_their_namespace_without_admin_access_pass():
    claim = {"metadata": {"name": "mine", "namespace": "team-nlp"}, "spec": _template()["spec"]["spec"]}
    pod = copy.deepcopy(GPU_POD)
    pod["resourceClaims"] = [{"name": "gpu", "resourceClaimName": "mine"}]
    resources = (Res(TEMPLATE, _template(), name="t"), Res(CLAIM, claim, name="c"),
                 Res(POD, {"metadata": {"name": "p", "namespace": "team-nlp"}, "spec": pod}, name="p"))
    assert claims(resources) == []


def test_admin_access_is_a_finding():
    [msg] = claims((Res(TEMPLATE, _template(admin=True), name="t"),))
    assert "ResourceClaimTemplate requests adminAccess" in msg


def test_a_claim_named_from_another_namespace_is_a_finding():
    claim = {"metadata": {"name": "gpus", "namespace": "team-nlp"}, "spec": _template()["spec"]["spec"]}
    pod = copy.deepcopy(GPU_POD)
    pod["resourceClaims"] = [{"name": "gpu", "resourceClaimName": "gpus"}]
    resources = (Res(CLAIM, claim, name="c"), Res(POD, {"metadata": {"name": "p", "namespace": "team-search"}, "spec": pod}, name="p"))
    [msg] = claims(resources)
    assert "in namespace team-search names ResourceClaim gpus, declared in team-nlp" in msg


#: The harness's cases (tests/policies/test_rules.py: every policy has a compliant fixture and a one-field violation).
_POD_PATH = (0, "props", "spec", "template", "spec")
CASES = [
    Case("gpu-pod-privileged", "secure-accelerator-access", (Res(DEPLOYMENT, deployment(copy.deepcopy(GPU_POD))),),
         (*_POD_PATH, "containers", 0, "securityContext", "privileged"), True),
    Case("gpu-pod-hostpath-dev", "secure-accelerator-access", (Res(DEPLOYMENT, deployment(copy.deepcopy(GPU_POD))),),
         (*_POD_PATH, "volumes", 1, "hostPath", "path"), "/dev/nvidia0"),
    Case("gpu-pod-visible-devices-all", "secure-accelerator-access", (Res(DEPLOYMENT, deployment(copy.deepcopy(GPU_POD))),),
         (*_POD_PATH, "containers", 0, "env", 0, "value"), "all"),
    Case("claim-template-admin-access", "dra-claims-not-shared", (Res(TEMPLATE, _template()),),
         (0, "props", "spec", "spec", "devices", "requests", 0, "exactly", "adminAccess"), True),
]


test_case_compliant_fixture_passes, test_case_one_field_change_violates = case_tests(CASES)
