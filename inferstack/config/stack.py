"""The root of a stack's config: the ``inferstack:`` namespace plus the provider's region, parsed.

:func:`parse_stack` turns a stack's config values into a :class:`StackConfig` (pydantic validation and the
region); ``inferstack.load.load_stack`` then derives replicas from capacity plans and runs the cross-field checks
of ``inferstack.checks``. Components take the narrow ``*Args`` models :class:`StackConfig` builds
(:meth:`StackConfig.platform_args`, ...), never the stack config itself.
"""

from __future__ import annotations

import difflib
import json
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field, StringConstraints, ValidationError

from inferstack.catalog.clouds import CLOUDS
from inferstack.config.args import (
    AwsPlatformArgs,
    ExistingClusterArgs,
    GcpPlatformArgs,
    RegistryArgs,
    SecretsArgs,
    ServingArgs,
)
from inferstack.config.base import Cloud, Environment, StrictModel
from inferstack.config.bounded import DecodeError, clip, config_value, fullmatch, plain_data, shown
from inferstack.config.existing import ExistingClusterConfig
from inferstack.config.patterns import ALLOWED, GCP_PROJECT_PATTERN
from inferstack.config.platform import AcceleratorPoolConfig, ClusterConfig, NetworkConfig
from inferstack.config.policy import PolicyConfig, PolicySettings
from inferstack.config.pricing import PricingConfig
from inferstack.config.registry import RegistryConfig, SecretConfig
from inferstack.config.scheduling import SchedulingConfig
from inferstack.config.serving import NAMESPACE_PATTERN, ModelConfig

NAMESPACE = "inferstack"


class ResidencyConfig(StrictModel):
    """Where data and compute may live."""

    allowed_regions: list[str] = Field(min_length=1, description="Regions every resource must be in, e.g. [eu-west-1].")


class InferstackConfig(StrictModel):
    """Everything under the ``inferstack:`` namespace of ``stacks/Pulumi.<stack>.yaml``."""

    cloud: Cloud = Field(description="Cloud the stack runs on: aws or gcp.")
    environment: Environment = Field(description="Environment class: dev, staging or prod.")
    residency: ResidencyConfig = Field(description="Region residency: allowedRegions.")
    network: NetworkConfig = Field(default_factory=NetworkConfig, description="VPC and subnets.")
    cluster: ClusterConfig = Field(default_factory=ClusterConfig, description="Kubernetes control plane and system pool.")
    accelerator_pools: list[AcceleratorPoolConfig] = Field(default_factory=list, description="Accelerator node pools.")
    models: list[ModelConfig] = Field(default_factory=list, description="Models served with KServe.")
    team_namespaces: list[typing.Annotated[str, StringConstraints(pattern=NAMESPACE_PATTERN)]] = Field(
        default_factory=list,
        description="Namespaces prepared for team serving stacks (namespace, RBAC with a deployer role, serving service account with registry read access) besides those of this stack's models.",
    )
    registry: RegistryConfig = Field(default_factory=RegistryConfig, description="Model registry settings.")
    secrets: list[SecretConfig] = Field(default_factory=list, description="Secrets delivered into team namespaces (values from secure config).")
    policy: PolicyConfig = Field(default_factory=PolicyConfig, description="Policy pack settings.")
    scheduling: SchedulingConfig = Field(
        default_factory=SchedulingConfig, description="Kueue queues, quotas and gang admission of the accelerator pools' workloads."
    )
    pricing: PricingConfig = Field(default_factory=PricingConfig, description="Negotiated price overrides.")
    existing_cluster: ExistingClusterConfig | None = Field(
        None,
        description="Deploy the Kubernetes layer only, to a cluster made elsewhere (kubeconfig); no network, cluster, pools or registry are created.",
    )


Loc = tuple[str | int, ...]


def stack_key(field: str) -> str:
    """The stack-file key of an ``InferstackConfig`` field (``models`` -> ``inferstack:models``)."""
    return f"{NAMESPACE}:{field}"


def format_loc(loc: Loc) -> str:
    """``("models", 0, "pool")`` as ``models[0].pool``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in a stack's config: where (a structured key path) and what is wrong or allowed.

    ``loc`` is relative to the ``inferstack:`` namespace (``("models", 0, "pool")`` is
    ``inferstack:models[0].pool``); with ``namespace=None`` its first part is a whole stack-file key of another
    namespace (``("aws:region",)``) or a part of the file itself (``("file",)``). Callers render it for their
    audience: :attr:`path` for stack files, argument paths in the component package.
    """

    loc: Loc
    message: str
    namespace: str | None = NAMESPACE

    @property
    def path(self) -> str:
        """The key as a stack file names it: ``inferstack:models[0].pool``, ``aws:region``, ``file``."""
        return f"{self.namespace}:{format_loc(self.loc)}" if self.namespace else format_loc(self.loc)

    def __str__(self) -> str:
        return f"{clip(self.path, 200)}: {clip(self.message)}"


def file_issue(key: str, message: str) -> ConfigIssue:
    """An issue about a whole stack-file key (``aws:region``) or the file itself (``file``, ``config``)."""
    return ConfigIssue((key,), message, namespace=None)


class ConfigError(Exception):
    """A stack config that cannot be used; ``issues`` names every bad key. The CLI exits 2 on it."""

    def __init__(self, source: str, issues: list[ConfigIssue]):
        self.source = source
        self.issues = issues
        # One issue: one line (``error: invalid stack config F: key: message``); several: one line each below.
        if len(issues) == 1:
            lines = [f"invalid stack config {source}: {issues[0]}"]
        else:
            lines = [f"invalid stack config {source}:"] + [f"  {i}" for i in issues]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class StackConfig:
    """A validated stack: its name, the ``inferstack:`` settings, the provider region, and the raw config.

    ``load_config()`` (in a program) and ``inferstack.load.load_stack_file`` build it; the ``*_args()`` methods
    give each component its arguments.
    """

    #: The stack name (``pulumi stack``; the ``<stack>`` of ``Pulumi.<stack>.yaml``); names clusters, buckets, keys.
    name: str
    #: Every ``inferstack:`` key, parsed (``settings.accelerator_pools``, ``settings.models``, ``settings.policy``...).
    settings: InferstackConfig
    #: The provider region: ``aws:region`` or ``gcp:region``.
    region: str
    #: ``gcp:project`` (GCP stacks; None on AWS).
    project: str | None = None
    #: Every config key of the stack (all namespaces) as written in the stack file (``{secure: ...}`` kept).
    values: Mapping[str, Any] = field(default_factory=dict)
    #: Keys whose values are secret.
    secret_keys: frozenset[str] = frozenset()
    #: Warnings of the checks (``inferstack.checks.NOTICES``): the stack is used; the CLI prints them, ``pulumi up``
    #: logs them.
    warnings: tuple[ConfigIssue, ...] = ()

    @property
    def cloud(self) -> Cloud:
        """``inferstack:cloud``."""
        return self.settings.cloud

    @property
    def environment(self) -> Environment:
        """``inferstack:environment``."""
        return self.settings.environment

    @property
    def is_prod(self) -> bool:
        """Whether the environment is prod (prod gets deletion protection, more zones and stricter policies)."""
        return self.settings.environment is Environment.PROD

    @property
    def team_namespaces(self) -> list[str]:
        """Every team namespace the platform prepares: those of the stack's models and ``teamNamespaces``, sorted."""
        return sorted({m.namespace for m in self.settings.models} | set(self.settings.team_namespaces))

    def policy_settings(self) -> PolicySettings:
        """What the policy pack reads of this stack (``policies.pack.pack_config`` takes it)."""
        return PolicySettings(
            environment=self.environment,
            allowed_regions=tuple(self.settings.residency.allowed_regions),
            policy=self.settings.policy,
        )

    def pool(self, name: str) -> AcceleratorPoolConfig:
        """The accelerator pool ``name`` of ``inferstack:acceleratorPools`` (KeyError when there is none)."""
        for p in self.settings.accelerator_pools:
            if p.name == name:
                return p
        raise KeyError(name)

    def _scope(self) -> dict[str, Any]:
        return {"stack": self.name, "environment": self.environment, "region": self.region}

    def platform_args(self) -> AwsPlatformArgs | GcpPlatformArgs:
        """Arguments of the stack's platform component (``AwsPlatform`` or ``GcpPlatform``)."""
        s = self.settings
        common = {**self._scope(), "network": s.network, "cluster": s.cluster, "accelerator_pools": s.accelerator_pools}
        if self.cloud is Cloud.AWS:
            return AwsPlatformArgs(**common)
        return GcpPlatformArgs(**common, project=str(self.project), models=s.models)

    def existing_cluster_args(self) -> ExistingClusterArgs:
        """Arguments of ``ExistingCluster`` (a stack with ``inferstack:existingCluster``)."""
        s = self.settings
        assert s.existing_cluster is not None
        return ExistingClusterArgs(**self._scope(), cloud=self.cloud, cluster=s.existing_cluster, accelerator_pools=s.accelerator_pools)

    def registry_args(self) -> RegistryArgs:
        """Arguments of the stack's model registry component (``AwsRegistry`` or ``GcpRegistry``)."""
        return RegistryArgs(
            **self._scope(), project=self.project, registry=self.settings.registry, team_namespaces=self.team_namespaces
        )

    def secrets_args(self) -> SecretsArgs:
        """Arguments of the stack's secret store component (``AwsSecrets`` or ``GcpSecrets``)."""
        return SecretsArgs(**self._scope(), project=self.project, secrets=self.settings.secrets)

    def serving_args(self) -> ServingArgs:
        """Arguments of ``Serving``: the models, the pools they run on, team namespaces and access settings."""
        s = self.settings
        return ServingArgs(
            stack=self.name,
            environment=self.environment,
            models=s.models,
            accelerator_pools=s.accelerator_pools,
            team_namespaces=self.team_namespaces,
            access_entries=s.cluster.access_entries,
            policy=s.policy,
            scheduling=s.scheduling,
        )


# ---------------------------------------------------------------- error formatting


def _unwrap(tp: Any) -> Any:
    """The model class inside Optional[...] / list[...] / dict[str, ...], else tp."""
    while True:
        origin = typing.get_origin(tp)
        if origin is None:
            return tp
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if origin in (list, tuple, set, frozenset) and args:
            tp = args[0]
        elif origin is dict and len(args) == 2:
            tp = args[1]
        elif len(args) == 1:
            tp = args[0]
        else:
            models = [a for a in args if isinstance(a, type) and issubclass(a, StrictModel)]
            return models[0] if models else tp


def allowed_keys(loc: tuple[Any, ...], root: type[StrictModel] = InferstackConfig) -> list[str]:
    """Allowed keys of the model at ``loc`` (the parent of an unknown key)."""
    model: Any = root
    for part in loc:
        if isinstance(part, int) or not (isinstance(model, type) and issubclass(model, StrictModel)):
            continue
        for name, f in model.model_fields.items():
            if part in (name, f.alias):
                model = _unwrap(f.annotation)
                break
        else:
            if model is not root and typing.get_origin(model) is None:
                pass
    if isinstance(model, type) and issubclass(model, StrictModel):
        return [f.alias or n for n, f in model.model_fields.items()]
    return []


def issues_from_validation(
    err: ValidationError, root: type[StrictModel] = InferstackConfig, prefix: Loc = ()
) -> list[ConfigIssue]:
    """One :class:`ConfigIssue` per pydantic error of validating ``root``; ``prefix`` is where ``root`` sits."""
    issues = []
    for e in err.errors(include_url=False):
        loc = tuple(e["loc"])
        if e["type"] == "extra_forbidden":
            allowed = allowed_keys(loc[:-1], root)
            issues.append(ConfigIssue(prefix + loc, f"unknown key; allowed: {', '.join(allowed)}"))
        elif e["type"] == "missing":
            issues.append(ConfigIssue(prefix + loc, "required key is missing"))
        elif e["type"] == "value_error":
            # Our validators' own messages already name the value and what is allowed.
            issues.append(ConfigIssue(prefix + loc, str(e["msg"]).removeprefix("Value error, ")))
        else:
            got = e.get("input")
            text = json.dumps(got) if isinstance(got, (str, int, float, bool)) else type(got).__name__
            if len(text) > 80:  # a huge value is named by its start and length, not repeated
                text = f"{text[:60]}... ({len(text):,} characters)"
            # A pattern shared with the registry client (inferstack.config.patterns) also says what it allows in words.
            words = ALLOWED.get(str(e.get("ctx", {}).get("pattern"))) if e["type"] == "string_pattern_mismatch" else None
            hint = f"; {words}" if words else _type_hint(e["type"], loc, got)
            issues.append(ConfigIssue(prefix + loc, f"{e['msg']} (got {text}){hint}"))
    return issues


def _type_hint(error: str, loc: Loc, got: Any) -> str:
    """The fix for a value of the wrong JSON type. One rule everywhere: no value is coerced between strings and
    numbers or booleans, so ``version: 3`` and ``maxNodes: "3"`` are both errors, each with the spelling to use."""
    key = next((str(p) for p in reversed(loc) if isinstance(p, str)), "value")
    if error == "string_type" and isinstance(got, (int, float)) and not isinstance(got, bool):
        return f"; quote it: {key}: '{got}'"
    if error in ("int_type", "float_type", "bool_type") and isinstance(got, str):
        return f"; write it without quotes: {key}: {got}"
    return ""


# ---------------------------------------------------------------- parsing


def _decode(value: Any) -> Any:
    """Pulumi passes structured config as JSON strings (decoded, bounded in size, depth and numbers); plain strings
    stay strings; values already decoded are checked against the same bounds. DecodeError otherwise."""
    return config_value(value) if isinstance(value, str) else plain_data(value)


#: Config namespaces a stack file may use besides ``inferstack``: never reported as a misspelling of it.
_OTHER_NAMESPACES_HINT = "inferstack-"


def _namespace_issues(config: Mapping[str, Any]) -> list[ConfigIssue]:
    """Keys whose namespace looks like a misspelling of ``inferstack`` (``inferstak:``, ``Inferstack:``): their
    settings would otherwise be dropped silently."""
    issues = []
    for key in config:
        prefix, sep, name = str(key).partition(":")
        if not sep or prefix == NAMESPACE or prefix.startswith(_OTHER_NAMESPACES_HINT):
            continue
        if prefix.lower() == NAMESPACE or difflib.SequenceMatcher(None, prefix.lower(), NAMESPACE).ratio() >= 0.85:
            issues.append(file_issue(str(key), f"unknown namespace {prefix!r}; did you mean {stack_key(name)}?"))
    return issues


def _settings(config: Mapping[str, Any], source: str, keys: Iterable[str] | None = None) -> InferstackConfig:
    """The ``inferstack:`` namespace of ``config`` (only ``keys`` of it, when given) as :class:`InferstackConfig`,
    validated strictly, with misspelt namespaces reported too; ConfigError names every bad key."""
    wanted = None if keys is None else set(keys)
    ns: dict[str, Any] = {}
    issues = _namespace_issues(config)
    undecoded = []
    for key, value in config.items():
        prefix, _, name = key.partition(":")
        if prefix == NAMESPACE and (wanted is None or name in wanted):
            try:
                ns[name] = plain_data(value) if name in ("cloud", "environment") else _decode(value)
            except DecodeError as err:
                undecoded.append(file_issue(key, str(err)))
    if undecoded:
        raise ConfigError(source, issues + undecoded)
    try:
        # Strict JSON validation: the types the stack file wrote are the types the program gets (no string<->number
        # coercion, see _type_hint); enums and literals still read their string values.
        settings = InferstackConfig.model_validate_json(json.dumps(ns), strict=True)
    except ValidationError as err:
        raise ConfigError(source, issues + issues_from_validation(err)) from None
    except (TypeError, ValueError) as err:  # a value JSON cannot hold (only from callers passing Python objects)
        raise ConfigError(source, [*issues, ConfigIssue((), f"not JSON data: {err}")]) from None
    if issues:
        raise ConfigError(source, issues)
    return settings


def parse_stack(
    stack: str, config: Mapping[str, Any], source: str | None = None, secret_keys: Iterable[str] = ()
) -> StackConfig:
    """Validate a stack's config (keys ``namespace:key``, values as Pulumi passes them or already decoded) and find
    its region (and project) in the cloud's namespace.

    Raises :class:`ConfigError` naming every bad key; declares nothing. Cross-field checks are
    ``inferstack.load.load_stack``'s.
    """
    source = source or f"stack {stack}"
    settings = _settings(config, source)
    cloud = CLOUDS[settings.cloud]
    issues: list[ConfigIssue] = []
    project = config.get(cloud.project_key) if cloud.project_key else None
    if cloud.project_key and not project:
        issues.append(file_issue(cloud.project_key, f"required for cloud {cloud.cloud.value}: the Google Cloud project id"))
    elif cloud.project_key and not fullmatch(GCP_PROJECT_PATTERN, project):
        issues.append(file_issue(cloud.project_key, f"{shown(project)} is not a project id; {ALLOWED[GCP_PROJECT_PATTERN]}"))
    region = config.get(cloud.region_key)
    if not region:
        allowed = ", ".join(settings.residency.allowed_regions)
        issues.append(file_issue(cloud.region_key, f"required for cloud {cloud.cloud.value}; allowed: {allowed}"))
    if issues:
        raise ConfigError(source, issues)
    return StackConfig(
        name=stack,
        settings=settings,
        region=str(region),
        project=str(project) if project else None,
        values=dict(config),
        secret_keys=frozenset(secret_keys),
    )


#: The ``inferstack:`` keys the policy pack reads of any program's stack file (``policy check --program``).
POLICY_KEYS = ("cloud", "environment", "residency", "policy")


def parse_policy_settings(config: Mapping[str, Any], source: str) -> tuple[Cloud, PolicySettings]:
    """The cloud and policy settings of a program's stack file: only ``inferstack:cloud``, ``environment``,
    ``residency`` and ``policy`` are read, with the same strict models, hints and namespace check as a full stack
    (every other field of :class:`InferstackConfig` has a default); :class:`ConfigError` names every bad key."""
    s = _settings(config, source, POLICY_KEYS)
    return s.cloud, PolicySettings(environment=s.environment, allowed_regions=tuple(s.residency.allowed_regions), policy=s.policy)
