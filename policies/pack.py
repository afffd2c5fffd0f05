"""Every policy of the pack, its default level per environment, and the pack config generated from a stack.

The pack config (``policies/config/<stack>.json``) is the single place a stack's policy settings reach the pack:
``pack_config(stack_config)`` builds it from ``inferstack:environment``, ``inferstack:residency`` and
``inferstack:policy``; ``inferstack policy config --stack S --write`` writes it; a test fails on drift.
"""

from __future__ import annotations

from typing import Any

from inferstack.policies.rules import accelerators, encryption, exposure, iam, protection, rbac, residency

PACK_NAME = "inferstack"

#: All policies, in report order.
POLICIES = [
    *encryption.POLICIES,
    *iam.POLICIES,
    *rbac.POLICIES,
    *residency.POLICIES,
    *exposure.POLICIES,
    *protection.POLICIES,
    *accelerators.POLICIES,
]
POLICY_NAMES = [p.name for p in POLICIES]

#: Policies that are advisory in dev (mandatory in staging and prod); every other policy is mandatory everywhere.
DEV_ADVISORY = frozenset(
    {
        "prod-stateful-protected",
        "prod-accelerators-not-spot-only",
        "no-public-load-balancers",
        "inference-cluster-local",
        "accelerator-pools-tainted",
    }
)

#: Extra settings each policy reads from its config, by policy name.
def _settings(cfg: Any) -> dict[str, dict[str, Any]]:
    s = cfg.settings
    env = cfg.environment.value
    return {
        "rbac-bindings": {"platformAdminGroup": s.policy.platform_admin_group},
        "region-residency": {"allowedRegions": list(s.residency.allowed_regions)},
        "no-public-load-balancers": {"allowPublicLoadBalancers": s.policy.allow_public_load_balancers},
        "inference-cluster-local": {"allowPublicInference": s.policy.allow_public_inference},
        "prod-stateful-protected": {"environment": env},
        "prod-accelerators-not-spot-only": {"environment": env},
    }


def default_level(policy: str, environment: str) -> str:
    """The enforcement level of ``policy`` in an environment before per-stack overrides."""
    return "advisory" if environment == "dev" and policy in DEV_ADVISORY else "mandatory"


def pack_config(cfg: Any) -> dict[str, dict[str, Any]]:
    """The ``--policy-pack-config`` document of a stack: every policy with its level and settings."""
    env = cfg.environment.value
    overrides = cfg.settings.policy.enforcement
    unknown = sorted(set(overrides) - set(POLICY_NAMES))
    if unknown:
        raise ValueError(f"inferstack:policy.enforcement: unknown policies {unknown}; allowed: {', '.join(POLICY_NAMES)}")
    settings = _settings(cfg)
    return {
        name: {"enforcementLevel": overrides.get(name, default_level(name, env)), **settings.get(name, {})}
        for name in POLICY_NAMES
    }
