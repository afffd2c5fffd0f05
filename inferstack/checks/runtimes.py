"""Checks of model-server runtimes: a model's runtime exists and drives the accelerator of its pool.

``runtime`` names a KServe or inferstack runtime (``inferstack.catalog.runtimes``); an inferstack runtime serves
``huggingface`` models on the accelerator kinds it supports; a model on a TPU or Neuron pool names a runtime that
drives it (KServe's do not).
"""

from __future__ import annotations

from collections.abc import Iterable

from inferstack.catalog import accelerators
from inferstack.catalog.runtimes import KSERVE_RUNTIMES, RUNTIME_FOR_FAMILY, RUNTIMES
from inferstack.config.serving import ModelConfig
from inferstack.config.stack import ConfigIssue, StackConfig


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


def check_runtimes(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """Every model's runtime exists and drives the accelerator of its pool."""
    pools = {p.name: p.kind for p in cfg.settings.accelerator_pools}
    for i, model in enumerate(cfg.settings.models):
        kind = pools.get(model.pool) if model.pool else None
        for key, msg in runtime_problems(model, kind):
            yield ConfigIssue(("models", i, key), msg)
