"""The root of a stack's config: the ``inferstack:`` namespace plus the provider's region, parsed and checked.

One source of truth: `pulumi up` (through ``pulumi.Config``), the offline engine and every CLI command build a
:class:`StackConfig` with :func:`parse_stack_config`; nothing is declared before it succeeds.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, StringConstraints, ValidationError

from inferstack.config.base import Cloud, Environment, StrictModel
from inferstack.config.platform import AcceleratorPoolConfig, ClusterConfig, NetworkConfig
from inferstack.config.policy import PolicyConfig, PolicySettings
from inferstack.config.pricing import PricingConfig
from inferstack.config.registry import RegistryConfig, SecretConfig
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
    pricing: PricingConfig = Field(default_factory=PricingConfig, description="Negotiated price overrides.")


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in a stack's config: the key path (``inferstack:models[0].pool``) and what is wrong or allowed."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ConfigError(Exception):
    """A stack config that cannot be used; ``issues`` names every bad key. The CLI exits 2 on it."""

    def __init__(self, source: str, issues: list[ConfigIssue]):
        self.source = source
        self.issues = issues
        lines = [f"invalid stack config {source}:"] + [f"  {i}" for i in issues]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class StackConfig:
    """A validated stack: its name, the ``inferstack:`` settings, the provider region, and the raw config."""

    name: str
    settings: InferstackConfig
    region: str
    project: str | None = None
    #: Every config key of the stack (all namespaces) as written in the stack file (``{secure: ...}`` kept).
    values: Mapping[str, Any] = field(default_factory=dict)
    #: Keys whose values are secret.
    secret_keys: frozenset[str] = frozenset()

    @property
    def cloud(self) -> Cloud:
        return self.settings.cloud

    @property
    def environment(self) -> Environment:
        return self.settings.environment

    @property
    def is_prod(self) -> bool:
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
        for p in self.settings.accelerator_pools:
            if p.name == name:
                return p
        raise KeyError(name)


#: Cross-field checks run after parsing; each yields ConfigIssues. Modules append to it at import time.
SemanticCheck = Callable[[StackConfig], Iterable[ConfigIssue]]
SEMANTIC_CHECKS: list[SemanticCheck] = []


def semantic_check(fn: SemanticCheck) -> SemanticCheck:
    """Register a cross-field check (decorator)."""
    SEMANTIC_CHECKS.append(fn)
    return fn


# ---------------------------------------------------------------- error formatting


def _loc_path(loc: tuple[Any, ...]) -> str:
    out = NAMESPACE
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif i == 0:
            out += f":{part}"
        else:
            out += f".{part}"
    return out


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


def issues_from_validation(err: ValidationError) -> list[ConfigIssue]:
    issues = []
    for e in err.errors(include_url=False):
        loc = tuple(e["loc"])
        if e["type"] == "extra_forbidden":
            allowed = allowed_keys(loc[:-1])
            issues.append(ConfigIssue(_loc_path(loc), f"unknown key; allowed: {', '.join(allowed)}"))
        elif e["type"] == "missing":
            issues.append(ConfigIssue(_loc_path(loc), "required key is missing"))
        else:
            got = e.get("input")
            shown = json.dumps(got) if isinstance(got, (str, int, float, bool)) else type(got).__name__
            issues.append(ConfigIssue(_loc_path(loc), f"{e['msg']} (got {shown})"))
    return issues


# ---------------------------------------------------------------- parsing


def _decode(value: Any) -> Any:
    """Pulumi passes structured config as JSON strings; plain strings stay strings."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def parse_stack_config(
    stack: str, config: Mapping[str, Any], source: str | None = None, secret_keys: Iterable[str] = ()
) -> StackConfig:
    """Validate a stack's config (keys ``namespace:key``, values as Pulumi passes them or already decoded).

    Raises :class:`ConfigError` naming every bad key; declares nothing.
    """
    source = source or f"stack {stack}"
    ns: dict[str, Any] = {}
    for key, value in config.items():
        prefix, _, name = key.partition(":")
        if prefix == NAMESPACE:
            ns[name] = value if name in ("cloud", "environment") else _decode(value)
    try:
        settings = InferstackConfig.model_validate(ns)
    except ValidationError as err:
        raise ConfigError(source, issues_from_validation(err)) from None

    issues: list[ConfigIssue] = []
    allowed = ", ".join(settings.residency.allowed_regions)
    project = None
    if settings.cloud is Cloud.AWS:
        region_key = "aws:region"
    else:
        region_key = "gcp:region"
        project = config.get("gcp:project")
        if not project:
            issues.append(ConfigIssue("gcp:project", "required for cloud gcp: the Google Cloud project id"))
    region = config.get(region_key)
    if not region:
        issues.append(ConfigIssue(region_key, f"required for cloud {settings.cloud.value}; allowed: {allowed}"))
    elif region not in settings.residency.allowed_regions:
        issues.append(ConfigIssue(region_key, f"{region!r} is not in inferstack:residency.allowedRegions; allowed: {allowed}"))
    if issues:
        raise ConfigError(source, issues)

    cfg = StackConfig(
        name=stack,
        settings=settings,
        region=str(region),
        project=str(project) if project else None,
        values=dict(config),
        secret_keys=frozenset(secret_keys),
    )
    _load_checks()
    for check in SEMANTIC_CHECKS:
        issues.extend(check(cfg))
    if issues:
        raise ConfigError(source, issues)
    return cfg


def _load_checks() -> None:
    """Import the modules that register semantic checks (kept lazy to avoid import cycles)."""
    import inferstack.config.checks  # noqa: F401
    import inferstack.cost.planner  # noqa: F401
    import inferstack.registry.checks  # noqa: F401
    import inferstack.serving.checks  # noqa: F401
    import inferstack.serving.runtimes  # noqa: F401


@dataclass(frozen=True)
class StackFile:
    """A ``Pulumi.<stack>.yaml`` file as read from disk: config values and which keys are secure."""

    path: Path
    stack: str
    config: dict[str, Any]
    secret_keys: frozenset[str]


def read_stack_file(path: str | Path) -> StackFile:
    """Read ``Pulumi.<name>.yaml``; the stack name comes from the file name. Raises ConfigError on unreadable YAML."""
    p = Path(path)
    name = p.name
    if not (name.startswith("Pulumi.") and name.endswith((".yaml", ".yml"))) or name.count(".") < 2:
        raise ConfigError(str(p), [ConfigIssue("file", "stack config files are named Pulumi.<stack>.yaml")])
    stack = name[len("Pulumi.") : name.rindex(".")]
    try:
        doc = yaml.safe_load(p.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(str(p), [ConfigIssue("file", "no such file")]) from None
    except yaml.YAMLError as err:
        raise ConfigError(str(p), [ConfigIssue("file", f"not valid YAML: {err}")]) from None
    if not isinstance(doc, dict):
        raise ConfigError(str(p), [ConfigIssue("file", "expected a mapping with a 'config' key")])
    extra = sorted(set(doc) - {"config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"})
    if extra:
        raise ConfigError(str(p), [ConfigIssue(k, "unknown top-level key; allowed: config, secretsprovider, encryptedkey, encryptionsalt, environment") for k in extra])
    config = doc.get("config") or {}
    if not isinstance(config, dict):
        raise ConfigError(str(p), [ConfigIssue("config", "expected a mapping of namespace:key to values")])
    secret_keys = set()
    values: dict[str, Any] = {}
    for key, value in config.items():
        if ":" not in str(key):
            raise ConfigError(str(p), [ConfigIssue(str(key), "config keys are namespaced, e.g. inferstack:cloud or aws:region")])
        if isinstance(value, dict) and set(value) == {"secure"}:
            secret_keys.add(key)
        values[str(key)] = value
    return StackFile(path=p, stack=stack, config=values, secret_keys=frozenset(secret_keys))


def load_stack_file(path: str | Path) -> StackConfig:
    """Read and validate a stack config file."""
    f = read_stack_file(path)
    return parse_stack_config(f.stack, f.config, source=str(f.path), secret_keys=f.secret_keys)
