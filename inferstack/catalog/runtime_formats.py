"""Model formats each ClusterServingRuntime serves: ``spec.supportedModelFormats`` of the runtimes inferstack installs.

Source: github.com/kserve/kserve at tag v0.20.0 (commit 1fb781055dd1567164358233e1125142ca6ef1fe),
``charts/kserve-runtime-configs/files/runtimes/resources.yaml``: the ClusterServingRuntimes the pinned
``kserve-runtime-configs`` chart (v0.20.0, ``inferstack.catalog.versions``) installs; its template renders every
runtime of that file. Each entry: format name -> ``autoSelect`` (whether KServe picks the runtime for an
InferenceService that names the format but no runtime). Format names are compared exactly, as in the file
(``vLLM`` has a capital). Checked 2026-12-06.

inferstack's own runtimes (``inferstack.catalog.runtimes.RUNTIMES``) serve ``huggingface`` only.
"""

from __future__ import annotations

from collections.abc import Mapping

#: KServe v0.20.0 ClusterServingRuntime -> {model format: autoSelect}.
KSERVE_RUNTIME_FORMATS: Mapping[str, Mapping[str, bool]] = {
    "kserve-autogluonserver": {"autogluon": True},
    "kserve-huggingfaceserver": {"huggingface": True},
    "kserve-huggingfaceserver-multinode": {"huggingface": True},
    "kserve-lgbserver": {"lightgbm": True},
    "kserve-mlserver": {"sklearn": True, "xgboost": True, "lightgbm": True, "mlflow": True},
    "kserve-paddleserver": {"paddle": True},
    "kserve-pmmlserver": {"pmml": True},
    "kserve-predictiveserver": {"sklearn": False, "xgboost": False, "lightgbm": False},
    "kserve-sklearnserver": {"sklearn": True},
    "kserve-tensorflow-serving": {"tensorflow": True},
    "kserve-torchserve": {"pytorch": True},
    "kserve-tritonserver": {"tensorrt": True, "tensorflow": True, "onnx": True, "pytorch": False, "triton": True},
    "kserve-vllmserver": {"vLLM": True},
    "kserve-xgbserver": {"xgboost": True},
}
#: Formats of inferstack's runtimes (``inferstack-vllm-tpu``, ``inferstack-vllm-neuron``).
INFERSTACK_RUNTIME_FORMATS: frozenset[str] = frozenset({"huggingface"})
#: Formats KServe picks a runtime for when a model names none (some installed runtime has ``autoSelect: true``).
AUTO_SELECT_FORMATS: frozenset[str] = frozenset(
    fmt for formats in KSERVE_RUNTIME_FORMATS.values() for fmt, auto in formats.items() if auto
)

