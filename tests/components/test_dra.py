"""DRA and GPU sharing on the nodes and in serving: pure builders (DRA driver values, DeviceClass, ResourceClaimTemplate,
node labels, device plugin config, GKE sharing args) and what the reference stacks prod and gcp-prod declare."""

from __future__ import annotations

import json

import pytest

from inferstack.catalog.accelerators import ACCELERATOR_LABEL
from inferstack.catalog.versions import CHARTS
from inferstack.components import dra
from inferstack.config.base import Cloud
from inferstack.config.platform import AcceleratorPoolConfig
from inferstack.config.serving import ModelConfig
from inferstack.engine import redact
from inferstack.serving.placement import placement
from tests.conftest import recording

RELEASE = "kubernetes:helm.sh/v3:Release"
DEVICE_CLASS = "kubernetes:resource.k8s.io/v1:DeviceClass"
CLAIM_TEMPLATE = "kubernetes:resource.k8s.io/v1:ResourceClaimTemplate"
ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
LLMISVC = "kubernetes:serving.kserve.io/v1alpha2:LLMInferenceService"
KARPENTER_POOL = "kubernetes:karpenter.sh/v1:NodePool"
GKE_POOL = "gcp:container/nodePool:NodePool"


def pool(**kw) -> AcceleratorPoolConfig:
    return AcceleratorPoolConfig.model_validate({"name": "gpu", "kind": "nvidia-l4", **kw})


def model(**kw) -> ModelConfig:
    return ModelConfig.model_validate(
        {"name": "chat", "namespace": "team-nlp", "format": "huggingface", "registryModel": "m", "version": "1", "pool": "gpu", **kw}
    )


# ---------------------------------------------------------------- pure builders


def test_dra_chart_is_pinned():
    chart = CHARTS["nvidia-dra-driver-gpu"]
    assert (chart.repo, chart.chart, chart.version) == ("https://helm.ngc.nvidia.com/nvidia", "nvidia-dra-driver-gpu", "25.12.0")


def test_dra_node_labels_per_cloud():
    assert dra.pool_node_labels(pool(allocation="dra"), Cloud.AWS) == {dra.GPU_ALLOCATION_LABEL: "dra"}
    assert dra.pool_node_labels(pool(allocation="dra"), Cloud.GCP) == {
        dra.GPU_ALLOCATION_LABEL: "dra", "gke-no-default-nvidia-gpu-device-plugin": "true", "nvidia.com/gpu.present": "true",
    }
    assert dra.pool_node_labels(pool(), Cloud.AWS) == {}
    assert dra.pool_node_labels(pool(sharing={"timeSlicingReplicas": 4}), Cloud.AWS) == {"nvidia.com/device-plugin.config": "time-slice-4"}
    # GKE sets its own sharing labels from the node pool's settings.
    assert dra.pool_node_labels(pool(sharing={"timeSlicingReplicas": 4}), Cloud.GCP) == {}


def test_device_plugin_stays_off_dra_nodes():
    [term] = dra.device_plugin_affinity(["nvidia-l4"])["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert {"key": dra.GPU_ALLOCATION_LABEL, "operator": "NotIn", "values": ["dra"]} in term["matchExpressions"]
    assert {"key": ACCELERATOR_LABEL, "operator": "In", "values": ["nvidia-l4"]} in term["matchExpressions"]


def test_dra_kubelet_plugin_runs_on_dra_nodes_only():
    values = dra.dra_driver_values(Cloud.AWS, {"inferstack.io/pool": "system"})
    [term] = values["kubeletPlugin"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert term == {"matchExpressions": [{"key": dra.GPU_ALLOCATION_LABEL, "operator": "In", "values": ["dra"]}]}
    assert values["gpuResourcesEnabledOverride"] is True and values["resources"] == {"gpus": {"enabled": True}, "computeDomains": {"enabled": False}}
    assert "nvidiaDriverRoot" not in values
    gke = dra.dra_driver_values(Cloud.GCP, {})
    assert gke["nvidiaDriverRoot"] == "/home/kubernetes/bin/nvidia"
    assert {"key": "cloud.google.com/compute-class", "operator": "Exists", "effect": "NoSchedule"} in gke["kubeletPlugin"]["tolerations"]


def test_device_plugin_config_time_slices_per_replica_count():
    assert dra.device_plugin_config([pool()]) is None
    cfg = dra.device_plugin_config([pool(sharing={"timeSlicingReplicas": 4}), pool(name="gpu2", sharing={"timeSlicingReplicas": 2}), pool()])
    assert cfg["default"] == "whole-gpus" and sorted(cfg["map"]) == ["time-slice-2", "time-slice-4", "whole-gpus"]
    four = json.loads(cfg["map"]["time-slice-4"])
    assert four["sharing"]["timeSlicing"] == {
        "renameByDefault": False, "failRequestsGreaterThanOne": True, "resources": [{"name": "nvidia.com/gpu", "replicas": 4}],
    }
    assert "sharing" not in json.loads(cfg["map"]["whole-gpus"])


def test_gke_sharing_args_and_selectors():
    mig = pool(kind="nvidia-a100", sharing={"mig": "1g.10gb"})
    ts = pool(sharing={"timeSlicingReplicas": 3})
    assert dra.gke_guest_accelerator_sharing(mig) == {"gpu_partition_size": "1g.10gb"}
    assert dra.gke_guest_accelerator_sharing(ts) == {
        "gpu_sharing_config": {"gpu_sharing_strategy": "TIME_SHARING", "max_shared_clients_per_gpu": 3}
    }
    assert dra.gke_sharing_selector(mig) == {"cloud.google.com/gke-gpu-partition-size": "1g.10gb"}
    assert dra.gke_sharing_selector(ts) == {
        "cloud.google.com/gke-gpu-sharing-strategy": "time-sharing", "cloud.google.com/gke-max-shared-clients-per-gpu": "3",
    }
    assert dra.gke_guest_accelerator_sharing(pool()) == {} and dra.gke_sharing_selector(pool()) == {}


def test_device_class_selects_driver_type_product_and_memory():
    obj = dra.device_class("nvidia-h100", 80)
    assert obj["apiVersion"] == "resource.k8s.io/v1" and obj["metadata"]["name"] == "inferstack-nvidia-h100"
    exprs = [s["cel"]["expression"] for s in obj["spec"]["selectors"]]
    assert exprs == [
        "device.driver == 'gpu.nvidia.com' && device.attributes['gpu.nvidia.com'].type == 'gpu'",
        "device.driver == 'gpu.nvidia.com' && device.attributes['gpu.nvidia.com'].productName.lowerAscii().matches('^.*h100.*$')",
        "device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('72Gi')) >= 0",
    ]


def test_claim_template_requests_exact_count_of_the_class():
    obj = dra.resource_claim_template("chat", "team-nlp", "nvidia-l4", 2, 24)
    assert obj["metadata"] == {"name": "chat-gpu", "namespace": "team-nlp",
                               "labels": {"app.kubernetes.io/managed-by": "inferstack", ACCELERATOR_LABEL: "nvidia-l4"}}
    [req] = obj["spec"]["spec"]["devices"]["requests"]
    assert req["name"] == "gpu"
    assert {k: req["exactly"][k] for k in ("deviceClassName", "allocationMode", "count")} == {
        "deviceClassName": "inferstack-nvidia-l4", "allocationMode": "ExactCount", "count": 2,
    }
    assert len(req["exactly"]["selectors"]) == 2


def test_placement_on_a_dra_pool_claims_instead_of_requesting():
    place = placement(model(accelerators=2), pool(allocation="dra", devicesPerNode=2), Cloud.AWS)
    assert place.devices == {} and place.claim_template == "chat-gpu"
    res = place.resources("2", "8Gi")
    assert res["limits"] == {"cpu": "2", "memory": "8Gi"} and res["claims"] == [{"name": "gpu"}]
    assert place.pod_fields()["resourceClaims"] == [{"name": "gpu", "resourceClaimTemplateName": "chat-gpu"}]


def test_placement_on_a_shared_pool_requests_one_slice():
    place = placement(model(gpu="shared"), pool(sharing={"timeSlicingReplicas": 4}), Cloud.AWS)
    assert place.devices == {"nvidia.com/gpu": 1} and place.claim_template is None
    assert "resourceClaims" not in place.pod_fields() and "claims" not in place.resources("1", "2Gi")


# ---------------------------------------------------------------- reference stacks


def _objs(stack: str, type_token: str) -> dict[str, dict]:
    return {redact(r.inputs)["metadata"]["name"]: redact(r.inputs) for r in recording(stack).by_type(type_token)}


@pytest.mark.parametrize(("stack", "kind", "model_name", "kserve_type"),
                         [("prod", "nvidia-l40s", "summarize", ISVC), ("gcp-prod", "nvidia-l4", "summarize", ISVC)])
def test_stack_dra_pool_has_driver_class_and_a_model_claiming_it(stack, kind, model_name, kserve_type):
    releases = [redact(r.inputs) for r in recording(stack).by_type(RELEASE) if redact(r.inputs).get("name") == "nvidia-dra-driver-gpu"]
    assert len(releases) == 1 and releases[0]["version"] == "25.12.0"
    classes = _objs(stack, DEVICE_CLASS)
    assert list(classes) == [f"inferstack-{kind}"]
    template = _objs(stack, CLAIM_TEMPLATE)[f"{model_name}-gpu"]
    assert template["spec"]["spec"]["devices"]["requests"][0]["exactly"]["deviceClassName"] == f"inferstack-{kind}"
    predictor = _objs(stack, kserve_type)[model_name]["spec"]["predictor"]
    assert predictor["resourceClaims"] == [{"name": "gpu", "resourceClaimTemplateName": f"{model_name}-gpu"}]
    assert predictor["model"]["resources"]["claims"] == [{"name": "gpu"}]
    assert "nvidia.com/gpu" not in predictor["model"]["resources"]["limits"]


def test_prod_time_sliced_pool_and_model_on_a_slice():
    pools = [redact(r.inputs) for r in recording("prod").by_type(KARPENTER_POOL)]
    shared = [p for p in pools if p["spec"]["template"]["metadata"]["labels"].get("inferstack.io/pool") == "gpu-shared"]
    assert shared and all(p["spec"]["template"]["metadata"]["labels"]["nvidia.com/device-plugin.config"] == "time-slice-4" for p in shared)
    dra_pools = [p for p in pools if p["spec"]["template"]["metadata"]["labels"].get("inferstack.io/pool") == "gpu-l40s"]
    assert dra_pools and all(p["spec"]["template"]["metadata"]["labels"][dra.GPU_ALLOCATION_LABEL] == "dra" for p in dra_pools)
    [plugin] = [redact(r.inputs) for r in recording("prod").by_type(RELEASE) if redact(r.inputs).get("name") == "nvidia-device-plugin"]
    assert plugin["values"]["config"]["default"] == "whole-gpus" and "time-slice-4" in plugin["values"]["config"]["map"]
    predictor = _objs("prod", ISVC)["classify"]["spec"]["predictor"]
    assert predictor["model"]["resources"]["limits"]["nvidia.com/gpu"] == 1


def test_gcp_prod_mig_pool_and_model_on_a_slice():
    pools = {p["name"]: p for p in (redact(r.inputs) for r in recording("gcp-prod").by_type(GKE_POOL))}
    mig = [p for n, p in pools.items() if n.startswith("gpu-mig-")]
    assert mig and all(p["nodeConfig"]["guestAccelerators"][0]["gpuPartitionSize"] == "1g.10gb" for p in mig)
    dra_np = [p for n, p in pools.items() if n.startswith("gpu-dra-")]
    assert dra_np and all(p["nodeConfig"]["labels"]["gke-no-default-nvidia-gpu-device-plugin"] == "true" for p in dra_np)
    predictor = _objs("gcp-prod", ISVC)["classify"]["spec"]["predictor"]
    assert predictor["nodeSelector"]["cloud.google.com/gke-gpu-partition-size"] == "1g.10gb"
    assert predictor["model"]["resources"]["limits"]["nvidia.com/gpu"] == 1
