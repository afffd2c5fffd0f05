"""Kueue: queues, quotas and all-or-nothing admission of the accelerator pools' workloads.

:func:`kueue_objects` builds every object from the quota plan (``inferstack.checks.scheduling.queue_plan``; pure,
tested without Pulumi); :class:`Kueue` installs the pinned chart (``CHARTS["kueue"]``, v0.19.2) and declares them.

Per stack (``inferstack:scheduling``, on by default for the accelerator pools):

- a **Cohort** ``<cohort>`` that every ClusterQueue joins: unused nominal quota of one queue is lent to the others;
- per accelerator pool a **ResourceFlavor** ``inferstack-<pool>`` with the pool's node labels
  (``inferstack.io/pool``, ``inferstack.io/accelerator``) and device taint, so Kueue assigns a pod the flavor of the
  pool its node selector names; a TPU pool whose slice spans several hosts also gets a **Topology**
  ``inferstack-<pool>`` (levels ``cloud.google.com/gke-nodepool``: the slice, then ``kubernetes.io/hostname``)
  named by its flavor's ``topologyName``, and its multi-node models require one slice per group;
- per accelerator pool a **ClusterQueue** ``inferstack-pool-<pool>``: the pool's capacity (devices, CPU and memory of
  ``maxNodes`` nodes) less the teams' guaranteed shares; it admits nothing itself (no namespace is selected) and
  lends everything to the cohort;
- per team namespace a **ClusterQueue** ``inferstack-ns-<namespace>`` covering every pool's flavor, with the
  nominal quota the team's queued models need at ``minReplicas`` (0 elsewhere) and borrowing the rest from the
  cohort; it selects only its namespace. A **LocalQueue** ``inferstack`` in the namespace points to it;
- device quotas in the pool's extended resource (``nvidia.com/gpu``, counting MIG partitions or time-slices on a
  shared pool, ``google.com/tpu``, ``aws.amazon.com/neuron``); on an ``allocation: dra`` pool, whose pods claim GPUs
  through ResourceClaimTemplates, ``dra.inferstack.io/<kind>``, which Kueue's ``deviceClassMappings`` map to the
  kind's DeviceClass;
- a **WorkloadPriorityClass** per workload class (``inferstack-latency-critical`` 1000, ``inferstack-standard``
  500, ``inferstack-batch`` 100); a pool's workloads carry the one of the pool's ``workload``.

Admission: an LLM model's LLMInferenceService carries ``kueue.x-k8s.io/queue-name: inferstack`` and
``kueue.x-k8s.io/priority-class``; KServe v0.20.0 copies ``kueue.x-k8s.io/`` labels and annotations to the
LeaderWorkerSet (multi-node) or Deployment it creates and to their pod templates. Kueue's LeaderWorkerSet
integration admits each group (leader and workers, ``nodesPerReplica`` pods) as one workload, all or nothing; its
Deployment integration admits single-node pods one by one. ``waitForPodsReady`` evicts and requeues an admitted
group whose pods are not all ready within ``scheduling.podsReadyTimeout``. Batch-inference Jobs (``batch/job``
integration) labelled with the namespace's queue are admitted the same way. Only the team namespaces are managed
(``managedJobsNamespaceSelector``); objects without a queue label are never touched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from inferstack.catalog.accelerators import ACCELERATOR_LABEL, CATALOG, POOL_LABEL, Family, lookup
from inferstack.catalog.versions import KUEUE_IMAGE
from inferstack.checks.scheduling import (
    DRA_RESOURCE_PREFIX,
    PoolQueue,
    Quota,
    cpu_text,
    memory_text,
    queue_plan,
    queued,
)
from inferstack.components.custom_resource import custom_resource
from inferstack.components.dra import device_class_name
from inferstack.components.helm import addon_release
from inferstack.components.platform import PlatformOutputs, PoolInfo
from inferstack.config import ServingArgs
from inferstack.config.base import Cloud
from inferstack.config.platform import WorkloadClass
from inferstack.config.scheduling import SchedulingConfig
from inferstack.config.serving import ModelConfig

API_VERSION = "kueue.x-k8s.io/v1beta2"
#: Label of a workload naming its LocalQueue, and of its WorkloadPriorityClass (kueue v0.19.2
#: ``pkg/controller/constants``).
QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
PRIORITY_LABEL = "kueue.x-k8s.io/priority-class"
#: Pod-template annotation: every pod of the pod set in one domain of this topology level (kueue v0.19.2
#: ``PodSetRequiredTopologyAnnotation``).
REQUIRED_TOPOLOGY = "kueue.x-k8s.io/podset-required-topology"
#: The LocalQueue of every team namespace.
LOCAL_QUEUE = "inferstack"
#: Node labels of a TPU slice's topology levels on GKE: the node pool is the slice, then the host.
GKE_NODEPOOL_LABEL = "cloud.google.com/gke-nodepool"
HOSTNAME_LABEL = "kubernetes.io/hostname"
#: Priority of each workload class's WorkloadPriorityClass.
PRIORITY: dict[WorkloadClass, int] = {
    WorkloadClass.LATENCY_CRITICAL: 1000,
    WorkloadClass.STANDARD: 500,
    WorkloadClass.BATCH: 100,
}
#: Kueue integrations enabled: Jobs (batch inference), plain pods and Deployments (single-node LLM workloads; the
#: Deployment integration works through the pod one), LeaderWorkerSets (multi-node groups, gang-admitted).
FRAMEWORKS = ("batch/job", "pod", "deployment", "leaderworkerset.x-k8s.io/leaderworkerset")
MANAGED = {"app.kubernetes.io/managed-by": "inferstack"}


def flavor_name(pool: str) -> str:
    return f"inferstack-{pool}"


def pool_queue_name(pool: str) -> str:
    return f"inferstack-pool-{pool}"


def team_queue_name(namespace: str) -> str:
    return f"inferstack-ns-{namespace}"


def priority_class_name(workload: WorkloadClass) -> str:
    return f"inferstack-{workload.value}"


def _meta(name: str, namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": dict(MANAGED)}
    if namespace:
        meta["namespace"] = namespace
    return meta


def resource_flavor(pq: PoolQueue, info: PoolInfo | None = None) -> dict[str, Any]:
    """The ResourceFlavor of a pool: its node labels (the platform's, when it knows the pool) and device taint."""
    labels = {ACCELERATOR_LABEL: pq.pool.kind, POOL_LABEL: pq.pool.name, **(info.node_selector if info else {})}
    taint = info.taint_key if info else CATALOG[pq.pool.kind].taint_key
    spec: dict[str, Any] = {"nodeLabels": dict(sorted(labels.items())), "nodeTaints": [{"key": taint, "effect": "NoSchedule"}]}
    if pq.multi_host_slice:
        spec["topologyName"] = flavor_name(pq.pool.name)
    return {"apiVersion": API_VERSION, "kind": "ResourceFlavor", "metadata": _meta(flavor_name(pq.pool.name)), "spec": spec}


def topology(pq: PoolQueue) -> dict[str, Any]:
    """The Topology of a multi-host TPU pool: the slice (its GKE node pool), then the host."""
    return {
        "apiVersion": API_VERSION,
        "kind": "Topology",
        "metadata": _meta(flavor_name(pq.pool.name)),
        "spec": {"levels": [{"nodeLabel": GKE_NODEPOOL_LABEL}, {"nodeLabel": HOSTNAME_LABEL}]},
    }


def _resources(quota: Quota, device_resources: Sequence[str], own: str) -> list[dict[str, Any]]:
    """Quota entries in ``coveredResources`` order: cpu, memory, then each device resource (0 but ``own``)."""
    out: list[dict[str, Any]] = [
        {"name": "cpu", "nominalQuota": cpu_text(max(quota.cpu_milli, 0))},
        {"name": "memory", "nominalQuota": memory_text(max(quota.memory_mib, 0))},
    ]
    out += [{"name": r, "nominalQuota": max(quota.devices, 0) if r == own else 0} for r in device_resources]
    return out


def _preemption(scheduling: SchedulingConfig) -> dict[str, Any]:
    return {
        "reclaimWithinCohort": scheduling.reclaim_within_cohort.value,
        "withinClusterQueue": "LowerPriority",
        # A queue borrowing from the cohort may preempt batch workloads only.
        "borrowWithinCohort": {"policy": "LowerPriority", "maxPriorityThreshold": PRIORITY[WorkloadClass.BATCH]},
    }


def pool_cluster_queue(pq: PoolQueue, scheduling: SchedulingConfig) -> dict[str, Any]:
    """The pool's ClusterQueue: its capacity less the teams' shares, lent to the cohort; it admits from no namespace
    (no ``namespaceSelector``: Kueue's nothing selector)."""
    return {
        "apiVersion": API_VERSION,
        "kind": "ClusterQueue",
        "metadata": _meta(pool_queue_name(pq.pool.name)),
        "spec": {
            "cohortName": scheduling.cohort,
            "queueingStrategy": "BestEffortFIFO",
            "resourceGroups": [
                {
                    "coveredResources": ["cpu", "memory", pq.device_resource],
                    "flavors": [{"name": flavor_name(pq.pool.name), "resources": _resources(pq.lender, [pq.device_resource], pq.device_resource)}],
                }
            ],
            "preemption": _preemption(scheduling),
        },
    }


def team_cluster_queue(namespace: str, plan: Sequence[PoolQueue], scheduling: SchedulingConfig) -> dict[str, Any]:
    """The ClusterQueue of a team namespace: every pool's flavor, the team's guaranteed share as nominal quota,
    the rest borrowed from the cohort; selects only ``namespace``."""
    devices = sorted({pq.device_resource for pq in plan})
    flavors = [
        {"name": flavor_name(pq.pool.name), "resources": _resources(pq.guaranteed.get(namespace, Quota()), devices, pq.device_resource)}
        for pq in plan
    ]
    return {
        "apiVersion": API_VERSION,
        "kind": "ClusterQueue",
        "metadata": _meta(team_queue_name(namespace)),
        "spec": {
            "cohortName": scheduling.cohort,
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
            "queueingStrategy": "BestEffortFIFO",
            "resourceGroups": [{"coveredResources": ["cpu", "memory", *devices], "flavors": flavors}],
            "preemption": _preemption(scheduling),
        },
    }


def local_queue(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "LocalQueue",
        "metadata": _meta(LOCAL_QUEUE, namespace),
        "spec": {"clusterQueue": team_queue_name(namespace)},
    }


def cohort(scheduling: SchedulingConfig) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": "Cohort", "metadata": _meta(scheduling.cohort), "spec": {}}


def priority_class(workload: WorkloadClass) -> dict[str, Any]:
    """A WorkloadPriorityClass: ``value`` and ``description`` sit beside ``metadata`` (the kind has no spec)."""
    return {
        "apiVersion": API_VERSION,
        "kind": "WorkloadPriorityClass",
        "metadata": _meta(priority_class_name(workload)),
        "value": PRIORITY[workload],
        "description": f"inferstack accelerator pools of workload class {workload.value}",
    }


def kueue_objects(
    plan: Sequence[PoolQueue], namespaces: Sequence[str], scheduling: SchedulingConfig, pools: Mapping[str, PoolInfo] | None = None
) -> list[dict[str, Any]]:
    """Every Kueue object of a stack, in dependency order (empty without accelerator pools)."""
    if not plan:
        return []
    infos = pools or {}
    out: list[dict[str, Any]] = [priority_class(w) for w in WorkloadClass]
    out.append(cohort(scheduling))
    out += [topology(pq) for pq in plan if pq.multi_host_slice]
    out += [resource_flavor(pq, infos.get(pq.pool.name)) for pq in plan]
    out += [pool_cluster_queue(pq, scheduling) for pq in plan]
    for ns in namespaces:
        out += [team_cluster_queue(ns, plan, scheduling), local_queue(ns)]
    return out


def device_class_mappings(plan: Sequence[PoolQueue]) -> list[dict[str, Any]]:
    """Kueue ``resources.deviceClassMappings`` of the DRA pools: the kind's DeviceClass (``components/dra.py``)
    counted as ``dra.inferstack.io/<kind>``, one device per claimed GPU (KueueDRAIntegration, beta and on in v0.19)."""
    kinds = sorted({pq.pool.kind for pq in plan if pq.device_resource.startswith(DRA_RESOURCE_PREFIX)})
    return [{"name": f"{DRA_RESOURCE_PREFIX}{kind}", "deviceClassNames": [device_class_name(kind)]} for kind in kinds]


def manager_config(namespaces: Sequence[str], scheduling: SchedulingConfig, plan: Sequence[PoolQueue] = ()) -> dict[str, Any]:
    """Kueue's Configuration (``config.kueue.x-k8s.io/v1beta2``): the chart's defaults, the integrations of
    :data:`FRAMEWORKS`, only the team namespaces managed, ``waitForPodsReady`` (all-or-nothing start) and, with DRA
    pools, :func:`device_class_mappings`."""
    mappings = device_class_mappings(plan)
    return {
        "apiVersion": "config.kueue.x-k8s.io/v1beta2",
        "kind": "Configuration",
        "health": {"healthProbeBindAddress": ":8081"},
        "metrics": {"bindAddress": ":8443"},
        "webhook": {"port": 9443},
        "leaderElection": {"leaderElect": True, "resourceName": "c1f6bfd2.kueue.x-k8s.io"},
        "controller": {
            "groupKindConcurrency": {
                "Job.batch": 5, "Pod": 5, "Workload.kueue.x-k8s.io": 10, "LocalQueue.kueue.x-k8s.io": 5,
                "ClusterQueue.kueue.x-k8s.io": 5, "ResourceFlavor.kueue.x-k8s.io": 1,
            }
        },
        "clientConnection": {"qps": 300, "burst": 500},
        "manageJobsWithoutQueueName": False,
        "managedJobsNamespaceSelector": {
            "matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": sorted(namespaces)}]
        },
        "waitForPodsReady": {"timeout": scheduling.pods_ready_timeout, "blockAdmission": False},
        "integrations": {"frameworks": list(FRAMEWORKS)},
        **({"resources": {"deviceClassMappings": mappings}} if mappings else {}),
    }


def chart_values(namespaces: Sequence[str], scheduling: SchedulingConfig, plan: Sequence[PoolQueue] = ()) -> dict[str, Any]:
    """Values of the ``kueue`` chart: the pinned image and :func:`manager_config`."""
    repository, tag = KUEUE_IMAGE
    config = manager_config(namespaces, scheduling, plan)
    return {
        "controllerManager": {"manager": {"image": {"repository": repository, "tag": tag, "pullPolicy": "IfNotPresent"}}},
        "managerConfig": {"controllerManagerConfigYaml": yaml.safe_dump(config, sort_keys=False)},
    }


def workload_metadata(model: ModelConfig, pool_workload: WorkloadClass, cloud: Cloud, plan: Sequence[PoolQueue]) -> tuple[dict[str, str], dict[str, str]]:
    """The labels and annotations that queue ``model``'s LLMInferenceService (empty when Kueue does not admit it):
    the namespace's LocalQueue and the pool's priority class; on a multi-host TPU pool a multi-node model's groups
    require one slice."""
    by_pool = {pq.pool.name: pq for pq in plan}
    if not queued(model) or model.pool not in by_pool:
        return {}, {}
    labels = {QUEUE_LABEL: LOCAL_QUEUE, PRIORITY_LABEL: priority_class_name(pool_workload)}
    annotations: dict[str, str] = {}
    pq = by_pool[model.pool]
    assert model.llm is not None
    if pq.multi_host_slice and model.llm.nodes_per_replica > 1 and lookup(pq.pool.kind, cloud).family is Family.TPU:
        annotations[REQUIRED_TOPOLOGY] = GKE_NODEPOOL_LABEL
    return labels, annotations


def stack_plan(args: ServingArgs, cloud: Cloud) -> list[PoolQueue]:
    """The quota plan of the serving args' pools and models."""
    return queue_plan(cloud, args.accelerator_pools, args.models, args.scheduling)


class Kueue(pulumi.ComponentResource):
    """Kueue on the cluster and the queues of the stack's accelerator pools and team namespaces.

    Provisions the Helm release of the pinned ``kueue`` chart (unless an existing cluster has it: addon ``kueue``
    present) and, after it, the objects of :func:`kueue_objects` as CustomResources.

    Args:
        name (str): component name; children ``<name>-release`` and ``<name>-<kind>-<object name>`` (the namespace
            too for a LocalQueue).
        args (ServingArgs): pools, models, team namespaces and ``scheduling``.
        platform (PlatformOutputs): provider, pools (node labels, taints) and ``ready`` resources.
        depends_on (Sequence[pulumi.Resource]): what the LocalQueues wait for (the team namespaces).
        opts (pulumi.ResourceOptions | None, default None): options of the component.

    Outputs:
        plan (list[PoolQueue]), release (Release | None), objects (list[CustomResource]); ``ready``: what a queued
        workload waits for.

    Secure choices:
        - pinned chart and image; only the team namespaces are managed, objects without a queue label untouched;
        - each team's ClusterQueue selects its own namespace only; the pools' queues select none.
    """

    def __init__(
        self,
        name: str,
        args: ServingArgs,
        platform: PlatformOutputs,
        depends_on: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("inferstack:serving:Kueue", name, None, opts)
        provider = platform.k8s_provider
        self.plan = stack_plan(args, platform.cloud)
        namespaces = list(args.team_namespaces)
        self.release = addon_release(
            platform, f"{name}-release", "kueue", chart_values(namespaces, args.scheduling, self.plan),
            pulumi.ResourceOptions(parent=self, provider=provider, depends_on=list(platform.ready)),
            create_namespace=True, timeout=600,
        )
        after = [*platform.ready, *([self.release] if self.release is not None else [])]
        self.objects = []
        for obj in kueue_objects(self.plan, namespaces, args.scheduling, platform.pools):
            meta = obj["metadata"]
            suffix = f"{meta['namespace']}-{meta['name']}" if "namespace" in meta else meta["name"]
            deps = [*after, *depends_on] if obj["kind"] == "LocalQueue" else after
            self.objects.append(self._declare(f"{name}-{obj['kind'].lower()}-{suffix}", obj, provider, deps))
        self.ready: list[pulumi.Resource] = [*after, *self.objects]
        self.register_outputs({"clusterQueues": [o["metadata"]["name"] for o in kueue_objects(self.plan, namespaces, args.scheduling) if o["kind"] == "ClusterQueue"]})

    def _declare(self, name: str, obj: dict[str, Any], provider: Any, deps: list[pulumi.Resource]) -> pulumi.CustomResource:
        opts = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=deps)
        if obj["kind"] == "WorkloadPriorityClass":
            return SpeclessObject(name, obj, opts)
        return custom_resource(name, obj, opts)


class SpeclessObject(k8s.apiextensions.CustomResource):
    """A custom resource whose fields sit beside ``metadata`` instead of under ``spec`` (WorkloadPriorityClass:
    ``value``, ``description``). The Python SDK's ``apiextensions.CustomResource`` constructor takes ``spec`` only
    (pulumi-kubernetes issue 2363), so this registers the same type (``kubernetes:<apiVersion>:<kind>``) with the
    object's own top-level fields as inputs, as an instance of that SDK class."""

    def __init__(self, name: str, obj: Mapping[str, Any], opts: pulumi.ResourceOptions):
        pulumi.CustomResource.__init__(self, f"kubernetes:{obj['apiVersion']}:{obj['kind']}", name, dict(obj), opts)
