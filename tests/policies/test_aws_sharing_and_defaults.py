"""AWS controls the red-team found missed (#25): public sharing by construction (RDS snapshots, AMIs, function
URLs, SSM documents), world-equivalent CIDRs, the default security group and default VPC, classic ELB listeners,
ElastiCache cache clusters and in-line instance block devices. Fixtures both ways with the harness of
tests/policies/test_rules.py; the compliant fixtures follow the benchmark in full."""

from __future__ import annotations

import pytest

from inferstack.policies.families import members
from policies.rules.cidrs import is_world, world_equivalent, world_ranges
from tests.policies.test_rules import DELETE, KEY, Case, Res, _findings, case_tests, one

ACCOUNT = "111122223333"
SNAPSHOT = {"dbInstanceIdentifier": "db1", "dbSnapshotIdentifier": "s1", "sharedAccounts": [ACCOUNT]}
CLUSTER_SNAPSHOT = {"dbClusterIdentifier": "c1", "dbClusterSnapshotIdentifier": "s1", "sharedAccounts": [ACCOUNT]}
SG_RULE = {"securityGroupId": "sg-0abc", "cidrIpv4": "10.0.0.0/8", "fromPort": 22, "toPort": 22, "ipProtocol": "tcp"}
NACL_RULE = {"networkAclId": "acl-1", "ruleNumber": 100, "egress": False, "ruleAction": "allow", "protocol": "tcp",
             "fromPort": 22, "toPort": 22, "cidrBlock": "10.0.0.0/8"}
VPC_ID = "vpc-0123456789abcdef0"
FLOW_LOG = {"vpcId": VPC_ID, "trafficType": "ALL", "logDestinationType": "s3", "logDestination": "arn:aws:s3:::flow-logs"}
LB = {"availabilityZones": ["eu-west-1a"], "listeners": [
    {"instancePort": 8080, "instanceProtocol": "http", "lbPort": 443, "lbProtocol": "https",
     "sslCertificateId": f"arn:aws:acm:eu-west-1:{ACCOUNT}:certificate/c"}]}
INSTANCE = {"ami": "ami-0123", "instanceType": "t3.micro", "metadataOptions": {"httpTokens": "required"},
            "rootBlockDevice": {"encrypted": True, "kmsKeyId": KEY},
            "ebsBlockDevices": [{"deviceName": "/dev/sdf", "encrypted": True, "kmsKeyId": KEY}]}

CASES = [
    # ---------------------------------------------------------- public sharing (grant family)
    Case("rds-snapshot-public", "resource-grant-not-public", one("aws:rds/snapshot:Snapshot", SNAPSHOT),
         (0, "props", "sharedAccounts"), ["all"]),
    Case("rds-cluster-snapshot-public", "resource-grant-not-public",
         one("aws:rds/clusterSnapshot:ClusterSnapshot", CLUSTER_SNAPSHOT), (0, "props", "sharedAccounts"), [ACCOUNT, "all"]),
    Case("ami-public", "resource-grant-not-public",
         one("aws:ec2/amiLaunchPermission:AmiLaunchPermission", {"imageId": "ami-0123", "accountId": ACCOUNT}),
         (0, "props", "group"), "all"),
    Case("function-url-public", "resource-grant-not-public",
         one("aws:lambda/functionUrl:FunctionUrl", {"functionName": "fn", "authorizationType": "AWS_IAM"}),
         (0, "props", "authorizationType"), "NONE"),
    Case("ssm-document-public", "resource-grant-not-public",
         one("aws:ssm/document:Document", {"documentType": "Command", "content": "{}",
                                           "permissions": {"type": "Share", "account_ids": ACCOUNT}}),
         (0, "props", "permissions", "account_ids"), "All"),
    # ---------------------------------------------------------- world-equivalent CIDRs
    Case("sg-half-world", "sg-no-world-ingress", one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", SG_RULE),
         (0, "props", "cidrIpv4"), "0.0.0.0/1"),
    Case("sg-ipv6-global-unicast", "sg-no-world-ingress",
         one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", {**SG_RULE, "cidrIpv4": None, "cidrIpv6": "fd00::/8"}),
         (0, "props", "cidrIpv6"), "2000::/3"),
    Case("sg-classic-two-halves", "sg-no-world-ingress",
         one("aws:ec2/securityGroupRule:SecurityGroupRule", {"type": "ingress", "securityGroupId": "sg-0abc",
             "cidrBlocks": ["8.0.0.0/8", "192.168.0.0/16"], "fromPort": 22, "toPort": 22, "protocol": "tcp"}),
         (0, "props", "cidrBlocks", 1), "9.0.0.0/8"),  # together with 8.0.0.0/8: 8.0.0.0/7
    Case("nacl-half-world", "nacl-no-world-admin-ports", one("aws:ec2/networkAclRule:NetworkAclRule", NACL_RULE),
         (0, "props", "cidrBlock"), "128.0.0.0/1"),
    # ---------------------------------------------------------- default security group and default VPC
    Case("default-sg-ingress", "default-sg-restricts-all",
         one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", {"vpcId": VPC_ID}),
         (0, "props", "ingress"), [{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}]),
    Case("default-sg-egress", "default-sg-restricts-all",
         one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", {"vpcId": VPC_ID, "ingress": [], "egress": []}),
         (0, "props", "egress"), [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]),
    Case("default-vpc-no-flow-log", "aws-vpc-flow-logs",
         (Res("aws:ec2/defaultVpc:DefaultVpc", {"id": VPC_ID}, name="default"),
          Res("aws:ec2/flowLog:FlowLog", FLOW_LOG, name="flow")),
         (1, "props", "vpcId"), "vpc-0other"),
    # ---------------------------------------------------------- in transit
    Case("classic-elb-http", "aws-encryption-in-transit", one("aws:elb/loadBalancer:LoadBalancer", LB),
         (0, "props", "listeners", 0, "lbProtocol"), "http"),
    Case("classic-elb-tcp", "aws-encryption-in-transit", one("aws:elb/loadBalancer:LoadBalancer", LB),
         (0, "props", "listeners", 0, "lbProtocol"), "TCP"),
    Case("cache-cluster-redis-standalone", "aws-encryption-in-transit",
         one("aws:elasticache/cluster:Cluster", {"engine": "redis", "replicationGroupId": "prompt-cache"}),
         (0, "props", "replicationGroupId"), DELETE),
    Case("cache-cluster-memcached-no-tls", "aws-encryption-in-transit",
         one("aws:elasticache/cluster:Cluster", {"engine": "memcached", "engineVersion": "1.6.22",
                                                 "nodeType": "cache.t3.micro", "numCacheNodes": 2,
                                                 "transitEncryptionEnabled": True}),
         (0, "props", "transitEncryptionEnabled"), DELETE),
    # ---------------------------------------------------------- in-line block devices (CIS AWS 2.2.1)
    Case("instance-root-unencrypted", "instance-ebs-encryption", one("aws:ec2/instance:Instance", INSTANCE),
         (0, "props", "rootBlockDevice", "encrypted"), False),
    Case("instance-ebs-unencrypted", "instance-ebs-encryption", one("aws:ec2/instance:Instance", INSTANCE),
         (0, "props", "ebsBlockDevices", 0, "encrypted"), False),
    Case("instance-ebs-default-off", "instance-ebs-encryption",
         (Res("aws:ec2/launchConfiguration:LaunchConfiguration", {**INSTANCE, "imageId": "ami-0123",
              "rootBlockDevice": {"encrypted": False}}),
          Res("aws:ebs/encryptionByDefault:EncryptionByDefault", {"enabled": True}, name="ebs-default")),
         (1, "props", "enabled"), False),
]


test_compliant_fixture_passes, test_one_field_change_violates = case_tests(CASES)


def test_sharing_types_are_grant_family_members() -> None:
    grants = members("aws-resource-grant")
    for token, field in (("aws:rds/snapshot:Snapshot", "shared_accounts"), ("aws:rds/clusterSnapshot:ClusterSnapshot", "shared_accounts"),
                         ("aws:ec2/amiLaunchPermission:AmiLaunchPermission", "group"),
                         ("aws:lambda/functionUrl:FunctionUrl", "authorization_type"), ("aws:ssm/document:Document", "permissions")):
        assert field in grants[token], token
    assert set(members("aws-vpc")) == {"aws:ec2/vpc:Vpc", "aws:ec2/defaultVpc:DefaultVpc"}
    assert set(members("aws-default-security-group")) == {"aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"}
    assert "aws:elb/loadBalancer:LoadBalancer" in members("aws-encryption-in-transit")
    assert {"aws:ec2/instance:Instance", "aws:ec2/spotInstanceRequest:SpotInstanceRequest"} <= set(members("aws-instance-block-devices"))


def test_shared_with_named_accounts_is_not_public() -> None:
    assert _findings(one("aws:rds/snapshot:Snapshot", {**SNAPSHOT, "sharedAccounts": [ACCOUNT, "444455556666"]}),
                     "resource-grant-not-public") == []
    assert _findings(one("aws:ssm/document:Document", {"content": "{}", "permissions": {"type": "Share", "account_ids": "All"}}),
                     "resource-grant-not-public")


def test_redis_in_a_replication_group_and_encrypted_instances_pass() -> None:
    assert _findings(one("aws:elasticache/cluster:Cluster", {"engine": "redis", "replicationGroupId": "rg"}),
                     "aws-encryption-in-transit") == []
    assert _findings(one("aws:elasticache/cluster:Cluster", {"engine": "valkey"}), "aws-encryption-in-transit")
    # encrypted omitted is the AMI's choice, not a declared plaintext volume
    assert _findings(one("aws:ec2/instance:Instance", {**INSTANCE, "rootBlockDevice": {"volumeSize": 20}}),
                     "instance-ebs-encryption") == []


@pytest.mark.parametrize(("cidr", "world"), [
    ("0.0.0.0/0", True), ("::/0", True), ("0.0.0.0/1", True), ("128.0.0.0/1", True), ("2000::/3", True),
    ("1.0.0.0/7", True), ("2001::/15", True), ("0.0.0.1/1", True),  # host bits, as the clouds accept them
    ("11.0.0.0/8", False), ("2001:db8::/32", False), ("2001::/16", False), ("10.0.0.0/8", False),
    ("172.16.0.0/12", False), ("100.64.0.0/10", False), ("fc00::/7", False), ("fe80::/10", False),
    ("203.0.113.7/32", False), ("not-a-cidr", False), (None, False), ("", False),
])
def test_is_world(cidr, world) -> None:
    assert is_world(cidr) is world
    assert world_equivalent(cidr) is world


def test_world_ranges_counts_ranges_together() -> None:
    assert world_ranges(["10.0.0.0/8", "0.0.0.0/1", "128.0.0.0/1"]) == ["0.0.0.0/1", "128.0.0.0/1"]
    public_eighths = [f"{i}.0.0.0/8" for i in range(32, 64)]  # together 32.0.0.0/3
    assert world_ranges(["10.0.0.0/8", *public_eighths]) == public_eighths
    assert world_ranges(["8.0.0.0/8", "9.0.0.0/8"]) == ["8.0.0.0/8", "9.0.0.0/8"]  # they make 8.0.0.0/7
    assert world_ranges(["203.0.113.0/24", "198.51.100.0/24", "2001:db8::/32"]) == []
