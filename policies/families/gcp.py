"""GCP families: membership predicates over the installed pulumi_gcp SDK (never a hand list of types).

Most GCP controls sit in nested inputs (``encryption_spec.kms_key_name``, ``settings.ip_configuration.ssl_mode``,
``clusters[].kms_key_name``), so a family's ``fields`` are the dotted input *paths* (Python names, ``[]`` after a list)
that carry its control, read from the type's input annotations and the ``*Args`` classes of its module's
``_inputs.py`` (parsed with :mod:`ast`, never imported). The rules (policies/rules/gcp_*.py) read the props at those
paths through :func:`inferstack.policies.rules.gcp_paths.values_at`.

``EXPLAINED`` maps a member (token or token prefix) that needs no rule to why.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from types import MappingProxyType

from inferstack.policies.families.base import FamilySpec, SdkType, args_classes

_ARGS = re.compile(r"'(\w+Args)'")
_MAX_DEPTH = 6




def input_paths(t: SdkType) -> Iterator[str]:
    """Every input path of a type, nested ``*Args`` included: ``encryption_spec.kms_key_name``, ``clusters[].x``."""
    def walk(inputs: Mapping[str, str], prefix: str, depth: int) -> Iterator[str]:
        for name, ann in inputs.items():
            path = prefix + name + ("[]" if "Sequence[" in ann else "")
            yield path
            if depth < _MAX_DEPTH:
                for cls in sorted(set(_ARGS.findall(ann))):
                    sub = args_classes(t.module).get(cls)
                    if sub:
                        yield from walk(sub, path + ".", depth + 1)
    yield from walk(t.inputs, "", 0)


def _leaf(path: str) -> str:
    return path.rsplit(".", 1)[-1].removesuffix("[]")


def _paths(t: SdkType, leaves: frozenset[str], skip: re.Pattern[str] | None = None) -> tuple[str, ...]:
    return tuple(sorted(p for p in input_paths(t) if _leaf(p) in leaves and not (skip and skip.search(p))))


def _class_kind(t: SdkType) -> str | None:
    lower = t.cls.lower()
    for suffix, kind in (("iamauditconfig", "audit"), ("iammember", "member"), ("iambinding", "binding"),
                         ("iampolicy", "policy")):
        if lower.endswith(suffix):
            return kind
    return None


# ---------------------------------------------------------------- IAM grants, public ACLs, audit configs, keys

def _grant_fields(t: SdkType) -> tuple[str, ...]:
    return tuple(n for n in ("role", "member", "members", "condition", "policy_data") if n in t.inputs)


def _is_grant(t: SdkType) -> bool:
    return _class_kind(t) in ("member", "binding", "policy") and bool(_grant_fields(t))


#: ACL inputs that name who gets access (Cloud Storage entities, BigQuery dataset special groups / IAM members).
ACL_LEAVES = frozenset({"entity", "role_entities", "special_group", "iam_member"})


def _acl_fields(t: SdkType) -> tuple[str, ...]:
    return _paths(t, ACL_LEAVES) if t.service in ("storage", "bigquery") else ()


def _audit_fields(t: SdkType) -> tuple[str, ...]:
    return tuple(n for n in ("service", "audit_log_configs") if n in t.inputs) if "audit_log_configs" in t.inputs else ()


def _sa_key_fields(t: SdkType) -> tuple[str, ...]:
    """A key (class ``*Key``) minted for a service account: it names the account it is a credential of."""
    if not t.cls.endswith("Key"):
        return ()
    return tuple(n for n in ("service_account_id", "service_account_email") if n in t.inputs)


# ---------------------------------------------------------------- encryption at rest (CMEK), in transit

#: Inputs naming the customer-managed (Cloud KMS) or customer-supplied key that encrypts a resource's data.
CMEK_LEAVES = frozenset({
    "kms_key_name", "kms_key", "kms_key_self_link", "kms_key_names", "customer_managed_key", "encryption_key_name",
    "crypto_key_name", "default_kms_key_name", "boot_disk_kms_key", "cmek_key_name", "disk_encryption_key_name",
    "cloud_kms_key", "gce_pd_kms_key_name", "runtime_database_encryption_key_name", "raw_key", "rsa_encrypted_key",
    "disk_encryption_key_raw", "disk_encryption_key_rsa", "key_name",
})
#: Paths whose key is not the resource's own data key: the key of a *source* it reads (source image, snapshot,
#: disk), a key a job hands to another resource or a transformation, an API key's name, Kerberos secrets.
_NOT_OWN_KEY = re.compile(r"(^|\.)(source_\w+|copy|load|extract|query|primitive_transformation|api_key_config"
                          r"|rate_limit_options|kerberos_config|secrets|additional_variables|config_variables"
                          r"|metadata_options|rewrite_object|auth_config|mcp_data_sources)(\[\])?\.")


def _cmek_fields(t: SdkType) -> tuple[str, ...]:
    found = _paths(t, CMEK_LEAVES, _NOT_OWN_KEY)
    # ``key_name`` is a CMEK only inside an encryption block (GKE ``database_encryption.key_name``).
    return tuple(p for p in found if _leaf(p) != "key_name" or "encryption" in p.rsplit(".", 2)[-2])


#: Inputs choosing whether clients must use TLS, and which TLS versions and ciphers a frontend accepts.
TRANSIT_LEAVES = frozenset({"ssl_mode", "require_ssl", "require_tls", "transit_encryption_mode", "ssl_config",
                            "min_tls_version"})
#: A TLS frontend's policy reference (load-balancer proxies: beside their certificates; App Engine's own enum).
_SSL_POLICY = ("ssl_policy",)
#: The cipher profile of an SSL policy (beside its minimum TLS version).
_PROFILE = ("profile", "custom_features")


def _transit_fields(t: SdkType) -> tuple[str, ...]:
    found = _paths(t, TRANSIT_LEAVES)
    if "min_tls_version" in t.inputs:
        found += tuple(n for n in _PROFILE if n in t.inputs)
    if "ssl_policy" in t.inputs and ("ssl_certificates" in t.inputs or t.service == "appengine"):
        found += _SSL_POLICY
    if t.cls.endswith("TargetHttpProxy") and "url_map" in t.inputs:  # a plain-HTTP load-balancer frontend
        found += ("url_map",)
    return tuple(sorted(found))


# ---------------------------------------------------------------- deletion protection, VM hardening

DELETION_LEAVES = frozenset({"deletion_protection", "deletion_protection_enabled", "enable_drop_protection"})


def _deletion_fields(t: SdkType) -> tuple[str, ...]:
    return _paths(t, DELETION_LEAVES)


def _vm_fields(t: SdkType) -> tuple[str, ...]:
    """Compute Engine VMs and templates: network interfaces (external IPs), metadata (serial port, OS Login),
    IP forwarding, service account; project-wide metadata (a project's OS Login and serial port defaults)."""
    if t.service != "compute":
        return ()
    if "network_interfaces" in t.inputs:
        return tuple(n for n in ("network_interfaces", "metadata", "can_ip_forward", "service_account") if n in t.inputs)
    if t.token_module in ("compute/projectMetadata", "compute/projectMetadataItem"):
        return tuple(n for n in ("metadata", "key", "value") if n in t.inputs)
    return ()


# ---------------------------------------------------------------- firewall ingress

#: The two ways a firewall rule says where traffic comes from and that it is let in: a VPC firewall (``source_ranges``
#: beside ``allows``) and a firewall-policy rule (``match.src_ip_ranges`` beside an ``action``).
_FIREWALL_SHAPES = (("source_ranges[]", "allows[]"), ("match.src_ip_ranges[]", "action"))


def _firewall_fields(t: SdkType) -> tuple[str, ...]:
    """The inputs of every firewall rule a type declares (itself, or each of its ``rules[]``) that express a traffic
    direction, source ranges and an allow action: direction, source ranges, allow action, ``disabled``."""
    paths = set(input_paths(t))
    found: set[str] = set()
    for direction in (p for p in paths if _leaf(p) == "direction" and not p.endswith("[]")):
        base = direction[: -len("direction")]
        for src, allow in _FIREWALL_SHAPES:
            if base + src in paths and base + allow in paths:
                found.update({direction, base + src, base + allow} | ({base + "disabled"} & paths))
    return tuple(sorted(found))


SPECS: tuple[FamilySpec, ...] = (
    FamilySpec("gcp-iam-grant", "gcp", "IAM grants (*IamMember, *IamBinding, *IamPolicy at every level)",
               _is_grant, _grant_fields),
    FamilySpec("gcp-public-acl", "gcp", "public access through Cloud Storage ACLs and BigQuery dataset access",
               lambda t: bool(_acl_fields(t)), _acl_fields),
    FamilySpec("gcp-audit-config", "gcp", "audit log configs (data access logged, no exemptions)",
               lambda t: bool(_audit_fields(t)), _audit_fields),
    FamilySpec("gcp-service-account-key", "gcp", "user-managed service-account credentials",
               lambda t: bool(_sa_key_fields(t)), _sa_key_fields),
    FamilySpec("gcp-encryption-at-rest", "gcp", "encryption at rest with a customer-managed key (CMEK)",
               lambda t: bool(_cmek_fields(t)), _cmek_fields),
    FamilySpec("gcp-encryption-in-transit", "gcp", "TLS required of clients",
               lambda t: bool(_transit_fields(t)), _transit_fields),
    FamilySpec("gcp-deletion-protection", "gcp", "deletion protection kept on in prod",
               lambda t: bool(_deletion_fields(t)), _deletion_fields),
    FamilySpec("gcp-firewall-ingress", "gcp", "firewall rules (VPC firewalls, firewall-policy rules) admitting the "
               "internet", lambda t: bool(_firewall_fields(t)), _firewall_fields),
    FamilySpec("gcp-vm-hardening", "gcp", "VM external IPs, serial port, OS Login, IP forwarding, default account",
               lambda t: bool(_vm_fields(t)), _vm_fields),
)

EXPLAINED: Mapping[str, str] = MappingProxyType({
    # gcp-encryption-at-rest
    "gcp:container/nodePool:NodePool": "node boot disks hold the node image and container layers, no model or user "
                                       "data; CMEK for them is CIS GKE 5.9.1, a Level 2 manual recommendation the "
                                       "pack does not require (cluster secrets: gke-database-encryption)",
    "gcp:bigquery/table:Table": "judged by the stack policy gcp-cmek-inherited: a table without its own key takes "
                                "its dataset's default key, which only a view of both can tell",
    "gcp:bigquery/dataTransferConfig:DataTransferConfig": "judged by the stack policy gcp-cmek-inherited (the "
                                                          "destination dataset's default key)",
    "gcp:storage/bucketObject:BucketObject": "judged by the stack policy gcp-cmek-inherited (the bucket's default key)",
    # gcp-encryption-in-transit
    "gcp:compute/targetHttpProxy:TargetHttpProxy": "judged by the stack policy gcp-http-redirects-to-https: its URL "
                                                   "map (another resource) must only redirect to HTTPS",
    "gcp:compute/regionTargetHttpProxy:RegionTargetHttpProxy": "judged by the stack policy gcp-http-redirects-to-https "
                                                               "(its URL map must only redirect to HTTPS)",
    "gcp:datastream/connectionProfile:ConnectionProfile": "a profile of a source database Datastream reads from: "
                                                          "its TLS is that database's, not a store the platform runs",
    "gcp:integrationconnectors/connection:Connection": "a connector to a third-party system: its TLS is the remote "
                                                       "system's, not a store the platform runs",
})
