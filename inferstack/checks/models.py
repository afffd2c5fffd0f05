"""Checks of served models: references, autoscaling per environment, canaries, exposure.

Pure rule functions first (a model and the environment in, messages out), then the ``check_*`` functions that
turn them into config errors with the key path. Pool limits (max replicas x devices within ``maxNodes``) are
``inferstack.checks.capacity``'s, not repeated here.

Rules:

- Scale to zero (``minReplicas: 0``) only in dev. In prod an accelerator model keeps ``minReplicas >= 1``: scaling
  a GPU / Neuron / TPU model up from zero waits for a node and for the model to load, and can time out for good
  while either is still arriving (kserve #1247, #1641).
- ``minReplicas <= maxReplicas``.
- ``cpu`` / ``memory`` scale metrics use an HPA (Knative's HPA class, or KServe's in Standard mode), which cannot
  scale to zero.
- LLM models (``llm`` set) scale on the vLLM metrics (``waiting-requests``, ``tokens-per-second``, ``kv-cache``),
  through KEDA; predictive models on ``concurrency``, ``rps`` (Knative's KPA, or KEDA in Standard mode), ``cpu`` or
  ``memory``. ``kv-cache``'s ``scaleTarget`` is a percentage (1-100).
- A canary's version differs from the stable version.
- ``public: true`` needs ``inferstack:policy.allowPublicInference: true``; otherwise the model is cluster-local.
"""

from __future__ import annotations

from collections.abc import Iterable

from inferstack.catalog import accelerators
from inferstack.config.base import Environment
from inferstack.config.serving import ModelConfig, ScaleMetric
from inferstack.config.stack import ConfigIssue, StackConfig

#: Scale metrics Knative's default autoscaler (KPA) handles; the others need the HPA class.
KPA_METRICS = frozenset({ScaleMetric.CONCURRENCY, ScaleMetric.RPS})
#: Scale metrics scaled by an HPA (no scale to zero).
HPA_METRICS = frozenset({ScaleMetric.CPU, ScaleMetric.MEMORY})
#: Scale metrics of LLM models (vLLM series, scaled by KEDA).
LLM_METRICS = frozenset({ScaleMetric.WAITING_REQUESTS, ScaleMetric.TOKENS_PER_SECOND, ScaleMetric.KV_CACHE})
#: Scale metrics of predictive models.
PREDICTIVE_METRICS = KPA_METRICS | HPA_METRICS


def _names(metrics: frozenset[ScaleMetric]) -> str:
    return ", ".join(sorted(m.value for m in metrics))


def scale_metric_problems(model: ModelConfig) -> list[tuple[str, str]]:
    """``(key, message)`` when the scale metric does not fit the model's track (LLM or predictive)."""
    metric = ScaleMetric(model.scale_metric)
    out: list[tuple[str, str]] = []
    if model.llm is not None and metric not in LLM_METRICS:
        out.append(("scaleMetric", f"{metric.value} is not an LLM metric; LLM models (llm set) scale with KEDA on {_names(LLM_METRICS)}"))
    if model.llm is None and metric in LLM_METRICS:
        out.append(
            ("scaleMetric", f"{metric.value} is an LLM metric (vLLM) and needs llm set; predictive models scale on {_names(PREDICTIVE_METRICS)}")
        )
    if metric is ScaleMetric.KV_CACHE and model.scale_target > 100:
        out.append(("scaleTarget", f"{model.scale_target} is above 100; with scaleMetric kv-cache it is a KV-cache use percentage, 1-100"))
    return out


def is_accelerator_model(model: ModelConfig) -> bool:
    return model.pool is not None and model.accelerators > 0


def autoscaling_problems(model: ModelConfig, environment: Environment) -> list[tuple[str, str]]:
    """``(key, message)`` for each autoscaling rule ``model`` breaks in ``environment``."""
    out: list[tuple[str, str]] = []
    if model.min_replicas == 0 and environment is not Environment.DEV:
        if environment is Environment.PROD and is_accelerator_model(model):
            msg = (
                f"is 0; in prod, accelerator models keep minReplicas >= 1: scaling {model.pool} nodes up from zero "
                "waits for a node and the model to load and can fail for good (kserve #1247); set minReplicas: 1 or more"
            )
        else:
            msg = f"is 0; scale to zero is allowed only in dev (this stack is {environment.value}); set minReplicas: 1 or more"
        out.append(("minReplicas", msg))
    if model.min_replicas > model.max_replicas:
        out.append(("minReplicas", f"{model.min_replicas} exceeds maxReplicas {model.max_replicas}"))
    if model.scale_metric in HPA_METRICS and model.min_replicas == 0:
        out.append(
            (
                "scaleMetric",
                f"{model.scale_metric.value} uses an HPA (Knative's HPA class, or KServe's in Standard mode), which cannot "
                "scale to zero; use concurrency or rps, or set minReplicas: 1 or more",
            )
        )
    return [*out, *scale_metric_problems(model)]


def canary_problems(model: ModelConfig) -> list[tuple[str, str]]:
    if model.canary is not None and model.canary.version == model.version:
        return [("canary.version", f"{model.canary.version} is the stable version too; a canary needs another version")]
    return []


def check_model_autoscaling(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """Autoscaling rules per environment (scale to zero only in dev; prod accelerator models keep a replica) and the
    scale metric per track (vLLM metrics on LLM models only, predictive metrics on the others)."""
    for i, model in enumerate(cfg.settings.models):
        for key, msg in autoscaling_problems(model, cfg.environment):
            yield ConfigIssue(("models", i, key), msg)


def check_model_canaries(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """A canary's version differs from the stable one."""
    for i, model in enumerate(cfg.settings.models):
        for key, msg in canary_problems(model):
            yield ConfigIssue(("models", i, key), msg)


def check_model_exposure(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """Public models need the stack's policy to allow public inference."""
    if cfg.settings.policy.allow_public_inference:
        return
    for i, model in enumerate(cfg.settings.models):
        if model.public:
            yield ConfigIssue(
                ("models", i, "public"),
                "true needs inferstack:policy.allowPublicInference: true; models are cluster-local by default",
            )


def check_model_references(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """Model names are unique per namespace and each model's pool exists."""
    pools = [p.name for p in cfg.settings.accelerator_pools]
    seen: set[tuple[str, str]] = set()
    for i, model in enumerate(cfg.settings.models):
        loc = ("models", i)
        if (model.namespace, model.name) in seen:
            yield ConfigIssue((*loc, "name"), f"duplicate model {model.namespace}/{model.name}")
        seen.add((model.namespace, model.name))
        if model.pool is not None and model.pool not in pools:
            yield ConfigIssue((*loc, "pool"), f"unknown pool {model.pool!r}; pools: {', '.join(pools) or '(none)'}")


def throughput_problems(model: ModelConfig) -> list[tuple[tuple[str | int, ...], str]]:
    """``(key path, message)`` for each ``throughput`` entry naming a kind the catalog does not know, or a kind twice."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    seen: set[tuple[str, str | None]] = set()
    for j, t in enumerate(model.throughput):
        loc = ("throughput", j, "kind")
        if t.kind not in accelerators.CATALOG:
            out.append((loc, f"unknown accelerator kind {t.kind!r}; kinds: {', '.join(sorted(accelerators.CATALOG))}"))
        elif (t.kind, t.gpu) in seen:
            on = f"{t.kind} ({t.gpu} slice)" if t.gpu else t.kind
            out.append((loc, f"{on} is measured twice; give one entry per accelerator kind (and GPU slice)"))
        seen.add((t.kind, t.gpu))
    return out


def check_model_throughput(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """Measured throughput names catalog accelerator kinds, one entry per kind."""
    for i, model in enumerate(cfg.settings.models):
        for loc, msg in throughput_problems(model):
            yield ConfigIssue(("models", i, *loc), msg)
