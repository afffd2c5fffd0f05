"""Metrics-driven autoscaling: one KEDA ScaledObject per model KEDA scales, on the cluster's Prometheus.

Who scales what (pure rules, :func:`uses_keda`):

- LLM models (LLMInferenceService): KEDA, on vLLM's queue (``waiting-requests``), generation throughput
  (``tokens-per-second``) or KV-cache use (``kv-cache``, percent). The LLMInferenceService CRD has no scale
  subresource (KServe v0.20.0), so the ScaledObject targets the workload KServe creates for it: the Deployment
  ``<name>-kserve`` (single node) or the LeaderWorkerSet ``<name>-kserve-mn`` (``nodesPerReplica`` > 1). KServe keeps
  that workload's replicas when the LLMInferenceService sets none (``PreserveDeploymentReplicas``).
- Standard-mode predictive models scaled on ``rps`` or ``concurrency``: KEDA, on the model server's request
  histogram, targeting the Deployment ``<name>-predictor``; the InferenceService carries
  ``serving.kserve.io/autoscalerClass: external`` (serving/inference.py) so KServe creates no HPA of its own.
  ``cpu`` / ``memory`` stay with the HPA KServe creates.
- Knative-mode predictive models keep Knative's autoscaler (KPA, or its HPA class for cpu / memory).

Queries come from :mod:`inferstack.serving.metrics` (the one catalogue of serving series). Sums over replicas use
KEDA's ``AverageValue`` (desired = ceil(sum / target)); the KV-cache mean uses ``Value`` (desired = current x
mean / target). ``maxReplicaCount`` is the model's ``maxReplicas`` (checked against the pool plan);
``minReplicaCount`` 0 only in dev.
"""

from __future__ import annotations

from typing import Any

from inferstack.components.platform import MONITORING_NAMESPACE
from inferstack.config import Environment
from inferstack.config.serving import DeploymentMode, ModelConfig, ScaleMetric
from inferstack.serving import metrics

API_VERSION = "keda.sh/v1alpha1"
KIND = "ScaledObject"
#: kube-prometheus-stack's ``fullnameOverride``: names the Prometheus Service ``inferstack-prometheus``.
RELEASE_FULLNAME = "inferstack"
PROMETHEUS_PORT = 9090
#: Where KEDA (and Grafana) query the cluster's Prometheus.
PROMETHEUS_ADDRESS = f"http://{RELEASE_FULLNAME}-prometheus.{MONITORING_NAMESPACE}.svc.cluster.local:{PROMETHEUS_PORT}"

#: Scale metrics of LLM models (vLLM series); KEDA scales them.
LLM_METRICS = frozenset({ScaleMetric.WAITING_REQUESTS, ScaleMetric.TOKENS_PER_SECOND, ScaleMetric.KV_CACHE})
#: Scale metrics KEDA handles for Standard-mode predictive models (cpu / memory stay with KServe's HPA).
KEDA_PREDICTIVE_METRICS = frozenset({ScaleMetric.RPS, ScaleMetric.CONCURRENCY})

#: How often KEDA queries (seconds) and the rate window of its queries (a few scrapes).
POLLING_INTERVAL = 15
RATE_WINDOW = "1m"
#: Scale down at most one replica a minute, after five minutes of lower load (a replica reloads its model on return).
SCALE_DOWN = {"stabilizationWindowSeconds": 300, "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}


def is_llm(model: ModelConfig) -> bool:
    return model.llm is not None


def uses_keda(model: ModelConfig) -> bool:
    """KEDA scales the model: an LLM, or a Standard-mode predictive model on rps / concurrency."""
    if is_llm(model):
        return True
    return DeploymentMode(model.deployment_mode) is DeploymentMode.STANDARD and ScaleMetric(model.scale_metric) in KEDA_PREDICTIVE_METRICS


def scale_target_ref(model: ModelConfig) -> dict[str, str]:
    """The workload KEDA scales (names as KServe v0.20.0 creates them)."""
    if model.llm is not None:
        if model.llm.nodes_per_replica > 1:
            return {"apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet", "name": f"{model.name}-kserve-mn"}
        return {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"{model.name}-kserve"}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"{model.name}-predictor"}


def trigger_query(model: ModelConfig) -> tuple[str, str]:
    """``(PromQL, KEDA metricType)`` of the model's scale metric, built from the metrics catalogue."""
    track = metrics.track_of(model)
    ns, name = model.namespace, model.name
    metric = ScaleMetric(model.scale_metric)
    if metric is ScaleMetric.WAITING_REQUESTS:
        return metrics.waiting_requests(track, ns, name), "AverageValue"
    if metric is ScaleMetric.TOKENS_PER_SECOND:
        return metrics.tokens_per_second(track, ns, name, window=RATE_WINDOW), "AverageValue"
    if metric is ScaleMetric.KV_CACHE:
        return metrics.kv_cache_usage(track, ns, name, percent=True), "Value"
    if metric is ScaleMetric.RPS:
        return metrics.request_rate(track, ns, name, window=RATE_WINDOW), "AverageValue"
    if metric is ScaleMetric.CONCURRENCY:
        # Little's law: requests in flight = arrival rate x time in system = the rate of the latency histogram's sum.
        hist = metrics.metrics_for(track).latency
        return f"sum(rate({hist.name}_sum{{{metrics.matchers(ns, name)}}}[{RATE_WINDOW}]))", "AverageValue"
    raise ValueError(f"{metric.value}: not a KEDA metric; KEDA scales on {', '.join(sorted(m.value for m in LLM_METRICS | KEDA_PREDICTIVE_METRICS))}")


def scaled_object(model: ModelConfig, environment: Environment) -> dict[str, Any]:
    """The KEDA ScaledObject of ``model`` (see :func:`uses_keda`): a Prometheus trigger, the model's replica bounds."""
    query, metric_type = trigger_query(model)
    min_replicas = model.min_replicas if environment is Environment.DEV else max(1, model.min_replicas)
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": model.name,
            "namespace": model.namespace,
            "labels": {"app.kubernetes.io/managed-by": "inferstack", metrics.POD_MODEL_LABEL: model.name},
        },
        "spec": {
            "scaleTargetRef": scale_target_ref(model),
            "minReplicaCount": min_replicas,
            "maxReplicaCount": model.max_replicas,
            "pollingInterval": POLLING_INTERVAL,
            "advanced": {"horizontalPodAutoscalerConfig": {"behavior": {"scaleDown": SCALE_DOWN}}},
            "triggers": [
                {
                    "type": "prometheus",
                    "name": ScaleMetric(model.scale_metric).value,
                    "metricType": metric_type,
                    "metadata": {"serverAddress": PROMETHEUS_ADDRESS, "query": query, "threshold": str(model.scale_target)},
                }
            ],
        },
    }
