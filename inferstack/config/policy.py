"""Policy settings of a stack: what the policy pack reads besides cloud, environment and residency."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from inferstack.config.base import StrictModel

EnforcementLevel = Literal["advisory", "mandatory", "remediate", "disabled"]


class PolicyConfig(StrictModel):
    """Policy pack settings for this stack."""

    platform_admin_group: str = Field("inferstack:platform-admins", description="The only group cluster-admin may be bound to.")
    allow_public_inference: bool = Field(False, description="Allow InferenceServices that are not cluster-local.")
    allow_public_load_balancers: bool = Field(False, description="Allow LoadBalancer Services without the internal annotation.")
    enforcement: dict[str, EnforcementLevel] = Field(
        default_factory=dict, description="Per-policy enforcement level overrides, by policy name."
    )
