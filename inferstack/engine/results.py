"""Declared result shapes from the installed provider SDKs: what a data-source call or a resource read returns.

A data-source token (``aws:route53/getZone:getZone``) names its SDK module (``pulumi_aws.route53``) and result class
(``GetZoneResult``, a ``@pulumi.output_type``); a resource type token (``aws:ec2/vpc:Vpc``) names its resource class
(``pulumi_aws.ec2.Vpc``). Both are found by import, generically, with no table per function. From a result class,
:func:`placeholder_result` builds a deterministic value of the declared shape (every field, nested output types
included) for the plain form of a data-source call, which cannot carry unknowns; every generated leaf is listed so
that a report can say which values are placeholders.

Pure functions of the SDK's type metadata: no Pulumi runtime is involved.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import importlib
import re
import typing
from collections import abc
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from pulumi import _types as ptypes

#: Provider packages whose Python SDK module is not ``pulumi_<package>``.
SDK_MODULES = {"kubernetes": "pulumi_kubernetes", "google-native": "pulumi_google_native", "pulumi": "pulumi"}

#: Nested output types are expanded this deep; deeper ones are left empty (``{}``).
MAX_DEPTH = 4


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _sdk_modules(token: str) -> list[ModuleType]:
    """The installed SDK modules a token may live in, most specific first: ``kubernetes:core/v1:ConfigMap`` ->
    ``pulumi_kubernetes.core.v1``; ``aws:route53/getZone:getZone`` -> ``pulumi_aws.route53``; ``index`` is the
    package root. Empty when the package's SDK is not installed."""
    parts = token.split(":")
    if len(parts) != 3:
        return []
    package = parts[0]
    root = SDK_MODULES.get(package, "pulumi_" + package.replace("-", "_"))
    segments = [seg.split(".")[0] for seg in parts[1].split("/") if seg and seg != "index"]
    names = [".".join([root, *segments[:n]]) for n in range(len(segments), -1, -1)]
    names += [".".join([root, *map(_snake, segments[:n])]) for n in range(len(segments), 0, -1)]
    out = []
    for name in dict.fromkeys(names):
        try:
            out.append(importlib.import_module(name))
        except ImportError:
            continue
    return out


def _member(token: str, name: str) -> Any:
    return next((getattr(m, name) for m in _sdk_modules(token) if isinstance(getattr(m, name, None), type)), None)


@functools.cache
def result_type(token: str) -> type | None:
    """The declared result class (``@pulumi.output_type``) of a data-source token, or None when its SDK is not
    installed or names it otherwise."""
    fn = token.split(":")[-1]
    cls = _member(token, fn[:1].upper() + fn[1:] + "Result")
    return cls if cls is not None and ptypes.is_output_type(cls) else None


@functools.cache
def resource_class(type_token: str) -> type | None:
    """The SDK's resource class of a type token (``aws:ec2/vpc:Vpc`` -> ``pulumi_aws.ec2.Vpc``), or None."""
    return _member(type_token, type_token.split(":")[-1])


def fields(cls: type) -> dict[str, Any]:
    """Wire (camelCase) name -> declared type hint of every property of an output type or a resource class."""
    if ptypes.is_output_type(cls):
        # The SDK's own reading of the getters' return annotations (resolved in the class's module).
        return dict(ptypes._raw_return_hints(cls))
    return {name: hint for name, hint in ptypes.resource_types(cls).items() if name not in ("id", "urn")}


@dataclass
class Placeholders:
    """A placeholder value and the leaves it was made of (``path`` -> value)."""

    value: dict[str, Any]
    leaves: dict[str, Any] = field(default_factory=dict)


def _leaf(path: str, seed: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "value"
    return f"placeholder-{slug}-{hashlib.sha256(f'{seed}/{path}'.encode()).hexdigest()[:8]}"


def _value(hint: Any, path: str, seed: str, depth: int, leaves: dict[str, Any]) -> Any:
    hint = ptypes.unwrap_optional_type(hint)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (list, abc.Sequence, typing.Sequence, tuple):
        return [_value(args[0] if args else str, f"{path}[0]", seed, depth, leaves)]
    if origin in (dict, abc.Mapping, typing.Mapping):
        return {}
    if isinstance(hint, type) and ptypes.is_output_type(hint):
        if depth >= MAX_DEPTH:
            return {}
        return {k: _value(h, f"{path}.{k}", seed, depth + 1, leaves) for k, h in sorted(fields(hint).items())}
    value: Any
    if hint is bool:
        value = False
    elif hint is int:
        value = 0
    elif hint is float:
        value = 0.0
    elif isinstance(hint, type) and issubclass(hint, enum.Enum):
        value = next(iter(hint)).value
    else:  # str, and anything declared loosely (Any, unions): a string says what it is
        value = _leaf(path, seed)
    leaves[path] = value
    return value


def placeholder_result(cls: type, args: abc.Mapping[str, Any], seed: str) -> Placeholders:
    """A value of result type ``cls``: the call's arguments where a field has the same name (a lookup by ``name``
    answers that name), every other field a deterministic placeholder of its declared type (a string
    ``placeholder-<field>-<hash>``, 0, False, a one-element list, an empty map, nested types field by field)."""
    leaves: dict[str, Any] = {}
    out: dict[str, Any] = {}
    for name, hint in sorted(fields(cls).items()):
        given = args.get(name)
        out[name] = given if given is not None else _value(hint, name, seed, 1, leaves)
    return Placeholders(out, leaves)
