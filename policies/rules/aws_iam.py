"""AWS IAM depth: NotAction/NotResource, wildcard-equivalent actions, privilege escalation, managed admin policies,
OIDC trust scoping and resource policies open to anyone or to foreign accounts."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase
from typing import Any

from pulumi_policy import (
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from inferstack.policies import families
from inferstack.policies.entry import MANDATORY, PolicyEntry
from inferstack.policies.families.base import camel
from inferstack.policies.rules.common import IAM_ROLE as ROLE
from inferstack.policies.rules.common import (
    IDENTITY_DOCS,
    as_list,
    document_statements,
    identity_documents,
    is_unknown,
    not_evaluated,
    parse_json,
)

#: The families whose members hold a resource-based policy (policies/families/aws.py: every type with a policy
#: document input) or grant a permission to a named principal (Lambda permissions, EventBridge bus permissions ...).
RESOURCE_POLICY_FAMILY = "aws-resource-policy"
GRANT_FAMILY = "aws-resource-grant"
#: Condition keys that restrict WHO may use a grant: a statement open to '*' or to a foreign account is excused only
#: by one of these, with a concrete value (aws:SecureTransport, aws:CurrentTime, aws:SourceIp ... restrict how or
#: when, not who). aws:SourceArn and aws:PrincipalArn count only when the ARN names an account.
WHO_KEYS = frozenset({"aws:principalorgid", "aws:principalorgpaths", "aws:principalaccount", "aws:sourceaccount",
                      "aws:sourceowner", "aws:sourcevpce", "aws:sourcevpc", "aws:sourceorgid", "aws:sourceorgpaths",
                      "aws:resourceorgid", "kms:calleraccount"})
ARN_WHO_KEYS = frozenset({"aws:sourcearn", "aws:principalarn"})
#: Condition operators that admit only the listed values (a negated operator admits everyone else).
_NEGATED = ("StringNot", "ArnNot", "ForAllValues:StringNot", "ForAnyValue:StringNot", "Null")


def restricts_who(condition: Any) -> bool:
    """Whether a statement's Condition limits the principals to named accounts, organizations or endpoints."""
    if not isinstance(condition, Mapping):
        return False
    for op, keys in condition.items():
        if not isinstance(keys, Mapping) or str(op).startswith(_NEGATED) or str(op).endswith("IfExists"):
            continue  # a negated operator admits everyone else; ...IfExists admits requests without the key
        for key, value in keys.items():
            values = [v for v in as_list(value) if isinstance(v, str)]
            if not values or any(v.strip() in ("", "*") for v in values):
                continue
            k = str(key).lower()
            if k in WHO_KEYS:
                return True
            if k in ARN_WHO_KEYS and all(re.search(r":\d{12}:", v + ":") for v in values):
                return True
    return False


def policy_documents(resource_type: str, props: Mapping) -> list[tuple[str, Any]]:
    """``(input, document)`` of each resource-policy input a member of the resource-policy family declares."""
    return [(camel(f), props.get(camel(f))) for f in families.fields(RESOURCE_POLICY_FAMILY, resource_type)
            if props.get(camel(f)) is not None]


ATTACHMENTS = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
)
#: Services whose wildcard grants amount to administration of the account or of its data.
SENSITIVE_SERVICES = frozenset({"iam", "sts", "kms", "s3", "ec2", "eks", "secretsmanager", "organizations", "lambda",
                                "ssm", "dynamodb", "cloudtrail", "logs", "ecr", "sso", "account"})
#: Actions that let a principal raise its own privileges (Rhino Security's IAM escalation paths and friends).
ESCALATION_ACTIONS = (
    "iam:PassRole", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:AttachUserPolicy",
    "iam:AttachGroupPolicy", "iam:AttachRolePolicy", "iam:PutUserPolicy", "iam:PutGroupPolicy", "iam:PutRolePolicy",
    "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile", "iam:UpdateAssumeRolePolicy",
    "iam:AddUserToGroup", "iam:CreatePolicy", "iam:CreateRole", "iam:CreateUser", "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary", "sts:AssumeRole", "lambda:UpdateFunctionCode", "lambda:CreateFunction",
    "ec2:RunInstances", "ssm:SendCommand", "ssm:StartSession", "cloudformation:CreateStack",
)
ADMIN_MANAGED_POLICIES = frozenset({
    "AdministratorAccess", "PowerUserAccess", "IAMFullAccess", "AWSOrganizationsFullAccess",
    "AdministratorAccess-Amplify", "AdministratorAccess-AWSElasticBeanstalk", "AmazonS3FullAccess",
    "SecretsManagerReadWrite", "AWSKeyManagementServicePowerUser", "AmazonEC2FullAccess", "AWSLambda_FullAccess",
    "SystemAdministrator", "NetworkAdministrator", "DatabaseAdministrator",
})
MANAGED_ARN = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)$")
ACCOUNT_IN_ARN = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:(\d{12}):")
ACCOUNT_ID = re.compile(r"^\d{12}$")


def _statements(value: Any, report, what: str) -> Iterator[tuple[str, Mapping]]:
    statements = document_statements(value)
    if statements is None:
        if value is not None:
            not_evaluated(f"{what} is unknown or not JSON")
        return
    yield from statements


def _allows(args: ResourceValidationArgs, report) -> Iterator[tuple[str, Mapping]]:
    for where, value in identity_documents(args.resource_type, args.props):
        for sid, stmt in _statements(value, report, where):
            if stmt.get("Effect") == "Allow":
                yield f"{where} statement {sid}", stmt


def _not_action(args: ResourceValidationArgs, report) -> None:
    for where, stmt in _allows(args, report):
        for key in ("NotAction", "NotResource"):
            if stmt.get(key) is not None:
                report(f"{where}: Allow with {key} {as_list(stmt.get(key))} grants everything else; list what is allowed.")


def wildcard_equivalent(action: str) -> bool:
    """`*`, `?*`, `*:*`, a wildcard in the service part, or `service:*`/`service:?*` on a sensitive service."""
    if "*" not in action and "?" not in action:
        return False
    service, _, verb = action.partition(":")
    if not verb or any(ch in service for ch in "*?"):
        return True
    return service.lower() in SENSITIVE_SERVICES and verb.strip("*?") == ""


def _wildcards(args: ResourceValidationArgs, report) -> None:
    for where, stmt in _allows(args, report):
        bad = [a for a in as_list(stmt.get("Action")) if isinstance(a, str) and wildcard_equivalent(a)]
        if bad:
            report(f"{where}: wildcard-equivalent actions {bad}; name the actions.")


def _escalation(args: ResourceValidationArgs, report) -> None:
    for where, stmt in _allows(args, report):
        if not any(r == "*" for r in as_list(stmt.get("Resource"))):
            continue
        actions = [a for a in as_list(stmt.get("Action")) if isinstance(a, str)]
        hits = sorted({e for e in ESCALATION_ACTIONS for a in actions if fnmatchcase(e.lower(), a.lower())})
        if hits:
            report(f"{where}: privilege-escalation actions {hits} on Resource '*' (conditions do not make this safe); "
                   "scope them to ARNs.")


def _managed_admin(args: ResourceValidationArgs, report) -> None:
    arns = as_list(args.props.get("managedPolicyArns")) if args.resource_type == ROLE else [args.props.get("policyArn")]
    for arn in arns:
        m = MANAGED_ARN.match(arn) if isinstance(arn, str) else None
        if m and m.group(1) in ADMIN_MANAGED_POLICIES:
            report(f"AWS-managed policy {m.group(1)} grants administration; attach a scoped customer-managed policy.")


def _oidc_trust(args: ResourceValidationArgs, report) -> None:
    for sid, stmt in _statements(args.props.get("assumeRolePolicy"), report, "assumeRolePolicy"):
        principal = stmt.get("Principal")
        federated = as_list(principal.get("Federated")) if isinstance(principal, Mapping) else []
        actions = [a for a in as_list(stmt.get("Action")) if isinstance(a, str)]
        if stmt.get("Effect") != "Allow" or not federated or not any("WebIdentity" in a or a == "*" for a in actions) \
                and not any("oidc" in str(f) for f in federated):
            continue
        keys: dict[str, list] = {}
        for op, conds in (stmt.get("Condition") or {}).items():
            for k, v in (conds or {}).items():
                keys.setdefault(k.rsplit(":", 1)[-1], []).append((op, as_list(v)))
        missing = [k for k in ("sub", "aud") if k not in keys]
        if missing:
            report(f"trust statement {sid}: OIDC federation without a {'/'.join(missing)} condition lets any identity "
                   "of the provider assume the role.")
        elif any("*" in str(v) for _, vs in keys["sub"] for v in vs) and any(op.startswith("StringLike") for op, _ in keys["sub"]):
            report(f"trust statement {sid}: OIDC sub condition is a wildcard; name the service accounts.")


def _open_principals(stmt: Mapping) -> list[str]:
    principal = stmt.get("Principal")
    if principal == "*":
        return ["*"]
    if isinstance(principal, Mapping):
        return [str(p) for k, v in principal.items() if k in ("AWS", "*") for p in as_list(v)]
    return []


def _rule_list_principals(value: Any) -> list[tuple[int, list]]:
    """``(index, principals)`` of a rule-list access document (OpenSearch Serverless data access policies: a JSON
    list of ``{"Rules": [...], "Principal": [...]}``)."""
    doc = parse_json(value)
    if not isinstance(doc, list):
        return []
    return [(i, as_list(r.get("Principal"))) for i, r in enumerate(doc) if isinstance(r, Mapping) and "Principal" in r]


def _resource_policy_public(args: ResourceValidationArgs, report) -> None:
    for field, value in policy_documents(args.resource_type, args.props):
        if isinstance(value, str) and not value.lstrip().startswith(("{", "[")):
            continue  # plain text (an IoT policy name, a receipt filter's Allow/Block): not a document
        for i, principals in _rule_list_principals(value):
            if "*" in principals:
                report(f"{field} rule {i} grants principal '*': anyone may use the resource.")
        if isinstance(parse_json(value), list):
            continue
        for sid, stmt in _statements(value, report, field):
            if stmt.get("Effect") == "Allow" and "*" in _open_principals(stmt) and not restricts_who(stmt.get("Condition")):
                report(f"{field} statement {sid} allows principal '*' with no condition restricting who (aws:PrincipalOrgID, "
                       "aws:PrincipalAccount, aws:SourceAccount, aws:SourceVpce, aws:SourceArn naming an account): "
                       "the resource is public.")


def _grant_principal(props: Mapping) -> str | None:
    p = props.get("principal")
    return p if isinstance(p, str) else None


def _grant_restricted(props: Mapping) -> bool:
    """A permission grant limited to an account or organization by its own inputs."""
    if any(isinstance(props.get(k), str) and props.get(k) for k in ("sourceAccount", "principalOrgId", "organizationId")):
        return True
    arn = props.get("sourceArn")
    if isinstance(arn, str) and re.search(r":\d{12}:", arn + ":"):
        return True
    cond = props.get("condition")
    if isinstance(cond, Mapping) and str(cond.get("key", "")).lower() in WHO_KEYS and cond.get("value") not in (None, "", "*"):
        return True
    return False


def _all_accounts(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() == "all"


def _shared_publicly(props: Mapping, fields: tuple[str, ...]) -> Iterator[str]:
    """Why a sharing setting of the grant family opens the resource to everyone (policies/families/aws.py
    ``_share_inputs``)."""
    for f in fields:
        value = props.get(camel(f))
        if value is None:
            continue
        if is_unknown(value):
            not_evaluated(f"{camel(f)}")
        if f == "shared_accounts" and any(_all_accounts(a) for a in as_list(value)):
            yield ("shared_accounts includes 'all': the snapshot is public, any AWS account can copy or restore it "
                   "(FSBP RDS.1).")
        elif f == "group" and _all_accounts(value):
            yield "launch permission group 'all': the image is public, any AWS account can launch it."
        elif f == "authorization_type" and str(value).strip().upper() == "NONE":
            yield ("authorization_type NONE: the function URL is public, anyone on the internet can invoke the "
                   "function; use AWS_IAM.")
        elif f == "permissions" and isinstance(value, Mapping) and str(value.get("type", "")).lower() == "share" \
                and any(_all_accounts(a) for a in str(value.get("accountIds", value.get("account_ids", ""))).split(",")):
            yield "permissions share the document with account_ids All: the SSM document is public (FSBP SSM.4)."


def _grant_public(args: ResourceValidationArgs, report) -> None:
    for why in _shared_publicly(args.props, families.fields(GRANT_FAMILY, args.resource_type)):
        report(why)
    principal = args.props.get("principal")
    if principal is None:
        return
    if principal == "*" and not _grant_restricted(args.props):
        report("grants principal '*' with no source account, organization or account-scoped source ARN: anyone can "
               "use it.")


def _account_of(principal: str) -> str | None:
    if ACCOUNT_ID.match(principal):
        return principal
    m = ACCOUNT_IN_ARN.match(principal + ":") if principal.startswith("arn:") else None
    if m:
        return m.group(1)
    m = re.match(r"^arn:aws[a-z-]*:iam::(\d{12}):", principal)
    return m.group(1) if m else None


def _stack_accounts(args: StackValidationArgs) -> set[str]:
    found: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, str):
            found.update(ACCOUNT_IN_ARN.findall(v))
        elif isinstance(v, Mapping):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    for r in args.resources:
        if r.resource_type.startswith("aws:"):
            # the grants themselves name the accounts they open to: they cannot tell which accounts are the stack's
            skip = {camel(f) for f in families.fields(RESOURCE_POLICY_FAMILY, r.resource_type)}
            skip |= {"principal"} if r.resource_type in families.members(GRANT_FAMILY) else set()
            walk({k: v for k, v in dict(r.props).items() if k not in skip})
        if r.provider is not None and r.resource_type.startswith("aws:"):
            found.update(str(a) for a in as_list(r.provider.props.get("allowedAccountIds")))
    return found


def _grants(r) -> list[tuple[str, Mapping]]:
    """``(where, statement)`` of each Allow a resource grants: its policy documents' statements, or a permission
    resource's principal as one statement."""
    out = []
    for field, value in policy_documents(r.resource_type, r.props):
        doc = parse_json(value)
        if isinstance(doc, Mapping):
            out += [(f"{field} statement {stmt.get('Sid') or i}", stmt) for i, stmt in enumerate(as_list(doc.get("Statement")))
                    if isinstance(stmt, Mapping) and stmt.get("Effect") == "Allow"
                    and not restricts_who(stmt.get("Condition"))]
    if r.resource_type in families.members(GRANT_FAMILY) and isinstance(r.props.get("principal"), str) \
            and not _grant_restricted(r.props):
        out.append(("principal", {"Principal": {"AWS": r.props["principal"]}, "Resource": []}))
    return out


def _foreign_accounts(args: StackValidationArgs, report) -> None:
    own = _stack_accounts(args)
    for r in args.resources:
        for where, stmt in _grants(r):
            here = own | set(ACCOUNT_IN_ARN.findall(" ".join(str(x) + ":" for x in as_list(stmt.get("Resource")))))
            foreign = sorted({a for p in _open_principals(stmt) if (a := _account_of(p)) and a not in here})
            if foreign and not here:
                not_evaluated(f"{r.name}: the stack's own AWS account (no ARN or provider allowedAccountIds names it)")
            if foreign:
                report(f"{r.name}: {where} grants foreign accounts {foreign} with no condition restricting who "
                       "(aws:PrincipalOrgID, aws:SourceAccount, ...).", r.urn)


IDENTITY_TYPES = (ROLE, *IDENTITY_DOCS)
ENTRIES = [
    PolicyEntry(ResourceValidationPolicy(
        name="iam-no-not-action", description="No Allow statement uses NotAction or NotResource.",
        validate=_not_action, remediation_steps="Replace NotAction/NotResource with the explicit actions and resources allowed.",
    ), MANDATORY, types=IDENTITY_TYPES, controls=("FSBP IAM.1", "CIS AWS 1.16")),
    PolicyEntry(ResourceValidationPolicy(
        name="iam-no-wildcard-actions",
        description="No Allow statement grants '*', '?*', a wildcard service, or 'service:*' on a sensitive service.",
        validate=_wildcards, remediation_steps="Name the actions (iam:GetRole, s3:GetObject, ...) instead of wildcards.",
    ), MANDATORY, types=IDENTITY_TYPES, controls=("FSBP IAM.21", "CIS AWS 1.16")),
    PolicyEntry(ResourceValidationPolicy(
        name="iam-no-privilege-escalation",
        description="No privilege-escalation action (iam:PassRole, iam:CreatePolicyVersion, iam:Attach*/Put*Policy, "
                    "sts:AssumeRole, ...) on Resource '*', whatever the conditions.",
        validate=_escalation, remediation_steps="Scope escalation-capable actions to the role/policy ARNs they need.",
    ), MANDATORY, types=IDENTITY_TYPES, controls=("FSBP IAM.21", "NIST 800-53 AC-6"), severity="critical"),
    PolicyEntry(ResourceValidationPolicy(
        name="iam-no-admin-managed-policies",
        description="No AWS-managed admin or power-user policy (AdministratorAccess, PowerUserAccess, IAMFullAccess, "
                    "...) attached to a role, user or group.",
        validate=_managed_admin, remediation_steps="Attach a customer-managed policy listing the actions needed.",
    ), MANDATORY, types=(ROLE, *ATTACHMENTS), controls=("CIS AWS 1.16", "FSBP IAM.1"), severity="critical"),
    PolicyEntry(ResourceValidationPolicy(
        name="iam-oidc-trust-scoped",
        description="An OIDC-federated trust policy conditions on both the token's sub and aud.",
        validate=_oidc_trust,
        remediation_steps="Add StringEquals conditions on <provider>:sub (system:serviceaccount:ns:name) and <provider>:aud (sts.amazonaws.com).",
    ), MANDATORY, types=(ROLE,), controls=("CIS EKS 5.2.1", "NIST 800-53 AC-3")),
    PolicyEntry(ResourceValidationPolicy(
        name="resource-policy-not-public",
        description="No resource-based policy (every AWS type with a policy document input: buckets, keys, queues, "
                    "topics, secrets, repositories, file systems, domains, vaults ...) allows principal '*' unless a "
                    "condition restricts who (aws:PrincipalOrgID, aws:PrincipalAccount, aws:SourceAccount, "
                    "aws:SourceVpce, aws:SourceArn naming an account); aws:SecureTransport and the like do not.",
        validate=_resource_policy_public,
        remediation_steps="Name the principals, or condition the statement on aws:PrincipalOrgID / aws:SourceAccount.",
    ), MANDATORY, families=(RESOURCE_POLICY_FAMILY,),
       controls=("FSBP S3.2", "FSBP S3.3", "FSBP SQS.3", "FSBP SNS.4", "FSBP KMS.5")),
    PolicyEntry(ResourceValidationPolicy(
        name="resource-grant-not-public",
        description="No permission grant (Lambda permission, layer permission, EventBridge bus permission, signer or "
                    "Private CA permission) names principal '*' without a source account, organization or "
                    "account-scoped source ARN; no sharing setting opens a resource to everyone (RDS snapshot "
                    "shared_accounts 'all', AMI launch permission group 'all', Lambda function URL "
                    "authorization_type NONE, SSM document shared with All).",
        validate=_grant_public,
        remediation_steps="Name the principal account or service, and set sourceAccount / principalOrgId / sourceArn; "
                          "share snapshots and images with named accounts; use authorization_type AWS_IAM.",
    ), MANDATORY, families=(GRANT_FAMILY,), controls=("FSBP Lambda.1", "FSBP RDS.1", "FSBP SSM.4")),
    PolicyEntry(StackValidationPolicy(
        name="resource-policy-no-foreign-accounts",
        description="No resource-based policy or permission grant opens to an account outside the stack's accounts "
                    "unless a condition restricts who (aws:PrincipalOrgID, aws:SourceAccount, ...).",
        validate=_foreign_accounts, remediation_steps="Grant only the stack's accounts, or condition on aws:PrincipalOrgID.",
    ), MANDATORY, clouds={"aws"}, controls=("FSBP S3.6", "NIST 800-53 AC-3")),
]
