"""A program that builds on resources another team manages: it reads them by id with ``.get`` and declares only
its own security group, role policy and parameter."""

import json

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

config = pulumi.Config()

vpc = aws.ec2.Vpc.get("shared-vpc", config.require("vpcId"))
subnet = aws.ec2.Subnet.get("shared-subnet", config.require("subnetId"))
cluster = aws.eks.Cluster.get("shared-cluster", config.require("clusterName"))
namespace = k8s.core.v1.Namespace.get("kube-system", "kube-system")

sg = aws.ec2.SecurityGroup(
    "app",
    vpc_id=vpc.id,
    description="app traffic",
    ingress=[aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=443, to_port=443,
                                              cidr_blocks=[vpc.cidr_block])],
)

role = aws.iam.Role(
    "app",
    assume_role_policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }),
)
aws.iam.RolePolicy(
    "describe-cluster",
    role=role.id,
    policy=cluster.arn.apply(lambda arn: json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "eks:DescribeCluster", "Resource": arn}],
    })),
)

aws.ssm.Parameter(
    "endpoint",
    type="String",
    value=pulumi.Output.concat(cluster.endpoint, " in ", subnet.availability_zone),
)

pulumi.export("vpcId", vpc.id)
pulumi.export("kubeSystemUid", namespace.metadata.uid)
