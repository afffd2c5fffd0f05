"""The LLM track: LLMInferenceService builders, canary weights, the inference Gateway, the charts it installs, and
Standard mode / batching of predictive models, pure and under the offline engine (prod, gcp-prod).

The rendered objects are validated against KServe's and the Gateway API's CRD schemas by ``make conformance``.
"""

from __future__ import annotations

import copy
import functools
import hashlib

import pytest

from inferstack.catalog.accelerators import ACCELERATOR_LABEL, Family
from inferstack.catalog.versions import CHARTS, IMAGES
from inferstack.checks.llm import devices_per_node
from inferstack.config import Cloud, read_stack_file
from inferstack.config.platform import AcceleratorPoolConfig, WorkloadClass
from inferstack.config.serving import ModelConfig
from inferstack.engine import redact
from inferstack.engine.runner import run_stack
from inferstack.load import load_stack
from inferstack.policies.evaluate import evaluate, strict
from inferstack.policies.pack import pack_config
from inferstack.serving.canary import promote, rollback
from inferstack.serving.gateway import gateway_object
from inferstack.serving.inference import inference_service
from inferstack.serving.install import ISTIOD_INFERENCE_ENV, llm_releases
from inferstack.serving.llm import (
    Member,
    child_name,
    inference_objective,
    llm_inference_service,
    members,
    pipeline_parallel_preset,
    pool_name,
    service_name,
    vllm_args,
)
from inferstack.serving.placement import Placement
from tests.conftest import recording, stack_config, stack_path

LLMISVC = "kubernetes:serving.kserve.io/v1alpha2:LLMInferenceService"
GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
RELEASE = "kubernetes:helm.sh/v3:Release"
OBJECTIVE = "kubernetes:llm-d.ai/v1alpha2:InferenceObjective"
PRESET = "kubernetes:serving.kserve.io/v1alpha2:LLMInferenceServiceConfig"

CHAT = {
    "name": "chat", "namespace": "team-nlp", "format": "huggingface", "registryModel": "llama", "version": "3",
    "pool": "gpu-l4", "accelerators": 1, "minReplicas": 2, "maxReplicas": 4,
    "llm": {"shape": {"parametersB": 8, "layers": 32, "kvHeads": 8}},
}
GPU = Placement(
    devices={"nvidia.com/gpu": 1},
    node_selector={ACCELERATOR_LABEL: "nvidia-l4", "inferstack.io/pool": "gpu-l4"},
    tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
)


def chat(**extra) -> ModelConfig:
    base = copy.deepcopy(CHAT)
    for key, value in extra.items():
        if key == "llm":
            base["llm"].update(value)
        else:
            base[key] = value
    return ModelConfig.model_validate(base)


def test_vllm_flags_follow_the_engine_config():
    m = chat(llm={"vllm": {"maxModelLen": 4096, "maxNumSeqs": 32, "maxNumBatchedTokens": 2048, "gpuMemoryUtilization": 0.85,
                          "enablePrefixCaching": False, "kvCacheDtype": "fp8", "quantization": "awq"}})
    assert vllm_args(m.llm, Family.NVIDIA) == [
        "--max-model-len=4096", "--max-num-seqs=32", "--max-num-batched-tokens=2048", "--gpu-memory-utilization=0.85",
        "--no-enable-prefix-caching", "--kv-cache-dtype=fp8", "--quantization=awq",
    ]
    # Defaults: vLLM's own batched-token budget, prefix caching on, KV cache at the model dtype, no quantization.
    assert vllm_args(chat().llm, Family.NVIDIA) == [
        "--max-model-len=8192", "--max-num-seqs=256", "--gpu-memory-utilization=0.9", "--enable-prefix-caching",
    ]
    # vLLM-Neuron has no GPU memory fraction or prefix-cache switch.
    assert vllm_args(chat().llm, Family.NEURON) == ["--max-model-len=8192", "--max-num-seqs=256"]


def test_canary_percent_splits_the_routing_group():
    assert members(chat()) == [Member("3", 100, "stable")]
    assert members(chat(canary={"version": "5", "percent": 10})) == [Member("3", 90, "stable"), Member("5", 10, "canary")]
    # Rolled back: the canary keeps running with no traffic.
    assert members(chat(canary={"version": "5", "percent": 0})) == [Member("3", 100, "stable"), Member("5", 0, "canary")]


def test_rollout_edits_move_the_weights_the_same_way_as_for_inference_services():
    entry = {**copy.deepcopy(CHAT), "canary": {"version": "5", "percent": 25}}
    rollback(entry)
    assert [(m.version, m.weight) for m in members(ModelConfig.model_validate(entry))] == [("3", 100), ("5", 0)]
    entry["canary"]["percent"] = 50
    promote(entry)
    # Promote: only the canary's object stays (same name), with all the traffic.
    [member] = members(ModelConfig.model_validate(entry))
    assert (member.version, member.weight) == ("5", 100)
    assert service_name(ModelConfig.model_validate(entry), member.version) == "chat-v5"


def test_llm_inference_service_object():
    m = chat(canary={"version": "5", "percent": 10}, llm={
        "loraAdapters": [{"name": "tone", "registryModel": "llama-tone", "version": "2"}], "maxLoraRank": 32,
    })
    obj = llm_inference_service(m, Member("5", 10, "canary"), GPU, "s3://b/models/llama/v5/", {"tone": "s3://b/models/llama-tone/v2/"})
    assert (obj["apiVersion"], obj["kind"]) == ("serving.kserve.io/v1alpha2", "LLMInferenceService")
    meta, spec = obj["metadata"], obj["spec"]
    assert (meta["name"], meta["namespace"]) == ("chat-v5", "team-nlp")
    assert meta["labels"]["inferstack.io/model"] == "chat" and meta["labels"]["inferstack.io/version"] == "5"
    assert meta["annotations"]["inferstack.io/stable-version"] == "3"
    assert spec["labels"] == {"inferstack.io/model": "chat", "inferstack.io/version": "5"}  # on every pod
    assert spec["model"] == {
        "uri": "s3://b/models/llama/v5/", "name": "chat",
        "lora": {"adapters": [{"name": "tone", "uri": "s3://b/models/llama-tone/v2/"}], "maxRank": 32, "maxAdapters": 1},
    }
    assert "replicas" not in spec and spec["parallelism"] == {"tensor": 1}  # KEDA owns the replicas
    assert spec["router"] == {
        "gateway": {"refs": [{"name": "inference", "namespace": "inferstack-gateway"}]},
        "route": {"group": "chat", "weight": 10},
        "scheduler": {},
    }
    pod = spec["template"]
    assert pod["serviceAccountName"] == "inferstack-serving" and pod["automountServiceAccountToken"] is False
    assert pod["securityContext"] == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    assert pod["nodeSelector"] == GPU.node_selector and pod["tolerations"] == GPU.tolerations
    [main] = pod["containers"]
    assert main["name"] == "main" and "image" not in main  # KServe's preset image (CUDA vLLM)
    assert main["resources"]["limits"] == main["resources"]["requests"] == {"cpu": "2", "memory": "8Gi", "nvidia.com/gpu": 1}
    assert main["securityContext"]["allowPrivilegeEscalation"] is False and main["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert "worker" not in spec and "prefill" not in spec


def test_pool_name_is_kserves_child_name():
    # KServe names a version's pool kmeta.ChildName(<service>, "-inference-pool"): plain up to 63 characters...
    assert pool_name(chat(), "3") == "chat-v3-inference-pool"
    # ...past that, the first 16 characters, the md5 of the whole parent name, the suffix (63 characters).
    long = "a" * 50 + "-v12"
    name = child_name(long, "-inference-pool")
    assert name == "a" * 16 + hashlib.md5(long.encode()).hexdigest() + "-inference-pool" and len(name) == 63


@pytest.mark.parametrize(("workload", "priority"), [
    (WorkloadClass.LATENCY_CRITICAL, 10), (WorkloadClass.STANDARD, 0), (WorkloadClass.BATCH, -10),
])
def test_inference_objective_sets_the_priority_of_the_pools_workload_class(workload, priority):
    obj = inference_objective(chat(canary={"version": "5", "percent": 10}), Member("5", 10, "canary"), workload)
    # llm-d.ai: the group KServe v0.20.0's chart installs and its EPP (llm-d-router v0.9.0) reads.
    assert (obj["apiVersion"], obj["kind"]) == ("llm-d.ai/v1alpha2", "InferenceObjective")
    assert (obj["metadata"]["name"], obj["metadata"]["namespace"]) == ("chat-v5", "team-nlp")
    assert obj["metadata"]["labels"]["inferstack.io/version"] == "5"
    assert obj["spec"] == {
        "poolRef": {"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": "chat-v5-inference-pool"},
        "priority": priority,
    }


def test_multi_node_replicas_run_a_leader_worker_set_of_pipeline_stages():
    m = chat(accelerators=4, llm={"nodesPerReplica": 2, "vllm": {"tensorParallelSize": 4, "pipelineParallelSize": 2}})
    place = Placement({"nvidia.com/gpu": 4}, GPU.node_selector, GPU.tolerations)
    spec = llm_inference_service(m, Member("3", 100, "stable"), place, "s3://b/m/")["spec"]
    # KServe sizes the LeaderWorkerSet group from parallelism.pipeline (ParallelismSpec.GetSize).
    assert spec["parallelism"] == {"tensor": 4, "pipeline": 2}
    # Image, probes, volumes from our own pipeline-parallel preset (no baseRef to KServe's data-parallel one).
    assert "baseRefs" not in spec
    leader, worker = spec["template"]["containers"][0], spec["worker"]["containers"][0]
    for c in (leader, worker):
        shell, flag, script, dollar0 = c["command"]
        assert (shell, flag, dollar0) == ("/bin/bash", "-c", "--")
        assert 'getent hosts "${LWS_LEADER_ADDRESS}"' in script
        assert "exec vllm serve /mnt/models" in script and script.endswith(' "$@"')
        assert '--served-model-name "chat" "publishers/team-nlp/models/chat" --port 8000' in script
        assert "--tensor-parallel-size 4 --pipeline-parallel-size 2 --nnodes 2" in script
        assert '--master-addr "$MASTER_ADDR"' in script
        # The engine flags follow as $@, without a second --pipeline-parallel-size.
        assert "--max-model-len=8192" in c["args"] and not any(a.startswith("--pipeline-parallel") for a in c["args"])
        assert c["resources"]["limits"]["nvidia.com/gpu"] == 4
        assert c["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert "--node-rank ${LWS_WORKER_INDEX:-0}" in leader["command"][2] and "--headless" not in leader["command"][2]
    assert "--node-rank ${LWS_WORKER_INDEX} " in worker["command"][2] and "--headless" in worker["command"][2]
    for pod in (spec["template"], spec["worker"]):
        assert pod["serviceAccountName"] == "inferstack-serving" and pod["automountServiceAccountToken"] is False
        assert pod["nodeSelector"] == GPU.node_selector and pod["tolerations"] == GPU.tolerations


def test_single_node_objects_name_no_base_ref_and_keep_kserves_command():
    spec = llm_inference_service(chat(), Member("3", 100, "stable"), GPU, "s3://b/m/")["spec"]
    assert "baseRefs" not in spec and "worker" not in spec and "command" not in spec["template"]["containers"][0]


def test_pipeline_parallel_preset_is_the_well_known_name_kserve_resolves():
    obj = pipeline_parallel_preset("team-nlp")
    assert (obj["apiVersion"], obj["kind"]) == ("serving.kserve.io/v1alpha2", "LLMInferenceServiceConfig")
    assert obj["metadata"]["name"] == "kserve-config-llm-worker-pipeline-parallel"
    assert obj["metadata"]["namespace"] == "team-nlp" and set(obj["spec"]) == {"template", "worker"}


def test_pipeline_parallel_preset_is_complete_and_restricted():
    spec = pipeline_parallel_preset("team-nlp")["spec"]
    for role in ("template", "worker"):
        pod = spec[role]
        [main] = pod["containers"]
        assert main["name"] == "main" and main["image"] == IMAGES["llm-d-cuda"] == "ghcr.io/llm-d/llm-d-cuda:v0.8.0"
        assert main["ports"] == [{"containerPort": 8000, "protocol": "TCP"}]
        # Pod Security "restricted": nothing added, everything dropped (KServe's data-parallel preset adds
        # IPC_LOCK / SYS_RAWIO / NET_RAW).
        assert main["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        assert main["securityContext"]["allowPrivilegeEscalation"] is False and main["securityContext"]["runAsNonRoot"] is True
        assert main["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["securityContext"] == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes["dshm"]["emptyDir"] == {"medium": "Memory", "sizeLimit": "8Gi"}
        assert set(volumes) == {"home", "tmp-dir", "dshm", "model-cache", "tls-certs"}
        assert all(set(v) - {"name"} <= {"emptyDir", "secret"} for v in pod["volumes"])
        mounts = {m["name"]: m["mountPath"] for m in main["volumeMounts"]}
        assert mounts == {"home": "/home", "tmp-dir": "/tmp", "dshm": "/dev/shm", "model-cache": "/models",
                          "tls-certs": "/var/run/kserve/tls"}
        assert {"name": "HF_HUB_CACHE", "value": "/models"} in main["env"]
        # The object carries the stage commands, engine flags and resources.
        assert "command" not in main and "args" not in main and "resources" not in main
    # Only the leader serves HTTP: the headless workers have no probes.
    assert spec["template"]["containers"][0]["readinessProbe"]["httpGet"]["path"] == "/health"
    assert not {"livenessProbe", "readinessProbe", "startupProbe"} & set(spec["worker"]["containers"][0])


BIG = {
    "name": "big", "namespace": "team-search", "format": "huggingface", "registryModel": "llama-70b", "version": "1",
    "pool": "gpu-l40s", "cpu": "7", "memory": "56Gi", "minReplicas": 1, "maxReplicas": 2, "scaleMetric": "kv-cache",
    "llm": {"shape": {"parametersB": 70, "layers": 80, "kvHeads": 8}, "nodesPerReplica": 2},
}


@functools.cache
def _big_stack():
    """prod plus a second multi-node model: in team-search (team-nlp has prod's reason; one per namespace), on the
    gpu-l40s pool grown by the nodes big needs at maxReplicas (the pool's default Kueue quota grows with it)."""
    cfg = copy.deepcopy(read_stack_file(stack_path("prod")).config)
    assert not any(m["namespace"] == BIG["namespace"] and "nodesPerReplica" in m.get("llm", {}) for m in cfg["inferstack:models"])
    pool = next(p for p in cfg["inferstack:acceleratorPools"] if p["name"] == "gpu-l40s")
    per_node = devices_per_node(Cloud.AWS, AcceleratorPoolConfig.model_validate(pool))
    big = copy.deepcopy(BIG) | {"accelerators": per_node}
    big["llm"]["vllm"] = {"tensorParallelSize": per_node, "pipelineParallelSize": 2, "maxModelLen": 4096, "quantization": "fp8"}
    grow = big["maxReplicas"] * big["llm"]["nodesPerReplica"]
    pool["maxNodes"] += grow
    for tier in pool.get("ladder") or ():
        if tier.get("maxNodes") is not None:
            tier["maxNodes"] = min(tier["maxNodes"] + grow, pool["maxNodes"])
    cfg["inferstack:models"].append(big)
    stack = load_stack("prod", cfg, secret_keys=read_stack_file(stack_path("prod")).secret_keys)
    return stack, run_stack(stack), per_node


def test_stack_with_a_multi_node_model_declares_the_preset_before_the_service_and_passes_the_policy_pack():
    stack, rec, per_node = _big_stack()
    services = {redact(r.inputs)["metadata"]["name"]: r for r in rec.by_type(LLMISVC)}
    svc = services["big-v1"]
    spec = redact(svc.inputs)["spec"]
    assert spec["parallelism"] == {"tensor": per_node, "pipeline": 2}
    assert "--headless" in spec["worker"]["containers"][0]["command"][2]
    # One preset per namespace with a multi-node model (big in team-search, prod's reason in team-nlp), each declared
    # before that namespace's multi-node service.
    presets = {redact(r.inputs)["metadata"]["namespace"]: r for r in rec.by_type(PRESET)}
    assert sorted(presets) == ["team-nlp", "team-search"] and len(rec.by_type(PRESET)) == 2
    for ns, name in (("team-search", "big-v1"), ("team-nlp", "reason-v1")):
        preset = presets[ns]
        assert redact(preset.inputs)["metadata"]["name"] == "kserve-config-llm-worker-pipeline-parallel"
        assert redact(preset.inputs)["spec"]["worker"]["containers"][0]["image"] == IMAGES["llm-d-cuda"]
        assert preset.urn in services[name].dependencies
        assert "worker" in redact(services[name].inputs)["spec"]
    # chat (single node) keeps KServe's own single-node preset: no worker, no dependency on a preset.
    for name in ("chat-v3", "chat-v5"):
        assert "worker" not in redact(services[name].inputs)["spec"]
        assert not {p.urn for p in presets.values()} & set(services[name].dependencies)
    assert all("baseRefs" not in redact(r.inputs)["spec"] for r in services.values())
    findings = strict(evaluate(rec, pack_config(stack)))
    assert findings == []


def test_prefill_decode_adds_a_prefill_workload():
    m = chat(accelerators=2, llm={"vllm": {"tensorParallelSize": 2}, "prefillDecode": {"prefillReplicas": 3, "prefillAccelerators": 1}})
    place = Placement({"nvidia.com/gpu": 2}, GPU.node_selector, GPU.tolerations)
    spec = llm_inference_service(m, Member("3", 100, "stable"), place, "s3://b/m/")["spec"]
    prefill = spec["prefill"]
    assert prefill["replicas"] == 3 and prefill["parallelism"] == {"tensor": 1}
    assert prefill["labels"] == spec["labels"]
    assert prefill["template"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert spec["template"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 2


@pytest.mark.parametrize(("kind", "image"), [("tpu-v5e", IMAGES["vllm-tpu"]), ("aws-inferentia2", IMAGES["vllm-neuron"])])
def test_tpu_and_neuron_pools_swap_the_runtime_image(kind, image):
    place = Placement({"google.com/tpu": 1}, {ACCELERATOR_LABEL: kind}, [])
    main = llm_inference_service(chat(), Member("3", 100, "stable"), place, "gs://b/m/")["spec"]["template"]["containers"][0]
    assert main["image"] == image


def test_gateway_is_internal_per_cloud_and_admits_team_namespaces_only():
    aws = gateway_object(Cloud.AWS)
    assert aws["spec"]["gatewayClassName"] == "istio"
    assert aws["metadata"]["annotations"] == {"networking.istio.io/service-type": "ClusterIP"}
    assert gateway_object(Cloud.AWS, public=True)["metadata"]["annotations"]["networking.istio.io/service-type"] == "LoadBalancer"
    gcp = gateway_object(Cloud.GCP)
    assert gcp["spec"]["gatewayClassName"] == "gke-l7-rilb" and "annotations" not in gcp["metadata"]
    assert gateway_object(Cloud.GCP, public=True)["spec"]["gatewayClassName"] == "gke-l7-regional-external-managed"
    [listener] = aws["spec"]["listeners"]
    assert listener["allowedRoutes"]["namespaces"] == {
        "from": "Selector", "selector": {"matchExpressions": [{"key": "inferstack.io/team", "operator": "Exists"}]}
    }


def test_llm_charts_per_cloud():
    assert [k for k, _, _ in llm_releases(Cloud.AWS)] == [
        "gateway-api-crds", "istio-base", "istiod", "lws", "kserve-llmisvc-crd", "kserve-llmisvc",
    ]
    assert [k for k, _, _ in llm_releases(Cloud.GCP)] == ["lws", "kserve-llmisvc-crd", "kserve-llmisvc"]
    values = {k: v for k, _, v in llm_releases(Cloud.AWS)}
    assert values["istiod"]["env"] == ISTIOD_INFERENCE_ENV
    assert values["gateway-api-crds"]["crds"] == {"gatewayAPI": {"enabled": True, "channel": "standard"}, "envoyGateway": {"enabled": False}}
    # kserve-resources owns the shared ConfigMap and certificates; the LLM chart brings the InferencePool CRDs.
    assert values["kserve-llmisvc"]["kserve"] == {"createSharedResources": False, "llmisvc": {"createGIECRDs": True}}


def _llmisvcs(stack: str) -> dict[str, dict]:
    return {redact(r.inputs)["metadata"]["name"]: redact(r.inputs) for r in recording(stack).by_type(LLMISVC)}


@pytest.mark.parametrize("stack", ["prod", "gcp-prod"])
def test_stack_serves_chat_on_the_llm_track_with_a_weighted_canary(stack):
    objs = _llmisvcs(stack)
    # chat's stable and canary share its routing group; reason (multi-node) is alone in its own.
    assert sorted(objs) == ["chat-v3", "chat-v5", "reason-v1"]
    assert {n: o["spec"]["router"]["route"] for n, o in objs.items()} == {
        "chat-v3": {"group": "chat", "weight": 90}, "chat-v5": {"group": "chat", "weight": 10},
        "reason-v1": {"group": "reason", "weight": 100},
    }
    scheme = "s3" if stack == "prod" else "gs"
    for version, obj in (("3", objs["chat-v3"]), ("5", objs["chat-v5"])):
        assert obj["spec"]["model"]["uri"].startswith(f"{scheme}://")
        assert obj["spec"]["model"]["uri"].endswith(f"/models/llama-3-8b-instruct/v{version}/")
        assert obj["spec"]["labels"]["inferstack.io/version"] == version
    if stack == "prod":
        [adapter] = objs["chat-v5"]["spec"]["model"]["lora"]["adapters"]
        assert adapter["name"] == "support-tone" and adapter["uri"].endswith("/models/llama-3-8b-support-lora/v2/")


@pytest.mark.parametrize("stack", ["prod", "gcp-prod"])
def test_stack_installs_the_llm_track_before_its_services(stack):
    rec = recording(stack)
    cloud = stack_config(stack).cloud
    [gw] = [redact(r.inputs) for r in rec.by_type(GATEWAY)]
    assert gw["spec"]["gatewayClassName"] == ("istio" if cloud is Cloud.AWS else "gke-l7-rilb")
    deps = set()
    for key, suffix, _ in llm_releases(cloud):
        rel = rec.find(RELEASE, f"{stack}-serving-stack-{suffix}")
        assert redact(rel.inputs)["version"] == CHARTS[key].version
        deps.add(rel.urn)
    runtimes = rec.find(RELEASE, f"{stack}-serving-stack-kserve-runtimes")
    assert redact(runtimes.inputs)["values"]["kserve"]["llmisvcConfigs"] == {"enabled": True}
    gateway = rec.find(GATEWAY, f"{stack}-serving-stack-gateway")
    for r in rec.by_type(LLMISVC):
        assert {runtimes.urn, gateway.urn} <= set(r.dependencies)
        assert deps <= set(r.dependencies)


@pytest.mark.parametrize("stack", ["prod", "gcp-prod"])
def test_stack_declares_an_objective_per_llm_version_on_kserves_pool(stack):
    rec = recording(stack)
    objectives = {redact(r.inputs)["metadata"]["name"]: r for r in rec.by_type(OBJECTIVE)}
    services = _llmisvcs(stack)
    assert sorted(objectives) == sorted(services) and "chat-v5" in objectives
    pools = {p.name: p.workload for p in stack_config(stack).settings.accelerator_pools}
    models = {m.name: m for m in stack_config(stack).settings.models}
    for name, r in objectives.items():
        obj, svc = redact(r.inputs), services[name]
        model = models[svc["metadata"]["labels"]["inferstack.io/model"]]
        assert obj["metadata"]["namespace"] == svc["metadata"]["namespace"]
        assert obj["spec"]["poolRef"]["name"] == f"{name}-inference-pool"
        assert obj["spec"]["priority"] == {"latency-critical": 10, "standard": 0, "batch": -10}[pools[model.pool].value]
        # After the LLM chart (it installs the inferenceobjectives.llm-d.ai CRD).
        assert rec.find(RELEASE, f"{stack}-serving-stack-kserve-llmisvc").urn in r.dependencies
    # chat runs on gpu-l4, a latency-critical pool in both stacks.
    assert redact(objectives["chat-v3"].inputs)["spec"]["priority"] == 10


def test_stacks_without_llms_install_no_llm_track():
    for stack in ("dev", "gcp-dev"):
        rec = recording(stack)
        assert not rec.by_type(LLMISVC) and not rec.by_type(GATEWAY) and not rec.by_type(OBJECTIVE)


def test_gcp_cluster_runs_gke_gateway_with_a_proxy_only_subnet():
    rec = recording("gcp-prod")
    [cluster] = [redact(r.inputs) for r in rec.by_type("gcp:container/cluster:Cluster")]
    assert cluster["gatewayApiConfig"] == {"channel": "CHANNEL_STANDARD"}
    subnets = [redact(r.inputs) for r in rec.by_type("gcp:compute/subnetwork:Subnetwork")]
    [proxy] = [s for s in subnets if s.get("purpose") == "REGIONAL_MANAGED_PROXY"]
    assert proxy["role"] == "ACTIVE" and proxy["ipCidrRange"] == stack_config("gcp-prod").settings.network.proxy_only_cidr


def test_standard_mode_model_is_batched_cluster_local_and_external_scaled():
    m = ModelConfig.model_validate({
        "name": "fraud-score", "namespace": "team-search", "format": "xgboost", "registryModel": "fraud", "version": "4",
        "deploymentMode": "standard", "scaleMetric": "rps", "scaleTarget": 200, "batcher": {"maxBatchSize": 64, "maxLatencyMs": 20},
    })
    obj = inference_service(m, Placement(), "s3://b/m/")
    ann, pred = obj["metadata"]["annotations"], obj["spec"]["predictor"]
    assert ann["serving.kserve.io/deploymentMode"] == "Standard"
    # rps is scaled by a KEDA ScaledObject beside the InferenceService; KServe creates no HPA.
    assert ann["serving.kserve.io/autoscalerClass"] == "external" and "scaleMetric" not in pred
    assert "serving.kserve.io/enable-tag-routing" not in ann and "serving.knative.dev/progress-deadline" not in ann
    assert obj["metadata"]["labels"]["networking.kserve.io/visibility"] == "cluster-local"
    assert pred["batcher"] == {"maxBatchSize": 64, "maxLatency": 20, "timeout": 60}
    assert pred["labels"] == {"inferstack.io/model": "fraud-score", "inferstack.io/version": "4"}
    cpu = inference_service(m.model_copy(update={"scale_metric": "cpu", "scale_target": 70}), Placement(), None)
    assert cpu["metadata"]["annotations"]["serving.kserve.io/autoscalerClass"] == "hpa"
    assert (cpu["spec"]["predictor"]["scaleMetric"], cpu["spec"]["predictor"]["scaleTarget"]) == ("cpu", 70)


@pytest.mark.parametrize("stack", ["prod", "gcp-prod"])
def test_stack_serves_one_batched_standard_mode_predictive_model(stack):
    isvcs = [redact(r.inputs) for r in recording(stack).by_type("kubernetes:serving.kserve.io/v1beta1:InferenceService")]
    batched = [o for o in isvcs if "batcher" in o["spec"]["predictor"]]
    assert len(batched) == 1
    assert batched[0]["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Standard"
