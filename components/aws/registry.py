"""The model registry on AWS: an S3 bucket for artifacts and a DynamoDB table for version metadata.

Bucket: versioned, SSE-KMS with the platform CMK (bucket key on), public access blocked, object ownership
enforced, TLS-only bucket policy, noncurrent versions expired after ``registry.noncurrentVersionDays``.
Table: PAY_PER_REQUEST, CMK encryption, point-in-time recovery, deletion protection in prod. Both in the stack's
region, retained on delete in prod. Identities: a read-only IRSA role for the ``inferstack-serving`` service
account of every namespace with models, and a writer role for CI trusting ``registry.writerPrincipals``.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from inferstack.checks.names import bucket_prefix, iam_role_name
from inferstack.components.aws.identity import irsa_trust, service_account_subject
from inferstack.components.platform import SERVING_SERVICE_ACCOUNT, PlatformOutputs, RegistryOutputs
from inferstack.config import RegistryArgs


def serving_subjects(namespaces: list[str]) -> list[str]:
    """``system:serviceaccount:<ns>:inferstack-serving`` for every namespace that has models, sorted."""
    return [service_account_subject(ns, SERVING_SERVICE_ACCOUNT) for ns in namespaces]


def reader_policy(bucket_arn: str, key_arn: str) -> str:
    """Read-only access to the registry's artifacts and decrypt with its key."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "List", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": bucket_arn,
             "Condition": {"StringLike": {"s3:prefix": ["models/*"]}}},
            {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": f"{bucket_arn}/models/*"},
            {"Sid": "Decrypt", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": key_arn},
        ],
    })


def writer_policy(bucket_arn: str, table_arn: str, key_arn: str) -> str:
    """What ``inferstack registry push/promote/gc`` needs on this bucket, table and key only: ``gc`` lists object
    versions and deletes those of failed pushes (under ``models/`` only) and scans the table for pending versions."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Bucket", "Effect": "Allow", "Action": ["s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketLocation"],
             "Resource": bucket_arn},
            {"Sid": "Objects", "Effect": "Allow",
             "Action": ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload", "s3:DeleteObject", "s3:DeleteObjectVersion"],
             "Resource": f"{bucket_arn}/models/*"},
            {"Sid": "Metadata", "Effect": "Allow",
             "Action": ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                        "dynamodb:Query", "dynamodb:Scan", "dynamodb:ConditionCheckItem"],
             "Resource": table_arn},
            {"Sid": "Key", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], "Resource": key_arn},
        ],
    })


def tls_only_policy(bucket_arn: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }],
    })


class AwsRegistry(pulumi.ComponentResource):
    """Model registry on AWS: an S3 bucket and a DynamoDB table, a read-only serving role (IRSA) and a CI writer role.

    Provisions an S3 bucket ``inferstack-<stack>-models-*`` in ``args.region`` with ownership controls
    (``BucketOwnerEnforced``), a full public access block, versioning, SSE-KMS with the platform CMK (bucket key
    on), a TLS-only bucket policy and a lifecycle rule (noncurrent versions expire after
    ``registry.noncurrentVersionDays``, incomplete multipart uploads after 7 days); a DynamoDB table
    ``inferstack-<stack>-model-versions`` (PAY_PER_REQUEST, CMK, point-in-time recovery) for version metadata; the
    role ``inferstack-<stack>-model-reader`` and, when ``registry.writerPrincipals`` is set, the role
    ``inferstack-<stack>-model-writer``.

    Args:
        name (str): component name; children are ``<name>-models``, ``<name>-model-versions``,
            ``<name>-model-reader``, ``<name>-model-writer``, ...
        args (RegistryArgs): uses ``args.region``, ``registry`` (``noncurrentVersionDays`` default
            90, ``writerPrincipals`` default [], ``forceDestroy`` default False) and ``team_namespaces``
            (whose predictors may read).
        platform (PlatformOutputs): the platform's CMK (``kms_key``) and IRSA identity.
        opts (pulumi.ResourceOptions | None, default None): options of the component.

    Outputs:
        outputs (RegistryOutputs): ``scheme`` ``s3``, ``bucket``, ``reader_identity`` (reader role ARN) for serving.
        bucket (aws.s3.Bucket), table (aws.dynamodb.Table), reader (aws.iam.Role), writer (aws.iam.Role | None).
        Registered outputs: ``bucket``, ``table``, ``readerRoleArn``, ``writerRoleArn``.

    Secure choices:
        - encrypted at rest with the platform CMK (bucket and table), TLS enforced, no public access, no ACLs;
        - the reader trusts only ``system:serviceaccount:<ns>:inferstack-serving`` of the namespaces with models
          (``:sub`` and ``:aud``) and may only list and read ``models/*`` and decrypt;
        - the writer may only put/get ``models/*``, use this table and this key: no ``*`` action or resource;
        - in prod bucket and table are protected and retained on delete, the table has deletion protection and
          ``forceDestroy`` is ignored.
    """

    def __init__(self, name: str, args: RegistryArgs, platform: PlatformOutputs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("inferstack:registry:AwsRegistry", name, None, opts)
        reg = args.registry
        region = args.region
        child = pulumi.ResourceOptions(parent=self)
        keep = pulumi.ResourceOptions(parent=self, retain_on_delete=args.is_prod, protect=args.is_prod)
        key_arn = platform.kms_key

        self.bucket = aws.s3.Bucket(
            f"{name}-models",
            bucket_prefix=bucket_prefix(args.stack),
            force_destroy=reg.force_destroy and not args.is_prod,
            region=region,
            tags={"inferstack.io/stack": args.stack, "inferstack.io/role": "model-registry"},
            opts=keep,
        )
        bopts = pulumi.ResourceOptions(parent=self.bucket)
        aws.s3.BucketOwnershipControls(
            f"{name}-models-ownership", bucket=self.bucket.id, region=region,
            rule={"object_ownership": "BucketOwnerEnforced"}, opts=bopts,
        )
        pab = aws.s3.BucketPublicAccessBlock(
            f"{name}-models-public-access", bucket=self.bucket.id, region=region,
            block_public_acls=True, block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True,
            opts=bopts,
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-models-versioning", bucket=self.bucket.id, region=region,
            versioning_configuration={"status": "Enabled"}, opts=bopts,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-models-sse", bucket=self.bucket.id, region=region,
            rules=[{
                "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": key_arn},
                "bucket_key_enabled": True,
            }],
            opts=bopts,
        )
        aws.s3.BucketPolicy(
            f"{name}-models-tls-only", bucket=self.bucket.id, region=region,
            policy=self.bucket.arn.apply(tls_only_policy),
            opts=pulumi.ResourceOptions(parent=self.bucket, depends_on=[pab]),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-models-lifecycle", bucket=self.bucket.id, region=region,
            rules=[{
                "id": "expire-noncurrent-versions",
                "status": "Enabled",
                "filter": {"prefix": ""},
                "noncurrent_version_expiration": {"noncurrent_days": reg.noncurrent_version_days},
                "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
            }],
            opts=pulumi.ResourceOptions(parent=self.bucket, depends_on=[versioning]),
        )

        self.table = aws.dynamodb.Table(
            f"{name}-model-versions",
            name=f"inferstack-{args.stack}-model-versions",
            region=region,
            billing_mode="PAY_PER_REQUEST",
            hash_key="model",
            range_key="item",
            attributes=[{"name": "model", "type": "S"}, {"name": "item", "type": "S"}],
            server_side_encryption={"enabled": True, "kms_key_arn": key_arn},
            point_in_time_recovery={"enabled": True},
            deletion_protection_enabled=args.is_prod,
            tags={"inferstack.io/stack": args.stack, "inferstack.io/role": "model-registry"},
            opts=keep,
        )

        ident = platform.identity
        subjects = serving_subjects(args.team_namespaces)
        self.reader = aws.iam.Role(
            f"{name}-model-reader",
            name=iam_role_name(args.stack, "model-reader"),
            description="Read-only access to the model registry for KServe predictors (IRSA).",
            assume_role_policy=pulumi.Output.all(ident.oidc_provider_arn, ident.oidc_issuer).apply(
                lambda a: irsa_trust(a[0], a[1], subjects)
            ),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-model-reader-policy", role=self.reader.id,
            policy=pulumi.Output.all(self.bucket.arn, key_arn).apply(lambda a: reader_policy(a[0], a[1])),
            opts=pulumi.ResourceOptions(parent=self.reader),
        )

        self.writer: aws.iam.Role | None = None
        if reg.writer_principals:
            principals = sorted(reg.writer_principals)
            self.writer = aws.iam.Role(
                f"{name}-model-writer",
                name=iam_role_name(args.stack, "model-writer"),
                description="CI role that pushes and promotes model versions in this registry only.",
                assume_role_policy=json.dumps({
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Principal": {"AWS": principals}, "Action": "sts:AssumeRole"}],
                }),
                opts=child,
            )
            aws.iam.RolePolicy(
                f"{name}-model-writer-policy", role=self.writer.id,
                policy=pulumi.Output.all(self.bucket.arn, self.table.arn, key_arn).apply(lambda a: writer_policy(*a)),
                opts=pulumi.ResourceOptions(parent=self.writer),
            )

        self.outputs = RegistryOutputs(scheme="s3", bucket=self.bucket.bucket, reader_identity=self.reader.arn)
        self.register_outputs({
            "bucket": self.bucket.bucket,
            "table": self.table.name,
            "readerRoleArn": self.reader.arn,
            "writerRoleArn": self.writer.arn if self.writer else None,
        })
