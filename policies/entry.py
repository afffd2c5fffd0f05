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

from pulumi_policy import PolicyComplianceFramework, ResourceValidationPolicy, Severity, StackValidationPolicy

from inferstack.config.base import Environment
from inferstack.config.policy import EnforcementLevel, PolicySettings

#: Mandatory in every environment.
MANDATORY: Mapping[Environment, EnforcementLevel] = MappingProxyType({env: "mandatory" for env in Environment})
#: Advisory in dev, mandatory in staging and prod.
ADVISORY_IN_DEV: Mapping[Environment, EnforcementLevel] = MappingProxyType(
    {Environment.DEV: "advisory", Environment.STAGING: "mandatory", Environment.PROD: "mandatory"}
)


#: The clouds a policy can name in ``clouds``.
CLOUDS = frozenset({"aws", "gcp", "kubernetes"})
#: Type-token package -> cloud, to infer ``clouds`` from ``types`` when an entry does not name them.
_PACKAGE_CLOUD = {"aws": "aws", "gcp": "gcp", "kubernetes": "kubernetes"}


def framework_of(control: str) -> PolicyComplianceFramework:
    """The pulumi-policy compliance framework of a control id.

    ``"CIS EKS 5.4.2"`` -> name ``CIS EKS``, reference ``5.4.2``; ``"PSS baseline: hostPath"`` -> name
    ``PSS baseline``, reference ``hostPath``; ``"FSBP S3.2"`` -> ``FSBP``, ``S3.2``.
    """
    if ":" in control:
        name, ref = control.split(":", 1)
    else:
        name, _, ref = control.rpartition(" ")
    return PolicyComplianceFramework(name=name.strip() or control, reference=ref.strip() or None)


def no_settings(settings: PolicySettings) -> dict[str, Any]:
    """The settings of a policy that reads no config."""
    return {}


def environment_setting(settings: PolicySettings) -> dict[str, Any]:
    """``environment``: for the policies that apply in prod only."""
    return {"environment": settings.environment.value}


@dataclass(frozen=True)
class PolicyEntry:
    """One policy of the pack: the policy object, its level per environment, its settings, the types it validates,
    and its benchmark metadata.

    ``types`` (resource policies only) lists the type tokens whose resources the policy's ``validate`` looks at; a
    token ending in ``:`` or ``/`` is a prefix (``kubernetes:`` is every Kubernetes type). The offline evaluator
    calls the policy for those resources only; ``None`` means every resource. Pulumi itself calls every resource
    policy for every resource, so each rule still returns early on other types.

    ``not_evaluated`` marks a policy whose findings are "not evaluated" findings (see the field).

    Benchmark metadata: ``controls`` names the benchmark controls the policy enforces (``"CIS EKS 5.4.2"``,
    ``"PSS baseline: hostPath"``, ``"FSBP S3.2"``, ``"CIS GKE 5.2.1"``); ``clouds`` is a subset of
    {aws, gcp, kubernetes} (inferred from ``types`` when not given; a stack policy must name them). pulumi-policy's own
    metadata is set on the policy object when the rule did not set it: ``severity`` (``severity`` here, default high
    for a policy mandatory in every environment, else medium), ``framework`` (from the first control), ``tags``
    (clouds and controls) and ``url``. The catalogue (``inferstack policy list``) reads it from there.
    """

    policy: ResourceValidationPolicy | StackValidationPolicy
    levels: Mapping[Environment, EnforcementLevel]
    settings: Callable[[PolicySettings], dict[str, Any]] = no_settings
    types: tuple[str, ...] | None = None
    controls: tuple[str, ...] = ()
    clouds: frozenset[str] = frozenset()
    severity: str | None = None
    url: str | None = None
    #: The policy's findings say a resource was *not evaluated* (the pack cannot see inside it), as an unknown value
    #: at preview time does: ``policy check --strict`` makes them mandatory whatever the level.
    not_evaluated: bool = False
    #: Families of SDK types (``policies/families``) whose every member the policy judges: their members are added
    #: to ``types`` (the generated ``data_<cloud>.py`` lists them), so an SDK upgrade's new member reaches the rule.
    families: tuple[str, ...] = ()
    _exact: frozenset[str] = field(default=frozenset(), init=False, repr=False, compare=False)
    _prefixes: tuple[str, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        missing = [env.value for env in Environment if env not in self.levels]
        if missing:
            raise ValueError(f"policy {self.name}: no enforcement level for {', '.join(missing)}")
        object.__setattr__(self, "families", tuple(self.families))
        members = self._family_members()
        if self.types is not None or self.families:
            if not isinstance(self.policy, ResourceValidationPolicy):
                raise ValueError(f"policy {self.name}: types and families apply to resource policies only")
            object.__setattr__(self, "types", tuple(self.types or ()))
            object.__setattr__(self, "_exact", frozenset(t for t in self.types if not t.endswith((":", "/"))) | members)
            object.__setattr__(self, "_prefixes", tuple(t for t in self.types if t.endswith((":", "/"))))
            self._guard_types()
        object.__setattr__(self, "controls", tuple(self.controls))
        clouds = frozenset(self.clouds) or frozenset(
            _PACKAGE_CLOUD[t.split(":", 1)[0]] for t in (*(self.types or ()), *members)
            if t.split(":", 1)[0] in _PACKAGE_CLOUD)
        if not clouds:
            raise ValueError(f"policy {self.name}: name its clouds (a subset of {sorted(CLOUDS)})")
        if clouds - CLOUDS:
            raise ValueError(f"policy {self.name}: unknown clouds {sorted(clouds - CLOUDS)}; allowed: {sorted(CLOUDS)}")
        object.__setattr__(self, "clouds", clouds)
        self._set_policy_metadata()

    def _family_members(self) -> frozenset[str]:
        """The type tokens of the entry's families (ValueError naming an unknown family)."""
        if not self.families:
            return frozenset()
        from inferstack.policies import families

        try:
            return frozenset(t for f in self.families for t in families.members(f))
        except ValueError as e:
            raise ValueError(f"policy {self.name}: {e}") from None

    def _guard_types(self) -> None:
        """Pulumi calls every resource policy for every resource: the policy's validate returns at once on a type
        outside ``types``, so a rule never reads another type's props (whatever the evaluator)."""
        attr = "_ResourceValidationPolicy__validate"
        inner = getattr(self.policy, attr, None)
        if not callable(inner) or getattr(inner, "_inferstack_guarded", False):
            return

        def guarded(args, report, _inner=inner, _applies=self.applies_to):
            if _applies(args.resource_type):
                return _inner(args, report)
            return None

        guarded._inferstack_guarded = True  # type: ignore[attr-defined]
        setattr(self.policy, attr, guarded)

    def _set_policy_metadata(self) -> None:
        """pulumi-policy's own metadata on the policy object (kept when the rule set it)."""
        p = self.policy
        if p.severity is None:
            default = "high" if all(v == "mandatory" for v in self.levels.values()) else "medium"
            p.severity = Severity(self.severity or default)
        elif self.severity is not None and p.severity != Severity(self.severity):
            raise ValueError(f"policy {self.name}: severity {self.severity} differs from the policy's {p.severity.value}")
        if p.framework is None and self.controls:
            p.framework = framework_of(self.controls[0])
        if p.tags is None:
            p.tags = [*sorted(self.clouds), *self.controls]
        if p.url is None and self.url is not None:
            p.url = self.url

    @property
    def name(self) -> str:
        return self.policy.name

    @property
    def description(self) -> str:
        return self.policy.description

    @property
    def remediation(self) -> str:
        return self.policy.remediation_steps or ""

    @property
    def severity_name(self) -> str:
        """The policy's pulumi-policy severity (low, medium, high, critical)."""
        return self.policy.severity.value if self.policy.severity is not None else "medium"

    def catalogue_row(self) -> dict[str, Any]:
        """The entry as ``inferstack policy list`` prints it."""
        return {
            "id": self.name,
            "description": self.description,
            "kind": "resource" if isinstance(self.policy, ResourceValidationPolicy) else "stack",
            "clouds": sorted(self.clouds),
            "controls": list(self.controls),
            "families": list(self.families),
            "severity": self.severity_name,
            "levels": {env.value: self.levels[env] for env in Environment},
            "remediation": self.remediation,
            "url": self.policy.url,
        }

    def level(self, environment: Environment | str) -> EnforcementLevel:
        """The default enforcement level in an environment (before a stack's overrides)."""
        return self.levels[Environment(environment)]

    def applies_to(self, type_token: str) -> bool:
        """Whether the policy validates resources of ``type_token`` (stack policies: every type)."""
        return self.types is None or type_token in self._exact or type_token.startswith(self._prefixes)
