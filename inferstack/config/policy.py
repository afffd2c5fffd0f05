"""Policy settings of a stack: what the policy pack reads besides cloud, environment and residency."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from inferstack.config.base import Environment, StrictModel

EnforcementLevel = Literal["advisory", "mandatory", "remediate", "disabled"]


class PolicyConfig(StrictModel):
    """Policy pack settings for this stack."""

    platform_admin_group: str = Field("inferstack:platform-admins", description="The only group cluster-admin may be bound to.")
    allow_public_inference: bool = Field(False, description="Allow InferenceServices that are not cluster-local.")
    allow_public_load_balancers: bool = Field(False, description="Allow LoadBalancer Services without the internal annotation.")
    enforcement: dict[str, EnforcementLevel] = Field(
        default_factory=dict, description="Per-policy enforcement level overrides, by policy name."
    )


class PolicySettings(StrictModel):
    """What the policy pack reads of a stack: environment, residency and the ``inferstack:policy`` settings.

    Built by :meth:`inferstack.config.StackConfig.policy_settings` for a stack, or, in ``policy check --program``
    mode, from the policy keys alone of a program's stack file (:func:`inferstack.config.stack.parse_policy_settings`,
    which validates them with the full stack's models); ``policies.pack.pack_config`` takes it, and each policy's
    entry turns it into that policy's settings.
    """

    environment: Environment = Field(description="Environment class: dev, staging or prod.")
    allowed_regions: tuple[str, ...] = Field(min_length=1, description="Regions every resource must be in.")
    policy: PolicyConfig = Field(default_factory=PolicyConfig, description="Policy pack settings of the stack.")
