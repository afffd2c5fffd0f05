"""Each AI Conformance evaluator on small recordings: the status follows the objects declared, both ways."""

from __future__ import annotations

from typing import Any

from inferstack.catalog.clouds import Cloud
from inferstack.catalog.drivers import driver_labels
from inferstack.conformance import requirements as req
from inferstack.engine import Recording, ResourceRecord


def res(type_token: str, name: str, inputs: dict[str, Any]) -> ResourceRecord:
    return ResourceRecord(urn=f"urn:pulumi:t::p::{type_token}::{name}", type=type_token, name=name, custom=True,
                          parent=None, provider=None, protect=False, retain_on_delete=False, dependencies=[],
                          property_dependencies={}, inputs=inputs)


def karpenter_pool(pool: str, kind: str, taint: str = "nvidia.com/gpu", labels: dict[str, str] | None = None) -> ResourceRecord:
    base = {"inferstack.io/pool": pool, "inferstack.io/accelerator": kind, **(labels or {})}
    return res("kubernetes:karpenter.sh/v1:NodePool", pool, {
        "spec": {"template": {"metadata": {"labels": base},
                              "spec": {"taints": [{"key": taint, "value": "true", "effect": "NoSchedule"}]}}}})


def release(chart: str, values: dict[str, Any] | None = None) -> ResourceRecord:
    return res("kubernetes:helm.sh/v3:Release", chart, {"chart": f"oci://example/charts/{chart}", "version": "1",
                                                       "values": values or {}})


def flavor(pool: str) -> ResourceRecord:
    return res("kubernetes:kueue.x-k8s.io/v1beta2:ResourceFlavor", f"rf-{pool}",
               {"metadata": {"name": f"inferstack-{pool}"}, "spec": {"nodeLabels": {"inferstack.io/pool": pool}}})


def cluster_queue(pool: str, resource: str, quota: float) -> ResourceRecord:
    return res("kubernetes:kueue.x-k8s.io/v1beta2:ClusterQueue", f"cq-{pool}", {
        "metadata": {"name": f"pool-{pool}"},
        "spec": {"resourceGroups": [{"coveredResources": ["cpu", resource], "flavors": [
            {"name": f"inferstack-{pool}", "resources": [{"name": "cpu", "nominalQuota": "8"},
                                                         {"name": resource, "nominalQuota": quota}]}]}]}})


def rec(*resources: ResourceRecord) -> Recording:
    return Recording(stack="t", resources=list(resources))


AWS = res("aws:eks/cluster:Cluster", "c", {})


def test_gang_scheduling_needs_a_quota_on_every_accelerator_pool() -> None:
    pools = [karpenter_pool("gpu", "nvidia-l4"), karpenter_pool("inf2", "aws-inferentia2", "aws.amazon.com/neuron")]
    queues = [release("kueue"), flavor("gpu"), flavor("inf2"), cluster_queue("gpu", "nvidia.com/gpu", 4.0)]
    partial = req.gang_scheduling(rec(*pools, *queues))
    assert partial.status == req.PARTIAL and "inf2" in partial.notes and "gpu" not in partial.notes.split(":")[1]
    # A queue covering the pool's devices with quota 0 covers it, and the notes say no gang is admitted there.
    zero = req.gang_scheduling(rec(*pools, *queues, cluster_queue("inf2", "aws.amazon.com/neuron", 0.0)))
    assert zero.status == req.IMPLEMENTED and "no device quota in any queue: inf2" in zero.notes
    full = req.gang_scheduling(rec(*pools, *queues, cluster_queue("inf2", "aws.amazon.com/neuron", 2.0)))
    assert full.status == req.IMPLEMENTED and any("pool-inf2" in e for e in full.evidence)
    # A DRA pool's devices are quota'd under the resource name Kueue's deviceClassMappings give its DeviceClass.
    dra = req.gang_scheduling(rec(*pools, *queues, cluster_queue("inf2", "dra.example/neuron", 2.0)))
    assert dra.status == req.IMPLEMENTED
    no_kueue = req.gang_scheduling(rec(*pools, *queues[1:], cluster_queue("inf2", "aws.amazon.com/neuron", 2.0)))
    assert no_kueue.status == req.NOT_IMPLEMENTED


def _model(claim: str | None) -> ResourceRecord:
    pod: dict[str, Any] = {"containers": [{"name": "main"}]}
    if claim:
        pod["resourceClaims"] = [{"name": "gpu", "resourceClaimTemplateName": claim}]
    return res("kubernetes:serving.kserve.io/v1beta1:InferenceService", "m",
               {"metadata": {"name": "m", "namespace": "team"}, "spec": {"predictor": pod}})


def test_dra_support_needs_a_device_class_and_a_claim_template_a_model_uses() -> None:
    dc = res("kubernetes:resource.k8s.io/v1:DeviceClass", "dc", {"metadata": {"name": "gpu-l4"}, "spec": {}})
    tmpl = res("kubernetes:resource.k8s.io/v1:ResourceClaimTemplate", "t",
               {"metadata": {"name": "m-gpu", "namespace": "team"}, "spec": {}})
    assert req.dra_support(rec(dc, tmpl, _model("m-gpu"))).status == req.IMPLEMENTED
    assert req.dra_support(rec(dc, tmpl, _model(None))).status == req.PARTIAL
    assert req.dra_support(rec(dc, tmpl, _model("other"))).status == req.PARTIAL
    none = req.dra_support(rec(_model(None)))
    assert none.status == req.NOT_IMPLEMENTED and "allocation" in none.notes


def test_driver_runtime_management_reads_the_catalogue_labels() -> None:
    good = karpenter_pool("gpu", "nvidia-l4", labels=driver_labels(Cloud.AWS, "nvidia-l4"))
    stale = karpenter_pool("gpu2", "nvidia-l40s", labels={**driver_labels(Cloud.AWS, "nvidia-l40s"),
                                                           "inferstack.io/driver": "nvidia-535"})
    assert req.driver_runtime_management(rec(AWS, good)).status == req.IMPLEMENTED
    mixed = req.driver_runtime_management(rec(AWS, good, stale))
    assert mixed.status == req.PARTIAL and "gpu2" in mixed.notes
    bare = req.driver_runtime_management(rec(AWS, karpenter_pool("gpu", "nvidia-l4")))
    assert bare.status == req.NOT_IMPLEMENTED
    assert req.driver_runtime_management(rec(AWS)).status == req.NA


def test_secure_accelerator_access_taints_plugins_and_no_host_devices() -> None:
    pool = karpenter_pool("gpu", "nvidia-l4")
    plugin = release("nvidia-device-plugin")
    assert req.secure_accelerator_access(rec(AWS, pool, plugin)).status == req.IMPLEMENTED
    assert req.secure_accelerator_access(rec(AWS, pool)).status == req.NOT_IMPLEMENTED  # no device plugin
    untainted = karpenter_pool("gpu", "nvidia-l4", taint="other")
    assert req.secure_accelerator_access(rec(AWS, untainted, plugin)).status == req.NOT_IMPLEMENTED
    rogue = res("kubernetes:apps/v1:DaemonSet", "probe", {"spec": {"template": {"spec": {
        "volumes": [{"name": "dev", "hostPath": {"path": "/dev/nvidia0"}}], "containers": [{"name": "c"}]}}}})
    bad = req.secure_accelerator_access(rec(AWS, pool, plugin, rogue))
    assert bad.status == req.PARTIAL and "/dev/nvidia0" in bad.notes


def test_secure_accelerator_access_allows_only_pinned_node_agents_privileged() -> None:
    """A privileged DaemonSet counts as device access outside the plugin unless it is a pinned platform node agent:
    in kube-system, every container exactly a NODE_AGENT_IMAGES image (as the policy pack judges it)."""
    from inferstack.catalog.versions import NEURON_MONITOR_IMAGE

    pool = karpenter_pool("inf2", "aws-inferentia2", "aws.amazon.com/neuron")
    plugin = release("neuron-helm-chart", {"devicePlugin": {}})

    def agent(namespace: str = "kube-system", image: str = NEURON_MONITOR_IMAGE, extra: list | None = None) -> ResourceRecord:
        containers = [{"name": "neuron-monitor", "image": image, "securityContext": {"privileged": True}}, *(extra or [])]
        return res("kubernetes:apps/v1:DaemonSet", f"nm-{namespace}", {
            "metadata": {"name": "neuron-monitor", "namespace": namespace},
            "spec": {"template": {"spec": {"containers": containers}}}})

    ok = req.secure_accelerator_access(rec(AWS, pool, plugin, agent()))
    assert ok.status == req.IMPLEMENTED, ok.notes
    assert any("pinned platform node agents" in e for e in ok.evidence)
    for bad in (agent("neuron-monitor"), agent(image=NEURON_MONITOR_IMAGE.rsplit(":", 1)[0] + ":latest"),
                agent(extra=[{"name": "sidecar", "image": "busybox:1.36"}])):
        got = req.secure_accelerator_access(rec(AWS, pool, plugin, bad))
        assert got.status == req.PARTIAL and "privileged container" in got.notes, bad.inputs
    # The exemption is from privileged only: a hostPath under /dev is reported on the pinned agent too.
    mounts = agent()
    mounts.inputs["spec"]["template"]["spec"]["volumes"] = [{"name": "dev", "hostPath": {"path": "/dev"}}]
    assert req.secure_accelerator_access(rec(AWS, pool, plugin, mounts)).status == req.PARTIAL


def test_accelerator_metrics_per_family() -> None:
    gpu, inf2 = karpenter_pool("gpu", "nvidia-l4"), karpenter_pool("inf2", "aws-inferentia2", "aws.amazon.com/neuron")
    dcgm = [release("dcgm-exporter"), res("kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "sm",
                                          {"spec": {"selector": {"matchLabels": {"app": "dcgm-exporter"}}}})]
    assert req.accelerator_metrics(rec(AWS, gpu, *dcgm)).status == req.IMPLEMENTED
    mixed = req.accelerator_metrics(rec(AWS, gpu, inf2, *dcgm))
    assert mixed.status == req.PARTIAL and "neuron" in mixed.notes
    assert req.accelerator_metrics(rec(AWS, gpu)).status == req.NOT_IMPLEMENTED


def neuron_monitor(image: str = "public.ecr.aws/neuron/neuron-monitor:1.3.0") -> ResourceRecord:
    """AWS's neuron-monitor DaemonSet (aws-neuron-sdk src/k8/k8s-neuron-monitor-daemonset.yml), as declared."""
    return res("kubernetes:apps/v1:DaemonSet", "neuron-monitor", {
        "metadata": {"name": "neuron-monitor", "namespace": "neuron-monitor"},
        "spec": {"selector": {"matchLabels": {"app": "neuron-monitor"}}, "template": {
            "metadata": {"labels": {"app": "neuron-monitor", "version": "v1"}},
            "spec": {"containers": [{"name": "neuron-monitor", "image": image, "ports": [{"containerPort": 8000}]}]}}}})


def pod_monitor(namespace: str, selector: dict[str, str], names: list[str] | None = None) -> ResourceRecord:
    spec: dict[str, Any] = {"selector": {"matchLabels": selector}, "podMetricsEndpoints": [{"port": "metrics"}]}
    if names is not None:
        spec["namespaceSelector"] = {"matchNames": names}
    return res("kubernetes:monitoring.coreos.com/v1:PodMonitor", f"pm-{namespace}",
               {"metadata": {"name": "neuron-monitor", "namespace": namespace}, "spec": spec})


def test_accelerator_metrics_neuron_needs_neuron_monitor_scraped() -> None:
    inf2 = karpenter_pool("inf2", "aws-inferentia2", "aws.amazon.com/neuron")
    # The Neuron chart's device plugin exports no metrics, whatever its values mention (npd's kernel-monitor).
    chart = release("neuron-helm-chart", {"devicePlugin": {}, "npd": {"config": {"name": "kernel-monitor"}}})
    assert req.accelerator_metrics(rec(AWS, inf2, chart)).status == req.NOT_IMPLEMENTED
    # The exporter alone is not collected; a PodMonitor that selects its pods makes it so.
    assert req.accelerator_metrics(rec(AWS, inf2, chart, neuron_monitor())).status == req.NOT_IMPLEMENTED
    scraped = req.accelerator_metrics(rec(AWS, inf2, neuron_monitor(), pod_monitor("neuron-monitor", {"app": "neuron-monitor"})))
    assert scraped.status == req.IMPLEMENTED
    assert any("neuron-monitor:1.3.0" in e and "PodMonitor neuron-monitor/neuron-monitor" in e for e in scraped.evidence)
    # From the monitoring namespace it must name the exporter's namespace; a selector of other pods scrapes nothing.
    elsewhere = pod_monitor("monitoring", {"app": "neuron-monitor"})
    assert req.accelerator_metrics(rec(AWS, inf2, neuron_monitor(), elsewhere)).status == req.NOT_IMPLEMENTED
    named = pod_monitor("monitoring", {"app": "neuron-monitor"}, names=["neuron-monitor"])
    assert req.accelerator_metrics(rec(AWS, inf2, neuron_monitor(), named)).status == req.IMPLEMENTED
    wrong = pod_monitor("neuron-monitor", {"app": "dcgm-exporter"})
    assert req.accelerator_metrics(rec(AWS, inf2, neuron_monitor(), wrong)).status == req.NOT_IMPLEMENTED
    # Another image is not neuron-monitor.
    other = neuron_monitor("example.com/neuron/neuron-monitor-lookalike:1")
    assert req.accelerator_metrics(rec(AWS, inf2, other, pod_monitor("neuron-monitor", {"app": "neuron-monitor"}))).status \
        == req.NOT_IMPLEMENTED
    # A ServiceMonitor through a Service that selects the pods counts too.
    svc = res("kubernetes:core/v1:Service", "svc", {"metadata": {"name": "neuron-monitor", "namespace": "neuron-monitor",
                                                                 "labels": {"app": "neuron-monitor"}},
                                                    "spec": {"selector": {"app": "neuron-monitor"}, "ports": [{"port": 8000}]}})
    sm = res("kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "sm", {
        "metadata": {"name": "neuron-monitor", "namespace": "monitoring"},
        "spec": {"namespaceSelector": {"matchNames": ["neuron-monitor"]}, "selector": {"matchLabels": {"app": "neuron-monitor"}},
                 "endpoints": [{"targetPort": 8000}]}})
    assert req.accelerator_metrics(rec(AWS, inf2, neuron_monitor(), svc, sm)).status == req.IMPLEMENTED
    assert req.accelerator_metrics(rec(AWS, inf2, neuron_monitor(), sm)).status == req.NOT_IMPLEMENTED  # no Service


def test_gpu_sharing_and_cluster_autoscaling_on_gke() -> None:
    def gke_pool(name: str, accel: dict[str, Any], auto: dict[str, Any]) -> ResourceRecord:
        return res("gcp:container/nodePool:NodePool", name, {
            "autoscaling": auto,
            "nodeConfig": {"labels": {"inferstack.io/pool": "gpu", "inferstack.io/accelerator": "nvidia-l4"},
                           "guestAccelerators": [{"type": "nvidia-l4", "count": 1, **accel}]}})

    gcp = res("gcp:container/cluster:Cluster", "c", {})
    shared = gke_pool("a", {"gpuSharingConfig": {"gpuSharingStrategy": "TIME_SHARING", "maxSharedClientsPerGpu": 4}},
                      {"totalMinNodeCount": 0, "totalMaxNodeCount": 3})
    whole = gke_pool("b", {}, {"totalMinNodeCount": 2, "totalMaxNodeCount": 2})
    assert req.gpu_sharing(rec(gcp, shared)).status == req.IMPLEMENTED
    assert req.gpu_sharing(rec(gcp, whole)).status == req.NOT_IMPLEMENTED
    assert req.gpu_sharing(rec(gcp)).status == req.NA
    assert req.cluster_autoscaling(rec(gcp, shared)).status == req.IMPLEMENTED
    fixed = req.cluster_autoscaling(rec(gcp, whole))
    assert fixed.status == req.NOT_IMPLEMENTED and "gpu" in fixed.notes


def test_disaggregated_inference_needs_a_prefill_section() -> None:
    def llm(spec: dict[str, Any]) -> ResourceRecord:
        return res("kubernetes:serving.kserve.io/v1alpha2:LLMInferenceService", "l", {"metadata": {"name": "l"}, "spec": spec})

    assert req.disaggregated_inference(rec(llm({"prefill": {"replicas": 1}}))).status == req.IMPLEMENTED
    assert req.disaggregated_inference(rec(llm({}))).status == req.NOT_IMPLEMENTED
