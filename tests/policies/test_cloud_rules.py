"""AWS and GCP depth policies: a compliant fixture passes and one changed field violates (harness of tests/policies/test_rules.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from inferstack.engine import UNKNOWN
from inferstack.policies.rules import lifecycle
from tests.policies.test_rules import (
    DELETE,
    GCP_KEY,
    KEY,
    Case,
    Res,
    _findings,
    case_tests,
    doc,
    one,
    run,
    stmt,
)

ACCOUNT = "111122223333"
OIDC = "oidc.eks.eu-west-1.amazonaws.com/id/ABC"
OIDC_TRUST = doc({"Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC}"},
                  "Action": "sts:AssumeRoleWithWebIdentity",
                  "Condition": {"StringEquals": {f"{OIDC}:sub": "system:serviceaccount:ns:sa", f"{OIDC}:aud": "sts.amazonaws.com"}}})
SVC_TRUST = doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})
QUEUE_ARN = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:q"
QUEUE_POLICY = doc({"Sid": "Events", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sqs:SendMessage", "Resource": QUEUE_ARN})
PASS_ROLE = stmt(action=("iam:PassRole",), resource=f"arn:aws:iam::{ACCOUNT}:role/node")
POL = "aws:iam/policy:Policy"
ACTION0 = (0, "props", "policy", "Statement", 0, "Action")
SG = {"ingress": [{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}]}
FW = {"direction": "INGRESS", "sourceRanges": ["0.0.0.0/0"], "allows": [{"protocol": "tcp", "ports": ["443"]}]}
GKE = {"privateClusterConfig": {"enablePrivateNodes": True, "enablePrivateEndpoint": False},
       "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "10.0.0.0/16"}]},
       "releaseChannel": {"channel": "REGULAR"}, "datapathProvider": "ADVANCED_DATAPATH", "networkingMode": "VPC_NATIVE",
       "removeDefaultNodePool": True}
NODE = {"serviceAccount": "nodes@p.iam.gserviceaccount.com", "oauthScopes": ["https://www.googleapis.com/auth/cloud-platform"],
        "workloadMetadataConfig": {"mode": "GKE_METADATA"}, "imageType": "COS_CONTAINERD",
        "shieldedInstanceConfig": {"enableSecureBoot": True, "enableIntegrityMonitoring": True},
        "metadata": {"disable-legacy-endpoints": "true"}}
POOL = {"location": "europe-west4", "nodeConfig": NODE, "management": {"autoRepair": True, "autoUpgrade": True}}
GPOOL = "gcp:container/nodePool:NodePool"
NC = (0, "props", "nodeConfig")
INGRESS = {"metadata": {"annotations": {}}, "spec": {"ingressClassName": "gce-internal",
           "tls": [{"hosts": ["llm.example.com"], "secretName": "tls"}], "rules": [{"host": "llm.example.com"}]}}
ING = "kubernetes:networking.k8s.io/v1:Ingress"
ECR = {"encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": KEY}], "imageTagMutability": "IMMUTABLE",
       "imageScanningConfiguration": {"scanOnPush": True}}
LOG = {"kmsKeyId": KEY, "retentionInDays": 365}
BUCKET = Res("aws:s3/bucket:Bucket", {"bucket": "models-1a2b", "region": "eu-west-1"}, name="models")
TLS_POLICY = Res("aws:s3/bucketPolicy:BucketPolicy", {"bucket": "models-1a2b", "policy": doc(
    {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::models-1a2b/*",
     "Condition": {"Bool": {"aws:SecureTransport": "false"}}})}, name="tls")
VPC = Res("aws:ec2/vpc:Vpc", {"cidrBlock": "10.0.0.0/16", "arn": f"arn:aws:ec2:eu-west-1:{ACCOUNT}:vpc/vpc-0abc"}, name="vpc")
FLOW = Res("aws:ec2/flowLog:FlowLog", {"vpcId": "vpc-0abc", "trafficType": "ALL"}, name="flow")
DEST = Res("aws:s3/bucket:Bucket", {"bucket": "replica-9z", "region": "eu-west-1"}, name="replica")
REPL = Res("aws:s3/bucketReplicationConfig:BucketReplicationConfig",
           {"bucket": "models-1a2b", "rules": [{"status": "Enabled", "destination": {"bucket": "arn:aws:s3:::replica-9z"}}]},
           name="repl")
EKS = {"version": "1.35", "enabledClusterLogTypes": ["api", "audit", "authenticator"]}

CASES = [
    # ------------------------------------------------------------ IAM depth
    Case("not-action", "iam-no-not-action", one(POL, {"policy": doc(stmt())}), (0, "props", "policy", "Statement", 0, "NotAction"), ["iam:*"]),
    Case("not-resource", "iam-no-not-action", one(POL, {"policy": doc(stmt())}), (0, "props", "policy", "Statement", 0, "NotResource"), "arn:aws:s3:::x"),
    Case("role-inline-not-action", "iam-no-not-action",
         one("aws:iam/role:Role", {"assumeRolePolicy": SVC_TRUST, "inlinePolicies": [{"name": "p", "policy": doc(stmt())}]}),
         (0, "props", "inlinePolicies", 0, "policy", "Statement", 0, "NotAction"), "s3:DeleteObject"),
    Case("action-qstar", "iam-no-wildcard-actions", one(POL, {"policy": doc(stmt())}), ACTION0, ["?*"]),
    Case("action-star-star", "iam-no-wildcard-actions", one(POL, {"policy": doc(stmt())}), ACTION0, ["*:*"]),
    Case("action-service-wildcard", "iam-no-wildcard-actions", one(POL, {"policy": doc(stmt())}), ACTION0, ["s*:GetObject"]),
    Case("action-kms-star", "iam-no-wildcard-actions",
         one("aws:iam/userPolicy:UserPolicy", {"user": "u", "policy": doc(stmt())}), ACTION0, ["kms:*"]),
    Case("passrole-star", "iam-no-privilege-escalation", one(POL, {"policy": doc(PASS_ROLE)}),
         (0, "props", "policy", "Statement", 0, "Resource"), "*"),
    Case("create-policy-version-conditioned", "iam-no-privilege-escalation",
         one(POL, {"policy": doc(stmt(action=("iam:GetPolicy",), resource="*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}))}),
         ACTION0, ["iam:CreatePolicyVersion"]),
    Case("attach-wildcard", "iam-no-privilege-escalation", one(POL, {"policy": doc(stmt(action=("iam:GetRole",), resource="*"))}),
         ACTION0, ["iam:Attach*"]),
    Case("assume-role-star", "iam-no-privilege-escalation",
         one("aws:iam/groupPolicy:GroupPolicy", {"group": "g", "policy": doc(stmt(action=("sts:GetCallerIdentity",), resource="*"))}),
         ACTION0, ["sts:AssumeRole"]),
    *[Case(f"admin-{t.split('/')[1].split(':')[0]}", "iam-no-admin-managed-policies",
           one(t, {"policyArn": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"}), (0, "props", "policyArn"), f"arn:aws:iam::aws:policy/{p}")
      for t, p in (("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "AdministratorAccess"),
                   ("aws:iam/policyAttachment:PolicyAttachment", "PowerUserAccess"),
                   ("aws:iam/userPolicyAttachment:UserPolicyAttachment", "IAMFullAccess"),
                   ("aws:iam/groupPolicyAttachment:GroupPolicyAttachment", "job-function/SystemAdministrator"))],
    Case("admin-role-managed-arns", "iam-no-admin-managed-policies",
         one("aws:iam/role:Role", {"assumeRolePolicy": SVC_TRUST, "managedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}),
         (0, "props", "managedPolicyArns", 0), "arn:aws:iam::aws:policy/AdministratorAccess"),
    Case("oidc-no-sub", "iam-oidc-trust-scoped", one("aws:iam/role:Role", {"assumeRolePolicy": OIDC_TRUST}),
         (0, "props", "assumeRolePolicy", "Statement", 0, "Condition", "StringEquals", f"{OIDC}:sub"), DELETE),
    Case("oidc-no-aud", "iam-oidc-trust-scoped", one("aws:iam/role:Role", {"assumeRolePolicy": OIDC_TRUST}),
         (0, "props", "assumeRolePolicy", "Statement", 0, "Condition", "StringEquals", f"{OIDC}:aud"), DELETE),
    Case("oidc-no-condition", "iam-oidc-trust-scoped", one("aws:iam/role:Role", {"assumeRolePolicy": OIDC_TRUST}),
         (0, "props", "assumeRolePolicy", "Statement", 0, "Condition"), DELETE),
    *[Case(f"public-{t.split('/')[1].split(':')[0]}", "resource-policy-not-public", one(t, {"policy": QUEUE_POLICY}),
           (0, "props", "policy", "Statement", 0, "Principal"), principal)
      for t, principal in (("aws:s3/bucketPolicy:BucketPolicy", "*"), ("aws:kms/keyPolicy:KeyPolicy", {"AWS": "*"}),
                           ("aws:secretsmanager/secretPolicy:SecretPolicy", "*"), ("aws:sqs/queuePolicy:QueuePolicy", {"AWS": ["*"]}),
                           ("aws:sns/topicPolicy:TopicPolicy", "*"), ("aws:ecr/repositoryPolicy:RepositoryPolicy", {"AWS": "*"}))],
    Case("foreign-account", "resource-policy-no-foreign-accounts", one("aws:sqs/queuePolicy:QueuePolicy", {"policy": QUEUE_POLICY}),
         (0, "props", "policy", "Statement", 0, "Principal"), {"AWS": "arn:aws:iam::999988887777:root"}),
    Case("foreign-account-id", "resource-policy-no-foreign-accounts",
         one("aws:s3/bucketPolicy:BucketPolicy", {"policy": doc(stmt(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/r"}, resource="arn:aws:s3:::b/*"))},
             provider={"region": "eu-west-1", "allowedAccountIds": [ACCOUNT]}),
         (0, "props", "policy", "Statement", 0, "Principal", "AWS"), "999988887777"),
    # ------------------------------------------------------------ network
    Case("sg-ssh-world", "sg-no-world-ingress", one("aws:ec2/securityGroup:SecurityGroup", SG), (0, "props", "ingress", 0, "fromPort"), 22),
    Case("sg-all-ipv6", "sg-no-world-ingress",
         one("aws:ec2/securityGroup:SecurityGroup", {"ingress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["10.0.0.0/8"]}]}),
         (0, "props", "ingress", 0, "ipv6CidrBlocks"), ["::/0"]),
    Case("sg-rule-world", "sg-no-world-ingress",
         one("aws:ec2/securityGroupRule:SecurityGroupRule", {"type": "ingress", "protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}),
         (0, "props", "toPort"), 8443),
    Case("sg-ingress-rule-world", "sg-no-world-ingress",
         one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "10.0.0.0/8"}),
         (0, "props", "cidrIpv4"), "0.0.0.0/0"),
    Case("fw-ssh-world", "gcp-firewall-no-world-ingress", one("gcp:compute/firewall:Firewall", FW), (0, "props", "allows", 0, "ports"), ["22"]),
    Case("fw-no-source", "gcp-firewall-no-world-ingress",
         one("gcp:compute/firewall:Firewall", {**FW, "sourceRanges": ["10.0.0.0/8"], "allows": [{"protocol": "all"}]}),
         (0, "props", "sourceRanges"), DELETE),
    Case("gke-public-no-man", "gke-public-endpoint-restricted", one("gcp:container/cluster:Cluster", GKE),
         (0, "props", "masterAuthorizedNetworksConfig"), DELETE),
    Case("gke-public-world-man", "gke-public-endpoint-restricted", one("gcp:container/cluster:Cluster", GKE),
         (0, "props", "masterAuthorizedNetworksConfig", "cidrBlocks", 0, "cidrBlock"), "0.0.0.0/0"),
    Case("gke-public-gcp-cidrs", "gke-public-endpoint-restricted", one("gcp:container/cluster:Cluster", GKE),
         (0, "props", "masterAuthorizedNetworksConfig", "gcpPublicCidrsAccessEnabled"), True),
    Case("ingress-no-tls", "ingress-tls", one(ING, INGRESS), (0, "props", "spec", "tls"), DELETE),
    Case("ingress-host-not-covered", "ingress-tls", one(ING, INGRESS), (0, "props", "spec", "rules", 0, "host"), "admin.example.com"),
    Case("ingress-gce-public", "ingress-not-public", one(ING, INGRESS), (0, "props", "spec", "ingressClassName"), "gce"),
    Case("ingress-alb-public", "ingress-not-public",
         one(ING, {**INGRESS, "metadata": {"annotations": {"alb.ingress.kubernetes.io/scheme": "internal"}}, "spec": {**INGRESS["spec"], "ingressClassName": "alb"}}),
         (0, "props", "metadata", "annotations", "alb.ingress.kubernetes.io/scheme"), "internet-facing"),
    # ------------------------------------------------------------ encryption and logging
    Case("sqs-no-cmk", "sqs-cmk", one("aws:sqs/queue:Queue", {"kmsMasterKeyId": KEY}), (0, "props", "kmsMasterKeyId"), DELETE),
    Case("sqs-aws-key", "sqs-cmk", one("aws:sqs/queue:Queue", {"kmsMasterKeyId": KEY}), (0, "props", "kmsMasterKeyId"), "alias/aws/sqs"),
    Case("sns-no-cmk", "sns-cmk", one("aws:sns/topic:Topic", {"kmsMasterKeyId": KEY}), (0, "props", "kmsMasterKeyId"), DELETE),
    Case("efs-unencrypted", "efs-cmk", one("aws:efs/fileSystem:FileSystem", {"encrypted": True, "kmsKeyId": KEY}), (0, "props", "encrypted"), False),
    Case("ecr-aes", "ecr-cmk", one("aws:ecr/repository:Repository", ECR), (0, "props", "encryptionConfigurations", 0, "encryptionType"), "AES256"),
    Case("ecr-mutable", "ecr-scan-immutable", one("aws:ecr/repository:Repository", ECR), (0, "props", "imageTagMutability"), "MUTABLE"),
    Case("ecr-no-scan", "ecr-scan-immutable", one("aws:ecr/repository:Repository", ECR), (0, "props", "imageScanningConfiguration"), DELETE),
    Case("log-no-kms", "cloudwatch-logs-cmk", one("aws:cloudwatch/logGroup:LogGroup", LOG), (0, "props", "kmsKeyId"), DELETE),
    Case("log-no-retention", "cloudwatch-logs-retention", one("aws:cloudwatch/logGroup:LogGroup", LOG), (0, "props", "retentionInDays"), DELETE),
    Case("log-short-retention-prod", "cloudwatch-logs-retention", one("aws:cloudwatch/logGroup:LogGroup", LOG), (0, "props", "retentionInDays"), 30),
    Case("log-invalid-retention", "cloudwatch-logs-retention", one("aws:cloudwatch/logGroup:LogGroup", LOG), (0, "props", "retentionInDays"), 366),
    Case("lt-no-cmk", "ebs-cmk", one("aws:ec2/launchTemplate:LaunchTemplate",
         {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "kmsKeyId": KEY}}]}),
         (0, "props", "blockDeviceMappings", 0, "ebs", "kmsKeyId"), DELETE),
    Case("eks-no-audit-log", "eks-control-plane-logging", one("aws:eks/cluster:Cluster", EKS),
         (0, "props", "enabledClusterLogTypes"), ["api", "authenticator"]),
    Case("ar-no-cmek", "artifact-registry-cmek", one("gcp:artifactregistry/repository:Repository", {"location": "europe-west4", "kmsKeyName": GCP_KEY}),
         (0, "props", "kmsKeyName"), DELETE),
    Case("gke-logging-off", "gke-logging-monitoring", one("gcp:container/cluster:Cluster", GKE), (0, "props", "loggingService"), "none"),
    Case("subnet-no-flow-logs", "gcp-subnet-flow-logs",
         one("gcp:compute/subnetwork:Subnetwork", {"region": "europe-west4", "logConfig": {"flowSampling": 0.5}}), (0, "props", "logConfig"), DELETE),
    Case("vpc-no-flow-log", "aws-vpc-flow-logs", (VPC, FLOW), (1,), DELETE),
    Case("vpc-flow-log-other-vpc", "aws-vpc-flow-logs", (VPC, FLOW), (1, "props", "vpcId"), "vpc-0other", flagged=0),
    Case("s3-no-tls-policy", "s3-tls-only", (BUCKET, TLS_POLICY), (1,), DELETE),
    Case("s3-tls-policy-other-bucket", "s3-tls-only", (BUCKET, TLS_POLICY), (1, "props", "bucket"), "other-bucket"),
    Case("gcp-rotation-too-long", "kms-key-rotation",
         one("gcp:kms/cryptoKey:CryptoKey", {"keyRing": "projects/p/locations/europe-west4/keyRings/k", "rotationPeriod": "7776000s"}),
         (0, "props", "rotationPeriod"), "31536000s"),
    # ------------------------------------------------------------ GKE nodes
    Case("pool-default-sa", "gke-nodes-no-default-sa", one(GPOOL, POOL), NC + ("serviceAccount",), "123-compute@developer.gserviceaccount.com"),
    Case("pool-no-sa", "gke-nodes-no-default-sa", one(GPOOL, POOL), NC + ("serviceAccount",), DELETE),
    Case("cluster-default-pool-default-sa", "gke-nodes-no-default-sa",
         one("gcp:container/cluster:Cluster", {**GKE, "removeDefaultNodePool": False, "nodeConfig": NODE}), NC + ("serviceAccount",), "default"),
    Case("pool-scope-no-wi", "gke-nodes-scopes", one(GPOOL, POOL), NC + ("workloadMetadataConfig", "mode"), "GCE_METADATA"),
    Case("pool-metadata-server", "gke-metadata-server", one(GPOOL, POOL), NC + ("workloadMetadataConfig",), DELETE),
    Case("pool-no-secure-boot", "gke-shielded-nodes", one(GPOOL, POOL), NC + ("shieldedInstanceConfig", "enableSecureBoot"), False),
    Case("pool-no-integrity", "gke-shielded-nodes", one(GPOOL, POOL), NC + ("shieldedInstanceConfig", "enableIntegrityMonitoring"), False),
    Case("cluster-shielded-off", "gke-shielded-nodes", one("gcp:container/cluster:Cluster", GKE), (0, "props", "enableShieldedNodes"), False),
    Case("pool-legacy-metadata", "gke-legacy-metadata-disabled", one(GPOOL, POOL), NC + ("metadata", "disable-legacy-endpoints"), "false"),
    Case("pool-auto-repair-off", "gke-node-auto-repair-upgrade", one(GPOOL, POOL), (0, "props", "management", "autoRepair"), False),
    Case("pool-ubuntu", "gke-cos-images", one(GPOOL, POOL), NC + ("imageType",), "UBUNTU_CONTAINERD"),
    Case("gke-no-netpol", "gke-network-hardening", one("gcp:container/cluster:Cluster", GKE), (0, "props", "datapathProvider"), DELETE),
    Case("gke-routes", "gke-network-hardening", one("gcp:container/cluster:Cluster", GKE), (0, "props", "networkingMode"), "ROUTES"),
    Case("gke-client-cert", "gke-network-hardening", one("gcp:container/cluster:Cluster", GKE),
         (0, "props", "masterAuth"), {"clientCertificateConfig": {"issueClientCertificate": True}}),
    Case("gke-no-channel", "gke-release-channel", one("gcp:container/cluster:Cluster", GKE), (0, "props", "releaseChannel"), DELETE),
    # ------------------------------------------------------------ residency of replicas, lifecycle
    Case("s3-replica-outside", "replica-residency", (BUCKET, DEST, REPL), (1, "props", "region"), "us-east-1", flagged=2),
    Case("s3-replica-foreign-bucket", "replica-residency", (BUCKET, DEST, REPL),
         (2, "props", "rules", 0, "destination", "bucket"), "arn:aws:s3:::somewhere-else", flagged=2),
    Case("dynamodb-replica-outside", "replica-residency", one("aws:dynamodb/table:Table", {"replicas": [{"regionName": "eu-west-1"}]}),
         (0, "props", "replicas", 0, "regionName"), "us-west-2"),
    Case("secret-replica-aws-outside", "replica-residency", one("aws:secretsmanager/secret:Secret", {"replicas": [{"region": "eu-west-1"}]}),
         (0, "props", "replicas", 0, "region"), "ap-southeast-1"),
    Case("gcs-dual-region-outside", "replica-residency",
         one("gcp:storage/bucket:Bucket", {"location": "EU", "customPlacementConfig": {"dataLocations": ["EUROPE-WEST4"]}}),
         (0, "props", "customPlacementConfig", "dataLocations", 0), "US-EAST1"),
    Case("kms-replica-outside", "region-residency", one("aws:kms/replicaKey:ReplicaKey", {"primaryKeyArn": KEY}),
         (0, "provider", "region"), "us-east-1"),
    Case("artifact-registry-multi-region", "region-residency",
         one("gcp:artifactregistry/repository:Repository", {"location": "europe-west4"}), (0, "props", "location"), "europe"),
    Case("eks-version-past-support", "cluster-version-supported", one("aws:eks/cluster:Cluster", EKS), (0, "props", "version"), "1.31"),
    Case("eks-version-unpinned", "cluster-version-supported", one("aws:eks/cluster:Cluster", EKS), (0, "props", "version"), DELETE),
]


test_compliant_fixture_passes, test_one_field_change_violates = case_tests(CASES)


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lifecycle, "today", lambda: dt.date(2026, 12, 1))


def test_cluster_version_follows_the_support_calendar(monkeypatch: pytest.MonkeyPatch) -> None:
    eks = one("aws:eks/cluster:Cluster", {**EKS, "version": "1.34"})
    assert _findings(eks, "cluster-version-supported") == []  # standard support ends 2026-12-02
    monkeypatch.setattr(lifecycle, "today", lambda: dt.date(2026, 12, 3))
    assert _findings(eks, "cluster-version-supported")


def test_unknown_values_are_not_evaluated_never_passed() -> None:
    found = _findings(one(POL, {"policy": UNKNOWN}), "iam-no-privilege-escalation")
    assert [(f.enforcement_level, f.not_evaluated) for f in found] == [("advisory", True)]
    found = _findings((VPC, Res(FLOW.type, {"vpcId": UNKNOWN}, name="flow")), "aws-vpc-flow-logs")
    assert [(f.enforcement_level, f.not_evaluated) for f in found] == [("advisory", True)]


def test_conditions_do_not_excuse_escalation_but_scoped_passrole_is_fine() -> None:
    scoped = doc(stmt(action=("iam:PassRole",), resource=f"arn:aws:iam::{ACCOUNT}:role/node",
                      Condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}))
    assert _findings(one(POL, {"policy": scoped}), "iam-no-privilege-escalation") == []
    star = doc(stmt(action=("iam:PassRole",), resource="*", Condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}))
    assert _findings(one(POL, {"policy": star}), "iam-no-privilege-escalation")


def test_conditioned_cross_account_and_service_principals_are_allowed() -> None:
    conditioned = doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"}, "Action": "sqs:SendMessage",
                       "Resource": QUEUE_ARN, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}})
    res = one("aws:sqs/queuePolicy:QueuePolicy", {"policy": conditioned})
    assert _findings(res, "resource-policy-no-foreign-accounts") == []
    assert _findings(res, "resource-policy-not-public") == []


def test_dev_log_retention_needs_only_a_valid_value() -> None:
    assert _findings(one("aws:cloudwatch/logGroup:LogGroup", {**LOG, "retentionInDays": 30}), "cloudwatch-logs-retention",
                     environment="dev") == []


def test_unknown_resource_types_fail_closed_for_residency() -> None:
    # region-residency leaves them to opaque-resources-reviewed (tests/policies/test_opaque_resources.py), which
    # reports each as not evaluated for residency (and encryption and exposure).
    for t in ("pulumi-python:dynamic:Resource", "command:local:Command", "azure-native:storage:StorageAccount"):
        found = _findings(one(t, {}), "opaque-resources-reviewed")
        assert found and "not evaluated for encryption, exposure, residency" in found[0].message, t


def test_case_runner_smoke() -> None:
    assert run(CASES[0], None)[0] == []
