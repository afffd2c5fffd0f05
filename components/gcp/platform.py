"""GCP platform: the CMEK, the network, the private GKE cluster and its accelerator pools, for one stack."""

from __future__ import annotations

import pulumi

from inferstack import sizing
from inferstack.components.dra import NvidiaDra
from inferstack.components.gcp.cluster import GkeCluster
from inferstack.components.gcp.kms import GcpKey
from inferstack.components.gcp.metrics import GcpMetrics
from inferstack.components.gcp.network import GcpNetwork
from inferstack.components.gcp.node_pools import GkeAcceleratorPools
from inferstack.components.platform import PlatformOutputs, WorkloadIdentity
from inferstack.config import Cloud, GcpPlatformArgs


class GcpPlatform(pulumi.ComponentResource):
    """GKE platform for one stack: :class:`GcpKey` (CMEK, 90-day rotation) -> :class:`GcpNetwork` (VPC, subnet with
    pod/service ranges, Cloud NAT, webhook firewall) -> :class:`GkeCluster` (private regional cluster, created
    after the service agents may use the key) -> :class:`GkeAcceleratorPools` (spot and on-demand pools and a
    ComputeClass per accelerator pool) and :class:`GcpMetrics` (the Prometheus's Google Managed Prometheus
    writer). Every resource is in ``args.project`` / ``args.region``; in prod the key and
    the cluster are protected and retained on delete. ``args`` (:class:`GcpPlatformArgs`, built by
    ``StackConfig.platform_args()``) also carries the models placed on the pools, which size each pool's machine
    type and initial nodes. ``outputs`` is what serving, registry and policy use."""

    outputs: PlatformOutputs

    def __init__(self, name: str, args: GcpPlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("inferstack:gcp:Platform", name, None, opts)
        project = args.project
        child = pulumi.ResourceOptions(parent=self)
        self.key = GcpKey(f"{name}-cmk", args.stack, project, args.region, retain=args.is_prod, opts=child)
        self.network = GcpNetwork(
            f"{name}-net", args.stack, project, args.region, args.network, args.cluster.control_plane_cidr, opts=child
        )
        self.cluster = GkeCluster(
            f"{name}-cluster",
            args.stack,
            project,
            args.region,
            self.network,
            args.network,
            args.cluster,
            self.key.key.id,
            protect=args.is_prod,
            depends_on=list(self.key.grants),
            opts=child,
        )
        self.k8s_provider = self.cluster.k8s_provider
        replicas = {
            pool.name: [sizing.replica_of(m) for _, m in sizing.models_on(args.models, pool.name)]
            for pool in args.accelerator_pools
        }
        self.pools = GkeAcceleratorPools(
            f"{name}-pools",
            pools=list(args.accelerator_pools),
            replicas=replicas,
            project=project,
            region=args.region,
            cluster_name=self.cluster.cluster.name,
            zones=self.cluster.zones,
            node_service_account=self.cluster.node_account.email,
            kms_key=self.key.key.id,
            node_tag=self.cluster.tag,
            k8s_provider=self.k8s_provider,
            depends_on=[self.cluster.system_pool],
            opts=child,
        )
        # The NVIDIA DRA driver and DeviceClasses of allocation: dra pools (none without one).
        self.dra = NvidiaDra(
            f"{name}-dra",
            pools=list(args.accelerator_pools),
            cloud=Cloud.GCP,
            k8s_provider=self.k8s_provider,
            system_node_selector={"inferstack.io/pool": "system"},
            depends_on=[self.cluster.system_pool],
            opts=child,
        )
        self.metrics = GcpMetrics(f"{name}-metrics", args.stack, project, self.cluster.workload_pool, opts=child)
        self.outputs = PlatformOutputs(
            cloud=Cloud.GCP,
            region=args.region,
            cluster_name=self.cluster.cluster.name,
            k8s_provider=self.k8s_provider,
            kms_key=self.key.key.id,
            identity=WorkloadIdentity(cloud=Cloud.GCP, project=project, workload_pool=self.cluster.workload_pool),
            pools=self.pools.pools,
            ready=[self.cluster.system_pool, *self.pools.node_pools.values(), *self.pools.compute_classes.values(), *self.dra.ready],
            encryption_ready=list(self.key.grants),
            kubeconfig=self.cluster.kubeconfig,
            metrics=self.metrics.outputs,
        )
        self.register_outputs(
            {"clusterName": self.cluster.cluster.name, "kmsKeyId": self.key.key.id, "pools": sorted(self.pools.pools)}
        )
