"""Kubernetes families: membership predicates over the installed pulumi_kubernetes SDK (never a hand list of types).

A Kubernetes type's control sits in nested inputs (``spec.template.spec`` of a Deployment, ``spec.host_path`` of a
PersistentVolume), so a family's ``fields`` are the dotted Python input *paths* that carry it, found by walking
the type's input annotations through the ``*Args`` classes of the SDK's ``_inputs.py`` modules (parsed with
:mod:`ast`, never imported; cross-module references such as ``'_core.v1.PodTemplateSpecArgs'`` followed). A
``*List`` type is a member when the type of its ``items`` is.

* ``k8s-workload``: a pod spec (``PodSpecArgs``) reachable from the inputs, outside a ``*List``'s items: every
  pod-bearing kind and its Patch form (``spec``, ``template.spec``, ``spec.template.spec``,
  ``spec.job_template.spec.template.spec``), plus their Lists. Judged by the PSS policies and the workload hygiene
  policies (``policies/rules/pod_security.py``, ``k8s_workloads.py``), which read the pod spec of each kind
  (``policies/rules/k8s_objects.pod_specs``; tests/policies/test_k8s_families.py fails when a member's kind is
  one it does not read).
* ``k8s-rbac``: the types carrying RBAC grants: policy rules (``rules``, ``aggregation_rule``) or a role reference
  (``role_ref``). Judged by ``policies/rules/rbac.py``.
* ``k8s-stored-data``: the types holding data in the object (``data``, ``binary_data``, ``string_data``). Judged
  by ``k8s-configmap-credentials`` and the Secret rules.
* ``k8s-node-volume``: the types whose inputs (outside a pod spec) reach a node directory: a ``host_path`` or
  ``local`` volume source. Judged by ``k8s-persistent-volume-host-path``.
* ``k8s-service-exposure``: the types carrying a Service spec (``ServiceSpecArgs``: its ``type`` opens node ports
  on every node or a load balancer). Judged by ``k8s-no-node-port-services`` (``policies/rules/kubernetes.py``).

``EXPLAINED`` maps a member (token or token prefix) that needs no rule to why.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache
from types import MappingProxyType

from inferstack.policies.families.base import FamilySpec, SdkType, args_classes

SDK = "pulumi_kubernetes"
#: ``'DeploymentSpecArgs'`` or ``'_core.v1.PodTemplateSpecArgs'`` inside an annotation.
_ARGS = re.compile(r"'((?:\w+\.)*\w+Args)'")
_MAX_DEPTH = 8
POD_SPEC = ("PodSpecArgs", "PodSpecPatchArgs")
NODE_SOURCES = frozenset({"host_path", "local"})
SERVICE_SPEC = ("ServiceSpecArgs", "ServiceSpecPatchArgs")




def _resolve(module: str, ref: str) -> tuple[str, str]:
    """``('pulumi_kubernetes.apps.v1', '_core.v1.PodSpecArgs')`` -> ``('pulumi_kubernetes.core.v1', 'PodSpecArgs')``."""
    parts = ref.split(".")
    if len(parts) == 1:
        return module, ref
    return ".".join([SDK, parts[0].lstrip("_"), *parts[1:-1]]), parts[-1]


def _refs(module: str, ann: str) -> list[tuple[str, str]]:
    return [_resolve(module, ref) for ref in sorted(set(_ARGS.findall(ann)))]


_SUBTREES: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}
_VISITING: set[tuple[str, str]] = set()


def _subtree(module: str, cls: str, depth: int = _MAX_DEPTH) -> tuple[tuple[str, str], ...]:
    """``(relative path, Args class)`` under one ``*Args`` class (a pod spec is a leaf; a recursive schema such as
    ``JSONSchemaProps`` is cut where it refers back to itself), memoized per class."""
    key = (module, cls)
    if key in _SUBTREES:
        return _SUBTREES[key]
    if cls in POD_SPEC or depth <= 0 or key in _VISITING:
        return ()
    _VISITING.add(key)
    out: list[tuple[str, str]] = []
    try:
        for name, ann in args_classes(module).get(cls, {}).items():
            path = name + ("[]" if "Sequence[" in ann else "")
            for mod, sub in _refs(module, ann):
                out.append((path, sub))
                out += [(f"{path}.{p}", c) for p, c in _subtree(mod, sub, depth - 1)]
    finally:
        _VISITING.discard(key)
    _SUBTREES[key] = tuple(out)
    return _SUBTREES[key]


def input_paths(t: SdkType) -> Iterator[tuple[str, str]]:
    """``(path, Args class)`` of every nested input of a type: ``spec.template.spec`` -> ``PodSpecArgs``."""
    for name, ann in t.inputs.items():
        path = name + ("[]" if "Sequence[" in ann else "")
        for mod, cls in _refs(t.module, ann):
            yield path, cls
            for p, c in _subtree(mod, cls):
                yield f"{path}.{p}", c


def _is_list(t: SdkType) -> bool:
    return t.cls.endswith("List") and "items" in t.inputs


def _item_token(t: SdkType) -> str:
    return t.token.removesuffix("List")


def _pod_paths(t: SdkType) -> tuple[str, ...]:
    if _is_list(t):
        return ()
    return tuple(sorted({p for p, cls in input_paths(t) if cls in POD_SPEC}))


def _rbac_fields(t: SdkType) -> tuple[str, ...]:
    return tuple(n for n in ("rules", "aggregation_rule", "role_ref", "subjects") if n in t.inputs) \
        if t.has_input("rules", "aggregation_rule", "role_ref") else ()


def _data_fields(t: SdkType) -> tuple[str, ...]:
    return tuple(n for n in ("data", "binary_data", "string_data") if n in t.inputs)


def _node_paths(t: SdkType) -> tuple[str, ...]:
    if _is_list(t):
        return ()
    pod = _pod_paths(t)
    return tuple(sorted({p for p, _ in input_paths(t) if p.rsplit(".", 1)[-1] in NODE_SOURCES
                         and not any(p.startswith(q + ".") for q in pod)}))


def _service_paths(t: SdkType) -> tuple[str, ...]:
    if _is_list(t):
        return ()
    return tuple(sorted({p for p, cls in input_paths(t) if cls in SERVICE_SPEC}))


def _with_lists(own) -> tuple:
    """A predicate and fields over a type, extended to ``*List`` types whose items are members."""
    @cache
    def by_token() -> dict[str, tuple[str, ...]]:
        from inferstack.policies.families.base import sdk_types
        return {t.token: own(t) for t in sdk_types(SDK)}

    def fields(t: SdkType) -> tuple[str, ...]:
        if _is_list(t):
            inner = by_token().get(_item_token(t), ())
            return tuple("items[]." + f for f in inner)
        return own(t)
    return (lambda t: bool(fields(t))), fields


_WORKLOAD = _with_lists(_pod_paths)
_RBAC = _with_lists(_rbac_fields)
_DATA = _with_lists(_data_fields)
_NODE = _with_lists(_node_paths)
_SERVICE = _with_lists(_service_paths)

SPECS: tuple[FamilySpec, ...] = (
    FamilySpec("k8s-workload", "kubernetes", "pod specs: Pod Security Standards, token automount, images, resources",
               *_WORKLOAD),
    FamilySpec("k8s-rbac", "kubernetes", "RBAC grants: roles expanded to effective permissions, bindings",
               *_RBAC),
    FamilySpec("k8s-stored-data", "kubernetes", "data held in the object: credentials in ConfigMaps, Secret values",
               *_DATA),
    FamilySpec("k8s-node-volume", "kubernetes", "node directories exposed by volume sources (hostPath, local)",
               *_NODE),
    FamilySpec("k8s-service-exposure", "kubernetes", "Service specs: no port opened on every node (NodePort)",
               *_SERVICE),
)

_REMOVED_1_22 = ("served by no supported cluster: the API version was removed in Kubernetes 1.22 and the clusters "
                 "the pack allows run 1.33 or later (cluster-version-supported), so the API server refuses it")
_REMOVED_1_25 = ("served by no supported cluster: the API version was removed in Kubernetes 1.25 and the clusters "
                 "the pack allows run 1.33 or later (cluster-version-supported), so the API server refuses it")
_REMOVED_1_16 = ("served by no supported cluster: the API version was removed in Kubernetes 1.16 and the clusters "
                 "the pack allows run 1.33 or later (cluster-version-supported), so the API server refuses it")

EXPLAINED: Mapping[str, str] = MappingProxyType({
    # k8s-rbac: the alpha and beta RBAC APIs
    "kubernetes:rbac.authorization.k8s.io/v1alpha1:": _REMOVED_1_22,
    "kubernetes:rbac.authorization.k8s.io/v1beta1:": _REMOVED_1_22,
    # k8s-workload: the beta workload APIs
    "kubernetes:apps/v1beta1:": _REMOVED_1_16,
    "kubernetes:apps/v1beta2:": _REMOVED_1_16,
    "kubernetes:extensions/v1beta1:": _REMOVED_1_16,
    "kubernetes:batch/v1beta1:": _REMOVED_1_25,
    "kubernetes:batch/v2alpha1:": ("served by no supported cluster: batch/v2alpha1 CronJob was never enabled by "
                                   "default and was removed in Kubernetes 1.21"),
    # k8s-node-volume
    "kubernetes:settings.k8s.io/v1alpha1:": ("served by no supported cluster: PodPreset (settings.k8s.io/v1alpha1) "
                                             "was removed in Kubernetes 1.20"),
    **{f"kubernetes:storage.k8s.io/{v}:VolumeAttachment{form}": (
        "written by the attach/detach controller for CSI volumes, not by programs; its inlineVolumeSpec carries a "
        "migrated in-tree volume, and hostPath and local volumes are never attached through CSI")
       for v in ("v1", "v1alpha1", "v1beta1") for form in ("", "Patch", "List")},
    # k8s-stored-data
    **{f"kubernetes:apps/v1:ControllerRevision{form}": (
        "written by the StatefulSet and DaemonSet controllers: its data is a copy of the workload's pod template, "
        "judged on the workload itself (k8s-workload)") for form in ("", "Patch", "List")},
})
