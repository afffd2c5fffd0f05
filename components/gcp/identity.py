"""Workload Identity on GKE: Google service accounts that Kubernetes service accounts may act as.

One builder for the ids and one for the binding, used by the registry and the secret store.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_gcp as gcp

from inferstack.checks.names import gcp_account_id


def account_id(stack: str, role: str) -> str:
    """A service account id (6-30 chars, lower-case) for ``stack`` and ``role``: ``<stack>-<role>``, shortened with
    a hash suffix when longer (:func:`inferstack.checks.names.gcp_account_id`, which config checks too)."""
    return gcp_account_id(stack, role)


def workload_members(workload_pool: str, namespaces: Sequence[str], service_account: str) -> list[str]:
    """``serviceAccount:<pool>[<ns>/<sa>]`` for each namespace: the Kubernetes service accounts as IAM members."""
    return [f"serviceAccount:{workload_pool}[{ns}/{service_account}]" for ns in namespaces]


def bind_workload_identity(
    name: str, account: gcp.serviceaccount.Account, workload_pool: str, namespace: str, service_account: str
) -> gcp.serviceaccount.IAMMember:
    """Let the Kubernetes service account ``namespace/service_account`` act as ``account``
    (``roles/iam.workloadIdentityUser`` on that account only), as a child of ``account``."""
    return gcp.serviceaccount.IAMMember(
        name,
        service_account_id=account.name,
        role="roles/iam.workloadIdentityUser",
        member=workload_members(workload_pool, [namespace], service_account)[0],
        opts=pulumi.ResourceOptions(parent=account),
    )
