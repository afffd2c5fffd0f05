"""A policy-pack config file (the JSON ``pulumi preview --policy-pack-config FILE`` takes) as the offline check reads it.

``inferstack policy check --program P --config F --policy-config FILE [--environment E]`` judges any team's program
with the pack's settings from FILE, never from the program's stack file. FILE has the shape Pulumi documents: a
policy name (or ``all``) -> an enforcement level, or an object with an optional ``enforcementLevel`` and the
policy's settings (``inferstack policy config --stack S`` writes one per reference stack).

:func:`effective_pack_config` turns FILE and the environment into the complete pack config the evaluator takes:

- levels: FILE's level of the policy > FILE's ``all`` > the pack's level in the environment (``--environment``);
- settings: FILE's values > the values a stack of that environment with FILE's allowed regions would get;
- the environment: ``--environment``, else the ``environment`` setting FILE gives (the prod-only rules read it);
- the allowed regions: ``region-residency.allowedRegions`` (else ``replica-residency``'s); required, as no
  default region set is safe to assume.

Every problem raises :class:`PackFileError` naming the key (``region-residency.allowedRegions``) and what is allowed.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inferstack.config.base import Environment
from inferstack.config.policy import PolicySettings
from inferstack.policies.pack import ENTRIES, ENTRY_BY_NAME, POLICY_NAMES, PackConfigError, pack_config

LEVELS = ("advisory", "mandatory", "remediate", "disabled")
#: The key that sets every policy's level (Pulumi's policy config).
ALL = "all"
#: Largest policy config file read (the generated ones are about 6 KB).
MAX_BYTES = 1_000_000
_ENVIRONMENTS = tuple(e.value for e in Environment)


class PackFileError(ValueError):
    """A policy config file the check cannot take: ``key`` is the JSON key (``region-residency.allowedRegions``)."""

    def __init__(self, key: str, message: str):
        self.key, self.message = key, message
        super().__init__(f"{key}: {message}")


@dataclass(frozen=True)
class PackFile:
    """What the check runs with: the complete pack config, and the environment and regions it was built for.

    ``unlevelled`` lists the policies FILE gives settings for but no level: ``pulumi preview`` takes those as
    advisory, so the CLI warns that the offline level (the environment's) differs.
    """

    config: dict[str, dict[str, Any]]
    environment: Environment
    allowed_regions: tuple[str, ...]
    unlevelled: tuple[str, ...] = ()


def read_pack_file(path: str | Path) -> Any:
    """FILE's JSON document; PackFileError (key ``--policy-config``) when it cannot be read or parsed."""
    p = Path(path)
    if not p.is_file():
        raise PackFileError("--policy-config", f"{path}: no such file (the JSON `inferstack policy config` writes)")
    if p.stat().st_size > MAX_BYTES:
        raise PackFileError("--policy-config", f"{path}: larger than {MAX_BYTES} bytes; a policy config is a few KB")
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise PackFileError("--policy-config", f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as err:
        raise PackFileError("--policy-config", f"{path}: not JSON (line {err.lineno}, column {err.colno}: {err.msg})") from None


def _allowed_props(name: str) -> dict[str, dict[str, Any]]:
    """Setting -> its JSON schema (``{"type": ...}``): the policy's config schema plus the settings the pack writes."""
    entry = ENTRY_BY_NAME[name]
    schema = entry.policy.config_schema
    props: dict[str, dict[str, Any]] = dict(schema.properties or {}) if schema is not None else {}
    sample = entry.settings(PolicySettings(environment=Environment.PROD, allowed_regions=("x",)))
    for key, value in sample.items():
        if key not in props:
            props[key] = {"type": {bool: "boolean", str: "string", list: "array", dict: "object"}.get(type(value), "string")}
    if "environment" in props:
        props["environment"] = {"type": "string", "enum": list(_ENVIRONMENTS)}
    return props


def _type_error(key: str, value: Any, schema: Mapping[str, Any]) -> str | None:
    """What is wrong with ``value`` against a (small) JSON schema: type, enum, items, additionalProperties."""
    kind = schema.get("type")
    checks = {"boolean": lambda v: isinstance(v, bool), "string": lambda v: isinstance(v, str),
              "array": lambda v: isinstance(v, list), "object": lambda v: isinstance(v, dict),
              "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
              "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)}
    if kind in checks and not checks[kind](value):
        return f"expected {'a' if kind != 'array' and kind != 'object' else 'an'} {kind}, got {json.dumps(value)[:80]}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{json.dumps(value)[:80]} is not allowed; allowed: {', '.join(map(str, schema['enum']))}"
    if kind == "string" and schema.get("minLength") and len(value) < schema["minLength"]:
        return "must not be empty"
    if kind == "array" and isinstance(schema.get("items"), Mapping):
        for i, item in enumerate(value):
            problem = _type_error(f"{key}[{i}]", item, schema["items"])
            if problem:
                return f"item {i}: {problem}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), Mapping):
        for k, item in value.items():
            problem = _type_error(f"{key}.{k}", item, schema["additionalProperties"])
            if problem:
                return f"{k!r}: {problem}"
    return None


def _level(key: str, value: Any) -> str:
    if value not in LEVELS:
        raise PackFileError(key, f"{json.dumps(value)[:80]} is not an enforcement level; allowed: {', '.join(LEVELS)}")
    return value


def _unknown_policy(key: str) -> PackFileError:
    close = difflib.get_close_matches(key, POLICY_NAMES, n=3)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    return PackFileError(key, f"not a policy of the inferstack pack; {hint}allowed: '{ALL}' or a policy id "
                              "(`inferstack policy list` prints all of them)")


def _entries(doc: Any) -> tuple[str | None, dict[str, tuple[str | None, dict[str, Any]]]]:
    """FILE checked: the ``all`` level, and policy -> (its level or None, its settings)."""
    if not isinstance(doc, dict):
        raise PackFileError("--policy-config", "expected a JSON object: policy id -> level or {enforcementLevel, settings}")
    all_level: str | None = None
    out: dict[str, tuple[str | None, dict[str, Any]]] = {}
    for name, value in doc.items():
        if name == ALL:
            lvl = value.get("enforcementLevel") if isinstance(value, dict) and set(value) == {"enforcementLevel"} else value
            all_level = _level(ALL, lvl)
            continue
        if name not in ENTRY_BY_NAME:
            raise _unknown_policy(name)
        if isinstance(value, str):
            out[name] = (_level(name, value), {})
            continue
        if not isinstance(value, dict):
            raise PackFileError(name, "expected an enforcement level or an object {enforcementLevel, settings...}")
        level = _level(f"{name}.enforcementLevel", value["enforcementLevel"]) if "enforcementLevel" in value else None
        props = _allowed_props(name)
        settings: dict[str, Any] = {}
        for key, setting in value.items():
            if key == "enforcementLevel":
                continue
            if key not in props:
                allowed = ", ".join(["enforcementLevel", *sorted(props)])
                raise PackFileError(f"{name}.{key}", f"not a setting of {name}; allowed: {allowed}")
            problem = _type_error(f"{name}.{key}", setting, props[key])
            if problem:
                raise PackFileError(f"{name}.{key}", problem)
            settings[key] = setting
        out[name] = (level, settings)
    return all_level, out


def _environment(entries: Mapping[str, tuple[str | None, dict[str, Any]]], flag: str | None) -> Environment:
    given = {name: s["environment"] for name, (_, s) in entries.items() if "environment" in s}
    if flag is not None:
        for name, env in given.items():
            if env != flag:
                raise PackFileError(f"{name}.environment", f"{env!r} here but --environment {flag}: give one environment "
                                                           "(remove the setting, or change the flag)")
        return Environment(flag)
    values = list(dict.fromkeys(given.values()))  # in file order
    if len(values) > 1:
        name = next(n for n, e in given.items() if e != values[0])
        raise PackFileError(f"{name}.environment", f"{given[name]!r} differs from the file's other environment settings "
                                                   f"({values[0]!r}); one file is one environment")
    if not values:
        raise PackFileError("--environment", f"required when the policy config names no environment; allowed: "
                                             f"{', '.join(_ENVIRONMENTS)}")
    return Environment(values[0])


def _regions(entries: Mapping[str, tuple[str | None, dict[str, Any]]]) -> tuple[str, ...]:
    for name in ("region-residency", "replica-residency"):
        regions = entries.get(name, (None, {}))[1].get("allowedRegions")
        if regions is not None:
            if not regions:
                raise PackFileError(f"{name}.allowedRegions", "must list at least one region")
            return tuple(regions)
    raise PackFileError("region-residency.allowedRegions", "required: the regions every resource must be in "
                                                           '(e.g. {"region-residency": {"allowedRegions": ["eu-west-1"]}})')


def effective_pack_config(doc: Any, environment: str | None = None) -> PackFile:
    """The complete pack config of FILE's document for ``environment`` (``--environment``; None: FILE's own)."""
    if environment is not None and environment not in _ENVIRONMENTS:
        raise PackFileError("--environment", f"{environment!r} is not an environment; allowed: {', '.join(_ENVIRONMENTS)}")
    all_level, entries = _entries(doc)
    env = _environment(entries, environment)
    regions = _regions(entries)
    try:
        base = pack_config(PolicySettings(environment=env, allowed_regions=regions))
    except PackConfigError as err:  # the default settings always pass; kept for a pack that changes
        raise PackFileError(".".join(err.loc), err.message) from None
    out: dict[str, dict[str, Any]] = {}
    unlevelled = []
    for e in ENTRIES:
        cfg = dict(base[e.name])
        if all_level is not None:
            cfg["enforcementLevel"] = all_level
        level, settings = entries.get(e.name, (None, {}))
        cfg.update(settings)
        if level is not None:
            cfg["enforcementLevel"] = level
        elif settings and all_level is None:
            unlevelled.append(e.name)
        out[e.name] = cfg
    return PackFile(out, env, regions, tuple(unlevelled))
