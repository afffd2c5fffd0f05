"""One evaluator per AI Conformance requirement: its status computed from the stack's offline recording, with the
objects and settings that provide it as evidence (never a hard-coded status).

Each evaluator takes the :class:`Recording` and returns a :class:`Result`. The rules, row by row, are in
docs/conformance.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from inferstack.catalog.accelerators import POOL_LABEL, TAINT_KEY, Family
from inferstack.catalog.clouds import Cloud
from inferstack.catalog.drivers import DRIVER_LABELS, expectation
from inferstack.catalog.versions import NEURON_MONITOR_IMAGE as _PINNED_NEURON_MONITOR
from inferstack.catalog.versions import NODE_AGENT_IMAGES
from inferstack.conformance.evidence import (
    GKE_CLUSTER,
    GKE_NODEPOOL,
    KARPENTER_NODEPOOL,
    Pool,
    accelerator_pools,
    cloud_of,
    describe,
    mentions,
    meta,
    node_labels,
    node_taints,
    objects,
    releases,
    walk,
)
from inferstack.engine import Recording, ResourceRecord

IMPLEMENTED, PARTIAL, NOT_IMPLEMENTED, NA = "Implemented", "Partially Implemented", "Not Implemented", "N/A"

#: Kinds whose pod specs are models (KServe).
MODEL_KINDS = ("InferenceService", "LLMInferenceService")


@dataclass
class Result:
    """A requirement's computed status, its evidence (objects and settings) and notes (what is missing, or why N/A)."""

    status: str
    evidence: list[str] = field(default_factory=list)
    notes: str = ""


def _coverage(covered: list[str], missing: list[str], evidence: list[str], what: str, fix: str) -> Result:
    """Implemented when nothing is missing, Partially when some is covered, else Not Implemented."""
    if not missing:
        return Result(IMPLEMENTED, evidence)
    status = PARTIAL if covered else NOT_IMPLEMENTED
    return Result(status, evidence, f"{what}: {', '.join(missing)}; {fix}")


def _models(rec: Recording) -> list[ResourceRecord]:
    return [r for k in MODEL_KINDS for r in objects(rec, k, "serving.kserve.io")]


def _gke_cluster(rec: Recording) -> ResourceRecord | None:
    clusters = rec.by_type(GKE_CLUSTER)
    return clusters[0] if clusters else None


# ------------------------------------------------------------------ accelerators


def dra_support(rec: Recording) -> Result:
    classes = objects(rec, "DeviceClass", "resource.k8s.io")
    templates = objects(rec, "ResourceClaimTemplate", "resource.k8s.io")
    drivers = releases(rec, "nvidia-dra-driver-gpu")
    used: list[str] = []
    names = {(meta(t)[0], meta(t)[1]) for t in templates}
    for m in _models(rec):
        ns = meta(m)[0]
        refs = {d["resourceClaimTemplateName"] for d in walk(m.inputs) if isinstance(d.get("resourceClaimTemplateName"), str)}
        if any((ns, ref) in names for ref in refs):
            used.append(describe(m))
    evidence = [describe(r) for r in drivers + classes + templates] + [f"model claiming devices: {u}" for u in used]
    if classes and used:
        return Result(IMPLEMENTED, evidence)
    if classes or templates or drivers:
        return Result(PARTIAL, evidence, "DRA objects are declared but no model requests devices through a "
                      "ResourceClaimTemplate; put a model on a pool with allocation: dra")
    return Result(NOT_IMPLEMENTED, evidence, "no DeviceClass or ResourceClaimTemplate: set inferstack:acceleratorPools[].allocation "
                  "to dra on an NVIDIA pool and serve a model on it")


def driver_runtime_management(rec: Recording) -> Result:
    pools, cloud = accelerator_pools(rec), cloud_of(rec)
    if not pools or cloud is None:
        return Result(NA, notes="the stack declares no accelerator node pools")
    covered, missing, evidence = [], [], []
    for pool in pools:
        exp = expectation(cloud, pool.kind)
        want = exp.labels() if exp is not None else None
        bad = [r for r in pool.resources if want is None or any(node_labels(r).get(k) != want[k] for k in DRIVER_LABELS)]
        if bad or want is None:
            missing.append(pool.name)
            continue
        covered.append(pool.name)
        evidence.append(f"pool {pool.name} ({pool.kind}): node labels "
                        + ", ".join(f"{k}={v}" for k, v in want.items())
                        + f"; installed by {exp.installed_by}"
                        + (f"; runs CUDA up to {exp.cuda}" if exp.cuda else "")
                        + "; " + "; ".join(describe(r) for r in pool.resources))
        for r in pool.resources:
            for acc in (r.inputs.get("nodeConfig") or {}).get("guestAccelerators") or []:
                version = (acc.get("gpuDriverInstallationConfig") or {}).get("gpuDriverVersion")
                if version:
                    evidence.append(f"{r.name}: guestAccelerators gpuDriverInstallationConfig.gpuDriverVersion={version}")
    evidence += [f"{describe(r)}: publishes gpu.nvidia.com driverVersion and cudaDriverVersion device attributes "
                 "(ResourceSlices) on the dra pools" for r in releases(rec, "nvidia-dra-driver-gpu")]
    return _coverage(covered, missing, evidence, "pools whose nodes do not declare the catalogue's driver and runtime",
                     "their node labels must match inferstack.catalog.drivers (policy accelerator-drivers-declared)")


#: Helm values keys of the NVIDIA device plugin that share GPUs (its ``config``: ``sharing.timeSlicing``, MIG).
_SHARING_MARKERS = ("timeSlicing", "migStrategy", "mig.strategy")


def gpu_sharing(rec: Recording) -> Result:
    nvidia = [p for p in accelerator_pools(rec) if p.family is Family.NVIDIA]
    if not nvidia:
        kinds = sorted({p.kind for p in accelerator_pools(rec)})
        return Result(NA, notes="no NVIDIA GPU pool in the stack" + (f" (its accelerators: {', '.join(kinds)})" if kinds
                      else "") + ": none of its accelerators supports static GPU sharing")
    evidence = []
    for pool in nvidia:
        for r in pool.resources:
            for acc in (r.inputs.get("nodeConfig") or {}).get("guestAccelerators") or []:
                cfg, part = acc.get("gpuSharingConfig"), acc.get("gpuPartitionSize")
                if cfg:
                    evidence.append(f"pool {pool.name}: {describe(r)} guestAccelerators.gpuSharingConfig="
                                    f"{cfg.get('gpuSharingStrategy')} x{cfg.get('maxSharedClientsPerGpu')}")
                if part:
                    evidence.append(f"pool {pool.name}: {describe(r)} guestAccelerators.gpuPartitionSize={part} (MIG)")
    for r in releases(rec, "nvidia-device-plugin", "gpu-operator"):
        values = r.inputs.get("values") or {}
        if any(mentions(values, m) for m in _SHARING_MARKERS) and not mentions(values, '"migStrategy": "none"'):
            evidence.append(f"{describe(r)}: GPU sharing configuration in its values")
    for r in objects(rec, "ConfigMap", "core"):
        if any(mentions(r.inputs.get("data") or {}, m) for m in ("timeSlicing", "mig-configs")):
            evidence.append(f"{describe(r)}: GPU sharing configuration")
    if evidence:
        return Result(IMPLEMENTED, evidence)
    return Result(NOT_IMPLEMENTED, notes="no NVIDIA pool shares its GPUs: set inferstack:acceleratorPools[].sharing (a "
                  "MIG profile or timeSlicingReplicas) on one")


def virtualized_accelerator(rec: Recording) -> Result:
    pools = accelerator_pools(rec)
    if not pools:
        return Result(NA, notes="the stack declares no accelerator node pools")
    kinds = ", ".join(sorted({p.kind for p in pools}))
    return Result(NA, notes=f"the stack's accelerators ({kinds}) are attached to nodes as whole physical devices (EKS "
                  "instance types, GKE guest accelerators and TPU slices): no vGPU offering exists for them on these "
                  "node pools; fractional GPUs are MIG or time-slices (gpu_sharing)")


# ------------------------------------------------------------------ networking


def ai_inference(rec: Recording) -> Result:
    gateways = objects(rec, "Gateway", "gateway.networking.k8s.io")
    impl = [describe(r) for r in releases(rec, "istiod")]
    cluster = _gke_cluster(rec)
    channel = ((cluster.inputs.get("gatewayApiConfig") or {}).get("channel") if cluster else None) or ""
    if channel and channel != "CHANNEL_DISABLED":
        impl.append(f"{describe(cluster)}: gatewayApiConfig.channel={channel} (GKE Gateway controller)")
    routes = objects(rec, "HTTPRoute", "gateway.networking.k8s.io")
    routed = [r for r in objects(rec, "LLMInferenceService", "serving.kserve.io")
              if ((r.inputs.get("spec") or {}).get("router") or {}).get("gateway")]
    weighted = [r for r in routed if (((r.inputs.get("spec") or {}).get("router") or {}).get("route") or {}).get("weight")]
    evidence = [describe(r) for r in gateways] + impl + [describe(r) for r in routes] + [
        f"routed through the Gateway{' (weighted split)' if r in weighted else ''}: {describe(r)}" for r in routed]
    if gateways and impl and (routes or routed):
        return Result(IMPLEMENTED, evidence)
    missing = [w for w, ok in (("a Gateway", gateways), ("a Gateway API implementation", impl),
                                ("a route to a model", routes or routed)) if not ok]
    return Result(PARTIAL if gateways or impl else NOT_IMPLEMENTED, evidence,
                  f"missing {', '.join(missing)}: an LLM model (inferstack:models[].llm) brings the LLM track's Gateway, its "
                  "implementation and the model's route")


def advanced_inference_ingress(rec: Recording) -> Result:
    llm = [r for r in objects(rec, "LLMInferenceService", "serving.kserve.io")
           if "scheduler" in (((r.inputs.get("spec") or {}).get("router")) or {})]
    controller = releases(rec, "kserve-llmisvc-resources")
    gateways = objects(rec, "Gateway", "gateway.networking.k8s.io")
    extra = objects(rec, "InferenceObjective") + objects(rec, "InferencePool")
    evidence = [describe(r) for r in controller + gateways] + [
        f"router.scheduler (Inference Extension endpoint picker, InferencePool): {describe(r)}" for r in llm] + [
        describe(r) for r in extra]
    if llm and controller and gateways:
        return Result(IMPLEMENTED, evidence)
    return Result(PARTIAL if llm or controller else NOT_IMPLEMENTED, evidence,
                  "an LLM model (inferstack:models[].llm: an LLMInferenceService with router.scheduler behind the Gateway) "
                  "provides it")


def high_performance_networking(rec: Recording) -> Result:
    evidence = []
    for r in rec.by_type(GKE_NODEPOOL):
        extra = (r.inputs.get("networkConfig") or {}).get("additionalNodeNetworkConfigs")
        if extra:
            evidence.append(f"{describe(r)}: networkConfig.additionalNodeNetworkConfigs ({len(extra)})")
    for r in objects(rec, "EC2NodeClass", "karpenter.k8s.aws"):
        if mentions(r.inputs.get("spec") or {}, "efa"):
            evidence.append(f"{describe(r)}: EFA interfaces")
    evidence += [describe(r) for r in objects(rec, "DeviceClass", "resource.k8s.io") if mentions(r.inputs, "dra.net")]
    if evidence:
        return Result(IMPLEMENTED, evidence)
    return Result(NOT_IMPLEMENTED, notes="the stack declares no secondary pod networks (GKE additional node networks, "
                  "EFA, DRANET): model replicas communicate over the primary pod network")


def disaggregated_inference(rec: Recording) -> Result:
    llm = objects(rec, "LLMInferenceService", "serving.kserve.io")
    split = [r for r in llm if (r.inputs.get("spec") or {}).get("prefill")]
    if split:
        return Result(IMPLEMENTED, [f"separate prefill and decode workloads: {describe(r)}" for r in split]
                      + [describe(r) for r in releases(rec, "kserve-llmisvc-resources")])
    return Result(NOT_IMPLEMENTED, [describe(r) for r in llm],
                  "no LLM model splits prefill from decode: set inferstack:models[].llm.prefillDecode on one")


# ------------------------------------------------------------------ scheduling and orchestration


def _flavor_pools(rec: Recording) -> dict[str, str]:
    """ResourceFlavor name -> the pool its nodeLabels select."""
    out = {}
    for f in objects(rec, "ResourceFlavor", "kueue.x-k8s.io"):
        pool = ((f.inputs.get("spec") or {}).get("nodeLabels") or {}).get(POOL_LABEL)
        if pool:
            out[meta(f)[1]] = pool
    return out


def _quantity(value: object) -> float:
    try:
        return float(str(value))
    except ValueError:
        return 0.0


#: Quota resources that are not accelerator devices (a device is an extended resource such as nvidia.com/gpu, or the
#: resource name a Kueue deviceClassMappings entry gives a DRA DeviceClass).
HOST_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage", "pods"})


def gang_scheduling(rec: Recording) -> Result:
    """Kueue installed, and every pool covered: a ResourceFlavor selecting it in a ClusterQueue that covers a device
    resource. A pool whose device quota is 0 in every queue is covered but admits no gang; the notes name it."""
    kueue = releases(rec, "kueue")
    pools = accelerator_pools(rec)
    flavor_pool = _flavor_pools(rec)
    covering: dict[str, list[str]] = {}
    quota: dict[str, float] = {}
    for cq in objects(rec, "ClusterQueue", "kueue.x-k8s.io"):
        for group in (cq.inputs.get("spec") or {}).get("resourceGroups") or []:
            devices = [r for r in group.get("coveredResources") or [] if r not in HOST_RESOURCES]
            for flavor in group.get("flavors") or []:
                pool = flavor_pool.get(str(flavor.get("name")))
                if pool is None or not devices:
                    continue
                for res in flavor.get("resources") or []:
                    if res.get("name") in devices:
                        quota[pool] = quota.get(pool, 0.0) + _quantity(res.get("nominalQuota"))
                        if _quantity(res.get("nominalQuota")) > 0:
                            covering.setdefault(pool, []).append(
                                f"{describe(cq)}: flavor {flavor.get('name')} {res.get('name')} nominalQuota "
                                f"{res.get('nominalQuota')}")
    evidence = [describe(r) for r in kueue + releases(rec, "lws")]
    covered, missing = [], []
    for pool in pools:
        (covered if pool.name in quota and kueue else missing).append(pool.name)
        evidence += covering.get(pool.name, [])
    evidence += [describe(r) for r in objects(rec, "LocalQueue", "kueue.x-k8s.io")]
    if not kueue:
        return Result(NOT_IMPLEMENTED, evidence, "no gang scheduler (Kueue) is installed")
    result = _coverage(covered, missing, evidence, "accelerator pools no Kueue ClusterQueue covers",
                       "each pool needs a ResourceFlavor selecting it (nodeLabels inferstack.io/pool) in a "
                       "ClusterQueue covering its device resource")
    empty = [p for p in covered if quota.get(p, 0.0) <= 0]
    if empty:
        note = (f"pools with no device quota in any queue: {', '.join(empty)} (their devices go to models Kueue does "
                "not admit, or scheduling.queues sets 0): no gang is admitted there")
        result.notes = f"{result.notes}; {note}" if result.notes else note
    return result


def _autoscaled(r: ResourceRecord) -> bool:
    if r.type == KARPENTER_NODEPOOL:
        return True  # Karpenter provisions the NodePool's nodes for pending pods and consolidates them
    auto = r.inputs.get("autoscaling") or {}
    low = _quantity(auto.get("totalMinNodeCount", auto.get("minNodeCount", 0)))
    high = _quantity(auto.get("totalMaxNodeCount", auto.get("maxNodeCount", 0)))
    return bool(auto) and high > low


def cluster_autoscaling(rec: Recording) -> Result:
    pools = accelerator_pools(rec)
    if not pools:
        return Result(NA, notes="the stack declares no accelerator node pools")
    evidence = [describe(r) for r in releases(rec, "karpenter")]
    covered, missing = [], []
    for pool in pools:
        scaled = [r for r in pool.resources if _autoscaled(r)]
        (covered if scaled else missing).append(pool.name)
        for r in scaled:
            auto = r.inputs.get("autoscaling") or {}
            how = (f"autoscaling {auto.get('totalMinNodeCount', auto.get('minNodeCount'))}-"
                   f"{auto.get('totalMaxNodeCount', auto.get('maxNodeCount'))} nodes") if auto else "Karpenter NodePool"
            evidence.append(f"pool {pool.name} ({pool.kind}): {how}: {describe(r)}")
    return _coverage(covered, missing, evidence, "accelerator pools with no autoscaled node group",
                     "give them inferstack:acceleratorPools[].maxNodes above their minimum nodes")


def pod_autoscaling(rec: Recording) -> Result:
    scaled = [r for r in objects(rec, "ScaledObject", "keda.sh")
              if any(t.get("type") == "prometheus" for t in (r.inputs.get("spec") or {}).get("triggers") or [])]
    hpas = [r for r in objects(rec, "HorizontalPodAutoscaler", "autoscaling")
            if any(m.get("type") in ("Pods", "Object", "External") for m in (r.inputs.get("spec") or {}).get("metrics") or [])]
    evidence = [describe(r) for r in releases(rec, "keda")]
    for r in scaled:
        metrics = [t.get("name") or (t.get("metadata") or {}).get("query") for t in r.inputs["spec"]["triggers"]]
        evidence.append(f"{describe(r)}: custom metric {', '.join(map(str, metrics))}")
    evidence += [describe(r) for r in hpas]
    if (scaled and releases(rec, "keda")) or hpas:
        return Result(IMPLEMENTED, evidence)
    return Result(NOT_IMPLEMENTED, evidence, "no HorizontalPodAutoscaler or KEDA ScaledObject on a custom metric: an LLM model "
                  "(KEDA on vLLM metrics) or a Standard-mode model with inferstack:models[].scaleMetric rps or "
                  "concurrency gets one")


# ------------------------------------------------------------------ observability


#: Image repository of AWS's neuron-monitor container (its Prometheus exporter on ``--port``, 8000 in AWS's manifest
#: aws-neuron-sdk src/k8/k8s-neuron-monitor-daemonset.yml). The Neuron Helm chart the stack pins
#: (inferstack.catalog.versions CHARTS["neuron"]) ships no neuron-monitor; the AWS platform declares AWS's DaemonSet
#: with the image the catalogue pins (any tag of the repository counts here).
NEURON_MONITOR_IMAGE = _PINNED_NEURON_MONITOR.rsplit(":", 1)[0]
#: Kinds that run one pod per node (where a node's accelerators are read).
_NODE_AGENT_KINDS = ("DaemonSet",)


def _selects(selector: object, labels: dict[str, str]) -> bool:
    """Whether a label selector's ``matchLabels`` (and ``In`` / ``Exists`` expressions) select ``labels``; an empty
    or missing selector selects nothing here (a monitor must name what it scrapes)."""
    if not isinstance(selector, dict):
        return False
    match = selector.get("matchLabels") or {}
    exprs = selector.get("matchExpressions") or []
    if not match and not exprs:
        return False
    if any(labels.get(k) != v for k, v in match.items()):
        return False
    for e in exprs:
        key, op, values = e.get("key"), e.get("operator"), e.get("values") or []
        if (op == "In" and labels.get(key) not in values) or (op == "Exists" and key not in labels) \
                or (op == "NotIn" and labels.get(key) in values) or (op == "DoesNotExist" and key in labels):
            return False
    return True


def _in_namespaces(monitor: ResourceRecord, namespace: str | None) -> bool:
    """Whether a PodMonitor / ServiceMonitor looks in ``namespace`` (its ``namespaceSelector``; none: its own)."""
    ns_sel = (monitor.inputs.get("spec") or {}).get("namespaceSelector") or {}
    if ns_sel.get("any") is True:
        return True
    names = ns_sel.get("matchNames")
    return namespace in names if names else meta(monitor)[0] == namespace


def _scrapers(rec: Recording, workload: ResourceRecord) -> list[ResourceRecord]:
    """The PodMonitors selecting the workload's pods, and the ServiceMonitors selecting a Service that selects them
    (prometheus-operator objects, which the stack's kube-prometheus-stack reads cluster-wide)."""
    ns = meta(workload)[0]
    template = (workload.inputs.get("spec") or {}).get("template") or {}
    pod_labels = dict((template.get("metadata") or {}).get("labels") or {})
    out = [m for m in objects(rec, "PodMonitor", "monitoring.coreos.com")
           if _in_namespaces(m, ns) and _selects((m.inputs.get("spec") or {}).get("selector"), pod_labels)]
    services = [s for s in objects(rec, "Service", "core") if meta(s)[0] == ns
                and (sel := (s.inputs.get("spec") or {}).get("selector")) and _selects({"matchLabels": sel}, pod_labels)]
    for m in objects(rec, "ServiceMonitor", "monitoring.coreos.com"):
        sel = (m.inputs.get("spec") or {}).get("selector")
        if any(_in_namespaces(m, ns) and _selects(sel, dict((s.inputs.get("metadata") or {}).get("labels") or {}))
               for s in services):
            out.append(m)
    return out


def _neuron_monitors(rec: Recording) -> list[str]:
    """Evidence of Neuron metrics: a node agent running AWS's neuron-monitor image with a PodMonitor / ServiceMonitor
    scraping it (the exporter alone is not collected)."""
    found = []
    for kind in _NODE_AGENT_KINDS:
        for r in objects(rec, kind, "apps"):
            spec = ((r.inputs.get("spec") or {}).get("template") or {}).get("spec") or {}
            images = [str(c.get("image") or "") for c in spec.get("containers") or []]
            if not any(i.split("@")[0].rsplit(":", 1)[0] == NEURON_MONITOR_IMAGE for i in images):
                continue
            scrapers = _scrapers(rec, r)
            if scrapers:
                found.append(f"{describe(r)}: neuron-monitor ({', '.join(i for i in images if NEURON_MONITOR_IMAGE in i)}) "
                             f"scraped by " + "; ".join(describe(m) for m in scrapers))
    return found


def accelerator_metrics(rec: Recording) -> Result:
    pools = accelerator_pools(rec)
    if not pools:
        return Result(NA, notes="the stack declares no accelerator node pools")
    families = sorted({p.family for p in pools if p.family is not None}, key=lambda f: f.value)
    cluster = _gke_cluster(rec)
    components = set(((cluster.inputs.get("monitoringConfig") or {}).get("enableComponents") or []) if cluster else [])
    managed = bool((((cluster.inputs.get("monitoringConfig") or {}).get("managedPrometheus") or {}).get("enabled"))
                   if cluster else False)
    evidence, covered, missing = [], [], []
    for family in families:
        found: list[str] = []
        if family is Family.NVIDIA:
            dcgm = releases(rec, "dcgm-exporter")
            monitors = [m for kind in ("ServiceMonitor", "PodMonitor") for m in objects(rec, kind, "monitoring.coreos.com")
                        if mentions(m.inputs.get("spec") or {}, "dcgm")]
            if dcgm and monitors:
                found += [describe(r) for r in dcgm + monitors]
            if "DCGM" in components and managed:
                found.append(f"{describe(cluster)}: monitoringConfig DCGM with managed Prometheus (GKE-managed DCGM exporter)")
        elif family is Family.TPU and "SYSTEM_COMPONENTS" in components:
            found.append(f"{describe(cluster)}: monitoringConfig SYSTEM_COMPONENTS (GKE TPU metrics: duty cycle, memory)")
        elif family is Family.NEURON:
            found += _neuron_monitors(rec)
        (covered if found else missing).append(family.value)
        evidence += found
    return _coverage(covered, missing, evidence, "accelerator families without a metrics exporter",
                     "each family in the stack needs one, scraped: NVIDIA the DCGM exporter and its ServiceMonitor "
                     "(EKS) or GKE's managed DCGM; TPU GKE system metrics; Neuron a DaemonSet of AWS's "
                     f"{NEURON_MONITOR_IMAGE} with a PodMonitor or ServiceMonitor (the pinned Neuron Helm chart ships "
                     "no neuron-monitor)")


def ai_service_metrics(rec: Recording) -> Result:
    stack = releases(rec, "kube-prometheus-stack")
    monitors = [m for kind in ("PodMonitor", "ServiceMonitor") for m in objects(rec, kind, "monitoring.coreos.com")
                if mentions(m.inputs.get("spec") or {}, "inferstack.io/model")]
    evidence = [describe(r) for r in stack + monitors]
    if stack and monitors:
        return Result(IMPLEMENTED, evidence)
    return Result(PARTIAL if stack or monitors else NOT_IMPLEMENTED, evidence,
                  "a Prometheus (kube-prometheus-stack) and a PodMonitor per model provide it (the serving stack installs "
                  "them with the first model)")


# ------------------------------------------------------------------ security


def _device_mediation(rec: Recording, pool: Pool, cloud: Cloud | None) -> list[str]:
    """What hands the pool's devices to pods: a device plugin or DRA driver, installed by the stack or by GKE."""
    family = pool.family
    if family is Family.NVIDIA:
        found = [describe(r) for r in releases(rec, "nvidia-device-plugin", "nvidia-dra-driver-gpu", "gpu-operator")]
        if cloud is Cloud.GCP and all((r.inputs.get("nodeConfig") or {}).get("guestAccelerators") for r in pool.resources):
            found.append("GKE-managed NVIDIA device plugin (guestAccelerators with GKE-installed driver)")
        return found
    if family is Family.NEURON:
        return [describe(r) for r in releases(rec, "neuron-helm-chart") if mentions(r.inputs.get("values") or {}, "devicePlugin")]
    if family is Family.TPU and cloud is Cloud.GCP:
        return ["GKE-managed TPU device plugin (google.com/tpu)"]
    return []


def _pinned_node_agent(r: ResourceRecord) -> bool:
    """A platform node agent, as the policy pack exempts it (policies/rules/node_agents.py): a DaemonSet (not a
    patch) in kube-system whose every container runs exactly an image of the catalogue's ``NODE_AGENT_IMAGES``. It
    reads the node's devices to report on them (neuron-monitor); it is not a workload and requests no accelerator."""
    if r.type != "kubernetes:apps/v1:DaemonSet" or meta(r)[0] != "kube-system":
        return False
    pod = ((r.inputs.get("spec") or {}).get("template") or {}).get("spec") or {}
    images = [c.get("image") if isinstance(c, dict) else None
              for f in ("initContainers", "containers", "ephemeralContainers") for c in pod.get(f) or []]
    return bool(images) and all(isinstance(i, str) and i in NODE_AGENT_IMAGES for i in images)


def _host_device_access(rec: Recording) -> list[str]:
    """Declared pod specs that bypass the device plugin: privileged containers (but those of a pinned platform node
    agent, :func:`_pinned_node_agent`) or hostPath volumes under /dev."""
    out = []
    for r in rec.resources:
        if r.package != "kubernetes" or r.type.startswith("kubernetes:helm.sh/"):
            continue
        agent = _pinned_node_agent(r)
        for d in walk(r.inputs):
            if d.get("privileged") is True and not agent:
                out.append(f"{describe(r)}: privileged container")
            path = (d.get("hostPath") or {}).get("path") if isinstance(d.get("hostPath"), dict) else None
            if isinstance(path, str) and path.startswith("/dev"):
                out.append(f"{describe(r)}: hostPath {path}")
    return out


def secure_accelerator_access(rec: Recording) -> Result:
    pools, cloud = accelerator_pools(rec), cloud_of(rec)
    if not pools:
        return Result(NA, notes="the stack declares no accelerator node pools")
    evidence, covered, missing = [], [], []
    for pool in pools:
        key = TAINT_KEY.get(pool.family) if pool.family else None
        untainted = [r.name for r in pool.resources if not any(t.get("key") == key for t in node_taints(r))]
        mediated = _device_mediation(rec, pool, cloud)
        if untainted or not mediated:
            missing.append(pool.name)
            continue
        covered.append(pool.name)
        evidence.append(f"pool {pool.name} ({pool.kind}): every node group tainted {key}; devices only through "
                        f"{'; '.join(sorted(set(mediated)))}")
    bypass = _host_device_access(rec)
    if bypass:
        return Result(PARTIAL if covered else NOT_IMPLEMENTED, evidence + bypass,
                      "pods reach host devices outside the device plugin or DRA: " + "; ".join(bypass))
    agents = [describe(r) for r in rec.resources if _pinned_node_agent(r)]
    evidence.append("no declared pod is privileged or mounts a hostPath under /dev"
                    + (f" but the pinned platform node agents ({'; '.join(agents)}), privileged in kube-system to read "
                       "the node's devices, on no accelerator request" if agents else ""))
    return _coverage(covered, missing, evidence, "pools not tainted or without a device plugin / DRA driver",
                     "accelerator pools are tainted with their device resource and served by its plugin")


# ------------------------------------------------------------------ operator


def robust_controller(rec: Recording) -> Result:
    controller = releases(rec, "kserve-resources", "kserve-llmisvc-resources")
    crds = releases(rec, "kserve-crd", "kserve-llmisvc-crd")
    reconciled = _models(rec)
    others = releases(rec, "kueue", "lws", "keda")
    evidence = [describe(r) for r in controller + crds] + [f"custom resource it reconciles: {describe(r)}" for r in reconciled]
    evidence += [f"also installed: {describe(r)}" for r in others]
    if controller and crds and reconciled:
        return Result(IMPLEMENTED, evidence)
    return Result(PARTIAL if controller or crds else NOT_IMPLEMENTED, evidence,
                  "KServe (CRDs, controller and webhooks) with at least one model provides it")


#: Requirement id -> evaluator.
EVALUATORS: dict[str, Callable[[Recording], Result]] = {
    "dra_support": dra_support,
    "driver_runtime_management": driver_runtime_management,
    "gpu_sharing": gpu_sharing,
    "virtualized_accelerator": virtualized_accelerator,
    "ai_inference": ai_inference,
    "advanced_inference_ingress": advanced_inference_ingress,
    "high_performance_networking": high_performance_networking,
    "disaggregated_inference": disaggregated_inference,
    "gang_scheduling": gang_scheduling,
    "cluster_autoscaling": cluster_autoscaling,
    "pod_autoscaling": pod_autoscaling,
    "accelerator_metrics": accelerator_metrics,
    "ai_service_metrics": ai_service_metrics,
    "secure_accelerator_access": secure_accelerator_access,
    "robust_controller": robust_controller,
}

__all__ = ["EVALUATORS", "IMPLEMENTED", "NA", "NOT_IMPLEMENTED", "PARTIAL", "Result"]
