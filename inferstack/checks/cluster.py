"""Checks of the cluster settings the clouds only reject at apply time."""

from __future__ import annotations

from collections.abc import Iterable

from inferstack.catalog.versions import EKS_STANDARD_SUPPORT_END
from inferstack.config.base import Cloud
from inferstack.config.stack import ConfigIssue, StackConfig


def check_cluster_version(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """On EKS, ``cluster.version`` is a Kubernetes minor version EKS offers (``catalog.versions``); how long it stays
    in standard support is the policy pack's ``cluster-version-supported`` concern."""
    if cfg.cloud is not Cloud.AWS:
        return
    version = cfg.settings.cluster.version
    if version not in EKS_STANDARD_SUPPORT_END:
        known = ", ".join(f"{v} (standard support until {end})" for v, end in EKS_STANDARD_SUPPORT_END.items())
        yield ConfigIssue(("cluster", "version"), f"EKS does not offer Kubernetes {version!r}; known: {known}")


#: ``inferstack:`` keys that describe a cluster inferstack builds: not used with ``existingCluster``.
BUILT_CLUSTER_KEYS = ("network", "cluster", "registry")


def check_existing_cluster(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """With ``existingCluster``: the keys of a cluster inferstack builds are absent, models have a registry bucket to
    be served from (their own, or their platform stack's), and secrets a store (the cluster's own ClusterSecretStore)
    to be delivered from. A platform stack (``cluster.workloadsStack``) declares no model or secret: its workloads
    stack does."""
    existing = cfg.settings.existing_cluster
    if existing is None:
        if cfg.settings.cluster.workloads_stack:
            for key, what in (("models", "models"), ("secrets", "secrets")):
                if getattr(cfg.settings, key):
                    yield ConfigIssue(
                        (key,),
                        f"cluster.workloadsStack makes this a platform stack, which declares no {what}: move them to "
                        f"the workloads stack {cfg.settings.cluster.workloads_stack} (existingCluster.platformStack)",
                    )
        return
    fields = type(cfg.settings).model_fields
    for name in sorted(cfg.settings.model_fields_set):
        key = fields[name].alias or name
        if key in BUILT_CLUSTER_KEYS:
            yield ConfigIssue(
                (key,), "describes a cluster inferstack builds; a stack with existingCluster does not use it: remove it"
            )
    if cfg.settings.models and existing.registry is None and existing.platform_stack is None:
        yield ConfigIssue(
            ("existingCluster", "registry"),
            "required with models (unless platformStack gives the platform's): the bucket they are served from, e.g. {bucket: my-models}",
        )
    if cfg.settings.secrets and existing.secret_store is None:
        yield ConfigIssue(
            ("existingCluster", "secretStore"),
            "required with inferstack:secrets: the cluster's ClusterSecretStore holding the entries inferstack/<stack>/<secret>",
        )
