"""The GKE control plane and its small on-demand system node pool.

Cluster (regional, ``cluster.releaseChannel``): VPC-native on the subnet's ``pods``/``services`` ranges, Dataplane
V2 (network policy enforced), private nodes, a private endpoint unless ``cluster.endpoint.access`` is public (then
only ``endpoint.publicAccessCidrs`` and the VPC may reach it; Google's public ranges never), etcd secrets encrypted with
the platform CMEK, Workload Identity, shielded nodes, legacy ABAC off, system/workload/control-plane logs,
Managed Prometheus, deletion protection in prod. The default node pool is removed.

Nodes run as a dedicated Google service account holding only the logging/monitoring writer roles (never the
Compute default account), with the GKE metadata server (Workload Identity), secure boot and integrity monitoring,
COS containerd, and boot disks encrypted with the platform CMEK. The system pool is on-demand, autoscaled between
``cluster.systemNodesMin`` and ``cluster.systemNodesMax`` nodes in total.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from inferstack.catalog.clouds import Cloud
from inferstack.catalog.zones import zones_for
from inferstack.components.gcp.network import PODS_RANGE, SERVICES_RANGE, GcpNetwork, node_tag
from inferstack.components.kubeconfig import exec_kubeconfig
from inferstack.config.platform import ClusterConfig, NetworkConfig

#: Roles of the nodes' service account: write logs and metrics, read monitoring config. Nothing else.
NODE_ROLES = (
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
    "roles/autoscaling.metricsWriter",
)
LOG_COMPONENTS = ["SYSTEM_COMPONENTS", "WORKLOADS", "APISERVER", "SCHEDULER", "CONTROLLER_MANAGER"]
#: Monitoring components; ``DCGM`` is GKE's managed DCGM exporter (GPU metrics to Cloud Monitoring through managed
#: collection; the in-cluster Prometheus does not scrape GPUs on GKE).
MONITORING_COMPONENTS = ["SYSTEM_COMPONENTS", "APISERVER", "SCHEDULER", "CONTROLLER_MANAGER", "STORAGE", "POD", "DEPLOYMENT", "DCGM"]
DEFAULT_SYSTEM_MACHINE = "e2-standard-4"


def zones_of(region: str, count: int, listed: Sequence[str] | None = None) -> list[str]:
    """``listed`` (``network.zones``), else the first ``count`` zones of a region in the zone catalogue
    (``europe-west4-a``, ``-b``, ``-c``; ``europe-west1-b``, ``-c``, ``-d``: zone letters differ per region)."""
    return zones_for(Cloud.GCP, region, count, listed)


def authorized_networks(network: NetworkConfig, cluster: ClusterConfig) -> list[str]:
    """CIDRs allowed to reach the control plane (master authorized networks): the node subnet, the in-network
    runners' ranges (``endpoint.privateAccessCidrs``) and, for a public endpoint, ``endpoint.publicAccessCidrs``."""
    endpoint = cluster.endpoint
    return list(dict.fromkeys([network.cidr, *endpoint.private_access_cidrs, *endpoint.public_access_cidrs]))


def node_config(
    *,
    machine_type: str,
    service_account: pulumi.Input[str],
    kms_key: pulumi.Input[str],
    tag: str,
    labels: dict[str, str],
    disk_gb: int = 100,
    disk_type: str = "pd-balanced",
    spot: bool = False,
    taints: list[gcp.container.NodePoolNodeConfigTaintArgs] | None = None,
    guest_accelerators: list[gcp.container.NodePoolNodeConfigGuestAcceleratorArgs] | None = None,
    flex_start: bool = False,
    reservation_affinity: gcp.container.NodePoolNodeConfigReservationAffinityArgs | None = None,
) -> gcp.container.NodePoolNodeConfigArgs:
    """Node config every inferstack GKE pool shares: dedicated SA, CMEK boot disk, shielded, GKE metadata server,
    COS containerd, legacy metadata endpoints off, the stack's network tag."""
    return gcp.container.NodePoolNodeConfigArgs(
        machine_type=machine_type,
        service_account=service_account,
        oauth_scopes=["https://www.googleapis.com/auth/cloud-platform"],
        image_type="COS_CONTAINERD",
        disk_type=disk_type,
        disk_size_gb=disk_gb,
        boot_disk_kms_key=kms_key,
        shielded_instance_config=gcp.container.NodePoolNodeConfigShieldedInstanceConfigArgs(
            enable_secure_boot=True, enable_integrity_monitoring=True
        ),
        workload_metadata_config=gcp.container.NodePoolNodeConfigWorkloadMetadataConfigArgs(mode="GKE_METADATA"),
        metadata={"disable-legacy-endpoints": "true"},
        tags=[tag],
        labels=labels,
        spot=spot,
        taints=taints or None,
        guest_accelerators=guest_accelerators or None,
        flex_start=flex_start or None,
        reservation_affinity=reservation_affinity,
    )


class GkeCluster(pulumi.ComponentResource):
    """Private regional GKE cluster (CMEK etcd, Workload Identity, Dataplane V2) + on-demand system pool.

    Attributes: ``cluster``, ``node_account`` (the nodes' Google service account), ``system_pool``, ``kubeconfig``
    (exec-plugin kubeconfig, no credential), ``k8s_provider``, ``workload_pool``, ``zones``.
    """

    def __init__(
        self,
        name: str,
        stack: str,
        project: str,
        region: str,
        network: GcpNetwork,
        network_cfg: NetworkConfig,
        cfg: ClusterConfig,
        kms_key: pulumi.Input[str],
        protect: bool,
        depends_on: list[pulumi.Resource] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("inferstack:gcp:Cluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        cluster_name = f"inferstack-{stack}"
        self.zones = zones_of(region, network_cfg.availability_zones, network_cfg.zones)
        self.workload_pool = f"{project}.svc.id.goog"
        self.tag = node_tag(stack)
        self.node_account = gcp.serviceaccount.Account(
            f"{name}-nodes",
            account_id=f"{stack}-gke-nodes"[:30].rstrip("-"),
            display_name=f"GKE nodes of {cluster_name} (logs and metrics only)",
            project=project,
            opts=child,
        )
        for role in NODE_ROLES:
            gcp.projects.IAMMember(
                f"{name}-nodes-{role.split('/')[1].replace('.', '-').lower()}",
                project=project,
                role=role,
                member=self.node_account.member,
                opts=pulumi.ResourceOptions(parent=self.node_account),
            )
        deletion_protection = cfg.deletion_protection if cfg.deletion_protection is not None else protect
        self.cluster = gcp.container.Cluster(
            f"{name}-gke",
            name=cluster_name,
            location=region,
            node_locations=self.zones,
            project=project,
            network=network.network.id,
            subnetwork=network.subnet.id,
            networking_mode="VPC_NATIVE",
            ip_allocation_policy=gcp.container.ClusterIpAllocationPolicyArgs(
                cluster_secondary_range_name=PODS_RANGE, services_secondary_range_name=SERVICES_RANGE
            ),
            datapath_provider="ADVANCED_DATAPATH",
            # GKE's Gateway controller (the inference Gateway of the LLM track; Gateway API CRDs managed by GKE).
            gateway_api_config=gcp.container.ClusterGatewayApiConfigArgs(channel="CHANNEL_STANDARD"),
            release_channel=gcp.container.ClusterReleaseChannelArgs(channel=cfg.release_channel),
            remove_default_node_pool=True,
            initial_node_count=1,
            node_config=gcp.container.ClusterNodeConfigArgs(
                service_account=self.node_account.email,
                oauth_scopes=["https://www.googleapis.com/auth/cloud-platform"],
                boot_disk_kms_key=kms_key,
                shielded_instance_config=gcp.container.ClusterNodeConfigShieldedInstanceConfigArgs(
                    enable_secure_boot=True, enable_integrity_monitoring=True
                ),
                workload_metadata_config=gcp.container.ClusterNodeConfigWorkloadMetadataConfigArgs(mode="GKE_METADATA"),
                tags=[self.tag],
            ),
            deletion_protection=deletion_protection,
            enable_legacy_abac=False,
            enable_shielded_nodes=True,
            authenticator_groups_config=(
                gcp.container.ClusterAuthenticatorGroupsConfigArgs(security_group=cfg.google_groups_security_group)
                if cfg.google_groups_security_group
                else None
            ),
            workload_identity_config=gcp.container.ClusterWorkloadIdentityConfigArgs(workload_pool=self.workload_pool),
            database_encryption=gcp.container.ClusterDatabaseEncryptionArgs(state="ENCRYPTED", key_name=kms_key),
            master_authorized_networks_config=gcp.container.ClusterMasterAuthorizedNetworksConfigArgs(
                cidr_blocks=[
                    gcp.container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs(cidr_block=c, display_name=f"allowed-{i}")
                    for i, c in enumerate(authorized_networks(network_cfg, cfg))
                ],
                gcp_public_cidrs_access_enabled=False,
            ),
            private_cluster_config=gcp.container.ClusterPrivateClusterConfigArgs(
                enable_private_nodes=True,
                enable_private_endpoint=not cfg.endpoint.public,
                master_ipv4_cidr_block=cfg.control_plane_cidr,
            ),
            logging_config=gcp.container.ClusterLoggingConfigArgs(enable_components=LOG_COMPONENTS),
            monitoring_config=gcp.container.ClusterMonitoringConfigArgs(
                enable_components=MONITORING_COMPONENTS,
                managed_prometheus=gcp.container.ClusterMonitoringConfigManagedPrometheusArgs(enabled=True),
            ),
            resource_labels={"inferstack-stack": stack},
            opts=pulumi.ResourceOptions(
                parent=self, protect=protect, retain_on_delete=protect, depends_on=depends_on or [],
                ignore_changes=["nodeConfig", "initialNodeCount"],
            ),
        )
        self.system_pool = gcp.container.NodePool(
            f"{name}-system",
            name="system",
            cluster=self.cluster.name,
            location=region,
            project=project,
            autoscaling=gcp.container.NodePoolAutoscalingArgs(
                total_min_node_count=cfg.system_nodes_min, total_max_node_count=cfg.system_nodes_max, location_policy="BALANCED"
            ),
            initial_node_count=1,
            management=gcp.container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
            upgrade_settings=gcp.container.NodePoolUpgradeSettingsArgs(max_surge=1, max_unavailable=0),
            node_config=node_config(
                machine_type=cfg.system_node_type or DEFAULT_SYSTEM_MACHINE,
                service_account=self.node_account.email,
                kms_key=kms_key,
                tag=self.tag,
                labels={"inferstack.io/pool": "system"},
            ),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["initialNodeCount"]),
        )
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(self.cluster.name, self.cluster.endpoint, self.cluster.master_auth).apply(
                lambda a: exec_kubeconfig(a[0], f"https://{a[1]}", _ca(a[2]), "gke-gcloud-auth-plugin", provide_cluster_info=True)
            )
        )
        self.k8s_provider = k8s.Provider(
            f"{name}-k8s", kubeconfig=self.kubeconfig, enable_server_side_apply=True, opts=pulumi.ResourceOptions(parent=self)
        )
        self.register_outputs({"clusterName": self.cluster.name, "endpoint": self.cluster.endpoint})


def _ca(master_auth) -> str:
    if isinstance(master_auth, dict):
        return master_auth.get("cluster_ca_certificate") or master_auth.get("clusterCaCertificate") or ""
    return master_auth.cluster_ca_certificate
