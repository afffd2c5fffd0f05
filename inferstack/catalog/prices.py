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

from inferstack.catalog.accelerators import Family

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


# ---------------------------------------------------------------- purchase options beyond on-demand and spot

#: The date the reserved, flex-start and interruption figures below were checked.
TIERS_AS_OF = "2026-12-01"

AWS_ODCR = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/capacity-reservations-pricing-billing.html"
AWS_CAPACITY_BLOCKS = "https://aws.amazon.com/ec2/capacityblocks/pricing/"
GCE_RESERVATIONS = "https://cloud.google.com/compute/docs/instances/reservations-overview"
GKE_FLEX_START = "https://cloud.google.com/kubernetes-engine/docs/concepts/dws"
GCE_FLEX_START_VMS = "https://cloud.google.com/compute/docs/instances/about-flex-start-vms"
GCP_SPOT_VMS = "https://cloud.google.com/compute/docs/instances/spot"

#: Reserved capacity. EC2 On-Demand Capacity Reservations "are charged at the equivalent On-Demand rate whether you
#: run instances in reserved capacity or not" (AWS_ODCR); GCE reservations are "charged at the same on-demand rates as
#: running VMs, including any applicable discounts" (GCE_RESERVATIONS), so a committed use discount lowers them. EC2
#: Capacity Blocks for ML are paid up front per block at a price AWS updates with supply and demand
#: (AWS_CAPACITY_BLOCKS); the catalog cannot know the block you bought, so it prices a block like a reservation: the
#: on-demand rate for every reserved node for the whole month. Either way a reserved tier is billed for all of its
#: nodes, used or not. ``inferstack:pricing.reservedDiscount`` (0..1 off on-demand) carries a CUD, a Savings Plan or a
#: Capacity Block's effective rate.
RESERVED_BASIS = (
    f"reserved nodes bill at the on-demand rate whether used or not ({AWS_ODCR}; {GCE_RESERVATIONS}); Capacity Blocks "
    f"are priced per block at purchase ({AWS_CAPACITY_BLOCKS}) and are counted at the on-demand rate unless "
    "inferstack:pricing.reservedDiscount says otherwise"
)

#: GKE flex-start (Dynamic Workload Scheduler) is "billed at Dynamic Workload Scheduler pricing: discounts (up to 53%)
#: for vCPUs, GPUs and TPUs" (GKE_FLEX_START, checked 2026-12-01). Compute Engine names the machine series whose
#: flex-start vCPUs, memory and GPUs are discounted: A4, A3, A2 and H4D (GCE_FLEX_START_VMS); G2 (L4) and N1 (T4)
#: machines are not in that list and are priced at on-demand. The per-SKU figures could not be read offline: the
#: catalog takes the documented maximum, 53 %, for A2/A3 and TPU slices. It is an upper bound: put the figure of your
#: SKU in ``inferstack:pricing.flexStartDiscount``.
FLEX_START_MAX_DISCOUNT = 0.53
#: Machine-type prefixes whose flex-start price is discounted (A2, A3 GPUs; ct* TPU hosts).
FLEX_START_DISCOUNTED = ("a2-", "a3-", "ct")
#: Flex-start nodes run for at most seven days, then GKE removes them (GKE_FLEX_START): one reload per node-week.
FLEX_START_MAX_RUN_DAYS = 7


def flex_start_discount(node_type: str, override: float | None = None) -> float | None:
    """Flex-start discount off on-demand of a GCE machine type (see ``FLEX_START_MAX_DISCOUNT``); ``override`` wins;
    None for an EC2 instance type (flex-start is a GKE purchase option)."""
    if override is not None:
        return override
    if "-" not in node_type:  # EC2 types are family.size; GCE types have dashes
        return None
    return FLEX_START_MAX_DISCOUNT if node_type.startswith(FLEX_START_DISCOUNTED) else 0.0


@dataclass(frozen=True)
class TierPrices:
    """USD per node-hour of one node type under each purchase option of a capacity ladder."""

    node_type: str
    on_demand: float
    spot: float
    reserved: float
    #: None where flex-start is not offered (EC2).
    flex_start: float | None

    def hourly(self, purchase: str) -> float:
        """USD per node-hour bought as ``purchase`` (reserved, on-demand, flex-start or spot)."""
        if purchase == "flex-start":
            if self.flex_start is None:
                raise PriceNotFound(f"flex-start is a GKE purchase option; {self.node_type} has no flex-start price")
            return self.flex_start
        return {"on-demand": self.on_demand, "spot": self.spot, "reserved": self.reserved}[purchase]


def tier_prices(price: NodePrice, reserved_discount: float = 0.0, flex_override: float | None = None) -> TierPrices:
    """Per purchase option prices of ``price``'s node type: reserved at on-demand less ``reserved_discount``,
    flex-start at on-demand less :func:`flex_start_discount`."""
    flex = flex_start_discount(price.node_type, flex_override)
    od = price.on_demand_hourly_usd
    return TierPrices(price.node_type, od, price.spot_hourly_usd, od * (1 - reserved_discount),
                      None if flex is None else od * (1 - flex))


#: Expected spot interruptions per node per day, by accelerator family, when a pool does not set
#: ``spotInterruptionsPerNodeDay``. Neither cloud publishes a rate: AWS's Spot Instance Advisor gives the share of
#: instances interrupted over the trailing month in bands (<5 %, 5-10 %, 10-15 %, 15-20 %, >20 %), and GCP Spot VMs
#: "might be preempted at any time" with 30 s notice (GCP_SPOT_VMS). These are planning assumptions, chosen above the
#: Advisor's top band (>20 %/month, about 0.007 per node-day) because accelerator types are the contended end of both
#: spot markets: NVIDIA GPUs 0.05 (1.5 per node-month), Neuron 0.02 (0.6 per node-month: inf2/trn1 spot is less
#: contended), TPU 0.1 (3 per node-month: small spot pools, and a multi-host slice fails with any one host). Measure
#: yours (Karpenter's interruption events, GKE's preemption logs) and set the pool's value.
SPOT_INTERRUPTIONS_PER_NODE_DAY: dict[Family, float] = {Family.NVIDIA: 0.05, Family.NEURON: 0.02, Family.TPU: 0.1}
SPOT_INTERRUPTIONS_BASIS = (
    "planning assumption per accelerator family (no published rate; above the AWS Spot Instance Advisor's top band, "
    f"{AWS_SPOT}); override with the pool's spotInterruptionsPerNodeDay"
)


def spot_interruptions_per_node_day(family: Family, override: float | None = None) -> float:
    """The pool's ``spotInterruptionsPerNodeDay`` when set, else the family's default."""
    return override if override is not None else SPOT_INTERRUPTIONS_PER_NODE_DAY[family]


#: ``PlatformPrices`` fields each cloud's estimate reads, by the config key that overrides each
#: (``inferstack:pricing.platform.<key>``).
PLATFORM_KEYS: dict[str, dict[str, str]] = {
    "aws": {"controlPlaneHourlyUsd": "control_plane_hourly_usd", "natHourlyUsd": "nat_hourly_usd",
            "natPerGbUsd": "nat_per_gb_usd", "storageGbMonthUsd": "storage_gb_month_usd"},
    "gcp": {"controlPlaneHourlyUsd": "control_plane_hourly_usd", "natPerVmHourlyUsd": "nat_per_vm_hourly_usd",
            "natPerGbUsd": "nat_per_gb_usd", "storageGbMonthUsd": "storage_gb_month_usd"},
}
#: GCP Cloud NAT bills at most this many VMs per gateway (https://cloud.google.com/nat/pricing).
CLOUD_NAT_VM_CAP = 32


def missing_platform_keys(region: str, cloud: str, overrides: dict[str, float | None] | None = None) -> list[str]:
    """The ``inferstack:pricing.platform.*`` keys ``cloud``'s estimate needs in ``region`` that neither the catalog nor
    ``overrides`` (``PlatformPricing`` field -> USD) sets: none for a catalogued region."""
    if region in PLATFORM_PRICES:
        return []
    given = {k for k, v in (overrides or {}).items() if v is not None}
    return [f"inferstack:pricing.platform.{key}" for key, name in PLATFORM_KEYS[cloud].items() if name not in given]


def platform_prices(region: str, cloud: str = "aws", overrides: dict[str, float | None] | None = None) -> PlatformPrices:
    """The platform prices of ``region``; ``overrides`` (``PlatformPricing`` field -> USD) replace the catalog's.

    Without a catalog entry every field ``cloud``'s estimate reads must be overridden; else :class:`PriceNotFound`
    names every missing key (:func:`missing_platform_keys`).
    """
    missing = missing_platform_keys(region, cloud, overrides)
    if missing:
        raise PriceNotFound(f"no platform prices (control plane, NAT, storage) for region {region}; set {', '.join(missing)}")
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    base = PLATFORM_PRICES.get(region)
    if base is None:
        src = "inferstack:pricing.platform (override)"
        return PlatformPrices(
            region, given["control_plane_hourly_usd"], src, given.get("nat_hourly_usd", 0.0),
            given.get("nat_per_vm_hourly_usd", 0.0), CLOUD_NAT_VM_CAP if cloud == "gcp" else 0, given["nat_per_gb_usd"], src,
            given["storage_gb_month_usd"], src, basis="override",
        )
    return PlatformPrices(**{**base.__dict__, **given, "basis": "override"}) if given else base


def known_node_types() -> set[str]:
    return {t for _, t in NODE_PRICES}
