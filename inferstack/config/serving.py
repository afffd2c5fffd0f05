"""Config of the models served with KServe."""

from __future__ import annotations

from enum import Enum

from pydantic import Field

from inferstack.config.base import StrictModel

_NAME = r"^[a-z][a-z0-9-]{0,40}[a-z0-9]$"
#: A team namespace: a DNS label, lower-case letters, digits and dashes.
NAMESPACE_PATTERN = _NAME
#: A model name in the registry (``inferstack registry push NAME``); it is a path segment of the bucket's keys.
REGISTRY_MODEL_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,127}$"


class ScaleMetric(str, Enum):
    """Metric the autoscaler tracks."""

    CONCURRENCY = "concurrency"
    RPS = "rps"
    CPU = "cpu"
    MEMORY = "memory"


class CanaryConfig(StrictModel):
    """A canary version receiving part of the traffic."""

    version: str = Field(description="Registry version number of the canary, e.g. '7'.", pattern=r"^[1-9][0-9]*$")
    percent: int = Field(10, ge=0, le=100, description="Share of traffic sent to the canary, in percent (0: rolled back).")


class CapacityPlanConfig(StrictModel):
    """Traffic expectations the capacity planner sizes a model from."""

    peak_rps: float = Field(gt=0, description="Expected peak requests per second for the model.")
    replica_rps: float = Field(gt=0, description="Measured sustainable requests per second of one replica.")
    latency_target_ms: int | None = Field(None, ge=1, description="p95 latency target the replica_rps was measured at.")
    headroom: float = Field(0.25, ge=0, le=4, description="Extra capacity above peak, as a fraction (0.25 = 25%).")
    base_rps: float | None = Field(None, gt=0, description="Expected off-peak requests per second; sizes minReplicas (default 1).")


class ModelConfig(StrictModel):
    """One model served as a KServe InferenceService."""

    name: str = Field(description="InferenceService name; lower-case letters, digits and dashes.", pattern=_NAME)
    namespace: str = Field(description="Team namespace the model runs in.", pattern=_NAME)
    format: str = Field(description="KServe model format, e.g. huggingface, pytorch, onnx, triton, sklearn.")
    runtime: str | None = Field(None, description="ClusterServingRuntime: a KServe one, or inferstack-vllm-tpu / inferstack-vllm-neuron (required on TPU and Neuron pools); default: KServe picks one for the format.")
    registry_model: str = Field(
        description="Model name in the registry: lower-case letters, digits, '.', '_' and '-', at most 128.",
        pattern=REGISTRY_MODEL_PATTERN,
    )
    version: str = Field(description="Stable registry version number, e.g. '3'.", pattern=r"^[1-9][0-9]*$")
    canary: CanaryConfig | None = Field(None, description="Optional canary version and its traffic share.")
    pool: str | None = Field(None, description="Accelerator pool to run on; none for CPU-only models.")
    accelerators: int = Field(1, ge=0, description="Devices per replica on the pool's accelerator.")
    cpu: str = Field("2", description="CPU request per replica.")
    memory: str = Field("8Gi", description="Memory request per replica.")
    min_replicas: int = Field(1, ge=0, description="Minimum replicas (0 scales to zero; dev only for accelerator models).")
    max_replicas: int = Field(2, ge=1, description="Maximum replicas; must fit the pool's limits.")
    scale_metric: ScaleMetric = Field(
        ScaleMetric.CONCURRENCY,
        description="Autoscaling metric: concurrency or rps (Knative KPA); cpu or memory use Knative's HPA class (no scale to zero).",
    )
    scale_target: int = Field(4, ge=1, description="Target value of the scale metric per replica.")
    timeout_seconds: int = Field(120, ge=1, le=3600, description="Request timeout, in seconds.")
    progress_deadline_seconds: int = Field(1800, ge=60, le=7200, description="How long a new revision may take to become ready.")
    public: bool = Field(False, description="Expose outside the cluster; also needs policy.allowPublicInference.")
    capacity: CapacityPlanConfig | None = Field(None, description="Traffic plan; when set, the planner derives and checks replicas.")
