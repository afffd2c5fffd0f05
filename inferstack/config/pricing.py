"""Price overrides (negotiated prices) for cost estimates."""

from __future__ import annotations

from pydantic import Field

from inferstack.config.base import StrictModel


class PricingConfig(StrictModel):
    """Negotiated prices that replace the public catalog's."""

    on_demand_hourly_usd: dict[str, float] = Field(
        default_factory=dict, description="On-demand USD per hour by instance or machine type."
    )
    spot_discount: dict[str, float] = Field(default_factory=dict, description="Spot discount (0..1) by instance or machine type.")
