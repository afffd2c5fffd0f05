"""GCP platform: the GKE cluster for inference (foundation cut: CMEK key ring, network, GKE)."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from inferstack.components.platform import PlatformOutputs, WorkloadIdentity
from inferstack.config import Cloud, StackConfig


class GcpPlatform(pulumi.ComponentResource):
    """GKE platform for one stack: a CMEK key, a VPC and a private regional GKE cluster."""

    outputs: PlatformOutputs

    def __init__(self, name: str, cfg: StackConfig, opts: pulumi.ResourceOptions | None = None):
        super().__init__("inferstack:gcp:Platform", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        protect = pulumi.ResourceOptions(parent=self, retain_on_delete=cfg.is_prod)
        project = cfg.project
        self.key_ring = gcp.kms.KeyRing(f"{name}-keyring", name=f"inferstack-{cfg.name}", location=cfg.region, project=project, opts=protect)
        self.key = gcp.kms.CryptoKey(
            f"{name}-cmk", name=f"inferstack-{cfg.name}", key_ring=self.key_ring.id, rotation_period="7776000s", opts=protect
        )
        self.network = gcp.compute.Network(f"{name}-vpc", name=f"inferstack-{cfg.name}", auto_create_subnetworks=False, project=project, opts=child)
        pool = f"{project}.svc.id.goog"
        self.cluster = gcp.container.Cluster(
            f"{name}-gke",
            name=f"inferstack-{cfg.name}",
            location=cfg.region,
            project=project,
            network=self.network.id,
            remove_default_node_pool=True,
            initial_node_count=1,
            deletion_protection=cfg.is_prod,
            enable_legacy_abac=False,
            workload_identity_config=gcp.container.ClusterWorkloadIdentityConfigArgs(workload_pool=pool),
            database_encryption=gcp.container.ClusterDatabaseEncryptionArgs(state="ENCRYPTED", key_name=self.key.id),
            # Only the VPC (and any configured admin CIDRs) may reach the control plane.
            master_authorized_networks_config=gcp.container.ClusterMasterAuthorizedNetworksConfigArgs(
                cidr_blocks=[
                    gcp.container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs(cidr_block=c, display_name=f"allowed-{i}")
                    for i, c in enumerate([cfg.settings.network.cidr, *cfg.settings.cluster.public_access_cidrs])
                ],
                gcp_public_cidrs_access_enabled=False,
            ),
            private_cluster_config=gcp.container.ClusterPrivateClusterConfigArgs(enable_private_nodes=True, enable_private_endpoint=not cfg.settings.cluster.public_endpoint, master_ipv4_cidr_block="172.16.0.0/28"),
            opts=protect,
        )
        kubeconfig = pulumi.Output.all(self.cluster.name, self.cluster.endpoint, self.cluster.master_auth).apply(
            lambda a: (
                "apiVersion: v1\nkind: Config\n"
                f"clusters:\n- name: {a[0]}\n  cluster:\n    server: https://{a[1]}\n"
                f"    certificate-authority-data: {a[2]['cluster_ca_certificate'] if isinstance(a[2], dict) and 'cluster_ca_certificate' in a[2] else (a[2].get('clusterCaCertificate') if isinstance(a[2], dict) else a[2].cluster_ca_certificate)}\n"
                f"contexts:\n- name: {a[0]}\n  context: {{cluster: {a[0]}, user: {a[0]}}}\ncurrent-context: {a[0]}\n"
                f"users:\n- name: {a[0]}\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n"
                "      command: gke-gcloud-auth-plugin\n      provideClusterInfo: true\n"
            )
        )
        self.k8s_provider = k8s.Provider(f"{name}-k8s", kubeconfig=kubeconfig, enable_server_side_apply=True, opts=child)
        self.outputs = PlatformOutputs(
            cloud=Cloud.GCP,
            region=cfg.region,
            cluster_name=self.cluster.name,
            k8s_provider=self.k8s_provider,
            kms_key=self.key.id,
            identity=WorkloadIdentity(cloud=Cloud.GCP, project=project, workload_pool=pool),
        )
        self.register_outputs({"clusterName": self.cluster.name, "kmsKeyId": self.key.id})
