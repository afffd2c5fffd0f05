"""Kueue on the reference stacks: one ClusterQueue per accelerator pool and per team namespace, a LocalQueue per
team namespace, flavors per pool, priority classes per workload class, LLM objects labelled for their queue; the
objects pass the upstream Kueue v0.19.2 schemas; multi-host TPU pools get a Topology."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from inferstack.catalog.versions import CHARTS, KUEUE_IMAGE
from inferstack.checks.scheduling import Quota, queue_plan
from inferstack.config import Cloud
from inferstack.config.platform import AcceleratorPoolConfig, WorkloadClass
from inferstack.config.scheduling import SchedulingConfig
from inferstack.config.serving import ModelConfig
from inferstack.engine import run_stack
from inferstack.load import load_stack
from inferstack.serving.kueue import (
    FRAMEWORKS,
    GKE_NODEPOOL_LABEL,
    LOCAL_QUEUE,
    PRIORITY,
    PRIORITY_LABEL,
    QUEUE_LABEL,
    REQUIRED_TOPOLOGY,
    kueue_objects,
    priority_class_name,
    workload_metadata,
)
from tests.conftest import REPO, recording, stack_config

SCHEMAS = REPO.parent / "shared" / "schemas"
KIND_SCHEMA = {
    "ClusterQueue": "clusterqueue", "LocalQueue": "localqueue", "ResourceFlavor": "resourceflavor", "Cohort": "cohort",
    "WorkloadPriorityClass": "workloadpriorityclass", "Topology": "topology",
}
LLMISVC = "kubernetes:serving.kserve.io/v1alpha2:LLMInferenceService"
ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"


def kueue_records(stack: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in KIND_SCHEMA}
    for r in recording(stack).resources:
        if r.type.startswith("kubernetes:kueue.x-k8s.io/v1beta2:"):
            out[r.type.rsplit(":", 1)[1]].append(r.inputs)
    return out


@pytest.mark.parametrize("stack", ["prod", "gcp-prod"])
def test_prod_stacks_queue_every_accelerator_pool_and_team(stack: str) -> None:
    cfg = stack_config(stack)
    objs = kueue_records(stack)
    names = {o["metadata"]["name"] for o in objs["ClusterQueue"]}
    assert names == {f"inferstack-pool-{p.name}" for p in cfg.settings.accelerator_pools} | {
        f"inferstack-ns-{ns}" for ns in cfg.team_namespaces
    }
    assert {o["metadata"]["name"] for o in objs["ResourceFlavor"]} == {f"inferstack-{p.name}" for p in cfg.settings.accelerator_pools}
    assert sorted((o["metadata"]["namespace"], o["spec"]["clusterQueue"]) for o in objs["LocalQueue"]) == [
        (ns, f"inferstack-ns-{ns}") for ns in cfg.team_namespaces
    ]
    assert {o["metadata"]["name"]: o["value"] for o in objs["WorkloadPriorityClass"]} == {
        priority_class_name(w): PRIORITY[w] for w in WorkloadClass
    }
    assert all(o["spec"]["cohortName"] == "inferstack" for o in objs["ClusterQueue"])
    # Each team queue admits from its own namespace only; the pools' queues from none (they lend).
    for o in objs["ClusterQueue"]:
        name = o["metadata"]["name"]
        if name.startswith("inferstack-ns-"):
            assert o["spec"]["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": name.removeprefix("inferstack-ns-")}}
        else:
            assert "namespaceSelector" not in o["spec"]


@pytest.mark.parametrize("stack", ["prod", "gcp-prod"])
def test_nominal_quotas_add_up_to_what_each_pool_offers(stack: str) -> None:
    cfg = stack_config(stack)
    s = cfg.settings
    plan = queue_plan(cfg.cloud, s.accelerator_pools, s.models, s.scheduling)
    queues = kueue_records(stack)["ClusterQueue"]
    for pq in plan:
        flavor = f"inferstack-{pq.pool.name}"
        devices = 0
        for q in queues:
            for group in q["spec"]["resourceGroups"]:
                for f in group["flavors"]:
                    if f["name"] == flavor:
                        devices += next(r["nominalQuota"] for r in f["resources"] if r["name"] == pq.device_resource)
        assert devices == pq.offered.devices, pq.pool.name


@pytest.mark.parametrize("stack", ["prod", "gcp-prod"])
def test_llm_objects_carry_their_queue_and_the_pools_priority(stack: str) -> None:
    cfg = stack_config(stack)
    rec = recording(stack)
    llms = rec.by_type(LLMISVC)
    assert llms
    for r in llms:
        labels = r.inputs["metadata"]["labels"]
        model = next(m for m in cfg.settings.models if m.name == labels["inferstack.io/model"])
        assert labels[QUEUE_LABEL] == LOCAL_QUEUE
        assert labels[PRIORITY_LABEL] == priority_class_name(cfg.pool(str(model.pool)).workload)
    # InferenceServices: KServe does not copy Kueue labels to their workloads, so none is set.
    for r in rec.by_type(ISVC):
        assert QUEUE_LABEL not in (r.inputs["metadata"].get("labels") or {})


def test_kueue_chart_pinned_with_the_integrations_and_team_namespaces_only() -> None:
    (release,) = [r for r in recording("prod").by_type("kubernetes:helm.sh/v3:Release") if r.inputs.get("name") == "kueue"]
    assert release.inputs["version"] == CHARTS["kueue"].version == "0.19.2"
    values = release.inputs["values"]
    assert values["controllerManager"]["manager"]["image"] == {"repository": KUEUE_IMAGE[0], "tag": KUEUE_IMAGE[1], "pullPolicy": "IfNotPresent"}
    conf = yaml.safe_load(values["managerConfig"]["controllerManagerConfigYaml"])
    assert conf["integrations"]["frameworks"] == list(FRAMEWORKS)
    assert "leaderworkerset.x-k8s.io/leaderworkerset" in conf["integrations"]["frameworks"]
    assert conf["managedJobsNamespaceSelector"]["matchExpressions"][0]["values"] == stack_config("prod").team_namespaces
    assert conf["manageJobsWithoutQueueName"] is False
    assert conf["waitForPodsReady"]["timeout"] == "30m"


def _schema(kind: str) -> dict[str, Any]:
    path = SCHEMAS / f"kueue-v0.19.2-{KIND_SCHEMA[kind]}.v1beta2.json"
    if not path.is_file():
        pytest.skip(f"{path} absent (upstream schemas live beside the project, in ../shared)")
    return json.loads(path.read_text())["openAPIV3Schema"]


def _multi_host_plan() -> tuple[list[Any], ModelConfig, SchedulingConfig]:
    pool = AcceleratorPoolConfig(name="tpu", kind="tpu-v5e", tpu_topology="4x4", max_nodes=8)
    model = ModelConfig.model_validate({
        "name": "big", "namespace": "team-nlp", "format": "huggingface", "registryModel": "m", "version": "1", "pool": "tpu",
        "accelerators": 4, "cpu": "8", "memory": "32Gi", "scaleMetric": "waiting-requests",
        "llm": {"shape": {"parametersB": 70, "layers": 80, "kvHeads": 8, "headDim": 128}, "nodesPerReplica": 4},
    })
    scheduling = SchedulingConfig()
    return queue_plan(Cloud.GCP, [pool], [model], scheduling), model, scheduling


@pytest.mark.parametrize("stack", ["prod", "gcp-prod", "dev", "gcp-dev"])
def test_objects_pass_the_upstream_kueue_schemas(stack: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    objs = [o for kind in kueue_records(stack).values() for o in kind]
    plan, _, scheduling = _multi_host_plan()
    objs += kueue_objects(plan, ["team-nlp"], scheduling)
    assert {o["kind"] for o in objs} == set(KIND_SCHEMA)
    for obj in objs:
        jsonschema.validate(obj, _schema(obj["kind"]))


def test_multi_host_tpu_pool_keeps_each_group_in_one_slice() -> None:
    plan, model, scheduling = _multi_host_plan()
    (pq,) = plan
    assert pq.slice_hosts == 4 and pq.multi_host_slice
    objs = {o["kind"]: o for o in kueue_objects(plan, ["team-nlp"], scheduling)}
    assert objs["Topology"]["spec"]["levels"] == [{"nodeLabel": GKE_NODEPOOL_LABEL}, {"nodeLabel": "kubernetes.io/hostname"}]
    assert objs["ResourceFlavor"]["spec"]["topologyName"] == objs["Topology"]["metadata"]["name"]
    labels, annotations = workload_metadata(model, WorkloadClass.BATCH, Cloud.GCP, plan)
    assert labels == {QUEUE_LABEL: LOCAL_QUEUE, PRIORITY_LABEL: "inferstack-batch"}
    assert annotations == {REQUIRED_TOPOLOGY: GKE_NODEPOOL_LABEL}
    # The team's guaranteed share is the whole group: 4 hosts x 4 chips.
    assert pq.guaranteed["team-nlp"] == Quota(16, 32000, 4 * 32 * 1024)


def test_scheduling_disabled_declares_no_kueue_and_no_queue_label() -> None:
    values = {**stack_config("dev").values, "inferstack:scheduling": {"enabled": False}}
    rec = run_stack(load_stack("dev", values))
    assert not [r for r in rec.resources if "kueue" in r.type or r.inputs.get("name") == "kueue"]
    for r in rec.by_type(LLMISVC):
        assert QUEUE_LABEL not in r.inputs["metadata"]["labels"]


@pytest.mark.parametrize("stack", ["prod", "gcp-prod"])
def test_prod_stacks_serve_a_multi_node_model_through_a_gang(stack: str) -> None:
    # KServe makes a LeaderWorkerSet of a worker-carrying LLMInferenceService; with the queue label Kueue's
    # LeaderWorkerSet integration admits each group (leader and workers) all or nothing.
    gangs = [r for r in recording(stack).by_type(LLMISVC) if "worker" in r.inputs["spec"]]
    assert gangs
    for r in gangs:
        assert r.inputs["metadata"]["labels"][QUEUE_LABEL] == LOCAL_QUEUE


def test_dra_pools_are_counted_through_device_class_mappings() -> None:
    from inferstack.components.dra import device_class_name

    cfg = stack_config("prod")
    (release,) = [r for r in recording("prod").by_type("kubernetes:helm.sh/v3:Release") if r.inputs.get("name") == "kueue"]
    conf = yaml.safe_load(release.inputs["values"]["managerConfig"]["controllerManagerConfigYaml"])
    dra = [p for p in cfg.settings.accelerator_pools if p.allocation.value == "dra"]
    assert dra
    assert conf["resources"]["deviceClassMappings"] == [
        {"name": f"dra.inferstack.io/{k}", "deviceClassNames": [device_class_name(k)]} for k in sorted({p.kind for p in dra})
    ]
    flavors = {o["metadata"]["name"]: o for o in kueue_records("prod")["ResourceFlavor"]}
    for p in dra:
        queue = next(q for q in kueue_records("prod")["ClusterQueue"] if q["metadata"]["name"] == f"inferstack-pool-{p.name}")
        assert f"dra.inferstack.io/{p.kind}" in queue["spec"]["resourceGroups"][0]["coveredResources"]
        assert flavors[f"inferstack-{p.name}"]["spec"]["nodeTaints"] == [{"key": "nvidia.com/gpu", "effect": "NoSchedule"}]
