"""AWS families: membership predicates over the installed pulumi_aws SDK (never a hand list of types).

Each :class:`~inferstack.policies.families.base.FamilySpec` decides from a type's inputs (names and annotations)
whether it carries a control; ``EXPLAINED`` names the members (token or token prefix) that need no rule, with why.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from inferstack.policies.families.base import FamilySpec, SdkType

#: Inputs holding a resource-based policy document (JSON text or a PolicyDocument).
POLICY_DOCUMENT_INPUTS = ("policy", "policy_document", "access_policies", "access_policy", "resource_policy")
#: Inputs that can turn encryption at rest off (a flag, an encryption type, an encrypt-at-rest block).
AT_REST = re.compile(
    r"(storage_|root_volume_|user_volume_|kms_|at_rest_)?encrypted|at_rest_encryption_enabled|encrypt_at_rest"
    r"|(root_volume_|user_volume_)?encryption_enabled|encryption_type|server_side_encryption|sqs_managed_sse_enabled")
#: Inputs naming the KMS key that encrypts the resource's data.
KMS_KEY = re.compile(r"(.+_)?kms_(key|key_id|key_arn|master_key_id|key_identifier)")
#: Inputs declaring encryption or TLS in transit.
IN_TRANSIT = re.compile(
    r"transit_encryption_enabled|transit_encryption_mode|in_transit_encryption|tls_enabled|require_tls"
    r"|node_to_node_encryption|domain_endpoint_options|ssl_policy|tls_policy|encryption_info")
#: Inputs giving a resource (or the instances it launches) a public IP address or a public endpoint.
#: SageMaker notebooks' direct_internet_access and domains' app_network_access_type (both default to the internet).
PUBLIC_IP = ("associate_public_ip_address", "map_public_ip_on_launch", "publicly_accessible", "create_public_ip",
             "direct_internet_access", "app_network_access_type")
#: Inputs keeping automated backups (0 turns them off).
RETENTION = ("backup_retention_period", "snapshot_retention_limit", "automated_snapshot_retention_period")
#: Inputs protecting a resource from deletion, or skipping the final snapshot taken when it is deleted.
DELETION = ("deletion_protection", "deletion_protection_enabled", "enable_deletion_protection", "skip_final_snapshot")


def _is_text(annotation: str) -> bool:
    return "_builtins.str" in annotation or "PolicyDocument" in annotation


def _policy_inputs(t: SdkType) -> tuple[str, ...]:
    return tuple(n for n in POLICY_DOCUMENT_INPUTS if n in t.inputs and _is_text(t.inputs[n]))


def _grant_inputs(t: SdkType) -> tuple[str, ...]:
    """A grant of use to others: a permission naming a ``principal`` (with its restricting inputs), or a sharing
    setting that can open the resource to everyone by construction (:func:`_share_inputs`)."""
    if "principal" in t.inputs and t.has_input("action", "actions"):
        return tuple(n for n in ("principal", "source_account", "source_arn", "principal_org_id", "organization_id",
                                 "condition") if n in t.inputs)
    return _share_inputs(t)


def _share_inputs(t: SdkType) -> tuple[str, ...]:
    """Sharing inputs whose values can mean "everyone": a snapshot's ``shared_accounts`` (``all``: a public RDS
    snapshot), a launch permission's ``group`` next to its ``account_id`` (``all``: a public AMI), a function URL's
    ``authorization_type`` (``NONE``: anyone may invoke), a document's share ``permissions`` (``account_ids``
    ``All``: a public SSM document)."""
    if "shared_accounts" in t.inputs and "Sequence" in t.inputs["shared_accounts"]:
        return ("shared_accounts",)
    if "group" in t.inputs and "account_id" in t.inputs and "_builtins.str" in t.inputs["group"]:
        return ("group",)
    if "authorization_type" in t.inputs and "function_name" in t.inputs:
        return ("authorization_type",)
    if "permissions" in t.inputs and "content" in t.inputs and "Mapping[str" in t.inputs["permissions"]:
        return ("permissions",)
    return ()


def _in_transit_inputs(t: SdkType) -> tuple[str, ...]:
    """Direct TLS/transit inputs, viewer-facing cache behaviors (a viewer protocol policy: CloudFront), or a load
    balancer's in-line listeners with a front-end protocol (classic ELB ``listeners[].lb_protocol``)."""
    viewer = tuple(n for n in ("default_cache_behavior", "ordered_cache_behaviors", "viewer_certificate")
                   if "CacheBehavior" in t.inputs.get("default_cache_behavior", "") and n in t.inputs)
    listeners = ("listeners",) if "LoadBalancerListener" in t.inputs.get("listeners", "") else ()
    return t.inputs_matching(IN_TRANSIT.pattern) + viewer + listeners


def _nacl_inputs(t: SdkType) -> tuple[str, ...]:
    """A network ACL's inline entries, or one network ACL rule (numbered, allow/deny, ingress or egress)."""
    if "NetworkAcl" in t.inputs.get("ingress", ""):
        return ("ingress",)
    if {"rule_action", "rule_number", "egress"} <= set(t.inputs):
        return tuple(n for n in ("egress", "rule_action", "protocol", "cidr_block", "ipv6_cidr_block", "from_port",
                                 "to_port") if n in t.inputs)
    return ()


def _sg_ingress_inputs(t: SdkType) -> tuple[str, ...]:
    """A security group's inline ingress, or a security-group rule that can be ingress (a ``type`` input, or an
    ``*IngressRule`` class) with a CIDR source."""
    if "SecurityGroupIngress" in t.inputs.get("ingress", ""):
        return ("ingress",)
    cidrs = tuple(n for n in ("cidr_blocks", "ipv6_cidr_blocks", "cidr_ipv4", "cidr_ipv6") if n in t.inputs)
    if "security_group_id" in t.inputs and cidrs and ("type" in t.inputs or t.cls.endswith("IngressRule")):
        return cidrs
    return ()


#: A bucket resource's in-line inputs for the bucket controls (its own ACL, grants, policy, default encryption,
#: access logging, versioning); the split-out configuration types are members of their controls' families.
BUCKET_INLINE = re.compile(r"acl|grants|policy|server_side_encryption_configurations?|loggings?|versionings?")
#: The four switches of an S3 public access block (a bucket's or the account's).
PUBLIC_ACCESS_BLOCK = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")


def is_s3_bucket(t: SdkType) -> bool:
    """A type that creates an S3 bucket (general purpose or directory): a ``*Bucket``/``*BucketV<n>`` class of the
    s3 service that takes the bucket's own name (``bucket``) and can empty it on delete (``force_destroy``). Objects
    take ``force_destroy`` but are not buckets; the ``Bucket<Thing>`` configuration types and S3 Vectors/Tables
    buckets (their own services' names, no ``bucket`` input) are not."""
    return (t.service == "s3" and re.fullmatch(r"\w*Bucket(V\d+)?", t.cls) is not None
            and t.has_input("bucket") and t.has_input("force_destroy"))


def is_directory_bucket(t: SdkType) -> bool:
    """An S3 directory bucket (S3 Express One Zone, Local Zones): a bucket placed in one zone (a ``location``) with
    single-zone ``data_redundancy``. It keeps its objects unversioned: S3 does not support versioning on it."""
    return is_s3_bucket(t) and t.has_input("location") and t.has_input("data_redundancy")


#: A general purpose bucket's in-line inputs that keep versioning on: its versioning block(s), or S3 Object Lock
#: (enabling it enables versioning for good: it can no longer be suspended).
BUCKET_VERSIONING_INLINE = re.compile(r"versionings?|object_lock_enabled|object_lock_configuration")


def _versioning_inputs(t: SdkType) -> tuple[str, ...]:
    """A bucket's versioning: a general purpose bucket (any bucket type but a directory bucket) with its in-line
    versioning inputs, or a split-out versioning configuration (it names a ``bucket`` and its
    ``versioning_configuration`` holds the status)."""
    if is_s3_bucket(t):
        return () if is_directory_bucket(t) else t.inputs_matching(BUCKET_VERSIONING_INLINE.pattern)
    if "bucket" in t.inputs and "VersioningConfiguration" in t.inputs.get("versioning_configuration", ""):
        return ("versioning_configuration",)
    return ()


def _is_versioning_member(t: SdkType) -> bool:
    return (is_s3_bucket(t) and not is_directory_bucket(t)) or bool(_versioning_inputs(t))


def _bucket_sse_inputs(t: SdkType) -> tuple[str, ...]:
    """A split-out default-encryption configuration of a bucket: it names a ``bucket`` and its ``rules`` are
    server-side-encryption rules."""
    return ("rules",) if "bucket" in t.inputs and "ServerSideEncryption" in t.inputs.get("rules", "") else ()


def _acl_inputs(t: SdkType) -> tuple[str, ...]:
    """An S3 access control list: a canned ``acl`` (text), an ``access_control_policy`` or ``grants`` of grantees,
    on a bucket, a bucket's split-out ACL, or an object."""
    if t.service != "s3":
        return ()
    acl = ("acl",) if _is_text_or_enum(t.inputs.get("acl", "")) else ()
    grants = tuple(n for n in ("access_control_policy", "grants")
                   if "AccessControlPolicy" in t.inputs.get(n, "") or "Grant" in t.inputs.get(n, ""))
    return acl + grants


def _is_text_or_enum(annotation: str) -> bool:
    return "_builtins.str" in annotation or "CannedAcl" in annotation


def _is_vpc(t: SdkType) -> bool:
    """A VPC the program creates or adopts (``Vpc``, ``DefaultVpc``): it carries the VPC's DNS switches."""
    return t.service == "ec2" and "enable_dns_hostnames" in t.inputs and "enable_dns_support" in t.inputs


def _is_default_security_group(t: SdkType) -> bool:
    """A VPC's default security group, adopted by the program: security-group ingress and egress, but no ``name``
    (the group exists with the VPC; the program cannot name it)."""
    return ("SecurityGroupIngress" in t.inputs.get("ingress", "") and "egress" in t.inputs
            and "name" not in t.inputs and "vpc_id" in t.inputs)


#: Block-device inputs of a type that launches instances with EBS volumes in-line (each with ``encrypted``).
BLOCK_DEVICES = ("root_block_device", "ebs_block_devices")


def _block_device_inputs(t: SdkType) -> tuple[str, ...]:
    return tuple(n for n in BLOCK_DEVICES if "BlockDevice" in t.inputs.get(n, ""))


def _public_ip_inputs(t: SdkType) -> tuple[str, ...]:
    direct = tuple(n for n in PUBLIC_IP if n in t.inputs)
    nested = tuple(n for n in ("network_interfaces",) if "NetworkInterface" in t.inputs.get(n, "")
                   and "LaunchTemplate" in t.inputs.get(n, ""))
    return direct + nested


SPECS: tuple[FamilySpec, ...] = (
    FamilySpec("aws-resource-policy", "aws", "resource-based policy documents: no public or foreign-account principal",
               select=lambda t: bool(_policy_inputs(t)), fields=_policy_inputs),
    FamilySpec("aws-resource-grant", "aws",
               "permission grants and sharing settings: no public or foreign-account principal, no share with all "
               "accounts, no unauthenticated invoke URL",
               select=lambda t: bool(_grant_inputs(t)), fields=_grant_inputs),
    FamilySpec("aws-encryption-at-rest", "aws", "encryption at rest: never declared off",
               select=lambda t: bool(t.inputs_matching(AT_REST.pattern)), fields=lambda t: t.inputs_matching(AT_REST.pattern)),
    FamilySpec("aws-kms-key", "aws", "a KMS key input names a customer-managed key, not an AWS-managed alias",
               select=lambda t: bool(t.inputs_matching(KMS_KEY.pattern)), fields=lambda t: t.inputs_matching(KMS_KEY.pattern)),
    FamilySpec("aws-encryption-in-transit", "aws", "encryption in transit: TLS on, plaintext off",
               select=lambda t: bool(_in_transit_inputs(t)), fields=_in_transit_inputs),
    FamilySpec("aws-security-group-ingress", "aws", "security groups: nothing but tcp/443 open to the internet",
               select=lambda t: bool(_sg_ingress_inputs(t)), fields=_sg_ingress_inputs),
    FamilySpec("aws-default-security-group", "aws", "a VPC's default security group restricts all traffic (no rules)",
               select=_is_default_security_group, fields=lambda t: ("ingress", "egress")),
    FamilySpec("aws-vpc", "aws", "VPCs (created or adopted default ones): flow logs on",
               select=_is_vpc),
    FamilySpec("aws-instance-block-devices", "aws",
               "in-line EBS block devices (instances, launch configurations, AMIs): never declared unencrypted (unless the account "
               "encrypts EBS by default)",
               select=lambda t: bool(_block_device_inputs(t)), fields=_block_device_inputs),
    FamilySpec("aws-network-acl", "aws", "network ACLs: no ingress from the internet to remote administration ports",
               select=lambda t: bool(_nacl_inputs(t)), fields=_nacl_inputs),
    FamilySpec("aws-public-ip", "aws", "no public IP addresses or publicly accessible endpoints",
               select=lambda t: bool(_public_ip_inputs(t)), fields=_public_ip_inputs),
    FamilySpec("aws-notebook-root-access", "aws", "notebook instances: no root access for their users",
               select=lambda t: "_builtins.str" in t.inputs.get("root_access", ""), fields=lambda t: ("root_access",)),
    FamilySpec("aws-deletion-protection", "aws", "deletion protection and final snapshots never declared off",
               select=lambda t: t.has_input(*DELETION), fields=lambda t: tuple(n for n in DELETION if n in t.inputs)),
    FamilySpec("aws-backup-retention", "aws", "automated backups never declared off in prod",
               select=lambda t: t.has_input(*RETENTION), fields=lambda t: tuple(n for n in RETENTION if n in t.inputs)),
    FamilySpec("aws-s3-bucket", "aws",
               "S3 buckets: SSE-KMS under a customer-managed key, TLS-only bucket policy, public access blocked, "
               "protected in prod",
               select=is_s3_bucket, fields=lambda t: t.inputs_matching(BUCKET_INLINE.pattern)),
    FamilySpec("aws-s3-bucket-encryption", "aws",
               "a bucket's split-out default encryption: SSE-KMS with a customer-managed key",
               select=lambda t: bool(_bucket_sse_inputs(t)), fields=_bucket_sse_inputs),
    FamilySpec("aws-s3-acl", "aws", "S3 ACLs: no grant to everyone (AllUsers) or to any AWS account (AuthenticatedUsers)",
               select=lambda t: bool(_acl_inputs(t)), fields=_acl_inputs),
    FamilySpec("aws-s3-bucket-logging", "aws",
               "a bucket's split-out server access logging: on for the bucket a CloudTrail trail writes to",
               select=lambda t: t.has_input("bucket") and t.has_input("target_bucket"),
               fields=lambda t: tuple(n for n in ("target_bucket", "target_prefix") if n in t.inputs)),
    FamilySpec("aws-s3-bucket-versioning", "aws",
               "general purpose S3 buckets (directory buckets cannot be versioned) and their split-out versioning "
               "configurations: versioning Enabled (or Object Lock), never Suspended",
               select=_is_versioning_member, fields=_versioning_inputs),
    FamilySpec("aws-s3-public-access-block", "aws", "S3 public access blocks: all four switches on",
               select=lambda t: all(n in t.inputs for n in PUBLIC_ACCESS_BLOCK),
               fields=lambda t: PUBLIC_ACCESS_BLOCK),
)

_NO_PRINCIPAL = ("its document names no principal (an identity or session policy, or a non-IAM document): "
                 "resource-policy-not-public runs on it and finds nothing to open")
#: Members of a family no rule needs to judge for the family's control, with why. Most family members are judged
#: (the family's policy runs on every member); these are listed so the coverage table shows why the policy never
#: fires on them.
EXPLAINED: Mapping[str, str] = MappingProxyType({
    "aws:iam/policy:Policy": "identity policy (no principal): the iam-* policies judge it",
    "aws:iam/rolePolicy:RolePolicy": "identity policy (no principal): the iam-* policies judge it",
    "aws:iam/userPolicy:UserPolicy": "identity policy on a user: iam-users-no-direct-policies reports it",
    "aws:iam/groupPolicy:GroupPolicy": "identity policy (no principal): the iam-* policies judge it",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": "an image lifecycle rule set, not a permission document",
    "aws:ses/receiptFilter:ReceiptFilter": "policy is Allow/Block for an IP range, not a permission document",
    "aws:opensearch/serverlessLifecyclePolicy:ServerlessLifecyclePolicy": "a retention rule set, not a permission document",
    "aws:opensearch/serverlessSecurityPolicy:ServerlessSecurityPolicy":
        "an encryption/network rule set (JSON rules, no IAM statements)",
    "aws:cloudwatch/logIndexPolicy:LogIndexPolicy": "a field-index configuration, not a permission document",
    "aws:cloudwatch/logDataProtectionPolicy:LogDataProtectionPolicy": "a data-masking configuration, not a permission document",
    "aws:sns/dataProtectionPolicy:DataProtectionPolicy": "a data-masking configuration, not a permission document",
    "aws:iot/policyAttachment:PolicyAttachment": "policy is the name of an IoT policy, not a document",
    "aws:transfer/user:User": "a session policy scoping the user's own access: " + _NO_PRINCIPAL,
    "aws:transfer/access:Access": "a session policy scoping the access's own permissions: " + _NO_PRINCIPAL,
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": "a session policy narrowing the pod's role: " + _NO_PRINCIPAL,
    "aws:verifiedaccess/endpoint:Endpoint": "a Cedar policy over the caller's identity claims, not an IAM document",
    "aws:verifiedaccess/group:Group": "a Cedar policy over the caller's identity claims, not an IAM document",
    "aws:networkmanager/coreNetworkPolicyAttachment:CoreNetworkPolicyAttachment": "a core-network routing document",
    "aws:iot/policy:Policy": "an IoT Core policy attached to certificates and things: " + _NO_PRINCIPAL,
    "aws:cloudwatch/logAccountPolicy:LogAccountPolicy":
        "an account-level data-protection, subscription-filter or field-index document, not a permission document",
    "aws:lightsail/distribution:Distribution":
        "a Lightsail distribution's cache behavior has no viewer protocol setting (Lightsail serves HTTPS itself)",
})
