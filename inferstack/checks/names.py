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
    dashes), the system pool's node type has the form of the cloud's type names, and every name derived from the stack, pool, secret and model names is within its provider's limits."""
    if not re.fullmatch(STACK_NAME_PATTERN, cfg.name):
        yield ConfigIssue(
            ("stack",),
            f"stack name {cfg.name!r}: use 1-32 lower-case letters, digits and dashes, starting with a letter "
            "(it names the cluster, buckets, roles and keys)",
            namespace=None,
        )
        return
    node_type = cfg.settings.cluster.system_node_type
    pattern = limits.NODE_TYPE_PATTERN[cfg.cloud.value]
    if node_type and not re.fullmatch(pattern, node_type):
        example = "m6i.large" if cfg.cloud is Cloud.AWS else "e2-standard-4"
        yield ConfigIssue(
            ("cluster", "systemNodeType"),
            f"{node_type!r} is not a {cfg.cloud.value} instance/machine type name (like {example}; pattern {pattern})",
        )
    seen: set[tuple[tuple, str]] = set()
    for loc, limit, name in _derived(cfg):
        problem = limit.problem(name)
        if problem and (loc, problem) not in seen:
            seen.add((loc, problem))
            hint = "use a shorter stack name" if loc == ("stack",) else "use a shorter name"
            yield ConfigIssue(loc, f"{problem}; {hint}", namespace=None if loc == ("stack",) else NAMESPACE)


# ------------------------------------------------------------------ Kubernetes objects


def _label_key_problem(key: str) -> str | None:
    """Why ``key`` is not a valid label or annotation key (``[DNS-1123 subdomain/]name``), or None."""
    prefix, slash, name = key.rpartition("/")
    if slash and (problem := limits.K8S_SUBDOMAIN.problem(prefix)):
        return f"key {key!r}: prefix: {problem}"
    if problem := limits.K8S_QUALIFIED_NAME.problem(name):
        return f"key {key!r}: {problem}"
    return None


def _string_map(value: object) -> dict[str, str] | None:
    if isinstance(value, dict) and value and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return value
    return None


def _walk_maps(value: object, path: str) -> Iterable[tuple[str, str, object]]:
    """(path, key, value) of every dict entry below ``value``."""
    if isinstance(value, dict):
        for k, v in value.items():
            p = f"{path}.{k}" if path else str(k)
            yield path, str(k), v
            yield from _walk_maps(v, p)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk_maps(v, f"{path}[{i}]")


def kubernetes_object_problems(obj: dict) -> list[str]:
    """Why the API server would refuse ``obj``'s names, labels or annotations (empty when it would not):
    ``metadata.name`` by kind (:data:`~inferstack.catalog.limits.K8S_NAME_RULE_BY_KIND`, else a DNS-1123
    subdomain), ``metadata.namespace`` (DNS-1123 label), and, at any depth, the keys and values of every
    ``metadata.labels`` / ``matchLabels`` / ``nodeSelector`` / string ``selector`` map and the keys (and total size)
    of every ``metadata.annotations`` map (``labels`` elsewhere, e.g. Prometheus rule labels, follow other rules).
    Generic: any kind, built-in or custom."""
    problems: list[str] = []
    meta = obj.get("metadata") or {}
    kind = str(obj.get("kind", "?"))
    name = meta.get("name")
    if not isinstance(name, str):
        problems.append(f"{kind}: metadata.name missing")
    elif problem := limits.K8S_NAME_RULE_BY_KIND.get(kind, limits.K8S_SUBDOMAIN).problem(name):
        problems.append(f"{kind} metadata.name: {problem}")
    ns = meta.get("namespace")
    if ns is not None and (problem := limits.K8S_LABEL_VALUE.problem(str(ns))):
        problems.append(f"{kind}/{name} metadata.namespace: {problem}")
    for path, key, value in _walk_maps(obj, ""):
        at = f"{kind}/{name} {path}.{key}" if path else f"{kind}/{name} {key}"
        parent = path.rsplit(".", 1)[-1]
        in_meta = parent == "metadata"
        labels = (key == "labels" and in_meta) or key in ("matchLabels", "nodeSelector") or (
            key == "selector" and _string_map(value)
        )
        if labels and isinstance(value, dict):
            for k, v in value.items():
                if problem := _label_key_problem(str(k)):
                    problems.append(f"{at}: {problem}")
                if not isinstance(v, str):
                    problems.append(f"{at}[{k!r}]: label value {v!r} is not a string")
                elif problem := limits.K8S_LABEL_VALUE_SYNTAX.problem(v):
                    problems.append(f"{at}[{k!r}]: {problem}")
        elif key == "annotations" and in_meta and isinstance(value, dict):
            size = 0
            for k, v in value.items():
                size += len(str(k)) + len(str(v))
                if problem := _label_key_problem(str(k)):
                    problems.append(f"{at}: {problem}")
                if not isinstance(v, str):
                    problems.append(f"{at}[{k!r}]: annotation value {v!r} is not a string")
            if size > limits.K8S_ANNOTATIONS_MAX_BYTES:
                problems.append(f"{at}: {size} bytes, more than {limits.K8S_ANNOTATIONS_MAX_BYTES}")
    return problems
