"""Checks of the cluster's access entries (GKE: Google principals bound in the team RoleBindings)."""

from __future__ import annotations

from collections.abc import Iterable

from inferstack.config.base import Cloud
from inferstack.config.platform import GOOGLE_PRINCIPAL_KINDS, deployer_group, team_group
from inferstack.config.stack import ConfigIssue, StackConfig


def check_gke_access_entries(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """On GKE, access entries are Google principals bound directly in the team RoleBindings: only team groups of
    prepared namespaces (cluster-admin goes through IAM roles/container.admin), and group: principals need Google
    Groups for RBAC."""
    if cfg.cloud is not Cloud.GCP:
        return
    teams = {g for ns in cfg.team_namespaces for g in (team_group(ns), deployer_group(ns))}
    for i, entry in enumerate(cfg.settings.cluster.access_entries):
        loc = ("cluster", "accessEntries", i)
        kind, _, email = entry.principal.partition(":")
        if kind not in GOOGLE_PRINCIPAL_KINDS or "@" not in email:
            yield ConfigIssue(
                (*loc, "principal"),
                f"{entry.principal!r} is not a Google principal; use group:<email>, user:<email> or serviceAccount:<email>",
            )
        elif kind == "group" and cfg.settings.cluster.google_groups_security_group is None:
            yield ConfigIssue(
                (*loc, "principal"),
                "group principals need Google Groups for RBAC: set inferstack:cluster.googleGroupsSecurityGroup "
                "(gke-security-groups@<your domain>) and make the group a member of it",
            )
        for j, group in enumerate(entry.groups):
            if group not in teams:
                hint = (
                    "grant cluster-admin on GKE with IAM (roles/container.admin)"
                    if group == cfg.settings.policy.platform_admin_group
                    else f"allowed: {', '.join(sorted(teams)) or '(no team namespaces)'}"
                )
                yield ConfigIssue((*loc, "groups", j), f"{group!r} is not a team group of this stack; {hint}")
