"""Kueue and gang scheduling: the objects of ``kueue.x-k8s.io`` and the workloads that must go through them.

- ``kueue-cluster-queue-scoped``: a ClusterQueue never selects every namespace. Kueue reads a missing
  ``namespaceSelector`` as *no* namespace and an empty one (``{}``) as *every* namespace: such a queue lets any
  namespace (kube-system, a tenant's scratch namespace) consume and borrow the accelerators' quota. Select the team
  namespaces by label (``kubernetes.io/metadata.name``).
- ``kueue-gang-admission``: a multi-node workload goes through a queue. A LeaderWorkerSet, and an
  LLMInferenceService with ``worker`` (KServe makes it a LeaderWorkerSet), carries ``kueue.x-k8s.io/queue-name``:
  without it Kueue does not admit the group all or nothing, so a partly placed group holds accelerators while its
  other pods wait (two such groups can block each other for good). When the stack declares LocalQueues, the label
  names one of them in the object's namespace.
- ``kueue-references-resolve``: the names Kueue objects and queued workloads give resolve among the objects the
  stack declares: a LocalQueue's ``clusterQueue``, a ClusterQueue's flavors and ``cohortName``, a ResourceFlavor's
  ``topologyName``, a workload's ``kueue.x-k8s.io/priority-class``. Kueue keeps a queue whose references dangle
  inactive and leaves its workloads pending. A kind the stack declares none of is not judged (a team stack may use
  the platform stack's queues).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from inferstack.policies.entry import ADVISORY_IN_DEV, MANDATORY, PolicyEntry
from inferstack.policies.rules.k8s_objects import K8sObject, is_map, objects, seq

GROUP = "kueue.x-k8s.io"
QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
PRIORITY_LABEL = "kueue.x-k8s.io/priority-class"
CLUSTER_QUEUE_TYPES = ("kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue", "kubernetes:kueue.x-k8s.io/v1beta2:ClusterQueue")
#: Kinds whose groups of pods Kueue admits all or nothing through its LeaderWorkerSet integration.
GANG_KINDS = ("LeaderWorkerSet", "LLMInferenceService")
CONTROLS = ("NIST 800-53 SC-6",)


def _meta(props: Mapping[str, Any]) -> Mapping[str, Any]:
    m = props.get("metadata")
    return m if is_map(m) else {}


def _labels(props: Mapping[str, Any]) -> Mapping[str, Any]:
    labels = _meta(props).get("labels")
    return labels if is_map(labels) else {}


def _spec(props: Mapping[str, Any]) -> Mapping[str, Any]:
    s = props.get("spec")
    return s if is_map(s) else {}


def _kueue(o: K8sObject) -> bool:
    return str(o.props.get("apiVersion") or "").startswith(GROUP + "/")


def _selects_every_namespace(selector: Any) -> bool:
    return is_map(selector) and not seq(selector.get("matchExpressions")) and not (
        is_map(selector.get("matchLabels")) and len(selector["matchLabels"]) > 0
    )


def _cluster_queue_scoped(args: ResourceValidationArgs, report) -> None:
    spec = _spec(args.props)
    if _selects_every_namespace(spec.get("namespaceSelector")):
        report(
            f"ClusterQueue {_meta(args.props).get('name', args.name)}: spec.namespaceSelector is empty, which Kueue reads "
            "as every namespace: any namespace may use and borrow its quota. Select the team namespaces, e.g. "
            "matchLabels: {kubernetes.io/metadata.name: <namespace>}."
        )


def _is_gang(o: K8sObject) -> bool:
    if o.kind == "LeaderWorkerSet":
        return str(o.props.get("apiVersion") or "").startswith("leaderworkerset.x-k8s.io/")
    return o.kind == "LLMInferenceService" and "worker" in _spec(o.props) and _spec(o.props).get("worker") is not None


def _gang_admission(args: StackValidationArgs, report) -> None:
    found = [(r, o) for r in args.resources for o in objects(r.resource_type, r.props)]
    local_queues: dict[str, set[str]] = defaultdict(set)
    for _, o in found:
        if _kueue(o) and o.kind == "LocalQueue":
            local_queues[str(_meta(o.props).get("namespace") or "default")].add(str(_meta(o.props).get("name")))
    for r, o in found:
        if not _is_gang(o):
            continue
        name, ns = _meta(o.props).get("name"), str(_meta(o.props).get("namespace") or "default")
        queue = _labels(o.props).get(QUEUE_LABEL)
        if not queue:
            report(
                f"{o.label} in namespace {ns} runs multi-node groups without metadata.labels[{QUEUE_LABEL}]: Kueue does "
                "not admit them all or nothing, and a partly placed group holds accelerators while the rest waits. Set "
                "the label to the namespace's LocalQueue (inferstack:scheduling, on by default, declares one).",
                r.urn,
            )
        elif local_queues and queue not in local_queues.get(ns, set()):
            known = ", ".join(sorted(local_queues.get(ns, set()))) or "none"
            report(f"{o.label} ({name}) names LocalQueue {queue!r}, which namespace {ns} does not declare (declared: {known}).", r.urn)


def _references(args: StackValidationArgs, report) -> None:
    found = [(r, o) for r in args.resources for o in objects(r.resource_type, r.props)]
    declared: dict[str, set[str]] = defaultdict(set)
    for _, o in found:
        if _kueue(o):
            declared[o.kind].add(str(_meta(o.props).get("name")))

    def check(r: Any, o: K8sObject, kind: str, name: Any, where: str) -> None:
        if name and kind in declared and str(name) not in declared[kind]:
            report(f"{o.label}: {where} names {kind} {name!r}, which the stack does not declare "
                   f"(declared: {', '.join(sorted(declared[kind]))}).", r.urn)

    for r, o in found:
        spec = _spec(o.props)
        if _kueue(o) and o.kind == "LocalQueue":
            check(r, o, "ClusterQueue", spec.get("clusterQueue"), "spec.clusterQueue")
        elif _kueue(o) and o.kind == "ClusterQueue":
            check(r, o, "Cohort", spec.get("cohortName"), "spec.cohortName")
            for gi, group in enumerate(seq(spec.get("resourceGroups"))):
                for fi, flavor in enumerate(seq(group.get("flavors") if is_map(group) else None)):
                    if is_map(flavor):
                        check(r, o, "ResourceFlavor", flavor.get("name"), f"spec.resourceGroups[{gi}].flavors[{fi}].name")
        elif _kueue(o) and o.kind == "ResourceFlavor":
            check(r, o, "Topology", spec.get("topologyName"), "spec.topologyName")
        elif not _kueue(o):
            check(r, o, "WorkloadPriorityClass", _labels(o.props).get(PRIORITY_LABEL), f"metadata.labels[{PRIORITY_LABEL}]")


ENTRIES = [
    PolicyEntry(ResourceValidationPolicy(
        name="kueue-cluster-queue-scoped",
        description="A Kueue ClusterQueue never selects every namespace (an empty namespaceSelector); it admits the team namespaces it names.",
        validate=_cluster_queue_scoped,
        remediation_steps="Give the ClusterQueue a namespaceSelector naming its namespaces (matchLabels kubernetes.io/metadata.name).",
    ), MANDATORY, types=CLUSTER_QUEUE_TYPES, controls=CONTROLS, clouds={"kubernetes"}),
    PolicyEntry(StackValidationPolicy(
        name="kueue-gang-admission",
        description="Multi-node workloads (LeaderWorkerSets, LLMInferenceServices with workers) carry kueue.x-k8s.io/queue-name, naming a declared LocalQueue, so Kueue admits each group all or nothing.",
        validate=_gang_admission,
        remediation_steps="Keep inferstack:scheduling enabled (the default); a hand-written object sets metadata.labels kueue.x-k8s.io/queue-name to its namespace's LocalQueue.",
    ), ADVISORY_IN_DEV, controls=CONTROLS, clouds={"kubernetes"}),
    PolicyEntry(StackValidationPolicy(
        name="kueue-references-resolve",
        description="The ClusterQueues, flavors, cohorts, topologies and priority classes Kueue objects and queued workloads name are declared by the stack.",
        validate=_references,
        remediation_steps="Declare the named object or fix the name (inferstack:scheduling declares them consistently).",
    ), MANDATORY, controls=CONTROLS, clouds={"kubernetes"}),
]
