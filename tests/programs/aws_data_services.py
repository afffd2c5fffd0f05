"""A Pulumi program with AWS data services beside inference, judged by the AWS family policies (policy check
--program): with ``app:insecure`` true it declares every weakness the families catch, else a compliant twin."""

import json

import pulumi
import pulumi_aws as aws

config = pulumi.Config("app")
bad = config.get_bool("insecure") or False
account = "111122223333"
key_arn = f"arn:aws:kms:eu-west-1:{account}:key/0f0e0d0c-0b0a-0908-0706-050403020100"
provider = aws.Provider("aws", region="eu-west-1", allowed_account_ids=[account])
opts = pulumi.ResourceOptions(provider=provider, protect=True)

aws.rds.Instance("db", engine="postgres", instance_class="db.r7g.large", allocated_storage=100,
                 storage_encrypted=not bad, kms_key_id=None if bad else key_arn, publicly_accessible=bad,
                 deletion_protection=not bad, skip_final_snapshot=bad, backup_retention_period=0 if bad else 7,
                 multi_az=True, iam_database_authentication_enabled=True, opts=opts)
aws.elasticache.ReplicationGroup("cache", description="prompt cache", node_type="cache.r7g.large",
                                 at_rest_encryption_enabled=not bad, transit_encryption_enabled=not bad,
                                 kms_key_id=None if bad else key_arn, opts=opts)
aws.opensearch.Domain("search", engine_version="OpenSearch_2.19",
                      encrypt_at_rest={"enabled": not bad, "kms_key_id": key_arn},
                      node_to_node_encryption={"enabled": True},
                      domain_endpoint_options={"enforce_https": True, "tls_security_policy": "Policy-Min-TLS-1-2-PFS-2023-10"},
                      access_policies=json.dumps({"Version": "2012-10-17", "Statement": [{
                          "Effect": "Allow", "Action": "es:ESHttpGet",
                          "Principal": "*" if bad else {"AWS": f"arn:aws:iam::{account}:role/search-reader"},
                          "Resource": f"arn:aws:es:eu-west-1:{account}:domain/search/*",
                          # aws:SecureTransport restricts how, not who: it does not make '*' private
                          "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]}),
                      opts=opts)
aws.lambda_.Permission("invoke", action="lambda:InvokeFunction", function="inference-hook",
                       principal="*" if bad else "s3.amazonaws.com", source_account=None if bad else account,
                       opts=opts)
aws.cloudtrail.Trail("audit", s3_bucket_name="audit-logs-1a2b", is_multi_region_trail=not bad,
                     enable_log_file_validation=True, kms_key_id=key_arn, opts=opts)
aws.ec2.Subnet("private", vpc_id="vpc-0abc", cidr_block="10.0.1.0/24", map_public_ip_on_launch=bad, opts=opts)
