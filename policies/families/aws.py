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
    if "principal" in t.inputs and t.has_input("action", "actions"):
        return tuple(n for n in ("principal", "source_account", "source_arn", "principal_org_id", "organization_id",
                                 "condition") if n in t.inputs)
    return ()


def _in_transit_inputs(t: SdkType) -> tuple[str, ...]:
    """Direct TLS/transit inputs, or viewer-facing cache behaviors (a viewer protocol policy: CloudFront)."""
    viewer = tuple(n for n in ("default_cache_behavior", "ordered_cache_behaviors", "viewer_certificate")
                   if "CacheBehavior" in t.inputs.get("default_cache_behavior", "") and n in t.inputs)
    return t.inputs_matching(IN_TRANSIT.pattern) + viewer


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


def _public_ip_inputs(t: SdkType) -> tuple[str, ...]:
    direct = tuple(n for n in PUBLIC_IP if n in t.inputs)
    nested = tuple(n for n in ("network_interfaces",) if "NetworkInterface" in t.inputs.get(n, "")
                   and "LaunchTemplate" in t.inputs.get(n, ""))
    return direct + nested


SPECS: tuple[FamilySpec, ...] = (
    FamilySpec("aws-resource-policy", "aws", "resource-based policy documents: no public or foreign-account principal",
               select=lambda t: bool(_policy_inputs(t)), fields=_policy_inputs),
    FamilySpec("aws-resource-grant", "aws", "permission grants naming a principal: no public or foreign-account principal",
               select=lambda t: bool(_grant_inputs(t)), fields=_grant_inputs),
    FamilySpec("aws-encryption-at-rest", "aws", "encryption at rest: never declared off",
               select=lambda t: bool(t.inputs_matching(AT_REST.pattern)), fields=lambda t: t.inputs_matching(AT_REST.pattern)),
    FamilySpec("aws-kms-key", "aws", "a KMS key input names a customer-managed key, not an AWS-managed alias",
               select=lambda t: bool(t.inputs_matching(KMS_KEY.pattern)), fields=lambda t: t.inputs_matching(KMS_KEY.pattern)),
    FamilySpec("aws-encryption-in-transit", "aws", "encryption in transit: TLS on, plaintext off",
               select=lambda t: bool(_in_transit_inputs(t)), fields=_in_transit_inputs),
    FamilySpec("aws-security-group-ingress", "aws", "security groups: nothing but tcp/443 open to the internet",
               select=lambda t: bool(_sg_ingress_inputs(t)), fields=_sg_ingress_inputs),
    FamilySpec("aws-network-acl", "aws", "network ACLs: no ingress from the internet to remote administration ports",
               select=lambda t: bool(_nacl_inputs(t)), fields=_nacl_inputs),
    FamilySpec("aws-public-ip", "aws", "no public IP addresses or publicly accessible endpoints",
               select=lambda t: bool(_public_ip_inputs(t)), fields=_public_ip_inputs),
    FamilySpec("aws-deletion-protection", "aws", "deletion protection and final snapshots never declared off",
               select=lambda t: t.has_input(*DELETION), fields=lambda t: tuple(n for n in DELETION if n in t.inputs)),
    FamilySpec("aws-backup-retention", "aws", "automated backups never declared off in prod",
               select=lambda t: t.has_input(*RETENTION), fields=lambda t: tuple(n for n in RETENTION if n in t.inputs)),
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
