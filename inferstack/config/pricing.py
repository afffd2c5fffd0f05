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


class PlatformPricing(StrictModel):
    """Prices of what every stack pays besides nodes, replacing the catalog's for the stack's region."""

    control_plane_hourly_usd: HourlyUsd | None = Field(None, description="Cluster management fee, USD per cluster-hour (EKS, GKE).")
    nat_hourly_usd: HourlyUsd | None = Field(None, description="AWS NAT gateway, USD per gateway-hour.")
    nat_per_vm_hourly_usd: HourlyUsd | None = Field(None, description="GCP Cloud NAT, USD per VM-hour (up to 32 VMs).")
    nat_per_gb_usd: Annotated[float, Field(ge=0, le=10)] | None = Field(None, description="NAT data processed, USD per GB.")
    storage_gb_month_usd: Annotated[float, Field(gt=0, le=10)] | None = Field(
        None, description="Object storage of the model registry (S3 / GCS Standard), USD per GB-month."
    )


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
    platform: PlatformPricing = Field(
        default_factory=PlatformPricing, description="Platform prices (control plane, NAT, storage) replacing the catalog's."
    )
    nat_processed_gb_per_month: float = Field(500, ge=0, description="Data processed by NAT per month, in GB.")
    registry_storage_gb: float = Field(200, ge=0, description="Model registry size (all versions), in GB.")
