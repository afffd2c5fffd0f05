"""A Pulumi program every policy of the pack accepts: a rotated CMK and a private, TLS-only, SSE-KMS bucket, both protected."""

import pulumi
import pulumi_aws as aws

key = aws.kms.Key("data", enable_key_rotation=True, opts=pulumi.ResourceOptions(protect=True))
bucket = aws.s3.Bucket("models", opts=pulumi.ResourceOptions(protect=True))
aws.s3.BucketVersioning("models-versioning", bucket=bucket.id, versioning_configuration={"status": "Enabled"})
aws.s3.BucketServerSideEncryptionConfiguration(
    "models-sse",
    bucket=bucket.id,
    rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": key.arn}}],
)
aws.s3.BucketPublicAccessBlock(
    "models-public-access", bucket=bucket.id, block_public_acls=True, block_public_policy=True,
    ignore_public_acls=True, restrict_public_buckets=True,
)
aws.s3.BucketPolicy(
    "models-tls-only",
    bucket=bucket.id,
    policy=bucket.arn.apply(lambda arn: pulumi.Output.json_dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }],
    })),
)
