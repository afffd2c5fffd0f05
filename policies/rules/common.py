"""Helpers shared by rules: safe nested reads and unknown-value reporting."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from inferstack.engine.wire import is_unknown

__all__ = ["UNKNOWN_NOTE", "as_list", "get", "is_aws_managed_key", "is_unknown", "parse_json", "refers_to"]

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
    """A policy document given as a JSON string or a dict."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def refers_to(res: Any, target: Any, field: str = "bucket") -> bool:
    """True when ``res`` (e.g. an S3 bucket sub-resource) names ``target`` in ``field`` or depends on it.

    A new bucket's id is unknown at preview time, so a dependency on the bucket counts as a reference too.
    """
    value = res.props.get(field)
    if value is not None and not is_unknown(value) and value in (target.props.get(field), target.name, target.urn):
        return True
    return any(getattr(d, "urn", None) == target.urn for d in getattr(res, "dependencies", None) or [])
