"""Public API of model serving on KServe, installed as ``inferstack.serving``.

Import from here: ``from inferstack.serving import Serving, ServingArgs``. Names resolve lazily (importing this
package loads no cloud SDK). The names in ``__all__`` are the stable surface; everything else is private.

- ``Serving`` (everything for a stack's models) composed of ``ServingStack`` (cert-manager, Knative Serving with
  Kourier, KServe from pinned charts) and one ``ModelService`` per model (InferenceService and its
  PodDisruptionBudget); ``Serving`` takes ``ServingArgs`` (``StackConfig.serving_args()`` builds them).
- ``Placement`` and ``placement_for(model, pool, cloud, info)``: node selector, tolerations, device resource
  and scheduler of a model on its accelerator pool; ``model_storage_uri``: the registry URI a model serves.
- ``LLMService`` and ``llm_inference_service``: a model on the LLM track, one KServe LLMInferenceService per
  version in one routing group on the inference Gateway (``GatewayRef``).
- ``MonitoringStack`` (kube-prometheus-stack and KEDA from pinned charts, the platform's monitors) and one
  ``ModelObservability`` per model (PodMonitor, KEDA ScaledObject, Grafana dashboard).
- ``SloRules`` and ``prometheus_rule``: a model's ``slo`` as a PrometheusRule (recording rules, multi-window
  burn-rate alerts).
- ``Kueue``: the pinned Kueue chart and the queues of the accelerator pools and team namespaces (cohort,
  ResourceFlavors, ClusterQueues, LocalQueues, WorkloadPriorityClasses); gang admission of multi-node LLM groups.
- Canary traffic: ``Traffic``, ``traffic``, ``CANARY_STEPS``, ``next_step``.
- Typed args: ``ServingArgs``, ``ModelConfig``, ``CanaryConfig``, ``CapacityPlanConfig``, ``ScaleMetric`` (``inferstack.config``);
  ``PlatformOutputs`` and ``RegistryOutputs`` come from ``inferstack.components``.
"""

from __future__ import annotations

from inferstack.lazy import lazy_exports

#: Public name -> module that defines it, or ``module:attribute`` when the public name differs.
_EXPORTS: dict[str, str] = {
    "Serving": "inferstack.serving.deploy",
    "ServingStack": "inferstack.serving.install",
    "ModelService": "inferstack.serving.inference",
    "LLMService": "inferstack.serving.llm",
    "llm_inference_service": "inferstack.serving.llm",
    "GatewayRef": "inferstack.serving.gateway",
    "MonitoringStack": "inferstack.serving.monitoring",
    "ModelObservability": "inferstack.serving.monitoring",
    "SloRules": "inferstack.serving.slo",
    "prometheus_rule": "inferstack.serving.slo",
    "Kueue": "inferstack.serving.kueue",
    "model_storage_uri": "inferstack.serving.deploy",
    "Placement": "inferstack.serving.placement",
    # ``placement`` is also the submodule's name, which would shadow the function: exported as placement_for.
    "placement_for": "inferstack.serving.placement:placement",
    "Traffic": "inferstack.serving.canary",
    "traffic": "inferstack.serving.canary",
    "CANARY_STEPS": "inferstack.serving.canary",
    "next_step": "inferstack.serving.canary",
    "ServingArgs": "inferstack.config.args",
    "ModelConfig": "inferstack.config.serving",
    "CanaryConfig": "inferstack.config.serving",
    "CapacityPlanConfig": "inferstack.config.serving",
    "ScaleMetric": "inferstack.config.serving",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
