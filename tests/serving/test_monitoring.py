"""The metrics stack and its monitors: chart values, per-model PodMonitors, platform monitors, what the stacks declare."""

from __future__ import annotations

import pytest

from inferstack.catalog.ports import MODEL_SERVER_PORT, WEBHOOK_PORTS
from inferstack.catalog.versions import CHARTS
from inferstack.components.platform import MONITORING_NAMESPACE, PROMETHEUS_SERVICE_ACCOUNT
from inferstack.config import Environment
from inferstack.config.serving import ModelConfig
from inferstack.serving import metrics
from inferstack.serving.monitoring import (
    KEDA_METRICS_SERVER_PORT,
    dcgm_service_monitor,
    deep_merge,
    gateway_pod_monitor,
    keda_values,
    kube_prometheus_stack_values,
    model_pod_monitor,
    model_relabelings,
)
from tests.conftest import recording, stack_config

LLM = {"shape": {"parametersB": 8, "layers": 32, "kvHeads": 8}}
RELEASE = "kubernetes:helm.sh/v3:Release"


def model(**extra) -> ModelConfig:
    base = {"name": "chat", "namespace": "team-nlp", "format": "huggingface", "registryModel": "llama", "version": "3"}
    base.update(extra)
    return ModelConfig.model_validate(base)


def test_relabelings_turn_pod_labels_into_model_and_version() -> None:
    rl = {r["targetLabel"]: r["sourceLabels"] for r in model_relabelings()}
    assert rl == {
        metrics.MODEL: ["__meta_kubernetes_pod_label_inferstack_io_model"],
        metrics.VERSION: ["__meta_kubernetes_pod_label_inferstack_io_version"],
    }


@pytest.mark.parametrize(
    ("extra", "port"),
    [
        ({"llm": LLM, "scaleMetric": "kv-cache", "scaleTarget": 80}, ("portNumber", 8000)),
        ({"llm": {**LLM, "prefillDecode": {}}, "scaleMetric": "kv-cache", "scaleTarget": 80}, ("portNumber", 8001)),
        ({"deploymentMode": "standard"}, ("portNumber", MODEL_SERVER_PORT)),
        ({}, ("port", "http-usermetric")),
    ],
)
def test_pod_monitor_per_track(extra: dict, port: tuple[str, object]) -> None:
    pm = model_pod_monitor(model(**extra))
    assert (pm["kind"], pm["metadata"]["namespace"], pm["metadata"]["name"]) == ("PodMonitor", "team-nlp", "chat")
    assert pm["spec"]["selector"] == {"matchLabels": {metrics.POD_MODEL_LABEL: "chat"}}
    [ep] = pm["spec"]["podMetricsEndpoints"]
    assert ep[port[0]] == port[1]
    assert ep["relabelings"] == model_relabelings()


def test_platform_monitors() -> None:
    dcgm = dcgm_service_monitor()
    assert dcgm["spec"]["namespaceSelector"] == {"matchNames": [CHARTS["dcgm-exporter"].namespace]}
    assert dcgm["spec"]["endpoints"][0]["honorLabels"] is True
    gw = gateway_pod_monitor()
    assert gw["spec"]["namespaceSelector"] == {"any": True}
    assert gw["spec"]["podMetricsEndpoints"][0]["path"] == "/stats/prometheus"


def test_prometheus_selects_every_monitor_and_rule_and_merges_the_store() -> None:
    store = {"serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/x"}},
             "prometheusSpec": {"remoteWrite": [{"url": "https://w"}]}}
    v = kube_prometheus_stack_values(Environment.PROD, store)
    spec = v["prometheus"]["prometheusSpec"]
    for kind in ("serviceMonitor", "podMonitor", "rule"):
        assert spec[f"{kind}SelectorNilUsesHelmValues"] is False
        assert spec[f"{kind}Selector"] == {} and spec[f"{kind}NamespaceSelector"] == {}
    assert spec["remoteWrite"] == [{"url": "https://w"}]
    assert spec["replicas"] == 2 and kube_prometheus_stack_values(Environment.DEV)["prometheus"]["prometheusSpec"]["replicas"] == 1
    sa = v["prometheus"]["serviceAccount"]
    assert sa["name"] == PROMETHEUS_SERVICE_ACCOUNT and sa["annotations"]["eks.amazonaws.com/role-arn"].endswith("role/x")
    assert v["nodeExporter"] == {"enabled": False}  # host namespaces: not under baseline Pod Security
    assert "adminPassword" not in v["grafana"]  # generated in the cluster, never in state
    assert v["grafana"]["sidecar"]["dashboards"]["searchNamespace"] == MONITORING_NAMESPACE


def test_deep_merge_keeps_siblings() -> None:
    assert deep_merge({"a": {"b": 1, "c": 2}, "l": [1]}, {"a": {"c": 3}, "l": [2]}) == {"a": {"b": 1, "c": 3}, "l": [2]}


def test_keda_metrics_server_on_a_port_private_gke_opens() -> None:
    assert keda_values()["service"]["portHttpsTarget"] == KEDA_METRICS_SERVER_PORT
    assert KEDA_METRICS_SERVER_PORT in WEBHOOK_PORTS


def _releases(stack: str) -> dict[str, dict]:
    return {r.inputs["name"]: r.inputs for r in recording(stack).by_type(RELEASE)}


@pytest.mark.parametrize("stack", ["prod", "gcp-prod"])
def test_stacks_install_pinned_charts_and_a_pod_monitor_per_model(stack: str) -> None:
    rel = _releases(stack)
    for key in ("kube-prometheus-stack", "keda"):
        assert rel[key]["version"] == CHARTS[key].version and rel[key]["namespace"] == CHARTS[key].namespace
    namespaces = {r.inputs["metadata"]["name"]: r.inputs["metadata"]["labels"] for r in recording(stack).by_type("kubernetes:core/v1:Namespace")}
    assert namespaces[MONITORING_NAMESPACE]["pod-security.kubernetes.io/enforce"] == "baseline"
    monitors = recording(stack).by_type("kubernetes:monitoring.coreos.com/v1:PodMonitor")
    per_model = {(m.inputs["metadata"]["namespace"], m.inputs["metadata"]["name"]) for m in monitors if m.inputs["metadata"]["namespace"] != MONITORING_NAMESPACE}
    assert per_model == {(m.namespace, m.name) for m in stack_config(stack).settings.models}


def test_aws_prometheus_remote_writes_to_amp_with_sigv4() -> None:
    values = _releases("prod")["kube-prometheus-stack"]["values"]["prometheus"]
    [rw] = values["prometheusSpec"]["remoteWrite"]
    assert rw["url"].startswith("https://aps-workspaces.eu-central-1.amazonaws.com/workspaces/") and rw["url"].endswith("/api/v1/remote_write")
    assert rw["sigv4"] == {"region": "eu-central-1"}
    assert values["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")
    names = {r.inputs["metadata"]["name"] for r in recording("prod").by_type("kubernetes:monitoring.coreos.com/v1:ServiceMonitor")}
    assert "dcgm-exporter" in names  # prod has NVIDIA pools


def test_neuron_stacks_declare_aws_neuron_monitor_and_scrape_it() -> None:
    """A stack with Neuron pools (prod: inf2) declares AWS's neuron-monitor DaemonSet as AWS's manifest has it
    (aws-neuron-sdk src/k8/k8s-neuron-monitor-daemonset.yml: image, command, args, port 8000, resources, GOMEMLIMIT,
    privileged), in kube-system on the Neuron nodes only, with its own ServiceAccount and no API token; the
    monitoring stack's PodMonitor selects its pods and names its port. A stack without Neuron pools has neither."""
    from inferstack.catalog.accelerators import ACCELERATOR_LABEL, TAINT_KEY, Family
    from inferstack.catalog.versions import NEURON_MONITOR_IMAGE

    rec = recording("prod")
    [ds] = [r for r in rec.by_type("kubernetes:apps/v1:DaemonSet") if r.inputs["metadata"]["name"] == "neuron-monitor"]
    assert ds.inputs["metadata"]["namespace"] == "kube-system"
    pod = ds.inputs["spec"]["template"]["spec"]
    [c] = pod["containers"]
    assert c["image"] == NEURON_MONITOR_IMAGE
    assert c["command"] == ["/opt/bin/entrypoint.sh"]
    assert c["args"] == ["--port", "8000", "--neuron-monitor-config", "/opt/aws/neuron/bin/neuron-monitor.conf"]
    assert c["ports"] == [{"name": "metrics", "containerPort": 8000, "protocol": "TCP"}]
    assert c["resources"] == {"requests": {"cpu": "256m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}
    assert c["env"] == [{"name": "GOMEMLIMIT", "value": "160MiB"}]
    assert c["securityContext"] == {"privileged": True}
    [term] = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert term["matchExpressions"] == [{"key": ACCELERATOR_LABEL, "operator": "In", "values": ["aws-inferentia2"]}]
    assert pod["tolerations"] == [{"key": TAINT_KEY[Family.NEURON], "operator": "Exists", "effect": "NoSchedule"}]
    assert pod["automountServiceAccountToken"] is False
    [sa] = [r for r in rec.by_type("kubernetes:core/v1:ServiceAccount")
            if r.inputs["metadata"] == {**r.inputs["metadata"], "name": pod["serviceAccountName"], "namespace": "kube-system"}]
    assert sa.inputs["automountServiceAccountToken"] is False
    [pm] = [m for m in rec.by_type("kubernetes:monitoring.coreos.com/v1:PodMonitor") if m.inputs["metadata"]["name"] == "neuron-monitor"]
    assert pm.inputs["metadata"]["namespace"] == MONITORING_NAMESPACE
    assert pm.inputs["spec"]["namespaceSelector"] == {"matchNames": ["kube-system"]}
    labels = ds.inputs["spec"]["template"]["metadata"]["labels"]
    assert pm.inputs["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert [e["port"] for e in pm.inputs["spec"]["podMetricsEndpoints"]] == ["metrics"]
    # dev has no Neuron pool: no agent, no monitor.
    dev = recording("dev")
    assert not [r for r in dev.by_type("kubernetes:apps/v1:DaemonSet") if r.inputs["metadata"]["name"] == "neuron-monitor"]
    assert not [m for m in dev.by_type("kubernetes:monitoring.coreos.com/v1:PodMonitor") if m.inputs["metadata"]["name"] == "neuron-monitor"]


def test_gcp_prometheus_is_gmp_drop_in_with_workload_identity() -> None:
    values = _releases("gcp-prod")["kube-prometheus-stack"]["values"]["prometheus"]
    assert values["prometheusSpec"]["image"]["registry"] == "gke.gcr.io"
    assert "remoteWrite" not in values["prometheusSpec"]
    assert values["serviceAccount"]["annotations"]["iam.gke.io/gcp-service-account"].endswith(".iam.gserviceaccount.com")
    # GKE: managed DCGM and the Google-hosted gateway report to Cloud Monitoring, not to the in-cluster Prometheus.
    names = {r.inputs["metadata"]["name"] for r in recording("gcp-prod").by_type("kubernetes:monitoring.coreos.com/v1:ServiceMonitor")}
    assert "dcgm-exporter" not in names


@pytest.mark.parametrize("stack", ["prod", "gcp-prod"])
def test_knative_queue_proxy_exports_prometheus_request_metrics(stack: str) -> None:
    (ks,) = recording(stack).by_type("kubernetes:operator.knative.dev/v1beta1:KnativeServing")
    assert ks.inputs["spec"]["config"]["observability"] == {"request-metrics-protocol": "prometheus"}
