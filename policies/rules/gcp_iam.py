"""GCP IAM grants, user-managed service-account keys and audit configs, through every type that can express them.

A grant is judged from what the resource is, read from its type token (never its name):

- the **kind**: the class name ends with ``IamMember`` / ``IAMMember`` (one ``member``), ``IamBinding`` /
  ``IAMBinding`` (``members``), ``IamPolicy`` / ``IAMPolicy`` (a whole ``policyData`` JSON document: its
  ``bindings`` and ``auditConfigs``) or ``IamAuditConfig`` / ``IAMAuditConfig`` (``service`` + ``auditLogConfigs``);
  every such type of pulumi_gcp (buckets, KMS keys, secrets, repositories, service accounts, topics, datasets, Cloud
  Run, ...) is one of these four;
- the **level**: the ``organizations``, ``folder`` and ``projects`` modules' own ``IAM*`` classes grant at the
  organization, folder or project; every other grant type is on one resource.

Public access is also granted outside IAM, through Cloud Storage ACLs (``entity`` / ``roleEntities`` naming
``allUsers`` or ``allAuthenticatedUsers``) and BigQuery dataset access entries (``specialGroup`` / ``iamMember``);
``gcp-iam-no-public-members`` judges those too. IAM conditions do not excuse a public member: a condition restricts
when, never who.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy

from inferstack.policies.entry import MANDATORY, PolicyEntry
from inferstack.policies.rules.common import as_list, is_unknown, not_evaluated, parse_json

#: The families of policies/families/gcp.py these rules judge.
GRANTS, PUBLIC_ACL, AUDIT = "gcp-iam-grant", "gcp-public-acl", "gcp-audit-config"
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
BASIC_ROLES = ("roles/owner", "roles/editor", "roles/viewer")
#: Roles that let a member act as (or mint tokens for) every service account below the grant's level (CIS GCP 1.6).
IMPERSONATION_ROLES = ("roles/iam.serviceAccountUser", "roles/iam.serviceAccountTokenCreator")
#: The modules whose own ``IAM*`` classes grant on the hierarchy node itself.
HIERARCHY_MODULES = {"organizations": "organization", "folder": "folder", "projects": "project"}
#: Audit log types a declared audit config must enable (CIS GCP 2.1).
DATA_LOG_TYPES = ("DATA_READ", "DATA_WRITE")

#: Cloud Storage ACL types: entity holders and role-entity lists (``READER:allUsers``).
STORAGE_ACL_ENTITY = ("gcp:storage/bucketAccessControl:BucketAccessControl",
                      "gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl",
                      "gcp:storage/objectAccessControl:ObjectAccessControl")
STORAGE_ACL_LISTS = ("gcp:storage/bucketACL:BucketACL", "gcp:storage/defaultObjectACL:DefaultObjectACL",
                     "gcp:storage/objectACL:ObjectACL")
BQ_DATASET = "gcp:bigquery/dataset:Dataset"
BQ_DATASET_ACCESS = "gcp:bigquery/datasetAccess:DatasetAccess"
#: Long-lived credentials of a service account created by the program (CIS GCP 1.4).
SA_KEY_TYPES = ("gcp:serviceaccount/key:Key", "gcp:storage/hmacKey:HmacKey")

_KIND_SUFFIXES = (("iamauditconfig", "audit"), ("iammember", "member"), ("iambinding", "binding"), ("iampolicy", "policy"))


def _split(type_token: str) -> tuple[str, str, str]:
    """(package, module, class) of a type token (``gcp:projects/iAMMember:IAMMember`` -> gcp, projects, IAMMember)."""
    package, _, rest = type_token.partition(":")
    module_path, _, cls = rest.rpartition(":")
    return package, module_path.split("/", 1)[0], cls


def grant_kind(type_token: str) -> str | None:
    """``member`` | ``binding`` | ``policy`` | ``audit`` for a pulumi_gcp IAM type, from its class name; else None."""
    package, _, cls = _split(type_token)
    if package != "gcp":
        return None
    lower = cls.lower()
    return next((kind for suffix, kind in _KIND_SUFFIXES if lower.endswith(suffix)), None)


def grant_level(type_token: str) -> str:
    """``organization`` | ``folder`` | ``project`` for the hierarchy modules' own IAM classes, else ``resource``."""
    _, module, cls = _split(type_token)
    if module in HIERARCHY_MODULES and cls.lower() in {s for s, _ in _KIND_SUFFIXES}:
        return HIERARCHY_MODULES[module]
    return "resource"


def is_iam_type(type_token: str) -> bool:
    return grant_kind(type_token) is not None


@dataclass(frozen=True)
class Grant:
    """One role granted to members, as any grant type declares it."""

    where: str  # "" for a member/binding resource, "binding <i>" inside a policy document
    role: Any
    members: tuple[Any, ...]
    conditioned: bool


def _policy_document(props: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The parsed ``policyData`` document; stops the rule ("not evaluated") when it is unknown at preview time."""
    value = props.get("policyData")
    if is_unknown(value):
        not_evaluated("policyData")
    doc = parse_json(value)
    return doc if isinstance(doc, Mapping) else None


def grants(type_token: str, props: Mapping[str, Any]) -> Iterator[Grant]:
    """The grants a resource of an IAM type declares (a policy document: each binding)."""
    kind = grant_kind(type_token)
    if kind == "member":
        yield Grant("", props.get("role"), (props.get("member"),), bool(props.get("condition")))
    elif kind == "binding":
        yield Grant("", props.get("role"), tuple(as_list(props.get("members"))), bool(props.get("condition")))
    elif kind == "policy":
        doc = _policy_document(props) or {}
        for i, b in enumerate(as_list(doc.get("bindings"))):
            if isinstance(b, Mapping):
                yield Grant(f"policyData binding {i} ", b.get("role"), tuple(as_list(b.get("members"))), bool(b.get("condition")))


def _unknown_check(g: Grant, what: str) -> None:
    if is_unknown(g.role) or any(is_unknown(m) for m in g.members):
        not_evaluated(f"the {what} of an IAM grant")


def _bad_document(args: ResourceValidationArgs, report) -> bool:
    if grant_kind(args.resource_type) == "policy" and _policy_document(args.props) is None:
        report("policyData is not a JSON IAM policy document; cannot verify its bindings.")
        return True
    return False


# ---------------------------------------------------------------- public members (IAM, Cloud Storage ACLs, BigQuery)


def _acl_entities(type_token: str, props: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    if type_token in STORAGE_ACL_ENTITY:
        yield "entity", props.get("entity")
    elif type_token in STORAGE_ACL_LISTS:
        for i, re in enumerate(as_list(props.get("roleEntities"))):
            yield f"roleEntities[{i}]", re.rpartition(":")[2] if isinstance(re, str) else re
    elif type_token == BQ_DATASET_ACCESS:
        yield "specialGroup", props.get("specialGroup")
        yield "iamMember", props.get("iamMember")
    elif type_token == BQ_DATASET:
        for i, a in enumerate(as_list(props.get("accesses"))):
            if isinstance(a, Mapping):
                yield f"accesses[{i}].specialGroup", a.get("specialGroup")
                yield f"accesses[{i}].iamMember", a.get("iamMember")


def _public_members(args: ResourceValidationArgs, report) -> None:
    t, p = args.resource_type, args.props
    if is_iam_type(t):
        if _bad_document(args, report):
            return
        for g in grants(t, p):
            _unknown_check(g, "members")
            public = [m for m in g.members if m in PUBLIC_MEMBERS]
            if public:
                extra = " (an IAM condition restricts when, not who: it does not excuse a public member)" if g.conditioned else ""
                report(f"{g.where}grants {g.role} to {', '.join(public)}: anyone on the internet{extra}. Grant it to named "
                       "users, groups or service accounts.")
        return
    for where, entity in _acl_entities(t, p):
        if is_unknown(entity):
            not_evaluated(where)
        if entity in PUBLIC_MEMBERS:
            report(f"{where} grants access to {entity}: anyone on the internet. Name users, groups or service accounts.")


# ---------------------------------------------------------------- basic roles, impersonation at the hierarchy


def _basic_roles(args: ResourceValidationArgs, report) -> None:
    if _bad_document(args, report):
        return
    level = grant_level(args.resource_type)
    for g in grants(args.resource_type, args.props):
        _unknown_check(g, "role")
        if g.role in BASIC_ROLES:
            report(f"{g.where}grants the basic role {g.role} at {level} level to {', '.join(map(str, g.members))}: basic "
                   "roles span every service. Grant a predefined or custom role of the service instead.")


def _impersonation(args: ResourceValidationArgs, report) -> None:
    level = grant_level(args.resource_type)
    if level == "resource" or _bad_document(args, report):
        return
    for g in grants(args.resource_type, args.props):
        _unknown_check(g, "role")
        if g.role in IMPERSONATION_ROLES:
            report(f"{g.where}grants {g.role} at {level} level to {', '.join(map(str, g.members))}: it can act as every "
                   "service account of the " + level + ". Grant it on the one service account (gcp.serviceaccount.IAMMember).")


def is_admin_role(role: Any) -> bool:
    """roles/owner, roles/editor, or a role whose name ends in admin/Admin (roles/storage.admin,
    roles/iam.serviceAccountAdmin, organizations/1/roles/ciAdmin): CIS GCP 1.5's admin privileges."""
    return isinstance(role, str) and (role in ("roles/owner", "roles/editor") or role.lower().endswith("admin"))


def _sa_admin(args: ResourceValidationArgs, report) -> None:
    level = grant_level(args.resource_type)
    if level == "resource" or _bad_document(args, report):
        return
    for g in grants(args.resource_type, args.props):
        _unknown_check(g, "members")
        accounts = [m for m in g.members if isinstance(m, str) and m.startswith("serviceAccount:")]
        if accounts and is_admin_role(g.role) and g.role not in BASIC_ROLES:
            report(f"{g.where}grants the admin role {g.role} at {level} level to service account(s) "
                   f"{', '.join(accounts)}: a workload's key or token then administers the {level}. Grant the "
                   "narrow roles it uses.")


# ---------------------------------------------------------------- audit configs


def audit_configs(type_token: str, props: Mapping[str, Any]) -> Iterator[tuple[str, Any, list]]:
    """(where, service, auditLogConfigs) of each audit config a resource declares."""
    kind = grant_kind(type_token)
    if kind == "audit":
        yield "", props.get("service"), as_list(props.get("auditLogConfigs"))
    elif kind == "policy":
        doc = _policy_document(props) or {}
        for i, c in enumerate(as_list(doc.get("auditConfigs"))):
            if isinstance(c, Mapping):
                yield f"policyData auditConfig {i} ", c.get("service"), as_list(c.get("auditLogConfigs"))


def _audit(args: ResourceValidationArgs, report) -> None:
    kind = grant_kind(args.resource_type)
    if kind not in ("audit", "policy") or (kind == "policy" and _bad_document(args, report)):
        return
    for where, service, configs in audit_configs(args.resource_type, args.props):
        if is_unknown(configs) or any(is_unknown(c) for c in configs):
            not_evaluated("auditLogConfigs")
        types = set()
        for c in configs:
            if not isinstance(c, Mapping):
                continue
            log_type = c.get("logType")
            types.add(log_type)
            exempted = as_list(c.get("exemptedMembers"))
            if exempted:
                report(f"{where}audit config for {service} exempts {', '.join(map(str, exempted))} from {log_type} logs: "
                       "no member may be exempted.")
        missing = [t for t in DATA_LOG_TYPES if t not in types]
        if missing:
            report(f"{where}audit config for {service} does not enable {', '.join(missing)}: data access must be logged "
                   "(logType DATA_READ and DATA_WRITE).")


# ---------------------------------------------------------------- user-managed keys


def _user_managed_keys(args: ResourceValidationArgs, report) -> None:
    if args.resource_type == "gcp:storage/hmacKey:HmacKey":
        report(f"HMAC key for {args.props.get('serviceAccountEmail')}: a long-lived, downloadable credential of a service "
               "account. Use the service account's own identity (Workload Identity, attached service accounts).")
    elif args.resource_type in SA_KEY_TYPES:
        report(f"user-managed key for service account {args.props.get('serviceAccountId')}: a long-lived credential that "
               "can leak. Use Workload Identity or attached service accounts; Google-managed keys rotate themselves.")


ENTRIES = [
    PolicyEntry(ResourceValidationPolicy(
        name="gcp-iam-no-public-members",
        description="No IAM grant (any *IamMember/*IamBinding/*IamPolicy type, any level), Cloud Storage ACL or "
                    "BigQuery dataset access names allUsers or allAuthenticatedUsers; conditions do not excuse them.",
        validate=_public_members,
        remediation_steps="Grant the role to named users, groups or service accounts; serve public content through a "
                          "load balancer or signed URLs instead of a public grant.",
    ), MANDATORY, families=(GRANTS, PUBLIC_ACL), controls=("CIS GCP 1.9", "CIS GCP 5.1", "CIS GCP 7.1", "NIST 800-53 AC-3")),
    PolicyEntry(ResourceValidationPolicy(
        name="gcp-iam-no-basic-roles",
        description="No IAM grant at any level gives a basic role (roles/owner, roles/editor, roles/viewer).",
        validate=_basic_roles,
        remediation_steps="Grant predefined or custom roles of the services the member uses.",
    ), MANDATORY, families=(GRANTS,), controls=("CIS GCP 1.5", "NIST 800-53 AC-6")),
    PolicyEntry(ResourceValidationPolicy(
        name="gcp-iam-no-project-sa-impersonation",
        description="Service Account User and Token Creator are not granted at project, folder or organization level.",
        validate=_impersonation,
        remediation_steps="Grant roles/iam.serviceAccountUser or roles/iam.serviceAccountTokenCreator on the one "
                          "service account (gcp.serviceaccount.IAMMember).",
    ), MANDATORY, families=(GRANTS,), controls=("CIS GCP 1.6",)),
    PolicyEntry(ResourceValidationPolicy(
        name="gcp-iam-no-sa-admin",
        description="No service account is granted an admin role (*admin, *Admin) at project, folder or organization "
                    "level (owner and editor: gcp-iam-no-basic-roles).",
        validate=_sa_admin,
        remediation_steps="Grant the service account the predefined roles of what it does (e.g. roles/storage.objectViewer), "
                          "scoped to the resources it uses.",
    ), MANDATORY, families=(GRANTS,), controls=("CIS GCP 1.5",)),
    PolicyEntry(ResourceValidationPolicy(
        name="gcp-no-user-managed-sa-keys",
        description="No user-managed service-account key or HMAC key is created.",
        validate=_user_managed_keys,
        remediation_steps="Remove the key; use Workload Identity (GKE), Workload Identity Federation or an attached "
                          "service account.",
    ), MANDATORY, types=SA_KEY_TYPES, controls=("CIS GCP 1.4",)),
    PolicyEntry(ResourceValidationPolicy(
        name="gcp-audit-config-complete",
        description="Declared audit configs (IAMAuditConfig at any level, auditConfigs of a policy document) log "
                    "DATA_READ and DATA_WRITE and exempt no member.",
        validate=_audit,
        remediation_steps="Set audit_log_configs with log_type DATA_READ and DATA_WRITE (and ADMIN_READ) and no "
                          "exempted_members.",
    ), MANDATORY, families=(AUDIT, GRANTS), controls=("CIS GCP 2.1",)),
]
