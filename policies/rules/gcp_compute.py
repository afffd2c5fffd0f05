"""Compute Engine VMs where a program declares them (instances, templates, project metadata): external IPs,
the interactive serial port, OS Login, IP forwarding and the default service account (CIS GCP 4.x); API keys
(restricted to the APIs and the clients that use them); DNSSEC on public Cloud DNS zones (CIS GCP 3.3-3.5); the
ingress rules of the firewall family (VPC firewalls and firewall-policy rules) that admit the internet
(:func:`world_ingress`, judged by ``gcp-firewall-no-world-ingress`` in policies/rules/network.py)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy

from inferstack.policies import families
from inferstack.policies.entry import MANDATORY, PolicyEntry
from inferstack.policies.rules.cidrs import world_ranges
from inferstack.policies.rules.common import as_list, get, is_unknown, not_evaluated

VM_FAMILY = "gcp-vm-hardening"
PROJECT_METADATA = "gcp:compute/projectMetadata:ProjectMetadata"
PROJECT_METADATA_ITEM = "gcp:compute/projectMetadataItem:ProjectMetadataItem"
API_KEY = "gcp:projects/apiKey:ApiKey"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
TRUE = ("true", "1", "yes", "y", "on")
FALSE = ("false", "0", "no", "n", "off")


def _flag(value: Any) -> bool | None:
    """A metadata boolean as GCE reads it (``TRUE``, ``true``, ``1`` ...); None when absent or unknown."""
    if value is None or is_unknown(value):
        return None
    text = str(value).strip().lower()
    return True if text in TRUE else False if text in FALSE else None


def metadata_problems(metadata: Mapping[str, Any], project_wide: bool) -> list[str]:
    """Serial port enabled, OS Login off (or, project-wide metadata, not on)."""
    out = []
    if _flag(metadata.get("serial-port-enable")) is True:
        out.append("metadata serial-port-enable is on: the interactive serial console admits any source address "
                   "(set it false)")
    oslogin = _flag(metadata.get("enable-oslogin"))
    if oslogin is False or (project_wide and oslogin is not True):
        out.append("metadata enable-oslogin is not TRUE: SSH keys are managed outside IAM (set enable-oslogin: TRUE)")
    return out


def is_default_sa(email: Any) -> bool:
    return email in (None, "", "default") or str(email).endswith("-compute@developer.gserviceaccount.com")


def vm_problems(props: Mapping[str, Any]) -> list[str]:
    out = []
    for i, nic in enumerate(as_list(props.get("networkInterfaces"))):
        if not isinstance(nic, Mapping):
            continue
        for key in ("accessConfigs", "ipv6AccessConfigs"):
            if is_unknown(nic.get(key)):
                not_evaluated(f"networkInterfaces[{i}].{key}")
            if as_list(nic.get(key)):
                out.append(f"networkInterfaces[{i}].{key} gives the VM an external IP: reach it through IAP, a load "
                           "balancer or Cloud NAT instead")
    metadata = props.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    out += metadata_problems(metadata, project_wide=False)
    if _flag(metadata.get("block-project-ssh-keys")) is not True:
        out.append("metadata block-project-ssh-keys is not true: project-wide SSH keys open every VM of the project "
                   "(set block-project-ssh-keys: 'true')")
    shielded = props.get("shieldedInstanceConfig")
    off = [k for k in ("enableVtpm", "enableIntegrityMonitoring") if isinstance(shielded, Mapping) and shielded.get(k) is False]
    if off:
        out.append(f"shieldedInstanceConfig turns off {', '.join(off)}: keep Shielded VM's vTPM and integrity monitoring on")
    if props.get("canIpForward") is True:
        out.append("canIpForward is true: the VM can route traffic for other addresses")
    sa = props.get("serviceAccount")
    if isinstance(sa, Mapping) and not is_unknown(sa.get("email")) and is_default_sa(sa.get("email")):
        scopes = " with the cloud-platform scope" if CLOUD_PLATFORM in as_list(sa.get("scopes")) else ""
        out.append(f"the VM runs as the Compute Engine default service account{scopes}: set serviceAccount.email to a "
                   "dedicated least-privilege account")
    return out


def _vm(args: ResourceValidationArgs, report) -> None:
    t, p = args.resource_type, args.props
    if t == PROJECT_METADATA:
        problems = metadata_problems(p.get("metadata") or {}, project_wide=True)
    elif t == PROJECT_METADATA_ITEM:
        key, value = p.get("key"), p.get("value")
        if is_unknown(key) or is_unknown(value):
            not_evaluated("the project metadata item")
        problems = metadata_problems({key: value}, project_wide=False) if isinstance(key, str) else []
    else:
        problems = vm_problems(p)
    for problem in problems:
        report(problem + ".")


def _api_key(args: ResourceValidationArgs, report) -> None:
    r = args.props.get("restrictions")
    if is_unknown(r):
        not_evaluated("restrictions")
    r = r if isinstance(r, Mapping) else {}
    if not as_list(r.get("apiTargets")):
        report("API key is not restricted to the APIs it calls (restrictions.apiTargets).")
    clients = ("browserKeyRestrictions", "serverKeyRestrictions", "androidKeyRestrictions", "iosKeyRestrictions")
    if not any(get(r, c) for c in clients):
        report("API key is usable from any client: restrict it to hosts, addresses or apps "
               "(restrictions.browserKeyRestrictions / serverKeyRestrictions / androidKeyRestrictions / iosKeyRestrictions).")


DNS_ZONE = "gcp:dns/managedZone:ManagedZone"


def _dnssec(args: ResourceValidationArgs, report) -> None:
    p = args.props
    if is_unknown(p.get("visibility")):
        not_evaluated("visibility")
    if (p.get("visibility") or "public") != "public":
        return
    cfg = p.get("dnssecConfig") if isinstance(p.get("dnssecConfig"), Mapping) else {}
    if cfg.get("state") != "on":
        report(f"public zone has DNSSEC {cfg.get('state') or 'off'}; set dnssec_config.state 'on'.")
    for spec in as_list(cfg.get("defaultKeySpecs")):
        if isinstance(spec, Mapping) and str(spec.get("algorithm", "")).lower() == "rsasha1":
            report(f"DNSSEC {spec.get('keyType')} key uses RSASHA1; use rsasha256 or ecdsap256sha256.")


# ---------------------------------------------------------------- firewall rules admitting the internet

FIREWALL_FAMILY = "gcp-firewall-ingress"
#: Firewall-policy rule actions that let matching traffic in (``apply_security_profile_group``: allowed after L7
#: inspection); ``deny`` and ``goto_next`` admit nothing, nor a packet-mirroring rule's ``mirror``.
ADMITTING_ACTIONS = frozenset({"allow", "apply_security_profile_group"})
#: Firewall-policy rule sources other than IP ranges: any of them narrows the source below "the internet".
_OTHER_SOURCES = ("srcAddressGroups", "srcFqdns", "srcRegionCodes", "srcThreatIntelligences", "srcSecureTags",
                  "srcNetworks")


def _vpc_firewall(rule: Mapping[str, Any]) -> tuple[Any, bool, list[str], list[tuple[Any, list]]]:
    """(direction, admits, world sources, [(protocol, ports)]) of a VPC firewall: no source at all is 0.0.0.0/0."""
    ranges = as_list(rule.get("sourceRanges"))
    world = world_ranges(ranges)
    if not ranges and not rule.get("sourceTags") and not rule.get("sourceServiceAccounts"):
        world = ["0.0.0.0/0 (no source given)"]
    allows = [(a.get("protocol"), as_list(a.get("ports"))) for a in as_list(rule.get("allows")) if isinstance(a, Mapping)]
    return rule.get("direction") or "INGRESS", bool(allows), world, allows


def _policy_rule(rule: Mapping[str, Any]) -> tuple[Any, bool, list[str], list[tuple[Any, list]]]:
    """The same of a firewall-policy rule: ``match.srcIpRanges``, or the whole internet as its network scope."""
    match = rule.get("match") if isinstance(rule.get("match"), Mapping) else {}
    ranges = as_list(match.get("srcIpRanges"))
    world = world_ranges(ranges)
    scope = match.get("srcNetworkScope") or match.get("srcNetworkContext")
    if not ranges and str(scope).upper() == "INTERNET" and not any(match.get(k) for k in _OTHER_SOURCES):
        world = ["the internet (srcNetworkScope INTERNET)"]
    l4 = [(c.get("ipProtocol"), as_list(c.get("ports"))) for c in as_list(match.get("layer4Configs"))
          if isinstance(c, Mapping)] or [("all", [])]
    return rule.get("direction") or "INGRESS", str(rule.get("action")).lower() in ADMITTING_ACTIONS, world, l4


def world_ingress(args: ResourceValidationArgs) -> Iterator[tuple[str, list[str], Any, list]]:
    """``(where, world sources, protocol, ports)`` of each protocol an enabled ingress rule of the firewall family
    lets in from the internet (0.0.0.0/0, ::/0, ranges as wide; a VPC firewall without any source): the resource
    itself or each of its ``rules[]``, in the shape its family fields name."""
    fields = families.fields(FIREWALL_FAMILY, args.resource_type)
    for direction in (f for f in fields if f.endswith("direction")):
        base = direction[: -len("direction")]
        read = _vpc_firewall if base + "allows[]" in fields else _policy_rule
        if base == "rules[].":
            rules = [(f"rules[{i}] ", r) for i, r in enumerate(as_list(args.props.get("rules"))) if isinstance(r, Mapping)]
        else:
            rules = [("", args.props)]
        for where, rule in rules:
            if rule.get("disabled") is True:
                continue
            way, admits, world, allowed = read(rule)
            if str(way).upper() != "INGRESS" or not admits or not world:
                continue
            for protocol, ports in allowed:
                yield where, world, protocol, ports



ENTRIES = [
    PolicyEntry(ResourceValidationPolicy(
        name="gcp-vm-hardening",
        description="Declared GCE VMs and templates have no external IP, no serial port, OS Login not turned off, "
                    "project-wide SSH keys blocked, no IP forwarding, Shielded VM kept on and no default service "
                    "account; project metadata enables OS Login.",
        validate=_vm,
        remediation_steps="Drop access_configs (use IAP / Cloud NAT), set metadata serial-port-enable false, "
                          "enable-oslogin TRUE and block-project-ssh-keys true, can_ip_forward False, "
                          "service_account.email a dedicated account.",
    ), MANDATORY, families=(VM_FAMILY,),
       controls=("CIS GCP 4.1", "CIS GCP 4.2", "CIS GCP 4.3", "CIS GCP 4.4", "CIS GCP 4.5", "CIS GCP 4.6",
                 "CIS GCP 4.8", "CIS GCP 4.9")),
    PolicyEntry(ResourceValidationPolicy(
        name="gcp-dns-dnssec",
        description="Public Cloud DNS zones sign with DNSSEC, never with RSASHA1.",
        validate=_dnssec,
        remediation_steps="Set dnssec_config {state: 'on'} and key specs with algorithm rsasha256 or ecdsap256sha256.",
    ), MANDATORY, types=(DNS_ZONE,), controls=("CIS GCP 3.3", "CIS GCP 3.4", "CIS GCP 3.5")),
    PolicyEntry(ResourceValidationPolicy(
        name="gcp-api-keys-restricted",
        description="API keys are restricted to the APIs they call and to named clients.",
        validate=_api_key,
        remediation_steps="Set restrictions.api_targets and one of browser/server/android/ios key restrictions; "
                          "prefer service-account identity to API keys.",
    ), MANDATORY, types=(API_KEY,), controls=("CIS GCP 1.13", "CIS GCP 1.14")),
]
