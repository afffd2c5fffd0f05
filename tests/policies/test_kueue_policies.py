"""Kueue policies (policies/rules/scheduling.py): a compliant fixture passes and one field change violates, for
kueue-cluster-queue-scoped, kueue-gang-admission and kueue-references-resolve; the reference stacks' objects pass."""

from __future__ import annotations

from typing import Any

import pytest

from inferstack.config import Environment
from inferstack.config.policy import PolicySettings
from inferstack.policies.evaluate import evaluate
from inferstack.policies.pack import pack_config
from tests.conftest import recording as stack_recording
from tests.conftest import stack_config
from tests.policies.test_rules import Case, Res, _findings, case_tests, policy

V = "kueue.x-k8s.io/v1beta2"
CQ = f"kubernetes:{V}:ClusterQueue"
LQ = f"kubernetes:{V}:LocalQueue"
RF = f"kubernetes:{V}:ResourceFlavor"
COHORT = f"kubernetes:{V}:Cohort"
TOPOLOGY = f"kubernetes:{V}:Topology"
WPC = f"kubernetes:{V}:WorkloadPriorityClass"
LWS = "kubernetes:leaderworkerset.x-k8s.io/v1:LeaderWorkerSet"
LLMISVC = "kubernetes:serving.kserve.io/v1alpha2:LLMInferenceService"


def obj(kind: str, name: str, spec: dict[str, Any] | None = None, namespace: str | None = None, **top: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    out: dict[str, Any] = {"apiVersion": V, "kind": kind, "metadata": meta, **top}
    if spec is not None:
        out["spec"] = spec
    return out


def cluster_queue(name: str = "inferstack-ns-team-nlp", flavor: str = "inferstack-gpu", cohort: str = "inferstack") -> dict[str, Any]:
    return obj("ClusterQueue", name, {
        "cohortName": cohort,
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "team-nlp"}},
        "resourceGroups": [{"coveredResources": ["cpu", "memory", "nvidia.com/gpu"],
                            "flavors": [{"name": flavor, "resources": [{"name": "cpu", "nominalQuota": "8"},
                                                                       {"name": "memory", "nominalQuota": "32Gi"},
                                                                       {"name": "nvidia.com/gpu", "nominalQuota": 2}]}]}],
    })


def llm(labels: dict[str, str] | None = None, worker: bool = True) -> dict[str, Any]:
    spec: dict[str, Any] = {"model": {"uri": "s3://b/m/", "name": "big"}, "template": {"containers": [{"name": "main"}]}}
    if worker:
        spec["worker"] = {"containers": [{"name": "main"}]}
    return {"apiVersion": "serving.kserve.io/v1alpha2", "kind": "LLMInferenceService",
            "metadata": {"name": "big-v1", "namespace": "team-nlp",
                         "labels": {"kueue.x-k8s.io/queue-name": "inferstack", "kueue.x-k8s.io/priority-class": "inferstack-batch"}
                         if labels is None else labels},
            "spec": spec}


def lws() -> dict[str, Any]:
    return {"apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet",
            "metadata": {"name": "group", "namespace": "team-nlp", "labels": {"kueue.x-k8s.io/queue-name": "inferstack"}},
            "spec": {"replicas": 1, "leaderWorkerTemplate": {"size": 2, "workerTemplate": {"spec": {"containers": [{"name": "w"}]}}}}}


QUEUES = (
    Res(COHORT, obj("Cohort", "inferstack", {}), name="cohort"),
    Res(TOPOLOGY, obj("Topology", "inferstack-tpu", {"levels": [{"nodeLabel": "kubernetes.io/hostname"}]}), name="topology"),
    Res(RF, obj("ResourceFlavor", "inferstack-gpu", {"nodeLabels": {"inferstack.io/pool": "gpu"}, "topologyName": "inferstack-tpu"}), name="flavor"),
    Res(CQ, cluster_queue(), name="cq"),
    Res(LQ, obj("LocalQueue", "inferstack", {"clusterQueue": "inferstack-ns-team-nlp"}, namespace="team-nlp"), name="lq"),
    Res(WPC, obj("WorkloadPriorityClass", "inferstack-batch", value=100), name="wpc"),
    Res(LLMISVC, llm(), name="big"),
    Res(LWS, lws(), name="lws"),
)

CASES = [
    Case("cq-selects-every-namespace", "kueue-cluster-queue-scoped", QUEUES, (3, "props", "spec", "namespaceSelector"), {}, flagged=3),
    Case("cq-empty-match-labels", "kueue-cluster-queue-scoped", QUEUES,
         (3, "props", "spec", "namespaceSelector"), {"matchLabels": {}, "matchExpressions": []}, flagged=3),
    Case("llm-workers-without-queue", "kueue-gang-admission", QUEUES, (6, "props", "metadata", "labels"), {}, flagged=6),
    Case("llm-workers-unknown-queue", "kueue-gang-admission", QUEUES,
         (6, "props", "metadata", "labels"), {"kueue.x-k8s.io/queue-name": "other"}, flagged=6),
    Case("lws-without-queue", "kueue-gang-admission", QUEUES, (7, "props", "metadata", "labels"), {"app": "x"}, flagged=7),
    Case("lq-unknown-cluster-queue", "kueue-references-resolve", QUEUES, (4, "props", "spec", "clusterQueue"), "inferstack-ns-x", flagged=4),
    Case("cq-unknown-flavor", "kueue-references-resolve", QUEUES,
         (3, "props", "spec", "resourceGroups", 0, "flavors", 0, "name"), "inferstack-h100", flagged=3),
    Case("cq-unknown-cohort", "kueue-references-resolve", QUEUES, (3, "props", "spec", "cohortName"), "teams", flagged=3),
    Case("flavor-unknown-topology", "kueue-references-resolve", QUEUES, (2, "props", "spec", "topologyName"), "rack", flagged=2),
    Case("workload-unknown-priority-class", "kueue-references-resolve", QUEUES,
         (6, "props", "metadata", "labels", "kueue.x-k8s.io/priority-class"), "urgent", flagged=6),
]


test_compliant_fixture_passes, test_one_field_change_violates = case_tests(CASES)


def test_a_missing_selector_selects_no_namespace_and_passes() -> None:
    # Kueue reads a missing namespaceSelector as nothing: the pools' lending queues have none.
    cq = cluster_queue("inferstack-pool-gpu")
    del cq["spec"]["namespaceSelector"]
    assert _findings((Res(CQ, cq),), "kueue-cluster-queue-scoped") == []


def test_single_node_llm_and_kinds_the_stack_does_not_declare_are_not_judged() -> None:
    # No worker: no group to gang-admit. A team stack naming the platform's queues declares no ClusterQueue.
    assert _findings((Res(LLMISVC, llm(labels={}, worker=False)),), "kueue-gang-admission") == []
    team = (Res(LQ, obj("LocalQueue", "inferstack", {"clusterQueue": "platform-queue"}, namespace="team-nlp")),
            Res(LLMISVC, llm()))
    assert _findings(team, "kueue-references-resolve") == []


def test_gang_admission_is_advisory_in_dev() -> None:
    levels = {env: pack_config(PolicySettings(environment=env, allowed_regions=("eu-west-1",)))["kueue-gang-admission"]["enforcementLevel"]
              for env in Environment}
    assert levels == {Environment.DEV: "advisory", Environment.STAGING: "mandatory", Environment.PROD: "mandatory"}


@pytest.mark.parametrize("stack", ["prod", "gcp-prod"])
def test_reference_stacks_pass_the_kueue_policies(stack: str) -> None:
    config = {name: {"enforcementLevel": "mandatory"} for name in ("kueue-cluster-queue-scoped", "kueue-gang-admission", "kueue-references-resolve")}
    findings = evaluate(stack_recording(stack), config, policies=[policy(n) for n in config])
    assert findings == [], [f.message for f in findings]
    assert stack_config(stack).settings.scheduling.enabled
