"""A program's own component (``acme:web:Site``): a private bucket with versioning, encryption and a public access
block, plus a child component for its logs, so URNs carry a parent chain of three types."""

import json

import pulumi
import pulumi_aws as aws


class Logs(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("acme:web:Logs", name, None, opts)
        self.group = aws.cloudwatch.LogGroup(name, retention_in_days=30, opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"groupName": self.group.name})


class Site(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("acme:web:Site", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = aws.s3.Bucket(name, opts=child)
        aws.s3.BucketVersioning(f"{name}-versioning", bucket=self.bucket.id,
                                versioning_configuration={"status": "Enabled"},
                                opts=pulumi.ResourceOptions(parent=self.bucket))
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-sse", bucket=self.bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms"}}],
            opts=pulumi.ResourceOptions(parent=self.bucket))
        aws.s3.BucketPublicAccessBlock(f"{name}-pab", bucket=self.bucket.id, block_public_acls=True,
                                       block_public_policy=True, ignore_public_acls=True,
                                       restrict_public_buckets=True, opts=pulumi.ResourceOptions(parent=self.bucket))
        self.logs = Logs(f"{name}-logs", opts=child)
        self.register_outputs({"bucket": self.bucket.bucket, "arn": self.bucket.arn})


sites = [Site(name) for name in json.loads(pulumi.Config().require("sites"))]
pulumi.export("buckets", [s.bucket.bucket for s in sites])
pulumi.export("logGroups", [s.logs.group.name for s in sites])
