"""GKE node and cluster hardening: node service accounts, scopes, metadata server, Shielded Nodes, legacy metadata
endpoints, auto-repair/upgrade, COS images, network policy, client certificates, release channel."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy

from inferstack.policies.entry import MANDATORY, PolicyEntry
from inferstack.policies.rules.common import as_list, get

CLUSTER = "gcp:container/cluster:Cluster"
POOL = "gcp:container/nodePool:NodePool"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
TYPES = (CLUSTER, POOL)


def node_configs(args: ResourceValidationArgs) -> Iterator[tuple[str, Mapping]]:
    """The node configs that create nodes: a pool's, or a cluster's default pool unless it is removed."""
    p = args.props
    if args.resource_type == POOL:
        yield "node pool", p.get("nodeConfig") or {}
    elif p.get("removeDefaultNodePool") is not True and not get(p, "enableAutopilot"):
        yield "default node pool", p.get("nodeConfig") or {}


def _service_account(args: ResourceValidationArgs, report) -> None:
    for where, nc in node_configs(args):
        sa = nc.get("serviceAccount")
        if not sa or sa == "default" or str(sa).endswith("-compute@developer.gserviceaccount.com"):
            report(f"{where} runs as the Compute Engine default service account; set nodeConfig.serviceAccount to a "
                   "dedicated least-privilege account.")


def _scopes(args: ResourceValidationArgs, report) -> None:
    for where, nc in node_configs(args):
        if CLOUD_PLATFORM in as_list(nc.get("oauthScopes")) and get(nc, "workloadMetadataConfig", "mode") != "GKE_METADATA":
            report(f"{where} has the cloud-platform scope without Workload Identity (GKE_METADATA): every pod gets the "
                   "node's credentials.")


def _metadata_server(args: ResourceValidationArgs, report) -> None:
    for where, nc in node_configs(args):
        if get(nc, "workloadMetadataConfig", "mode") != "GKE_METADATA":
            report(f"{where} must set workloadMetadataConfig.mode: GKE_METADATA.")


def _shielded(args: ResourceValidationArgs, report) -> None:
    if args.resource_type == CLUSTER and args.props.get("enableShieldedNodes") is False:
        report("cluster disables Shielded GKE Nodes (enableShieldedNodes: false).")
    for where, nc in node_configs(args):
        sic = nc.get("shieldedInstanceConfig") or {}
        if sic.get("enableSecureBoot") is not True or sic.get("enableIntegrityMonitoring") is False:
            report(f"{where} must enable Secure Boot and integrity monitoring (shieldedInstanceConfig).")


def _legacy_metadata(args: ResourceValidationArgs, report) -> None:
    for where, nc in node_configs(args):
        if str(get(nc, "metadata", "disable-legacy-endpoints")).lower() != "true":
            report(f"{where} must set metadata disable-legacy-endpoints: 'true'.")


def _pool_management(args: ResourceValidationArgs, report) -> None:
    if args.resource_type != POOL:
        return
    m = args.props.get("management") or {}
    off = [k for k in ("autoRepair", "autoUpgrade") if m.get(k) is False]
    if off:
        report(f"node pool turns off {off}; keep auto-repair and auto-upgrade on.")


def _cos(args: ResourceValidationArgs, report) -> None:
    for where, nc in node_configs(args):
        image = nc.get("imageType")
        if image is not None and not str(image).upper().startswith("COS"):
            report(f"{where} uses image {image}; use Container-Optimized OS (COS_CONTAINERD).")


def _cluster_network(args: ResourceValidationArgs, report) -> None:
    if args.resource_type != CLUSTER:
        return
    p = args.props
    if p.get("datapathProvider") != "ADVANCED_DATAPATH" and get(p, "networkPolicy", "enabled") is not True:
        report("GKE cluster needs NetworkPolicy enforcement (datapathProvider ADVANCED_DATAPATH or networkPolicy.enabled).")
    if p.get("networkingMode") == "ROUTES":
        report("GKE cluster must be VPC-native (networkingMode VPC_NATIVE).")
    if get(p, "masterAuth", "clientCertificateConfig", "issueClientCertificate") is True:
        report("GKE cluster must not issue client certificates (masterAuth.clientCertificateConfig).")


def _release_channel(args: ResourceValidationArgs, report) -> None:
    if args.resource_type == CLUSTER and get(args.props, "releaseChannel", "channel") in (None, "UNSPECIFIED"):
        report("GKE cluster must enrol in a release channel (releaseChannel.channel: REGULAR or STABLE).")


def _entry(name: str, description: str, fn, remediation: str, controls: tuple[str, ...], types=TYPES) -> PolicyEntry:
    return PolicyEntry(ResourceValidationPolicy(name=name, description=description, validate=fn,
                                                remediation_steps=remediation), MANDATORY, types=types, controls=controls)


ENTRIES = [
    _entry("gke-nodes-no-default-sa", "GKE nodes do not run as the Compute Engine default service account.",
           _service_account, "Set node_config.service_account to a dedicated account.", ("CIS GKE 5.2.1",)),
    _entry("gke-nodes-scopes", "GKE nodes carry the cloud-platform scope only with Workload Identity.", _scopes,
           "Set workload_metadata_config.mode=GKE_METADATA, or narrow oauth_scopes.", ("CIS GKE 5.2.1", "CIS GCP 4.2")),
    _entry("gke-metadata-server", "GKE nodes use the GKE metadata server (Workload Identity).", _metadata_server,
           "Set node_config.workload_metadata_config.mode=GKE_METADATA.", ("CIS GKE 5.4.2",)),
    _entry("gke-shielded-nodes", "GKE Shielded Nodes with Secure Boot and integrity monitoring.", _shielded,
           "Set shielded_instance_config enable_secure_boot and enable_integrity_monitoring.",
           ("CIS GKE 5.5.5", "CIS GKE 5.5.6", "CIS GKE 5.5.7")),
    _entry("gke-legacy-metadata-disabled", "GKE node legacy metadata endpoints are disabled.", _legacy_metadata,
           "Set node_config.metadata {'disable-legacy-endpoints': 'true'}.", ("CIS GKE 5.4.1",)),
    _entry("gke-node-auto-repair-upgrade", "GKE node pools keep auto-repair and auto-upgrade on.", _pool_management,
           "Set management.auto_repair and auto_upgrade True.", ("CIS GKE 5.5.2", "CIS GKE 5.5.3"), types=(POOL,)),
    _entry("gke-cos-images", "GKE nodes run Container-Optimized OS.", _cos, "Set node_config.image_type=COS_CONTAINERD.",
           ("CIS GKE 5.5.1",)),
    _entry("gke-network-hardening", "GKE is VPC-native, enforces NetworkPolicy and issues no client certificates.",
           _cluster_network, "Use ADVANCED_DATAPATH (or network_policy), VPC_NATIVE, and no client certificate.",
           ("CIS GKE 5.6.7", "CIS GKE 5.6.2", "CIS GKE 5.8.2"), types=(CLUSTER,)),
    _entry("gke-release-channel", "GKE clusters are enrolled in a release channel.", _release_channel,
           "Set release_channel.channel=REGULAR (or STABLE).", ("CIS GKE 5.5.4",), types=(CLUSTER,)),
]
