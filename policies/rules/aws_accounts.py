"""AWS account hygiene: IAM users (no access keys, no directly attached or inline policies), account settings a
program declares weak (EBS encryption by default off, a password policy below CIS), and CloudTrail trails
(multi-region, log file validation, a KMS key).

Each rule judges what a resource declares: a setting the program does not declare is not judged here (the
account's own state is not in the program). Unknown values at preview time are "not evaluated".
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy
from pulumi_policy.proxy import UnknownValueError

from inferstack.policies.entry import ADVISORY_IN_DEV, MANDATORY, PolicyEntry
from inferstack.policies.rules.common import as_list, is_unknown, not_evaluated

USER_POLICY = "aws:iam/userPolicy:UserPolicy"
USER_ATTACHMENT = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
USER_POLICIES_EXCLUSIVE = "aws:iam/userPoliciesExclusive:UserPoliciesExclusive"
USER_ATTACHMENTS_EXCLUSIVE = "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive"
ACCESS_KEY = "aws:iam/accessKey:AccessKey"
EBS_DEFAULT = "aws:ebs/encryptionByDefault:EncryptionByDefault"
PASSWORD_POLICY = "aws:iam/accountPasswordPolicy:AccountPasswordPolicy"
TRAIL = "aws:cloudtrail/trail:Trail"
ACCOUNT_PUBLIC_ACCESS_BLOCK = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")

#: CIS AWS Foundations 1.8 / 1.9 (FSBP IAM.15 / IAM.16): length at least 14, the last 24 passwords not reused.
MIN_PASSWORD_LENGTH = 14
MIN_PASSWORD_REUSE_PREVENTION = 24


def _known(value: Any, what: str) -> Any:
    if is_unknown(value):
        not_evaluated(what)
    return value


def _user_policies(args: ResourceValidationArgs, report) -> None:
    t, props = args.resource_type, args.props
    if t == USER_POLICY:
        report(f"inline policy on IAM user {props.get('user')!r}: grant users permissions through groups (or use roles).")
    elif t == USER_ATTACHMENT:
        report(f"policy {props.get('policyArn')!r} attached directly to IAM user {props.get('user')!r}: attach it to a "
               "group the user belongs to (or use roles).")
    elif t == POLICY_ATTACHMENT:
        users = as_list(_known(props.get("users"), "users"))
        if users:
            report(f"policy {props.get('policyArn')!r} attached directly to IAM users {users}: attach it to groups.")
    elif t == USER_POLICIES_EXCLUSIVE:
        if as_list(_known(props.get("policyNames"), "policyNames")):
            report(f"IAM user {props.get('userName')!r} keeps inline policies {as_list(props.get('policyNames'))}.")
    elif t == USER_ATTACHMENTS_EXCLUSIVE:
        if as_list(_known(props.get("policyArns"), "policyArns")):
            report(f"IAM user {props.get('userName')!r} keeps attached policies {as_list(props.get('policyArns'))}.")


def _access_keys(args: ResourceValidationArgs, report) -> None:
    status = _known(args.props.get("status"), "status")
    if status != "Inactive":
        report(f"long-lived access key for IAM user {args.props.get('user')!r} (its secret lands in the stack state and "
               "is never rotated by the program): use roles (IRSA, Pod Identity, instance profiles, OIDC federation).")


def _ebs_default(args: ResourceValidationArgs, report) -> None:
    if _known(args.props.get("enabled"), "enabled") is False:
        report("EBS encryption by default is declared disabled for the region: enable it (enabled: true).")


def _password_policy(args: ResourceValidationArgs, report) -> None:
    p = args.props
    length = _known(p.get("minimumPasswordLength"), "minimumPasswordLength")
    reuse = _known(p.get("passwordReusePrevention"), "passwordReusePrevention")
    # The API's defaults when unset: length 6, reuse prevention off.
    if length is None or float(length) < MIN_PASSWORD_LENGTH:
        report(f"minimumPasswordLength {length if length is not None else 'unset (AWS default 6)'}: CIS requires "
               f"at least {MIN_PASSWORD_LENGTH}.")
    if reuse is None or float(reuse) < MIN_PASSWORD_REUSE_PREVENTION:
        report(f"passwordReusePrevention {reuse if reuse is not None else 'unset (reuse allowed)'}: CIS requires the "
               f"last {MIN_PASSWORD_REUSE_PREVENTION} passwords not be reused.")


def _account_public_access(args: ResourceValidationArgs, report) -> None:
    off = [f for f in PUBLIC_ACCESS_FLAGS if _known(args.props.get(f), f) is not True]
    if off:
        report(f"account-level S3 Block Public Access declared with {', '.join(off)} not true (unset means false): "
               "buckets of the account can be made public.")


def _trail(args: ResourceValidationArgs, report) -> None:
    p = args.props
    if _known(p.get("isMultiRegionTrail"), "isMultiRegionTrail") is not True:
        report("isMultiRegionTrail is not true: the trail misses API activity in other regions.")
    if _known(p.get("enableLogFileValidation"), "enableLogFileValidation") is not True:
        report("enableLogFileValidation is not true: tampering with delivered log files goes undetected.")
    try:
        key = p.get("kmsKeyId")
    except UnknownValueError:  # unknown at preview: the ARN of a key the program creates
        key = True
    if not key:
        report("no kmsKeyId: the trail's log files are not encrypted with a customer-managed KMS key.")
    if _known(p.get("enableLogging"), "enableLogging") is False:
        report("enableLogging is false: the trail records nothing.")


ENTRIES = [
    PolicyEntry(ResourceValidationPolicy(
        name="iam-users-no-direct-policies",
        description="No inline or directly attached policy on an IAM user: users get permissions through groups.",
        validate=_user_policies,
        remediation_steps="Put the user in a group and attach the policy to the group (or use a role).",
    ), MANDATORY, types=(USER_POLICY, USER_ATTACHMENT, POLICY_ATTACHMENT, USER_POLICIES_EXCLUSIVE,
                         USER_ATTACHMENTS_EXCLUSIVE), controls=("CIS AWS 1.15", "FSBP IAM.2")),
    PolicyEntry(ResourceValidationPolicy(
        name="iam-no-user-access-keys",
        description="No active long-lived IAM user access key is created by the program.",
        validate=_access_keys,
        remediation_steps="Use roles: IRSA or EKS Pod Identity in the cluster, OIDC federation for CI.",
    ), ADVISORY_IN_DEV, types=(ACCESS_KEY,), controls=("CIS AWS 1.14", "FSBP IAM.3")),
    PolicyEntry(ResourceValidationPolicy(
        name="account-ebs-encryption-by-default",
        description="A declared EBS encryption-by-default setting is enabled.",
        validate=_ebs_default, remediation_steps="Set enabled: true on aws.ebs.EncryptionByDefault.",
    ), MANDATORY, types=(EBS_DEFAULT,), controls=("CIS AWS 2.2.1", "FSBP EC2.7")),
    PolicyEntry(ResourceValidationPolicy(
        name="account-password-policy",
        description=f"A declared account password policy requires at least {MIN_PASSWORD_LENGTH} characters and "
                    f"prevents reuse of the last {MIN_PASSWORD_REUSE_PREVENTION} passwords.",
        validate=_password_policy,
        remediation_steps=f"Set minimumPasswordLength >= {MIN_PASSWORD_LENGTH} and passwordReusePrevention = "
                          f"{MIN_PASSWORD_REUSE_PREVENTION}.",
    ), MANDATORY, types=(PASSWORD_POLICY,), controls=("CIS AWS 1.8", "CIS AWS 1.9", "FSBP IAM.15", "FSBP IAM.16")),
    PolicyEntry(ResourceValidationPolicy(
        name="account-s3-public-access-block",
        description="A declared account-level S3 Block Public Access sets all four settings true.",
        validate=_account_public_access,
        remediation_steps="Set blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets to true.",
    ), MANDATORY, types=(ACCOUNT_PUBLIC_ACCESS_BLOCK,), controls=("FSBP S3.1",)),
    PolicyEntry(ResourceValidationPolicy(
        name="cloudtrail-hardened",
        description="A CloudTrail trail is multi-region, validates its log files, encrypts them with a KMS key and "
                    "is not declared off.",
        validate=_trail,
        remediation_steps="Set isMultiRegionTrail: true, enableLogFileValidation: true and kmsKeyId on the trail.",
    ), MANDATORY, types=(TRAIL,),
       controls=("CIS AWS 3.1", "CIS AWS 3.2", "CIS AWS 3.7", "FSBP CloudTrail.1", "FSBP CloudTrail.2",
                 "FSBP CloudTrail.4")),
]
