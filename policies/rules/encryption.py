"""Encryption at rest with customer-managed keys (AWS KMS, Cloud KMS)."""

from __future__ import annotations

from collections.abc import Mapping

from pulumi_policy import (
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from inferstack.policies import families
from inferstack.policies.entry import MANDATORY, PolicyEntry
from inferstack.policies.rules.common import (
    as_list,
    get,
    is_aws_managed_key,
    is_unknown,
    names_unknown,
    not_evaluated,
    refers_to,
)

#: Every S3 bucket type (Bucket, BucketV2, DirectoryBucket ...) and every split-out default-encryption type of a
#: bucket (BucketServerSideEncryptionConfiguration and its V2): families generated from the SDK.
BUCKETS = "aws-s3-bucket"
BUCKET_ENCRYPTION = "aws-s3-bucket-encryption"
KMS_KEY = "aws:kms/key:Key"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
EBS_VOLUME = "aws:ebs/volume:Volume"
DYNAMODB_TABLE = "aws:dynamodb/table:Table"
AWS_SECRET = "aws:secretsmanager/secret:Secret"
GCS_BUCKET = "gcp:storage/bucket:Bucket"
GKE_CLUSTER = "gcp:container/cluster:Cluster"
GCP_SECRET = "gcp:secretmanager/secret:Secret"
MAX_GCP_ROTATION_SECONDS = 90 * 86400


def sse_defaults(config: object) -> list:
    """The ``applyServerSideEncryptionByDefault`` blocks of an S3 encryption configuration, whatever the shape:
    a split-out configuration's ``rules``, Bucket's in-line ``serverSideEncryptionConfiguration.rule`` or
    BucketV2's ``serverSideEncryptionConfigurations[].rules[].applyServerSideEncryptionByDefaults[]``."""
    out = []
    for cfg in as_list(config):
        for rule in [*as_list(get(cfg, "rule")), *as_list(get(cfg, "rules"))]:
            out += [d for d in [*as_list(get(rule, "applyServerSideEncryptionByDefault")),
                                *as_list(get(rule, "applyServerSideEncryptionByDefaults"))] if isinstance(d, Mapping)]
    return out


def sse_kms_cmk(config: object) -> bool:
    """True when some default-encryption rule is SSE-KMS (or DSSE-KMS) under a customer-managed key."""
    return any(d.get("sseAlgorithm") in ("aws:kms", "aws:kms:dsse") and d.get("kmsMasterKeyId")
               and not is_aws_managed_key(d.get("kmsMasterKeyId")) for d in sse_defaults(config))


def _inline_sse(b) -> object:
    """A bucket's in-line default encryption (Bucket: one block; BucketV2: a list), or None."""
    return b.props.get("serverSideEncryptionConfiguration") or b.props.get("serverSideEncryptionConfigurations")


def _s3_sse_kms(args: StackValidationArgs, report) -> None:
    configured: dict[str, bool] = {}
    unknown = False
    bucket_types, config_types = families.members(BUCKETS), families.members(BUCKET_ENCRYPTION)
    buckets = [b for b in args.resources if b.resource_type in bucket_types]
    for b in buckets:
        inline = _inline_sse(b)
        if inline:
            configured[b.urn] = ok = sse_kms_cmk(inline)
            if not ok:
                report(f"S3 bucket {b.name}: in-line serverSideEncryptionConfiguration must be SSE-KMS with a "
                       "customer-managed key (kmsMasterKeyId set, not alias/aws/s3).", b.urn)
    for r in args.resources:
        if r.resource_type not in config_types:
            continue
        ok = sse_kms_cmk(r.props)
        if not ok:
            report(f"{r.name}: S3 encryption must be SSE-KMS with a customer-managed key (kmsMasterKeyId set, not alias/aws/s3).", r.urn)
        unknown = unknown or names_unknown(r)
        for b in buckets:
            if refers_to(r, b):
                configured[b.urn] = configured.get(b.urn, False) or ok
    if unknown and any(b.urn not in configured for b in buckets):
        not_evaluated("a BucketServerSideEncryptionConfiguration's bucket")
    for b in buckets:
        if b.urn not in configured:
            report(
                f"S3 bucket {b.name} ({b.resource_type}) has no BucketServerSideEncryptionConfiguration; add one with "
                "sseAlgorithm aws:kms and a customer-managed kmsMasterKeyId.",
                b.urn,
            )


def _kms_rotation(args: ResourceValidationArgs, report) -> None:
    if args.resource_type == KMS_KEY:
        if args.props.get("customerMasterKeySpec", "SYMMETRIC_DEFAULT") in (None, "SYMMETRIC_DEFAULT") and args.props.get(
            "keySpec", "SYMMETRIC_DEFAULT"
        ) in (None, "SYMMETRIC_DEFAULT") and args.props.get("enableKeyRotation") is not True:
            report("KMS key must set enableKeyRotation: true.")
    elif args.resource_type == CRYPTO_KEY:
        period = args.props.get("rotationPeriod")
        if not period:
            report("Cloud KMS CryptoKey must set rotationPeriod (at most 7776000s, 90 days).")
            return
        try:
            seconds = float(str(period).removesuffix("s"))
        except ValueError:
            report(f"Cloud KMS rotationPeriod {period!r} is not a duration in seconds.")
            return
        if seconds > MAX_GCP_ROTATION_SECONDS:
            report(f"Cloud KMS rotationPeriod {period} exceeds 90 days (7776000s).")


def _eks_secrets(args: ResourceValidationArgs, report) -> None:
    if args.resource_type != EKS_CLUSTER:
        return
    enc = args.props.get("encryptionConfig")
    if "secrets" not in (get(enc, "resources") or []) or not get(enc, "provider", "keyArn"):
        report("EKS cluster must envelope-encrypt secrets: encryptionConfig {resources: [secrets], provider.keyArn: <CMK>}.")


def _volumes(args: ResourceValidationArgs, report) -> None:
    if args.resource_type == LAUNCH_TEMPLATE:
        for bdm in args.props.get("blockDeviceMappings") or []:
            ebs = bdm.get("ebs") or {}
            if str(ebs.get("encrypted")).lower() != "true":
                report(f"launch template block device {bdm.get('deviceName')} must set ebs.encrypted: true (with a customer-managed kmsKeyId).")
    elif args.resource_type == EBS_VOLUME and args.props.get("encrypted") is not True:
        report("EBS volume must set encrypted: true (with a customer-managed kmsKeyId).")


#: Types that launch instances with in-line EBS block devices (Instance, SpotInstanceRequest, LaunchConfiguration,
#: AMIs): policies/families/aws.py, fields root_block_device / ebs_block_devices.
BLOCK_DEVICES = "aws-instance-block-devices"
EBS_DEFAULT = "aws:ebs/encryptionByDefault:EncryptionByDefault"


def _region(r) -> object:
    region = r.props.get("region")
    if region is None and r.provider is not None:
        region = r.provider.props.get("region")
    return region


def _declared_off(v: object) -> bool:
    return v is False or (isinstance(v, str) and v.strip().lower() == "false")


def _instance_volumes(args: StackValidationArgs, report) -> None:
    """CIS AWS 2.2.1: an in-line block device declared ``encrypted: false`` is a plaintext volume, unless the stack
    turns on EBS encryption by default for the region (then AWS encrypts it whatever the flag says)."""
    defaults = [r for r in args.resources if r.resource_type == EBS_DEFAULT and not _declared_off(r.props.get("enabled"))
                and not is_unknown(r.props.get("enabled"))]
    for r in args.resources:
        fields = families.fields(BLOCK_DEVICES, r.resource_type)
        if not fields:
            continue
        covered = any(_region(d) is None or _region(r) is None or is_unknown(_region(d)) or _region(d) == _region(r)
                      for d in defaults)
        if covered:
            continue
        for f in fields:
            prop = "rootBlockDevice" if f == "root_block_device" else "ebsBlockDevices"
            for i, dev in enumerate(as_list(r.props.get(prop))):
                if not isinstance(dev, Mapping):
                    continue
                if is_unknown(dev.get("encrypted")):
                    not_evaluated(f"{r.name}: {prop} encrypted")
                if _declared_off(dev.get("encrypted")):
                    where = prop if f == "root_block_device" else f"{prop}[{i}] ({dev.get('deviceName')})"
                    report(f"{r.name}: {where} is declared encrypted: false and the stack does not enable EBS "
                           "encryption by default: set encrypted: true with a customer-managed kms_key_id (or "
                           "declare aws.ebs.EncryptionByDefault enabled).", r.urn)


def _dynamodb(args: ResourceValidationArgs, report) -> None:
    if args.resource_type != DYNAMODB_TABLE:
        return
    sse = args.props.get("serverSideEncryption") or {}
    if not sse.get("enabled") or not sse.get("kmsKeyArn"):
        report("DynamoDB table must set serverSideEncryption {enabled: true, kmsKeyArn: <CMK>}.")


def _secretsmanager(args: ResourceValidationArgs, report) -> None:
    if args.resource_type != AWS_SECRET:
        return
    key = args.props.get("kmsKeyId")
    if not key or is_aws_managed_key(key):
        report("Secrets Manager secret must set kmsKeyId to a customer-managed key (not aws/secretsmanager).")


def _gcs(args: ResourceValidationArgs, report) -> None:
    if args.resource_type == GCS_BUCKET and not get(args.props, "encryption", "defaultKmsKeyName"):
        report("GCS bucket must set encryption.defaultKmsKeyName (CMEK).")


def _gke_db(args: ResourceValidationArgs, report) -> None:
    if args.resource_type != GKE_CLUSTER:
        return
    state = get(args.props, "databaseEncryption", "state")
    if is_unknown(state):
        report("databaseEncryption.state is unknown at preview time; cannot verify application-layer secrets encryption.")
    elif state != "ENCRYPTED" or not get(args.props, "databaseEncryption", "keyName"):
        report("GKE cluster must set databaseEncryption {state: ENCRYPTED, keyName: <Cloud KMS key>}.")


def _secret_manager(args: ResourceValidationArgs, report) -> None:
    if args.resource_type != GCP_SECRET:
        return
    rep = args.props.get("replication") or {}
    auto_key = get(rep, "auto", "customerManagedEncryption", "kmsKeyName")
    replicas = get(rep, "userManaged", "replicas") or []
    managed = bool(replicas) and all(get(x, "customerManagedEncryption", "kmsKeyName") for x in replicas)
    if not auto_key and not managed:
        report("Secret Manager secret must use CMEK: replication.userManaged.replicas[].customerManagedEncryption.kmsKeyName.")


ENTRIES = [
    PolicyEntry(StackValidationPolicy(
        name="s3-bucket-sse-kms",
        description="S3 buckets are encrypted with SSE-KMS under a customer-managed key.",
        validate=_s3_sse_kms,
        remediation_steps="Declare aws.s3.BucketServerSideEncryptionConfiguration for the bucket (any bucket type: Bucket, "
                          "BucketV2, DirectoryBucket) with sse_algorithm aws:kms and kms_master_key_id.",
    ), MANDATORY,
       controls=("FSBP S3.17",), clouds={"aws"}),  # CIS AWS v3.0 2.1.1 is deny-HTTP (s3-tls-only cites it)
    PolicyEntry(ResourceValidationPolicy(
        name="kms-key-rotation",
        description="Customer-managed keys rotate (AWS enableKeyRotation, Cloud KMS rotationPeriod).",
        validate=_kms_rotation,
        remediation_steps="Set enable_key_rotation=True (AWS) or rotation_period (GCP).",
    ), MANDATORY, types=(KMS_KEY, CRYPTO_KEY),
       controls=("FSBP KMS.4", "CIS AWS 3.6", "CIS GCP 1.10")),
    PolicyEntry(ResourceValidationPolicy(
        name="eks-secrets-encryption",
        description="EKS secrets are envelope-encrypted with a customer-managed key.",
        validate=_eks_secrets,
        remediation_steps="Set encryption_config with resources=['secrets'] and provider.key_arn.",
    ), MANDATORY, types=(EKS_CLUSTER,),
       controls=("CIS EKS 5.3.1", "FSBP EKS.3")),
    PolicyEntry(ResourceValidationPolicy(
        name="ebs-encryption",
        description="Launch template block devices and EBS volumes are encrypted.",
        validate=_volumes,
        remediation_steps="Set ebs.encrypted='true' and kms_key_id on every block device mapping.",
    ), MANDATORY, types=(LAUNCH_TEMPLATE, EBS_VOLUME),
       controls=("FSBP EC2.7", "CIS AWS 2.2.1")),
    PolicyEntry(StackValidationPolicy(
        name="instance-ebs-encryption",
        description="No in-line EBS block device of an instance, spot request, launch configuration or AMI is "
                    "declared unencrypted, unless the stack enables EBS encryption by default for its region.",
        validate=_instance_volumes,
        remediation_steps="Set encrypted: true and kms_key_id on root_block_device and every ebs_block_devices entry, "
                          "or declare aws.ebs.EncryptionByDefault(enabled=True).",
    ), MANDATORY, clouds={"aws"}, controls=("CIS AWS 2.2.1", "FSBP EC2.7")),
    PolicyEntry(ResourceValidationPolicy(
        name="dynamodb-cmk",
        description="DynamoDB tables are encrypted with a customer-managed key.",
        validate=_dynamodb,
        remediation_steps="Set server_side_encryption enabled=True with kms_key_arn.",
    ), MANDATORY, types=(DYNAMODB_TABLE,),
       controls=("NIST 800-53 SC-28", "FSBP DynamoDB.7")),
    PolicyEntry(ResourceValidationPolicy(
        name="secretsmanager-cmk",
        description="Secrets Manager secrets use a customer-managed key.",
        validate=_secretsmanager,
        remediation_steps="Set kms_key_id on the secret.",
    ), MANDATORY, types=(AWS_SECRET,),
       controls=("NIST 800-53 SC-28",)),
    PolicyEntry(ResourceValidationPolicy(
        name="gcs-cmek",
        description="GCS buckets use CMEK.",
        validate=_gcs,
        remediation_steps="Set encryption.default_kms_key_name on the bucket.",
    ), MANDATORY, types=(GCS_BUCKET,),
       controls=("NIST 800-53 SC-28",)),
    PolicyEntry(ResourceValidationPolicy(
        name="gke-database-encryption",
        description="GKE encrypts Kubernetes secrets with Cloud KMS.",
        validate=_gke_db,
        remediation_steps="Set database_encryption state=ENCRYPTED and key_name.",
    ), MANDATORY, types=(GKE_CLUSTER,),
       controls=("CIS GKE 5.3.1",)),
    PolicyEntry(ResourceValidationPolicy(
        name="secret-manager-cmek",
        description="Secret Manager secrets use CMEK.",
        validate=_secret_manager,
        remediation_steps="Use user-managed replication with customer_managed_encryption.kms_key_name per replica.",
    ), MANDATORY, types=(GCP_SECRET,),
       controls=("NIST 800-53 SC-28",)),  # no CIS GCP Foundations recommendation asks CMEK of Secret Manager
]
#: Stack policies and the families whose every member they judge (policies/families/coverage.py reads this: a stack
#: policy sees every resource, so it names its families here rather than in its entry's ``families``).
STACK_FAMILIES = {"s3-bucket-sse-kms": (BUCKETS, BUCKET_ENCRYPTION), "instance-ebs-encryption": (BLOCK_DEVICES,)}
