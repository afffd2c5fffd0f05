"""Encryption and logging depth: queues, topics, file systems, registries, log groups, control-plane audit logs,
flow logs and TLS-only buckets."""

from __future__ import annotations

from collections.abc import Mapping

from pulumi_policy import (
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from inferstack.policies import families
from inferstack.policies.entry import MANDATORY, PolicyEntry, environment_setting
from inferstack.policies.rules.common import (
    as_list,
    get,
    is_aws_managed_key,
    is_unknown,
    not_evaluated,
    parse_json,
)

SQS = "aws:sqs/queue:Queue"
SNS = "aws:sns/topic:Topic"
EFS = "aws:efs/fileSystem:FileSystem"
ECR = "aws:ecr/repository:Repository"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ARTIFACT_REPO = "gcp:artifactregistry/repository:Repository"
GKE_CLUSTER = "gcp:container/cluster:Cluster"
SUBNETWORK = "gcp:compute/subnetwork:Subnetwork"
#: VPCs the program creates or adopts (Vpc, DefaultVpc), by construction (policies/families/aws.py).
VPCS = "aws-vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
#: Every S3 bucket type (Bucket, BucketV2, DirectoryBucket ...): a family generated from the SDK.
BUCKETS = "aws-s3-bucket"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
#: Every split-out server access logging type of a bucket (BucketLogging, BucketLoggingV2): a generated family.
BUCKET_LOGGING = "aws-s3-bucket-logging"
TRAIL = "aws:cloudtrail/trail:Trail"
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
PROD_MIN_RETENTION_DAYS = 365
AUDIT_LOG_TYPES = ("api", "audit", "authenticator")


def _cmk(key: object) -> bool:
    return bool(key) and not is_aws_managed_key(key)


def _sqs(args: ResourceValidationArgs, report) -> None:
    if not _cmk(args.props.get("kmsMasterKeyId")):
        report("SQS queue must set kmsMasterKeyId to a customer-managed key (SSE-SQS and alias/aws/sqs are not CMKs).")


def _sns(args: ResourceValidationArgs, report) -> None:
    if not _cmk(args.props.get("kmsMasterKeyId")):
        report("SNS topic must set kmsMasterKeyId to a customer-managed key (not alias/aws/sns).")


def _efs(args: ResourceValidationArgs, report) -> None:
    if args.props.get("encrypted") is not True or not _cmk(args.props.get("kmsKeyId")):
        report("EFS file system must set encrypted: true with a customer-managed kmsKeyId.")


def _ecr_kms(args: ResourceValidationArgs, report) -> None:
    enc = as_list(args.props.get("encryptionConfigurations"))
    if not any(get(e, "encryptionType") == "KMS" and _cmk(get(e, "kmsKey")) for e in enc):
        report("ECR repository must use encryptionConfigurations [{encryptionType: KMS, kmsKey: <CMK>}].")


def _ecr_hygiene(args: ResourceValidationArgs, report) -> None:
    if get(args.props, "imageScanningConfiguration", "scanOnPush") is not True:
        report("ECR repository must scan images on push (imageScanningConfiguration.scanOnPush: true).")
    if args.props.get("imageTagMutability") not in ("IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"):
        report("ECR repository tags must be immutable (imageTagMutability: IMMUTABLE).")


def _log_kms(args: ResourceValidationArgs, report) -> None:
    if not _cmk(args.props.get("kmsKeyId")):
        report("CloudWatch log group must set kmsKeyId (customer-managed key).")


def _log_retention(args: ResourceValidationArgs, report) -> None:
    days = args.props.get("retentionInDays")
    if days is None or days == 0:
        report("CloudWatch log group must set retentionInDays (logs otherwise never expire and are never reviewed for retention).")
    elif days not in RETENTION_DAYS:
        report(f"retentionInDays {days} is not a value CloudWatch accepts ({RETENTION_DAYS}).")
    elif (args.get_config() or {}).get("environment") == "prod" and days < PROD_MIN_RETENTION_DAYS:
        report(f"retentionInDays {days} is under {PROD_MIN_RETENTION_DAYS} days; prod keeps logs at least a year.")


def _ebs_cmk(args: ResourceValidationArgs, report) -> None:
    for bdm in args.props.get("blockDeviceMappings") or []:
        ebs = get(bdm, "ebs") or {}
        if not _cmk(ebs.get("kmsKeyId")):
            report(f"launch template block device {get(bdm, 'deviceName')} must set ebs.kmsKeyId (customer-managed key).")


def _eks_logging(args: ResourceValidationArgs, report) -> None:
    types = set(as_list(args.props.get("enabledClusterLogTypes")))
    missing = [t for t in AUDIT_LOG_TYPES if t not in types]
    if missing:
        report(f"EKS control-plane logs {missing} are off; enable api, audit and authenticator (enabledClusterLogTypes).")


def _artifact_registry(args: ResourceValidationArgs, report) -> None:
    if not args.props.get("kmsKeyName"):
        report("Artifact Registry repository must set kmsKeyName (CMEK).")


def _gke_logging(args: ResourceValidationArgs, report) -> None:
    p = args.props
    if p.get("loggingService") == "none" or p.get("monitoringService") == "none":
        report("GKE cluster logging and monitoring must stay on (loggingService/monitoringService not 'none').")
    comps = get(p, "loggingConfig", "enableComponents")
    if comps is not None and "SYSTEM_COMPONENTS" not in comps:
        report("GKE loggingConfig.enableComponents must include SYSTEM_COMPONENTS.")


def _subnet_flow_logs(args: ResourceValidationArgs, report) -> None:
    if args.props.get("purpose") in ("REGIONAL_MANAGED_PROXY", "GLOBAL_MANAGED_PROXY", "PRIVATE_SERVICE_CONNECT"):
        return
    if args.props.get("logConfig") is None:
        report("GCP subnetwork must enable VPC flow logs (logConfig).")


def _ids(r) -> set:
    out = set()
    for key in ("id", "bucket", "arn", "name"):
        v = r.props.get(key)
        if isinstance(v, str) and not is_unknown(v):
            out.add(v)
            if key == "arn" and "/" in v:
                out.add(v.rsplit("/", 1)[-1])  # arn:aws:ec2:region:account:vpc/vpc-0123 -> vpc-0123
    return out


def _vpc_flow_logs(args: StackValidationArgs, report) -> None:
    vpc_types = families.members(VPCS)
    vpcs = [r for r in args.resources if r.resource_type in vpc_types]
    logged: set[str] = set()
    unknown = False
    for r in args.resources:
        if r.resource_type == FLOW_LOG:
            v = r.props.get("vpcId")
            unknown = unknown or is_unknown(v)
            if isinstance(v, str):
                logged.add(v)
    missing = [v for v in vpcs if not (_ids(v) & logged)]
    if missing and unknown:
        not_evaluated("a FlowLog's vpcId")
    for v in missing:
        report(f"VPC {v.name} has no aws.ec2.FlowLog naming its id (vpcId).", v.urn)


def _tls_only(stmt: Mapping) -> bool:
    cond = get(stmt, "Condition", "Bool", "aws:SecureTransport")
    return stmt.get("Effect") == "Deny" and str(cond).lower() == "false" and (
        stmt.get("Principal") == "*" or get(stmt, "Principal", "AWS") == "*")


def _denies_plain_http(policy: object) -> bool:
    doc = parse_json(policy)
    return isinstance(doc, Mapping) and any(isinstance(s, Mapping) and _tls_only(s) for s in as_list(doc.get("Statement")))


def _s3_tls(args: StackValidationArgs, report) -> None:
    bucket_types = families.members(BUCKETS)
    buckets = [r for r in args.resources if r.resource_type in bucket_types]
    enforced: set[str] = set()
    unknown = False
    for b in buckets:  # an in-line bucket policy (Bucket, BucketV2)
        if "policy" in families.fields(BUCKETS, b.resource_type) and _denies_plain_http(b.props.get("policy")):
            enforced |= _ids(b)
    for r in args.resources:
        if r.resource_type != BUCKET_POLICY:
            continue
        b = r.props.get("bucket")
        doc = parse_json(r.props.get("policy"))
        if is_unknown(b) or not isinstance(doc, Mapping):
            unknown = True
            continue
        if _denies_plain_http(doc):
            enforced.add(b)
    missing = [b for b in buckets if not (_ids(b) & enforced)]
    if missing and unknown:
        not_evaluated("a BucketPolicy's bucket or document")
    for b in missing:
        report(f"S3 bucket {b.name} has no bucket policy denying aws:SecureTransport false.", b.urn)


def _inline_logging(b) -> bool:
    """A bucket's in-line access logging (Bucket: ``logging``; BucketV2: ``loggings``) names a target bucket."""
    return any(get(x, "targetBucket") for x in [*as_list(b.props.get("logging")), *as_list(b.props.get("loggings"))])


def _trail_bucket_logging(args: StackValidationArgs, report) -> None:
    """CloudTrail's bucket keeps server access logs: every bucket of the stack a trail writes to has access
    logging, in-line or through a split-out logging configuration (any type of the family) naming it."""
    trails = [r for r in args.resources if r.resource_type == TRAIL]
    if not trails:
        return
    raw = [r.props.get("s3BucketName") for r in trails]
    names = {n for n in raw if isinstance(n, str) and not is_unknown(n)}
    bucket_types, logging_types = families.members(BUCKETS), families.members(BUCKET_LOGGING)
    buckets = [b for b in args.resources if b.resource_type in bucket_types]
    logged: set[str] = set()
    unknown_target = False
    for r in args.resources:
        if r.resource_type in logging_types and r.props.get("targetBucket"):
            b = r.props.get("bucket")
            unknown_target = unknown_target or is_unknown(b)
            if isinstance(b, str) and not is_unknown(b):
                logged.add(b)
    unlogged = [b for b in buckets if not _inline_logging(b) and not (_ids(b) & logged)]
    missing = [b for b in unlogged if _ids(b) & names]
    if unlogged and (unknown_target or any(is_unknown(n) for n in raw)):
        not_evaluated("a Trail's s3BucketName or a BucketLogging's bucket")
    for b in missing:
        report(f"S3 bucket {b.name} receives CloudTrail logs but has no server access logging; declare "
               "aws.s3.BucketLogging for it (target: another bucket).", b.urn)


ENTRIES = [
    PolicyEntry(ResourceValidationPolicy(
        name="sqs-cmk", description="SQS queues are encrypted with a customer-managed KMS key.", validate=_sqs,
        remediation_steps="Set kms_master_key_id on the queue.",
    ), MANDATORY, types=(SQS,), controls=("FSBP SQS.1",)),
    PolicyEntry(ResourceValidationPolicy(
        name="sns-cmk", description="SNS topics are encrypted with a customer-managed KMS key.", validate=_sns,
        remediation_steps="Set kms_master_key_id on the topic.",
    ), MANDATORY, types=(SNS,), controls=("FSBP SNS.1",)),
    PolicyEntry(ResourceValidationPolicy(
        name="efs-cmk", description="EFS file systems are encrypted with a customer-managed KMS key.", validate=_efs,
        remediation_steps="Set encrypted=True and kms_key_id.",
    ), MANDATORY, types=(EFS,), controls=("FSBP EFS.1", "CIS AWS 2.4.1")),
    PolicyEntry(ResourceValidationPolicy(
        name="ecr-cmk", description="ECR repositories are encrypted with a customer-managed KMS key.", validate=_ecr_kms,
        remediation_steps="Set encryption_configurations=[{encryption_type: KMS, kms_key: <CMK>}].",
    ), MANDATORY, types=(ECR,), controls=("NIST 800-53 SC-28",)),
    PolicyEntry(ResourceValidationPolicy(
        name="ecr-scan-immutable", description="ECR repositories scan on push and have immutable tags.",
        validate=_ecr_hygiene, remediation_steps="Set image_scanning_configuration.scan_on_push and image_tag_mutability=IMMUTABLE.",
    ), MANDATORY, types=(ECR,), controls=("FSBP ECR.1", "FSBP ECR.2", "CIS EKS 5.1.1")),
    PolicyEntry(ResourceValidationPolicy(
        name="cloudwatch-logs-cmk", description="CloudWatch log groups are encrypted with a customer-managed KMS key.",
        validate=_log_kms, remediation_steps="Set kms_key_id on the log group (the key policy must admit logs.<region>.amazonaws.com).",
    ), MANDATORY, types=(LOG_GROUP,), controls=("NIST 800-53 AU-9",)),
    PolicyEntry(ResourceValidationPolicy(
        name="cloudwatch-logs-retention", description="CloudWatch log groups set a valid retention (at least 365 days in prod).",
        validate=_log_retention, remediation_steps="Set retention_in_days (e.g. 365) from CloudWatch's accepted values.",
    ), MANDATORY, environment_setting, types=(LOG_GROUP,), controls=("FSBP CloudWatch.16", "NIST 800-53 AU-11")),
    PolicyEntry(ResourceValidationPolicy(
        name="ebs-cmk", description="Launch template block devices name a customer-managed KMS key.", validate=_ebs_cmk,
        remediation_steps="Set ebs.kms_key_id on every block device mapping.",
    ), MANDATORY, types=(LAUNCH_TEMPLATE,), controls=("FSBP EC2.7", "NIST 800-53 SC-28")),
    PolicyEntry(ResourceValidationPolicy(
        name="eks-control-plane-logging", description="EKS control-plane api, audit and authenticator logs are on.",
        validate=_eks_logging, remediation_steps="Set enabled_cluster_log_types to include api, audit and authenticator.",
    ), MANDATORY, types=(EKS_CLUSTER,), controls=("CIS EKS 2.1.1", "FSBP EKS.8")),
    PolicyEntry(ResourceValidationPolicy(
        name="artifact-registry-cmek", description="Artifact Registry repositories use CMEK.", validate=_artifact_registry,
        remediation_steps="Set kms_key_name on the repository.",
    ), MANDATORY, types=(ARTIFACT_REPO,), controls=("NIST 800-53 SC-28",)),
    PolicyEntry(ResourceValidationPolicy(
        name="gke-logging-monitoring", description="GKE Cloud Logging and Monitoring stay on.", validate=_gke_logging,
        remediation_steps="Leave logging_service/monitoring_service at their defaults; include SYSTEM_COMPONENTS.",
    ), MANDATORY, types=(GKE_CLUSTER,), controls=("CIS GKE 5.7.1",)),
    PolicyEntry(ResourceValidationPolicy(
        name="gcp-subnet-flow-logs", description="GCP subnetworks enable VPC flow logs.", validate=_subnet_flow_logs,
        remediation_steps="Set log_config on the subnetwork.",
    ), MANDATORY, types=(SUBNETWORK,), controls=("CIS GCP 3.8",)),
    PolicyEntry(StackValidationPolicy(
        name="aws-vpc-flow-logs", description="Every VPC (created, or the default VPC adopted) has a flow log naming its id.",
        validate=_vpc_flow_logs,
        remediation_steps="Declare aws.ec2.FlowLog with vpc_id=vpc.id.",
    ), MANDATORY, clouds={"aws"}, controls=("CIS AWS 3.7", "FSBP EC2.6")),
    PolicyEntry(StackValidationPolicy(
        name="s3-tls-only", description="Every S3 bucket has a bucket policy denying requests without TLS.",
        validate=_s3_tls, remediation_steps="Declare aws.s3.BucketPolicy for the bucket (any bucket type) denying "
                                            "aws:SecureTransport false.",
    ), MANDATORY, clouds={"aws"}, controls=("FSBP S3.5", "CIS AWS 2.1.1")),
    PolicyEntry(StackValidationPolicy(
        name="cloudtrail-bucket-access-logging",
        description="The S3 bucket a CloudTrail trail writes to has server access logging (any bucket type; "
                    "in-line or a split-out BucketLogging naming it).",
        validate=_trail_bucket_logging,
        remediation_steps="Declare aws.s3.BucketLogging for the trail's bucket with target_bucket another bucket.",
    ), MANDATORY, clouds={"aws"}, controls=("CIS AWS 3.4",)),
]
#: Stack policies and the families whose every member they judge (read by policies/families/coverage.py).
STACK_FAMILIES = {"aws-vpc-flow-logs": (VPCS,), "s3-tls-only": (BUCKETS,), "cloudtrail-bucket-access-logging": (BUCKETS, BUCKET_LOGGING)}
