"""Checks of model-server runtimes: a model's runtime exists and drives the accelerator of its pool.

``runtime`` names a KServe or inferstack runtime (``inferstack.catalog.runtimes``); an inferstack runtime serves
``huggingface`` models on the accelerator kinds it supports; a model on a TPU or Neuron pool names a runtime that
drives it (KServe's do not). ``format`` is one the runtime serves (``inferstack.catalog.runtime_formats``, KServe's
``supportedModelFormats``); with no runtime, one KServe auto-selects an installed runtime for.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from inferstack.catalog import accelerators
from inferstack.catalog.runtimes import KSERVE_RUNTIMES, RUNTIME_FOR_FAMILY, RUNTIMES, formats_of
from inferstack.config.serving import ModelConfig
from inferstack.config.stack import ConfigIssue, StackConfig


def format_problem(model: ModelConfig) -> str | None:
    """Why ``model.format`` is not a format its runtime serves (KServe's catalogue), or None (also for an unknown
    runtime: that is reported on ``runtime``)."""
    allowed = formats_of(model.runtime)
    if allowed is None or model.format in allowed:
        return None
    if model.runtime in RUNTIMES:
        return f"{model.runtime} serves huggingface models; got {model.format!r}"
    what = (f"runtime {model.runtime} does not serve format {model.format!r}" if model.runtime
            else f"unknown model format {model.format!r} (no runtime set: KServe picks one that auto-selects the format)")
    close = difflib.get_close_matches(model.format, sorted(allowed), n=1, cutoff=0.6) or [
        f for f in sorted(allowed) if f.lower() == model.format.lower()
    ]
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"{what}; allowed: {', '.join(sorted(allowed))}{hint}"


def runtime_problems(model: ModelConfig, kind: str | None) -> list[tuple[str, str]]:
    """``(key, message)`` for each runtime rule ``model`` (on a pool of accelerator ``kind``, or None) breaks."""
    fmt = format_problem(model)
    return [*([("format", fmt)] if fmt else []), *_runtime_problems(model, kind)]


def _runtime_problems(model: ModelConfig, kind: str | None) -> list[tuple[str, str]]:
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
    if kind not in rt.kinds:
        return [("runtime", f"{rt.name} runs on {', '.join(sorted(rt.kinds))}; model is on {kind or 'no accelerator'}")]
    return []


def check_runtimes(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """Every model's runtime exists and drives the accelerator of its pool."""
    pools = {p.name: p.kind for p in cfg.settings.accelerator_pools}
    for i, model in enumerate(cfg.settings.models):
        kind = pools.get(model.pool) if model.pool else None
        for key, msg in runtime_problems(model, kind):
            yield ConfigIssue(("models", i, key), msg)
