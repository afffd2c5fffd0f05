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
