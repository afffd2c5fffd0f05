"""The pinned node-agent exemption (policies/rules/node_agents.py), through the real policies and the offline
evaluator: AWS's neuron-monitor DaemonSet as the AWS platform declares it passes every exempted rule in kube-system;
the same pod in another namespace, with another tag, with a sidecar, as a patch or as a Deployment is reported by
each of them; a label does not exempt anything; and the rules the exemption does not cover still apply to it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from inferstack.catalog.versions import NEURON_MONITOR_IMAGE, NODE_AGENT_IMAGES
from inferstack.components.aws.device_plugins import neuron_monitor_daemonset
from inferstack.policies.rules.pod_security import NODE_AGENT_EXEMPT
from tests.policies.test_rules import _findings, one

DS = "kubernetes:apps/v1:DaemonSet"
#: Every rule the exemption covers: the privileged-container rules and the PSS controls privileged overrides.
EXEMPTED = ("no-privileged-workloads", *sorted(NODE_AGENT_EXEMPT))
#: A compliant (PSS restricted) sidecar: the pod is no longer the agent alone.
SIDECAR = {"name": "sidecar", "image": "registry.example/sidecar:1",
           "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]},
                               "seccompProfile": {"type": "RuntimeDefault"}}}


def agent() -> dict[str, Any]:
    """The DaemonSet the AWS platform declares for a stack with an inf2 pool."""
    return neuron_monitor_daemonset(["aws-inferentia2"])


def _pod(d: dict[str, Any]) -> dict[str, Any]:
    return d["spec"]["template"]["spec"]


def other_namespace() -> dict[str, Any]:
    d = agent()
    d["metadata"]["namespace"] = "neuron-monitor"
    return d


def no_namespace() -> dict[str, Any]:
    d = agent()
    del d["metadata"]["namespace"]
    return d


def other_tag() -> dict[str, Any]:
    d = agent()
    _pod(d)["containers"][0]["image"] = NEURON_MONITOR_IMAGE.rsplit(":", 1)[0] + ":latest"
    return d


def by_digest() -> dict[str, Any]:
    d = agent()
    _pod(d)["containers"][0]["image"] = NEURON_MONITOR_IMAGE + "@sha256:" + "0" * 64
    return d


def with_sidecar() -> dict[str, Any]:
    d = agent()
    _pod(d)["containers"].append(copy.deepcopy(SIDECAR))
    return d


def with_init_container() -> dict[str, Any]:
    d = agent()
    _pod(d)["initContainers"] = [{**copy.deepcopy(SIDECAR), "name": "init"}]
    return d


def labelled_lookalike() -> dict[str, Any]:
    """Another image in kube-system carrying the agent's labels and names: labels exempt nothing."""
    d = agent()
    _pod(d)["containers"][0]["image"] = "registry.example/neuron-monitor:1.3.0"
    return d


BAD = {"other-namespace": (DS, other_namespace), "no-namespace": (DS, no_namespace), "other-tag": (DS, other_tag),
       "digest": (DS, by_digest), "sidecar": (DS, with_sidecar), "init-container": (DS, with_init_container),
       "lookalike": (DS, labelled_lookalike), "patch": ("kubernetes:apps/v1:DaemonSetPatch", agent),
       "deployment": ("kubernetes:apps/v1:Deployment", agent)}


def test_the_catalogue_pins_the_agent_image() -> None:
    assert NEURON_MONITOR_IMAGE in NODE_AGENT_IMAGES
    assert _pod(agent())["containers"][0]["image"] == NEURON_MONITOR_IMAGE
    repo, tag = NEURON_MONITOR_IMAGE.rsplit(":", 1)
    assert repo == "public.ecr.aws/neuron/neuron-monitor" and tag and tag != "latest"


@pytest.mark.parametrize("name", EXEMPTED)
def test_pinned_agent_in_kube_system_passes(name: str) -> None:
    findings = _findings(one(DS, agent()), name)
    assert findings == [], [f.message for f in findings]


#: (rule, case) pairs. A patch leaves unset fields as the live object has them, so the restricted controls that
#: require a field set do not judge one (tests/policies/test_k8s_rules.py REQUIRES_SET): it is reported by the rules
#: on ``privileged: true`` only.
REPORTED = [(name, case) for name in EXEMPTED for case in sorted(BAD)
            if case != "patch" or name in ("no-privileged-workloads", "pss-privileged")]


@pytest.mark.parametrize(("name", "case"), REPORTED)
def test_anything_else_is_reported(name: str, case: str) -> None:
    type_, build = BAD[case]
    findings = _findings(one(type_, build()), name)
    assert findings, f"{case}: {name} exempted it"
    assert {f.enforcement_level for f in findings} == {"mandatory"}
    assert any("neuron-monitor" in f.message for f in findings), [f.message for f in findings]


@pytest.mark.parametrize(("field", "value", "name"), [
    ("hostNetwork", True, "pss-host-namespaces"), ("hostNetwork", True, "no-privileged-workloads"),
    ("volumes", [{"name": "dev", "hostPath": {"path": "/dev"}}], "pss-host-path"),
    ("volumes", [{"name": "dev", "hostPath": {"path": "/dev"}}], "no-privileged-workloads"),
])
def test_the_exemption_covers_privileged_only(field: str, value: Any, name: str) -> None:
    d = agent()
    _pod(d)[field] = value
    assert _findings(one(DS, d), name), f"{field} on the pinned agent was not reported by {name}"


def test_controls_privileged_does_not_override_still_apply() -> None:
    d = agent()
    _pod(d)["containers"][0]["securityContext"]["runAsUser"] = 0
    _pod(d)["containers"][0]["securityContext"]["capabilities"] = {"add": ["SYS_ADMIN"]}
    assert _findings(one(DS, d), "pss-run-as-non-root-user")
    assert _findings(one(DS, d), "pss-capabilities")
