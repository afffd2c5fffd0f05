"""Measured throughput entries name catalog accelerator kinds, once each; validator messages reach the user as written."""

from __future__ import annotations

import copy

import pytest

from inferstack.checks.models import throughput_problems
from inferstack.config import ConfigError, read_stack_file
from inferstack.config.serving import ModelConfig
from inferstack.load import load_stack
from tests.conftest import stack_path


def model(*throughput: dict) -> ModelConfig:
    return ModelConfig.model_validate(
        {"name": "chat", "namespace": "team-nlp", "format": "huggingface", "registryModel": "llama", "version": "3",
         "pool": "gpu", "throughput": list(throughput)}
    )


def test_known_kinds_once_each_pass():
    assert throughput_problems(model({"kind": "nvidia-l4", "requestsPerSecond": 5}, {"kind": "tpu-v5e", "tokensPerSecond": 900})) == []


def test_unknown_kind_lists_the_catalog():
    [(loc, msg)] = throughput_problems(model({"kind": "nvidia-l4", "requestsPerSecond": 5}, {"kind": "nvidia-l5", "requestsPerSecond": 5}))
    assert loc == ("throughput", 1, "kind")
    assert "unknown accelerator kind 'nvidia-l5'" in msg and "nvidia-l40s" in msg and "tpu-v5e" in msg


def test_a_kind_measured_twice_is_refused():
    [(loc, msg)] = throughput_problems(model({"kind": "nvidia-l4", "requestsPerSecond": 5}, {"kind": "nvidia-l4", "requestsPerSecond": 7}))
    assert loc == ("throughput", 1, "kind") and "measured twice" in msg


PROD = read_stack_file(stack_path("prod"))


def _prod() -> dict:
    return copy.deepcopy(PROD.config)


def _load(doc: dict) -> None:
    load_stack("prod", doc, secret_keys=PROD.secret_keys)


def test_stack_error_names_the_key():
    doc = _prod()
    doc["inferstack:models"][0]["throughput"][0]["kind"] = "nvidia-l5"
    with pytest.raises(ConfigError) as err:
        _load(doc)
    assert "inferstack:models[0].throughput[0].kind: unknown accelerator kind 'nvidia-l5'" in str(err.value)


def test_validator_messages_are_shown_without_pydantic_prefix():
    doc = _prod()
    doc["inferstack:models"][0]["canary"]["steps"] = [50, 25, 100]
    with pytest.raises(ConfigError) as err:
        _load(doc)
    text = str(err.value)
    assert "inferstack:models[0].canary.steps: [50, 25, 100]: steps must be distinct percentages" in text
    assert "Value error" not in text and "(got list)" not in text
