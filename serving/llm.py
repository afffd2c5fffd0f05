"""The LLM track: a model served as KServe ``LLMInferenceService`` objects (``serving.kserve.io/v1alpha2``), one per version.

:func:`llm_inference_service` builds one object (pure, tested without Pulumi); :class:`LLMService` declares one per
version the model's traffic names (:func:`~inferstack.serving.canary.traffic`): ``<model>-v<version>``.

What KServe's LLMInferenceService controller makes of each object (v0.20.0, the well-known
``LLMInferenceServiceConfig`` presets installed by ``kserve-runtime-configs``):

- the vLLM workload: a Deployment of ``replicas`` pods, or with ``worker`` set a LeaderWorkerSet ``<svc>-kserve-mn``
  whose groups span ``nodesPerReplica`` nodes (group size = ``parallelism.pipeline``), and with ``prefill`` set a
  second, prefill-only workload whose KV cache the decode pods receive. A multi-node object (``worker`` +
  ``parallelism.pipeline``) makes the controller resolve the well-known preset
  ``kserve-config-llm-worker-pipeline-parallel``, which v0.20.0 does not ship (``config_merge.go``; only
  ``...-worker-data-parallel`` presets exist): :class:`LLMService` declares it in the model's namespace, complete
  and hardened (:func:`pipeline_parallel_preset`: image, port, probes, volumes, Pod Security "restricted", no added
  capabilities), and the object carries its own leader / worker commands (:func:`multi_node_command`: vLLM native
  multi-node, one pipeline stage per node);
- the scheduler (``router.scheduler: {}``): the endpoint picker (EPP, llm-d router; prefix-cache and load-aware
  scoring) and an ``InferencePool`` (``inference.networking.k8s.io/v1``) selecting the version's pods;
- not declared here either, though the schema would let us: ``router.scheduler.pool.ref`` (a user's InferencePool)
  makes the controller *delete* its EPP Deployment, Service, RBAC and pool (``scheduler.go``, every reconcile checks
  ``Pool.HasRef()``), so the pool's ``endpointPickerRef`` would have nothing to point at unless we ran our own EPP;
- what inferstack adds per version: an ``InferenceObjective`` (``llm-d.ai/v1alpha2``, see :func:`inference_objective`)
  on KServe's pool ``kmeta.ChildName(<model>-v<version>, "-inference-pool")``, priority from the pool's workload class;
- the route (``router.route``): an ``HTTPRoute`` on the inference Gateway (``router.gateway.refs``, see
  :mod:`~inferstack.serving.gateway`) whose backends are the InferencePools of every member of the *routing group*
  ``<model>`` weighted by ``router.route.weight``. Stable and canary are both members: the canary's weight is
  ``canary.percent``, the stable's ``100 - percent``; clients call ``/publishers/<namespace>/models/<model>/v1/...``
  or send the model-routing header, never a version. ``inferstack rollout`` edits the stack file as for
  InferenceServices; promote removes the stable object and gives the canary's (same name) the full weight.

Config -> object: ``llm.vllm`` becomes vLLM flags of the ``main`` container (``--max-model-len``,
``--max-num-seqs``, ``--max-num-batched-tokens``, ``--gpu-memory-utilization``, ``--[no-]enable-prefix-caching``,
``--kv-cache-dtype``, ``--quantization``, ``--pipeline-parallel-size``) and ``spec.parallelism`` (KServe's template
adds ``--tensor-parallel-size``); ``loraAdapters`` become ``spec.model.lora`` (the controller downloads them and adds
``--enable-lora``, ``--max-lora-rank``, ``--lora-modules``). TPU and Neuron pools swap the container image for
``IMAGES["vllm-tpu"]`` / ``IMAGES["vllm-neuron"]`` and drop flags their runtime lacks.

Secure choices: pods run as the namespace's ``inferstack-serving`` service account (read-only registry identity, no
API token mounted), non-root with the runtime's seccomp profile; requests equal limits; the Gateway is internal.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from inferstack.catalog import accelerators
from inferstack.catalog.accelerators import ACCELERATOR_LABEL, Family
from inferstack.catalog.versions import IMAGES
from inferstack.components.custom_resource import custom_resource
from inferstack.components.platform import SERVING_SERVICE_ACCOUNT
from inferstack.config.platform import WorkloadClass
from inferstack.config.serving import KvCacheDtype, LlmConfig, ModelConfig, Quantization
from inferstack.serving.canary import traffic
from inferstack.serving.gateway import DEFAULT_GATEWAY, GatewayRef
from inferstack.serving.inference import CANARY_VERSION_ANNOTATION, STABLE_VERSION_ANNOTATION, pod_labels
from inferstack.serving.placement import Placement

API_VERSION = "serving.kserve.io/v1alpha2"
KIND = "LLMInferenceService"
#: Container of KServe's LLM workload template the engine flags go to.
MAIN_CONTAINER = "main"
#: vLLM images for the families KServe's default (CUDA) image does not drive.
FAMILY_IMAGES: dict[Family, str] = {Family.TPU: IMAGES["vllm-tpu"], Family.NEURON: IMAGES["vllm-neuron"]}

#: InferenceObjective API: KServe v0.20.0's kserve-llmisvc-resources chart installs ``inferenceobjectives.llm-d.ai``
#: (llm-d bundle v0.9.0) and not GAIE's ``inference.networking.x-k8s.io`` one; its EPP (llm-d-router v0.9.0) reads
#: ``llm-d.ai`` first and ignores the legacy group when both exist (``pkg/epp/server/controller_config.go``).
#: The spec is GAIE v1.5.0's (``poolRef``, ``priority``).
OBJECTIVE_API_VERSION = "llm-d.ai/v1alpha2"
OBJECTIVE_KIND = "InferenceObjective"
#: Group of the pools KServe creates and its EPP is bound to (llm-d-router ``--pool-group`` default).
POOL_GROUP = "inference.networking.k8s.io"
#: Request header naming the objective of a request (llm-d-router v0.9.0 ``metadata.ObjectiveKey``).
OBJECTIVE_HEADER = "x-llm-d-inference-objective"
#: Priority per workload class. The EPP serves higher first under flow control; unset (requests without the
#: objective header) is 0; a negative priority is *sheddable*: dropped with 429 while the pool is saturated.
PRIORITY: dict[WorkloadClass, int] = {
    WorkloadClass.LATENCY_CRITICAL: 10,
    WorkloadClass.STANDARD: 0,
    WorkloadClass.BATCH: -10,
}


@dataclass(frozen=True)
class Member:
    """One version of a model on the LLM track and its share of the routing group's traffic."""

    version: str
    weight: int
    role: str  # "stable" or "canary"


def service_name(model: ModelConfig, version: str) -> str:
    """``<model>-v<version>``: the LLMInferenceService of one version."""
    return f"{model.name}-v{version}"


def members(model: ModelConfig) -> list[Member]:
    """The versions to run: the stable one, and the canary while one is declared (also at 0%: rolled back, kept)."""
    t = traffic(model)
    if t.canary is None:
        return [Member(t.stable, 100, "stable")]
    percent = t.percent if t.percent is not None else 0
    return [Member(t.stable, 100 - percent, "stable"), Member(t.canary, percent, "canary")]


def child_name(parent: str, suffix: str) -> str:
    """knative ``kmeta.ChildName``, as KServe names a service's children: hashed past 63 characters."""
    if len(parent) + len(suffix) <= 63:
        return parent + suffix
    return parent[: 63 - 32 - len(suffix)] + hashlib.md5(parent.encode()).hexdigest() + suffix


#: Suffixes KServe v0.20.0 gives (``kmeta.ChildName``) the children it names after an LLMInferenceService: the
#: InferencePool of its scheduler (``SchedulerSpec.InferencePoolName``) and the HTTPRoute it writes from
#: ``router.route`` (``router.go`` ``expectedHTTPRoute``).
POOL_SUFFIX = "-inference-pool"
ROUTE_SUFFIX = "-kserve-route"


def pool_name(model: ModelConfig, version: str) -> str:
    """The InferencePool KServe creates for a version (``SchedulerSpec.InferencePoolName``, no ``pool.ref``)."""
    return child_name(service_name(model, version), POOL_SUFFIX)


def publisher_model(namespace: str, model_name: str) -> str:
    """``publishers/<namespace>/models/<spec.model.name>``: the version-independent model id of KServe's route
    template (``config-llm-router-route.yaml``: the ``/publishers/...`` path rules and the model-routing header)."""
    return f"publishers/{namespace}/models/{model_name}"


def kserve_routing(obj: dict[str, Any]) -> dict[str, Any]:
    """What KServe v0.20.0 writes for one LLMInferenceService object built by :func:`llm_inference_service`.

    - ``httpRoute``: the HTTPRoute ``ChildName(<svc>, "-kserve-route")`` in the object's namespace, attached to
      ``gateways`` (``spec.router.gateway.refs``, ``namespace/name``);
    - ``inferencePool``: its pool ``ChildName(<svc>, "-inference-pool")``;
    - ``group`` / ``weight``: ``spec.router.route``: every member's route carries the pools of all the ready
      members of the group, each weighted by its ``weight`` (``router_group.go``, ``router_group_routing.go``), on
      the rules of the version-independent ``groupPath`` (``/publishers/<ns>/models/<spec.model.name>/v1/``, and
      the model-routing header);
    - ``path``: the per-version rules ``/<ns>/<svc>/v1/`` (this version's pool only, never group-weighted).
    """
    meta, router = obj["metadata"], obj["spec"]["router"]
    name, ns = meta["name"], meta["namespace"]
    return {
        "llmInferenceService": name,
        "group": router["route"]["group"],
        "weight": router["route"]["weight"],
        "gateways": [f"{ref.get('namespace') or ns}/{ref['name']}" for ref in router["gateway"]["refs"]],
        "httpRoute": child_name(name, ROUTE_SUFFIX),
        "inferencePool": child_name(name, POOL_SUFFIX),
        "path": f"/{ns}/{name}/v1/",
        "groupPath": f"/{publisher_model(ns, obj['spec']['model']['name'])}/v1/",
    }


def inference_objective(model: ModelConfig, member: Member, workload: WorkloadClass) -> dict[str, Any]:
    """The ``InferenceObjective`` ``<model>-v<version>`` on the version's KServe pool, priority by workload class."""
    name = service_name(model, member.version)
    return {
        "apiVersion": OBJECTIVE_API_VERSION,
        "kind": OBJECTIVE_KIND,
        "metadata": {
            "name": name,
            "namespace": model.namespace,
            "labels": {"app.kubernetes.io/managed-by": "inferstack", **pod_labels(model.name, member.version)},
            "annotations": {"inferstack.io/workload": workload.value},
        },
        "spec": {
            "poolRef": {"group": POOL_GROUP, "kind": "InferencePool", "name": pool_name(model, member.version)},
            "priority": PRIORITY[workload],
        },
    }


def vllm_args(llm: LlmConfig, family: Family | None) -> list[str]:
    """Engine flags of the ``main`` container (tensor parallelism comes from ``spec.parallelism``)."""
    v = llm.vllm
    args = [f"--max-model-len={v.max_model_len}", f"--max-num-seqs={v.max_num_seqs}"]
    if v.max_num_batched_tokens is not None:
        args.append(f"--max-num-batched-tokens={v.max_num_batched_tokens}")
    if family is not Family.NEURON:
        args.append(f"--gpu-memory-utilization={v.gpu_memory_utilization}")
        args.append("--enable-prefix-caching" if v.enable_prefix_caching else "--no-enable-prefix-caching")
    if v.kv_cache_dtype is not KvCacheDtype.AUTO:
        args.append(f"--kv-cache-dtype={v.kv_cache_dtype.value}")
    if v.quantization is not Quantization.NONE:
        args.append(f"--quantization={v.quantization.value}")
    if v.pipeline_parallel_size > 1:
        args.append(f"--pipeline-parallel-size={v.pipeline_parallel_size}")
    return args


def pod_spec(model: ModelConfig, place: Placement, family: Family | None, args: list[str], devices: int | None = None) -> dict[str, Any]:
    """A workload pod spec: service account without token, placement, hardened pod, the ``main`` container."""
    if devices is not None and place.devices:
        place = replace(place, devices={k: devices for k in place.devices})
    container: dict[str, Any] = {
        "name": MAIN_CONTAINER,
        "args": args,
        "resources": place.resources(model.cpu, model.memory),
        # Pod Security "restricted" (KServe's preset sets the same; stated here so the object says it). The root
        # filesystem stays writable: the NVIDIA container toolkit's CDI hook writes to it.
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "runAsNonRoot": True,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }
    if family in FAMILY_IMAGES:
        container["image"] = FAMILY_IMAGES[family]
    spec: dict[str, Any] = {
        "serviceAccountName": SERVING_SERVICE_ACCOUNT,
        "automountServiceAccountToken": False,
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container],
    }
    spec.update(place.pod_fields())
    return spec


#: Well-known preset KServe v0.20.0's controller looks up (model namespace first, then ``kserve``) for every object
#: with ``worker`` and ``parallelism.pipeline``; ``kserve-runtime-configs`` ships none, so without it the object
#: stays ``PresetsCombined=False`` (``ConfigNotFound``). :class:`LLMService` declares it (:func:`pipeline_parallel_preset`).
PIPELINE_PARALLEL_PRESET = "kserve-config-llm-worker-pipeline-parallel"
#: Port the ``main`` container serves on (KServe's presets: ``--port 8000``, probes on 8000).
VLLM_PORT = 8000


def multi_node_command(model: ModelConfig, leader: bool) -> list[str]:
    """The ``main`` container command of one pipeline stage of a LeaderWorkerSet group (vLLM native multi-node).

    Every pod resolves the group leader from ``LWS_LEADER_ADDRESS`` (set by LeaderWorkerSet) and joins as node
    ``LWS_WORKER_INDEX`` (leader 0) of ``pipelineParallelSize`` nodes: ``--pipeline-parallel-size N --nnodes N
    --node-rank i --master-addr <leader>``; workers add ``--headless`` (no API server). The container's ``args``
    (the engine flags) follow as ``$@``; TLS flags follow KServe's global ``EnableTLS`` as its presets do.
    """
    llm = model.llm
    assert llm is not None
    v = llm.vllm
    stage = "" if leader else " --headless"
    rank = "${LWS_WORKER_INDEX:-0}" if leader else "${LWS_WORKER_INDEX}"
    script = (
        "for i in $(seq 1 30); do\n"
        '  MASTER_ADDR=$(getent hosts "${LWS_LEADER_ADDRESS}" | cut -d" " -f1)\n'
        '  [ -n "$MASTER_ADDR" ] && break; sleep 1\n'
        "done\n"
        'MASTER_ADDR=${MASTER_ADDR:-$LWS_LEADER_ADDRESS}\n'
        "exec vllm serve /mnt/models"
        f' --served-model-name "{model.name}" "{publisher_model(model.namespace, model.name)}"'
        f" --port {VLLM_PORT}"
        f" --tensor-parallel-size {v.tensor_parallel_size}"
        f" --pipeline-parallel-size {v.pipeline_parallel_size} --nnodes {v.pipeline_parallel_size}"
        f' --node-rank {rank} --master-addr "$MASTER_ADDR"{stage}'
        " {{ if .GlobalConfig.EnableTLS }}--enable-ssl-refresh --ssl-certfile /var/run/kserve/tls/tls.crt"
        " --ssl-keyfile /var/run/kserve/tls/tls.key{{ end }}"
        ' "$@"'
    )
    # "--" is $0: the container's args become "$@".
    return ["/bin/bash", "-c", script, "--"]


#: Size of the ``/dev/shm`` memory emptyDir of multi-node pods (KServe's multi-node presets: 8Gi; NCCL's intra-node
#: transport between the tensor-parallel ranks of a stage). It counts against the pod's memory limit.
MULTI_NODE_SHM = "8Gi"
#: Secret KServe issues per object for the server's TLS certificate (its presets' ``tls-certs`` volume, a template
#: the controller fills in per object).
TLS_SECRET = "{{ ChildName .ObjectMeta.Name `-kserve-self-signed-certs` }}"
#: Probe scheme per KServe's global ``EnableTLS`` (its presets' template).
PROBE_SCHEME = "{{ if .GlobalConfig.EnableTLS }}HTTPS{{else}}HTTP{{- end }}"


def _preset_pod(leader: bool) -> dict[str, Any]:
    """One pod template of :func:`pipeline_parallel_preset`: KServe's ``kserve-config-llm-template`` shape, hardened."""
    health = {"path": "/health", "port": VLLM_PORT, "scheme": PROBE_SCHEME}
    container: dict[str, Any] = {
        "name": MAIN_CONTAINER,
        "image": IMAGES["llm-d-cuda"],
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"containerPort": VLLM_PORT, "protocol": "TCP"}],
        # LWS_LEADER_ADDRESS, LWS_WORKER_INDEX and LWS_GROUP_SIZE are injected into every container by the
        # LeaderWorkerSet pod webhook (kubernetes-sigs/lws pkg/webhooks/pod_webhook.go); these are KServe's.
        "env": [
            {"name": "HOME", "value": "/home"},
            {"name": "VLLM_LOGGING_LEVEL", "value": "INFO"},
            {"name": "HF_HUB_CACHE", "value": "/models"},
        ],
        # Pod Security "restricted", no added capability: NCCL between nodes over TCP sockets needs none (KServe's
        # data-parallel preset adds IPC_LOCK / SYS_RAWIO / NET_RAW for RDMA: pinned memory, raw device access).
        # The root filesystem stays writable: the NVIDIA container toolkit's CDI hook writes to it.
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": False,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "lifecycle": {"preStop": {"exec": {"command": ["/bin/sleep", "15"]}}},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": [
            {"mountPath": "/home", "name": "home"},
            {"mountPath": "/tmp", "name": "tmp-dir"},
            {"mountPath": "/dev/shm", "name": "dshm"},
            {"mountPath": "/models", "name": "model-cache"},
            {"mountPath": "/var/run/kserve/tls", "name": "tls-certs", "readOnly": True},
        ],
    }
    if leader:
        # Only the leader serves HTTP (workers run --headless), as in KServe's multi-node presets.
        container["livenessProbe"] = {"httpGet": health, "periodSeconds": 10, "timeoutSeconds": 1, "failureThreshold": 10}
        container["readinessProbe"] = {"httpGet": health, "periodSeconds": 1, "timeoutSeconds": 1, "failureThreshold": 2}
        container["startupProbe"] = {"httpGet": health, "failureThreshold": 60, "periodSeconds": 10}
    return {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container],
        "terminationGracePeriodSeconds": 60,
        "volumes": [
            {"name": "home", "emptyDir": {}},
            {"name": "tmp-dir", "emptyDir": {}},
            {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": MULTI_NODE_SHM}},
            {"name": "model-cache", "emptyDir": {}},
            {"name": "tls-certs", "secret": {"secretName": TLS_SECRET}},
        ],
    }


def pipeline_parallel_preset(namespace: str) -> dict[str, Any]:
    """The ``LLMInferenceServiceConfig`` ``kserve-config-llm-worker-pipeline-parallel`` in ``namespace``.

    KServe v0.20.0 resolves this well-known name for multi-node pipeline-parallel objects but ships no such preset.
    Ours is complete, so nothing of a multi-node pod comes from a preset inferstack does not declare: ``template``
    (leader) and ``worker`` pods with the ``main`` container of KServe's presets (``IMAGES["llm-d-cuda"]``, port
    8000, ``/health`` probes on the leader, ``/home``, ``/tmp``, ``/models`` emptyDirs, ``/dev/shm`` in memory
    (:data:`MULTI_NODE_SHM`), the TLS secret), non-root, RuntimeDefault seccomp, every capability dropped and none
    added. The objects carry the stage commands (:func:`multi_node_command`), engine flags and resources.
    """
    return {
        "apiVersion": API_VERSION,
        "kind": "LLMInferenceServiceConfig",
        "metadata": {
            "name": PIPELINE_PARALLEL_PRESET,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "inferstack"},
        },
        "spec": {"template": _preset_pod(leader=True), "worker": _preset_pod(leader=False)},
    }


def llm_inference_service(
    model: ModelConfig,
    member: Member,
    place: Placement,
    storage_uri: pulumi.Input[str] | None,
    adapter_uris: dict[str, pulumi.Input[str]] | None = None,
    gateway: GatewayRef = DEFAULT_GATEWAY,
    queue_labels: dict[str, str] | None = None,
    queue_annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The LLMInferenceService of one version of ``model`` (``storage_uri`` None: a placeholder KServe rejects).

    ``queue_labels`` / ``queue_annotations`` (``kueue.x-k8s.io/...``, :func:`inferstack.serving.kueue.workload_metadata`)
    go on the object's metadata: KServe copies them to its LeaderWorkerSet or Deployment and their pod templates."""
    llm = model.llm
    if llm is None:
        raise ValueError(f"model {model.name} has no llm settings")
    t = traffic(model)
    kind = place.node_selector.get(ACCELERATOR_LABEL)
    acc = accelerators.CATALOG.get(kind) if kind else None
    family = acc.family if acc else None
    labels = {
        "app.kubernetes.io/managed-by": "inferstack",
        "app.kubernetes.io/part-of": "inferstack-serving",
        "inferstack.io/registry-model": model.registry_model,
        **pod_labels(model.name, member.version),
    }
    annotations = {STABLE_VERSION_ANNOTATION: t.stable, "inferstack.io/role": member.role}
    if t.canary:
        annotations[CANARY_VERSION_ANNOTATION] = t.canary
    labels.update(queue_labels or {})
    annotations.update(queue_annotations or {})

    model_spec: dict[str, Any] = {"uri": storage_uri if storage_uri is not None else "", "name": model.name}
    if llm.lora_adapters:
        uris = adapter_uris or {}
        model_spec["lora"] = {
            "adapters": [{"name": a.name, "uri": uris.get(a.name, "")} for a in llm.lora_adapters],
            "maxRank": llm.max_lora_rank,
            "maxAdapters": len(llm.lora_adapters),
        }
    args = vllm_args(llm, family)
    parallelism: dict[str, int] = {"tensor": llm.vllm.tensor_parallel_size}
    if llm.vllm.pipeline_parallel_size > 1:
        parallelism["pipeline"] = llm.vllm.pipeline_parallel_size
    spec: dict[str, Any] = {
        "model": model_spec,
        # No ``replicas``: the version's KEDA ScaledObject (serving/autoscaling.py) owns them between minReplicas and
        # maxReplicas; KServe keeps a workload's current replicas only while the object sets none.
        "parallelism": parallelism,
        "labels": pod_labels(model.name, member.version),
        "template": pod_spec(model, place, family, args),
    }
    if llm.nodes_per_replica > 1:
        stage_args = [a for a in args if not a.startswith("--pipeline-parallel-size=")]
        spec["template"] = pod_spec(model, place, family, stage_args)
        spec["template"]["containers"][0]["command"] = multi_node_command(model, leader=True)
        spec["worker"] = pod_spec(model, place, family, stage_args)
        spec["worker"]["containers"][0]["command"] = multi_node_command(model, leader=False)
    if llm.prefill_decode is not None:
        pd = llm.prefill_decode
        prefill_devices = pd.prefill_accelerators or model.accelerators
        spec["prefill"] = {
            "replicas": pd.prefill_replicas,
            "parallelism": {"tensor": prefill_devices * (acc.cores_per_device if acc else 1)},
            "labels": pod_labels(model.name, member.version),
            "template": pod_spec(model, place, family, args, devices=prefill_devices),
        }
    spec["router"] = {
        "gateway": {"refs": [gateway.ref()]},
        "route": {"group": model.name, "weight": member.weight},
        "scheduler": {},
    }
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": service_name(model, member.version),
            "namespace": model.namespace,
            "labels": labels,
            "annotations": annotations,
        },
        "spec": spec,
    }


class LLMService(pulumi.ComponentResource):
    """One model on the LLM track: an LLMInferenceService per served version, in one routing group.

    Provisions, per version of :func:`members` (the stable one, and the canary while declared), a
    ``serving.kserve.io/v1alpha2`` ``LLMInferenceService`` ``<model>-v<version>`` built by
    :func:`llm_inference_service`: vLLM engine flags and parallelism from ``llm.vllm``, LoRA adapters, optional
    prefill/decode and multi-node (LeaderWorkerSet) workloads, the managed scheduler (EPP + InferencePool) and a
    route on the inference Gateway in routing group ``<model>`` weighted by the canary's percent; an
    ``llm-d.ai/v1alpha2`` ``InferenceObjective`` ``<model>-v<version>`` (:func:`inference_objective`) on the version's
    KServe InferencePool with the priority of ``workload`` (:data:`PRIORITY`); with ``minReplicas`` >= 2 a
    ``policy/v1`` PodDisruptionBudget ``<model>-v<version>`` (``maxUnavailable: 1``); with ``nodesPerReplica`` > 1 the
    ``LLMInferenceServiceConfig`` ``kserve-config-llm-worker-pipeline-parallel`` in the model's namespace
    (:func:`pipeline_parallel_preset`: image, probes, volumes, hardened pods), which KServe v0.20.0 resolves for
    multi-node objects and does not ship.

    Args:
        name (str): component name; children are ``<name>-v<version>``, ``<name>-v<version>-objective`` and
            ``<name>-v<version>-pdb``.
        model (ModelConfig): the ``inferstack:models`` entry with ``llm`` set (pool, accelerators, cpu, memory,
            minReplicas default 1, version, canary default None).
        place (Placement): node selector, tolerations and device resource on the model's pool.
        storage_uris (dict[str, pulumi.Input[str]]): registry URI per version (missing: empty URI, KServe rejects).
        adapter_uris (dict[str, pulumi.Input[str]] | None, default None): registry URI per LoRA adapter name.
        provider (k8s.Provider): provider of the cluster.
        gateway (GatewayRef, default the inference Gateway): where the routes attach.
        workload (WorkloadClass, default standard): the pool's workload class; sets the objective's priority.
        depends_on (list[pulumi.Resource] | None, default None): what the objects wait for (controller, Gateway).
        opts (pulumi.ResourceOptions | None, default None): options of the component.
        queue_labels, queue_annotations (dict[str, str] | None, default None): Kueue's LocalQueue and priority-class
            labels (and topology annotation) of the objects (``inferstack.serving.kueue.workload_metadata``).

    Outputs:
        services (dict[str, k8s.apiextensions.CustomResource]): per version.
        objectives (dict[str, k8s.apiextensions.CustomResource]): the InferenceObjective per version.
        preset (k8s.apiextensions.CustomResource | None): the pipeline-parallel preset (``<name>-pipeline-parallel-preset``),
        multi-node models only; the services depend on it.
        pdbs (dict[str, k8s.policy.v1.PodDisruptionBudget]): per version, when ``minReplicas`` >= 2 (one voluntary
        eviction at a time among the version's pods, selected by ``inferstack.io/model`` / ``inferstack.io/version``).
        Registered outputs: ``name``, ``namespace``, ``split`` (percent per version).

    Secure choices:
        - pods run as ``inferstack-serving`` (read-only registry identity), no API token, non-root, RuntimeDefault seccomp;
        - requests equal limits; routes only through the internal inference Gateway.
    """

    def __init__(
        self,
        name: str,
        model: ModelConfig,
        place: Placement,
        storage_uris: dict[str, pulumi.Input[str]],
        provider: k8s.Provider,
        adapter_uris: dict[str, pulumi.Input[str]] | None = None,
        gateway: GatewayRef = DEFAULT_GATEWAY,
        workload: WorkloadClass = WorkloadClass.STANDARD,
        depends_on: list[pulumi.Resource] | None = None,
        opts: pulumi.ResourceOptions | None = None,
        queue_labels: dict[str, str] | None = None,
        queue_annotations: dict[str, str] | None = None,
    ):
        super().__init__("inferstack:serving:LLMService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=depends_on or [])
        self.services: dict[str, k8s.apiextensions.CustomResource] = {}
        self.pdbs: dict[str, k8s.policy.v1.PodDisruptionBudget] = {}
        self.objectives: dict[str, k8s.apiextensions.CustomResource] = {}
        self.preset: k8s.apiextensions.CustomResource | None = None
        service_opts = child
        if model.llm is not None and model.llm.nodes_per_replica > 1:
            self.preset = custom_resource(f"{name}-pipeline-parallel-preset", pipeline_parallel_preset(model.namespace), child)
            service_opts = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.preset]))
        for member in members(model):
            obj = llm_inference_service(
                model, member, place, storage_uris.get(member.version), adapter_uris, gateway, queue_labels, queue_annotations
            )
            self.services[member.version] = custom_resource(f"{name}-v{member.version}", obj, service_opts)
            objective = inference_objective(model, member, workload)
            self.objectives[member.version] = custom_resource(f"{name}-v{member.version}-objective", objective, child)
            if model.min_replicas >= 2:
                self.pdbs[member.version] = k8s.policy.v1.PodDisruptionBudget(
                    f"{name}-v{member.version}-pdb",
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        name=service_name(model, member.version),
                        namespace=model.namespace,
                        labels={"app.kubernetes.io/managed-by": "inferstack"},
                    ),
                    spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                        max_unavailable=1,
                        selector=k8s.meta.v1.LabelSelectorArgs(match_labels=pod_labels(model.name, member.version)),
                    ),
                    opts=child,
                )
        self.register_outputs({"name": model.name, "namespace": model.namespace, "split": traffic(model).split})
