"""Model-server runtimes: rules (pure), config errors, and the ClusterServingRuntimes / model args under the engine."""

from __future__ import annotations

from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from inferstack.catalog.runtimes import RUNTIMES
from inferstack.catalog.versions import EKS_VERSION, IMAGES
from inferstack.checks.runtimes import runtime_problems
from inferstack.config import ConfigError
from inferstack.config.serving import ModelConfig
from inferstack.load import load_stack
from inferstack.serving import runtimes
from tests.conftest import recording, stack_config

RUNTIME_TYPE = "kubernetes:serving.kserve.io/v1alpha1:ClusterServingRuntime"
ISVC_TYPE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"


def model(**kw: Any) -> ModelConfig:
    base = {"name": "m1", "namespace": "team-a", "format": "huggingface", "registryModel": "x", "version": "1", "pool": "pl"}
    return ModelConfig.model_validate({**base, **kw})


@pytest.mark.parametrize(
    ("kw", "kind", "expected"),
    [
        ({}, "nvidia-l4", []),
        ({"runtime": "kserve-huggingfaceserver"}, "nvidia-l4", []),
        ({"pool": None, "accelerators": 0}, None, []),
        ({"runtime": "inferstack-vllm-tpu", "accelerators": 8}, "tpu-v5e", []),
        ({"runtime": "inferstack-vllm-neuron"}, "aws-inferentia2", []),
        ({}, "tpu-v5e", [("runtime", "KServe's runtimes do not drive tpu-v5e; set runtime: inferstack-vllm-tpu")]),
        ({}, "aws-inferentia2", [("runtime", "KServe's runtimes do not drive aws-inferentia2; set runtime: inferstack-vllm-neuron")]),
        (
            {"runtime": "kserve-huggingfaceserver"},
            "tpu-v6e",
            [("runtime", "kserve-huggingfaceserver does not drive tpu-v6e; set runtime: inferstack-vllm-tpu")],
        ),
        ({"runtime": "inferstack-vllm-tpu"}, "nvidia-l4", [("runtime", "inferstack-vllm-tpu runs on tpu-v5e, tpu-v6e; model is on nvidia-l4")]),
        ({"runtime": "inferstack-vllm-tpu"}, "tpu-v5p", [("runtime", "inferstack-vllm-tpu runs on tpu-v5e, tpu-v6e; model is on tpu-v5p")]),
        ({"runtime": "inferstack-vllm-tpu", "format": "onnx"}, "tpu-v5e", [("format", "inferstack-vllm-tpu serves huggingface models; got 'onnx'")]),
    ],
)
def test_runtime_problems(kw: dict[str, Any], kind: str | None, expected: list[tuple[str, str]]) -> None:
    assert runtime_problems(model(**kw), kind) == expected


def test_unknown_runtime_lists_the_allowed_ones() -> None:
    [(key, msg)] = runtime_problems(model(runtime="vllm-tpu"), "tpu-v5e")
    assert key == "runtime"
    assert msg.startswith("unknown runtime 'vllm-tpu'; allowed: inferstack-vllm-tpu, inferstack-vllm-neuron, kserve-autogluonserver, kserve-huggingfaceserver")


def test_tensor_parallel_degree_counts_chips_or_neuron_cores() -> None:
    assert runtimes.model_args(model(runtime="inferstack-vllm-tpu", accelerators=8), "tpu-v5e") == ["--tensor-parallel-size=8"]
    assert runtimes.model_args(model(runtime="inferstack-vllm-neuron", accelerators=6), "aws-inferentia2") == ["--tensor-parallel-size=12"]
    assert runtimes.model_args(model(runtime="kserve-huggingfaceserver"), "nvidia-l4") == []


def test_runtime_images_are_pinned_in_versions() -> None:
    # Every runtime's image is pinned; the one other entry is the LLM multi-node preset's (tests/serving/test_llm.py).
    assert {rt.image for rt in RUNTIMES.values()} | {IMAGES["llm-d-cuda"]} == set(IMAGES.values())
    assert all(":" in image.rsplit("/", 1)[1] and not image.endswith((":latest", ":nightly")) for image in IMAGES.values())


def test_a_tpu_model_without_its_runtime_is_a_config_error() -> None:
    config = {
        "gcp:region": "europe-west4",
        "gcp:project": "acme-ml",
        "inferstack:cloud": "gcp",
        "inferstack:environment": "dev",
        "inferstack:residency": {"allowedRegions": ["europe-west4"]},
        "inferstack:acceleratorPools": [{"name": "tpu", "kind": "tpu-v5e", "tpuTopology": "2x4", "maxNodes": 2}],
        "inferstack:models": [
            {"name": "gemma", "namespace": "team-a", "format": "huggingface", "registryModel": "g", "version": "1",
             "pool": "tpu", "accelerators": 8, "cpu": "8", "memory": "32Gi", "maxReplicas": 2}
        ],
    }
    with pytest.raises(ConfigError) as err:
        load_stack("t", config)
    assert [str(i) for i in err.value.issues] == [
        "inferstack:models[0].runtime: KServe's runtimes do not drive tpu-v5e; set runtime: inferstack-vllm-tpu"
    ]
    config["inferstack:models"][0]["runtime"] = "inferstack-vllm-tpu"
    load_stack("t", config)


# ---------------------------------------------------------------- under the engine

#: ClusterServingRuntime spec fields, from KServe's ServingRuntimeSpec / ServingRuntimePodSpec (pkg/apis/serving/v1alpha1).
RUNTIME_SPEC_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["containers"],
    "properties": {
        "supportedModelFormats": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name"],
                "properties": {
                    "name": {"type": "string"},
                    "version": {"type": "string"},
                    "autoSelect": {"type": "boolean"},
                    "priority": {"type": "integer", "minimum": 1},
                },
            },
        },
        "multiModel": {"type": "boolean"},
        "disabled": {"type": "boolean"},
        "protocolVersions": {"type": "array", "items": {"enum": ["v1", "v2", "grpc-v1", "grpc-v2"]}},
        "containers": {"type": "array", "minItems": 1},
        "volumes": {"type": "array"},
        "nodeSelector": {"type": "object"},
        "tolerations": {"type": "array"},
        "labels": {"type": "object"},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        "imagePullSecrets": {"type": "array"},
        "hostIPC": {"type": "boolean"},
    },
}


@pytest.mark.parametrize(("stack", "name"), [("gcp-prod", "inferstack-vllm-tpu"), ("prod", "inferstack-vllm-neuron")])
def test_stacks_declare_the_runtimes_their_models_use(stack: str, name: str) -> None:
    objs = {r.inputs["metadata"]["name"]: r for r in recording(stack).by_type(RUNTIME_TYPE)}
    assert list(objs) == [name]
    obj = objs[name].inputs
    assert obj["apiVersion"] == "serving.kserve.io/v1alpha1" and obj["kind"] == "ClusterServingRuntime"
    spec = obj["spec"]
    jsonschema.validate(spec, RUNTIME_SPEC_SCHEMA)
    # Containers and volumes are core/v1 Container and Volume objects: validate them as a Pod's.
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "runtime"},
           "spec": {"containers": spec["containers"], "volumes": spec["volumes"]}}
    kubernetes_validate.validate(pod, EKS_VERSION, strict=True)
    (container,) = spec["containers"]
    assert container["image"] == RUNTIMES[name].image
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    # InferenceServices wait for the runtime they name.
    runtime_urn = objs[name].urn
    for isvc in recording(stack).by_type(ISVC_TYPE):
        if isvc.inputs["spec"]["predictor"]["model"].get("runtime") == name:
            assert runtime_urn in isvc.dependencies


def test_gcp_dev_declares_no_extra_runtime() -> None:
    assert recording("gcp-dev").by_type(RUNTIME_TYPE) == []


def test_tpu_model_gets_its_tensor_parallel_degree() -> None:
    cfg = stack_config("gcp-prod")
    gemma = next(m for m in cfg.settings.models if m.name == "gemma-tpu")
    isvc = next(r for r in recording("gcp-prod").by_type(ISVC_TYPE) if r.inputs["metadata"]["name"] == "gemma-tpu")
    model_spec = isvc.inputs["spec"]["predictor"]["model"]
    assert model_spec["runtime"] == "inferstack-vllm-tpu"
    assert model_spec["args"] == [f"--tensor-parallel-size={gemma.accelerators}"]
