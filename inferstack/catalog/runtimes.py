"""Model-server runtimes: KServe's ClusterServingRuntimes, and the two inferstack adds for TPUs and Neuron.

KServe's ``kserve-runtime-configs`` chart installs runtimes for CPUs and NVIDIA GPUs. Nothing there drives a Cloud
TPU or an AWS Neuron device, so inferstack adds ``inferstack-vllm-tpu`` (vLLM for TPU on ``tpu-v5e`` / ``tpu-v6e``
single-host slices) and ``inferstack-vllm-neuron`` (vLLM-Neuron on ``aws-inferentia2`` / ``aws-trainium1``).
``serving/runtimes.py`` declares them; ``inferstack.checks.runtimes`` checks models against this table.
"""

from __future__ import annotations

from dataclasses import dataclass

from inferstack.catalog import accelerators
from inferstack.catalog.accelerators import Family
from inferstack.catalog.versions import IMAGES

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
