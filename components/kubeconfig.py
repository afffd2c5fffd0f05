"""Kubeconfig for a cluster, authenticating through the cloud CLI's exec plugin (no long-lived credential in state).

Used by both platforms: ``aws eks get-token`` on EKS, ``gke-gcloud-auth-plugin`` on GKE.
"""

from __future__ import annotations

import json


def exec_kubeconfig(
    name: str, server: str, ca_data: str, command: str, args: list[str] | None = None, provide_cluster_info: bool = False
) -> str:
    """A single-cluster kubeconfig (JSON) whose user runs ``command args`` to get a short-lived token."""
    exec_cfg: dict = {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": command}
    if args:
        exec_cfg["args"] = list(args)
    if provide_cluster_info:
        exec_cfg["provideClusterInfo"] = True
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": {"server": server, "certificate-authority-data": ca_data}}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
            "users": [{"name": name, "user": {"exec": exec_cfg}}],
        }
    )
