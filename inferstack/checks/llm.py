"""Checks of the LLM track and of predictive-only settings: memory fit, parallelism, prefill/decode, LoRA, batcher.

Pure rule functions (a model, its pool's accelerator and devices per node in; ``(key, message)`` out), then the
``check_*`` functions that turn them into config errors with the key path.

Memory fit per device of a replica (:func:`memory_need`), against ``device_memory_gib x gpuMemoryUtilization``:

- weights: parameters x bytes per weight (``dtypeBytes``; 1 for ``fp8``, 0.5 for the 4-bit ``awq`` / ``gptq`` /
  ``bitsandbytes``), split over the ``tensorParallelSize x pipelineParallelSize`` shards;
- the KV cache of one full sequence of ``maxModelLen`` tokens: 2 (K and V) x layers x kvHeads x headDim x KV bytes
  (``dtypeBytes`` with ``kvCacheDtype: auto``, 1 with the fp8 variants), split over the same shards;
- :data:`RUNTIME_RESERVE_GIB` per device for activations, CUDA graphs / compiled graphs and the runtime.

A Neuron device holds ``cores_per_device`` shards (one per NeuronCore). vLLM refuses to start when one sequence of
``maxModelLen`` does not fit; more memory only adds concurrent sequences.

Parallelism: ``tensorParallelSize x pipelineParallelSize`` = devices (NeuronCores on Neuron) per replica x
``nodesPerReplica``. With ``nodesPerReplica > 1`` each node is one pipeline stage: ``pipelineParallelSize`` =
``nodesPerReplica`` (the LeaderWorkerSet group size KServe derives) and the tensor-parallel degree spans one node.
A replica's devices must fit one node (``inferstack.checks.capacity`` reports ``accelerators``; prefill
replicas are checked here).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from inferstack import sizing
from inferstack.catalog import accelerators
from inferstack.catalog.accelerators import Accelerator, Family
from inferstack.config.base import Cloud
from inferstack.config.serving import DeploymentMode, KvCacheDtype, LlmConfig, ModelConfig, Quantization
from inferstack.config.stack import ConfigIssue, StackConfig

GIB = 1024**3
#: Memory kept per device for activations, CUDA / XLA graphs and the runtime itself, in GiB (vLLM profiles the
#: activation peak at start-up; 1.5 GiB covers an 8k-token prefill step of a 7-8B model with CUDA graphs on).
RUNTIME_RESERVE_GIB = 1.5
#: Bytes per weight after quantization (None: the model's ``dtypeBytes``).
QUANTIZED_BYTES: dict[Quantization, float | None] = {
    Quantization.NONE: None,
    Quantization.FP8: 1.0,
    Quantization.AWQ: 0.5,
    Quantization.GPTQ: 0.5,
    Quantization.BITSANDBYTES: 0.5,
}
#: ``--max-lora-rank`` values vLLM accepts (vllm/config/lora.py ``MaxLoRARanks``).
VLLM_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
#: Settings the runtimes of non-NVIDIA families cannot honour: quantizations with CUDA-only kernels, and on Neuron
#: (vLLM-Neuron) fp8 KV caches, LoRA and prefill/decode disaggregation.
UNSUPPORTED_QUANTIZATION: dict[Family, frozenset[Quantization]] = {
    Family.NVIDIA: frozenset(),
    Family.TPU: frozenset({Quantization.AWQ, Quantization.GPTQ, Quantization.BITSANDBYTES}),
    Family.NEURON: frozenset({Quantization.AWQ, Quantization.GPTQ, Quantization.BITSANDBYTES, Quantization.FP8}),
}


@dataclass(frozen=True)
class MemoryNeed:
    """Memory per device of one replica, in GiB."""

    weights: float
    kv_cache: float
    reserve: float
    budget: float

    @property
    def total(self) -> float:
        return self.weights + self.kv_cache + self.reserve

    @property
    def fits(self) -> bool:
        return self.total <= self.budget


def weight_bytes(llm: LlmConfig) -> float:
    """Bytes per weight after quantization."""
    q = QUANTIZED_BYTES[llm.vllm.quantization]
    return float(llm.shape.dtype_bytes) if q is None else q


def kv_bytes_per_token(llm: LlmConfig) -> int:
    """KV-cache bytes per token: 2 x layers x kvHeads x headDim x (dtypeBytes, or 1 with an fp8 KV cache)."""
    kv = llm.shape.dtype_bytes if llm.vllm.kv_cache_dtype is KvCacheDtype.AUTO else 1
    return 2 * llm.shape.layers * llm.shape.kv_heads * llm.shape.head_dim * kv


def memory_need(llm: LlmConfig, acc: Accelerator, max_model_len: int | None = None) -> MemoryNeed:
    """Memory per device of one replica of ``llm`` on ``acc`` (``max_model_len`` overrides the config's)."""
    shards = llm.vllm.tensor_parallel_size * llm.vllm.pipeline_parallel_size
    per_device = acc.cores_per_device / shards  # share of the model one device holds
    tokens = max_model_len or llm.vllm.max_model_len
    return MemoryNeed(
        weights=llm.shape.parameters_b * 1e9 * weight_bytes(llm) * per_device / GIB,
        kv_cache=kv_bytes_per_token(llm) * tokens * per_device / GIB,
        reserve=RUNTIME_RESERVE_GIB,
        budget=acc.device_memory_gib * llm.vllm.gpu_memory_utilization,
    )


def _with(llm: LlmConfig, **vllm: object) -> LlmConfig:
    return llm.model_copy(update={"vllm": llm.vllm.model_copy(update=vllm)})


def fit_suggestions(llm: LlmConfig, acc: Accelerator, devices_per_node: int) -> list[str]:
    """Single changes that would make ``llm`` fit ``acc``, e.g. ``quantization: awq``."""
    out: list[str] = []
    for q in (Quantization.FP8, Quantization.AWQ):
        if llm.vllm.quantization is Quantization.NONE and q not in UNSUPPORTED_QUANTIZATION[acc.family]:
            if memory_need(_with(llm, quantization=q), acc).fits:
                out.append(f"quantization: {q.value}")
    if llm.vllm.kv_cache_dtype is KvCacheDtype.AUTO and acc.family is not Family.NEURON:
        if memory_need(_with(llm, kv_cache_dtype=KvCacheDtype.FP8), acc).fits:
            out.append("kvCacheDtype: fp8")
    tp = llm.vllm.tensor_parallel_size
    while tp * 2 <= devices_per_node * acc.cores_per_device:
        tp *= 2
        if memory_need(_with(llm, tensor_parallel_size=tp), acc).fits:
            out.append(f"tensorParallelSize: {tp} (with accelerators: {tp // acc.cores_per_device})")
            break
    need = memory_need(llm, acc)
    room = need.budget - need.weights - need.reserve
    if room > 0:
        per_token = kv_bytes_per_token(llm) * acc.cores_per_device / (tp_pp(llm) * GIB)
        tokens = int(room / per_token) // 128 * 128
        if tokens >= 128:
            out.append(f"maxModelLen: {tokens} or less")
    return out


def tp_pp(llm: LlmConfig) -> int:
    return llm.vllm.tensor_parallel_size * llm.vllm.pipeline_parallel_size


def memory_problems(llm: LlmConfig, acc: Accelerator, devices_per_node: int) -> list[tuple[str, str]]:
    need = memory_need(llm, acc)
    if need.fits:
        return []
    hint = fit_suggestions(llm, acc, devices_per_node)
    return [
        (
            "llm.shape",
            f"weights {need.weights:.1f} GiB + KV cache of {llm.vllm.max_model_len} tokens {need.kv_cache:.1f} GiB + "
            f"runtime reserve {need.reserve:.1f} GiB = {need.total:.1f} GiB per {acc.kind} device exceed "
            f"{acc.device_memory_gib} GiB x gpuMemoryUtilization {llm.vllm.gpu_memory_utilization} = {need.budget:.1f} GiB; "
            + (f"would fit: {' or '.join(hint)}" if hint else "use a larger accelerator kind or more devices per replica"),
        )
    ]


def parallelism_problems(model: ModelConfig, llm: LlmConfig, acc: Accelerator, devices_per_node: int) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    v = llm.vllm
    cores = model.accelerators * acc.cores_per_device
    unit = "NeuronCores" if acc.family is Family.NEURON else f"{acc.kind} devices"
    if v.tensor_parallel_size * v.pipeline_parallel_size != cores * llm.nodes_per_replica:
        out.append(
            (
                "llm.vllm.tensorParallelSize",
                f"tensorParallelSize {v.tensor_parallel_size} x pipelineParallelSize {v.pipeline_parallel_size} must equal "
                f"the {unit} of a replica: {cores} per node x nodesPerReplica {llm.nodes_per_replica} = "
                f"{cores * llm.nodes_per_replica}",
            )
        )
    if llm.nodes_per_replica > 1 and v.pipeline_parallel_size != llm.nodes_per_replica:
        out.append(
            (
                "llm.vllm.pipelineParallelSize",
                f"is {v.pipeline_parallel_size}; with nodesPerReplica {llm.nodes_per_replica} each node is one pipeline "
                f"stage: set pipelineParallelSize: {llm.nodes_per_replica} and tensorParallelSize: {cores}",
            )
        )
    if llm.nodes_per_replica > 1 and model.accelerators != devices_per_node:
        out.append(
            (
                "llm.nodesPerReplica",
                f"is {llm.nodes_per_replica}; a multi-node replica takes whole nodes: set accelerators: {devices_per_node} "
                "(the pool's devices per node)",
            )
        )
    return out


def family_problems(llm: LlmConfig, acc: Accelerator) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    bad = UNSUPPORTED_QUANTIZATION[acc.family]
    if llm.vllm.quantization in bad:
        allowed = [q.value for q in Quantization if q not in bad]
        out.append(
            ("llm.vllm.quantization", f"{llm.vllm.quantization.value} is not supported on {acc.kind}; allowed: {', '.join(allowed)}")
        )
    if acc.family is Family.NEURON:
        if llm.vllm.kv_cache_dtype is not KvCacheDtype.AUTO:
            out.append(("llm.vllm.kvCacheDtype", f"{llm.vllm.kv_cache_dtype.value} is not supported by vLLM-Neuron; allowed: auto"))
        if llm.lora_adapters:
            out.append(("llm.loraAdapters", "LoRA adapters need an NVIDIA or TPU pool; vLLM-Neuron serves none here"))
        if llm.prefill_decode is not None:
            out.append(("llm.prefillDecode", "prefill/decode disaggregation needs an NVIDIA pool (KV transfer over NIXL)"))
    if acc.family is Family.TPU and llm.prefill_decode is not None:
        out.append(("llm.prefillDecode", "prefill/decode disaggregation needs an NVIDIA pool (KV transfer over NIXL)"))
    return out


def topology_problems(model: ModelConfig, llm: LlmConfig, devices_per_node: int) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pd = llm.prefill_decode
    if pd is not None:
        if llm.nodes_per_replica > 1:
            out.append(("llm.prefillDecode", "is set with nodesPerReplica > 1; disaggregate single-node replicas only"))
        prefill = pd.prefill_accelerators or model.accelerators
        if prefill > devices_per_node:
            out.append(
                (
                    "llm.prefillDecode.prefillAccelerators",
                    f"{prefill} devices per prefill replica do not fit a node of pool {model.pool} ({devices_per_node} per node)",
                )
            )
    names = [a.name for a in llm.lora_adapters]
    for name in sorted({n for n in names if names.count(n) > 1}):
        out.append(("llm.loraAdapters", f"adapter name {name!r} is used twice; names must be unique"))
    if model.name in names:
        out.append(("llm.loraAdapters", f"adapter name {model.name!r} is the model's own served name; choose another"))
    if llm.lora_adapters and llm.max_lora_rank not in VLLM_LORA_RANKS:
        out.append(("llm.maxLoraRank", f"is {llm.max_lora_rank}; vLLM accepts {', '.join(map(str, VLLM_LORA_RANKS))}"))
    return out


def predictive_problems(model: ModelConfig) -> list[tuple[str, str]]:
    """Batcher and deployment mode belong to predictive models; Standard mode has no canary traffic split."""
    out: list[tuple[str, str]] = []
    if model.llm is not None:
        if model.batcher is not None:
            out.append(("batcher", "applies to predictive models only; an LLM batches continuously (llm.vllm.maxNumSeqs)"))
        if "deployment_mode" in model.model_fields_set:
            out.append(("deploymentMode", "applies to predictive models only; remove it (LLMs run as LLMInferenceService)"))
    elif model.deployment_mode is DeploymentMode.STANDARD and model.canary is not None:
        out.append(
            (
                "canary",
                "is set on a deploymentMode: standard model; KServe ignores canaryTrafficPercent in Standard mode "
                "(kserve #4074); use deploymentMode: knative for canaries, or promote or drop the canary",
            )
        )
    return out


def devices_per_node(cloud: Cloud, pool_cfg) -> int:
    shapes = sizing.candidate_shapes(cloud, pool_cfg)
    return shapes[0].devices if shapes else 1


def llm_problems(model: ModelConfig, cfg: StackConfig) -> list[tuple[str, str]]:
    """Every LLM-track rule ``model`` breaks in ``cfg``."""
    llm = model.llm
    if llm is None:
        return []
    if model.pool is None or model.accelerators == 0:
        return [("llm", "needs an accelerator pool: set pool (and accelerators: 1 or more)")]
    pool = next((p for p in cfg.settings.accelerator_pools if p.name == model.pool), None)
    if pool is None:
        return []  # unknown pool: check_model_references
    try:
        acc = accelerators.lookup(pool.kind, cfg.cloud)
    except (KeyError, ValueError):
        return []  # unknown or unoffered kind: check_accelerator_pools
    per_node = devices_per_node(cfg.cloud, pool)
    acc = sizing.sliced(pool, acc)  # a model on a GPU slice fits the slice's memory
    out = parallelism_problems(model, llm, acc, per_node)
    out += family_problems(llm, acc)
    out += topology_problems(model, llm, per_node)
    if not out:
        out += memory_problems(llm, acc, per_node)
    return out


def check_llm_models(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """LLM track: a pool, parallelism matching the devices, memory fit, runtime support, prefill/decode, LoRA;
    one multi-node model per namespace (each declares the namespace's pipeline-parallel KServe preset)."""
    multi_node: dict[str, str] = {}
    for i, model in enumerate(cfg.settings.models):
        for key, msg in llm_problems(model, cfg):
            yield ConfigIssue(("models", i, *key.split(".")), msg)
        if model.llm is not None and model.llm.nodes_per_replica > 1:
            first = multi_node.setdefault(model.namespace, model.name)
            if first != model.name:
                yield ConfigIssue(
                    ("models", i, "llm", "nodesPerReplica"),
                    f"is {model.llm.nodes_per_replica} like model {first} in namespace {model.namespace}; one multi-node "
                    "LLM model per namespace (each declares the namespace's kserve-config-llm-worker-pipeline-parallel "
                    "preset)",
                )


def check_predictive_settings(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """``batcher`` and ``deploymentMode`` only on predictive models; no canary in Standard mode."""
    for i, model in enumerate(cfg.settings.models):
        for key, msg in predictive_problems(model):
            yield ConfigIssue(("models", i, key), msg)
