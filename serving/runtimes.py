"""Model-server runtimes: KServe's own ClusterServingRuntimes, and the two inferstack adds for TPUs and Neuron.

KServe's ``kserve-runtime-configs`` chart installs runtimes for CPUs and NVIDIA GPUs (the Hugging Face server runs
vLLM on CUDA). Nothing there drives a Cloud TPU or an AWS Neuron device, so inferstack declares, only when a model
of the stack uses them:

- ``inferstack-vllm-tpu``: vLLM for TPU (``versions.IMAGES["vllm-tpu"]``) on ``tpu-v5e`` / ``tpu-v6e`` single-host
  slices;
- ``inferstack-vllm-neuron``: vLLM-Neuron (``versions.IMAGES["vllm-neuron"]``) on ``aws-inferentia2`` /
  ``aws-trainium1``.

Both serve ``huggingface``-format models from ``/mnt/models`` (KServe's storage initializer downloads the registry
``storageUri`` there) with vLLM's OpenAI-compatible server on port 8080; each InferenceService adds
``--tensor-parallel-size`` (TPU chips, or NeuronCores = devices x cores per device). Containers run without
privilege escalation and with every capability dropped.

Config rules (``check_runtimes``, exit 2): ``runtime`` names a KServe or inferstack runtime; an inferstack runtime
serves ``huggingface`` models on the accelerator kinds it supports; a model on a TPU or Neuron pool names a runtime
that drives it (KServe's do not).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from inferstack.components import accelerators
from inferstack.components.accelerators import Family
from inferstack.components.versions import IMAGES
from inferstack.config.serving import ModelConfig
from inferstack.config.stack import ConfigIssue, StackConfig, semantic_check

API_VERSION = "serving.kserve.io/v1alpha1"
KIND = "ClusterServingRuntime"
#: ClusterServingRuntimes the pinned ``kserve-runtime-configs`` chart (v0.20.0) installs (CPU and NVIDIA GPU).
KSERVE_RUNTIMES = frozenset(
    {
        "kserve-huggingfaceserver",
        "kserve-huggingfaceserver-multinode",
        "kserve-lgbserver",
        "kserve-mlserver",
        "kserve-paddleserver",
        "kserve-pmmlserver",
        "kserve-predictiveserver",
        "kserve-sklearnserver",
        "kserve-tensorflow-serving",
        "kserve-torchserve",
        "kserve-tritonserver",
        "kserve-xgbserver",
    }
)
#: Port the model server listens on (KServe's default container port).
PORT = 8080
#: Where KServe's storage initializer puts the model.
MODEL_DIR = "/mnt/models"


@dataclass(frozen=True)
class Runtime:
    """A ClusterServingRuntime inferstack declares: its image and the accelerator kinds it drives."""

    name: str
    image: str
    kinds: frozenset[str]
    description: str

    @property
    def family(self) -> Family:
        (family,) = {accelerators.CATALOG[k].family for k in self.kinds}
        return family


RUNTIMES: dict[str, Runtime] = {
    r.name: r
    for r in (
        Runtime(
            "inferstack-vllm-tpu", IMAGES["vllm-tpu"], frozenset({"tpu-v5e", "tpu-v6e"}),
            "vLLM on Cloud TPU (single-host slices)",
        ),
        Runtime(
            "inferstack-vllm-neuron", IMAGES["vllm-neuron"], frozenset({"aws-inferentia2", "aws-trainium1"}),
            "vLLM-Neuron on AWS Inferentia2 / Trainium1",
        ),
    )
}
#: The runtime a model on a pool of each family should name (KServe's runtimes cover NVIDIA and CPU).
RUNTIME_FOR_FAMILY: dict[Family, str] = {rt.family: name for name, rt in RUNTIMES.items()}


def runtime_spec(rt: Runtime) -> dict[str, Any]:
    """The ClusterServingRuntime ``spec`` of ``rt``: vLLM's OpenAI server on :data:`PORT`, hardened container."""
    return {
        "annotations": {"prometheus.kserve.io/path": "/metrics", "prometheus.kserve.io/port": str(PORT)},
        "supportedModelFormats": [{"name": "huggingface", "version": "1", "autoSelect": False}],
        "containers": [
            {
                "name": "kserve-container",
                "image": rt.image,
                "command": ["python3", "-m", "vllm.entrypoints.openai.api_server"],
                "args": [f"--model={MODEL_DIR}", "--served-model-name={{.Name}}", "--host=0.0.0.0", f"--port={PORT}"],
                "ports": [{"containerPort": PORT, "protocol": "TCP"}],
                "securityContext": {"allowPrivilegeEscalation": False, "privileged": False, "capabilities": {"drop": ["ALL"]}},
                "volumeMounts": [{"name": "devshm", "mountPath": "/dev/shm"}],
            }
        ],
        "volumes": [{"name": "devshm", "emptyDir": {"medium": "Memory"}}],
        "hostIPC": False,
    }


def model_args(model: ModelConfig, kind: str | None) -> list[str]:
    """Per-model arguments for an inferstack runtime: the tensor-parallel degree over the replica's cores."""
    if model.runtime not in RUNTIMES or kind is None:
        return []
    acc = accelerators.CATALOG[kind]
    return [f"--tensor-parallel-size={model.accelerators * acc.cores_per_device}"]


def runtimes_used(cfg: StackConfig) -> list[Runtime]:
    """The inferstack runtimes the stack's models name, in catalog order."""
    names = {m.runtime for m in cfg.settings.models}
    return [rt for name, rt in RUNTIMES.items() if name in names]


def runtime_problems(model: ModelConfig, kind: str | None) -> list[tuple[str, str]]:
    """``(key, message)`` for each runtime rule ``model`` (on a pool of accelerator ``kind``, or None) breaks."""
    acc = accelerators.CATALOG.get(kind) if kind else None
    family = acc.family if acc and model.accelerators > 0 else None
    if model.runtime is None:
        if family in RUNTIME_FOR_FAMILY:
            return [("runtime", f"KServe's runtimes do not drive {kind}; set runtime: {RUNTIME_FOR_FAMILY[family]}")]
        return []
    if model.runtime in KSERVE_RUNTIMES:
        if family in RUNTIME_FOR_FAMILY:
            return [("runtime", f"{model.runtime} does not drive {kind}; set runtime: {RUNTIME_FOR_FAMILY[family]}")]
        return []
    rt = RUNTIMES.get(model.runtime)
    if rt is None:
        allowed = ", ".join([*RUNTIMES, *sorted(KSERVE_RUNTIMES)])
        return [("runtime", f"unknown runtime {model.runtime!r}; allowed: {allowed}")]
    out = []
    if model.format != "huggingface":
        out.append(("format", f"{rt.name} serves huggingface models; got {model.format!r}"))
    if kind not in rt.kinds:
        out.append(("runtime", f"{rt.name} runs on {', '.join(sorted(rt.kinds))}; model is on {kind or 'no accelerator'}"))
    return out


@semantic_check
def check_runtimes(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """Every model's runtime exists and drives the accelerator of its pool."""
    pools = {p.name: p.kind for p in cfg.settings.accelerator_pools}
    for i, model in enumerate(cfg.settings.models):
        kind = pools.get(model.pool) if model.pool else None
        for key, msg in runtime_problems(model, kind):
            yield ConfigIssue(f"inferstack:models[{i}].{key}", msg)
