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
  :data:`~inferstack.policies.rules.k8s_credentials.MIN_SECRET_LENGTH` characters without spaces, two character classes, not a path, URL, ARN, name or
  placeholder, and :data:`~inferstack.policies.rules.k8s_credentials.ENTROPY_BITS` bits of Shannon entropy per character. Random tokens of that length score 3.9 to 5.9 (hex to base64); the ConfigMaps of the reference stacks
  (Grafana dashboards, Prometheus rules) have no secret-like keys at all, and their own values peak below 5 bits
  only in JSON documents with spaces (measured: ``tests/policies/test_k8s_data.py``). Mandatory everywhere
  (OWASP K08, CIS Kubernetes 5.4.1).
"""

from __future__ import annotations

import base64
from typing import Any

from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy

from inferstack.policies.entry import MANDATORY, PolicyEntry
from inferstack.policies.rules.k8s_credentials import credential_problems
from inferstack.policies.rules.k8s_objects import CONTAINER_TYPES, is_map, objects

KUBERNETES = frozenset({"kubernetes"})
CORE = "kubernetes:core/v1:"
PV_TYPES = tuple(CORE + k for k in ("PersistentVolume", "PersistentVolumePatch", "PersistentVolumeList", "List"))
CONFIGMAP_TYPES = tuple(CORE + k for k in ("ConfigMap", "ConfigMapPatch", "ConfigMapList", "List"))
#: Node directories a ``local`` PersistentVolume must not expose.
SYSTEM_DIRS = ("/etc", "/var/lib/kubelet", "/var/lib/containerd", "/var/lib/docker", "/var/run", "/run", "/var/log",
               "/proc", "/sys", "/dev", "/boot", "/root", "/home", "/usr", "/bin", "/sbin", "/lib", "/opt/cni",
               "/var/lib/etcd")


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
