"""Kubernetes RBAC: no wildcards, no privilege-escalation verbs, no cluster-wide Secret reads, cluster-admin only for
the platform group, no anonymous bindings, no admin roles for default service accounts.

Every policy is mandatory in every environment: an RBAC grant is cluster state, and dev clusters hold the same
cloud credentials (IRSA / Workload Identity) as the workloads they run. Roles and bindings are judged wherever the
program declares them: as objects, ``*Patch`` objects, items of ``RoleList`` / ``ClusterRoleBindingList`` ... and
objects of a yaml/v2 ConfigGroup or ConfigFile (see :mod:`inferstack.policies.rules.k8s_objects`).

* ``rbac-no-wildcards``: no ``*`` in verbs, resources or apiGroups (CIS Kubernetes 5.1.3).
* ``rbac-no-escalation-verbs``: no ``escalate``, ``bind`` or ``impersonate`` verb (CIS Kubernetes 5.1.8): they let
  the holder grant itself any permission or act as any user.
* ``rbac-no-cluster-secret-read``: no ClusterRole rule granting get/list/watch on Secrets, and no
  ClusterRoleBinding of the built-in ``admin`` / ``edit`` roles (which read Secrets) cluster-wide, except to the
  platform-admin group (CIS Kubernetes 5.1.2). Namespaced Roles reading Secrets are judged by
  ``rbac-dangerous-grants``.
* ``rbac-bindings``: cluster-admin only for the platform-admin group; nothing bound to system:anonymous,
  system:unauthenticated or system:authenticated, whatever the role (CIS Kubernetes 5.1.1, 5.1.7).
* ``rbac-no-admin-to-service-accounts``: ``admin``, ``edit`` or ``cluster-admin`` are not bound to a ``default``
  service account or to the ``system:serviceaccounts[:<namespace>]`` groups (CIS Kubernetes 5.1.5): every pod of
  the namespace (or cluster) would hold the role. (system:authenticated is refused by ``rbac-bindings``.)
* ``rbac-dangerous-grants`` (a stack policy: it needs every role and binding of the program): every Role and
  ClusterRole expanded to verb x resource x subresource (wildcards, ``*/subresource``, resourceNames), ClusterRole
  aggregation followed (``aggregationRule`` selectors over the program's ClusterRoles, and the built-in
  ``aggregate-to-admin|edit|view`` labels), and compared with the catalogue of dangerous grants of
  :mod:`inferstack.policies.rules.k8s_permissions` (workload creation, exec/attach, ephemeral containers, token
  requests, persistent volume creation, nodes/proxy, CSR approval, admission webhooks, namespace modification,
  Secret reads in a namespaced Role; CIS Kubernetes 5.1.2, 5.1.4, 5.1.9-5.1.13). A grant is reported on the role
  when it reaches beyond one namespace, or, for exec/attach/ephemeral containers/token requests and a Role's
  get/list/watch of Secrets not limited to ``resourceNames``, any holder (see that module), naming the holders; a
  ClusterRole carrying a built-in ``rbac.authorization.k8s.io/aggregate-to-admin|edit|view`` label is reported for
  what it adds to that role, naming the label. Service accounts of system controllers are allowed per stack, each
  with a reason, in ``inferstack:policy.rbacAllowedServiceAccounts``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import (
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from inferstack.config.policy import PolicySettings
from inferstack.policies.entry import MANDATORY, PolicyEntry
from inferstack.policies.rules import k8s_permissions as perms
from inferstack.policies.rules.common import is_unknown, not_evaluated
from inferstack.policies.rules.k8s_objects import CONTAINER_TYPES, K8sObject, is_map, is_seq, objects, seq

K8S_RBAC = "kubernetes:rbac.authorization.k8s.io/v1:"
ROLE_KINDS = ("Role", "ClusterRole")
BINDING_KINDS = ("RoleBinding", "ClusterRoleBinding")
ROLE_TYPES = {K8S_RBAC + k for k in ("Role", "ClusterRole", "RolePatch", "ClusterRolePatch", "RoleList", "ClusterRoleList")}
BINDING_TYPES = {K8S_RBAC + k for k in ("RoleBinding", "ClusterRoleBinding", "RoleBindingPatch", "ClusterRoleBindingPatch",
                                        "RoleBindingList", "ClusterRoleBindingList")}
#: A ``v1/List`` holds objects of any kind (each item names its kind), as ConfigGroups do.
V1_LIST = "kubernetes:core/v1:List"
FORBIDDEN_SUBJECTS = {"system:anonymous", "system:unauthenticated", "system:authenticated"}
DEFAULT_ADMIN_GROUP = "inferstack:platform-admins"
ESCALATION_VERBS = ("escalate", "bind", "impersonate")
READ_VERBS = {"get", "list", "watch", "*"}
#: Built-in ClusterRoles that read Secrets.
SECRET_READING_ROLES = ("admin", "edit", "cluster-admin")
ADMIN_ROLES = ("admin", "edit", "cluster-admin")
KUBERNETES = frozenset({"kubernetes"})


def rule_wildcards(rule: dict) -> list[str]:
    return [f for f in ("verbs", "resources", "apiGroups") if "*" in (rule.get(f) or [])]


def _of(args: ResourceValidationArgs, kinds: tuple[str, ...], types: set[str]) -> Iterator[K8sObject]:
    if args.resource_type not in types and args.resource_type not in CONTAINER_TYPES and args.resource_type != V1_LIST:
        return
    for obj in objects(args.resource_type, args.props):
        if obj.kind in kinds:
            yield obj


def _prefix(obj: K8sObject) -> str:
    return f"{obj.label}: " if obj.where else ""


def _rules(obj: K8sObject) -> Iterator[tuple[int, Any]]:
    for i, rule in enumerate(seq(obj.props.get("rules"))):
        if is_map(rule):
            yield i, rule


def _wildcards(args: ResourceValidationArgs, report) -> None:
    for obj in _of(args, ROLE_KINDS, ROLE_TYPES):
        for i, rule in _rules(obj):
            bad = rule_wildcards(rule)
            if bad:
                report(f"{_prefix(obj)}rules[{i}] has '*' in {', '.join(bad)}; list verbs, resources and apiGroups explicitly.")


def _escalation_verbs(args: ResourceValidationArgs, report) -> None:
    for obj in _of(args, ROLE_KINDS, ROLE_TYPES):
        for i, rule in _rules(obj):
            bad = [v for v in ESCALATION_VERBS if v in seq(rule.get("verbs"))]
            if bad:
                report(f"{_prefix(obj)}rules[{i}] grants {', '.join(bad)}: the holder can grant itself any permission "
                       "or act as another user.")


def _admin_group_of(args: ResourceValidationArgs) -> str:
    return (args.get_config() or {}).get("platformAdminGroup", DEFAULT_ADMIN_GROUP)


def _is_admin_group(subject: Any, admin: str) -> bool:
    return is_map(subject) and subject.get("kind") == "Group" and subject.get("name") == admin


def _cluster_secret_read(args: ResourceValidationArgs, report) -> None:
    for obj in _of(args, ("ClusterRole",), ROLE_TYPES):
        for i, rule in _rules(obj):
            groups, resources, verbs = seq(rule.get("apiGroups")), seq(rule.get("resources")), seq(rule.get("verbs"))
            if ({"", "*"} & set(groups) and {"secrets", "*"} & set(resources) and READ_VERBS & set(verbs)
                    and not seq(rule.get("resourceNames"))):
                report(f"{_prefix(obj)}ClusterRole rules[{i}] reads Secrets ({', '.join(sorted(READ_VERBS & set(verbs)))}) "
                       "in every namespace once bound cluster-wide.")
    admin = _admin_group_of(args)
    for obj in _of(args, ("ClusterRoleBinding",), BINDING_TYPES):
        role = (obj.props.get("roleRef") or {}).get("name")
        if role not in SECRET_READING_ROLES or role == "cluster-admin":  # cluster-admin: rbac-bindings
            continue
        for s in seq(obj.props.get("subjects")):
            if not _is_admin_group(s, admin):
                report(f"{_prefix(obj)}ClusterRoleBinding of {role} gives {s.get('kind')} {s.get('name')!r} read access "
                       "to Secrets in every namespace; bind it with a RoleBinding in the namespaces needed.")


def _bindings(args: ResourceValidationArgs, report) -> None:
    admin = _admin_group_of(args)
    for obj in _of(args, BINDING_KINDS, BINDING_TYPES):
        subjects = [s for s in seq(obj.props.get("subjects")) if is_map(s)]
        for s in subjects:
            if s.get("name") in FORBIDDEN_SUBJECTS:
                report(f"{_prefix(obj)}binding to {s.get('name')} grants access to every (or any unauthenticated) caller.")
        if (obj.props.get("roleRef") or {}).get("name") == "cluster-admin":
            for s in subjects:
                if not _is_admin_group(s, admin):
                    report(f"{_prefix(obj)}cluster-admin may only be bound to the group {admin!r}; found "
                           f"{s.get('kind')} {s.get('name')!r}.")


def _service_account_subject(s: Any) -> str | None:
    if not is_map(s):
        return None
    name = s.get("name")
    if s.get("kind") == "ServiceAccount" and name == "default":
        return f"the default service account of {s.get('namespace') or 'the binding namespace'}"
    if s.get("kind") == "Group" and isinstance(name, str) and (name == "system:serviceaccounts"
                                                                or name.startswith("system:serviceaccounts:")):
        return f"the group {name}"
    if s.get("kind") == "User" and isinstance(name, str) and name.startswith("system:serviceaccount:") and name.endswith(":default"):
        return f"the default service account (user {name})"
    return None


def _admin_to_service_accounts(args: ResourceValidationArgs, report) -> None:
    for obj in _of(args, BINDING_KINDS, BINDING_TYPES):
        role = (obj.props.get("roleRef") or {}).get("name")
        if role not in ADMIN_ROLES:
            continue
        for s in seq(obj.props.get("subjects")):
            who = _service_account_subject(s)
            if who:
                report(f"{_prefix(obj)}{role} is bound to {who}: every pod using it holds the role. Create a "
                       "dedicated service account with a narrow Role.")


def _has_unknown(value: Any) -> bool:
    if is_unknown(value):
        return True
    if is_map(value):
        return any(_has_unknown(v) for v in value.values())
    return is_seq(value) and any(_has_unknown(v) for v in value)


def _rbac_objects(args: StackValidationArgs) -> tuple[list[perms.Role], list[perms.Binding], list[str]]:
    """Every Role/ClusterRole and binding the program declares (objects, lists, patches, ConfigGroups), and the
    resources whose RBAC fields are unknown at preview time."""
    roles: list[perms.Role] = []
    bindings: list[perms.Binding] = []
    unknown: list[str] = []
    for r in args.resources:
        t = r.resource_type
        if t not in ROLE_TYPES and t not in BINDING_TYPES and t not in CONTAINER_TYPES and t != V1_LIST:
            continue
        try:
            for obj in objects(t, r.props):
                if obj.kind in ROLE_KINDS:
                    fields = (obj.props.get("rules"), obj.props.get("aggregationRule"), obj.props.get("metadata"))
                    if _has_unknown(fields):
                        unknown.append(f"{obj.label} ({r.name})")
                        continue
                    roles.append(perms.role_of(obj.kind, obj.props, ref=(r.urn, obj)))
                elif obj.kind in BINDING_KINDS:
                    fields = (obj.props.get("roleRef"), obj.props.get("subjects"), obj.props.get("metadata"))
                    if _has_unknown(fields):
                        unknown.append(f"{obj.label} ({r.name})")
                        continue
                    bindings.append(perms.binding_of(obj.kind, obj.props, obj.label))
        except UnknownValueError:
            unknown.append(r.name)
    return roles, bindings, unknown


def _allowed_of(args: StackValidationArgs) -> dict[str, str]:
    allowed = (args.get_config() or {}).get("allowedServiceAccounts") or {}
    return dict(allowed) if is_map(allowed) else {}


def _dangerous_grants(args: StackValidationArgs, report) -> None:
    roles, bindings, unknown = _rbac_objects(args)
    aggregated = perms.aggregators(roles)
    allowed = _allowed_of(args)
    for role in roles:
        h = perms.holders(role, bindings, aggregated)
        verdict = perms.judge(role, h, allowed)
        if verdict is None:
            continue
        urn, obj = role.ref
        for message in perms.describe(role, verdict, h):
            report(f"{obj.label + ': ' if obj.where else ''}{message}", urn)
    if unknown:
        not_evaluated(f"roles or bindings {', '.join(unknown)}")


def _allowed_accounts(settings: PolicySettings) -> dict[str, Any]:
    return {"allowedServiceAccounts": dict(settings.policy.rbac_allowed_service_accounts)}


def _admin_group(settings: PolicySettings) -> dict[str, Any]:
    return {"platformAdminGroup": settings.policy.platform_admin_group}


_ADMIN_SCHEMA = PolicyConfigSchema(properties={"platformAdminGroup": {"type": "string"}})
_ROLES = (*sorted(ROLE_TYPES), *CONTAINER_TYPES, V1_LIST)
_BINDINGS = (*sorted(BINDING_TYPES), *CONTAINER_TYPES, V1_LIST)

ENTRIES = [
    PolicyEntry(ResourceValidationPolicy(
        name="rbac-no-wildcards",
        description="No '*' in verbs, resources or apiGroups of any Role or ClusterRole rule.",
        validate=_wildcards,
        remediation_steps="Enumerate the verbs, resources and API groups the workload needs.",
    ), MANDATORY, types=_ROLES, controls=("CIS Kubernetes 5.1.3", "OWASP Kubernetes Top 10: K03", "NSA-CISA Kubernetes Hardening: Role-based access control"), clouds=KUBERNETES),
    PolicyEntry(ResourceValidationPolicy(
        name="rbac-no-escalation-verbs",
        description="No Role or ClusterRole grants the escalate, bind or impersonate verbs.",
        validate=_escalation_verbs,
        remediation_steps="Remove escalate, bind and impersonate from the rule; controllers that manage RBAC get "
                          "them from the platform's own charts, not from stack-declared roles.",
    ), MANDATORY, types=_ROLES, controls=("CIS Kubernetes 5.1.8", "OWASP Kubernetes Top 10: K03", "NSA-CISA Kubernetes Hardening: Role-based access control"), clouds=KUBERNETES),
    PolicyEntry(ResourceValidationPolicy(
        name="rbac-no-cluster-secret-read",
        description="No ClusterRole reads Secrets (get/list/watch) and no ClusterRoleBinding of admin/edit outside the "
                    "platform-admin group.",
        validate=_cluster_secret_read,
        config_schema=_ADMIN_SCHEMA,
        remediation_steps="Grant Secret reads in a namespaced Role (with resourceNames where possible), and bind "
                          "admin/edit with RoleBindings in the namespaces needed.",
    ), MANDATORY, _admin_group, types=(*_ROLES, *sorted(BINDING_TYPES)), controls=("CIS Kubernetes 5.1.2", "OWASP Kubernetes Top 10: K03", "NSA-CISA Kubernetes Hardening: Role-based access control"),
        clouds=KUBERNETES),
    PolicyEntry(ResourceValidationPolicy(
        name="rbac-bindings",
        description="cluster-admin only for the platform-admin group; no bindings to system:anonymous/unauthenticated/authenticated.",
        validate=_bindings,
        config_schema=_ADMIN_SCHEMA,
        remediation_steps="Bind a narrower role, or bind cluster-admin to the configured platform-admin group only.",
    ), MANDATORY, _admin_group, types=_BINDINGS, controls=("CIS Kubernetes 5.1.1", "CIS Kubernetes 5.1.7", "OWASP Kubernetes Top 10: K03", "NSA-CISA Kubernetes Hardening: Role-based access control"),
        clouds=KUBERNETES),
    PolicyEntry(ResourceValidationPolicy(
        name="rbac-no-admin-to-service-accounts",
        description="admin, edit and cluster-admin are not bound to default service accounts or to the "
                    "system:serviceaccounts groups.",
        validate=_admin_to_service_accounts,
        remediation_steps="Bind the role to a dedicated service account (with automountServiceAccountToken only "
                          "where needed) and narrow the role to what the workload does.",
    ), MANDATORY, types=_BINDINGS, controls=("CIS Kubernetes 5.1.5", "OWASP Kubernetes Top 10: K03", "NSA-CISA Kubernetes Hardening: Role-based access control"), clouds=KUBERNETES),
    PolicyEntry(StackValidationPolicy(
        name="rbac-dangerous-grants",
        description="No Role or ClusterRole gives a dangerous grant of the RBAC good-practices list (workload "
                    "creation, persistent volumes, nodes/proxy, CSR approval, admission webhooks, namespace "
                    "modification beyond one namespace; exec/attach, ephemeral containers, token requests and a "
                    "namespaced Role's Secret reads not limited to resourceNames to anyone) once expanded "
                    "(wildcards, subresources, aggregation), except to allowed system service accounts.",
        validate=_dangerous_grants,
        config_schema=PolicyConfigSchema(properties={"allowedServiceAccounts": {"type": "object"}}),
        remediation_steps="Grant the permission in a namespaced Role (or bind the ClusterRole with RoleBindings in "
                          "the namespaces needed), drop the verb or subresource, name the Secrets a Role reads in "
                          "resourceNames, or, for a system controller's "
                          "service account, allow it in inferstack:policy.rbacAllowedServiceAccounts with the reason.",
    ), MANDATORY, _allowed_accounts,
        controls=("CIS Kubernetes 5.1.2", "CIS Kubernetes 5.1.4", "CIS Kubernetes 5.1.9", "CIS Kubernetes 5.1.10", "CIS Kubernetes 5.1.11",
                  "CIS Kubernetes 5.1.12", "CIS Kubernetes 5.1.13", "OWASP Kubernetes Top 10: K03", "NSA-CISA Kubernetes Hardening: "
                  "Role-based access control"),
        clouds=KUBERNETES, url="https://kubernetes.io/docs/concepts/security/rbac-good-practices/"),
]
