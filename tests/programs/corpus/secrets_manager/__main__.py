"""An API key stored in Secrets Manager under a customer-managed KMS key, readable by one role; the secret's current
value is also read back with the data source (output form)."""

import json

import pulumi
import pulumi_aws as aws

config = pulumi.Config()
identity = aws.get_caller_identity()

key = aws.kms.Key("secrets", description="app secrets", enable_key_rotation=True, deletion_window_in_days=7)
reader = aws.iam.Role(
    "reader",
    assume_role_policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{identity.account_id}:root"},
                       "Action": "sts:AssumeRole"}],
    }),
)

secret = aws.secretsmanager.Secret("api-key", kms_key_id=key.arn, recovery_window_in_days=7)
version = aws.secretsmanager.SecretVersion(
    "api-key",
    secret_id=secret.id,
    secret_string=config.require_secret("apiKey").apply(lambda v: json.dumps({"apiKey": v})),
)
aws.secretsmanager.SecretPolicy(
    "api-key",
    secret_arn=secret.arn,
    policy=pulumi.Output.all(reader.arn, secret.arn).apply(lambda a: json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": a[0]}, "Action": "secretsmanager:GetSecretValue",
                       "Resource": a[1]}],
    })),
)

current = aws.secretsmanager.get_secret_version_output(secret_id=secret.id,
                                                       opts=pulumi.InvokeOutputOptions(depends_on=[version]))
pulumi.export("secretArn", secret.arn)
pulumi.export("versionId", version.version_id)
pulumi.export("currentStages", current.version_stages)
