"""Kubernetes objects as the Kubernetes rules see them: the object itself, the items of a ``*List`` kind, the objects
of a ``kubernetes:yaml/v2:ConfigGroup`` / ``ConfigFile``; and the pod specs inside every pod-bearing kind.

What the engine records (checked with pulumi-kubernetes 4 under the mock runtime):

* a ``kubernetes:core/v1:PodList`` / ``SecretList`` / ``RoleList`` ... is a custom resource whose inputs hold
  ``items`` (each item without ``kind``; the kind is the list's kind minus ``List``);
* ``kubernetes:yaml/v2:ConfigGroup`` / ``ConfigFile`` are remote components: their children are never registered,
  their inputs are (``objs``, ``yaml``, ``files``) / (``file``). The rules judge ``objs`` and ``yaml``, and files
  that exist on this machine; a file not found (a URL, a glob, a path relative to another directory) is not judged.
  The offline evaluator builds views of custom resources only: these components reach the rules only where the
  evaluator passes component resources on (the Pulumi CLI calls resource policies for them);
* ``kubernetes:yaml:ConfigGroup`` (v1) decodes its YAML through a provider call that the mock runtime does not
  answer: it records nothing to judge.

Pod specs (:func:`pod_specs`): ``Pod``; ``Deployment``, ``StatefulSet``, ``DaemonSet``, ``ReplicaSet``,
``ReplicationController``, ``Job`` (``spec.template.spec``); ``CronJob`` (``spec.jobTemplate.spec.template.spec``);
``PodTemplate`` (``template.spec``); KServe ``InferenceService`` (``spec.predictor`` / ``transformer`` /
``explainer``, each a pod spec inline, plus ``workerSpec``); ``ServingRuntime`` / ``ClusterServingRuntime``
(``spec`` and ``spec.workerSpec``); ``LLMInferenceService`` and its presets, ``LLMInferenceServiceConfig``
(``spec.template``, ``spec.worker``, ``spec.prefill``); LeaderWorkerSet (``spec.leaderWorkerTemplate.leaderTemplate`` /
``workerTemplate``); Knative ``Service`` / ``Configuration`` of ``serving.knative.dev`` (``spec.template.spec``).
A KServe predictor's model container (``spec.predictor.model`` or a framework field such as ``sklearn``) is merged
by KServe with its serving runtime's container: fields it leaves unset come from the runtime, which is judged on
its own. Such a container is marked ``merged``: rules that require a field to be set accept it unset there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import yaml

CONFIG_GROUP = "kubernetes:yaml/v2:ConfigGroup"
CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile"
CONTAINER_TYPES = (CONFIG_GROUP, CONFIG_FILE)
WORKLOAD_TEMPLATE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job")
KSERVE_COMPONENTS = ("predictor", "transformer", "explainer")
#: PredictorSpec fields holding the model container (merged with the serving runtime's container).
KSERVE_MODEL_FIELDS = ("model", "sklearn", "xgboost", "tensorflow", "pytorch", "triton", "onnx", "huggingface",
                       "pmml", "lightgbm", "paddle")
KSERVE_EXPLAINER_FIELDS = ("art", "alibi")
SERVING_RUNTIME_KINDS = ("ServingRuntime", "ClusterServingRuntime")
#: KServe's LLMInferenceService and its presets (same ``spec`` type; KServe merges the presets into the object).
LLM_KINDS = ("LLMInferenceService", "LLMInferenceServiceConfig")
#: LeaderWorkerSet (leaderworkerset.x-k8s.io): ``spec.leaderWorkerTemplate.leaderTemplate`` / ``.workerTemplate``.
LWS_KIND = "LeaderWorkerSet"
#: Knative Serving kinds whose ``spec.template.spec`` is a revision's pod spec (apiVersion serving.knative.dev/*).
KNATIVE_KINDS = ("Service", "Configuration")
KNATIVE_API = "serving.knative.dev/"
#: The family of SDK types that carry a pod spec (``policies/families/kubernetes.py``, generated from
#: pulumi_kubernetes): the pod policies judge every member, plus :data:`POD_CARRIERS`.
WORKLOAD_FAMILY = "k8s-workload"
#: Other resources whose objects can be pods: yaml/v2 objects, ``v1/List`` items, and KServe's custom resources.
POD_CARRIERS = (*CONTAINER_TYPES, "kubernetes:core/v1:List", "kubernetes:serving.kserve.io/",
                "kubernetes:leaderworkerset.x-k8s.io/", "kubernetes:serving.knative.dev/")
#: Kinds whose objects carry a pod spec somewhere (see :func:`pod_specs`).
POD_BEARING_KINDS = ("Pod", "PodTemplate", *WORKLOAD_TEMPLATE_KINDS, "CronJob", "InferenceService",
                     *SERVING_RUNTIME_KINDS, *LLM_KINDS, LWS_KIND, *KNATIVE_KINDS)


def is_map(v: Any) -> bool:
    return isinstance(v, Mapping)


def is_seq(v: Any) -> bool:
    return isinstance(v, Sequence) and not isinstance(v, (str, bytes))


def seq(v: Any) -> list:
    """A list of the value's items (pulumi-policy's list proxy does not concatenate with lists)."""
    return list(v) if is_seq(v) else []


def kind_of(type_token: str) -> str:
    """``kubernetes:apps/v1:DeploymentPatch`` -> ``Deployment`` (server-side-apply patches judged like objects)."""
    return type_token.rsplit(":", 1)[-1].removesuffix("Patch")


@dataclass(frozen=True)
class K8sObject:
    """One Kubernetes object of a resource: its kind, its fields, and where it sits in the resource."""

    kind: str
    props: Mapping[str, Any]
    where: str = ""  # "" for the resource itself, "items[2]", "objs[0]", "yaml[0] doc 1", "file x.yaml doc 0"
    patch: bool = False

    @property
    def label(self) -> str:
        name = (self.props.get("metadata") or {}).get("name") if is_map(self.props.get("metadata")) else None
        inner = f"{self.kind} {name}" if name else self.kind
        return f"{self.where} ({inner})" if self.where else inner

    def at(self, path: str) -> str:
        """A field path prefixed with where the object sits: ``items[0].spec.containers[app]``."""
        return f"{self.where}.{path}" if self.where else path


def _docs(text: str) -> list[Any]:
    # Text the engine could not apply either (not YAML, or nested past the parser's recursion) declares nothing.
    try:
        return [d for d in yaml.safe_load_all(text) if d is not None]
    except (yaml.YAMLError, RecursionError):
        return []


def _read(path: Any) -> str | None:
    if not isinstance(path, str) or "://" in path or not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return None


def _manifests(where: str, value: Any) -> Iterator[tuple[str, Any]]:
    """Objects of a manifest value: a dict, a list of dicts, a ``*List`` object's items."""
    if is_seq(value):
        for i, v in enumerate(value):
            yield from _manifests(f"{where}[{i}]", v)
    elif is_map(value):
        kind = value.get("kind")
        if isinstance(kind, str) and kind.endswith("List") and is_seq(value.get("items")):
            for i, item in enumerate(value["items"]):
                yield f"{where}.items[{i}]", item
        else:
            yield where, value


def objects(type_token: str, props: Mapping[str, Any]) -> Iterator[K8sObject]:
    """The Kubernetes objects a resource declares: itself, a list's items, a ConfigGroup's or ConfigFile's objects."""
    if not type_token.startswith("kubernetes:"):
        return
    if type_token in CONTAINER_TYPES:
        found: list[tuple[str, Any]] = []
        if type_token == CONFIG_GROUP:
            found += _manifests("objs", props.get("objs"))
            ys = props.get("yaml")
            for i, text in enumerate(seq(ys) if is_seq(ys) else [ys] if isinstance(ys, str) else []):
                if isinstance(text, str):
                    for j, d in enumerate(_docs(text)):
                        found += _manifests(f"yaml[{i}] doc {j}", d)
            files = seq(props.get("files"))
        else:
            files = [props.get("file")]
        for path in files:
            text = _read(path)
            for j, d in enumerate(_docs(text) if text else []):
                found += _manifests(f"file {path} doc {j}", d)
        for where, obj in found:
            if is_map(obj) and isinstance(obj.get("kind"), str):
                yield K8sObject(obj["kind"], obj, where)
        return
    kind = kind_of(type_token)
    patch = type_token.endswith("Patch")
    if kind.endswith("List") and type_token.rsplit(":", 1)[-1].endswith("List"):
        item_kind = kind.removesuffix("List")
        for i, item in enumerate(seq(props.get("items"))):
            if is_map(item):
                yield K8sObject(item.get("kind") or item_kind, item, f"items[{i}]")
        return
    yield K8sObject(kind, props, "", patch)


@dataclass(frozen=True)
class Container:
    container: Mapping[str, Any]
    path: str
    merged: bool = False  # a KServe model container: unset fields come from the serving runtime

    @property
    def security(self) -> Mapping[str, Any]:
        sc = self.container.get("securityContext")
        return sc if is_map(sc) else {}


@dataclass(frozen=True)
class PodSpec:
    """One pod spec of an object: the pod-level fields, its containers, and where it sits."""

    spec: Mapping[str, Any]
    path: str
    containers: tuple[Container, ...] = field(default=())
    annotations: Mapping[str, Any] = field(default_factory=dict)

    @property
    def security(self) -> Mapping[str, Any]:
        sc = self.spec.get("securityContext")
        return sc if is_map(sc) else {}

    @property
    def windows(self) -> bool:
        os_ = self.spec.get("os")
        return is_map(os_) and os_.get("name") == "windows"


def _cname(c: Mapping[str, Any], i: int) -> str:
    n = c.get("name")
    return n if isinstance(n, str) and n else str(i)


def _containers(spec: Mapping[str, Any], path: str) -> list[Container]:
    out = []
    for f in ("initContainers", "containers", "ephemeralContainers"):
        for i, c in enumerate(seq(spec.get(f))):
            if is_map(c):
                out.append(Container(c, f"{path}.{f}[{_cname(c, i)}]"))
    return out


def _pod(spec: Any, path: str, annotations: Any = None, extra: list[Container] | None = None) -> PodSpec | None:
    if not is_map(spec):
        return None
    return PodSpec(spec, path, tuple(_containers(spec, path) + (extra or [])), annotations if is_map(annotations) else {})


def _annotations(obj: Mapping[str, Any], *path: str) -> Any:
    for k in path:
        obj = obj.get(k) if is_map(obj) else None
    return obj


#: Within :func:`pod_spec_cache`: (id of an object's props, kind) -> (the props, their pod specs). The props are held,
#: so their id is not reused while the entry lives.
_POD_SPECS: dict[tuple[int, str], tuple[Mapping[str, Any], list[PodSpec]]] | None = None


@contextmanager
def pod_spec_cache() -> Iterator[None]:
    """Work out each object's pod specs once while the block runs (the offline evaluator shares one props mapping per
    resource between all policies, and a dozen pod rules read the same specs). Outside it, nothing is kept."""
    global _POD_SPECS
    outer = _POD_SPECS
    _POD_SPECS = {}
    try:
        yield
    finally:
        _POD_SPECS = outer


def pod_specs(obj: K8sObject) -> list[PodSpec]:
    """Every pod spec of a Kubernetes object (empty for kinds that carry none)."""
    cache = _POD_SPECS
    if cache is None:
        return _pod_specs(obj)
    key = (id(obj.props), obj.kind)
    hit = cache.get(key)
    if hit is None:
        hit = cache[key] = (obj.props, _pod_specs(obj))
    return list(hit[1])


def _pod_specs(obj: K8sObject) -> list[PodSpec]:
    p, k = obj.props, obj.kind
    found: list[PodSpec | None] = []
    spec = p.get("spec") if is_map(p.get("spec")) else {}
    if k == "Pod":
        found.append(_pod(spec, "spec", _annotations(p, "metadata", "annotations")))
    elif k == "PodTemplate":
        t = p.get("template") if is_map(p.get("template")) else {}
        found.append(_pod(t.get("spec"), "template.spec", _annotations(t, "metadata", "annotations")))
    elif k in WORKLOAD_TEMPLATE_KINDS:
        t = spec.get("template") if is_map(spec.get("template")) else {}
        found.append(_pod(t.get("spec"), "spec.template.spec", _annotations(t, "metadata", "annotations")))
    elif k == "CronJob":
        jt = _annotations(spec, "jobTemplate", "spec", "template")
        jt = jt if is_map(jt) else {}
        found.append(_pod(jt.get("spec"), "spec.jobTemplate.spec.template.spec", _annotations(jt, "metadata", "annotations")))
    elif k == "InferenceService":
        for comp in KSERVE_COMPONENTS:
            c = spec.get(comp)
            if not is_map(c):
                continue
            extra = [Container(c[f], f"spec.{comp}.{f}", merged=True)
                     for f in (*KSERVE_MODEL_FIELDS, *KSERVE_EXPLAINER_FIELDS) if is_map(c.get(f))]
            found.append(_pod(c, f"spec.{comp}", c.get("annotations"), extra))
            found.append(_pod(c.get("workerSpec"), f"spec.{comp}.workerSpec"))
    elif k in SERVING_RUNTIME_KINDS:
        found.append(_pod(spec, "spec", spec.get("annotations")))
        found.append(_pod(spec.get("workerSpec"), "spec.workerSpec"))
    elif k in LLM_KINDS:
        for base, part in (("spec", spec), ("spec.prefill", spec.get("prefill"))):
            if is_map(part):
                found.append(_pod(part.get("template"), f"{base}.template"))
                found.append(_pod(part.get("worker"), f"{base}.worker"))
    elif k == LWS_KIND:
        lwt = spec.get("leaderWorkerTemplate") if is_map(spec.get("leaderWorkerTemplate")) else {}
        for part in ("leaderTemplate", "workerTemplate"):
            t = lwt.get(part) if is_map(lwt.get(part)) else {}
            found.append(_pod(t.get("spec"), f"spec.leaderWorkerTemplate.{part}.spec",
                              _annotations(t, "metadata", "annotations")))
    elif k in KNATIVE_KINDS and str(p.get("apiVersion") or "").startswith(KNATIVE_API):
        t = spec.get("template") if is_map(spec.get("template")) else {}
        found.append(_pod(t.get("spec"), "spec.template.spec", _annotations(t, "metadata", "annotations")))
    return [s for s in found if s is not None]


def containers_of(obj: K8sObject) -> Iterator[tuple[PodSpec, Container]]:
    for spec in pod_specs(obj):
        for c in spec.containers:
            yield spec, c
