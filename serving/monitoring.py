"""The metrics stack on the cluster and what it scrapes: prometheus-operator, Prometheus, Grafana, KEDA, monitors.

One vocabulary on both clouds: prometheus-operator's CRDs (ServiceMonitor, PodMonitor, PrometheusRule) read by one
in-cluster Prometheus (kube-prometheus-stack, pinned), which also evaluates the SLO rules and answers KEDA's
queries. Long-term storage is the cloud's managed Prometheus, set up by the platform
(:class:`~inferstack.components.platform.MetricsOutputs`): remote write to an AMP workspace on AWS, Google's
drop-in binary exporting to Google Managed Prometheus on GCP.

Builders (pure, tested without Pulumi): :func:`kube_prometheus_stack_values`, :func:`keda_values`,
:func:`model_pod_monitor` (one per model: the model's pods, the track's metrics port, ``inferstack.io/model`` and
``inferstack.io/version`` relabelled to ``model`` and ``version``), :func:`dcgm_service_monitor` and
:func:`neuron_monitor_pod_monitor` and :func:`gateway_pod_monitor`. Components: :class:`MonitoringStack` (cluster-wide) and :class:`ModelObservability`
(per model: PodMonitor, KEDA ScaledObject, Grafana dashboard).

Scrape targets and what is not scraped in-cluster:

- KServe predictors: Knative mode, the queue-proxy's request metrics (port ``http-usermetric``); Standard mode, the
  model server on :data:`~inferstack.catalog.ports.MODEL_SERVER_PORT`; LLMInferenceServices, vLLM's ``/metrics``
  (HTTPS with KServe's self-signed serving certificate).
- The gateway: Istio's Gateway API gateway pods on EKS (Envoy's ``/stats/prometheus``). GKE's Gateway is a Google
  load balancer with no pod to scrape: its request metrics are Cloud Monitoring's ``loadbalancing.googleapis.com``.
- GPUs: the DCGM exporter the AWS platform installs (kube-system). Neuron devices (Inferentia, Trainium): AWS's
  neuron-monitor DaemonSet the AWS platform declares in kube-system (its Prometheus exporter on port 8000). On GKE the managed DCGM exporter of GKE's
  monitoring package reports to Cloud Monitoring (managed collection), and TPU metrics (duty cycle, memory) are GKE
  system metrics there too: neither is in the in-cluster Prometheus.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from inferstack.catalog.accelerators import DEVICE_RESOURCE, Family
from inferstack.catalog.labels import POD_SECURITY_LABELS
from inferstack.catalog.ports import MODEL_SERVER_PORT, WEBHOOK_PORTS
from inferstack.catalog.versions import CHARTS
from inferstack.components.custom_resource import custom_resource
from inferstack.components.helm import addon_release
from inferstack.components.platform import MONITORING_NAMESPACE, PROMETHEUS_SERVICE_ACCOUNT, PlatformOutputs
from inferstack.config import Cloud, Environment
from inferstack.config.serving import ModelConfig
from inferstack.serving import metrics
from inferstack.serving.autoscaling import PROMETHEUS_ADDRESS, RELEASE_FULLNAME, scaled_objects, uses_keda
from inferstack.serving.dashboards import DASHBOARD_LABEL, dashboard_config_map

API_VERSION = "monitoring.coreos.com/v1"
KEDA_NAMESPACE = CHARTS["keda"].namespace
#: Port of KEDA's metrics API server: one the private GKE control plane already reaches (``WEBHOOK_PORTS``), instead
#: of the chart's 6443, which GKE's firewall does not open.
KEDA_METRICS_SERVER_PORT = 9443
assert KEDA_METRICS_SERVER_PORT in WEBHOOK_PORTS
#: How often serving targets are scraped (KEDA reads at most this fresh).
SCRAPE_INTERVAL = "15s"
#: vLLM's port in LLMInferenceService pods (KServe v0.20.0 config templates): 8000, or 8001 behind the
#: prefill/decode routing sidecar (which takes 8000).
VLLM_PORT = 8000
VLLM_PORT_BEHIND_SIDECAR = 8001
#: Knative's queue-proxy port of the request metrics.
QUEUE_PROXY_METRICS_PORT = "http-usermetric"
#: Istio's Envoy metrics port on gateway pods, and the label every Gateway API gateway pod carries.
ENVOY_METRICS_PORT = "http-envoy-prom"
GATEWAY_POD_LABEL = "gateway.networking.k8s.io/gateway-name"
DCGM_RELEASE = "dcgm-exporter"
#: AWS's neuron-monitor DaemonSet of the AWS platform (components/aws/device_plugins.py): namespace, pod label and
#: the name of its exporter's port (8000).
NEURON_MONITOR = "neuron-monitor"
NEURON_MONITOR_NAMESPACE = "kube-system"
NEURON_MONITOR_POD_LABELS = {"app": NEURON_MONITOR}
NEURON_MONITOR_PORT_NAME = "metrics"
MANAGED = {"app.kubernetes.io/managed-by": "inferstack"}


def _meta_label(pod_label: str) -> str:
    """Prometheus's discovery label of a pod label (``inferstack.io/model`` -> ``__meta_kubernetes_pod_label_inferstack_io_model``)."""
    return "__meta_kubernetes_pod_label_" + "".join(c if c.isalnum() else "_" for c in pod_label)


def model_relabelings() -> list[dict[str, Any]]:
    """Pod labels ``inferstack.io/model`` / ``inferstack.io/version`` into the series labels ``model`` / ``version``
    (the operator already sets ``namespace``, ``pod`` and ``container``)."""
    return [
        {"action": "replace", "sourceLabels": [_meta_label(metrics.POD_MODEL_LABEL)], "targetLabel": metrics.MODEL},
        {"action": "replace", "sourceLabels": [_meta_label(metrics.POD_VERSION_LABEL)], "targetLabel": metrics.VERSION},
    ]


def _endpoints(model: ModelConfig) -> list[dict[str, Any]]:
    track = metrics.track_of(model)
    base = {"path": "/metrics", "interval": SCRAPE_INTERVAL, "relabelings": model_relabelings()}
    if track == metrics.LLM:
        port = VLLM_PORT_BEHIND_SIDECAR if model.llm and model.llm.prefill_decode else VLLM_PORT
        # KServe serves vLLM over HTTPS with a self-signed certificate it rotates; the scrape stays in-cluster.
        return [{**base, "portNumber": port, "scheme": "https", "tlsConfig": {"insecureSkipVerify": True}}]
    if track == metrics.STANDARD:
        return [{**base, "portNumber": MODEL_SERVER_PORT}]
    return [{**base, "port": QUEUE_PROXY_METRICS_PORT}]


def model_pod_monitor(model: ModelConfig) -> dict[str, Any]:
    """The PodMonitor of one model, in its namespace: its pods (label ``inferstack.io/model``), the track's port."""
    return {
        "apiVersion": API_VERSION,
        "kind": "PodMonitor",
        "metadata": {"name": model.name, "namespace": model.namespace, "labels": {**MANAGED, metrics.POD_MODEL_LABEL: model.name}},
        "spec": {
            "selector": {"matchLabels": {metrics.POD_MODEL_LABEL: model.name}},
            "podMetricsEndpoints": _endpoints(model),
        },
    }


def dcgm_service_monitor() -> dict[str, Any]:
    """ServiceMonitor of the DCGM exporter (AWS platform, kube-system). ``honorLabels`` keeps the exporter's own
    ``namespace`` / ``pod`` labels: those of the pod using the GPU, not the exporter's."""
    return {
        "apiVersion": API_VERSION,
        "kind": "ServiceMonitor",
        "metadata": {"name": DCGM_RELEASE, "namespace": MONITORING_NAMESPACE, "labels": dict(MANAGED)},
        "spec": {
            "namespaceSelector": {"matchNames": [CHARTS[DCGM_RELEASE].namespace]},
            "selector": {"matchLabels": {"app.kubernetes.io/name": DCGM_RELEASE}},
            "endpoints": [{"port": "metrics", "path": "/metrics", "interval": SCRAPE_INTERVAL, "honorLabels": True}],
        },
    }


def neuron_monitor_pod_monitor() -> dict[str, Any]:
    """PodMonitor of AWS's neuron-monitor pods (kube-system): its Prometheus exporter (neuron-monitor-prometheus.py,
    which serves the metrics on every path; AWS's guide reads ``http://<pod>:8000``)."""
    return {
        "apiVersion": API_VERSION,
        "kind": "PodMonitor",
        "metadata": {"name": NEURON_MONITOR, "namespace": MONITORING_NAMESPACE, "labels": dict(MANAGED)},
        "spec": {
            "namespaceSelector": {"matchNames": [NEURON_MONITOR_NAMESPACE]},
            "selector": {"matchLabels": dict(NEURON_MONITOR_POD_LABELS)},
            "podMetricsEndpoints": [{"port": NEURON_MONITOR_PORT_NAME, "path": "/metrics", "interval": SCRAPE_INTERVAL}],
        },
    }


def gateway_pod_monitor() -> dict[str, Any]:
    """PodMonitor of the Istio Gateway API gateway pods in every namespace (Envoy's Prometheus stats)."""
    return {
        "apiVersion": API_VERSION,
        "kind": "PodMonitor",
        "metadata": {"name": "gateway", "namespace": MONITORING_NAMESPACE, "labels": dict(MANAGED)},
        "spec": {
            "namespaceSelector": {"any": True},
            "selector": {"matchExpressions": [{"key": GATEWAY_POD_LABEL, "operator": "Exists"}]},
            "podMetricsEndpoints": [{"port": ENVOY_METRICS_PORT, "path": "/stats/prometheus", "interval": SCRAPE_INTERVAL}],
        },
    }


def deep_merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra`` merged in, recursively for nested mappings (lists and scalars replaced)."""
    out = copy.deepcopy(dict(base))
    for k, v in extra.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), Mapping) else copy.deepcopy(v)
    return out


def kube_prometheus_stack_values(environment: Environment, prometheus: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Values of kube-prometheus-stack: selects every ServiceMonitor, PodMonitor and PrometheusRule in the cluster;
    Grafana reads dashboards from labelled ConfigMaps in the monitoring namespace only; no node exporter (host
    namespaces are not allowed under the namespace's baseline Pod Security) and no scrape of the managed control
    plane. ``prometheus`` (the platform's :class:`MetricsOutputs` values) is merged into the ``prometheus`` key."""
    prod = environment is Environment.PROD
    values: dict[str, Any] = {
        "fullnameOverride": RELEASE_FULLNAME,
        "crds": {"enabled": True},
        "nodeExporter": {"enabled": False},
        "kubeControllerManager": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeEtcd": {"enabled": False},
        "kubeProxy": {"enabled": False},
        "grafana": {
            "enabled": True,
            "ingress": {"enabled": False},
            "service": {"type": "ClusterIP"},
            "sidecar": {
                "dashboards": {
                    "enabled": True,
                    "label": DASHBOARD_LABEL[0],
                    "labelValue": DASHBOARD_LABEL[1],
                    "searchNamespace": MONITORING_NAMESPACE,
                }
            },
        },
        "prometheus": {
            "serviceAccount": {"create": True, "name": PROMETHEUS_SERVICE_ACCOUNT},
            "service": {"type": "ClusterIP"},
            "prometheusSpec": {
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "podMonitorSelectorNilUsesHelmValues": False,
                "ruleSelectorNilUsesHelmValues": False,
                "serviceMonitorSelector": {},
                "podMonitorSelector": {},
                "ruleSelector": {},
                "serviceMonitorNamespaceSelector": {},
                "podMonitorNamespaceSelector": {},
                "ruleNamespaceSelector": {},
                # The managed store keeps the history; the local TSDB serves KEDA, rules and recent dashboards.
                "retention": "7d" if prod else "2d",
                "replicas": 2 if prod else 1,
                "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}, "limits": {"memory": "4Gi"}},
            },
        },
    }
    return deep_merge(values, {"prometheus": prometheus}) if prometheus else values


def keda_values() -> dict[str, Any]:
    """Values of the KEDA chart: its metrics API server on :data:`KEDA_METRICS_SERVER_PORT`."""
    return {"service": {"portHttpsTarget": KEDA_METRICS_SERVER_PORT}}


def _namespace(name: str, ns: str, opts: pulumi.ResourceOptions) -> k8s.core.v1.Namespace:
    return k8s.core.v1.Namespace(name, metadata=k8s.meta.v1.ObjectMetaArgs(name=ns, labels={**MANAGED, **POD_SECURITY_LABELS}), opts=opts)


class MonitoringStack(pulumi.ComponentResource):
    """The cluster's metrics stack: kube-prometheus-stack and KEDA from pinned charts, and the platform's monitors.

    Provisions the ``monitoring`` and ``keda`` namespaces (baseline Pod Security, restricted warnings), a
    kube-prometheus-stack release (:func:`kube_prometheus_stack_values`, merged with the platform's long-term store
    values), a KEDA release (:func:`keda_values`), the DCGM exporter's ServiceMonitor when the platform has NVIDIA
    pools on AWS, the neuron-monitor PodMonitor when it has Neuron pools on AWS, and the gateway PodMonitor on AWS.

    Args:
        name (str): component name; children are ``<name>-ns``, ``<name>-keda-ns``, ``<name>-prometheus``,
            ``<name>-keda``, ``<name>-dcgm``, ``<name>-neuron-monitor``, ``<name>-gateway``.
        environment (Environment): prod runs two Prometheus replicas and keeps 7 days locally (else one, 2 days).
        platform (PlatformOutputs): provider, ``ready`` resources, ``pools`` (NVIDIA or not) and ``metrics``.
        opts (pulumi.ResourceOptions | None, default None): options of the component.

    Outputs:
        ready (list[pulumi.Resource]): what monitors and ScaledObjects wait for (the two releases and their CRDs).
        prometheus, keda, monitors: the children. Registered outputs: ``prometheusAddress``, ``store``.

    Secure choices:
        - Prometheus, Grafana and KEDA are ClusterIP only; no ingress;
        - Grafana's admin password is generated in the cluster (never in the stack state); dashboards only from the
          monitoring namespace;
        - long-term writes through the workload identity of one service account (no static credential).
    """

    def __init__(
        self, name: str, environment: Environment, platform: PlatformOutputs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("inferstack:serving:MonitoringStack", name, None, opts)
        provider = platform.k8s_provider

        def after(*deps: pulumi.Resource) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[*platform.ready, *deps])

        self.namespace = _namespace(f"{name}-ns", MONITORING_NAMESPACE, after())
        self.keda_namespace = _namespace(f"{name}-keda-ns", KEDA_NAMESPACE, after())
        store = platform.metrics
        values: Any = (
            store.prometheus_values.apply(lambda p: kube_prometheus_stack_values(environment, p))
            if store is not None
            else kube_prometheus_stack_values(environment)
        )
        # An existing cluster that has an add-on (``present``) gets no release of it; its objects are declared alike.
        self.prometheus = addon_release(platform, f"{name}-prometheus", "kube-prometheus-stack", values, after(self.namespace), timeout=900)
        self.keda = addon_release(platform, f"{name}-keda", "keda", keda_values(), after(self.keda_namespace), timeout=600)
        self.ready: list[pulumi.Resource] = [r for r in (self.prometheus, self.keda) if r is not None]
        objs: dict[str, dict[str, Any]] = {}
        nvidia, neuron = DEVICE_RESOURCE[Family.NVIDIA], DEVICE_RESOURCE[Family.NEURON]
        if platform.cloud is Cloud.AWS:
            if any(p.device_resource == nvidia for p in platform.pools.values()):
                objs["dcgm"] = dcgm_service_monitor()
            if any(p.device_resource == neuron for p in platform.pools.values()):
                objs["neuron-monitor"] = neuron_monitor_pod_monitor()
            objs["gateway"] = gateway_pod_monitor()
        self.monitors = {k: custom_resource(f"{name}-{k}", obj, after(*([self.prometheus] if self.prometheus else []))) for k, obj in objs.items()}
        self.register_outputs({"prometheusAddress": PROMETHEUS_ADDRESS, "store": store.store if store else "in-cluster"})


class ModelObservability(pulumi.ComponentResource):
    """Per model: its PodMonitor, its KEDA ScaledObjects (when KEDA scales it; one per version for LLMs) and its
    Grafana dashboard ConfigMap.

    Args:
        name (str): component name; children are ``<name>-podmonitor``, ``<name>-scaledobject`` (LLMs:
            ``<name>-scaledobject-<model>-v<version>``), ``<name>-dashboard``.
        model (ModelConfig): the ``inferstack:models`` entry.
        environment (Environment): scale to zero only in dev.
        provider (k8s.Provider): provider of the cluster.
        depends_on (list[pulumi.Resource] | None, default None): the monitoring stack's ``ready`` and the model.
        opts (pulumi.ResourceOptions | None, default None): options of the component.

    Outputs:
        pod_monitor, scaled_objects (list), dashboard. Registered outputs: ``scaler`` (``keda`` or the native one).
    """

    def __init__(
        self,
        name: str,
        model: ModelConfig,
        environment: Environment,
        provider: k8s.Provider,
        depends_on: list[pulumi.Resource] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("inferstack:serving:ModelObservability", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=depends_on or [])
        self.pod_monitor = custom_resource(f"{name}-podmonitor", model_pod_monitor(model), child)
        objs = scaled_objects(model, environment) if uses_keda(model) else []
        # One per LLM version (``<model>-v<version>``), else one (child ``<name>-scaledobject``).
        self.scaled_objects = [
            custom_resource(f"{name}-scaledobject" if o["metadata"]["name"] == model.name else f"{name}-scaledobject-{o['metadata']['name']}", o, child)
            for o in objs
        ]
        cm = dashboard_config_map(model)
        self.dashboard = k8s.core.v1.ConfigMap(
            f"{name}-dashboard",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=cm["metadata"]["name"], namespace=cm["metadata"]["namespace"], labels=cm["metadata"]["labels"]),
            data=cm["data"],
            opts=child,
        )
        self.register_outputs({"scaler": "keda" if self.scaled_objects else "native"})

