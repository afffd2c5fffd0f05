"""Kubernetes RBAC: no wildcards, no cluster-admin outside the platform group, no anonymous bindings."""

from __future__ import annotations

from typing import Any

from pulumi_policy import PolicyConfigSchema, ResourceValidationArgs, ResourceValidationPolicy

from inferstack.config.policy import PolicySettings
from inferstack.policies.entry import MANDATORY, PolicyEntry

K8S_RBAC = "kubernetes:rbac.authorization.k8s.io/v1:"
ROLE_TYPES = {K8S_RBAC + k for k in ("Role", "ClusterRole", "RolePatch", "ClusterRolePatch")}
BINDING_TYPES = {K8S_RBAC + k for k in ("RoleBinding", "ClusterRoleBinding", "RoleBindingPatch", "ClusterRoleBindingPatch")}
FORBIDDEN_SUBJECTS = {"system:anonymous", "system:unauthenticated", "system:authenticated"}
DEFAULT_ADMIN_GROUP = "inferstack:platform-admins"


def rule_wildcards(rule: dict) -> list[str]:
    return [f for f in ("verbs", "resources", "apiGroups") if "*" in (rule.get(f) or [])]


def _wildcards(args: ResourceValidationArgs, report) -> None:
    if args.resource_type not in ROLE_TYPES:
        return
    for i, rule in enumerate(args.props.get("rules") or []):
        bad = rule_wildcards(rule)
        if bad:
            report(f"rules[{i}] has '*' in {', '.join(bad)}; list verbs, resources and apiGroups explicitly.")


def _bindings(args: ResourceValidationArgs, report) -> None:
    if args.resource_type not in BINDING_TYPES:
        return
    admin = (args.get_config() or {}).get("platformAdminGroup", DEFAULT_ADMIN_GROUP)
    subjects = args.props.get("subjects") or []
    for s in subjects:
        if s.get("name") in FORBIDDEN_SUBJECTS:
            report(f"binding to {s.get('name')} grants access to every (or any unauthenticated) caller.")
    if (args.props.get("roleRef") or {}).get("name") == "cluster-admin":
        for s in subjects:
            if not (s.get("kind") == "Group" and s.get("name") == admin):
                report(f"cluster-admin may only be bound to the group {admin!r}; found {s.get('kind')} {s.get('name')!r}.")




def _admin_group(settings: PolicySettings) -> dict[str, Any]:
    return {"platformAdminGroup": settings.policy.platform_admin_group}


ENTRIES = [
    PolicyEntry(ResourceValidationPolicy(
        name="rbac-no-wildcards",
        description="No '*' in verbs, resources or apiGroups of any Role or ClusterRole rule.",
        validate=_wildcards,
        remediation_steps="Enumerate the verbs, resources and API groups the workload needs.",
    ), MANDATORY, types=tuple(sorted(ROLE_TYPES))),
    PolicyEntry(ResourceValidationPolicy(
        name="rbac-bindings",
        description="cluster-admin only for the platform-admin group; no bindings to system:anonymous/unauthenticated/authenticated.",
        validate=_bindings,
        config_schema=PolicyConfigSchema(properties={"platformAdminGroup": {"type": "string"}}),
        remediation_steps="Bind a narrower role, or bind cluster-admin to the configured platform-admin group only.",
    ), MANDATORY, _admin_group, types=tuple(sorted(BINDING_TYPES))),
]
