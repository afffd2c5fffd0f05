"""IAM trust policies on AWS: which AWS service, or which Kubernetes service accounts (IRSA), may assume a role.

One builder per kind of trust, used by every component that creates a role (cluster, Karpenter, registry, secrets).
"""

from __future__ import annotations

import json
from collections.abc import Sequence


def service_account_subject(namespace: str, service_account: str) -> str:
    """The OIDC ``sub`` of a Kubernetes service account: ``system:serviceaccount:<namespace>:<name>``."""
    return f"system:serviceaccount:{namespace}:{service_account}"


def assume_role_policy(service: str) -> str:
    """Trust policy letting one AWS service (``ec2.amazonaws.com``, ``eks.amazonaws.com``) assume a role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": ["sts:AssumeRole", "sts:TagSession"]}],
        }
    )


def irsa_trust(provider_arn: str, issuer: str, subjects: str | Sequence[str]) -> str:
    """Trust policy letting only ``subjects`` (service accounts, see :func:`service_account_subject`) assume a role
    through the cluster's OIDC provider (IAM roles for service accounts). ``issuer`` is the issuer URL without
    ``https://``; both ``:sub`` and ``:aud`` (``sts.amazonaws.com``) are pinned."""
    sub = subjects if isinstance(subjects, str) else list(subjects)
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {f"{issuer}:sub": sub, f"{issuer}:aud": "sts.amazonaws.com"}},
                }
            ],
        }
    )
