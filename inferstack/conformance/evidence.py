"""What a stack's offline recording declares that the AI Conformance requirements ask about: its accelerator pools,
Kubernetes objects by kind, Helm releases by chart, and pod specs. Pure reads of a :class:`Recording`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from inferstack.catalog.accelerators import ACCELERATOR_LABEL, CATALOG, POOL_LABEL, Family
from inferstack.catalog.clouds import Cloud
from inferstack.engine import Recording, ResourceRecord

KARPENTER_NODEPOOL = "kubernetes:karpenter.sh/v1:NodePool"
GKE_NODEPOOL = "gcp:container/nodePool:NodePool"
GKE_CLUSTER = "gcp:container/cluster:Cluster"
HELM_TYPES = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart")


@dataclass
class Pool:
    """One accelerator pool: its name and kind (node labels) and the node groups declaring its nodes."""

    name: str
    kind: str
    resources: list[ResourceRecord] = field(default_factory=list)

    @property
    def family(self) -> Family | None:
        acc = CATALOG.get(self.kind)
        return acc.family if acc is not None else None


def node_labels(r: ResourceRecord) -> dict[str, str]:
    """The labels a node group gives its nodes (Karpenter template labels, GKE ``nodeConfig.labels``)."""
    if r.type == KARPENTER_NODEPOOL:
        labels = (((r.inputs.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels")
    elif r.type == GKE_NODEPOOL:
        labels = (r.inputs.get("nodeConfig") or {}).get("labels")
    else:
        labels = None
    return dict(labels or {})


def node_taints(r: ResourceRecord) -> list[dict[str, Any]]:
    if r.type == KARPENTER_NODEPOOL:
        return list(((((r.inputs.get("spec") or {}).get("template") or {}).get("spec") or {}).get("taints")) or [])
    return list((r.inputs.get("nodeConfig") or {}).get("taints") or [])


def cloud_of(rec: Recording) -> Cloud | None:
    """The cloud whose resources the recording holds (None: neither, e.g. an existing cluster's serving layer)."""
    packages = {r.package for r in rec.resources}
    if "aws" in packages:
        return Cloud.AWS
    if "gcp" in packages:
        return Cloud.GCP
    return None


def accelerator_pools(rec: Recording) -> list[Pool]:
    """The accelerator pools: node groups labelled ``inferstack.io/pool`` and ``inferstack.io/accelerator``."""
    pools: dict[str, Pool] = {}
    for r in rec.resources:
        if r.type not in (KARPENTER_NODEPOOL, GKE_NODEPOOL):
            continue
        labels = node_labels(r)
        kind, name = labels.get(ACCELERATOR_LABEL), labels.get(POOL_LABEL)
        if kind and name:
            pools.setdefault(name, Pool(name, kind)).resources.append(r)
    return list(pools.values())


def split_type(type_token: str) -> tuple[str, str] | None:
    """``(group/version, Kind)`` of a Kubernetes type token (``kubernetes:kueue.x-k8s.io/v1beta2:ClusterQueue``)."""
    parts = type_token.split(":")
    if len(parts) != 3 or parts[0] != "kubernetes" or type_token.startswith(HELM_TYPES):
        return None
    return parts[1], parts[2]


def objects(rec: Recording, kind: str, group: str | None = None) -> list[ResourceRecord]:
    """The Kubernetes objects of ``kind`` (in API ``group`` when given; ``core`` for the core group)."""
    out = []
    for r in rec.resources:
        gv = split_type(r.type)
        if gv is None or gv[1] != kind:
            continue
        if group is not None and gv[0].split("/")[0] != group:
            continue
        out.append(r)
    return out


def meta(r: ResourceRecord) -> tuple[str | None, str]:
    """``(namespace, name)`` of a Kubernetes object as declared."""
    m = r.inputs.get("metadata") or {}
    return m.get("namespace"), str(m.get("name") or r.name)


def chart_name(r: ResourceRecord) -> str:
    """The chart of a Helm release, without its repository (``oci://.../kueue`` -> ``kueue``)."""
    return str(r.inputs.get("chart") or "").rstrip("/").rpartition("/")[2]


def releases(rec: Recording, *charts: str) -> list[ResourceRecord]:
    """The Helm releases of any of ``charts``."""
    return [r for r in rec.resources if r.type in HELM_TYPES and chart_name(r) in charts]


def walk(value: Any) -> Iterator[dict[str, Any]]:
    """Every mapping inside ``value`` (depth first), ``value`` itself included."""
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


def mentions(value: Any, text: str) -> bool:
    """Whether ``text`` appears anywhere in ``value`` serialised (keys and values)."""
    return text in json.dumps(value, default=str)


def describe(r: ResourceRecord) -> str:
    """``Kind namespace/name (URN)`` of a Kubernetes object; ``type name (URN)`` of any other resource."""
    gv = split_type(r.type)
    if gv is not None:
        ns, name = meta(r)
        return f"{gv[0]} {gv[1]} {ns + '/' if ns else ''}{name} ({r.urn})"
    if r.type in HELM_TYPES:
        return f"Helm release {r.inputs.get('name') or r.name}: chart {chart_name(r)} {r.inputs.get('version')} ({r.urn})"
    return f"{r.type} {r.name} ({r.urn})"
