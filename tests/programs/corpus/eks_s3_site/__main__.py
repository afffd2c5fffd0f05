"""An EKS cluster on a new VPC (two private subnets, one per zone) with a managed node group, a kubeconfig built
from the cluster's outputs, and a static website bucket with its index page."""

import json

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

config = pulumi.Config()
azs = aws.get_availability_zones(state="available").names[:2]


def assume(service: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    })


vpc = aws.ec2.Vpc("eks", cidr_block="10.0.0.0/16", enable_dns_hostnames=True, enable_dns_support=True)
subnets = [
    aws.ec2.Subnet(f"private-{az}", vpc_id=vpc.id, cidr_block=f"10.0.{i * 16}.0/20", availability_zone=az,
                   tags={"kubernetes.io/role/internal-elb": "1"})
    for i, az in enumerate(azs)
]

cluster_role = aws.iam.Role("cluster", assume_role_policy=assume("eks.amazonaws.com"))
aws.iam.RolePolicyAttachment("cluster-policy", role=cluster_role.name,
                             policy_arn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy")
node_role = aws.iam.Role("nodes", assume_role_policy=assume("ec2.amazonaws.com"))
for i, arn in enumerate([
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
]):
    aws.iam.RolePolicyAttachment(f"nodes-{i}", role=node_role.name, policy_arn=arn)

cluster = aws.eks.Cluster(
    "eks",
    role_arn=cluster_role.arn,
    version=config.get("clusterVersion") or "1.33",
    vpc_config=aws.eks.ClusterVpcConfigArgs(subnet_ids=[s.id for s in subnets], endpoint_private_access=True,
                                            endpoint_public_access=False),
    enabled_cluster_log_types=["api", "audit", "authenticator"],
)
nodes = aws.eks.NodeGroup(
    "default",
    cluster_name=cluster.name,
    node_role_arn=node_role.arn,
    subnet_ids=[s.id for s in subnets],
    instance_types=["m6i.large"],
    scaling_config=aws.eks.NodeGroupScalingConfigArgs(desired_size=2, min_size=1, max_size=3),
)

kubeconfig = pulumi.Output.all(cluster.name, cluster.endpoint, cluster.certificate_authority.data).apply(
    lambda a: json.dumps({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": a[0], "cluster": {"server": a[1], "certificate-authority-data": a[2]}}],
        "contexts": [{"name": a[0], "context": {"cluster": a[0], "user": a[0]}}],
        "current-context": a[0],
        "users": [{"name": a[0], "user": {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1",
                                                    "command": "aws", "args": ["eks", "get-token", "--cluster-name", a[0]]}}}],
    })
)
provider = k8s.Provider("eks", kubeconfig=kubeconfig, opts=pulumi.ResourceOptions(depends_on=[nodes]))
k8s.core.v1.Namespace("apps", metadata={"name": "apps"}, opts=pulumi.ResourceOptions(provider=provider))

site = aws.s3.Bucket("site")
website = aws.s3.BucketWebsiteConfiguration(
    "site",
    bucket=site.id,
    index_document={"suffix": config.get("indexDocument") or "index.html"},
    error_document={"key": "404.html"},
)
aws.s3.BucketObject("index", bucket=site.id, key="index.html", content="<h1>Hello</h1>", content_type="text/html")

pulumi.export("kubeconfig", pulumi.Output.secret(kubeconfig))
pulumi.export("clusterStatus", cluster.status)
pulumi.export("siteEndpoint", website.website_endpoint)
