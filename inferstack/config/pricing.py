"""Price overrides (negotiated prices) and the usage assumptions of the monthly cost estimate.

Prices default to the public catalog in ``inferstack/catalog/prices.py``; a stack may replace them per instance or
machine type. Unknown types and discounts outside 0..1 are config errors.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from inferstack.config.base import StrictModel

HourlyUsd = Annotated[float, Field(gt=0, le=1000)]
Fraction = Annotated[float, Field(ge=0, le=1)]


class PricingConfig(StrictModel):
    """Negotiated prices that replace the public catalog's, and the usage the estimate assumes."""

    on_demand_hourly_usd: dict[str, HourlyUsd] = Field(
        default_factory=dict, description="On-demand USD per hour by instance or machine type (negotiated price)."
    )
    spot_discount: dict[str, Fraction] = Field(
        default_factory=dict, description="Spot discount (0..1 off on-demand) by instance or machine type."
    )
    spot_share: Fraction = Field(
        0.8, description="Share of spot-first node-hours expected to get spot capacity (the rest falls back to on-demand)."
    )
    peak_hours_fraction: Fraction = Field(
        0.25, description="Share of the month models run at maxReplicas; the rest at minReplicas."
    )
    reserved_discount: Fraction = Field(
        0.0, description="Discount (0..1 off on-demand) of reserved tiers: a committed use discount, Savings Plan or Capacity Block rate; default none."
    )
    flex_start_discount: Fraction | None = Field(
        None, description="Flex-start discount (0..1 off on-demand); default the catalog's (53% for A2/A3 and TPUs, the documented maximum; 0 for G2/N1)."
    )
    nat_processed_gb_per_month: float = Field(500, ge=0, description="Data processed by NAT per month, in GB.")
    registry_storage_gb: float = Field(200, ge=0, description="Model registry size (all versions), in GB.")
