"""A tiny Pulumi program for engine tests: a config secret flows into a resource input and an explicit provider."""

import pulumi
import pulumi_aws as aws

config = pulumi.Config("app")
token = config.require_secret("token")
provider = aws.Provider("frankfurt", region="eu-central-1")
param = aws.ssm.Parameter("token", type="SecureString", value=token, opts=pulumi.ResourceOptions(provider=provider))
bucket = aws.s3.Bucket("logs", opts=pulumi.ResourceOptions(protect=True))
aws.s3.BucketVersioning(
    "logs-versioning",
    bucket=bucket.id,
    versioning_configuration={"status": "Enabled"},
    opts=pulumi.ResourceOptions(retain_on_delete=True, depends_on=[param]),
)

identity = aws.get_caller_identity_output()
pulumi.export("account", identity.account_id)
aws.ssm.Parameter("account", type="String", value=identity.account_id)
