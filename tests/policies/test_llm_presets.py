"""The Pod Security policies see the pods of KServe ``LLMInferenceServiceConfig`` presets (``spec.template``,
``spec.worker``, ``spec.prefill``), as they see those of ``LLMInferenceService``: a preset merged into an object can
add what the object itself does not (capabilities, host paths). Fixture: the multi-node preset inferstack declares.
"""

from __future__ import annotations

import copy

import pytest

from inferstack.policies.rules.k8s_objects import K8sObject, pod_specs
from inferstack.serving.llm import pipeline_parallel_preset
from tests.policies.test_rules import _findings, one

PRESET = "kubernetes:serving.kserve.io/v1alpha2:LLMInferenceServiceConfig"
RESTRICTED = ("pss-capabilities", "pss-capabilities-strict", "pss-privilege-escalation", "pss-run-as-non-root",
              "pss-seccomp-strict", "pss-volume-types", "pss-host-path", "pss-privileged")


def _preset() -> dict:
    return copy.deepcopy(pipeline_parallel_preset("team-nlp"))


def test_preset_pods_are_extracted():
    paths = [s.path for s in pod_specs(K8sObject("LLMInferenceServiceConfig", _preset()))]
    assert paths == ["spec.template", "spec.worker"]


@pytest.mark.parametrize("name", RESTRICTED)
def test_the_multi_node_preset_passes_pod_security_restricted(name: str):
    assert _findings(one(PRESET, _preset()), name) == []


@pytest.mark.parametrize("part", ["template", "worker"])
def test_a_preset_adding_kserves_rdma_capabilities_is_flagged(part: str):
    bad = _preset()
    bad["spec"][part]["containers"][0]["securityContext"]["capabilities"]["add"] = ["IPC_LOCK", "SYS_RAWIO", "NET_RAW"]
    baseline = [f.message for f in _findings(one(PRESET, bad), "pss-capabilities")]
    assert len(baseline) == 1 and f"spec.{part}.containers[main] adds capabilities IPC_LOCK, NET_RAW, SYS_RAWIO" in baseline[0]
    assert _findings(one(PRESET, bad), "pss-capabilities-strict")


def test_a_preset_with_a_host_path_in_its_prefill_pod_is_flagged():
    bad = _preset()
    bad["spec"]["prefill"] = {"template": {"containers": [], "volumes": [{"name": "dev", "hostPath": {"path": "/dev"}}]}}
    [finding] = _findings(one(PRESET, bad), "pss-host-path")
    assert "spec.prefill.template.volumes[dev] is a hostPath volume" in finding.message
