"""Checks of the principals a stack grants access to, in the form the cloud API they are passed to accepts.

- AWS ``registry.writerPrincipals`` go into the model-writer role's trust policy (``Principal: {"AWS": [...]}``),
  which takes an IAM principal ARN (``arn:<partition>:iam::<12 digits>:root``, ``...:role/<path/name>``,
  ``...:user/<path/name>``) or a 12-digit account id. Anything else (an email, ``*``, a bare role name) is refused.
- AWS ``cluster.accessEntries[].principal`` is an EKS access entry's ``principalArn``: an IAM role or user ARN.
- GCP ``registry.writerPrincipals`` are IAM members granted ``roles/iam.serviceAccountTokenCreator`` on the writer
  service account: ``user:``, ``group:``, ``serviceAccount:`` (an email), ``domain:`` (a domain), or a workload
  identity federation identifier ``principal://...`` / ``principalSet://...``. A bare email is refused, and so are
  ``allUsers`` / ``allAuthenticatedUsers`` (anyone could then push models).
- GCP ``cluster.accessEntries`` are checked by ``inferstack.checks.access`` (RBAC subjects by email).
"""

from __future__ import annotations

from collections.abc import Iterable

from inferstack.config.base import Cloud
from inferstack.config.bounded import fullmatch, shown
from inferstack.config.stack import ConfigIssue, StackConfig

#: AWS partitions of IAM ARNs.
_PARTITION = r"aws(?:-cn|-us-gov|-iso(?:-[a-z])?|-eusc)?"
#: An IAM role or user name with an optional path (IAM: letters, digits and +=,.@_- ; path segments by /).
_IAM_NAME = r"[A-Za-z0-9+=,.@_-]+(?:/[A-Za-z0-9+=,.@_-]+){0,32}"
AWS_ROLE_OR_USER_ARN = rf"arn:{_PARTITION}:iam::[0-9]{{12}}:(?:role|user)/{_IAM_NAME}"
AWS_TRUST_PRINCIPAL = rf"[0-9]{{12}}|arn:{_PARTITION}:iam::[0-9]{{12}}:root|{AWS_ROLE_OR_USER_ARN}"
_EMAIL = r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
_DOMAIN = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}"
GCP_IAM_MEMBER = (
    rf"(?:user|group|serviceAccount):{_EMAIL}|domain:{_DOMAIN}"
    r"|principal(?:Set)?://[A-Za-z0-9._~%!$&'()*+,;=:@/-]{1,1000}"
)

_AWS_WRITER_ALLOWED = ("an IAM principal ARN (arn:aws:iam::<12-digit account>:role/<name>, ...:user/<name> or "
                       "...:root) or a 12-digit account id")
_GCP_WRITER_ALLOWED = ("an IAM member with its prefix: user:<email>, group:<email>, serviceAccount:<email>, "
                       "domain:<domain>, principal://... or principalSet://... (workload identity federation)")


def principal_problem(cloud: Cloud, value: str, *, access_entry: bool = False) -> str | None:
    """Why ``value`` is not a principal ``cloud`` accepts where it is used, or None."""
    if cloud is Cloud.AWS:
        if access_entry:
            if fullmatch(AWS_ROLE_OR_USER_ARN, value):
                return None
            return (f"{shown(value)} is not an IAM role or user ARN (EKS access entries take one); "
                    "allowed: arn:aws:iam::<12-digit account>:role/<name> or ...:user/<name>")
        if fullmatch(AWS_TRUST_PRINCIPAL, value):
            return None
        return f"{shown(value)} is not an AWS principal of a trust policy; allowed: {_AWS_WRITER_ALLOWED}"
    if access_entry or fullmatch(GCP_IAM_MEMBER, value):
        return None
    if fullmatch(_EMAIL, value):
        return (f"{shown(value)} has no member prefix; write user:{value}, group:{value} or serviceAccount:{value} "
                f"(allowed: {_GCP_WRITER_ALLOWED})")
    return f"{shown(value)} is not an IAM member; allowed: {_GCP_WRITER_ALLOWED}"


def check_principals(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """``registry.writerPrincipals`` (both clouds) and AWS ``cluster.accessEntries[].principal`` are principals
    the API they are passed to accepts."""
    for i, value in enumerate(cfg.settings.registry.writer_principals):
        msg = principal_problem(cfg.cloud, value)
        if msg:
            yield ConfigIssue(("registry", "writerPrincipals", i), msg)
    if cfg.cloud is Cloud.AWS:
        for i, entry in enumerate(cfg.settings.cluster.access_entries):
            msg = principal_problem(cfg.cloud, entry.principal, access_entry=True)
            if msg:
                yield ConfigIssue(("cluster", "accessEntries", i, "principal"), msg)
