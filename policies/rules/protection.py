"""Recovery from deletion and overwrites: in prod, stateful resources are protected against deletion; S3 general
purpose buckets keep object versions."""

from __future__ import annotations

from collections.abc import Mapping

from pulumi_policy import (
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from inferstack.policies import families
from inferstack.policies.entry import ADVISORY_IN_DEV, PolicyEntry, environment_setting
from inferstack.policies.rules.common import as_list, get, is_unknown, not_evaluated, refers_to

#: Every S3 bucket type (Bucket, BucketV2, DirectoryBucket ...): a family generated from the SDK.
BUCKETS = "aws-s3-bucket"
#: Every general purpose bucket type (directory buckets cannot be versioned) and every split-out versioning
#: configuration type (BucketVersioning, BucketVersioningV2): a family generated from the SDK.
VERSIONING = "aws-s3-bucket-versioning"

STATEFUL_TYPES = frozenset(
    {
        "aws:kms/key:Key",
        "aws:dynamodb/table:Table",
        "aws:rds/instance:Instance",
        "aws:rds/cluster:Cluster",
        "aws:secretsmanager/secret:Secret",
        "aws:eks/cluster:Cluster",
        "gcp:kms/cryptoKey:CryptoKey",
        "gcp:kms/keyRing:KeyRing",
        "gcp:storage/bucket:Bucket",
        "gcp:sql/databaseInstance:DatabaseInstance",
        "gcp:secretmanager/secret:Secret",
        "gcp:container/cluster:Cluster",
    }
)


def _protect(args: ResourceValidationArgs, report) -> None:
    if args.resource_type not in STATEFUL_TYPES and args.resource_type not in families.members(BUCKETS):
        return
    if (args.get_config() or {}).get("environment", "prod") != "prod":
        return
    if not args.opts.protect and not getattr(args.opts, "retain_on_delete", False) and not getattr(args, "_retain_on_delete", False):
        report("stateful resource in prod must set protect=True or retain_on_delete=True.")


def _inline_versioning(b) -> tuple[bool, bool]:
    """(on, declared off) from a bucket's own inputs: its in-line versioning block(s) (Bucket: ``versioning``;
    BucketV2: ``versionings``), or S3 Object Lock (it enables versioning, which can then never be suspended)."""
    blocks = [*as_list(b.props.get("versioning")), *as_list(b.props.get("versionings"))]
    flags = [get(v, "enabled") for v in blocks if isinstance(v, Mapping)]
    lock = b.props.get("objectLockEnabled") is True or get(b.props, "objectLockConfiguration", "objectLockEnabled") == "Enabled"
    return lock or any(f is True for f in flags), any(f is False for f in flags)


def _versioning(args: StackValidationArgs, report) -> None:
    """Every general purpose bucket keeps object versions: versioning Enabled in-line or by a split-out versioning
    configuration naming it (or Object Lock on), and no configuration of it declaring versioning Suspended or
    Disabled. MFA delete (CIS AWS 2.1.3, a manual control: only the root user can set it, with a live MFA code) is
    not required."""
    members, bucket_types = families.members(VERSIONING), families.members(BUCKETS)
    buckets = [r for r in args.resources if r.resource_type in members and r.resource_type in bucket_types]
    configs = [r for r in args.resources if r.resource_type in members and r.resource_type not in bucket_types]
    undecided = False
    for b in buckets:
        on, off = _inline_versioning(b)
        if off:
            report(f"S3 bucket {b.name} declares versioning enabled: false in-line; enable versioning.", b.urn)
        mine = [c for c in configs if refers_to(c, b)]
        statuses = [get(c.props, "versioningConfiguration", "status") for c in mine]
        for c, status in zip(mine, statuses, strict=True):
            if not is_unknown(status) and status != "Enabled":
                report(f"S3 bucket {b.name}: {c.name} sets versioning {status or 'without a status'}; a bucket "
                       "without versioning loses overwritten and deleted objects: set status Enabled.", c.urn)
        if on or "Enabled" in statuses or off or any(s != "Enabled" for s in statuses if not is_unknown(s)):
            continue
        if any(is_unknown(s) for s in statuses) or any(is_unknown(c.props.get("bucket")) for c in configs):
            undecided = True
            continue
        report(f"S3 bucket {b.name} ({b.resource_type}) has no versioning: declare aws.s3.BucketVersioning for it "
               "with versioning_configuration status Enabled.", b.urn)
    if undecided:
        not_evaluated("a BucketVersioning's bucket or status")


ENTRIES = [
    PolicyEntry(ResourceValidationPolicy(
        name="prod-stateful-protected",
        description="In prod, KMS keys, buckets, tables, databases, secrets and clusters have protect or retainOnDelete.",
        validate=_protect,
        config_schema=PolicyConfigSchema(properties={"environment": {"type": "string"}}),
        remediation_steps="Pass opts=ResourceOptions(protect=True) or retain_on_delete=True for this resource in prod.",
    ), ADVISORY_IN_DEV, environment_setting, types=tuple(sorted(STATEFUL_TYPES)),
       families=(BUCKETS,),
       controls=("NIST 800-53 CP-9",)),
    PolicyEntry(StackValidationPolicy(
        name="s3-bucket-versioning",
        description="Every S3 general purpose bucket (any bucket type; directory buckets cannot be versioned) has "
                    "versioning Enabled, in-line or by a split-out BucketVersioning naming it, and none declares it "
                    "Suspended or Disabled.",
        validate=_versioning,
        remediation_steps="Declare aws.s3.BucketVersioning for the bucket with versioning_configuration "
                          "{status: Enabled} (expire noncurrent versions with a lifecycle rule).",
    ), ADVISORY_IN_DEV, clouds={"aws"}, controls=("FSBP S3.14", "NIST 800-53 CP-9")),
]
#: Stack policies and the families whose every member they judge (read by policies/families/coverage.py).
STACK_FAMILIES = {"s3-bucket-versioning": (VERSIONING,)}
