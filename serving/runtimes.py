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

The runtime table is ``inferstack.catalog.runtimes``; the config rules (a model's runtime exists and drives its
pool's accelerator, exit 2) are ``inferstack.checks.runtimes``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inferstack.catalog import accelerators
from inferstack.catalog.ports import MODEL_SERVER_PORT as PORT
from inferstack.catalog.runtimes import MODEL_DIR, RUNTIMES, Runtime
from inferstack.config.serving import ModelConfig

API_VERSION = "serving.kserve.io/v1alpha1"
KIND = "ClusterServingRuntime"
#: Unprivileged user the model server runs as (Pod Security "restricted"), and its writable cache directory.
RUNTIME_USER = 1000
CACHE_DIR = "/var/cache/inferstack"


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
                # Pod Security "restricted": no root, no escalation, no capabilities, the runtime's seccomp profile.
                # vLLM's caches go to an emptyDir (the images' home directories belong to root).
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "privileged": False,
                    "capabilities": {"drop": ["ALL"]},
                    "runAsNonRoot": True,
                    "runAsUser": RUNTIME_USER,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "env": [
                    {"name": "HOME", "value": CACHE_DIR},
                    {"name": "HF_HOME", "value": f"{CACHE_DIR}/huggingface"},
                    {"name": "VLLM_CACHE_ROOT", "value": f"{CACHE_DIR}/vllm"},
                ],
                "volumeMounts": [{"name": "devshm", "mountPath": "/dev/shm"}, {"name": "cache", "mountPath": CACHE_DIR}],
            }
        ],
        "volumes": [{"name": "devshm", "emptyDir": {"medium": "Memory"}}, {"name": "cache", "emptyDir": {}}],
        "hostIPC": False,
    }


def model_args(model: ModelConfig, kind: str | None) -> list[str]:
    """Per-model arguments for an inferstack runtime: the tensor-parallel degree over the replica's cores."""
    if model.runtime not in RUNTIMES or kind is None:
        return []
    acc = accelerators.CATALOG[kind]
    return [f"--tensor-parallel-size={model.accelerators * acc.cores_per_device}"]


def runtimes_used(models: Sequence[ModelConfig]) -> list[Runtime]:
    """The inferstack runtimes ``models`` name, in catalog order."""
    names = {m.runtime for m in models}
    return [rt for name, rt in RUNTIMES.items() if name in names]
