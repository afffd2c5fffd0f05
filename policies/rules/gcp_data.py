"""GCP data services beside inference: encryption at rest (CMEK) and in transit, public database endpoints, and
deletion protection, judged over whole families of pulumi_gcp types (``policies/families/gcp.py``).

Each family's generated data names, per type, the input paths carrying the control; the rules read the props at
those paths (:mod:`.gcp_paths`), so a type an SDK upgrade adds to a family is judged the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from inferstack.policies import families
from inferstack.policies.entry import ADVISORY_IN_DEV, MANDATORY, PolicyEntry, environment_setting
from inferstack.policies.rules.common import as_list, get, is_unknown, not_evaluated
from inferstack.policies.rules.gcp_paths import display, is_set, segments, values_at

AT_REST = "gcp-encryption-at-rest"
#: A top-level input whose only purpose is the encryption key (its name says so).
_DEDICATED = re.compile(r"(?i)encrypt|kms|cmek|key")
IN_TRANSIT = "gcp-encryption-in-transit"
DELETION = "gcp-deletion-protection"
OPEN = ("0.0.0.0/0", "::/0")
SQL = "gcp:sql/databaseInstance:DatabaseInstance"
ALLOYDB_INSTANCE = "gcp:alloydb/instance:Instance"

#: Members whose data takes its container's default key when they name none (a BigQuery table or transfer's
#: destination dataset, a Cloud Storage object's bucket): judged by the stack policy gcp-cmek-inherited, which sees
#: both. type -> (the input naming the container, container type, the container's name input, its default-key path).
INHERITED = {
    "gcp:bigquery/table:Table": ("datasetId", "gcp:bigquery/dataset:Dataset", "datasetId",
                                 "default_encryption_configuration.kms_key_name"),
    "gcp:bigquery/dataTransferConfig:DataTransferConfig": ("destinationDatasetId", "gcp:bigquery/dataset:Dataset",
                                                           "datasetId", "default_encryption_configuration.kms_key_name"),
    "gcp:storage/bucketObject:BucketObject": ("bucket", "gcp:storage/bucket:Bucket", "name", "encryption.default_kms_key_name"),
}
#: Members of the at-rest family that another rule judges (its own, older rule for the type's key).
AT_REST_JUDGED_ELSEWHERE = {
    "gcp:storage/bucket:Bucket": "gcs-cmek",
    "gcp:secretmanager/secret:Secret": "secret-manager-cmek",
    "gcp:container/cluster:Cluster": "gke-database-encryption",
    "gcp:artifactregistry/repository:Repository": "artifact-registry-cmek",
    **{t: "gcp-cmek-inherited" for t in INHERITED},
}


def _family_types(family: str, explained: Mapping[str, str], elsewhere: Mapping[str, str] = {}) -> tuple[str, ...]:
    """The members of ``family`` this module's rule judges: all but those explained (policies/families/gcp.py
    EXPLAINED, tokens or prefixes) and those another rule judges."""
    prefixes = tuple(p for p in explained if p.endswith((":", "/")))
    return tuple(sorted(t for t in families.members(family)
                        if t not in explained and not t.startswith(prefixes) and t not in elsewhere))


def _explained() -> Mapping[str, str]:
    from inferstack.policies.families.gcp import EXPLAINED

    return EXPLAINED


# ---------------------------------------------------------------- encryption at rest


def cmek_problems(props: Mapping[str, Any], paths: tuple[str, ...]) -> list[str]:
    """Why a resource does not use a customer-managed key at the key paths of its type; empty when it does.

    Paths are grouped by their top-level input: a group's input that is declared must hold a key somewhere below it
    (an ``encryptionSpec`` or ``bootDisk`` without one is Google-managed), every element of a list on a key path
    (Bigtable ``clusters[]``, ``attachedDisks[]``, secret ``replicas[]``) its own key, and the resource at least one.
    """
    groups: dict[str, list[str]] = {}
    for p in paths:
        groups.setdefault(segments(p)[0][0], []).append(p)
    problems: list[str] = []
    any_key = False
    unknown = False
    for top, group in groups.items():
        if props.get(top) is None:
            continue
        found = [(loc, v, segments(p)[-1][0]) for p in group for loc, v in values_at(props, p)]
        # an unknown key counts as a key (a KMS key's id is an output); an unknown block above it is not evaluated
        blocked = [loc for loc, v, leaf in found if is_unknown(v) and not loc.endswith(leaf) and not loc.endswith("]")]
        unknown = unknown or bool(blocked)
        keyed = [loc for loc, v, _ in found if is_set(v) and loc not in blocked]
        any_key = any_key or bool(keyed)
        nested = [p for p in group if len(segments(p)) > 1]
        if nested and not keyed and not blocked:
            problems.append(f"{top} is declared without a customer-managed key (set one of "
                            f"{', '.join(display(p) for p in group)})")
            continue
        for p in group:  # each element of the first list on the path holds its own key
            segs = segments(p)
            cut = next((i for i, (_, lst) in enumerate(segs) if lst), None)
            if cut is None or cut == len(segs) - 1:
                continue
            siblings = [q for q in group if segments(q)[:cut + 1] == segs[:cut + 1]]
            for loc, item in values_at(props, segs[:cut + 1]):
                if is_unknown(item):
                    continue
                if not any(is_set(v) for q in siblings for _, v in values_at(item, segments(q)[cut + 1:])):
                    msg = f"{loc} has no customer-managed key ({', '.join(display(q) for q in siblings)})"
                    if msg not in problems:
                        problems.append(msg)
    # A top-level input that exists only to name the key (encryptionConfig, encryptionSpec, kmsKeyName,
    # diskEncryptionKey, ...) encrypts the resource's own data: it is required unless a carrier block (bootDisk,
    # attachedDisks[]) names its key directly. A key inside another block (a backup policy's encryptionConfig)
    # encrypts that block's data only.
    dedicated = [top for top in groups if _DEDICATED.search(top)]
    carried = any(len(segments(p)) == 2 and not _DEDICATED.search(segments(p)[0][0]) for p in paths)
    if dedicated and not carried and not any(
            is_set(v) for top in dedicated for p in groups[top] for _, v in values_at(props, p)) and any_key:
        problems.append(f"no customer-managed key for the resource's own data: set "
                        f"{' or '.join(display(p) for top in dedicated for p in groups[top])}")
    if not any_key and not problems and (dedicated and not carried or unknown):
        # a type whose keys all sit in optional blocks (an instance group's flexibility disks, an instance from a
        # template without its own boot disk) declares no data of its own when none of them is there
        if unknown:
            not_evaluated("the customer-managed key")
        problems.append(f"no customer-managed key: set {' or '.join(display(p) for p in paths)} to a Cloud KMS key")
    return problems


def _cmek(args: ResourceValidationArgs, report) -> None:
    paths = families.fields(AT_REST, args.resource_type)
    for problem in cmek_problems(args.props, paths):
        report(f"{problem}. Data at rest must be encrypted with a customer-managed key (CMEK).")


def _names(res: Any, field: str) -> set[Any]:
    return {v for v in (res.props.get(field), res.props.get("id"), res.props.get("name")) if v is not None and not is_unknown(v)}


def _inherited(args: StackValidationArgs, report) -> None:
    resources = list(args.resources)
    unknown = []
    for r in resources:
        if r.resource_type not in INHERITED:
            continue
        ref_field, parent_type, parent_field, default_path = INHERITED[r.resource_type]
        own = families.fields(AT_REST, r.resource_type)
        if any(is_set(v) for p in own for _, v in values_at(r.props, p)):
            for problem in cmek_problems(r.props, tuple(own)):
                report(f"{r.name}: {problem}.", r.urn)
            continue
        ref = r.props.get(ref_field)
        if ref is None or is_unknown(ref):
            unknown.append(r.name)
            continue
        parents = [c for c in resources if c.resource_type == parent_type and ref in _names(c, parent_field)]
        if not parents:
            unknown.append(r.name)
            continue
        if not any(is_set(v) for c in parents for _, v in values_at(c.props, default_path)):
            report(f"{r.name}: names no customer-managed key and its {ref_field} {ref} has no default one "
                   f"({display(default_path)}): its data is Google-managed. Set a key on either.", r.urn)
    if unknown:
        not_evaluated(f"the container (dataset or bucket) of {', '.join(sorted(unknown))}, not declared in this "
                      "program or named by a value unknown at preview time; its default key")


# ---------------------------------------------------------------- encryption in transit

#: transit_encryption_mode values that require TLS (Memorystore for Redis instance / cluster, Memorystore).
TLS_MODES = ("SERVER_AUTHENTICATION", "TRANSIT_ENCRYPTION_MODE_SERVER_AUTHENTICATION")
#: TLS versions a frontend may require at least, and the SSL policy profiles without weak ciphers (CIS GCP 3.9).
STRONG_TLS = ("TLS_1_2", "TLS_1_3")
STRONG_PROFILES = ("MODERN", "RESTRICTED", "CUSTOM")
WEAK_CIPHERS = ("TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_RSA_WITH_AES_128_CBC_SHA",
                "TLS_RSA_WITH_AES_256_CBC_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA")
#: ssl_mode values that refuse unencrypted connections (Cloud SQL, AlloyDB, GoldenGate connections).
SSL_ONLY = ("ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED")


def transit_problems(props: Mapping[str, Any], paths: tuple[str, ...]) -> list[str]:
    """Why clients may connect without TLS, from the values at a type's transit paths."""
    out = []
    leaves = {p: segments(p)[-1][0] for p in paths}
    for p, leaf in leaves.items():
        if leaf == "sslConfig" and any(q.startswith(p + ".") for q in paths):
            continue  # the block holding sslMode: judged by it
        found = list(values_at(props, p))
        if any(is_unknown(v) for _, v in found):
            not_evaluated(display(p))
        declared = props.get(segments(p)[0][0]) is not None  # the block holding the setting (or the resource)
        if leaf == "transitEncryptionMode":
            if not found or found[0][1] not in TLS_MODES:
                out.append(f"{display(p)} is {found[0][1] if found else 'unset (disabled)'}; set SERVER_AUTHENTICATION")
        elif leaf == "requireSsl" and declared:
            if not found or found[0][1] is not True:
                out.append(f"{display(p)} must be true")
        elif leaf == "sslMode":
            # Cloud SQL (under ipConfiguration) accepts plain text unless sslMode says otherwise; elsewhere the
            # default is encrypted-only and only an explicit weaker mode is a finding.
            for loc, v in found:
                if v not in SSL_ONLY:
                    out.append(f"{loc} is {v}; set ENCRYPTED_ONLY (or TRUSTED_CLIENT_CERTIFICATE_REQUIRED)")
            if not found and declared and ".ip_configuration." in p:
                out.append(f"{display(p)} is unset (unencrypted connections allowed); set ENCRYPTED_ONLY")
        elif leaf == "sslConfig" and declared and not found:
            out.append(f"{display(p)} is not set: connections are not encrypted")
        elif leaf == "requireTls":
            if not found or found[0][1] is not True:
                out.append(f"{display(p)} must be true")
        elif leaf == "minTlsVersion":
            # an SSL policy (beside a cipher profile) defaults to TLS 1.0; elsewhere only a weak explicit value counts
            if found and found[0][1] not in STRONG_TLS or not found and any(segments(q)[-1][0] == "profile" for q in paths):
                out.append(f"{display(p)} is {found[0][1] if found else 'unset (TLS_1_0)'}; set TLS_1_2")
        elif leaf == "profile":
            profile = found[0][1] if found else "COMPATIBLE"
            if profile not in STRONG_PROFILES:
                out.append(f"profile is {profile} (weak ciphers); use MODERN or RESTRICTED, or CUSTOM without them")
            if profile == "CUSTOM":
                weak = [c for _, c in values_at(props, "custom_features[]") if c in WEAK_CIPHERS]
                if weak:
                    out.append(f"customFeatures enable weak ciphers {weak}")
        elif leaf == "sslPolicy":
            value = found[0][1] if found else None
            if value == "DEFAULT" or not is_set(value):
                out.append(f"sslPolicy is {value or 'unset'}: the default policy accepts TLS 1.0 and weak ciphers; name "
                           "an SSL policy with min_tls_version TLS_1_2 and profile MODERN or RESTRICTED (App Engine: MODERN)")
    return sorted(set(out))


def _transit(args: ResourceValidationArgs, report) -> None:
    for problem in transit_problems(args.props, families.fields(IN_TRANSIT, args.resource_type)):
        report(f"{problem}: clients must use TLS.")


HTTP_PROXIES = ("gcp:compute/targetHttpProxy:TargetHttpProxy", "gcp:compute/regionTargetHttpProxy:RegionTargetHttpProxy")
URL_MAPS = ("gcp:compute/uRLMap:URLMap", "gcp:compute/regionUrlMap:RegionUrlMap")


def redirect_problems(url_map: Mapping[str, Any]) -> list[str]:
    """Why a URL map behind a plain-HTTP proxy serves content instead of only redirecting to HTTPS."""
    out = []
    if get(url_map, "defaultUrlRedirect", "httpsRedirect") is not True:
        out.append("its default is not an HTTPS redirect (defaultUrlRedirect.httpsRedirect)")
    serving = [k for k in ("defaultService", "defaultRouteAction", "pathMatchers", "hostRules") if url_map.get(k)]
    if serving:
        out.append(f"it routes to backends ({', '.join(serving)})")
    return out


def _http_redirects(args: StackValidationArgs, report) -> None:
    resources = list(args.resources)
    maps = [r for r in resources if r.resource_type in URL_MAPS]
    unknown = []
    for proxy in (r for r in resources if r.resource_type in HTTP_PROXIES):
        ref = proxy.props.get("urlMap")
        found = [m for m in maps if ref is not None and not is_unknown(ref)
                 and (ref in _names(m, "name") or ref == m.props.get("selfLink"))]
        if not found:
            unknown.append(proxy.name)
            continue
        for problem in redirect_problems(found[0].props):
            report(f"{proxy.name}: plain-HTTP frontend whose URL map {found[0].name} serves traffic: {problem}. An HTTP "
                   "frontend may only redirect to HTTPS.", proxy.urn)
    if unknown:
        not_evaluated(f"the URL map of HTTP proxies {', '.join(sorted(unknown))} (not declared in this program or "
                      "named by a value unknown at preview time)")


# ---------------------------------------------------------------- public database endpoints


def _db_public(args: ResourceValidationArgs, report) -> None:
    p = args.props
    if args.resource_type == SQL:
        ip = get(p, "settings", "ipConfiguration") or {}
        if is_unknown(ip.get("ipv4Enabled")):
            not_evaluated("settings.ipConfiguration.ipv4Enabled")
        if ip.get("ipv4Enabled") is not False:
            report("Cloud SQL instance has a public IPv4 address (settings.ipConfiguration.ipv4Enabled is "
                   f"{ip.get('ipv4Enabled', 'unset: true')}); set it false and connect over privateNetwork / PSC.")
        for n in as_list(ip.get("authorizedNetworks")):
            if get(n, "value") in OPEN:
                report(f"Cloud SQL authorized network {get(n, 'name') or ''} {get(n, 'value')} admits the whole internet.")
    elif args.resource_type == ALLOYDB_INSTANCE:
        net = p.get("networkConfig") or {}
        if net.get("enablePublicIp") is True:
            report("AlloyDB instance has a public IP (networkConfig.enablePublicIp); use private connectivity.")
        for n in as_list(net.get("authorizedExternalNetworks")):
            if get(n, "cidrRange") in OPEN:
                report(f"AlloyDB authorized external network {get(n, 'cidrRange')} admits the whole internet.")


#: Database flags CIS GCP requires per engine: (flag, required value, control).
SQL_FLAGS = {
    "POSTGRES": (("log_connections", "on", "6.2.2"), ("log_disconnections", "on", "6.2.3")),
    "MYSQL": (("skip_show_database", "on", "6.1.2"), ("local_infile", "off", "6.1.3")),
}


def sql_problems(props: Mapping[str, Any]) -> list[str]:
    """Automated backups off (a primary), or an engine flag of CIS GCP 6.1/6.2 missing or wrong."""
    out = []
    settings = props.get("settings") or {}
    if not props.get("masterInstanceName") and get(settings, "backupConfiguration", "enabled") is not True:
        out.append("automated backups are off (settings.backupConfiguration.enabled)")
    version = props.get("databaseVersion")
    engine = next((e for e in SQL_FLAGS if isinstance(version, str) and version.startswith(e)), None)
    flags = {get(f, "name"): get(f, "value") for f in as_list(settings.get("databaseFlags")) if isinstance(f, Mapping)}
    for name, value, control in SQL_FLAGS.get(engine, ()):
        if str(flags.get(name, "")).lower() != value:
            out.append(f"database flag {name} is {flags.get(name, 'unset')}; set it {value} (CIS GCP {control})")
    return out


def _sql(args: ResourceValidationArgs, report) -> None:
    for problem in sql_problems(args.props):
        report(f"Cloud SQL {problem}.")


# ---------------------------------------------------------------- deletion protection


def _deletion(args: ResourceValidationArgs, report) -> None:
    if (args.get_config() or {}).get("environment", "prod") != "prod":
        return
    for path in families.fields(DELETION, args.resource_type):
        for loc, v in values_at(args.props, path):
            if v is False:
                report(f"{loc} is false in prod: the resource can be deleted by one update. Keep deletion protection on.")


ENTRIES = [
    PolicyEntry(ResourceValidationPolicy(
        name="gcp-cmek-at-rest",
        description="Every GCP type that can encrypt its data with a customer-managed key (databases, caches, "
                    "BigQuery, Pub/Sub, Filestore, Vertex AI, disks, ...) names a Cloud KMS key for all its data.",
        validate=_cmek,
        remediation_steps="Set the type's key input (kms_key_name, encryption_spec.kms_key_name, "
                          "disk_encryption_key.kms_key_self_link, ...) to a Cloud KMS CryptoKey the service agent may use.",
    ), ADVISORY_IN_DEV, types=_family_types(AT_REST, _explained(), AT_REST_JUDGED_ELSEWHERE),
       controls=("CIS GCP 7.2", "CIS GCP 7.3", "NIST 800-53 SC-28")),
    PolicyEntry(StackValidationPolicy(
        name="gcp-cmek-inherited",
        description="BigQuery tables and transfers, and Cloud Storage objects, name a customer-managed key or sit in a "
                    "dataset or bucket whose default key is one.",
        validate=_inherited,
        remediation_steps="Set default_encryption_configuration.kms_key_name on the dataset (encryption."
                          "default_kms_key_name on the bucket), or the table's / object's own key.",
    ), ADVISORY_IN_DEV, clouds={"gcp"}, controls=("CIS GCP 7.2", "CIS GCP 7.3", "NIST 800-53 SC-28")),
    PolicyEntry(ResourceValidationPolicy(
        name="gcp-tls-in-transit",
        description="GCP databases and caches require TLS of clients (Cloud SQL sslMode, AlloyDB sslMode, "
                    "Memorystore transitEncryptionMode, ...); TLS frontends (HTTPS/SSL proxies, SSL policies, App "
                    "Engine, Media CDN) require TLS 1.2 without weak ciphers.",
        validate=_transit,
        remediation_steps="Cloud SQL: settings.ip_configuration.ssl_mode=ENCRYPTED_ONLY; Memorystore: "
                          "transit_encryption_mode=SERVER_AUTHENTICATION; AlloyDB: ssl_mode=ENCRYPTED_ONLY; HTTPS/SSL "
                          "proxies: ssl_policy naming an SSL policy with min_tls_version TLS_1_2 and profile MODERN.",
    ), ADVISORY_IN_DEV, types=_family_types(IN_TRANSIT, _explained()),
       controls=("CIS GCP 6.4", "CIS GCP 3.9", "NIST 800-53 SC-8")),
    PolicyEntry(StackValidationPolicy(
        name="gcp-http-redirects-to-https",
        description="A plain-HTTP load-balancer frontend (target HTTP proxy) only redirects to HTTPS: its URL map's "
                    "default is an HTTPS redirect and it routes to no backend.",
        validate=_http_redirects,
        remediation_steps="Give the HTTP proxy a URL map with default_url_redirect {https_redirect: True} and no "
                          "default_service or path matchers; serve through a target HTTPS proxy.",
    ), ADVISORY_IN_DEV, clouds={"gcp"}, controls=("NIST 800-53 SC-8",)),
    PolicyEntry(ResourceValidationPolicy(
        name="gcp-db-no-public-ip",
        description="Cloud SQL and AlloyDB instances have no public IP and never authorize 0.0.0.0/0.",
        validate=_db_public,
        remediation_steps="Set settings.ip_configuration.ipv4_enabled=False with private_network (Cloud SQL), "
                          "network_config.enable_public_ip=False (AlloyDB); drop 0.0.0.0/0 authorized networks.",
    ), MANDATORY, types=(SQL, ALLOYDB_INSTANCE), controls=("CIS GCP 6.5", "CIS GCP 6.6")),
    PolicyEntry(ResourceValidationPolicy(
        name="gcp-sql-hardening",
        description="Cloud SQL primaries take automated backups; PostgreSQL logs connections and disconnections; "
                    "MySQL hides other databases (skip_show_database on) and refuses LOAD DATA LOCAL (local_infile off).",
        validate=_sql,
        remediation_steps="Set settings.backup_configuration.enabled=True and the engine's database_flags "
                          "(log_connections/log_disconnections on; skip_show_database on, local_infile off).",
    ), ADVISORY_IN_DEV, types=(SQL,),
       controls=("CIS GCP 6.7", "CIS GCP 6.2.2", "CIS GCP 6.2.3", "CIS GCP 6.1.2", "CIS GCP 6.1.3")),
    PolicyEntry(ResourceValidationPolicy(
        name="gcp-deletion-protection",
        description="In prod, no GCP resource turns its deletion protection off (deletion_protection, "
                    "deletion_protection_enabled, enable_drop_protection).",
        validate=_deletion,
        config_schema=PolicyConfigSchema(properties={"environment": {"type": "string"}}),
        remediation_steps="Leave deletion protection on in prod (remove the false value or set it true).",
    ), ADVISORY_IN_DEV, environment_setting, families=(DELETION,), controls=("NIST 800-53 CP-9",)),
]
