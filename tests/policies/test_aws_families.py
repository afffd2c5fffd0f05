"""AWS family policies (policies/rules/aws_iam.py resource policies and grants, aws_accounts.py, aws_data.py): a
compliant fixture passes and one changed field violates, through the real pulumi_policy objects (harness of
tests/policies/test_rules.py); plus ``policy check --program`` over tests/programs/aws_data_services.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from inferstack.engine import UNKNOWN
from inferstack.policies.families import members
from tests.policies.test_rules import DELETE, KEY, Case, _findings, case_tests, doc, one

ACCOUNT = "111122223333"
FOREIGN = "999988887777"
DOMAIN_ARN = f"arn:aws:es:eu-west-1:{ACCOUNT}:domain/search/*"
READER = {"AWS": f"arn:aws:iam::{ACCOUNT}:role/search-reader"}
ORG_ONLY = {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}
OPEN_STMT = {"Effect": "Allow", "Principal": "*", "Action": "es:ESHttpGet", "Resource": DOMAIN_ARN, "Condition": ORG_ONLY}
COND = (0, "props", "accessPolicies", "Statement", 0, "Condition")
#: A SageMaker domain whose apps reach the internet only through its VPC (CMEK on its EFS volume).
SM_DOMAIN = {"domainName": "research", "authMode": "IAM", "vpcId": "vpc-0abc", "subnetIds": ["subnet-1"],
             "appNetworkAccessType": "VpcOnly", "kmsKeyId": KEY,
             "defaultUserSettings": {"executionRole": f"arn:aws:iam::{ACCOUNT}:role/sagemaker-exec",
                                     "securityGroups": ["sg-0abc"]}}
OWN = {"region": "eu-west-1", "allowedAccountIds": [ACCOUNT]}
PERMISSION = {"action": "lambda:InvokeFunction", "function": "inference-hook", "principal": "s3.amazonaws.com",
              "sourceAccount": ACCOUNT, "sourceArn": "arn:aws:s3:::uploads-1a2b"}
TRAIL = {"s3BucketName": "audit-logs-1a2b", "isMultiRegionTrail": True, "enableLogFileValidation": True,
         "kmsKeyId": KEY, "includeGlobalServiceEvents": True,
         "cloudWatchLogsGroupArn": f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:cloudtrail:*",
         "cloudWatchLogsRoleArn": f"arn:aws:iam::{ACCOUNT}:role/cloudtrail-logs"}
RDS = {"engine": "postgres", "instanceClass": "db.r7g.large", "storageEncrypted": True, "kmsKeyId": KEY,
       "publiclyAccessible": False, "deletionProtection": True, "skipFinalSnapshot": False, "backupRetentionPeriod": 7,
       "multiAz": True, "iamDatabaseAuthenticationEnabled": True, "autoMinorVersionUpgrade": True,
       "copyTagsToSnapshot": True, "monitoringInterval": 60, "enabledCloudwatchLogsExports": ["postgresql", "upgrade"],
       "dbSubnetGroupName": "private", "port": 5433, "username": "inference_admin"}
CACHE = {"description": "prompt cache", "nodeType": "cache.r7g.large", "atRestEncryptionEnabled": True,
         "kmsKeyId": KEY, "transitEncryptionEnabled": True, "transitEncryptionMode": "required",
         "snapshotRetentionLimit": 5, "automaticFailoverEnabled": True, "multiAzEnabled": True,
         "autoMinorVersionUpgrade": "true", "subnetGroupName": "private", "numCacheClusters": 2}
DOMAIN = {"encryptAtRest": {"enabled": True, "kmsKeyId": KEY}, "nodeToNodeEncryption": {"enabled": True},
          "vpcOptions": {"subnetIds": ["subnet-1", "subnet-2", "subnet-3"], "securityGroupIds": ["sg-1"]},
          "clusterConfig": {"instanceCount": 3, "zoneAwarenessEnabled": True, "dedicatedMasterEnabled": True,
                            "dedicatedMasterCount": 3},
          "advancedSecurityOptions": {"enabled": True, "internalUserDatabaseEnabled": False},
          "logPublishingOptions": [{"logType": t, "cloudwatchLogGroupArn": f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:os"}
                                   for t in ("ES_APPLICATION_LOGS", "AUDIT_LOGS")],
          "domainEndpointOptions": {"enforceHttps": True, "tlsSecurityPolicy": "Policy-Min-TLS-1-2-PFS-2023-10"},
          "accessPolicies": doc({"Effect": "Allow", "Principal": READER, "Action": "es:ESHttpGet", "Resource": DOMAIN_ARN})}
REDIRECT = {"port": 80, "protocol": "HTTP", "defaultActions": [
    {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}]}
HTTPS = {"port": 443, "protocol": "HTTPS", "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
         "certificateArn": f"arn:aws:acm:eu-west-1:{ACCOUNT}:certificate/abc", "defaultActions": [{"type": "forward"}]}
CDN = {"enabled": True, "defaultCacheBehavior": {"viewerProtocolPolicy": "redirect-to-https", "targetOriginId": "lb"},
       "viewerCertificate": {"acmCertificateArn": f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/abc",
                             "minimumProtocolVersion": "TLSv1.2_2021", "sslSupportMethod": "sni-only"}}
MSK = {"encryptionInfo": {"encryptionAtRestKmsKeyArn": KEY, "encryptionInTransit": {"clientBroker": "TLS", "inCluster": True}}}
LT = {"networkInterfaces": [{"associatePublicIpAddress": "false", "deviceIndex": 0}],
      "metadataOptions": {"httpTokens": "required"}}
DEL = {"engine": "aurora-postgresql", "deletionProtection": True, "skipFinalSnapshot": False, "storageEncrypted": True,
       "kmsKeyId": KEY, "backupRetentionPeriod": 7, "iamDatabaseAuthenticationEnabled": True, "copyTagsToSnapshot": True,
       "enabledCloudwatchLogsExports": ["postgresql"], "publiclyAccessible": False}

CASES = [
    # ---------------------------------------------------------- resource policies, found by family
    Case("domain-public", "resource-policy-not-public", one("aws:opensearch/domain:Domain", DOMAIN),
         (0, "props", "accessPolicies", "Statement", 0, "Principal"), "*"),
    Case("org-condition-excuses-star", "resource-policy-not-public",
         one("aws:efs/fileSystemPolicy:FileSystemPolicy", {"fileSystemId": "fs-1", "policy": doc(OPEN_STMT)}),
         (0, "props", "policy", "Statement", 0, "Condition"), {"Bool": {"aws:SecureTransport": "true"}}),
    Case("wildcard-org-does-not-restrict", "resource-policy-not-public",
         one("aws:backup/vaultPolicy:VaultPolicy", {"backupVaultName": "v", "policy": doc(OPEN_STMT)}),
         (0, "props", "policy", "Statement", 0, "Condition", "StringEquals", "aws:PrincipalOrgID"), "*"),
    Case("source-arn-without-account", "resource-policy-not-public",
         one("aws:glacier/vault:Vault", {"accessPolicy": doc({**OPEN_STMT, "Condition": {
             "ArnLike": {"aws:SourceArn": f"arn:aws:sns:eu-west-1:{ACCOUNT}:archive"}}})}),
         (0, "props", "accessPolicy", "Statement", 0, "Condition", "ArnLike", "aws:SourceArn"), "arn:aws:s3:::bucket"),
    Case("negated-org-does-not-restrict", "resource-policy-not-public",
         one("aws:cloudwatch/eventBusPolicy:EventBusPolicy", {"policy": doc(OPEN_STMT)}),
         (0, "props", "policy", "Statement", 0, "Condition"), {"StringNotEquals": {"aws:PrincipalOrgID": "o-other"}}),
    Case("grant-public", "resource-grant-not-public",
         one("aws:lambda/permission:Permission", {**PERMISSION, "principal": "*"}),
         (0, "props", "sourceAccount"), DELETE),
    Case("grant-public-arn-without-account", "resource-grant-not-public",
         one("aws:lambda/permission:Permission", {**PERMISSION, "principal": "*", "sourceAccount": None,
                                                  "sourceArn": f"arn:aws:sns:eu-west-1:{ACCOUNT}:uploads"}),
         (0, "props", "sourceArn"), "arn:aws:s3:::uploads-1a2b"),
    Case("grant-foreign-account", "resource-policy-no-foreign-accounts",
         one("aws:lambda/permission:Permission", {**PERMISSION, "principal": ACCOUNT, "sourceAccount": None,
                                                  "sourceArn": None}, provider=OWN),
         (0, "props", "principal"), FOREIGN),
    Case("domain-foreign-account", "resource-policy-no-foreign-accounts",
         one("aws:opensearch/domain:Domain", DOMAIN, provider=OWN),
         (0, "props", "accessPolicies", "Statement", 0, "Principal", "AWS"), f"arn:aws:iam::{FOREIGN}:root"),
    # ---------------------------------------------------------- IAM users and account settings
    Case("user-attachment", "iam-users-no-direct-policies",
         one("aws:iam/policyAttachment:PolicyAttachment", {"policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
                                                            "groups": ["readers"], "users": []}),
         (0, "props", "users"), ["alice"]),
    Case("user-managed-attachment", "iam-users-no-direct-policies",
         one("aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
             {"policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess", "group": "readers"}),
         (0, "type"), "aws:iam/userPolicyAttachment:UserPolicyAttachment"),
    Case("user-inline", "iam-users-no-direct-policies",
         one("aws:iam/groupPolicy:GroupPolicy", {"group": "readers", "policy": doc({"Effect": "Allow",
             "Action": "s3:GetObject", "Resource": "arn:aws:s3:::models/*"})}),
         (0, "type"), "aws:iam/userPolicy:UserPolicy"),
    Case("access-key-active", "iam-no-user-access-keys", one("aws:iam/accessKey:AccessKey", {"user": "ci", "status": "Inactive"}),
         (0, "props", "status"), "Active"),
    Case("access-key-default-active", "iam-no-user-access-keys", one("aws:iam/accessKey:AccessKey", {"user": "ci", "status": "Inactive"}),
         (0, "props", "status"), DELETE),
    Case("ebs-default-off", "account-ebs-encryption-by-default", one("aws:ebs/encryptionByDefault:EncryptionByDefault", {"enabled": True}),
         (0, "props", "enabled"), False),
    Case("password-short", "account-password-policy",
         one("aws:iam/accountPasswordPolicy:AccountPasswordPolicy", {"minimumPasswordLength": 14, "passwordReusePrevention": 24,
             "requireSymbols": True, "requireNumbers": True, "requireUppercaseCharacters": True,
             "requireLowercaseCharacters": True, "maxPasswordAge": 90}),
         (0, "props", "minimumPasswordLength"), 8),
    Case("password-reuse-unset", "account-password-policy",
         one("aws:iam/accountPasswordPolicy:AccountPasswordPolicy", {"minimumPasswordLength": 14, "passwordReusePrevention": 24}),
         (0, "props", "passwordReusePrevention"), DELETE),
    *[Case(f"account-pab-{flag}", "account-s3-public-access-block",
           one("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
               {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True}),
           (0, "props", flag), bad)
      for flag, bad in (("blockPublicPolicy", False), ("restrictPublicBuckets", DELETE))],
    Case("if-exists-does-not-restrict", "resource-policy-not-public",
         one("aws:sqs/queuePolicy:QueuePolicy", {"queueUrl": "q", "policy": doc(OPEN_STMT)}),
         (0, "props", "policy", "Statement", 0, "Condition"), {"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}}),
    *[Case(f"trail-{field}", "cloudtrail-hardened", one("aws:cloudtrail/trail:Trail", TRAIL), (0, "props", field), bad)
      for field, bad in (("isMultiRegionTrail", False), ("enableLogFileValidation", DELETE), ("kmsKeyId", DELETE))],
    # ---------------------------------------------------------- encryption at rest
    Case("rds-unencrypted", "aws-encryption-at-rest", one("aws:rds/instance:Instance", RDS), (0, "props", "storageEncrypted"), False),
    Case("rds-default-unencrypted", "aws-encryption-at-rest", one("aws:rds/instance:Instance", RDS), (0, "props", "storageEncrypted"), DELETE),
    Case("cache-at-rest", "aws-encryption-at-rest", one("aws:elasticache/replicationGroup:ReplicationGroup", CACHE),
         (0, "props", "atRestEncryptionEnabled"), DELETE),
    Case("domain-at-rest", "aws-encryption-at-rest", one("aws:opensearch/domain:Domain", DOMAIN),
         (0, "props", "encryptAtRest", "enabled"), False),
    Case("kinesis-none", "aws-encryption-at-rest", one("aws:kinesis/stream:Stream", {"encryptionType": "KMS", "kmsKeyId": KEY}),
         (0, "props", "encryptionType"), "NONE"),
    Case("sqs-sse-off-without-key", "aws-encryption-at-rest",
         one("aws:sqs/queue:Queue", {"sqsManagedSseEnabled": False, "kmsMasterKeyId": KEY}), (0, "props", "kmsMasterKeyId"), DELETE),
    Case("neptune-default", "aws-encryption-at-rest", one("aws:neptune/cluster:Cluster", {"storageEncrypted": True, "kmsKeyArn": KEY}),
         (0, "props", "storageEncrypted"), DELETE),
    Case("dax-sse-off", "aws-encryption-at-rest", one("aws:dax/cluster:Cluster", {"serverSideEncryption": {"enabled": True}}),
         (0, "props", "serverSideEncryption", "enabled"), False),
    Case("kms-aws-managed", "aws-kms-key-customer-managed",
         one("aws:sagemaker/endpointConfiguration:EndpointConfiguration", {"kmsKeyArn": KEY}),
         (0, "props", "kmsKeyArn"), "alias/aws/sagemaker"),
    Case("kms-aws-managed-arn", "aws-kms-key-customer-managed", one("aws:sqs/queue:Queue", {"kmsMasterKeyId": KEY}),
         (0, "props", "kmsMasterKeyId"), "arn:aws:kms:eu-west-1:111122223333:alias/aws/sqs"),
    # ---------------------------------------------------------- encryption in transit
    Case("listener-http-forward", "aws-encryption-in-transit", one("aws:lb/listener:Listener", REDIRECT),
         (0, "props", "defaultActions", 0, "type"), "forward"),
    Case("listener-weak-tls", "aws-encryption-in-transit", one("aws:lb/listener:Listener", HTTPS),
         (0, "props", "sslPolicy"), "ELBSecurityPolicy-2016-08"),
    Case("listener-default-tls", "aws-encryption-in-transit", one("aws:alb/listener:Listener", HTTPS), (0, "props", "sslPolicy"), DELETE),
    Case("cache-transit", "aws-encryption-in-transit", one("aws:elasticache/replicationGroup:ReplicationGroup", CACHE),
         (0, "props", "transitEncryptionEnabled"), DELETE),
    Case("cache-preferred", "aws-encryption-in-transit", one("aws:elasticache/replicationGroup:ReplicationGroup", CACHE),
         (0, "props", "transitEncryptionMode"), "preferred"),
    Case("domain-node-to-node", "aws-encryption-in-transit", one("aws:opensearch/domain:Domain", DOMAIN),
         (0, "props", "nodeToNodeEncryption"), DELETE),
    Case("domain-http", "aws-encryption-in-transit", one("aws:opensearch/domain:Domain", DOMAIN),
         (0, "props", "domainEndpointOptions", "enforceHttps"), False),
    Case("cdn-allow-all", "aws-encryption-in-transit", one("aws:cloudfront/distribution:Distribution", CDN),
         (0, "props", "defaultCacheBehavior", "viewerProtocolPolicy"), "allow-all"),
    Case("msk-plaintext", "aws-encryption-in-transit", one("aws:msk/cluster:Cluster", MSK),
         (0, "props", "encryptionInfo", "encryptionInTransit", "clientBroker"), "TLS_PLAINTEXT"),
    Case("proxy-no-tls", "aws-encryption-in-transit", one("aws:rds/proxy:Proxy", {"engineFamily": "POSTGRESQL", "requireTls": True}),
         (0, "props", "requireTls"), DELETE),
    Case("memorydb-no-tls", "aws-encryption-in-transit", one("aws:memorydb/cluster:Cluster", {"tlsEnabled": True}),
         (0, "props", "tlsEnabled"), False),
    # ---------------------------------------------------------- network ACLs
    Case("nacl-ssh-world", "nacl-no-world-admin-ports",
         one("aws:ec2/networkAcl:NetworkAcl", {"vpcId": "vpc-0abc", "ingress": [
             {"ruleNo": 100, "action": "allow", "protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlock": "0.0.0.0/0"},
             {"ruleNo": 110, "action": "allow", "protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlock": "10.0.0.0/8"}]}),
         (0, "props", "ingress", 1, "cidrBlock"), "0.0.0.0/0"),
    Case("nacl-all-protocols-world", "nacl-no-world-admin-ports",
         one("aws:ec2/defaultNetworkAcl:DefaultNetworkAcl", {"defaultNetworkAclId": "acl-1", "ingress": [
             {"ruleNo": 100, "action": "allow", "protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlock": "10.0.0.0/8"}]}),
         (0, "props", "ingress", 0, "cidrBlock"), "0.0.0.0/0"),
    Case("nacl-rule-rdp-range", "nacl-no-world-admin-ports",
         one("aws:ec2/networkAclRule:NetworkAclRule", {"networkAclId": "acl-1", "ruleNumber": 120, "egress": False,
                                                        "ruleAction": "allow", "protocol": "tcp", "fromPort": 49152,
                                                        "toPort": 65535, "ipv6CidrBlock": "::/0"}),
         (0, "props", "fromPort"), 1024),
    # ---------------------------------------------------------- public IPs
    Case("subnet-public", "aws-no-public-ip", one("aws:ec2/subnet:Subnet", {"vpcId": "vpc-0abc", "cidrBlock": "10.0.1.0/24",
                                                                          "mapPublicIpOnLaunch": False}),
         (0, "props", "mapPublicIpOnLaunch"), True),
    Case("launch-template-public", "aws-no-public-ip", one("aws:ec2/launchTemplate:LaunchTemplate", LT),
         (0, "props", "networkInterfaces", 0, "associatePublicIpAddress"), "true"),
    Case("rds-public", "aws-no-public-ip", one("aws:rds/instance:Instance", RDS), (0, "props", "publiclyAccessible"), True),
    Case("instance-public", "aws-no-public-ip", one("aws:ec2/instance:Instance", {"associatePublicIpAddress": False}),
         (0, "props", "associatePublicIpAddress"), True),
    Case("notebook-internet", "aws-no-public-ip",
         one("aws:sagemaker/notebookInstance:NotebookInstance", {"instanceType": "ml.t3.medium", "kmsKeyId": KEY,
                                                               "directInternetAccess": "Disabled", "rootAccess": "Disabled",
                                                               "subnetId": "subnet-1"}),
         (0, "props", "directInternetAccess"), DELETE),
    Case("notebook-internet-enabled", "aws-no-public-ip",
         one("aws:sagemaker/notebookInstance:NotebookInstance", {"instanceType": "ml.t3.medium", "kmsKeyId": KEY,
                                                               "directInternetAccess": "Disabled", "rootAccess": "Disabled",
                                                               "subnetId": "subnet-1"}),
         (0, "props", "directInternetAccess"), "Enabled"),
    Case("sagemaker-domain-internet", "aws-no-public-ip",
         one("aws:sagemaker/domain:Domain", SM_DOMAIN), (0, "props", "appNetworkAccessType"), "PublicInternetOnly"),
    Case("sagemaker-domain-internet-default", "aws-no-public-ip",
         one("aws:sagemaker/domain:Domain", SM_DOMAIN), (0, "props", "appNetworkAccessType"), DELETE),
    # ---------------------------------------------------------- deletion protection and backups (prod)
    Case("rds-no-backups", "aws-deletion-protection", one("aws:rds/instance:Instance", RDS),
         (0, "props", "backupRetentionPeriod"), 0),
    Case("cache-no-snapshots", "aws-deletion-protection",
         one("aws:elasticache/replicationGroup:ReplicationGroup", CACHE),
         (0, "props", "snapshotRetentionLimit"), 0),
    Case("aurora-deletion-off", "aws-deletion-protection", one("aws:rds/cluster:Cluster", DEL), (0, "props", "deletionProtection"), False),
    Case("aurora-deletion-default", "aws-deletion-protection", one("aws:rds/cluster:Cluster", DEL), (0, "props", "deletionProtection"), DELETE),
    Case("aurora-skip-snapshot", "aws-deletion-protection", one("aws:rds/cluster:Cluster", DEL), (0, "props", "skipFinalSnapshot"), True),
    Case("alb-deletion-off", "aws-deletion-protection",
         one("aws:lb/loadBalancer:LoadBalancer", {"internal": True, "enableDeletionProtection": True}),
         (0, "props", "enableDeletionProtection"), False),
]


test_compliant_fixture_passes, test_one_field_change_violates = case_tests(CASES)


def test_every_family_member_reaches_its_policy() -> None:
    """Dispatch: the family-judging policies run on every member, exact tokens only from generated data."""
    from inferstack.policies.pack import ENTRY_BY_NAME

    for policy, family in (("resource-policy-not-public", "aws-resource-policy"), ("resource-grant-not-public", "aws-resource-grant"),
                           ("aws-encryption-at-rest", "aws-encryption-at-rest"), ("aws-no-public-ip", "aws-public-ip"),
                           ("aws-kms-key-customer-managed", "aws-kms-key"), ("aws-deletion-protection", "aws-backup-retention")):
        entry = ENTRY_BY_NAME[policy]
        assert all(entry.applies_to(t) for t in members(family)), policy
        assert not entry.applies_to("aws:iam/role:Role") or policy == "resource-policy-not-public"


def test_rule_list_documents_and_plain_text_policies() -> None:
    """OpenSearch Serverless data access policies are rule lists with a Principal list; a receipt filter's policy
    is Allow/Block text, not a document (neither a finding nor "not evaluated")."""
    rules = json.dumps([{"Rules": [{"ResourceType": "index", "Resource": ["index/logs/*"], "Permission": ["aoss:ReadDocument"]}],
                         "Principal": [f"arn:aws:iam::{ACCOUNT}:role/reader"]}])
    access = one("aws:opensearch/serverlessAccessPolicy:ServerlessAccessPolicy", {"type": "data", "policy": rules})
    assert _findings(access, "resource-policy-not-public") == []
    public = one(access[0].type, {"type": "data", "policy": rules.replace(f"arn:aws:iam::{ACCOUNT}:role/reader", "*")})
    assert [f.message.split(":")[0] for f in _findings(public, "resource-policy-not-public")] == ["policy rule 0 grants principal '*'"]
    assert _findings(one("aws:ses/receiptFilter:ReceiptFilter", {"cidr": "10.0.0.0/8", "policy": "Block"}),
                     "resource-policy-not-public") == []


def test_nacl_deny_and_egress_entries_are_not_ingress_grants() -> None:
    deny = one("aws:ec2/networkAclRule:NetworkAclRule", {"networkAclId": "acl-1", "ruleNumber": 90, "egress": False,
                                                         "ruleAction": "deny", "protocol": "tcp", "fromPort": 22,
                                                         "toPort": 22, "cidrBlock": "0.0.0.0/0"})
    assert _findings(deny, "nacl-no-world-admin-ports") == []
    egress = one(deny[0].type, {**deny[0].props, "egress": True, "ruleAction": "allow"})
    assert _findings(egress, "nacl-no-world-admin-ports") == []


def test_dynamodb_aws_owned_key_is_not_plaintext() -> None:
    table = one("aws:dynamodb/table:Table", {"serverSideEncryption": {"enabled": False}, "deletionProtectionEnabled": True})
    assert _findings(table, "aws-encryption-at-rest") == []


def test_dev_tolerates_no_deletion_protection() -> None:
    assert _findings(one("aws:rds/cluster:Cluster", {**DEL, "deletionProtection": False}), "aws-deletion-protection",
                     environment="dev") == []


def test_unknown_values_are_not_evaluated() -> None:
    for res, policy in ((one("aws:rds/instance:Instance", {**RDS, "publiclyAccessible": UNKNOWN}), "aws-no-public-ip"),
                        (one("aws:opensearch/domain:Domain", {**DOMAIN, "nodeToNodeEncryption": UNKNOWN}), "aws-encryption-in-transit"),
                        (one("aws:cloudtrail/trail:Trail", {**TRAIL, "isMultiRegionTrail": UNKNOWN}), "cloudtrail-hardened")):
        found = _findings(res, policy)
        assert [(f.enforcement_level, f.not_evaluated) for f in found] == [("advisory", True)], policy


def test_a_key_the_program_creates_counts_as_a_key() -> None:
    """A KMS key ARN unknown at preview (the program's own key) is customer-managed and means encrypted: neither
    rule reports it, nor marks it not evaluated."""
    queue = one("aws:sqs/queue:Queue", {"sqsManagedSseEnabled": False, "kmsMasterKeyId": UNKNOWN})
    assert _findings(queue, "aws-encryption-at-rest") == []
    assert _findings(queue, "aws-kms-key-customer-managed") == []
    assert _findings(one("aws:cloudtrail/trail:Trail", {**TRAIL, "kmsKeyId": UNKNOWN}), "cloudtrail-hardened") == []


def test_secure_transport_alone_leaves_a_star_public() -> None:
    tls_only = doc({**OPEN_STMT, "Condition": {"Bool": {"aws:SecureTransport": "true"}}})
    found = _findings(one("aws:s3/bucketPolicy:BucketPolicy", {"bucket": "b", "policy": tls_only}), "resource-policy-not-public")
    assert len(found) == 1 and "principal '*'" in found[0].message


# ---------------------------------------------------------------- end to end: policy check --program

PROGRAM = Path(__file__).resolve().parents[1] / "programs" / "aws_data_services.py"


def _check(tmp_path: Path, insecure: bool) -> tuple[subprocess.CompletedProcess, dict]:
    cfg = tmp_path / "Pulumi.prod.yaml"
    cfg.write_text(yaml.safe_dump({"config": {
        "aws:region": "eu-west-1", "inferstack:cloud": "aws", "inferstack:environment": "prod",
        "inferstack:residency": {"allowedRegions": ["eu-west-1"]}, "app:insecure": insecure}}))
    report = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-m", "inferstack", "policy", "check", "--config", str(cfg), "--program",
                           str(PROGRAM), "--json", str(report)], capture_output=True, text=True, timeout=300)
    return proc, json.loads(report.read_text())


AWS_POLICIES = {"resource-policy-not-public", "resource-grant-not-public", "aws-encryption-at-rest",
                "aws-encryption-in-transit", "aws-no-public-ip", "aws-deletion-protection", "cloudtrail-hardened"}


def test_program_end_to_end(tmp_path: Path) -> None:
    proc, report = _check(tmp_path, insecure=True)
    assert proc.returncode == 1, proc.stderr
    flagged = {(f["policy"], f["resource"]["type"]) for f in report["findings"]
               if f["enforcementLevel"] == "mandatory" and f["policy"] in AWS_POLICIES}
    assert flagged == {
        ("resource-policy-not-public", "aws:opensearch/domain:Domain"),
        ("resource-grant-not-public", "aws:lambda/permission:Permission"),
        ("aws-encryption-at-rest", "aws:rds/instance:Instance"),
        ("aws-encryption-at-rest", "aws:elasticache/replicationGroup:ReplicationGroup"),
        ("aws-encryption-at-rest", "aws:opensearch/domain:Domain"),
        ("aws-encryption-in-transit", "aws:elasticache/replicationGroup:ReplicationGroup"),
        ("aws-no-public-ip", "aws:rds/instance:Instance"),
        ("aws-no-public-ip", "aws:ec2/subnet:Subnet"),
        ("aws-deletion-protection", "aws:rds/instance:Instance"),
        ("cloudtrail-hardened", "aws:cloudtrail/trail:Trail"),
    }
    proc, report = _check(tmp_path, insecure=False)
    assert [f for f in report["findings"] if f["policy"] in AWS_POLICIES] == []


@pytest.mark.parametrize(("condition", "restricts"), [
    ({"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}, True),
    ({"StringEquals": {"AWS:SourceAccount": ACCOUNT}}, True),  # condition keys are case-insensitive
    ({"StringEquals": {"aws:SourceVpce": "vpce-0abc"}}, True),
    ({"StringEquals": {"kms:CallerAccount": ACCOUNT}}, True),
    ({"ArnLike": {"aws:SourceArn": f"arn:aws:sns:eu-west-1:{ACCOUNT}:t"}}, True),
    ({"ArnLike": {"aws:PrincipalArn": [f"arn:aws:iam::{ACCOUNT}:role/a", f"arn:aws:iam::{FOREIGN}:role/b"]}}, True),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::bucket"}}, False),  # an S3 ARN names no account
    ({"Bool": {"aws:SecureTransport": "true"}}, False),
    ({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}, False),
    ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, False),
    ({"StringNotEquals": {"aws:PrincipalOrgID": "o-other"}}, False),
    ({"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}}, False),
    ({"StringLike": {"aws:PrincipalOrgID": "*"}}, False),
    ({"StringEquals": {"aws:PrincipalOrgID": []}}, False),
    (None, False),
])
def test_restricts_who(condition, restricts: bool) -> None:
    from inferstack.policies.rules.aws_iam import restricts_who

    assert restricts_who(condition) is restricts
