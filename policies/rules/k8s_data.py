"""Kubernetes objects judged for what they hold, not for a pod spec: PersistentVolume sources and ConfigMap data.

* ``k8s-persistent-volume-host-path``: no PersistentVolume with a ``hostPath`` source (a node directory: the PSS
  baseline "HostPath Volumes" control, reached through a claim instead of the pod spec), and no ``local`` source
  on a system directory of the node (``/``, ``/etc``, ``/var/lib/kubelet``, ``/proc`` ...). A ``local`` volume on a
  dedicated disk mount (``/mnt/disks/nvme0``) is a node-local disk, not the node's file system. Mandatory
  everywhere (CIS Kubernetes 5.1.9 names PV creation for this reason).
* ``k8s-configmap-credentials``: no ConfigMap (``data`` or ``binaryData``; objects, lists, patches, ConfigGroup
  objects) holds credentials. A value (or a ``key: value`` / ``key=value`` line inside a value: a config file) is
  reported when it carries a credential's own shape (AWS access key id, PEM private key, GitHub / GitLab / Slack /
  Hugging Face / Google API tokens, a JWT) or, under a secret-like key (``*TOKEN*``, ``*PASSWORD*``, ``*SECRET*``,
  ``*KEY*``; not ``*_PATH``, ``*_FILE``, ``*_URL`` ... nor ``PUBLIC*``), is a high-entropy string: at least
  :data:`MIN_SECRET_LENGTH` characters without spaces, two character classes, not a path, URL, ARN, name or
  placeholder, and :data:`ENTROPY_BITS` bits of Shannon entropy per character. Random tokens of that length score 3.9 to 5.9 (hex to base64); the ConfigMaps of the reference stacks
  (Grafana dashboards, Prometheus rules) have no secret-like keys at all, and their own values peak below 5 bits
  only in JSON documents with spaces (measured: ``tests/policies/test_k8s_data.py``). Mandatory everywhere
  (OWASP K08, CIS Kubernetes 5.4.1).
"""

from __future__ import annotations

import base64
import math
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy

from inferstack.policies.entry import MANDATORY, PolicyEntry
from inferstack.policies.rules.k8s_objects import CONTAINER_TYPES, is_map, objects
from inferstack.policies.rules.kubernetes import secret_like

KUBERNETES = frozenset({"kubernetes"})
CORE = "kubernetes:core/v1:"
PV_TYPES = tuple(CORE + k for k in ("PersistentVolume", "PersistentVolumePatch", "PersistentVolumeList"))
CONFIGMAP_TYPES = tuple(CORE + k for k in ("ConfigMap", "ConfigMapPatch", "ConfigMapList", "List"))
#: Node directories a ``local`` PersistentVolume must not expose.
SYSTEM_DIRS = ("/etc", "/var/lib/kubelet", "/var/lib/containerd", "/var/lib/docker", "/var/run", "/run", "/var/log",
               "/proc", "/sys", "/dev", "/boot", "/root", "/home", "/usr", "/bin", "/sbin", "/lib", "/opt/cni",
               "/var/lib/etcd")
MIN_SECRET_LENGTH = 16
ENTROPY_BITS = 3.5

#: Credential shapes (name, literal anchors, pattern): each is the credential's documented format. A pattern runs
#: only on text holding one of its anchors (a substring test), which keeps large ConfigMaps (dashboards) cheap.
CREDENTIAL_PATTERNS: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...] = (
    ("an AWS access key id", ("AKIA", "ASIA", "ABIA", "ACCA"),
     re.compile(r"(?<![A-Z0-9])(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])")),
    ("a PEM private key", ("PRIVATE KEY",), re.compile(r"-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----")),
    ("a GitHub token", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
     re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b")),
    ("a GitLab token", ("glpat-",), re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b")),
    ("a Slack token", ("xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-"), re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b")),
    ("a Hugging Face token", ("hf_",), re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
    ("a Google API key", ("AIza",), re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("a JSON Web Token", ("eyJ",), re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")),
)
#: Words of a secret-like key (``kubernetes.secret_like`` decides; this only preselects lines cheaply).
_SECRET_WORDS = ("token", "passw", "secret", "key", "credential")
#: ``key: value`` / ``key = value`` / ``KEY=value`` lines inside a config-file value whose key holds a secret word.
_ASSIGNMENT = re.compile(r"""^\s*["']?((?=[A-Za-z_])[A-Za-z0-9_.-]*?(?:token|passw|secret|key|credential)[A-Za-z0-9_.-]*)"""
                         r"""["']?\s*[:=]\s*["']?([^\s"',]+)["']?\s*,?\s*$""", re.M | re.I)


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def secret_key(key: Any) -> bool:
    """A key named like a secret (``api_key``, ``DB_PASSWORD``, ``tls.key``), not a public key or a reference."""
    if not secret_like(key):
        return False
    parts = re.split(r"[^A-Za-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(key)).upper())
    return not any(p in ("PUBLIC", "PUB") or p.startswith("PUBLIC") for p in parts)


#: Values that name something rather than hold it: paths, URLs, ARNs, resource names, template placeholders.
_REFERENCE = re.compile(r"^(\.{0,2}/|~/|[a-z][a-z0-9+.-]*://|arn:|projects/)|\$\{|\{\{|^[a-z0-9]([-.a-z]*[a-z0-9])?$")


def high_entropy(value: str) -> bool:
    """A random-looking string: long enough, no spaces, two character classes or more (lower, upper, digit), not a
    reference (path, URL, ARN, name, placeholder), and at least :data:`ENTROPY_BITS` bits per character."""
    if len(value) < MIN_SECRET_LENGTH or any(c.isspace() for c in value) or _REFERENCE.search(value):
        return False
    classes = sum(any(f(c) for c in value) for f in (str.islower, str.isupper, str.isdigit))
    return classes >= 2 and entropy(value) >= ENTROPY_BITS


def credential_problems(key: str, value: str) -> Iterator[str]:
    """What in one ConfigMap entry looks like a credential."""
    for what, anchors, rx in CREDENTIAL_PATTERNS:
        if any(a in value for a in anchors) and rx.search(value):
            yield f"key {key!r} holds {what}"
    if secret_key(key) and high_entropy(value.strip()):
        yield f"key {key!r} holds a high-entropy value ({entropy(value.strip()):.1f} bits per character)"
    lower = value.lower()
    if not any(w in lower for w in _SECRET_WORDS):
        return
    for m in _ASSIGNMENT.finditer(value):
        inner, v = m.group(1), m.group(2)
        if secret_key(inner) and high_entropy(v):
            yield f"key {key!r} sets {inner} to a high-entropy value ({entropy(v):.1f} bits per character)"


def _binary_text(value: Any) -> str | None:
    try:
        return base64.b64decode(str(value), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None


def _configmaps(args: ResourceValidationArgs, report) -> None:
    for obj in objects(args.resource_type, args.props):
        if obj.kind != "ConfigMap":
            continue
        entries: list[tuple[str, str]] = []
        data, binary = obj.props.get("data"), obj.props.get("binaryData")
        if is_map(data):
            entries += [(str(k), v) for k, v in data.items() if isinstance(v, str)]
        if is_map(binary):
            entries += [(str(k), t) for k, v in binary.items() if (t := _binary_text(v)) is not None]
        for key, value in entries:
            for problem in dict.fromkeys(credential_problems(key, value)):
                report(f"{obj.label}: {obj.at('data') if obj.where else 'data'} {problem}; ConfigMaps are stored and "
                       "shown in plain text. Keep it in the cloud secret store and deliver it with an ExternalSecret.")


def local_path_problem(path: Any) -> bool:
    if not isinstance(path, str):
        return False
    p = "/" + path.strip("/")
    return p == "/" or any(p == d or p.startswith(d + "/") for d in SYSTEM_DIRS)


def _volumes(args: ResourceValidationArgs, report) -> None:
    for obj in objects(args.resource_type, args.props):
        if obj.kind != "PersistentVolume":
            continue
        spec = obj.props.get("spec")
        if not is_map(spec):
            continue
        host = spec.get("hostPath")
        if is_map(host) or host is not None:
            path = host.get("path") if is_map(host) else None
            report(f"{obj.label}: spec.hostPath{f' ({path})' if path else ''} exposes a directory of the node to "
                   "any pod that claims the volume.")
        local = spec.get("local")
        if is_map(local) and local_path_problem(local.get("path")):
            report(f"{obj.label}: spec.local.path {local.get('path')} is a system directory of the node; a local "
                   "volume belongs on a dedicated disk mount (/mnt/disks/...).")


ENTRIES = [
    PolicyEntry(ResourceValidationPolicy(
        name="k8s-persistent-volume-host-path",
        description="No PersistentVolume has a hostPath source, nor a local source on a system directory of the node.",
        validate=_volumes,
        remediation_steps="Use a CSI-provisioned volume (a StorageClass) or a local volume on a dedicated disk "
                          "mount; hostPath volumes are for node agents, which mount them in their own pod spec.",
    ), MANDATORY, types=(*PV_TYPES, *CONTAINER_TYPES),
        controls=("PSS baseline: HostPath Volumes", "CIS Kubernetes 5.1.9", "OWASP Kubernetes Top 10: K01",
                  "NSA-CISA Kubernetes Hardening: Kubernetes Pod security"),
        clouds=KUBERNETES),
    PolicyEntry(ResourceValidationPolicy(
        name="k8s-configmap-credentials",
        description="No ConfigMap holds credentials: AWS access key ids, private keys, API tokens, or high-entropy "
                    "values under secret-like keys.",
        validate=_configmaps,
        remediation_steps="Move the value to the cloud secret store, deliver it with an ExternalSecret "
                          "(inferstack:secrets) and mount the Secret; rotate the credential, it has been exposed.",
    ), MANDATORY, types=(*CONFIGMAP_TYPES, *CONTAINER_TYPES),
        controls=("OWASP Kubernetes Top 10: K08", "CIS Kubernetes 5.4.1", "NSA-CISA Kubernetes Hardening: Secrets"),
        clouds=KUBERNETES),
]
