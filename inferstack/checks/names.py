"""Names derived from the stack, pool, secret and model names, checked against the providers' limits at config time.

The components derive these names with the functions below, and :func:`check_names` checks exactly what they return,
so config time and the cloud agree. Limits (with sources) are data in :mod:`inferstack.catalog.limits`.

Per name, shorten or refuse:

- **Shortened** with :func:`fit_name` (unchanged when it fits; else cut and ended with a 6-hex hash of the full name,
  so two long names stay distinct): names no one types and whose only input is the stack (or project) name:
  the S3 ``bucketPrefix`` ``inferstack-<stack>-models-`` (≤ 37), the IAM roles ``inferstack-<stack>-<role>`` (≤ 64),
  the GCP service account ids ``<stack>-<role>`` (6-30; before, a plain cut to 30 could collide or end badly) and
  the GCS bucket ``<project>-<stack>-models`` (≤ 63; before, a plain cut).
- **Refused** (exit 2, naming the key): names people type or read back — the pool name (GKE node pools
  ``<pool>-on-demand`` ≤ 40, Karpenter NodePool ``<pool>-on-demand-baseline``, also a label value ≤ 63), the model
  name (InferenceService name plus KServe's ``-predictor`` ≤ 63, and the host label ``<model>-predictor-<namespace>``
  ≤ 63), the secret name (Secrets Manager / Secret Manager
  ids) — and names that are immutable or cannot be deleted: Cloud KMS key rings and keys ``inferstack-<stack>``,
  the KMS alias, the DynamoDB table, and the GKE cluster ``inferstack-<stack>`` (≤ 40). A stack name whose characters a name cannot hold is refused too (key ``stack``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from inferstack.catalog import limits
from inferstack.catalog.limits import NameLimit
from inferstack.config.args import STACK_NAME_PATTERN
from inferstack.config.base import Cloud
from inferstack.config.stack import NAMESPACE, ConfigIssue, StackConfig

_HASH_LEN = 6


def fit_name(base: str, limit: int, suffix: str = "") -> str:
    """``base + suffix`` if it has at most ``limit`` characters; else ``base`` cut, ended with ``-<hash>`` (6 hex
    digits of sha256 of ``base``), then ``suffix``, exactly ``limit`` characters or fewer. Deterministic and pure."""
    if len(base) + len(suffix) <= limit:
        return base + suffix
    digest = hashlib.sha256(base.encode()).hexdigest()[:_HASH_LEN]
    keep = limit - len(suffix) - _HASH_LEN - 1
    if keep < 1:
        raise ValueError(f"limit {limit} leaves no room for {base!r} with suffix {suffix!r}")
    return f"{base[:keep].rstrip('-._')}-{digest}{suffix}"


def bucket_prefix(stack: str) -> str:
    """The S3 ``bucketPrefix`` of the model registry: ``inferstack-<stack>-models-``, fitted to 37 characters."""
    return fit_name(f"inferstack-{stack}-models", limits.S3_BUCKET_PREFIX.max_len, suffix="-")


def iam_role_name(stack: str, role: str) -> str:
    """The IAM role ``inferstack-<stack>-<role>``, fitted to 64 characters."""
    return fit_name(f"inferstack-{stack}-{role}", limits.IAM_ROLE.max_len)


def gcp_account_id(stack: str, role: str) -> str:
    """The GCP service account id ``<stack>-<role>``, fitted to 30 characters."""
    return fit_name(f"{stack}-{role}", limits.GCP_SERVICE_ACCOUNT_ID.max_len)


def gcs_bucket_name(project: str, stack: str) -> str:
    """The GCS bucket of the model registry: ``<project>-<stack>-models``, fitted to 63 characters."""
    return fit_name(f"{project}-{stack}", limits.GCS_BUCKET.max_len, suffix="-models")


def _derived(cfg: StackConfig) -> Iterable[tuple[tuple, NameLimit, str]]:
    """(key, limit, name) for every name the program derives from the config."""
    stack = ("stack",)
    s = cfg.name
    if cfg.cloud is Cloud.AWS:
        yield stack, limits.S3_BUCKET_PREFIX, bucket_prefix(s)
        for role in ("model-reader", "model-writer", "external-secrets"):
            yield stack, limits.IAM_ROLE, iam_role_name(s, role)
        yield stack, limits.DYNAMODB_TABLE, f"inferstack-{s}-model-versions"
        yield stack, limits.KMS_ALIAS, f"alias/inferstack-{s}"
        yield stack, limits.SQS_QUEUE, f"inferstack-{s}-karpenter"
        for i, sec in enumerate(cfg.settings.secrets):
            yield ("secrets", i, "name"), limits.SECRETS_MANAGER_NAME, f"inferstack/{s}/{sec.name}"
        for i, pool in enumerate(cfg.settings.accelerator_pools):
            for np_name in (pool.name, f"{pool.name}-on-demand-baseline"):
                yield ("acceleratorPools", i, "name"), limits.K8S_LABEL_VALUE, np_name
    else:
        for role in ("model-reader", "model-writer", "external-secrets"):
            yield stack, limits.GCP_SERVICE_ACCOUNT_ID, gcp_account_id(s, role)
        if cfg.project:
            yield stack, limits.GCS_BUCKET, gcs_bucket_name(cfg.project, s)
        yield stack, limits.GKE_CLUSTER, f"inferstack-{s}"
        yield stack, limits.CLOUD_KMS_NAME, f"inferstack-{s}"
        for i, sec in enumerate(cfg.settings.secrets):
            yield ("secrets", i, "name"), limits.GCP_SECRET_ID, f"inferstack-{s}-{sec.name}"
        for i, pool in enumerate(cfg.settings.accelerator_pools):
            for suffix in ("spot", "on-demand"):
                yield ("acceleratorPools", i, "name"), limits.GKE_NODE_POOL, f"{pool.name}-{suffix}"
            yield ("acceleratorPools", i, "name"), limits.K8S_LABEL_VALUE, f"inferstack-{pool.name}"
    for i, model in enumerate(cfg.settings.models):
        predictor = f"{model.name}{limits.KSERVE_PREDICTOR_SUFFIX}"
        yield ("models", i, "name"), limits.K8S_LABEL_VALUE, predictor
        yield ("models", i, "name"), limits.KSERVE_HOST_LABEL, f"{predictor}-{model.namespace}"


def check_names(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """The stack name is one the components accept (``StackArgs.stack``: 1-32 lower-case letters, digits and
    dashes), and every name derived from the stack, pool, secret and model names is within its provider's limits."""
    if not re.fullmatch(STACK_NAME_PATTERN, cfg.name):
        yield ConfigIssue(
            ("stack",),
            f"stack name {cfg.name!r}: use 1-32 lower-case letters, digits and dashes, starting with a letter "
            "(it names the cluster, buckets, roles and keys)",
            namespace=None,
        )
        return
    seen: set[tuple[tuple, str]] = set()
    for loc, limit, name in _derived(cfg):
        problem = limit.problem(name)
        if problem and (loc, problem) not in seen:
            seen.add((loc, problem))
            hint = "use a shorter stack name" if loc == ("stack",) else "use a shorter name"
            yield ConfigIssue(loc, f"{problem}; {hint}", namespace=None if loc == ("stack",) else NAMESPACE)
