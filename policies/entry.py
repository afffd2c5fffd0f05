"""How a rule module registers a policy with the pack: :class:`PolicyEntry`.

Each module under ``policies/rules/`` exports ``ENTRIES``: every policy it defines with its enforcement level per
environment, the settings it reads from the pack config (a function of the stack's
:class:`~inferstack.config.policy.PolicySettings`) and, for a resource policy, the resource types it validates.
``policies/pack.py`` gathers them; nothing about a policy is kept anywhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

from inferstack.config.base import Environment
from inferstack.config.policy import EnforcementLevel, PolicySettings

#: Mandatory in every environment.
MANDATORY: Mapping[Environment, EnforcementLevel] = MappingProxyType({env: "mandatory" for env in Environment})
#: Advisory in dev, mandatory in staging and prod.
ADVISORY_IN_DEV: Mapping[Environment, EnforcementLevel] = MappingProxyType(
    {Environment.DEV: "advisory", Environment.STAGING: "mandatory", Environment.PROD: "mandatory"}
)


def no_settings(settings: PolicySettings) -> dict[str, Any]:
    """The settings of a policy that reads no config."""
    return {}


def environment_setting(settings: PolicySettings) -> dict[str, Any]:
    """``environment``: for the policies that apply in prod only."""
    return {"environment": settings.environment.value}


@dataclass(frozen=True)
class PolicyEntry:
    """One policy of the pack: the policy object, its level per environment, its settings, the types it validates.

    ``types`` (resource policies only) lists the type tokens whose resources the policy's ``validate`` looks at; a
    token ending in ``:`` or ``/`` is a prefix (``kubernetes:`` is every Kubernetes type). The offline evaluator
    calls the policy for those resources only; ``None`` means every resource. Pulumi itself calls every resource
    policy for every resource, so each rule still returns early on other types.
    """

    policy: ResourceValidationPolicy | StackValidationPolicy
    levels: Mapping[Environment, EnforcementLevel]
    settings: Callable[[PolicySettings], dict[str, Any]] = no_settings
    types: tuple[str, ...] | None = None
    _exact: frozenset[str] = field(default=frozenset(), init=False, repr=False, compare=False)
    _prefixes: tuple[str, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        missing = [env.value for env in Environment if env not in self.levels]
        if missing:
            raise ValueError(f"policy {self.name}: no enforcement level for {', '.join(missing)}")
        if self.types is not None:
            if not isinstance(self.policy, ResourceValidationPolicy):
                raise ValueError(f"policy {self.name}: types apply to resource policies only")
            object.__setattr__(self, "_exact", frozenset(t for t in self.types if not t.endswith((":", "/"))))
            object.__setattr__(self, "_prefixes", tuple(t for t in self.types if t.endswith((":", "/"))))

    @property
    def name(self) -> str:
        return self.policy.name

    def level(self, environment: Environment | str) -> EnforcementLevel:
        """The default enforcement level in an environment (before a stack's overrides)."""
        return self.levels[Environment(environment)]

    def applies_to(self, type_token: str) -> bool:
        """Whether the policy validates resources of ``type_token`` (stack policies: every type)."""
        return self.types is None or type_token in self._exact or type_token.startswith(self._prefixes)
