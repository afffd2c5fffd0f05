"""Reading a GCP resource's props at the input paths its family records (``policies/families/data_gcp.py``).

A path is the SDK's Python names, dotted, with ``[]`` after a list (``clusters[].kms_key_name``); the props a
policy sees use the engine's camelCase names (``clusters[i].kmsKeyName``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any

from inferstack.policies.rules.common import is_unknown


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


@lru_cache(maxsize=4096)
def segments(path: str) -> tuple[tuple[str, bool], ...]:
    """``clusters[].kms_key_name`` -> (("clusters", True), ("kmsKeyName", False)): camelCase name, is a list."""
    return tuple((camel(s.removesuffix("[]")), s.endswith("[]")) for s in path.split("."))


def display(path: str) -> str:
    """The camelCase path as a message names it (``clusters[].kmsKeyName``)."""
    return ".".join(name + ("[]" if lst else "") for name, lst in segments(path))


def values_at(props: Any, path: str | tuple[tuple[str, bool], ...], where: str = "") -> Iterator[tuple[str, Any]]:
    """(location, value) of every value at ``path`` in ``props``: one per list element along the way; nothing
    where a step is missing. A value unknown at preview time is yielded as is (the caller decides)."""
    segs = segments(path) if isinstance(path, str) else path
    if not segs:
        yield where, props
        return
    (name, is_list), rest = segs[0], segs[1:]
    if is_unknown(props):
        yield where, props
        return
    if not isinstance(props, Mapping):
        return
    value = props.get(name)
    loc = f"{where}.{name}" if where else name
    if value is None:
        return
    if is_list and isinstance(value, Sequence) and not isinstance(value, str):
        for i, item in enumerate(value):
            yield from values_at(item, rest, f"{loc}[{i}]")
    else:
        yield from values_at(value, rest, loc)


def is_set(value: Any) -> bool:
    """A value that names something (a key, a mode): not None, empty text or an empty list/object."""
    if isinstance(value, (Mapping, Sequence)) and not isinstance(value, str):
        return len(value) > 0
    return value is not None and value != ""
