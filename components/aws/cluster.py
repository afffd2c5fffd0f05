"""The EKS control plane, its access entries and the small on-demand system node group for controllers."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from inferstack.components.aws.identity import assume_role_policy
from inferstack.components.kubeconfig import exec_kubeconfig
from inferstack.config.platform import ClusterConfig

#: Control-plane log types sent to CloudWatch (all of them).
CONTROL_PLANE_LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
#: Default instance type of the system node group.
DEFAULT_SYSTEM_NODE_TYPE = "m6i.large"
#: Node label of the system node group; Karpenter and the cluster controllers are pinned to it.
SYSTEM_POOL = "system"


def endpoint_access(cfg: ClusterConfig) -> tuple[bool, list[str] | None]:
    """(public access, public CIDRs) of ``cluster.endpoint``; the private endpoint is always on. Public access needs
    explicit CIDRs and never allows 0.0.0.0/0 (refused by config validation already; checked again here because
    EKS reads an empty ``publicAccessCidrs`` as 0.0.0.0/0)."""
    if not cfg.endpoint.public:
        return False, None
    cidrs = list(cfg.endpoint.public_access_cidrs)
    if not cidrs or any(c.strip() in ("0.0.0.0/0", "::/0") for c in cidrs):
        raise ValueError("cluster.endpoint.publicAccessCidrs: a public endpoint needs explicit CIDRs other than 0.0.0.0/0")
    return True, cidrs


def node_launch_template_args(kms_key_arn: pulumi.Input[str], volume_gib: int) -> dict:
    """Launch template settings every node carries: IMDSv2 only (hop limit 1), gp3 root volume encrypted with the CMK."""
    return dict(
        metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
            http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1, instance_metadata_tags="disabled"
        ),
        block_device_mappings=[
            aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name="/dev/xvda",
                ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    volume_size=volume_gib,
                    volume_type="gp3",
                    encrypted="true",
                    kms_key_id=kms_key_arn,
                    delete_on_termination="true",
                ),
            )
        ],
    )


class EksCluster(pulumi.ComponentResource):
    """EKS control plane with access entries, an IAM OIDC provider for IRSA, and an on-demand system node group.

    Provisions the cluster IAM role; ``aws.eks.Cluster`` ``cluster_name`` at ``cfg.version`` (STANDARD support);
    its control-plane log group ``/aws/eks/<cluster_name>/cluster``; one STANDARD access entry per
    ``cfg.accessEntries`` item (IAM role -> Kubernetes groups); an ``aws.iam.OpenIdConnectProvider`` (audience
    ``sts.amazonaws.com``); a managed AL2023 ON_DEMAND node group labelled ``inferstack.io/pool=system`` through a
    launch template (50 GiB root volume); and a Kubernetes provider (exec-based kubeconfig, server-side apply) that
    waits for the system nodes.

    Args:
        name (str): component name; children are ``<name>-eks``, ``<name>-oidc``, ``<name>-system``, ``<name>-k8s``, ...
        cluster_name (str): EKS cluster name.
        cfg (ClusterConfig): ``version`` (default ``EKS_VERSION``), ``endpoint`` (default private:
            ``access``, ``publicAccessCidrs``, ``privateAccessCidrs``), ``logRetentionDays`` (default 90), ``accessEntries`` (default []),
            ``systemNodeType`` (default ``m6i.large``), ``systemNodesMin`` (default 2), ``systemNodesMax`` (default 4),
            ``deletionProtection`` (default: ``protect``).
        region (str): region the kubeconfig's ``aws eks get-token`` uses.
        subnet_ids (list[pulumi.Input[str]]): private subnets for the control plane's interfaces and the system nodes.
        kms_key_arn (pulumi.Input[str]): CMK for Kubernetes secrets, the log group and the nodes' root volumes.
        protect (bool): protect the cluster and retain it on delete (prod); default of ``deletionProtection``.
        opts (pulumi.ResourceOptions | None, default None): options of the component.

    Outputs:
        name (pulumi.Output[str]): the cluster name. security_group_id (pulumi.Output[str]): cluster security group.
        oidc (aws.iam.OpenIdConnectProvider), oidc_issuer_url, oidc_issuer (without ``https://``): for IRSA trusts.
        k8s_provider (k8s.Provider), node_group (aws.eks.NodeGroup), cluster, role, log_group, access_entries.
        Registered outputs: ``clusterName``, ``oidcProviderArn``.

    Secure choices:
        - Kubernetes secrets envelope-encrypted with the CMK; all five control-plane log types, CMK-encrypted;
        - private endpoint always on; public access only with ``endpoint.access: public`` and explicit CIDRs
          (``0.0.0.0/0`` and ``::/0`` refused); in-network runners admitted on tcp/443 by ``privateAccessCidrs``;
        - ``API`` authentication mode: access entries, no aws-auth ConfigMap (the creating identity keeps the
          bootstrap admin entry);
        - system nodes IMDSv2-only (hop limit 1), CMK-encrypted gp3 root volume; ECR pull-only node policy;
        - the kubeconfig runs ``aws eks get-token``: no token is stored in state.
    """

    def __init__(
        self,
        name: str,
        cluster_name: str,
        cfg: ClusterConfig,
        region: str,
        subnet_ids: list[pulumi.Input[str]],
        kms_key_arn: pulumi.Input[str],
        protect: bool,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("inferstack:aws:EksCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        public, cidrs = endpoint_access(cfg)

        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-control-plane",
            name=f"/aws/eks/{cluster_name}/cluster",
            retention_in_days=cfg.log_retention_days,
            kms_key_id=kms_key_arn,
            opts=child,
        )
        self.role = aws.iam.Role(f"{name}-cluster", assume_role_policy=assume_role_policy("eks.amazonaws.com"), opts=child)
        attach = aws.iam.RolePolicyAttachment(
            f"{name}-cluster", role=self.role.name, policy_arn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy", opts=child
        )
        deletion_protection = cfg.deletion_protection if cfg.deletion_protection is not None else protect
        self.cluster = aws.eks.Cluster(
            f"{name}-eks",
            name=cluster_name,
            version=cfg.version,
            role_arn=self.role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=subnet_ids,
                endpoint_private_access=True,
                endpoint_public_access=public,
                public_access_cidrs=cidrs,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=kms_key_arn), resources=["secrets"]
            ),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API", bootstrap_cluster_creator_admin_permissions=True
            ),
            enabled_cluster_log_types=CONTROL_PLANE_LOGS,
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
            deletion_protection=deletion_protection,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_group, attach], retain_on_delete=protect, protect=protect),
        )
        self.name: pulumi.Output[str] = self.cluster.name
        self.security_group_id: pulumi.Output[str] = self.cluster.vpc_config.cluster_security_group_id
        # The cluster security group admits only itself (the nodes); a CI runner or bastion in the VPC reaches the
        # private endpoint through these rules (cluster.endpoint.privateAccessCidrs).
        self.private_access_rules = [
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-api-from-{cidr.replace('/', '-').replace('.', '-')}",
                security_group_id=self.security_group_id,
                cidr_ipv4=cidr,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                description="Kubernetes API from an in-network runner (cluster.endpoint.privateAccessCidrs)",
                opts=child,
            )
            for cidr in cfg.endpoint.private_access_cidrs
        ]

        self.access_entries = [
            aws.eks.AccessEntry(
                f"{name}-access-{i}",
                cluster_name=self.cluster.name,
                principal_arn=entry.principal,
                kubernetes_groups=entry.groups,
                type="STANDARD",
                opts=child,
            )
            for i, entry in enumerate(cfg.access_entries)
        ]

        self.oidc_issuer_url: pulumi.Output[str] = self.cluster.identities.apply(_issuer)
        self.oidc_issuer: pulumi.Output[str] = self.oidc_issuer_url.apply(lambda u: u.removeprefix("https://"))
        self.oidc = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc", url=self.oidc_issuer_url, client_id_lists=["sts.amazonaws.com"], opts=child
        )

        self.node_group = self._system_node_group(name, cfg, subnet_ids, kms_key_arn)
        #: Exec-plugin kubeconfig (``aws eks get-token``): no credential in it.
        self.kubeconfig: pulumi.Output[str] = pulumi.Output.secret(_kubeconfig(self.cluster, region))
        self.k8s_provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.node_group]),
        )
        self.register_outputs({"clusterName": self.cluster.name, "oidcProviderArn": self.oidc.arn})

    def _system_node_group(self, name: str, cfg: ClusterConfig, subnet_ids: list, kms_key_arn) -> aws.eks.NodeGroup:
        child = pulumi.ResourceOptions(parent=self)
        self.node_role = aws.iam.Role(f"{name}-system-node", assume_role_policy=assume_role_policy("ec2.amazonaws.com"), opts=child)
        attachments = [
            aws.iam.RolePolicyAttachment(f"{name}-system-node-{short}", role=self.node_role.name, policy_arn=f"arn:aws:iam::aws:policy/{arn}", opts=child)
            for short, arn in [
                ("worker", "AmazonEKSWorkerNodePolicy"),
                ("cni", "AmazonEKS_CNI_Policy"),
                ("ecr", "AmazonEC2ContainerRegistryPullOnly"),
            ]
        ]
        self.launch_template = aws.ec2.LaunchTemplate(
            f"{name}-system",
            description="inferstack system nodes: IMDSv2 only, CMK-encrypted gp3 root volume",
            update_default_version=True,
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=t, tags={"inferstack.io/pool": SYSTEM_POOL})
                for t in ("instance", "volume")
            ],
            **node_launch_template_args(kms_key_arn, 50),
            opts=child,
        )
        return aws.eks.NodeGroup(
            f"{name}-system",
            cluster_name=self.cluster.name,
            node_role_arn=self.node_role.arn,
            subnet_ids=subnet_ids,
            capacity_type="ON_DEMAND",
            ami_type="AL2023_x86_64_STANDARD",
            instance_types=[cfg.system_node_type or DEFAULT_SYSTEM_NODE_TYPE],
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=cfg.system_nodes_min, desired_size=cfg.system_nodes_min, max_size=max(cfg.system_nodes_max, cfg.system_nodes_min)
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(id=self.launch_template.id, version=self.launch_template.latest_version.apply(str)),
            labels={"inferstack.io/pool": SYSTEM_POOL},
            opts=pulumi.ResourceOptions(parent=self, depends_on=attachments, ignore_changes=["scalingConfig.desiredSize"]),
        )


def _issuer(identities) -> str:
    first = identities[0]
    oidcs = first["oidcs"] if isinstance(first, dict) else first.oidcs
    return oidcs[0]["issuer"] if isinstance(oidcs[0], dict) else oidcs[0].issuer


def _kubeconfig(cluster: aws.eks.Cluster, region: str) -> pulumi.Output[str]:
    """Kubeconfig authenticating with ``aws eks get-token`` (no long-lived credential in state)."""
    return pulumi.Output.all(cluster.name, cluster.endpoint, cluster.certificate_authority).apply(
        lambda a: exec_kubeconfig(a[0], a[1], _ca(a[2]), "aws", ["eks", "get-token", "--cluster-name", a[0], "--region", region])
    )


def _ca(ca) -> str:
    return ca["data"] if isinstance(ca, dict) else ca.data
