"""AWS platform: the EKS cluster for inference and everything it stands on (foundation cut: KMS, VPC, EKS)."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from inferstack.components.platform import PlatformOutputs, WorkloadIdentity
from inferstack.config import Cloud, StackConfig


class AwsPlatform(pulumi.ComponentResource):
    """EKS platform for one stack: a customer-managed KMS key, a VPC and an EKS cluster with a private endpoint."""

    outputs: PlatformOutputs

    def __init__(self, name: str, cfg: StackConfig, opts: pulumi.ResourceOptions | None = None):
        super().__init__("inferstack:aws:Platform", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        protect = pulumi.ResourceOptions(parent=self, retain_on_delete=cfg.is_prod)
        tags = {"inferstack:stack": cfg.name, "inferstack:environment": cfg.environment.value}

        self.key = aws.kms.Key(
            f"{name}-cmk",
            description=f"inferstack {cfg.name}: EKS secrets, volumes, logs and registry",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=tags,
            opts=protect,
        )
        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=cfg.settings.network.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={**tags, "Name": f"{name}-vpc"},
            opts=child,
        )
        self.subnets = [
            aws.ec2.Subnet(
                f"{name}-private-{zone}",
                vpc_id=self.vpc.id,
                availability_zone=f"{cfg.region}{zone}",
                cidr_block=f"10.0.{i * 32}.0/19",
                tags={**tags, "kubernetes.io/role/internal-elb": "1"},
                opts=child,
            )
            for i, zone in enumerate("abc"[: cfg.settings.network.availability_zones])
        ]
        self.cluster_role = aws.iam.Role(
            f"{name}-cluster",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "eks.amazonaws.com"},
                            "Action": ["sts:AssumeRole", "sts:TagSession"],
                        }
                    ],
                }
            ),
            managed_policy_arns=["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"],
            tags=tags,
            opts=child,
        )
        self.cluster = aws.eks.Cluster(
            f"{name}-eks",
            name=f"inferstack-{cfg.name}",
            version=cfg.settings.cluster.version,
            role_arn=self.cluster_role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=[s.id for s in self.subnets],
                endpoint_private_access=True,
                endpoint_public_access=cfg.settings.cluster.public_endpoint,
                public_access_cidrs=cfg.settings.cluster.public_access_cidrs or None,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=self.key.arn),
                resources=["secrets"],
            ),
            access_config=aws.eks.ClusterAccessConfigArgs(authentication_mode="API"),
            enabled_cluster_log_types=["api", "audit", "authenticator", "controllerManager", "scheduler"],
            tags=tags,
            opts=protect,
        )
        kubeconfig = pulumi.Output.all(self.cluster.name, self.cluster.endpoint, self.cluster.certificate_authority).apply(
            lambda a: json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": a[0], "cluster": {"server": a[1], "certificate-authority-data": a[2]["data"]}}],
                    "contexts": [{"name": a[0], "context": {"cluster": a[0], "user": a[0]}}],
                    "current-context": a[0],
                    "users": [
                        {
                            "name": a[0],
                            "user": {
                                "exec": {
                                    "apiVersion": "client.authentication.k8s.io/v1beta1",
                                    "command": "aws",
                                    "args": ["eks", "get-token", "--cluster-name", a[0], "--region", cfg.region],
                                }
                            },
                        }
                    ],
                }
            )
        )
        self.k8s_provider = k8s.Provider(f"{name}-k8s", kubeconfig=kubeconfig, enable_server_side_apply=True, opts=child)
        issuer = self.cluster.identities.apply(lambda ids: ids[0]["oidcs"][0]["issuer"] if isinstance(ids[0], dict) else ids[0].oidcs[0].issuer)
        self.oidc = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc", url=issuer, client_id_lists=["sts.amazonaws.com"], tags=tags, opts=child
        )
        self.outputs = PlatformOutputs(
            cloud=Cloud.AWS,
            region=cfg.region,
            cluster_name=self.cluster.name,
            k8s_provider=self.k8s_provider,
            kms_key=self.key.arn,
            identity=WorkloadIdentity(
                cloud=Cloud.AWS, oidc_provider_arn=self.oidc.arn, oidc_issuer=issuer.apply(lambda u: u.replace("https://", ""))
            ),
        )
        self.register_outputs({"clusterName": self.cluster.name, "kmsKeyArn": self.key.arn})
