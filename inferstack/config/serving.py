"""Config of the models served with KServe."""

from __future__ import annotations

from enum import Enum

from pydantic import Field, ValidationInfo, field_validator, model_validator

from inferstack.config.base import StrictModel
from inferstack.config.bounded import cpu_quantity, memory_quantity
from inferstack.config.patterns import REGISTRY_MODEL_PATTERN, REGISTRY_VERSION_PATTERN

_NAME = r"^[a-z][a-z0-9-]{0,40}[a-z0-9]$"
#: A team namespace: a DNS label, lower-case letters, digits and dashes.
NAMESPACE_PATTERN = _NAME


class ScaleMetric(str, Enum):
    """Metric the autoscaler tracks.

    Predictive models: concurrency or rps (Knative's KPA in Knative mode, a KEDA ScaledObject on Prometheus in
    Standard mode), cpu or memory (HPA). LLM models (KEDA on the vLLM metrics): waiting-requests (queue depth),
    tokens-per-second (generation throughput per replica) or kv-cache (KV-cache utilisation, percent)."""

    CONCURRENCY = "concurrency"
    RPS = "rps"
    CPU = "cpu"
    MEMORY = "memory"
    WAITING_REQUESTS = "waiting-requests"
    TOKENS_PER_SECOND = "tokens-per-second"
    KV_CACHE = "kv-cache"


class DeploymentMode(str, Enum):
    """KServe deployment mode of a predictive model."""

    KNATIVE = "knative"  # Knative Service: revisions, canaryTrafficPercent, scale to zero
    STANDARD = "standard"  # plain Deployment + Service (KServe 'Standard', was RawDeployment), autoscaled by KEDA


class CanaryAnalysis(StrictModel):
    """How ``inferstack rollout analyze`` judges a canary against the model's SLO."""

    window: str = Field("10m", pattern=r"^[1-9][0-9]*[smh]$", description="Prometheus range the percentiles and error rate are computed over.")
    min_requests: int = Field(100, ge=1, description="Fewer canary requests than this in the window: hold (too little traffic to judge).")
    max_latency_ratio: float = Field(
        1.2, ge=1, le=10, description="Hold when the canary's p95 exceeds the stable one's by more than this factor (but meets the SLO)."
    )

class CanaryConfig(StrictModel):
    """A canary version receiving part of the traffic."""

    version: str = Field(description="Registry version number of the canary, e.g. '7'.", pattern=REGISTRY_VERSION_PATTERN)
    percent: int = Field(10, ge=0, le=100, description="Share of traffic sent to the canary, in percent (0: rolled back).")
    steps: list[int] = Field(
        default_factory=lambda: [5, 10, 25, 50, 75, 100],
        min_length=1,
        description="Traffic shares `rollout set`/`advance` step through, ascending, each 1-100, ending at 100.",
    )
    analysis: CanaryAnalysis = Field(default_factory=CanaryAnalysis, description="Thresholds of `rollout analyze`.")

    @field_validator("steps")
    @classmethod
    def _steps(cls, v: list[int]) -> list[int]:
        if any(not 1 <= x <= 100 for x in v) or v != sorted(set(v)) or v[-1] != 100:
            raise ValueError(f"{v}: steps must be distinct percentages 1-100 in ascending order ending at 100, e.g. [10, 25, 50, 100]")
        return v


class CapacityPlanConfig(StrictModel):
    """Traffic expectations the capacity planner sizes a model from."""

    peak_rps: float = Field(gt=0, description="Expected peak requests per second for the model.")
    replica_rps: float = Field(gt=0, description="Measured sustainable requests per second of one replica.")
    latency_target_ms: int | None = Field(None, ge=1, description="p95 latency target the replica_rps was measured at.")
    headroom: float = Field(0.25, ge=0, le=4, description="Extra capacity above peak, as a fraction (0.25 = 25%).")
    base_rps: float | None = Field(None, gt=0, description="Expected off-peak requests per second; sizes minReplicas (default 1).")


class SloConfig(StrictModel):
    """Service-level objectives of a model; they become burn-rate alerts (PrometheusRule) and gate canaries."""

    availability: float = Field(
        0.999, gt=0.5, lt=1, description="Objective share of requests served without a server error (5xx), e.g. 0.999."
    )
    latency_p95_ms: int | None = Field(
        None, ge=1, description="p95 request latency objective, in ms: 95% of requests faster (LLMs: end-to-end)."
    )
    latency_p99_ms: int | None = Field(None, ge=1, description="p99 request latency objective, in ms: 99% of requests faster.")
    time_to_first_token_p95_ms: int | None = Field(None, ge=1, description="LLMs: p95 time to first token objective, in ms.")
    window_days: int = Field(30, ge=7, le=90, description="SLO window the error budget is spent over, in days.")

    @property
    def error_rate(self) -> float:
        """The error budget: 1 - availability."""
        return 1 - self.availability

    @model_validator(mode="after")
    def _latency(self) -> SloConfig:
        if self.latency_p95_ms and self.latency_p99_ms and self.latency_p99_ms < self.latency_p95_ms:
            raise ValueError(f"latencyP99Ms {self.latency_p99_ms} is below latencyP95Ms {self.latency_p95_ms}")
        return self


class BatcherConfig(StrictModel):
    """KServe's request batcher in front of a predictive model (``predictor.batcher``)."""

    max_batch_size: int = Field(32, ge=1, le=4096, description="Requests per batch at most.")
    max_latency_ms: int = Field(50, ge=1, le=10000, description="Longest a request waits for its batch to fill, in ms.")
    timeout_seconds: int = Field(60, ge=1, le=3600, description="Batcher timeout of a batch, in seconds.")


class KvCacheDtype(str, Enum):
    """vLLM ``--kv-cache-dtype``."""

    AUTO = "auto"
    FP8 = "fp8"
    FP8_E4M3 = "fp8_e4m3"
    FP8_E5M2 = "fp8_e5m2"


class Quantization(str, Enum):
    """Weight quantization (vLLM ``--quantization``); ``none`` serves the weights at ``dtype``."""

    NONE = "none"
    AWQ = "awq"
    GPTQ = "gptq"
    FP8 = "fp8"
    BITSANDBYTES = "bitsandbytes"


class ModelShapeConfig(StrictModel):
    """Size of an LLM, for the memory-fit check (weights + KV cache within the devices of a replica)."""

    parameters_b: float = Field(gt=0, le=2000, description="Parameters, in billions (e.g. 8 for Llama 3 8B).")
    layers: int = Field(ge=1, le=1000, description="Transformer layers (num_hidden_layers).")
    kv_heads: int = Field(ge=1, le=1024, description="Key/value heads (num_key_value_heads; GQA models have fewer than attention heads).")
    head_dim: int = Field(128, ge=1, le=1024, description="Dimension of one attention head.")
    dtype_bytes: int = Field(2, ge=1, le=4, description="Bytes per weight before quantization (2 for bf16/fp16).")


class VllmConfig(StrictModel):
    """vLLM engine settings: continuous batching, memory and parallelism (also honoured by the Neuron and TPU vLLM runtimes)."""

    max_model_len: int = Field(8192, ge=128, le=2_000_000, description="Context length: prompt + generated tokens per sequence.")
    max_num_seqs: int = Field(256, ge=1, le=4096, description="Sequences batched at once (continuous batching).")
    max_num_batched_tokens: int | None = Field(None, ge=128, description="Tokens per engine step; default vLLM's (chunked prefill).")
    gpu_memory_utilization: float = Field(0.9, gt=0.1, le=0.98, description="Fraction of device memory vLLM may use (weights + KV cache).")
    enable_prefix_caching: bool = Field(True, description="Reuse the KV cache of shared prompt prefixes.")
    kv_cache_dtype: KvCacheDtype = Field(KvCacheDtype.AUTO, description="KV-cache dtype: auto (model dtype) or fp8 variants (half the memory).")
    quantization: Quantization = Field(Quantization.NONE, description="Weight quantization: none, awq, gptq, fp8 or bitsandbytes.")
    tensor_parallel_size: int = Field(1, ge=1, le=64, description="Devices a replica's layers are split across (within a node).")
    pipeline_parallel_size: int = Field(1, ge=1, le=64, description="Pipeline stages; above 1 with multiNode, one stage per node.")


class PrefillDecodeConfig(StrictModel):
    """Disaggregated serving: separate prefill replicas hand their KV cache to the decode replicas."""

    prefill_replicas: int = Field(1, ge=1, le=100, description="Prefill replicas (the decode replicas are minReplicas..maxReplicas).")
    prefill_accelerators: int | None = Field(None, ge=1, description="Devices per prefill replica; default the model's accelerators.")


class LoraAdapterConfig(StrictModel):
    """A LoRA adapter served by the same base model replicas."""

    name: str = Field(description="Adapter name clients select (the OpenAI `model` field).", pattern=_NAME)
    registry_model: str = Field(description="Adapter name in the registry.", pattern=REGISTRY_MODEL_PATTERN)
    version: str = Field(description="Registry version of the adapter.", pattern=REGISTRY_VERSION_PATTERN)


class LlmConfig(StrictModel):
    """Serve the model as a KServe LLMInferenceService (vLLM) behind the Gateway API Inference Extension."""

    shape: ModelShapeConfig = Field(description="Model size, for the memory-fit check.")
    vllm: VllmConfig = Field(default_factory=VllmConfig, description="Engine, batching, memory and parallelism settings.")
    nodes_per_replica: int = Field(
        1, ge=1, le=64, description="Nodes per replica; above 1 runs each replica as a LeaderWorkerSet group (pipeline stages across nodes)."
    )
    prefill_decode: PrefillDecodeConfig | None = Field(None, description="Disaggregate prefill and decode; default off.")
    lora_adapters: list[LoraAdapterConfig] = Field(default_factory=list, description="LoRA adapters loaded beside the base model.")
    max_lora_rank: int = Field(16, ge=1, le=512, description="Largest adapter rank (vLLM --max-lora-rank); used only with loraAdapters.")


class ThroughputConfig(StrictModel):
    """Measured throughput of one replica on one accelerator kind at the model's SLO latency (cost per inference)."""

    kind: str = Field(description="Accelerator kind from the catalog the measurement was taken on, e.g. nvidia-l4.")
    requests_per_second: float | None = Field(None, gt=0, description="Requests per second one replica sustains at the SLO.")
    tokens_per_second: float | None = Field(None, gt=0, description="Generated tokens per second one replica sustains at the SLO (LLMs).")
    accelerators: int | None = Field(None, ge=1, description="Devices per replica in the measurement; default the model's accelerators.")
    gpu: str | None = Field(
        None, description="GPU slice the measurement was taken on: a MIG profile (e.g. 1g.10gb) or shared (time-slice); default whole devices.",
        pattern=r"^([1-7]g\.[0-9]{1,3}gb|shared)$",
    )

    @model_validator(mode="after")
    def _one(self) -> ThroughputConfig:
        if self.requests_per_second is None and self.tokens_per_second is None:
            raise ValueError("give requestsPerSecond or tokensPerSecond (or both)")
        return self


class ModelConfig(StrictModel):
    """One model served as a KServe InferenceService."""

    name: str = Field(description="InferenceService name; lower-case letters, digits and dashes.", pattern=_NAME)
    namespace: str = Field(description="Team namespace the model runs in.", pattern=_NAME)
    format: str = Field(
        description=(
            "KServe model format, e.g. huggingface, pytorch, onnx, triton, sklearn: one the runtime serves "
            "(KServe's supportedModelFormats, inferstack/catalog/runtime_formats.py); without runtime, one KServe auto-selects a runtime for."
        )
    )
    runtime: str | None = Field(None, description="ClusterServingRuntime: a KServe one, or inferstack-vllm-tpu / inferstack-vllm-neuron (required on TPU and Neuron pools); default: KServe picks one for the format.")
    registry_model: str = Field(
        description="Model name in the registry: lower-case letters, digits, '.', '_' and '-', at most 128.",
        pattern=REGISTRY_MODEL_PATTERN,
    )
    version: str = Field(description="Stable registry version number, e.g. '3'.", pattern=REGISTRY_VERSION_PATTERN)
    canary: CanaryConfig | None = Field(None, description="Optional canary version and its traffic share.")
    pool: str | None = Field(None, description="Accelerator pool to run on; none for CPU-only models.")
    accelerators: int = Field(1, ge=0, description="Devices per replica on the pool's accelerator.")
    gpu: str | None = Field(
        None,
        description=(
            "A slice of a shared pool's GPU instead of whole devices: the pool's MIG profile (e.g. 1g.10gb) or shared "
            "(a time-slice); a replica then requests one slice (accelerators: 1)."
        ),
        pattern=r"^([1-7]g\.[0-9]{1,3}gb|shared)$",
    )
    cpu: str = Field("2", description="CPU request per replica.")
    memory: str = Field("8Gi", description="Memory request per replica.")
    min_replicas: int = Field(1, ge=0, description="Minimum replicas (0 scales to zero; dev only for accelerator models).")
    max_replicas: int = Field(2, ge=1, description="Maximum replicas; must fit the pool's limits.")
    scale_metric: ScaleMetric = Field(
        ScaleMetric.CONCURRENCY,
        description=(
            "Autoscaling metric: concurrency or rps (Knative KPA, or KEDA in standard mode); cpu or memory (HPA, no scale to zero); "
            "LLMs: waiting-requests, tokens-per-second or kv-cache (KEDA on vLLM metrics)."
        ),
    )
    scale_target: int = Field(4, ge=1, description="Target value of the scale metric per replica.")
    timeout_seconds: int = Field(120, ge=1, le=3600, description="Request timeout, in seconds.")
    progress_deadline_seconds: int = Field(1800, ge=60, le=7200, description="How long a new revision may take to become ready.")
    public: bool = Field(False, description="Expose outside the cluster; also needs policy.allowPublicInference.")
    capacity: CapacityPlanConfig | None = Field(None, description="Traffic plan; when set, the planner derives and checks replicas.")
    deployment_mode: DeploymentMode = Field(
        DeploymentMode.KNATIVE, description="Predictive models: knative (revisions, canary split, scale to zero) or standard (Deployment, KEDA)."
    )
    batcher: BatcherConfig | None = Field(None, description="Predictive models: KServe's request batcher; default off.")
    llm: LlmConfig | None = Field(None, description="Serve as an LLMInferenceService (LLM track) with these settings; default: InferenceService.")
    slo: SloConfig | None = Field(None, description="Service-level objectives: burn-rate alerts and the canary gate.")
    throughput: list[ThroughputConfig] = Field(
        default_factory=list, description="Measured replica throughput per accelerator kind at the SLO; prices the model per 1M requests/tokens."
    )
    model_load_seconds: int = Field(
        300, ge=1, le=7200, description="Time a new replica takes to load the model and become ready (interruption cost estimate)."
    )

    @field_validator("cpu", "memory")
    @classmethod
    def _quantity(cls, v: str, info: ValidationInfo) -> str:
        # Every model's requests, with or without a pool (bounded: ASCII digits, a unit, the whole text).
        (cpu_quantity if info.field_name == "cpu" else memory_quantity)(v)
        return v
