"""In prod, stateful resources are protected against deletion."""

from __future__ import annotations

from pulumi_policy import PolicyConfigSchema, ResourceValidationArgs, ResourceValidationPolicy

from inferstack.policies import families
from inferstack.policies.entry import ADVISORY_IN_DEV, PolicyEntry, environment_setting

#: Every S3 bucket type (Bucket, BucketV2, DirectoryBucket ...): a family generated from the SDK.
BUCKETS = "aws-s3-bucket"

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
]
