"""One predictive model served as a KServe InferenceService (Knative or Standard mode), with its PodDisruptionBudget.

:func:`inference_service` builds the object (pure, tested without Pulumi); :class:`ModelService` declares it as a
``pulumi_kubernetes.apiextensions.CustomResource`` (``serving.kserve.io/v1beta1``) plus, for models that keep two
or more replicas, a ``policy/v1`` PodDisruptionBudget allowing one voluntary eviction at a time.

Secure and safe defaults: cluster-local (label ``networking.knative.dev/visibility: cluster-local``) unless the
entry is ``public`` and the stack's policy allows it; runs under the namespace's ``inferstack-serving`` service
account (read-only registry access through IRSA / Workload Identity, no API token mounted); Pod Security
"restricted" on the predictor pod and the model container whatever runtime KServe picks; CPU and memory limits
equal the requests; the deployment mode is set explicitly on every InferenceService: ``Knative`` (default: revisions,
``canaryTrafficPercent``, tag routing with ``latest-`` / ``prev-`` URLs) or, per model, ``Standard`` (a plain
Deployment; no canary split, which the config check refuses). Predictor pods carry ``inferstack.io/model`` and
``inferstack.io/version`` (the version the spec serves: a canary revision carries the canary's). KServe's request
batcher (``predictor.batcher``: ``maxBatchSize``, ``maxLatency`` in ms, ``timeout`` in s) when the model sets one.
"""

from __future__ import annotations

import copy
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from inferstack.catalog.accelerators import ACCELERATOR_LABEL
from inferstack.checks.models import KPA_METRICS
from inferstack.components.custom_resource import custom_resource
from inferstack.components.platform import SERVING_SERVICE_ACCOUNT
from inferstack.config.serving import DeploymentMode, ModelConfig, ScaleMetric
from inferstack.serving.canary import traffic
from inferstack.serving.metrics import POD_MODEL_LABEL, POD_VERSION_LABEL
from inferstack.serving.placement import Placement
from inferstack.serving.runtimes import model_args

API_VERSION = "serving.kserve.io/v1beta1"
KIND = "InferenceService"
DEPLOYMENT_MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
DEPLOYMENT_MODE = "Knative"
#: Annotation value per deployment mode (KServe v0.16+ names; the chart default is set to Knative in install.py).
DEPLOYMENT_MODES: dict[DeploymentMode, str] = {DeploymentMode.KNATIVE: "Knative", DeploymentMode.STANDARD: "Standard"}
#: KServe's autoscaler class annotation (Standard mode): ``hpa`` for cpu / memory, ``external`` when a KEDA
#: ScaledObject declared beside the InferenceService scales it on Prometheus (rps, concurrency).
KSERVE_AUTOSCALER_CLASS_ANNOTATION = "serving.kserve.io/autoscalerClass"
HPA_METRICS = frozenset({ScaleMetric.CPU, ScaleMetric.MEMORY})
TAG_ROUTING_ANNOTATION = "serving.kserve.io/enable-tag-routing"
PROGRESS_DEADLINE_ANNOTATION = "serving.knative.dev/progress-deadline"
AUTOSCALER_CLASS_ANNOTATION = "autoscaling.knative.dev/class"
HPA_CLASS = "hpa.autoscaling.knative.dev"
VISIBILITY_LABEL = "networking.knative.dev/visibility"
#: Pod Security "restricted" on the predictor pod and the model container (as the LLM templates): non-root, the
#: runtime's seccomp profile, no privilege escalation, every capability dropped.
POD_SECURITY_CONTEXT: dict[str, Any] = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
CONTAINER_SECURITY_CONTEXT: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "privileged": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}
STANDARD_VISIBILITY_LABEL = "networking.kserve.io/visibility"
#: Label KServe puts on every predictor pod (the PDB's selector).
ISVC_POD_LABEL = "serving.kserve.io/inferenceservice"
STABLE_VERSION_ANNOTATION = "inferstack.io/stable-version"
CANARY_VERSION_ANNOTATION = "inferstack.io/canary-version"


def pod_labels(model: str, version: str) -> dict[str, str]:
    """Labels of every serving pod (the PodMonitors and SLO queries select on them)."""
    return {POD_MODEL_LABEL: model, POD_VERSION_LABEL: version}


def batcher_spec(model: ModelConfig) -> dict[str, int]:
    """``predictor.batcher``: requests per batch, longest wait in ms, batch timeout in s."""
    assert model.batcher is not None
    b = model.batcher
    return {"maxBatchSize": b.max_batch_size, "maxLatency": b.max_latency_ms, "timeout": b.timeout_seconds}


def inference_service(
    model: ModelConfig, place: Placement, storage_uri: pulumi.Input[str] | None, public: bool = False
) -> dict[str, Any]:
    """The InferenceService object of ``model`` (``storage_uri`` None: omitted, KServe then rejects it)."""
    t = traffic(model)
    labels = {
        "app.kubernetes.io/managed-by": "inferstack",
        "app.kubernetes.io/part-of": "inferstack-serving",
        "inferstack.io/registry-model": model.registry_model,
    }
    if not public:
        # Knative mode: no external Knative route; Standard mode: KServe creates no Ingress / HTTPRoute.
        labels[VISIBILITY_LABEL if model.deployment_mode is DeploymentMode.KNATIVE else STANDARD_VISIBILITY_LABEL] = "cluster-local"
    standard = model.deployment_mode is DeploymentMode.STANDARD
    annotations = {DEPLOYMENT_MODE_ANNOTATION: DEPLOYMENT_MODES[model.deployment_mode]}
    if standard:
        hpa = model.scale_metric in HPA_METRICS
        annotations[KSERVE_AUTOSCALER_CLASS_ANNOTATION] = "hpa" if hpa else "external"
    else:
        annotations[TAG_ROUTING_ANNOTATION] = "true"
        annotations[PROGRESS_DEADLINE_ANNOTATION] = f"{model.progress_deadline_seconds}s"
        if model.scale_metric not in KPA_METRICS:
            annotations[AUTOSCALER_CLASS_ANNOTATION] = HPA_CLASS
    annotations[STABLE_VERSION_ANNOTATION] = t.stable
    if t.canary:
        annotations[CANARY_VERSION_ANNOTATION] = t.canary

    model_spec: dict[str, Any] = {"modelFormat": {"name": model.format}}
    if model.runtime:
        model_spec["runtime"] = model.runtime
    args = model_args(model, place.node_selector.get(ACCELERATOR_LABEL))
    if args:
        model_spec["args"] = args
    if storage_uri is not None:
        model_spec["storageUri"] = storage_uri
    model_spec["resources"] = place.resources(model.cpu, model.memory)
    # Pod Security "restricted" whatever runtime KServe picks: its built-in runtimes set no seccomp profile
    # (kserve-huggingfaceserver); the model's fields are merged onto the runtime's container.
    model_spec["securityContext"] = copy.deepcopy(CONTAINER_SECURITY_CONTEXT)

    predictor: dict[str, Any] = {
        "serviceAccountName": SERVING_SERVICE_ACCOUNT,
        # Storage credentials come from IRSA's projected token or the GKE metadata server, not the API token.
        "automountServiceAccountToken": False,
        "labels": pod_labels(model.name, t.serving_version),
        "minReplicas": model.min_replicas,
        "maxReplicas": model.max_replicas,
    }
    if not standard or model.scale_metric in HPA_METRICS:
        predictor["scaleMetric"] = ScaleMetric(model.scale_metric).value
        predictor["scaleTarget"] = model.scale_target
    predictor["timeout"] = model.timeout_seconds
    if t.percent is not None and not standard:
        predictor["canaryTrafficPercent"] = t.percent
    if model.batcher is not None:
        predictor["batcher"] = batcher_spec(model)
    predictor.update(place.pod_fields())
    predictor["securityContext"] = copy.deepcopy(POD_SECURITY_CONTEXT)
    predictor["model"] = model_spec
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": model.name, "namespace": model.namespace, "labels": labels, "annotations": annotations},
        "spec": {"predictor": predictor},
    }


#: KServe's ``constants.PredictorServiceName`` suffix: ``<isvc>-predictor`` names the predictor's Knative Service
#: (Knative mode) or its Deployment and Service (Standard mode).
PREDICTOR_SUFFIX = "-predictor"
#: Knative's route tags with tag routing on: ``latest`` (the latest ready revision) and ``prev`` (the last revision
#: rolled out, while a canary has part of the traffic); Knative's default tag template ``{{.Tag}}-{{.Name}}``.
TAGS = ("latest", "prev")
#: The cluster's DNS domain of Services (Kubernetes' default).
CLUSTER_DOMAIN = "svc.cluster.local"


def kserve_routing(obj: dict[str, Any]) -> dict[str, Any]:
    """Where KServe v0.20.0 routes an InferenceService object built by :func:`inference_service`.

    ``deploymentMode`` (the annotation), the predictor ``service`` (``<isvc>-predictor``, its in-cluster ``host``)
    and ``canaryTrafficPercent`` (None: absent). Knative mode with tag routing adds ``tagRoutes``: the ``latest-``
    host, and the ``prev-`` host while a canary has part of the traffic.
    """
    meta, predictor = obj["metadata"], obj["spec"]["predictor"]
    service = meta["name"] + PREDICTOR_SUFFIX
    host = f"{service}.{meta['namespace']}.{CLUSTER_DOMAIN}"
    mode = meta["annotations"][DEPLOYMENT_MODE_ANNOTATION]
    percent = predictor.get("canaryTrafficPercent")
    out: dict[str, Any] = {
        "inferenceService": meta["name"],
        "deploymentMode": mode,
        "service": service,
        "host": host,
        "canaryTrafficPercent": percent,
    }
    if mode == DEPLOYMENT_MODES[DeploymentMode.KNATIVE] and meta["annotations"].get(TAG_ROUTING_ANNOTATION) == "true":
        latest, prev = TAGS
        out["tagRoutes"] = {latest: f"{latest}-{host}", **({prev: f"{prev}-{host}"} if percent is not None else {})}
    return out


def needs_pdb(model: ModelConfig) -> bool:
    """A PDB applies when the model keeps two or more replicas (with one, it would block every node drain)."""
    return model.min_replicas >= 2


def pdb_spec(model: ModelConfig) -> dict[str, Any]:
    """At most one predictor pod (stable or canary) evicted at a time."""
    return {"maxUnavailable": 1, "selector": {"matchLabels": {ISVC_POD_LABEL: model.name}}}


class ModelService(pulumi.ComponentResource):
    """One predictive model as a KServe InferenceService and, with two or more replicas, its PodDisruptionBudget.

    Provisions a ``serving.kserve.io/v1beta1`` ``InferenceService`` built by :func:`inference_service` (deployment
    mode ``Knative`` with tag routing, progress deadline and ``canaryTrafficPercent`` while a canary runs, or
    ``Standard`` with KServe's HPA for cpu / memory and ``autoscalerClass: external`` otherwise; ``minReplicas`` /
    ``maxReplicas``, timeout, the batcher if set, pod labels ``inferstack.io/model`` / ``inferstack.io/version``,
    requests = limits, the placement's node selector, tolerations and scheduler) and, when ``model.minReplicas`` >= 2, a ``policy/v1`` PodDisruptionBudget
    ``<model>-predictor`` with ``maxUnavailable: 1``.

    Args:
        name (str): component name; children are ``<name>-isvc`` and ``<name>-pdb``.
        model (ModelConfig): the ``inferstack:models`` entry (name, namespace, format, runtime default None,
            version, canary default None, pool default None, accelerators default 1, cpu default ``2``, memory
            default ``8Gi``, minReplicas default 1, maxReplicas default 2, scaleMetric default ``concurrency``,
            scaleTarget default 4, timeoutSeconds default 120, progressDeadlineSeconds default 1800).
        place (Placement): node selector, tolerations, device resource and scheduler for the model's pool.
        storage_uri (pulumi.Input[str] | None): the model artifacts; None omits it (KServe then rejects the object).
        provider (k8s.Provider): provider of the cluster.
        public (bool, default False): reachable from outside the cluster (the caller checks the policy).
        depends_on (list[pulumi.Resource] | None, default None): what the objects wait for (KServe, service account).
        opts (pulumi.ResourceOptions | None, default None): options of the component.

    Outputs:
        inference_service (k8s.apiextensions.CustomResource), pdb (k8s.policy.v1.PodDisruptionBudget | None).
        Registered outputs: ``name``, ``namespace``, ``version`` (the version the spec serves).

    Secure choices:
        - cluster-local (``networking.knative.dev/visibility: cluster-local``) unless ``public``;
        - runs as the namespace's ``inferstack-serving`` service account (read-only registry identity, no token);
        - CPU and memory limits equal the requests; one voluntary eviction at a time.
    """

    def __init__(
        self,
        name: str,
        model: ModelConfig,
        place: Placement,
        storage_uri: pulumi.Input[str] | None,
        provider: k8s.Provider,
        public: bool = False,
        depends_on: list[pulumi.Resource] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("inferstack:serving:ModelService", name, None, opts)
        obj = inference_service(model, place, storage_uri, public=public)
        child = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=depends_on or [])
        self.inference_service: k8s.apiextensions.CustomResource = custom_resource(f"{name}-isvc", obj, child)
        self.pdb: k8s.policy.v1.PodDisruptionBudget | None = None
        if needs_pdb(model):
            spec = pdb_spec(model)
            self.pdb = k8s.policy.v1.PodDisruptionBudget(
                f"{name}-pdb",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=f"{model.name}-predictor", namespace=model.namespace, labels={"app.kubernetes.io/managed-by": "inferstack"}
                ),
                spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                    max_unavailable=spec["maxUnavailable"],
                    selector=k8s.meta.v1.LabelSelectorArgs(match_labels=spec["selector"]["matchLabels"]),
                ),
                opts=child,
            )
        self.register_outputs({"name": model.name, "namespace": model.namespace, "version": traffic(model).serving_version})
