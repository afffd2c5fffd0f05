"""Metrics-driven autoscaling: one KEDA ScaledObject per model KEDA scales, on the cluster's Prometheus.

Who scales what (pure rules, :func:`uses_keda`):

- LLM models (LLMInferenceService): KEDA, on vLLM's queue (``waiting-requests``), generation throughput
  (``tokens-per-second``) or KV-cache use (``kv-cache``, percent). The LLMInferenceService CRD has no scale
  subresource (KServe v0.20.0), so each version's ScaledObject ``<model>-v<version>`` (stable and canary are
  separate LLMInferenceServices, serving/llm.py) targets the workload KServe creates for it: the Deployment
  ``<model>-v<version>-kserve`` (single node) or the LeaderWorkerSet ``<model>-v<version>-kserve-mn``
  (``nodesPerReplica`` > 1), on that version's series. KServe keeps that workload's replicas only when the
  LLMInferenceService sets no ``replicas`` (``PreserveDeploymentReplicas``).
- Standard-mode predictive models scaled on ``rps`` or ``concurrency``: KEDA, on the model server's request
  histogram, targeting the Deployment ``<name>-predictor``; the InferenceService carries
  ``serving.kserve.io/autoscalerClass: external`` (serving/inference.py) so KServe creates no HPA of its own.
  ``cpu`` / ``memory`` stay with the HPA KServe creates.
- Knative-mode predictive models keep Knative's autoscaler (KPA, or its HPA class for cpu / memory).

Queries come from :mod:`inferstack.serving.metrics` (the one catalogue of serving series). Sums over replicas use
KEDA's ``AverageValue`` (desired = ceil(sum / target)); the KV-cache mean uses ``Value`` (desired = current x
mean / target). Replica bounds (:func:`replica_bounds`): the model's ``minReplicas`` .. ``maxReplicas`` (checked
against the pool plan), ``minReplicaCount`` 0 only in dev; during an LLM canary the versions split ``maxReplicas``
by traffic weight, so the two never exceed the pool plan together.
"""

from __future__ import annotations

from typing import Any

from inferstack.components.platform import MONITORING_NAMESPACE
from inferstack.config import Environment
from inferstack.config.serving import DeploymentMode, ModelConfig, ScaleMetric
from inferstack.serving import metrics
from inferstack.serving.llm import members, service_name

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


def scaled_names(model: ModelConfig) -> list[tuple[str, str | None]]:
    """``(object name, version)`` of each workload KEDA scales: per version for LLMs (each version is its own
    LLMInferenceService ``<model>-v<version>``, stable and canary), else the model's one (version None: all)."""
    if model.llm is not None:
        return [(service_name(model, m.version), m.version) for m in members(model)]
    return [(model.name, None)]


def scale_target_ref(model: ModelConfig, name: str | None = None) -> dict[str, str]:
    """The workload KEDA scales (names as KServe v0.20.0 creates them from the object ``name``)."""
    name = name or scaled_names(model)[0][0]
    if model.llm is not None:
        if model.llm.nodes_per_replica > 1:
            return {"apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet", "name": f"{name}-kserve-mn"}
        return {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"{name}-kserve"}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"{name}-predictor"}


def trigger_query(model: ModelConfig, version: str | None = None) -> tuple[str, str]:
    """``(PromQL, KEDA metricType)`` of the model's scale metric (of one version, or all), from the metrics catalogue."""
    track = metrics.track_of(model)
    ns, name = model.namespace, model.name
    metric = ScaleMetric(model.scale_metric)
    if metric is ScaleMetric.WAITING_REQUESTS:
        return metrics.waiting_requests(track, ns, name, version), "AverageValue"
    if metric is ScaleMetric.TOKENS_PER_SECOND:
        return metrics.tokens_per_second(track, ns, name, version, window=RATE_WINDOW), "AverageValue"
    if metric is ScaleMetric.KV_CACHE:
        return metrics.kv_cache_usage(track, ns, name, version, percent=True), "Value"
    if metric is ScaleMetric.RPS:
        return metrics.request_rate(track, ns, name, version, window=RATE_WINDOW), "AverageValue"
    if metric is ScaleMetric.CONCURRENCY:
        # Little's law: requests in flight = arrival rate x time in system = the rate of the latency histogram's sum.
        hist = metrics.metrics_for(track).latency
        return f"sum(rate({hist.name}_sum{{{metrics.matchers(ns, name, version)}}}[{RATE_WINDOW}]))", "AverageValue"
    raise ValueError(f"{metric.value}: not a KEDA metric; KEDA scales on {', '.join(sorted(m.value for m in LLM_METRICS | KEDA_PREDICTIVE_METRICS))}")


def replica_bounds(model: ModelConfig, environment: Environment) -> dict[str | None, tuple[int, int]]:
    """``(minReplicaCount, maxReplicaCount)`` per scaled version (key None: the model's one workload).

    One workload: ``minReplicas`` (at least 1 outside dev) .. ``maxReplicas``. An LLM canary splits ``maxReplicas``
    between its versions by traffic weight, so stable and canary together never exceed what the pool plan sized: the
    canary gets ``ceil(maxReplicas x percent / 100)`` (at least 1), the stable version the rest (at least 1 while it
    has traffic); each keeps at most its share of the floor. A version with no traffic (a canary rolled back to 0%, the
    stable one at 100%) scales down to 0 (0 .. 1)."""
    floor = model.min_replicas if environment is Environment.DEV else max(1, model.min_replicas)
    if model.llm is None or len(members(model)) == 1:
        return {version: (floor, model.max_replicas) for _, version in scaled_names(model)}
    stable, canary = members(model)
    total = model.max_replicas
    if canary.weight <= 0:
        canary_bounds = (0, 1)
    else:
        canary_max = max(1, -(-total * canary.weight // 100))
        if canary.weight < 100 and total >= 2:
            canary_max = min(canary_max, total - 1)  # the stable version keeps one while it has traffic
        canary_bounds = (min(floor, 1), canary_max)
    stable_max = max(1, total - canary_bounds[1])
    return {stable.version: (min(floor, stable_max) if stable.weight > 0 else 0, stable_max), canary.version: canary_bounds}


def scaled_objects(model: ModelConfig, environment: Environment) -> list[dict[str, Any]]:
    """The KEDA ScaledObjects of ``model`` (see :func:`uses_keda`, :func:`scaled_names`), each with a Prometheus
    trigger on its own version's series and the model's replica bounds."""
    return [scaled_object(model, environment, name, version) for name, version in scaled_names(model)]


def scaled_object(model: ModelConfig, environment: Environment, name: str | None = None, version: str | None = None) -> dict[str, Any]:
    """One KEDA ScaledObject ``name`` (default: the model's first, see :func:`scaled_names`) for ``version``."""
    if name is None:
        name, version = scaled_names(model)[0]
    query, metric_type = trigger_query(model, version)
    min_replicas, max_replicas = replica_bounds(model, environment).get(version, (model.min_replicas, model.max_replicas))
    labels = {"app.kubernetes.io/managed-by": "inferstack", metrics.POD_MODEL_LABEL: model.name}
    if version is not None:
        labels[metrics.POD_VERSION_LABEL] = version
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": name, "namespace": model.namespace, "labels": labels},
        "spec": {
            "scaleTargetRef": scale_target_ref(model, name),
            "minReplicaCount": min_replicas,
            "maxReplicaCount": max_replicas,
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
