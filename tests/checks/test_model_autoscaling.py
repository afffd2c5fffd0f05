"""Autoscaling and exposure rules of models per environment: pure rules and the config errors they produce."""

from __future__ import annotations

import copy

import pytest

from inferstack.checks.models import autoscaling_problems, canary_problems
from inferstack.config import ConfigError, Environment, read_stack_file
from inferstack.config.serving import ModelConfig
from inferstack.load import load_stack
from tests.conftest import stack_path


def model(**extra) -> ModelConfig:
    base = {"name": "chat", "namespace": "team-nlp", "format": "huggingface", "registryModel": "llama", "version": "3", "pool": "gpu"}
    base.update(extra)
    return ModelConfig.model_validate(base)


def test_scale_to_zero_allowed_in_dev():
    assert autoscaling_problems(model(minReplicas=0), Environment.DEV) == []


@pytest.mark.parametrize("env", [Environment.STAGING, Environment.PROD])
def test_scale_to_zero_refused_outside_dev(env):
    [(key, msg)] = autoscaling_problems(model(minReplicas=0), env)
    assert key == "minReplicas"
    assert "set minReplicas: 1 or more" in msg


def test_prod_accelerator_model_message_explains_gpu_scale_from_zero():
    [(_, msg)] = autoscaling_problems(model(minReplicas=0), Environment.PROD)
    assert "accelerator models keep minReplicas >= 1" in msg and "gpu" in msg
    [(_, cpu_msg)] = autoscaling_problems(model(minReplicas=0, pool=None, accelerators=0), Environment.PROD)
    assert "only in dev (this stack is prod)" in cpu_msg


def test_min_above_max():
    assert ("minReplicas", "5 exceeds maxReplicas 3") in autoscaling_problems(model(minReplicas=5, maxReplicas=3), Environment.PROD)


def test_hpa_metrics_cannot_scale_to_zero():
    problems = autoscaling_problems(model(minReplicas=0, scaleMetric="cpu"), Environment.DEV)
    assert [k for k, _ in problems] == ["scaleMetric"]
    assert autoscaling_problems(model(minReplicas=1, scaleMetric="cpu"), Environment.DEV) == []


def test_canary_must_differ_from_stable():
    assert canary_problems(model(canary={"version": "3"})) == [
        ("canary.version", "3 is the stable version too; a canary needs another version")
    ]
    assert canary_problems(model(canary={"version": "4"})) == []


def _config(stack: str) -> dict:
    return copy.deepcopy(read_stack_file(stack_path(stack)).config)


def _parse(stack: str, cfg: dict):
    return load_stack(stack, cfg, secret_keys=read_stack_file(stack_path(stack)).secret_keys)


def _issues(stack: str, edit) -> list[str]:
    cfg = _config(stack)
    edit(cfg)
    with pytest.raises(ConfigError) as err:
        _parse(stack, cfg)
    return [str(i) for i in err.value.issues]


def test_stack_prod_gpu_model_scaling_to_zero_is_a_config_error():
    issues = _issues("prod", lambda c: c["inferstack:models"][1].update(minReplicas=0))
    assert any(i.startswith("inferstack:models[1].minReplicas: is 0; in prod, accelerator models keep minReplicas >= 1") for i in issues)


def test_stack_staging_scaling_to_zero_is_a_config_error():
    issues = _issues("staging", lambda c: c["inferstack:models"][0].update(minReplicas=0))
    assert any(i.startswith("inferstack:models[0].minReplicas: is 0; scale to zero is allowed only in dev") for i in issues)


def test_stack_public_model_needs_policy():
    issues = _issues("gcp-prod", lambda c: c["inferstack:models"][0].update(public=True))
    assert "inferstack:models[0].public: true needs inferstack:policy.allowPublicInference: true; models are cluster-local by default" in issues
    cfg = _config("gcp-prod")
    cfg["inferstack:models"][0]["public"] = True
    cfg["inferstack:policy"] = {"allowPublicInference": True}
    assert _parse("gcp-prod", cfg).settings.models[0].public


def test_dev_stacks_scale_to_zero_and_prod_stacks_keep_replicas():
    for stack in ("dev", "gcp-dev"):
        assert _parse(stack, _config(stack)).settings.models[0].min_replicas == 0
    for stack in ("prod", "gcp-prod"):
        models = _parse(stack, _config(stack)).settings.models
        assert all(m.min_replicas >= 1 for m in models if m.pool)
