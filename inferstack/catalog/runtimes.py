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
from inferstack.catalog.runtime_formats import (
    AUTO_SELECT_FORMATS,
    INFERSTACK_RUNTIME_FORMATS,
    KSERVE_RUNTIME_FORMATS,
)
from inferstack.catalog.versions import IMAGES

#: ClusterServingRuntimes the pinned ``kserve-runtime-configs`` chart (v0.20.0) installs (CPU and NVIDIA GPU): the
#: runtimes of its sourced format table (:mod:`inferstack.catalog.runtime_formats`).
KSERVE_RUNTIMES = frozenset(KSERVE_RUNTIME_FORMATS)
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


def formats_of(runtime: str | None) -> frozenset[str] | None:
    """The formats ``runtime`` serves (``None``: the ones KServe auto-selects a runtime for); None if unknown."""
    if runtime is None:
        return AUTO_SELECT_FORMATS
    if runtime in KSERVE_RUNTIME_FORMATS:
        return frozenset(KSERVE_RUNTIME_FORMATS[runtime])
    return INFERSTACK_RUNTIME_FORMATS if runtime in RUNTIMES else None
