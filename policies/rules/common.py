"""Helpers shared by rules: safe nested reads and unknown-value reporting."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from inferstack.config.bounded import DecodeError, json_value
from inferstack.engine.wire import is_unknown

__all__ = ["names_unknown", "not_evaluated", "UNKNOWN_NOTE", "as_list", "get", "is_aws_managed_key", "is_unknown", "parse_json", "refers_to"]

UNKNOWN_NOTE = "value unknown at preview time; the rule decides only on known values"


def get(obj: Any, *path: Any) -> Any:
    """obj[path[0]][path[1]]...; None when any step is missing."""
    for key in path:
        if isinstance(obj, Mapping):
            obj = obj.get(key)
        elif isinstance(obj, Sequence) and not isinstance(obj, str) and isinstance(key, int) and -len(obj) <= key < len(obj):
            obj = obj[key]
        else:
            return None
        if obj is None:
            return None
    return obj


def is_aws_managed_key(key: Any) -> bool:
    """True for an AWS-managed key alias (alias/aws/s3, arn:...:alias/aws/secretsmanager): not customer-managed."""
    return isinstance(key, str) and (key.startswith("alias/aws/") or ":alias/aws/" in key)


def as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]


def parse_json(value: Any) -> Any:
    """A policy document given as a JSON string or a dict; None for text that is not JSON or is too large or deep
    (bounded like every decoder of user text: ``inferstack.config.bounded``)."""
    if isinstance(value, str):
        try:
            return json_value(value)
        except DecodeError:
            return None
    return value


def refers_to(res: Any, target: Any, field: str = "bucket") -> bool:
    """True when ``res`` (e.g. an S3 bucket sub-resource) names ``target`` by its physical id or name in ``field``.

    Only real ids count (the target's ``field``, ``id`` or ``arn`` property); a dependency edge or the Pulumi logical
    name does not: a sub-resource that depends on a bucket but configures another one must not cover it.
    """
    value = res.props.get(field)
    if value is None or is_unknown(value):
        return False
    names = {target.props.get(k) for k in (field, "id", "arn", "name")} - {None}
    return value in {n for n in names if not is_unknown(n)}


def names_unknown(res: Any, field: str = "bucket") -> bool:
    """True when ``res`` names its target through a value unknown at preview time."""
    return is_unknown(res.props.get(field))


def not_evaluated(what: str) -> None:
    """Stop the rule: ``what`` is unknown at preview time, so it is not evaluated (an advisory finding)."""
    from pulumi_policy.proxy import UnknownValueError

    err = UnknownValueError("04da6b54-80e4-46f7-96ec-b56ff0331ba9", [])
    err.message = f"{what}: not evaluated (unknown at preview time)"
    raise err


# ---------------------------------------------------------------- AWS IAM policy documents

IAM_ROLE = "aws:iam/role:Role"
#: Identity policy documents: resource type -> the input holding the JSON document (roles: ``inlinePolicies``).
IDENTITY_DOCS = {
    "aws:iam/policy:Policy": "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}


def document_statements(value: Any) -> list[tuple[str, Mapping]] | None:
    """``(Sid or index, statement)`` of each statement of a JSON policy document; None when the document is unknown
    at preview time or not JSON."""
    doc = parse_json(value)
    if not isinstance(doc, Mapping):
        return None
    return [(str(stmt.get("Sid") or i), stmt) for i, stmt in enumerate(as_list(doc.get("Statement"))) if isinstance(stmt, Mapping)]


def identity_documents(resource_type: str, props: Mapping) -> list[tuple[str, Any]]:
    """``(where, document)`` of each identity policy a resource declares: a role's inline policies
    (``inline policy <name>``) or a policy resource's document (``policy``)."""
    if resource_type == IAM_ROLE:
        return [(f"inline policy {get(p, 'name')}", get(p, "policy")) for p in props.get("inlinePolicies") or []]
    if resource_type in IDENTITY_DOCS:
        return [("policy", props.get(IDENTITY_DOCS[resource_type]))]
    return []
