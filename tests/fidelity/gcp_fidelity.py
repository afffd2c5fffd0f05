"""Pure helpers for the GCP fidelity suite: the naming rules of every name a GCP recording declares (limits from
:mod:`inferstack.catalog.limits`), labels, and the documented values of enum-like GCP inputs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from inferstack.catalog import limits
from inferstack.catalog.accelerators import CATALOG
from inferstack.catalog.clouds import Cloud
from inferstack.catalog.limits import NameLimit
from inferstack.checks.names import kubernetes_object_problems
from inferstack.engine import Recording, unwrap_secrets
from tests.fidelity.aws_fidelity import walk

# ------------------------------------------------------------------ names

#: (type, input path, rule): every name a GCP resource is created with.
NAME_RULES: tuple[tuple[str, str, NameLimit], ...] = (
    ("gcp:serviceaccount/account:Account", "accountId", limits.GCP_SERVICE_ACCOUNT_ID),
    ("gcp:container/cluster:Cluster", "name", limits.GKE_CLUSTER),
    ("gcp:container/nodePool:NodePool", "name", limits.GKE_NODE_POOL),
    ("gcp:storage/bucket:Bucket", "name", limits.GCS_BUCKET),
    ("gcp:kms/keyRing:KeyRing", "name", limits.CLOUD_KMS_NAME),
    ("gcp:kms/cryptoKey:CryptoKey", "name", limits.CLOUD_KMS_NAME),
    ("gcp:secretmanager/secret:Secret", "secretId", limits.GCP_SECRET_ID),
    ("gcp:compute/network:Network", "name", limits.GCE_RESOURCE_NAME),
    ("gcp:compute/subnetwork:Subnetwork", "name", limits.GCE_RESOURCE_NAME),
    ("gcp:compute/subnetwork:Subnetwork", "secondaryIpRanges[].rangeName", limits.GCE_RESOURCE_NAME),
    ("gcp:compute/router:Router", "name", limits.GCE_RESOURCE_NAME),
    ("gcp:compute/routerNat:RouterNat", "name", limits.GCE_RESOURCE_NAME),
    ("gcp:compute/firewall:Firewall", "name", limits.GCE_RESOURCE_NAME),
    ("gcp:compute/firewall:Firewall", "targetTags[]", limits.GCE_RESOURCE_NAME),
    ("gcp:container/cluster:Cluster", "nodeConfig.tags[]", limits.GCE_RESOURCE_NAME),
    ("gcp:container/nodePool:NodePool", "nodeConfig.tags[]", limits.GCE_RESOURCE_NAME),
)
#: Inputs that name the resource being created; a GCP type declaring one needs a row in NAME_RULES.
NAME_INPUTS = ("name", "accountId", "secretId")
#: IAM grants (``...IamMember``, ``...IAMBinding``, ``...IamPolicy``) name the resource they grant on: a reference.
IAM_GRANT = re.compile(r":[a-zA-Z]*iam(member|binding|policy)$", re.IGNORECASE)

#: Inputs holding Google Cloud resource labels (GCP label rules); ``nodeConfig.labels`` are Kubernetes node labels.
GCP_LABEL_PATHS = ("labels", "resourceLabels", "nodeConfig.resourceLabels")


def _bucket_extra(name: str) -> str | None:
    """GCS rules beyond the pattern: no ``goog`` prefix, no ``google`` inside, not an IP address."""
    if name.startswith("goog") or re.search(r"g[o0][o0]gle", name):
        return f"GCS bucket name {name!r} may not start with 'goog' or contain 'google' (cloud.google.com/storage/docs/buckets#naming)"
    if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name):
        return f"GCS bucket name {name!r} may not be an IP address"
    return None


@dataclass(frozen=True)
class Problem:
    resource: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.resource} {self.path}: {self.message}"


def check_names(rec: Recording) -> tuple[int, list[Problem], set[int]]:
    """(names checked, problems, indexes of NAME_RULES that saw a name)."""
    checked, problems, seen = 0, [], set()
    for r in rec.resources:
        if not r.type.startswith("gcp:"):
            continue
        inputs = unwrap_secrets(r.inputs)
        where = f"{r.type}::{r.name}"
        for i, (type_, path, rule) in enumerate(NAME_RULES):
            if r.type != type_:
                continue
            for p, value in walk(inputs, path):
                checked += 1
                seen.add(i)
                if msg := rule.problem(str(value)):
                    problems.append(Problem(where, p, msg))
                if type_ == "gcp:storage/bucket:Bucket" and (msg := _bucket_extra(str(value))):
                    problems.append(Problem(where, p, msg))
        for path in GCP_LABEL_PATHS:
            for p, labels in walk(inputs, path):
                if not isinstance(labels, dict):
                    continue
                if len(labels) > limits.GCP_MAX_LABELS:
                    problems.append(Problem(where, p, f"{len(labels)} labels; at most {limits.GCP_MAX_LABELS}"))
                for k, v in labels.items():
                    checked += 1
                    for msg in (limits.GCP_LABEL_KEY.problem(str(k)), limits.GCP_LABEL_VALUE.problem(str(v))):
                        if msg:
                            problems.append(Problem(where, f"{p}[{k!r}]", msg))
    return checked, problems, seen


def unchecked_name_types(rec: Recording) -> set[str]:
    """GCP types that declare a name input no NAME_RULES row checks (a new resource type needs a rule)."""
    covered = {(t, p) for t, p, _ in NAME_RULES}
    out = set()
    for r in rec.resources:
        if r.type.startswith("gcp:") and not IAM_GRANT.search(r.type):
            for key in NAME_INPUTS:
                if key in r.inputs and (r.type, key) not in covered:
                    out.add(f"{r.type}.{key}")
    return out


def node_label_problems(rec: Recording) -> list[Problem]:
    """GKE node labels and taints are Kubernetes labels: checked with the Kubernetes rules."""
    problems = []
    for r in rec.resources:
        if r.type not in ("gcp:container/nodePool:NodePool", "gcp:container/cluster:Cluster"):
            continue
        node = unwrap_secrets(r.inputs).get("nodeConfig") or {}
        fake = {
            "kind": "Node",
            "metadata": {"name": "n", "labels": node.get("labels") or {}},
            "spec": {"nodeSelector": {t["key"]: t.get("value", "") for t in node.get("taints") or []}},
        }
        problems += [Problem(f"{r.type}::{r.name}", "nodeConfig", p) for p in kubernetes_object_problems(fake)]
    return problems


# ------------------------------------------------------------------ enum-like values (documented sets)

_GKE = "cloud.google.com/kubernetes-engine/docs/reference/rest/v1/"
_GCE = "cloud.google.com/compute/docs/reference/rest/v1/"


def _gcp_machine_types() -> frozenset[str]:
    """Machine types inferstack may declare: the catalogue's GCP shapes, and the system pool's default."""
    return frozenset({s.name for a in CATALOG.values() for s in a.shapes(Cloud.GCP)} | {"e2-standard-4"})


def _gcp_accelerator_types() -> frozenset[str]:
    return frozenset(a.gcp_accelerator_type for a in CATALOG.values() if a.gcp_accelerator_type and a.shapes(Cloud.GCP))


NP = "gcp:container/nodePool:NodePool"
CL = "gcp:container/cluster:Cluster"

#: (type, path, allowed values, source). ``exercised`` rows must see a value in some recording.
ENUM_RULES: tuple[tuple[str, str, frozenset[Any], str, bool], ...] = (
    (CL, "releaseChannel.channel", frozenset(limits.GKE_RELEASE_CHANNELS), _GKE + "projects.locations.clusters#channel", True),
    (CL, "networkingMode", frozenset({"VPC_NATIVE", "ROUTES"}), _GKE + "projects.locations.clusters#networkingmode", True),
    *(
        (t, "nodeConfig.workloadMetadataConfig.mode", frozenset({"GCE_METADATA", "GKE_METADATA"}), _GKE + "NodeConfig#mode", True)
        for t in (CL, NP)
    ),
    *(
        (t, "nodeConfig.taints[].effect", frozenset({"NO_SCHEDULE", "PREFER_NO_SCHEDULE", "NO_EXECUTE"}), _GKE + "NodeTaint#effect", t == NP)
        for t in (CL, NP)
    ),
    *(
        (t, "nodeConfig.imageType", frozenset({"COS_CONTAINERD", "UBUNTU_CONTAINERD"}), "cloud.google.com/kubernetes-engine/docs/concepts/node-images (Linux images)", t == NP)
        for t in (CL, NP)
    ),
    *(
        (
            t,
            "nodeConfig.diskType",
            frozenset({"pd-standard", "pd-balanced", "pd-ssd", "pd-extreme", "hyperdisk-balanced", "hyperdisk-extreme", "hyperdisk-throughput", "hyperdisk-ml"}),
            _GKE + "NodeConfig#diskType",
            t == NP,
        )
        for t in (CL, NP)
    ),
    (NP, "nodeConfig.machineType", _gcp_machine_types(), "inferstack.catalog.accelerators GCP shapes", True),
    (NP, "nodeConfig.guestAccelerators[].type", _gcp_accelerator_types(), "inferstack.catalog.accelerators gcp_accelerator_type", True),
    (NP, "nodeConfig.guestAccelerators[].gpuDriverInstallationConfig.gpuDriverVersion", frozenset({"INSTALLATION_DISABLED", "DEFAULT", "LATEST"}), _GKE + "NodeConfig#gpudriverversion", True),
    (NP, "nodeConfig.reservationAffinity.consumeReservationType", frozenset({"NO_RESERVATION", "ANY_RESERVATION", "SPECIFIC_RESERVATION"}), _GKE + "NodeConfig#reservationaffinity", True),
    (NP, "autoscaling.locationPolicy", frozenset({"BALANCED", "ANY"}), _GKE + "projects.locations.clusters.nodePools#locationpolicy", True),
    (NP, "placementPolicy.type", frozenset({"COMPACT"}), _GKE + "projects.locations.clusters.nodePools#type_1", False),
    ("gcp:kms/cryptoKey:CryptoKey", "purpose", frozenset({"ENCRYPT_DECRYPT", "ASYMMETRIC_SIGN", "ASYMMETRIC_DECRYPT", "RAW_ENCRYPT_DECRYPT", "MAC", "KEY_ENCAPSULATION"}), "cloud.google.com/kms/docs/reference/rest/v1/projects.locations.keyRings.cryptoKeys#CryptoKeyPurpose", True),
    ("gcp:storage/bucket:Bucket", "publicAccessPrevention", frozenset({"inherited", "enforced"}), "cloud.google.com/storage/docs/public-access-prevention", True),
    ("gcp:storage/bucket:Bucket", "lifecycleRules[].action.type", frozenset({"Delete", "SetStorageClass", "AbortIncompleteMultipartUpload"}), "cloud.google.com/storage/docs/lifecycle#actions", True),
    ("gcp:storage/bucket:Bucket", "lifecycleRules[].condition.withState", frozenset({"LIVE", "ARCHIVED", "ANY"}), "registry.terraform.io/providers/hashicorp/google/latest/docs/resources/storage_bucket#with_state", True),
    ("gcp:compute/network:Network", "routingMode", frozenset({"REGIONAL", "GLOBAL"}), _GCE + "networks", True),
    ("gcp:compute/subnetwork:Subnetwork", "logConfig.aggregationInterval", frozenset({"INTERVAL_5_SEC", "INTERVAL_30_SEC", "INTERVAL_1_MIN", "INTERVAL_5_MIN", "INTERVAL_10_MIN", "INTERVAL_15_MIN"}), _GCE + "subnetworks", True),
    ("gcp:compute/subnetwork:Subnetwork", "logConfig.metadata", frozenset({"INCLUDE_ALL_METADATA", "EXCLUDE_ALL_METADATA", "CUSTOM_METADATA"}), _GCE + "subnetworks", True),
    ("gcp:compute/routerNat:RouterNat", "natIpAllocateOption", frozenset({"AUTO_ONLY", "MANUAL_ONLY"}), _GCE + "routers", True),
    ("gcp:compute/routerNat:RouterNat", "sourceSubnetworkIpRangesToNat", frozenset({"ALL_SUBNETWORKS_ALL_IP_RANGES", "ALL_SUBNETWORKS_ALL_PRIMARY_IP_RANGES", "LIST_OF_SUBNETWORKS"}), _GCE + "routers", True),
    ("gcp:compute/routerNat:RouterNat", "subnetworks[].sourceIpRangesToNats[]", frozenset({"ALL_IP_RANGES", "LIST_OF_SECONDARY_IP_RANGES", "PRIMARY_IP_RANGE"}), _GCE + "routers", True),
    ("gcp:compute/routerNat:RouterNat", "logConfig.filter", frozenset({"ERRORS_ONLY", "TRANSLATIONS_ONLY", "ALL"}), _GCE + "routers", True),
    ("gcp:compute/firewall:Firewall", "direction", frozenset({"INGRESS", "EGRESS"}), _GCE + "firewalls", True),
    ("gcp:compute/firewall:Firewall", "allows[].protocol", frozenset({"tcp", "udp", "icmp", "esp", "ah", "sctp", "ipip", "all"}), _GCE + "firewalls", True),
)

#: (type, path, lo, hi, what): documented numeric ranges.
RANGE_RULES: tuple[tuple[str, str, float, float, str], ...] = (
    ("gcp:compute/subnetwork:Subnetwork", "logConfig.flowSampling", 0.0, 1.0, "VPC flow log sampling rate"),
    ("gcp:compute/firewall:Firewall", "priority", 0, 65535, "firewall rule priority"),
    (NP, "nodeConfig.diskSizeGb", 10, 65536, "GKE boot disk size GB (>= 10)"),
)

#: Cloud KMS automatic rotation: at least one day, at most 100 years (``<seconds>s``).
KMS_ROTATION = re.compile(r"^(\d+)(\.\d{1,9})?s$")
KMS_ROTATION_RANGE = (86_400, 876_000 * 3600)


def check_enums(rec: Recording) -> tuple[int, list[Problem], set[int]]:
    checked, problems, seen = 0, [], set()
    for r in rec.resources:
        if not r.type.startswith("gcp:"):
            continue
        inputs = unwrap_secrets(r.inputs)
        where = f"{r.type}::{r.name}"
        for i, (type_, path, allowed, source, _) in enumerate(ENUM_RULES):
            if r.type != type_:
                continue
            for p, value in walk(inputs, path):
                checked += 1
                seen.add(i)
                if value not in allowed:
                    problems.append(Problem(where, p, f"{value!r} not in {sorted(allowed)} ({source})"))
        for type_, path, lo, hi, what in RANGE_RULES:
            if r.type != type_:
                continue
            for p, value in walk(inputs, path):
                checked += 1
                if not (isinstance(value, (int, float)) and lo <= value <= hi):
                    problems.append(Problem(where, p, f"{value!r} outside [{lo}, {hi}] ({what})"))
        if r.type == "gcp:kms/cryptoKey:CryptoKey" and "rotationPeriod" in inputs:
            checked += 1
            m = KMS_ROTATION.match(str(inputs["rotationPeriod"]))
            lo, hi = KMS_ROTATION_RANGE
            if not m or not lo <= int(m.group(1)) <= hi:
                problems.append(Problem(where, "rotationPeriod", f"{inputs['rotationPeriod']!r}: '<seconds>s', {lo}-{hi} s"))
    return checked, problems, seen


def gcp_types(rec: Recording) -> Iterator[str]:
    return (r.type for r in rec.resources if r.type.startswith("gcp:"))
