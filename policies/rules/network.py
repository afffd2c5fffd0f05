"""Network exposure depth: security groups and GCP firewalls open to the world, GKE public endpoints, Ingresses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy

from inferstack.policies import families
from inferstack.policies.entry import ADVISORY_IN_DEV, MANDATORY, PolicyEntry
from inferstack.policies.families.base import camel
from inferstack.policies.rules import gcp_compute
from inferstack.policies.rules.cidrs import world_ranges
from inferstack.policies.rules.common import as_list, get, is_unknown, not_evaluated

WORLD = ("0.0.0.0/0", "::/0")
FIREWALL = "gcp:compute/firewall:Firewall"
GKE_CLUSTER = "gcp:container/cluster:Cluster"
INGRESS_TYPES = ("kubernetes:networking.k8s.io/v1:Ingress", "kubernetes:networking.k8s.io/v1:IngressPatch")
#: Ingress classes that provision an internet-facing load balancer by default.
PUBLIC_INGRESS_CLASSES = frozenset({"gce", "alb", "nginx", "traefik", "kong", "haproxy"})
INTERNAL_INGRESS_ANNOTATIONS = {
    "alb.ingress.kubernetes.io/scheme": "internal",
    "kubernetes.io/ingress.class": "gce-internal",
}


def _only_https(protocol: Any, from_port: Any, to_port: Any) -> bool:
    return str(protocol).lower() in ("tcp", "6") and from_port == 443 and to_port == 443


SG_FAMILY = "aws-security-group-ingress"


def _sg_rules(args: ResourceValidationArgs) -> list[tuple[list, Any, Any, Any]]:
    """``(cidrs, protocol, from, to)`` of each ingress rule a member of the security-group family declares."""
    p = args.props
    fields = families.fields(SG_FAMILY, args.resource_type)
    if "ingress" in fields:
        return [([*as_list(r.get("cidrBlocks")), *as_list(r.get("ipv6CidrBlocks"))], r.get("protocol"),
                 r.get("fromPort"), r.get("toPort")) for r in p.get("ingress") or []]
    if not fields or ("type" in p and p.get("type") != "ingress"):
        return []
    cidrs = [c for f in fields for c in as_list(p.get(camel(f))) if c]
    return [(cidrs, p.get("protocol") if "protocol" in p else p.get("ipProtocol"), p.get("fromPort"), p.get("toPort"))]


def _security_groups(args: ResourceValidationArgs, report) -> None:
    for cidrs, protocol, lo, hi in _sg_rules(args):
        open_to = world_ranges(cidrs)
        if open_to and not _only_https(protocol, lo, hi):
            report(f"ingress from {open_to} on protocol {protocol} ports {lo}-{hi}: only tcp/443 may be open to the world.")


#: Remote server administration ports (CIS AWS Foundations 5.1: SSH and RDP).
ADMIN_PORTS = (22, 3389)
NACL_FAMILY = "aws-network-acl"


def _nacl_entries(args: ResourceValidationArgs) -> list[tuple[str, Any, Any, Any, Any, list]]:
    """``(where, action, protocol, from, to, cidrs)`` of each ingress entry a network ACL or ACL rule declares."""
    p = args.props
    if "ingress" in (fields := set(families.fields(NACL_FAMILY, args.resource_type))):
        return [(f"ingress[{i}]", e.get("action"), e.get("protocol"), e.get("fromPort"), e.get("toPort"),
                 [c for c in (e.get("cidrBlock"), e.get("ipv6CidrBlock")) if c])
                for i, e in enumerate(as_list(p.get("ingress"))) if isinstance(e, Mapping)]
    if fields and p.get("egress") is not True:
        return [("rule", p.get("ruleAction"), p.get("protocol"), p.get("fromPort"), p.get("toPort"),
                 [c for c in (p.get("cidrBlock"), p.get("ipv6CidrBlock")) if c])]
    return []


def _covers_admin_port(protocol: Any, lo: Any, hi: Any) -> list[int]:
    proto = str(protocol).lower()
    if proto in ("-1", "all"):
        return list(ADMIN_PORTS)
    if proto not in ("tcp", "6"):
        return []
    if is_unknown(lo) or is_unknown(hi):
        not_evaluated("fromPort/toPort")
    if lo is None or hi is None:
        return []
    return [port for port in ADMIN_PORTS if float(lo) <= port <= float(hi)]


def _nacls(args: ResourceValidationArgs, report) -> None:
    for where, action, protocol, lo, hi, cidrs in _nacl_entries(args):
        world = world_ranges(cidrs)
        if str(action).lower() != "allow" or not world:
            continue
        ports = _covers_admin_port(protocol, lo, hi)
        if ports:
            report(f"network ACL {where} allows ingress from {world} to administration "
                   f"ports {ports} (protocol {protocol}); deny it or narrow the source.")


DEFAULT_SG_FAMILY = "aws-default-security-group"


def _default_sg(args: ResourceValidationArgs, report) -> None:
    """CIS AWS 5.4: the VPC's default security group restricts all traffic. Adopting it with no rules removes
    every rule it has (the provider empties it); any in-line rule keeps traffic open to whatever joins the group."""
    for f in families.fields(DEFAULT_SG_FAMILY, args.resource_type):
        value = args.props.get(camel(f))
        if is_unknown(value):
            not_evaluated(f"the default security group's {f}")
        rules = [r for r in as_list(value) if r]
        if rules:
            report(f"the VPC's default security group declares {len(rules)} {f} rule(s): it must restrict all "
                   "traffic; put the rules on a dedicated security group and leave the default one empty.")


def _firewalls(args: ResourceValidationArgs, report) -> None:
    for where, world, protocol, ports in gcp_compute.world_ingress(args):
        if not (str(protocol).lower() == "tcp" and ports and all(str(x) == "443" for x in ports)):
            report(f"{where}firewall allows {protocol} {ports or 'all ports'} from {world}; only tcp/443 may be open.")


def _gke_public_endpoint(args: ResourceValidationArgs, report) -> None:
    p = args.props
    if get(p, "privateClusterConfig", "enablePrivateEndpoint") is True:
        return
    blocks = get(p, "masterAuthorizedNetworksConfig", "cidrBlocks") or []
    if not blocks:
        report("GKE control plane has a public endpoint without master authorized networks (cidrBlocks).")
    elif any(get(b, "cidrBlock") in WORLD for b in blocks):
        report("GKE master authorized networks include the whole internet.")
    if get(p, "masterAuthorizedNetworksConfig", "gcpPublicCidrsAccessEnabled") is True:
        report("GKE master authorized networks admit every Google Cloud public IP (gcpPublicCidrsAccessEnabled).")


def _ingress_tls(args: ResourceValidationArgs, report) -> None:
    tls = get(args.props, "spec", "tls") or []
    hosts = {h for rule in get(args.props, "spec", "rules") or [] if (h := get(rule, "host"))}
    covered = {h for t in tls for h in as_list(get(t, "hosts"))}
    if not tls:
        report("Ingress has no spec.tls: traffic would be plaintext HTTP.")
    elif hosts - covered and not any(get(t, "hosts") is None for t in tls):
        report(f"Ingress hosts {sorted(hosts - covered)} are not covered by spec.tls.")


def _ingress_public(args: ResourceValidationArgs, report) -> None:
    if (args.get_config() or {}).get("allowPublicLoadBalancers"):
        return
    ann = get(args.props, "metadata", "annotations") or {}
    cls = get(args.props, "spec", "ingressClassName") or ann.get("kubernetes.io/ingress.class")
    internal = any(str(ann.get(k)) == v for k, v in INTERNAL_INGRESS_ANNOTATIONS.items())
    if cls is None or (str(cls) in PUBLIC_INGRESS_CLASSES and not internal):
        report(f"Ingress class {cls!r} provisions an internet-facing load balancer; use an internal class "
               "(gce-internal, alb with alb.ingress.kubernetes.io/scheme: internal).")


def _allow_public(settings) -> dict[str, Any]:
    return {"allowPublicLoadBalancers": settings.policy.allow_public_load_balancers}


ENTRIES = [
    PolicyEntry(ResourceValidationPolicy(
        name="sg-no-world-ingress",
        description="No security group (or ingress rule) admits the internet (0.0.0.0/0, ::/0 or a public range as "
                    "wide: IPv4 /0-/7, IPv6 /0-/15, e.g. 0.0.0.0/1, 2000::/3) on anything but tcp/443.",
        validate=_security_groups, remediation_steps="Restrict the source CIDRs, or open tcp/443 only.",
    ), MANDATORY, families=(SG_FAMILY,), controls=("CIS AWS 5.2", "CIS AWS 5.3", "FSBP EC2.19", "FSBP EC2.18")),
    PolicyEntry(ResourceValidationPolicy(
        name="nacl-no-world-admin-ports",
        description="No network ACL (inline entries or an ACL rule) allows ingress from the internet (0.0.0.0/0, ::/0 "
                    "or a public range of IPv4 /0-/7, IPv6 /0-/15) to "
                    "remote administration ports (22, 3389), all protocols included.",
        validate=_nacls, remediation_steps="Deny 22 and 3389 from the internet, or allow them from known CIDRs only.",
    ), MANDATORY, families=(NACL_FAMILY,), controls=("CIS AWS 5.1", "FSBP EC2.21")),
    PolicyEntry(ResourceValidationPolicy(
        name="default-sg-restricts-all",
        description="A VPC's default security group, when the program adopts it, declares no ingress or egress rule "
                    "(it restricts all traffic).",
        validate=_default_sg,
        remediation_steps="Declare aws.ec2.DefaultSecurityGroup without ingress/egress (it empties the group); use a "
                          "dedicated security group for the traffic.",
    ), MANDATORY, families=(DEFAULT_SG_FAMILY,), controls=("CIS AWS 5.4", "FSBP EC2.2")),
    PolicyEntry(ResourceValidationPolicy(
        name="gcp-firewall-no-world-ingress",
        description="No GCP ingress firewall rule (VPC firewall or firewall-policy rule) admits 0.0.0.0/0, ::/0 or "
                    "ranges as wide (or, a VPC firewall, no source at all) on anything but tcp/443.",
        validate=_firewalls,
        remediation_steps="Set sourceRanges (match.srcIpRanges) to known CIDRs, or allow tcp/443 only.",
    ), MANDATORY, families=(gcp_compute.FIREWALL_FAMILY,), controls=("CIS GCP 3.6", "CIS GCP 3.7")),
    PolicyEntry(ResourceValidationPolicy(
        name="gke-public-endpoint-restricted",
        description="A GKE public control-plane endpoint is restricted by master authorized networks.",
        validate=_gke_public_endpoint,
        remediation_steps="Set private_cluster_config.enable_private_endpoint, or master_authorized_networks_config.cidr_blocks.",
    ), MANDATORY, types=(GKE_CLUSTER,), controls=("CIS GKE 5.6.3", "CIS GKE 5.6.4")),
    PolicyEntry(ResourceValidationPolicy(
        name="ingress-tls", description="Every Ingress terminates TLS for all its hosts.", validate=_ingress_tls,
        remediation_steps="Add spec.tls with the hosts and a certificate secret (cert-manager).",
    ), MANDATORY, types=INGRESS_TYPES, controls=("CIS EKS 5.4.5", "NIST 800-53 SC-8")),
    PolicyEntry(ResourceValidationPolicy(
        name="ingress-not-public",
        description="No Ingress uses a public class (gce, alb internet-facing, nginx, ...) unless allowed.",
        validate=_ingress_public, remediation_steps="Use an internal ingress class, or set inferstack:policy.allowPublicLoadBalancers.",
    ), ADVISORY_IN_DEV, _allow_public, types=INGRESS_TYPES, controls=("NIST 800-53 SC-7",)),
]
