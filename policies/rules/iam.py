"""Least privilege in AWS IAM and GKE access settings."""

from __future__ import annotations

from collections.abc import Mapping

from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy

from inferstack.policies.entry import MANDATORY, PolicyEntry
from inferstack.policies.rules.common import IAM_ROLE as ROLE
from inferstack.policies.rules.common import (
    IDENTITY_DOCS,
    as_list,
    document_statements,
    get,
    identity_documents,
)

# KMS key policies are not judged here: they grant on "*" (the key itself) by design.
READ_PREFIXES = ("Describe", "Get", "List", "Read", "View")
GKE_CLUSTER = "gcp:container/cluster:Cluster"


def is_write_action(action: str) -> bool:
    """True unless the action's verb is read-only (Describe*, Get*, List*, ...)."""
    verb = action.split(":", 1)[-1]
    return not verb.startswith(READ_PREFIXES)


def statement_problems(stmt: dict) -> list[str]:
    """Why one Allow statement is too broad: action '*' (or NotAction) or a write action on resource '*'."""
    if stmt.get("Effect") != "Allow":
        return []
    actions = [a for a in as_list(stmt.get("Action")) if isinstance(a, str)]
    resources = as_list(stmt.get("Resource"))
    out = []
    if stmt.get("NotAction") is not None:  # allows every action but the listed ones
        out.append(f"NotAction {as_list(stmt.get('NotAction'))} (allows every other action)")
    if any(a == "*" or a.endswith(":*") for a in actions):
        out.append(f"action wildcard {[a for a in actions if a == '*' or a.endswith(':*')]}")
    if "*" in resources and not stmt.get("Condition"):
        writes = [a for a in actions if is_write_action(a)]
        if writes:
            out.append(f"write actions {writes} on resource '*' without a Condition")
    return out


def _check_document(value, where: str, report) -> None:
    statements = document_statements(value)
    if statements is None:
        if value is not None:
            report(f"{where or 'policy document '}is unknown or not JSON at preview time; cannot verify least privilege.")
        return
    for sid, stmt in statements:
        for p in statement_problems(stmt):
            report(f"{where}statement {sid}: {p}. Name explicit actions and resource ARNs.")


def _iam_policies(args: ResourceValidationArgs, report) -> None:
    for where, value in identity_documents(args.resource_type, args.props):
        _check_document(value, "" if where == "policy" else f"{where}: ", report)


def _trust(args: ResourceValidationArgs, report) -> None:
    if args.resource_type != ROLE:
        return
    for sid, stmt in document_statements(args.props.get("assumeRolePolicy")) or []:
        if stmt.get("Effect") != "Allow":
            continue
        principal = stmt.get("Principal")
        named = [p for v in principal.values() for p in as_list(v)] if isinstance(principal, Mapping) else []
        if principal == "*" or "*" in named:
            report(f"trust policy statement {sid} lets any principal ('*') assume the role.")


def _gke_access(args: ResourceValidationArgs, report) -> None:
    if args.resource_type != GKE_CLUSTER:
        return
    if get(args.props, "enableLegacyAbac") is True:
        report("GKE legacy ABAC must be off (enableLegacyAbac: false).")
    if not get(args.props, "workloadIdentityConfig", "workloadPool"):
        report("GKE Workload Identity must be on (workloadIdentityConfig.workloadPool: <project>.svc.id.goog).")


ENTRIES = [
    PolicyEntry(ResourceValidationPolicy(
        name="iam-least-privilege",
        description="No IAM statement allows action '*' or a write action on resource '*'.",
        validate=_iam_policies,
        remediation_steps="List explicit actions and scope resources to ARNs (or add a Condition).",
    ), MANDATORY, types=(ROLE, *IDENTITY_DOCS),
       controls=("CIS AWS 1.16", "FSBP IAM.1", "FSBP IAM.21")),
    PolicyEntry(ResourceValidationPolicy(
        name="iam-trust-not-public",
        description="No role trust policy is open to '*'.",
        validate=_trust,
        remediation_steps="Name the trusted principal (account, service or OIDC provider) explicitly.",
    ), MANDATORY, types=(ROLE,),
       controls=("NIST 800-53 AC-3", "FSBP IAM.1")),
    PolicyEntry(ResourceValidationPolicy(
        name="gke-access-control",
        description="GKE legacy ABAC off and Workload Identity on.",
        validate=_gke_access,
        remediation_steps="Set enable_legacy_abac=False and workload_identity_config.workload_pool.",
    ), MANDATORY, types=(GKE_CLUSTER,),
       controls=("CIS GKE 5.8.4", "CIS GKE 5.2.2")),
]
