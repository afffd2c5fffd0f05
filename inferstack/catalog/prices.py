"""The public price catalog: on-demand USD per hour and a typical spot discount per node type and region.

Every figure carries its public source and the date it was taken, and a ``basis``:

- ``list``: the provider's public list price for that region;
- ``derived``: the us-east-1 / us-central1 list price times the regional ratio seen on neighbouring families of the
  same provider (the source says which); used where the regional figure could not be looked up offline.

Figures could not be re-checked against the live price pages from this offline environment: confirm them before
you sign a budget, and put negotiated prices in ``inferstack:pricing`` (they replace the catalog's). To update the
catalog, edit the rows below; ``tests/catalog/test_prices.py`` checks that every shape of every reference stack has
a price and that every figure is sane.
"""

from __future__ import annotations

from dataclasses import dataclass

AS_OF = "2026-11-22"

AWS_EC2 = "https://aws.amazon.com/ec2/pricing/on-demand/"
AWS_SPOT = "https://aws.amazon.com/ec2/spot/instance-advisor/"
GCP_VM = "https://cloud.google.com/compute/vm-instance-pricing"
GCP_GPU = "https://cloud.google.com/compute/gpus-pricing"
GCP_TPU = "https://cloud.google.com/tpu/pricing"
GCP_SPOT = "https://cloud.google.com/spot-vms/pricing"

#: eu-west-1 / us-east-1 on-demand ratio of g4dn.xlarge (0.587 / 0.526) and g5.xlarge (1.123 / 1.006).
AWS_EU_WEST_1_RATIO = 1.116
#: europe-west4 / us-central1 ratio used for derived GCP figures.
GCP_EUROPE_RATIO = 1.10


@dataclass(frozen=True)
class NodePrice:
    """On-demand price of one node type in one region, with a typical spot discount and where both come from."""

    region: str
    node_type: str
    on_demand_hourly_usd: float
    spot_discount: float
    source: str
    as_of: str = AS_OF
    basis: str = "list"
    note: str = ""

    @property
    def spot_hourly_usd(self) -> float:
        return self.on_demand_hourly_usd * (1 - self.spot_discount)


@dataclass(frozen=True)
class PlatformPrices:
    """Per-cloud, per-region prices of what every stack pays besides nodes."""

    region: str
    control_plane_hourly_usd: float
    control_plane_source: str
    nat_hourly_usd: float
    #: GCP Cloud NAT bills per VM-hour (up to 32 VMs) instead of per gateway-hour; 0 on AWS.
    nat_per_vm_hourly_usd: float
    nat_vm_cap: int
    nat_per_gb_usd: float
    nat_source: str
    storage_gb_month_usd: float
    storage_source: str
    as_of: str = AS_OF
    basis: str = "list"


def _aws(node_type: str, usd: float, spot: float, basis: str = "list", note: str = "") -> NodePrice:
    if basis == "derived":
        note = note or f"us-east-1 list price x {AWS_EU_WEST_1_RATIO} (eu-west-1 ratio of g4dn/g5)"
        usd = round(usd * AWS_EU_WEST_1_RATIO, 4)
    return NodePrice("eu-west-1", node_type, usd, spot, f"{AWS_EC2} (Linux, Europe (Ireland)); spot: {AWS_SPOT}", basis=basis, note=note)


def _gcp(region: str, node_type: str, usd: float, spot: float, source: str, basis: str = "derived", note: str = "") -> NodePrice:
    if basis == "derived":
        note = note or f"us-central1 list price x {GCP_EUROPE_RATIO} (europe-west ratio)"
        usd = round(usd * GCP_EUROPE_RATIO, 4)
    return NodePrice(region, node_type, usd, spot, f"{source}; spot: {GCP_SPOT}", basis=basis, note=note)


def _gcp_both(node_type: str, usd: float, spot: float, source: str, regions: tuple[str, ...] = ("europe-west4", "europe-west1"), **kw: str) -> list[NodePrice]:
    return [_gcp(r, node_type, usd, spot, source, **kw) for r in regions]


_TPU_NOTE = "per chip-hour x chips of the host; "

_ROWS: list[NodePrice] = [
    # ---- AWS eu-west-1: system nodes
    _aws("m6i.large", 0.107, 0.55),
    _aws("m6i.xlarge", 0.214, 0.55),
    # ---- NVIDIA T4 (G4dn)
    _aws("g4dn.xlarge", 0.587, 0.65),
    _aws("g4dn.2xlarge", 0.838, 0.65),
    _aws("g4dn.12xlarge", 4.234, 0.65),
    # ---- NVIDIA A10G (G5)
    _aws("g5.xlarge", 1.123, 0.60),
    _aws("g5.2xlarge", 1.353, 0.60),
    _aws("g5.12xlarge", 5.672, 0.60, basis="derived"),
    _aws("g5.48xlarge", 16.288, 0.60, basis="derived"),
    # ---- NVIDIA L4 (G6)
    _aws("g6.xlarge", 0.8048, 0.60, basis="derived"),
    _aws("g6.2xlarge", 0.9776, 0.60, basis="derived"),
    _aws("g6.12xlarge", 4.6016, 0.60, basis="derived"),
    # ---- NVIDIA L40S (G6e)
    _aws("g6e.xlarge", 1.861, 0.55, basis="derived"),
    _aws("g6e.2xlarge", 2.24208, 0.55, basis="derived"),
    _aws("g6e.12xlarge", 10.49264, 0.55, basis="derived"),
    # ---- NVIDIA A100 / H100 (after the June 2025 P4d/P5 price cuts)
    _aws("p4d.24xlarge", 21.96, 0.40, basis="derived"),
    _aws("p5.48xlarge", 55.04, 0.35, basis="derived"),
    # ---- AWS Inferentia2 / Trainium1
    _aws("inf2.xlarge", 0.7582, 0.60, basis="derived"),
    _aws("inf2.8xlarge", 1.9679, 0.60, basis="derived"),
    _aws("inf2.24xlarge", 6.4906, 0.60, basis="derived"),
    _aws("inf2.48xlarge", 12.9813, 0.60, basis="derived"),
    _aws("trn1.2xlarge", 1.34375, 0.60, basis="derived"),
    _aws("trn1.32xlarge", 21.50, 0.60, basis="derived"),
    # ---- GCP: system nodes
    *_gcp_both("e2-standard-4", 0.134012, 0.60, GCP_VM),
    # ---- NVIDIA T4 on N1 (machine + GPU)
    *_gcp_both("n1-standard-8", 0.379998 + 0.35, 0.60, f"{GCP_VM} + {GCP_GPU}", note="n1-standard-8 + 1 T4, us-central1 x 1.10"),
    *_gcp_both("n1-standard-32", 1.519992 + 4 * 0.35, 0.60, f"{GCP_VM} + {GCP_GPU}", note="n1-standard-32 + 4 T4, us-central1 x 1.10"),
    # ---- NVIDIA L4 (G2: the GPU is part of the machine type's price)
    *_gcp_both("g2-standard-8", 0.85406, 0.65, GCP_VM),
    *_gcp_both("g2-standard-24", 2.00136, 0.65, GCP_VM),
    *_gcp_both("g2-standard-48", 4.00272, 0.65, GCP_VM),
    # ---- NVIDIA A100 / H100
    *_gcp_both("a2-highgpu-1g", 3.673385, 0.60, GCP_VM, regions=("europe-west4",)),
    *_gcp_both("a2-highgpu-2g", 7.34677, 0.60, GCP_VM, regions=("europe-west4",)),
    *_gcp_both("a2-highgpu-8g", 29.387080, 0.60, GCP_VM, regions=("europe-west4",)),
    *_gcp_both("a3-highgpu-8g", 88.253, 0.60, GCP_VM),
    # ---- TPUs on GKE (europe-west4 only)
    _gcp("europe-west4", "ct5lp-hightpu-1t", 1.20, 0.60, GCP_TPU, note=_TPU_NOTE + "v5e 1.20 USD/chip-hour (us-west4) x 1.10"),
    _gcp("europe-west4", "ct5lp-hightpu-4t", 4 * 1.20, 0.60, GCP_TPU, note=_TPU_NOTE + "v5e 1.20 USD/chip-hour (us-west4) x 1.10"),
    _gcp("europe-west4", "ct5lp-hightpu-8t", 8 * 1.20, 0.60, GCP_TPU, note=_TPU_NOTE + "v5e 1.20 USD/chip-hour (us-west4) x 1.10"),
    _gcp("europe-west4", "ct5p-hightpu-4t", 4 * 4.20, 0.60, GCP_TPU, note=_TPU_NOTE + "v5p 4.20 USD/chip-hour (us-east5) x 1.10"),
    _gcp("europe-west4", "ct6e-standard-1t", 2.70, 0.60, GCP_TPU, note=_TPU_NOTE + "v6e 2.70 USD/chip-hour (us-east1) x 1.10"),
    _gcp("europe-west4", "ct6e-standard-4t", 4 * 2.70, 0.60, GCP_TPU, note=_TPU_NOTE + "v6e 2.70 USD/chip-hour (us-east1) x 1.10"),
    _gcp("europe-west4", "ct6e-standard-8t", 8 * 2.70, 0.60, GCP_TPU, note=_TPU_NOTE + "v6e 2.70 USD/chip-hour (us-east1) x 1.10"),
]

#: (region, node type) -> price.
NODE_PRICES: dict[tuple[str, str], NodePrice] = {(p.region, p.node_type): p for p in _ROWS}

_EKS = "https://aws.amazon.com/eks/pricing/ (standard support, per cluster-hour)"
_AWS_NAT = "https://aws.amazon.com/vpc/pricing/ (NAT gateway, Europe (Ireland))"
_S3 = "https://aws.amazon.com/s3/pricing/ (S3 Standard, first 50 TB, Europe (Ireland))"
_GKE = "https://cloud.google.com/kubernetes-engine/pricing (cluster management fee; the free tier covers one zonal cluster only)"
_CLOUD_NAT = "https://cloud.google.com/nat/pricing (per VM-hour up to 32 VMs, plus data processed)"
_GCS = "https://cloud.google.com/storage/pricing (Standard storage, regional)"

PLATFORM_PRICES: dict[str, PlatformPrices] = {
    "eu-west-1": PlatformPrices("eu-west-1", 0.10, _EKS, 0.048, 0.0, 0, 0.048, _AWS_NAT, 0.023, _S3),
    "europe-west4": PlatformPrices("europe-west4", 0.10, _GKE, 0.0, 0.0014, 32, 0.045, _CLOUD_NAT, 0.020, _GCS),
    "europe-west1": PlatformPrices("europe-west1", 0.10, _GKE, 0.0, 0.0014, 32, 0.045, _CLOUD_NAT, 0.020, _GCS),
}


class PriceNotFound(KeyError):
    """No catalog price and no override for a node type or region."""

    def __str__(self) -> str:
        return str(self.args[0])


def node_price(region: str, node_type: str, on_demand_override: float | None = None, discount_override: float | None = None) -> NodePrice:
    """The price of ``node_type`` in ``region``; overrides (negotiated prices) replace the catalog's figures.

    With an on-demand override the catalog entry is optional (any region works); without one a missing entry raises
    :class:`PriceNotFound` naming the key to set.
    """
    base = NODE_PRICES.get((region, node_type))
    if base is None and on_demand_override is None:
        known = sorted({r for r, _ in NODE_PRICES})
        raise PriceNotFound(
            f"no catalog price for {node_type} in {region} (catalog regions: {', '.join(known)}); "
            f"set inferstack:pricing.onDemandHourlyUsd.{node_type}"
        )
    if base is None:
        return NodePrice(region, node_type, float(on_demand_override or 0), discount_override if discount_override is not None else 0.0,
                         "inferstack:pricing (override)", basis="override")
    if on_demand_override is None and discount_override is None:
        return base
    return NodePrice(
        region,
        node_type,
        float(on_demand_override) if on_demand_override is not None else base.on_demand_hourly_usd,
        discount_override if discount_override is not None else base.spot_discount,
        "inferstack:pricing (override)" if on_demand_override is not None else base.source,
        basis="override",
        note="negotiated price from the stack config",
    )


def platform_prices(region: str) -> PlatformPrices:
    p = PLATFORM_PRICES.get(region)
    if p is None:
        raise PriceNotFound(f"no platform prices (control plane, NAT, storage) for region {region}; catalog regions: {', '.join(sorted(PLATFORM_PRICES))}")
    return p


def known_node_types() -> set[str]:
    return {t for _, t in NODE_PRICES}
