"""A Pulumi program with known policy violations, each on a marked line (tests/policies/test_sarif.py reads the markers)."""

import json

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

key = aws.kms.Key("data", enable_key_rotation=False, opts=pulumi.ResourceOptions(protect=True))  # violation: kms-key-rotation
bucket = aws.s3.Bucket("models", opts=pulumi.ResourceOptions(protect=True))  # violation: s3-bucket-sse-kms
aws.s3.BucketVersioning("models-versioning", bucket=bucket.id, versioning_configuration={"status": "Enabled"})
aws.s3.BucketPublicAccessBlock(
    "models-public-access", bucket=bucket.id, block_public_acls=True, block_public_policy=True,
    ignore_public_acls=True, restrict_public_buckets=True,
)
aws.iam.Policy("admin", policy=json.dumps({  # violation: iam-least-privilege
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}))
k8s.rbac.v1.ClusterRoleBinding(  # violation: rbac-bindings
    "anonymous-view",
    role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
    subjects=[{"kind": "User", "name": "system:anonymous", "api_group": "rbac.authorization.k8s.io"}],
)
