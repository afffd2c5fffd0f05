"""The VPC of a GKE stack: one regional subnet with pod and service ranges, Cloud NAT, and the webhook firewall rule.

- Custom-mode VPC (no auto subnets), regional routing.
- One subnet in the stack's region: ``network.cidr`` for nodes, secondary ranges ``pods`` (``network.podsCidr``) and
  ``services`` (``network.servicesCidr``) for a VPC-native cluster; Private Google Access on (nodes have no public
  IPs); flow logs at 50 % sampling with all metadata.
- A Cloud Router and Cloud NAT for the subnet's ranges only, logging errors, so private nodes can pull images.
- A proxy-only subnet (``network.proxyOnlyCidr``, purpose ``REGIONAL_MANAGED_PROXY``, role ``ACTIVE``): the Envoy
  proxies of regional internal Application Load Balancers, which the GKE inference Gateway (``gke-l7-rilb``) needs.
- An ingress rule from the private control plane's /28 to the nodes (by network tag) on the admission-webhook ports
  (``catalog.ports.WEBHOOK_PORTS``: Knative 8443, KServe 9443); GKE's own rule opens only 443 and 10250
  (cert-manager's webhook listens on 10250).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from inferstack.catalog.ports import WEBHOOK_PORTS
from inferstack.config.platform import NetworkConfig

#: Names of the subnet's secondary ranges (the cluster's ip_allocation_policy refers to them).
PODS_RANGE = "pods"
SERVICES_RANGE = "services"


@dataclass(frozen=True)
class WebhookRule:
    """Who may reach which node ports: the firewall rule's inputs, kept pure for tests."""

    source_ranges: tuple[str, ...]
    ports: tuple[str, ...]
    target_tags: tuple[str, ...]


def webhook_rule(control_plane_cidr: str, node_tag: str) -> WebhookRule:
    """The control plane's /28 to nodes carrying ``node_tag``, on the webhook ports only."""
    return WebhookRule(source_ranges=(control_plane_cidr,), ports=tuple(str(p) for p in WEBHOOK_PORTS), target_tags=(node_tag,))


def node_tag(stack: str) -> str:
    """Network tag every node of ``stack`` carries (firewall target)."""
    return f"inferstack-{stack}-node"


class GcpNetwork(pulumi.ComponentResource):
    """Custom-mode VPC, regional subnet with ``pods``/``services`` ranges, proxy-only subnet, Cloud Router + NAT, webhook firewall rule.

    Attributes: ``network``, ``subnet``, ``proxy_subnet``, ``router``, ``nat``, ``webhook_firewall``.
    """

    def __init__(
        self,
        name: str,
        stack: str,
        project: str,
        region: str,
        cfg: NetworkConfig,
        control_plane_cidr: str,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("inferstack:gcp:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        base = f"inferstack-{stack}"
        self.network = gcp.compute.Network(
            f"{name}-vpc", name=base, project=project, auto_create_subnetworks=False, routing_mode="REGIONAL", opts=child
        )
        self.subnet = gcp.compute.Subnetwork(
            f"{name}-nodes",
            name=f"{base}-nodes",
            project=project,
            region=region,
            network=self.network.id,
            ip_cidr_range=cfg.cidr,
            secondary_ip_ranges=[
                gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name=PODS_RANGE, ip_cidr_range=cfg.pods_cidr),
                gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name=SERVICES_RANGE, ip_cidr_range=cfg.services_cidr),
            ],
            private_ip_google_access=True,
            log_config=gcp.compute.SubnetworkLogConfigArgs(
                aggregation_interval="INTERVAL_5_SEC", flow_sampling=0.5, metadata="INCLUDE_ALL_METADATA"
            ),
            opts=child,
        )
        self.proxy_subnet = gcp.compute.Subnetwork(
            f"{name}-proxy-only",
            name=f"{base}-proxy-only",
            project=project,
            region=region,
            network=self.network.id,
            ip_cidr_range=cfg.proxy_only_cidr,
            purpose="REGIONAL_MANAGED_PROXY",
            role="ACTIVE",
            opts=child,
        )
        self.router = gcp.compute.Router(f"{name}-router", name=f"{base}-router", project=project, region=region, network=self.network.id, opts=child)
        self.nat = gcp.compute.RouterNat(
            f"{name}-nat",
            name=f"{base}-nat",
            project=project,
            region=region,
            router=self.router.name,
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
            subnetworks=[gcp.compute.RouterNatSubnetworkArgs(name=self.subnet.id, source_ip_ranges_to_nats=["ALL_IP_RANGES"])],
            log_config=gcp.compute.RouterNatLogConfigArgs(enable=True, filter="ERRORS_ONLY"),
            opts=child,
        )
        rule = webhook_rule(control_plane_cidr, node_tag(stack))
        self.webhook_firewall = gcp.compute.Firewall(
            f"{name}-webhooks",
            name=f"{base}-control-plane-webhooks",
            project=project,
            network=self.network.id,
            direction="INGRESS",
            priority=1000,
            source_ranges=list(rule.source_ranges),
            target_tags=list(rule.target_tags),
            allows=[gcp.compute.FirewallAllowArgs(protocol="tcp", ports=list(rule.ports))],
            description="GKE control plane to admission webhooks (KServe, Knative, cert-manager, Istio) on the nodes",
            opts=child,
        )
        self.register_outputs({"networkId": self.network.id, "subnetId": self.subnet.id})
