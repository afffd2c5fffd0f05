"""LLM-track checks (memory fit, parallelism, runtimes, prefill/decode, LoRA) and predictive-only settings."""

from __future__ import annotations

import copy

import pytest

from inferstack.catalog.accelerators import CATALOG
from inferstack.checks.llm import RUNTIME_RESERVE_GIB, kv_bytes_per_token, memory_need, predictive_problems
from inferstack.config import ConfigError, read_stack_file
from inferstack.config.serving import LlmConfig, ModelConfig
from inferstack.load import load_stack
from tests.conftest import stack_path

CHAT = 0  # index of the chat LLM in prod and gcp-prod


def _config(stack: str) -> dict:
    return copy.deepcopy(read_stack_file(stack_path(stack)).config)


def _issues(stack: str, edit) -> list[str]:
    cfg = _config(stack)
    edit(cfg)
    with pytest.raises(ConfigError) as err:
        load_stack(stack, cfg, secret_keys=read_stack_file(stack_path(stack)).secret_keys)
    return [str(i) for i in err.value.issues]


def _chat(cfg: dict) -> dict:
    return cfg["inferstack:models"][CHAT]


def llm(**vllm) -> LlmConfig:
    return LlmConfig.model_validate({"shape": {"parametersB": 8, "layers": 32, "kvHeads": 8, "headDim": 128}, "vllm": vllm})


def test_kv_cache_per_token_and_fp8_halves_it():
    assert kv_bytes_per_token(llm()) == 2 * 32 * 8 * 128 * 2  # 128 KiB per token at bf16
    assert kv_bytes_per_token(llm(kvCacheDtype="fp8")) == 2 * 32 * 8 * 128


def test_memory_need_of_llama_8b_on_l4():
    need = memory_need(llm(maxModelLen=8192), CATALOG["nvidia-l4"])
    assert need.weights == pytest.approx(8e9 * 2 / 1024**3)
    assert need.kv_cache == pytest.approx(1.0)  # 8192 tokens x 128 KiB
    assert need.reserve == RUNTIME_RESERVE_GIB
    assert need.budget == pytest.approx(24 * 0.9)
    assert need.fits


def test_tensor_parallel_and_quantization_shrink_the_share_per_device():
    base = memory_need(llm(), CATALOG["nvidia-l4"])
    assert memory_need(llm(tensorParallelSize=2), CATALOG["nvidia-l4"]).weights == pytest.approx(base.weights / 2)
    assert memory_need(llm(quantization="awq"), CATALOG["nvidia-l4"]).weights == pytest.approx(base.weights / 4)


def test_stack_prod_and_gcp_prod_chat_fits():
    for stack in ("prod", "gcp-prod"):
        load_stack(stack, _config(stack), secret_keys=read_stack_file(stack_path(stack)).secret_keys)


def test_model_too_large_for_its_device_names_numbers_and_what_would_fit():
    def edit(cfg):
        _chat(cfg)["llm"]["shape"] = {"parametersB": 14, "layers": 48, "kvHeads": 8, "headDim": 128}

    [issue] = [i for i in _issues("prod", edit) if "llm.shape" in i]
    assert issue.startswith("inferstack:models[0].llm.shape: weights 26.1 GiB + KV cache of 8192 tokens 1.5 GiB")
    assert "per nvidia-l4 device exceed 24 GiB x gpuMemoryUtilization 0.9 = 21.6 GiB" in issue
    assert "would fit: quantization: fp8 or quantization: awq" in issue


def test_long_context_suggests_fp8_kv_cache_or_a_shorter_context():
    def edit(cfg):
        _chat(cfg)["llm"]["vllm"]["maxModelLen"] = 65536

    [issue] = [i for i in _issues("prod", edit) if "llm.shape" in i]
    assert "kvCacheDtype: fp8" in issue and "maxModelLen: " in issue


def test_parallelism_must_match_devices_per_replica():
    def edit(cfg):
        _chat(cfg)["llm"]["vllm"]["tensorParallelSize"] = 2

    issues = _issues("prod", edit)
    assert (
        "inferstack:models[0].llm.vllm.tensorParallelSize: tensorParallelSize 2 x pipelineParallelSize 1 must equal the "
        "nvidia-l4 devices of a replica: 1 per node x nodesPerReplica 1 = 1"
    ) in issues


def test_multi_node_replicas_are_pipeline_stages_of_whole_nodes():
    def edit(cfg):
        _chat(cfg)["llm"]["nodesPerReplica"] = 2
        _chat(cfg)["llm"]["vllm"]["tensorParallelSize"] = 2

    issues = _issues("prod", edit)
    assert any(i.startswith("inferstack:models[0].llm.vllm.pipelineParallelSize: is 1; with nodesPerReplica 2") for i in issues)

    def good(cfg):
        _chat(cfg)["llm"]["nodesPerReplica"] = 2
        _chat(cfg)["llm"]["vllm"]["pipelineParallelSize"] = 2
        # Each of the 8 replicas takes two nodes; the namespace's other multi-node model (reason) goes.
        cfg["inferstack:acceleratorPools"][0]["maxNodes"] = 16
        cfg["inferstack:models"] = [m for m in cfg["inferstack:models"] if m["name"] != "reason"]

    cfg = _config("prod")
    good(cfg)
    model = load_stack("prod", cfg, secret_keys=read_stack_file(stack_path("prod")).secret_keys).settings.models[CHAT]
    assert model.llm.nodes_per_replica == 2


def test_llm_needs_a_pool():
    def edit(cfg):
        _chat(cfg).update(pool=None, accelerators=0)

    issues = _issues("prod", edit)
    assert "inferstack:models[0].llm: needs an accelerator pool: set pool (and accelerators: 1 or more)" in issues


def test_neuron_refuses_awq_and_lora():
    def edit(cfg):
        embed = cfg["inferstack:models"][2]
        assert embed["pool"] == "inf2"
        embed.pop("runtime")
        embed["llm"] = {
            "shape": {"parametersB": 0.3, "layers": 24, "kvHeads": 16, "headDim": 64},
            "vllm": {"tensorParallelSize": 2, "quantization": "awq"},
            "loraAdapters": [{"name": "tone", "registryModel": "bge-tone", "version": "1"}],
        }

    issues = _issues("prod", edit)
    assert "inferstack:models[2].llm.vllm.quantization: awq is not supported on aws-inferentia2; allowed: none" in issues
    assert any(i.startswith("inferstack:models[2].llm.loraAdapters: LoRA adapters need an NVIDIA or TPU pool") for i in issues)


def test_prefill_replicas_fit_a_node_and_lora_rank_is_one_vllm_accepts():
    def edit(cfg):
        _chat(cfg)["llm"]["prefillDecode"] = {"prefillReplicas": 1, "prefillAccelerators": 4}
        _chat(cfg)["llm"]["maxLoraRank"] = 24

    issues = _issues("prod", edit)
    assert any(i.startswith("inferstack:models[0].llm.prefillDecode.prefillAccelerators: 4 devices per prefill replica") for i in issues)
    assert any(i.startswith("inferstack:models[0].llm.maxLoraRank: is 24; vLLM accepts 1, 8, 16") for i in issues)


def test_lora_adapter_names_are_unique():
    def edit(cfg):
        adapters = _chat(cfg)["llm"]["loraAdapters"]
        adapters.append(dict(adapters[0]))

    issues = _issues("prod", edit)
    assert "inferstack:models[0].llm.loraAdapters: adapter name 'support-tone' is used twice; names must be unique" in issues


def _model(**extra) -> ModelConfig:
    base = {"name": "scorer", "namespace": "team-a", "format": "xgboost", "registryModel": "scorer", "version": "1"}
    base.update(extra)
    return ModelConfig.model_validate(base)


def test_batcher_and_deployment_mode_only_on_predictive_models():
    shape = {"parametersB": 1, "layers": 16, "kvHeads": 8}
    assert [k for k, _ in predictive_problems(_model(llm={"shape": shape}, batcher={}))] == ["batcher"]
    assert [k for k, _ in predictive_problems(_model(llm={"shape": shape}, deploymentMode="knative"))] == ["deploymentMode"]
    assert predictive_problems(_model(llm={"shape": shape})) == []
    assert predictive_problems(_model(batcher={}, deploymentMode="standard")) == []


def test_standard_mode_refuses_a_canary():
    models = _config("prod")["inferstack:models"]
    idx = next(i for i, m in enumerate(models) if m["name"] == "fraud-score")
    assert models[idx].get("deploymentMode") == "standard"

    def edit(cfg):
        cfg["inferstack:models"][idx]["canary"] = {"version": "5", "percent": 10}

    issues = _issues("prod", edit)
    assert any(
        i.startswith(
            f"inferstack:models[{idx}].canary: is set on a deploymentMode: standard model; KServe ignores canaryTrafficPercent"
        )
        for i in issues
    )


def test_one_multi_node_model_per_namespace():
    # The namespace's kserve-config-llm-worker-pipeline-parallel preset is declared once, by its multi-node model.
    def edit(cfg):
        for i, name in ((0, "chat"), (1, "chat-b")):
            m = copy.deepcopy(_chat(cfg)) | {"name": name}
            m["llm"]["nodesPerReplica"] = 2
            m["llm"]["vllm"]["pipelineParallelSize"] = 2
            m.pop("canary", None)
            cfg["inferstack:models"][i] = m

    issues = _issues("prod", edit)
    assert (
        "inferstack:models[1].llm.nodesPerReplica: is 2 like model chat in namespace team-nlp; one multi-node LLM "
        "model per namespace (each declares the namespace's kserve-config-llm-worker-pipeline-parallel preset)"
    ) in issues
    assert not any(i.startswith("inferstack:models[0].llm.nodesPerReplica") for i in issues)
