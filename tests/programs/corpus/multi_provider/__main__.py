"""One bucket per region with explicit providers, the second a replica of the first; each region's zones are
looked up through its own provider."""

import json

import pulumi
import pulumi_aws as aws

config = pulumi.Config()
primary = aws.Provider("primary", region=aws.config.region or "us-east-1")
replica = aws.Provider("replica", region=config.require("replicaRegion"))
on_primary = pulumi.ResourceOptions(provider=primary)
on_replica = pulumi.ResourceOptions(provider=replica)

source = aws.s3.Bucket("assets", opts=on_primary)
target = aws.s3.Bucket("assets-replica", opts=on_replica)
for name, bucket, opts in (("assets", source, on_primary), ("assets-replica", target, on_replica)):
    aws.s3.BucketVersioning(f"{name}-versioning", bucket=bucket.id, versioning_configuration={"status": "Enabled"},
                            opts=opts)

role = aws.iam.Role(
    "replication",
    assume_role_policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }),
    opts=on_primary,
)
aws.iam.RolePolicy(
    "replication",
    role=role.id,
    policy=pulumi.Output.all(source.arn, target.arn).apply(lambda arns: json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"], "Resource": arns[0]},
            {"Effect": "Allow", "Action": ["s3:GetObjectVersionForReplication"], "Resource": f"{arns[0]}/*"},
            {"Effect": "Allow", "Action": ["s3:ReplicateObject", "s3:ReplicateDelete"], "Resource": f"{arns[1]}/*"},
        ],
    })),
    opts=on_primary,
)
aws.s3.BucketReplicationConfig(
    "assets",
    bucket=source.id,
    role=role.arn,
    rules=[{"id": "all", "status": "Enabled", "destination": {"bucket": target.arn, "storage_class": "STANDARD_IA"}}],
    opts=on_primary,
)

zones_primary = aws.get_availability_zones_output(state="available", opts=pulumi.InvokeOutputOptions(provider=primary))
zones_replica = aws.get_availability_zones_output(state="available", opts=pulumi.InvokeOutputOptions(provider=replica))
pulumi.export("zones", {"primary": zones_primary.names, "replica": zones_replica.names})
