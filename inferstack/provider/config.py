"""Turn a cross-language component's arguments into the validated :class:`~inferstack.config.StackConfig`.

Pure functions, no Pulumi engine: the arguments (Python names, as ``ComponentProvider.construct`` maps them, or as a
Python caller writes them) build the typed :class:`~inferstack.config.InferstackConfig` directly, and
:func:`inferstack.load.prepare` derives and checks it exactly as it checks a stack file. Errors name the
component's argument paths (``acceleratorPools[0].kind``), rendered from each issue's structured key path.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from enum import Enum
from typing import Any

from pulumi import Output
from pulumi.errors import InputPropertiesError
from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from inferstack.catalog.clouds import CLOUDS, REGION_KEYS
from inferstack.config import Cloud, ConfigError, ConfigIssue, InferstackConfig, StackConfig
from inferstack.config.args import STACK_NAME_PATTERN
from inferstack.config.bounded import DecodeError, fullmatch, plain_data
from inferstack.config.stack import NAMESPACE, format_loc, issues_from_validation
from inferstack.load import prepare

#: Arguments that are :class:`InferstackConfig` fields as they are.
SETTINGS_ARGS = ("network", "cluster", "accelerator_pools", "models", "team_namespaces", "registry", "policy", "scheduling")

#: Component names become the stack name in resource names (``inferstack-<name>`` clusters, buckets, KMS aliases).


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


def argument_path(issue: ConfigIssue) -> str:
    """The component argument an issue refers to (``models[0].pool``, ``allowedRegions[0]``, ``region``)."""
    if issue.namespace == NAMESPACE:
        if issue.loc[:2] == ("residency", "allowedRegions"):
            return format_loc(("allowedRegions", *issue.loc[2:]))
        if issue.loc[:1] == ("residency",):
            return "allowedRegions"
        return format_loc(issue.loc)
    key = str(issue.loc[0]) if issue.loc else ""
    if key in REGION_KEYS:
        return "region"
    if key in {info.project_key for info in CLOUDS.values()}:
        return "project"
    return issue.path


def _invalid(name: str, issues: list[ConfigIssue]) -> InputPropertiesError:
    details = [{"property_path": argument_path(i), "reason": i.message} for i in issues]
    lines = [f"invalid arguments of component {name}:"] + [f"  {d['property_path']}: {d['reason']}" for d in details]
    return InputPropertiesError("\n".join(lines), details)  # type: ignore[arg-type]


def component_stack_config(name: str, cloud: Cloud, args: Mapping[str, Any], allowed: Collection[str]) -> StackConfig:
    """Validate a component's arguments (``allowed``: its argument names) as the stack ``name`` on ``cloud``.

    Raises ``InputPropertiesError`` naming every bad argument; declares nothing.
    """
    if not fullmatch(STACK_NAME_PATTERN, name):
        raise InputPropertiesError(
            f"component name {name!r}: use 1-32 lower-case letters, digits and dashes (it names the cluster, buckets and keys)",
            [{"property_path": "name", "reason": "1-32 lower-case letters, digits and dashes"}],
        )
    for key, value in args.items():  # bounded before anything recurses into them (depth, numbers, sizes)
        try:
            plain_data(value)
        except DecodeError as err:
            raise InputPropertiesError(f"{to_camel(key)}: {err}", [{"property_path": to_camel(key), "reason": str(err)}]) from None
    unknown = sorted(set(args) - set(allowed))
    info = CLOUDS[cloud]
    if not info.needs_project and args.get("project") is not None:
        unknown.append("project")  # a GCP setting: refused rather than ignored on AWS
    if unknown:
        raise InputPropertiesError(
            f"arguments not used by this component: {', '.join(to_camel(k) for k in unknown)}",
            [{"property_path": to_camel(k), "reason": "not an argument of this component on this cloud"} for k in unknown],
        )
    region = _plain(args.get("region"), "region")
    allowed_regions = args.get("allowed_regions")
    settings_input: dict[str, Any] = {
        "cloud": cloud.value,
        "environment": _plain(args.get("environment"), "environment"),
        "residency": {"allowedRegions": _plain(allowed_regions, "allowedRegions") if allowed_regions else [region]},
    }
    for key in SETTINGS_ARGS:
        if args.get(key) is not None:
            settings_input[to_camel(key)] = _plain(args[key], to_camel(key))
    try:
        settings = InferstackConfig.model_validate(settings_input)
    except ValidationError as err:
        raise _invalid(name, issues_from_validation(err)) from None
    project = _plain(args.get("project"), "project")
    missing = [ConfigIssue((info.region_key,), "required: the region of every resource", namespace=None)] if not region else []
    if info.needs_project and not project:
        missing.append(ConfigIssue((info.project_key or "",), "required: the Google Cloud project id", namespace=None))
    if missing:
        raise _invalid(name, missing)
    cfg = StackConfig(name=name, settings=settings, region=str(region), project=str(project) if project else None)
    try:
        return prepare(cfg, f"component {name}")
    except ConfigError as err:
        raise _invalid(name, err.issues) from None
