"""The public price catalog: on-demand USD per hour and a typical spot discount per node type and region.

The figures are generated (``prices_data.py``, by ``scripts/gen_catalog.py`` from the dated snapshots in
``scripts/catalog_sources``); every figure carries its source and date, and a ``basis``:

- ``list``: the provider's public list price for that region (from the price-list snapshots);
- ``derived``: platform prices of a region whose own figure was not found offline (the note says from what).

A type or region without a figure has none (``prices_data.AWS_PRICE_GAPS`` / ``GCP_PRICE_GAPS``): the estimate then
names every ``inferstack:pricing`` key to set, at once. Confirm figures before you sign a budget, and put negotiated
prices in ``inferstack:pricing`` (they replace the catalog's). ``tests/catalog/test_prices.py`` checks that every shape
of every reference stack has a price and that every figure is sane.
"""

from __future__ import annotations

from dataclasses import dataclass

from inferstack.catalog import prices_data, zones_data
from inferstack.catalog.accelerators import Family

AS_OF = prices_data.AS_OF

AWS_SPOT = "https://aws.amazon.com/ec2/spot/instance-advisor/"
GCP_SPOT = "https://cloud.google.com/spot-vms/pricing"

#: Typical EC2 spot discount (0..1 off on-demand) per instance family, a planning figure: the price sources carry
#: on-demand prices only, and spot prices move hourly per zone (AWS Spot Instance Advisor ranges, AWS_SPOT).
#: Override per type with ``inferstack:pricing.spotDiscount``.
AWS_SPOT_DISCOUNT: dict[str, float] = {
    "m6i": 0.55, "g4dn": 0.65, "g5": 0.60, "g6": 0.60, "g6e": 0.55, "p4d": 0.40, "p5": 0.35, "inf2": 0.60, "trn1": 0.60,
}
#: GCP spot discount where the snapshot has no spot figure for a type in a region (Spot VMs are 60-91% off, GCP_SPOT).
GCP_DEFAULT_SPOT_DISCOUNT = 0.60


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


def _aws_rows() -> list[NodePrice]:
    rows = []
    for region, types in prices_data.AWS_ON_DEMAND.items():
        for node_type, usd in types.items():
            source = prices_data.PRICE_SOURCES[prices_data.AWS_PRICE_SOURCE[region][node_type]]
            spot = AWS_SPOT_DISCOUNT.get(node_type.split(".", 1)[0], 0.5)
            rows.append(NodePrice(region, node_type, usd, spot, f"{source}; spot: typical discount ({AWS_SPOT})", as_of=AS_OF))
    return rows


def _gcp_rows() -> list[NodePrice]:
    rows = []
    source = f"{prices_data.PRICE_SOURCES['gcp-vm']}; accelerators: {prices_data.PRICE_SOURCES['gcp-accelerators']}"
    for region, types in prices_data.GCP_ON_DEMAND.items():
        for node_type, usd in types.items():
            spot_usd = prices_data.GCP_SPOT.get(region, {}).get(node_type)
            discount = round(1 - spot_usd / usd, 4) if spot_usd is not None else GCP_DEFAULT_SPOT_DISCOUNT
            note = "" if spot_usd is not None else f"no spot figure in the snapshot: typical discount {GCP_DEFAULT_SPOT_DISCOUNT}"
            rows.append(NodePrice(region, node_type, usd, discount, source, as_of=AS_OF, note=note))
    return rows


#: (region, node type) -> price: every region where the generated snapshot (``prices_data.py``) prices the type.
NODE_PRICES: dict[tuple[str, str], NodePrice] = {(p.region, p.node_type): p for p in _aws_rows() + _gcp_rows()}


def _platform(region: str, row: dict[str, float | str]) -> PlatformPrices:
    source = prices_data.PRICE_SOURCES["aws-platform" if region in zones_data.AWS_REGIONS else "gcp-platform"]
    note = str(row.get("note", ""))
    return PlatformPrices(
        region, float(row["control_plane_hourly_usd"]), source, float(row["nat_hourly_usd"]), float(row["nat_per_vm_hourly_usd"]),
        int(row["nat_vm_cap"]), float(row["nat_per_gb_usd"]), f"{source}; {note}" if note else source,
        float(row["storage_gb_month_usd"]), source, as_of=AS_OF, basis=str(row["basis"]),
    )


#: Region -> platform prices, for every catalogued region of both clouds (``prices_data.PLATFORM``).
PLATFORM_PRICES: dict[str, PlatformPrices] = {region: _platform(region, row) for region, row in prices_data.PLATFORM.items()}


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
        priced = sorted(r for r, t in NODE_PRICES if t == node_type)
        where = f"priced in {len(priced)} other region(s)" if priced else "priced in no region of the catalog"
        raise PriceNotFound(
            f"no catalog price for {node_type} in {region} ({where}); set inferstack:pricing.onDemandHourlyUsd.{node_type}"
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
