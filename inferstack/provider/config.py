"""Turn a cross-language component's arguments into the validated :class:`~inferstack.config.StackConfig`.

Pure functions, no Pulumi engine: the arguments (Python names, as ``ComponentProvider.construct`` maps them, or as a
Python caller writes them) become the ``inferstack:`` stack keys plus the provider's region, and
:func:`~inferstack.config.parse_stack_config` checks them exactly as it checks a stack file. Errors name the
component's argument paths (``acceleratorPools[0].kind``), not stack keys.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from enum import Enum
from typing import Any

from pulumi import Output
from pulumi.errors import InputPropertiesError
from pydantic.alias_generators import to_camel

from inferstack.config import Cloud, ConfigError, StackConfig, parse_stack_config
from inferstack.config.stack import NAMESPACE

#: Arguments that are ``inferstack:`` stack keys as they are (after camelCase).
SETTINGS_ARGS = ("network", "cluster", "accelerator_pools", "models", "team_namespaces", "registry", "policy")

#: Component names become the stack name in resource names (``inferstack-<name>`` clusters, buckets, KMS aliases).
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")


def _plain(value: Any, path: str) -> Any:
    """``value`` as JSON-like data: camelCase keys, enum members as their values. Outputs are refused."""
    if isinstance(value, Output):
        raise InputPropertiesError(
            f"{path}: must be a plain value known when the component is declared (got an Output)",
            [{"property_path": path, "reason": "must be a plain value, not an Output"}],
        )
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {to_camel(str(k)): _plain(v, f"{path}.{to_camel(str(k))}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{path}[{i}]") for i, v in enumerate(value)]
    # Numbers stay as they are: other languages send every number as a float, and pydantic accepts 2.0 (not 2.5)
    # for an int field.
    return value


def argument_path(config_path: str) -> str:
    """The component argument a stack-config issue path refers to (``inferstack:models[0].pool`` -> ``models[0].pool``)."""
    if config_path in ("aws:region", "gcp:region"):
        return "region"
    if config_path == "gcp:project":
        return "project"
    if config_path.startswith(f"{NAMESPACE}:"):
        rest = config_path[len(NAMESPACE) + 1 :]
        if rest.startswith("residency.allowedRegions"):
            return "allowedRegions" + rest[len("residency.allowedRegions") :]
        if rest == "residency":
            return "allowedRegions"
        return rest
    return config_path


def stack_values(cloud: Cloud, args: Mapping[str, Any]) -> dict[str, Any]:
    """The stack config (``namespace:key`` -> value) the arguments stand for."""
    region = _plain(args.get("region"), "region")
    allowed = args.get("allowed_regions")
    values: dict[str, Any] = {
        f"{NAMESPACE}:cloud": cloud.value,
        f"{NAMESPACE}:environment": _plain(args.get("environment"), "environment"),
        f"{NAMESPACE}:residency": {"allowedRegions": _plain(allowed, "allowedRegions") if allowed else [region]},
    }
    for key in SETTINGS_ARGS:
        if args.get(key) is not None:
            values[f"{NAMESPACE}:{to_camel(key)}"] = _plain(args[key], to_camel(key))
    if cloud is Cloud.AWS:
        values["aws:region"] = region
    else:
        values["gcp:region"] = region
        if args.get("project") is not None:
            values["gcp:project"] = _plain(args["project"], "project")
    return values


def component_stack_config(name: str, cloud: Cloud, args: Mapping[str, Any], allowed: Collection[str]) -> StackConfig:
    """Validate a component's arguments (``allowed``: its argument names) as the stack ``name`` on ``cloud``.

    Raises ``InputPropertiesError`` naming every bad argument; declares nothing.
    """
    if not NAME_PATTERN.match(name):
        raise InputPropertiesError(
            f"component name {name!r}: use 2-32 lower-case letters, digits and dashes (it names the cluster, buckets and keys)",
            [{"property_path": "name", "reason": "2-32 lower-case letters, digits and dashes"}],
        )
    unknown = sorted(set(args) - set(allowed))
    if cloud is Cloud.AWS and args.get("project") is not None:
        unknown.append("project")  # a GCP setting: refused rather than ignored on AWS
    if unknown:
        raise InputPropertiesError(
            f"arguments not used by this component: {', '.join(to_camel(k) for k in unknown)}",
            [{"property_path": to_camel(k), "reason": "not an argument of this component on this cloud"} for k in unknown],
        )
    try:
        return parse_stack_config(name, stack_values(cloud, args), source=f"component {name}")
    except ConfigError as err:
        details = [{"property_path": argument_path(i.path), "reason": i.message} for i in err.issues]
        lines = [f"invalid arguments of component {name}:"] + [f"  {d['property_path']}: {d['reason']}" for d in details]
        raise InputPropertiesError("\n".join(lines), details) from None  # type: ignore[arg-type]
