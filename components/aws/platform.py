"""AWS platform: the EKS cluster for inference and everything it stands on, composed from one module per concept.

kms (CMK) -> network (VPC) -> cluster (EKS, access entries, system nodes, OIDC) -> karpenter (controller, IAM,
interruption queue) -> node_pools (EC2NodeClass + NodePools per accelerator pool) and device_plugins.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from inferstack.catalog.accelerators import lookup
from inferstack.components.aws.cluster import SYSTEM_POOL, EksCluster
from inferstack.components.aws.device_plugins import DevicePlugins
from inferstack.components.aws.karpenter import Karpenter
from inferstack.components.aws.kms import PlatformKey
from inferstack.components.aws.metrics import AwsMetrics
from inferstack.components.aws.network import Network
from inferstack.components.aws.node_pools import AcceleratorPools
from inferstack.components.dra import NvidiaDra
from inferstack.components.platform import PlatformOutputs, WorkloadIdentity
from inferstack.config import AwsPlatformArgs, Cloud


def cluster_name_for(stack: str) -> str:
    """EKS cluster name of a stack (also the Karpenter discovery tag value and queue name prefix)."""
    return f"inferstack-{stack}"


class AwsPlatform(pulumi.ComponentResource):
    """EKS platform for one stack: CMK, VPC, EKS cluster, Karpenter, accelerator NodePools and device plugins.

    Provisions an explicit ``aws.Provider`` in ``args.region`` (default tags ``inferstack:stack``,
    ``inferstack:environment``, ``inferstack:cluster``) and, through it, :class:`PlatformKey` -> :class:`Network`
    -> :class:`EksCluster` (``inferstack-<stack>``) -> :class:`Karpenter` -> :class:`AcceleratorPools` (one
    EC2NodeClass and its NodePools per ``inferstack:acceleratorPools`` entry) and :class:`DevicePlugins` (NVIDIA or
    Neuron, only for the families that have a pool), and :class:`AwsMetrics` (AMP workspace and the Prometheus
    remote-write role).

    Args:
        name (str): component name; children are ``<name>-cmk``, ``<name>-net``, ``<name>-cluster``,
            ``<name>-karpenter``, ``<name>-pools``, ``<name>-devices``, ``<name>-metrics``.
        args (AwsPlatformArgs): ``stack`` (names the cluster ``inferstack-<stack>``), ``environment`` (prod protects
            and retains), ``region``, ``network``, ``cluster`` and ``accelerator_pools``; a checked stack builds them
            with ``StackConfig.platform_args()``.
        opts (pulumi.ResourceOptions | None, default None): options of the component.

    Outputs:
        outputs (PlatformOutputs): what serving, registry and secrets use: ``cluster_name``, ``k8s_provider``
            (exec-based kubeconfig, no token in state), ``kms_key`` (CMK ARN), ``identity`` (OIDC provider ARN and
            issuer for IRSA), ``pools`` (a ``PoolInfo`` per pool), ``ready`` (system node group, Karpenter release,
            NodePools, device plugin releases).
        aws_provider, k8s_provider, key, network, cluster, karpenter, pools, device_plugins: the children.
        Registered outputs: ``clusterName``, ``kmsKeyArn``, ``pools`` (pool names).

    Secure choices:
        - one customer-managed key encrypts EKS secrets, node volumes, logs, the interruption queue and the registry;
        - private API endpoint; a public one only with ``cluster.endpoint.access: public`` and ``publicAccessCidrs`` (never ``0.0.0.0/0``);
        - every node IMDSv2-only (hop limit 1) with a CMK-encrypted gp3 root volume; nodes in private subnets only;
        - in prod the CMK and the cluster are ``protect``ed and retained on delete, with EKS deletion protection.
    """

    outputs: PlatformOutputs

    def __init__(self, name: str, args: AwsPlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("inferstack:aws:Platform", name, None, opts)
        cluster_name = cluster_name_for(args.stack)
        self.aws_provider = aws.Provider(
            f"{name}-aws",
            region=args.region,
            default_tags=aws.ProviderDefaultTagsArgs(
                tags={"inferstack:stack": args.stack, "inferstack:environment": args.environment.value, "inferstack:cluster": cluster_name}
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, providers={"aws": self.aws_provider})

        self.key = PlatformKey(f"{name}-cmk", args.stack, args.region, retain=args.is_prod, opts=child)
        self.network = Network(f"{name}-net", args.network, args.region, cluster_name, self.key.arn, opts=child)
        self.cluster = EksCluster(
            f"{name}-cluster",
            cluster_name,
            args.cluster,
            args.region,
            [sn.id for sn in self.network.private_subnets],
            self.key.arn,
            protect=args.is_prod,
            opts=child,
        )
        self.k8s_provider = self.cluster.k8s_provider
        self.karpenter = Karpenter(
            f"{name}-karpenter",
            cluster_name=self.cluster.name,
            static_cluster_name=cluster_name,
            region=args.region,
            oidc_provider_arn=self.cluster.oidc.arn,
            oidc_issuer=self.cluster.oidc_issuer,
            kms_key_arn=self.key.arn,
            k8s_provider=self.k8s_provider,
            depends_on=[self.cluster.node_group],
            opts=child,
        )
        self.pools = AcceleratorPools(
            f"{name}-pools",
            pools=list(args.accelerator_pools),
            zones=self.network.plan.zones,
            prod=args.is_prod,
            cluster_name=cluster_name,
            instance_profile=self.karpenter.instance_profile.name,
            security_group_id=self.cluster.security_group_id,
            kms_key_arn=self.key.arn,
            k8s_provider=self.k8s_provider,
            depends_on=[self.karpenter.release],
            opts=child,
        )
        kinds_by_family: dict = {}
        for pool in args.accelerator_pools:
            acc = lookup(pool.kind, Cloud.AWS)
            kinds_by_family.setdefault(acc.family, [])
            if acc.kind not in kinds_by_family[acc.family]:
                kinds_by_family[acc.family].append(acc.kind)
        self.device_plugins = DevicePlugins(
            f"{name}-devices",
            kinds_by_family=kinds_by_family,
            k8s_provider=self.k8s_provider,
            depends_on=[self.cluster.node_group],
            pools=list(args.accelerator_pools),
            opts=child,
        )
        # The NVIDIA DRA driver and DeviceClasses of allocation: dra pools (none without one).
        self.dra = NvidiaDra(
            f"{name}-dra",
            pools=list(args.accelerator_pools),
            cloud=Cloud.AWS,
            k8s_provider=self.k8s_provider,
            system_node_selector={"inferstack.io/pool": SYSTEM_POOL},
            depends_on=[self.cluster.node_group],
            opts=child,
        )
        identity = WorkloadIdentity(cloud=Cloud.AWS, oidc_provider_arn=self.cluster.oidc.arn, oidc_issuer=self.cluster.oidc_issuer)
        self.metrics = AwsMetrics(f"{name}-metrics", args.stack, args.region, self.key.arn, identity, retain=args.is_prod, opts=child)
        self.outputs = PlatformOutputs(
            cloud=Cloud.AWS,
            region=args.region,
            cluster_name=self.cluster.name,
            k8s_provider=self.k8s_provider,
            kms_key=self.key.arn,
            identity=identity,
            pools=self.pools.pools,
            ready=[self.cluster.node_group, self.karpenter.release, *self.pools.node_pools, *self.device_plugins.releases, *self.dra.ready],
            kubeconfig=self.cluster.kubeconfig,
            metrics=self.metrics.outputs,
        )
        self.register_outputs({"clusterName": self.cluster.name, "kmsKeyArn": self.key.arn, "pools": sorted(self.pools.pools)})
