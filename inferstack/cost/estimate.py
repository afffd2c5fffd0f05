"""Monthly cost estimate of a stack: per accelerator pool, per model and for the platform, beside all-on-demand.

Assumptions (each one a knob in ``inferstack:pricing``):

- A month is 730 hours. Models run at ``minReplicas`` for ``1 - peakHoursFraction`` of it and at ``maxReplicas``
  for ``peakHoursFraction`` (default 0.25); a pool's nodes follow: steady nodes = max(minNodes, onDemandBaseline,
  devices the min replicas need / devices per node), peak nodes = devices the max replicas need / devices per node
  (never below steady, never above maxNodes), average = steady + peakHoursFraction x (peak - steady).
- Purchase options follow the pool's capacity tiers (``inferstack.sizing``, the plan the node pools are built
  from), filled in order (``inferstack.cost.tiers``): a ladder's rungs (reserved, on-demand, flex-start, spot), or
  for a ``capacity`` mode ``onDemandBaseline`` nodes on-demand and the rest spot-first (spot for ``spotShare`` of its
  node-hours, default 0.8: the rest falls back to on-demand), spot-only or on-demand. Steady nodes are never below
  the tiers' ``minNodes``. Spot costs on-demand x (1 - the type's typical discount); reserved nodes bill at
  on-demand (less ``reservedDiscount``) whether used or not; flex-start at on-demand less the catalog's discount
  (``inferstack.catalog.prices``).
- Per model: the pool's cost per device-hour times the model's average device use (average replicas x accelerators);
  what no model uses (baseline headroom, packing) stays on the pool row as ``unallocated_usd``.
- Platform: one control plane; the system pool's ``systemNodesMin`` nodes on-demand; NAT (AWS: per gateway-hour plus
  data processed; GCP Cloud NAT: per VM-hour up to 32 VMs plus data processed); registry storage. Not included:
  data transfer out, load balancers, public IPv4 addresses, logs, KMS, disks, canary replicas beyond maxReplicas.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from inferstack import sizing
from inferstack.catalog import accelerators
from inferstack.catalog.prices import AS_OF as CATALOG_AS_OF
from inferstack.catalog.prices import (
    NodePrice,
    PlatformPrices,
    PriceNotFound,
    TierPrices,
    missing_platform_keys,
    node_price,
    platform_prices,
    tier_prices,
)
from inferstack.config.base import Cloud
from inferstack.config.platform import AcceleratorPoolConfig
from inferstack.config.serving import ModelConfig
from inferstack.config.stack import StackConfig
from inferstack.cost.tiers import FLEX_START, ON_DEMAND, RESERVED, SPOT, TierMix, floor_nodes, tier_mix

HOURS_PER_MONTH = 730
DEFAULT_SYSTEM_NODE_TYPE = {Cloud.AWS: "m6i.large", Cloud.GCP: "e2-standard-4"}
#: vCPU and memory (GiB) of the system node types the catalogue prices (scripts/gen_catalog.py AWS_SYSTEM_TYPES,
#: GCP_SYSTEM_TYPES): M6i large 2 vCPU / 8 GiB, xlarge 4 / 16 (https://aws.amazon.com/ec2/instance-types/m6i/);
#: E2 standard machine types have 4 GB per vCPU (https://cloud.google.com/compute/docs/general-purpose-machines).
#: A CPU-only model's replicas are charged their share of these nodes (:func:`system_share`).
SYSTEM_NODE_SIZES: dict[str, tuple[float, float]] = {"m6i.large": (2, 8), "m6i.xlarge": (4, 16), "e2-standard-4": (4, 16)}

# ---------------------------------------------------------------- pure arithmetic


def nodes_for(devices: int, devices_per_node: int) -> int:
    """Nodes that hold ``devices`` accelerators at ``devices_per_node`` each."""
    return math.ceil(devices / devices_per_node) if devices > 0 else 0


def average(steady: float, peak: float, peak_fraction: float) -> float:
    """Time-weighted average of a quantity at ``steady`` most of the month and ``peak`` for ``peak_fraction`` of it."""
    return steady + peak_fraction * (peak - steady)


def system_share(cpu: str, memory: str, node_type: str) -> float | None:
    """The share of one system node a replica requesting ``cpu`` and ``memory`` takes: the larger of its CPU and memory
    fractions of the node (its dominant resource: what it keeps others from using); None when the size of
    ``node_type`` is not in :data:`SYSTEM_NODE_SIZES`."""
    size = SYSTEM_NODE_SIZES.get(node_type)
    if size is None:
        return None
    return max(sizing.cpu_cores(cpu) / size[0], sizing.memory_gib(memory) / size[1])


def monthly_usd(on_demand_nodes: float, spot_nodes: float, price: NodePrice, hours: float = HOURS_PER_MONTH) -> float:
    """Monthly cost of nodes at a price: on-demand hours at list, spot hours at the discounted rate."""
    return hours * (on_demand_nodes * price.on_demand_hourly_usd + spot_nodes * price.spot_hourly_usd)


def mix_monthly_usd(mix: TierMix, prices: TierPrices, hours: float = HOURS_PER_MONTH) -> float:
    """Monthly cost of a tier mix: its billed nodes at each purchase option's price."""
    return hours * mix.hourly_usd(prices)


def nat_monthly_usd(cloud: Cloud, gateways: int, vms: float, processed_gb: float, p: PlatformPrices, hours: float = HOURS_PER_MONTH) -> float:
    """NAT: AWS per gateway-hour + per GB; GCP Cloud NAT per VM-hour (capped at 32 VMs) + per GB, at prices ``p``."""
    if cloud is Cloud.AWS:
        hourly = gateways * p.nat_hourly_usd
    else:
        hourly = min(vms, p.nat_vm_cap) * p.nat_per_vm_hourly_usd
    return hours * hourly + processed_gb * p.nat_per_gb_usd


# ---------------------------------------------------------------- rows


@dataclass
class PoolRow:
    pool: str
    kind: str
    capacity: str
    node_type: str
    devices_per_node: int
    max_nodes: int
    steady_nodes: int
    peak_nodes: int
    average_nodes: float
    on_demand_nodes: float
    spot_nodes: float
    on_demand_hourly_usd: float
    spot_discount: float
    monthly_usd: float
    all_on_demand_monthly_usd: float
    unallocated_usd: float = 0.0
    price_source: str = ""
    price_basis: str = ""
    reserved_nodes: float = 0.0
    flex_start_nodes: float = 0.0
    #: Reserved nodes billed but not running (a reservation is paid whether used or not).
    reserved_idle_nodes: float = 0.0


@dataclass
class ModelRow:
    model: str
    namespace: str
    pool: str | None
    accelerators: int
    min_replicas: int
    max_replicas: int
    average_replicas: float
    monthly_usd: float
    all_on_demand_monthly_usd: float
    #: CPU-only models: system nodes per replica (:func:`system_share`); their cost is part of the system nodes line.
    system_node_share: float | None = None


@dataclass
class LineRow:
    item: str
    detail: str
    monthly_usd: float
    all_on_demand_monthly_usd: float
    source: str


@dataclass
class CostEstimate:
    stack: str
    cloud: str
    environment: str
    region: str
    pools: list[PoolRow] = field(default_factory=list)
    models: list[ModelRow] = field(default_factory=list)
    platform: list[LineRow] = field(default_factory=list)
    assumptions: dict[str, Any] = field(default_factory=dict)

    @property
    def monthly_usd(self) -> float:
        return sum(p.monthly_usd for p in self.pools) + sum(line.monthly_usd for line in self.platform)

    @property
    def all_on_demand_monthly_usd(self) -> float:
        return sum(p.all_on_demand_monthly_usd for p in self.pools) + sum(line.all_on_demand_monthly_usd for line in self.platform)

    @property
    def spot_savings_usd(self) -> float:
        return self.all_on_demand_monthly_usd - self.monthly_usd

    def to_json(self) -> dict[str, Any]:
        r2 = _round
        return {
            "stack": self.stack,
            "cloud": self.cloud,
            "environment": self.environment,
            "region": self.region,
            "currency": "USD",
            "hours_per_month": HOURS_PER_MONTH,
            "monthly_usd": r2(self.monthly_usd),
            "all_on_demand_monthly_usd": r2(self.all_on_demand_monthly_usd),
            "spot_savings_usd": r2(self.spot_savings_usd),
            "pools": [_rounded(asdict(p)) for p in self.pools],
            "models": [_rounded(asdict(m)) for m in self.models],
            "platform": [_rounded(asdict(line)) for line in self.platform],
            "assumptions": self.assumptions,
        }


def _round(x: float) -> float:
    return round(x + 0.0, 2)


def _rounded(row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in row.items():
        if isinstance(v, float):
            v = round(v, 4) if k in ("on_demand_hourly_usd", "spot_discount") else round(v, 2)
        out[k] = v
    return out


# ---------------------------------------------------------------- the estimate


def price_of(cfg: StackConfig, node_type: str) -> NodePrice:
    """The catalog price of ``node_type`` in the stack's region, with the stack's overrides."""
    pricing = cfg.settings.pricing
    return node_price(cfg.region, node_type, pricing.on_demand_hourly_usd.get(node_type), pricing.spot_discount.get(node_type))


_price = price_of


def platform_prices_of(cfg: StackConfig) -> PlatformPrices:
    """The platform prices of the stack's region, with the stack's ``pricing.platform`` overrides."""
    return platform_prices(cfg.region, cfg.cloud.value, cfg.settings.pricing.platform.model_dump())


def system_node_type(cfg: StackConfig) -> str:
    """The system node group's instance or machine type."""
    return cfg.settings.cluster.system_node_type or DEFAULT_SYSTEM_NODE_TYPE[cfg.cloud]


def missing_prices(cfg: StackConfig, loads: Sequence[PoolLoad]) -> list[str]:
    """Every ``inferstack:pricing`` key the estimate of ``cfg`` needs and neither the catalog nor the stack sets:
    ``onDemandHourlyUsd.<type>`` per unpriced node type (the shapes of the pools' ``loads``, and system nodes), then
    the ``platform.*`` keys of an uncatalogued region. Empty when the stack can be priced."""
    keys: list[str] = []
    types = [load.plan.shape.name for load in loads] + [system_node_type(cfg)]
    for node_type in dict.fromkeys(types):
        try:
            price_of(cfg, node_type)
        except PriceNotFound:
            keys.append(f"inferstack:pricing.onDemandHourlyUsd.{node_type}")
    return keys + missing_platform_keys(cfg.region, cfg.cloud.value, cfg.settings.pricing.platform.model_dump())


def require_prices(cfg: StackConfig, loads: Sequence[PoolLoad]) -> None:
    """:class:`PriceNotFound` naming every missing price key at once (:func:`missing_prices`), else nothing."""
    keys = missing_prices(cfg, loads)
    if keys:
        raise PriceNotFound(
            f"no catalog price for {len(keys)} item(s) in {cfg.region} (catalog as of {CATALOG_AS_OF}); set: {', '.join(keys)}"
        )


def prices_of(cfg: StackConfig, node_type: str) -> TierPrices:
    """Per purchase option prices of ``node_type`` with the stack's overrides (reserved and flex-start discounts)."""
    pricing = cfg.settings.pricing
    return tier_prices(price_of(cfg, node_type), pricing.reserved_discount, pricing.flex_start_discount)


@dataclass(frozen=True)
class PoolLoad:
    """A pool's capacity plan for the models placed on it and its nodes over the month."""

    pool: AcceleratorPoolConfig
    plan: sizing.PoolPlan
    placed: list[ModelConfig]
    steady: int
    peak: int
    average: float

    @property
    def devices_per_node(self) -> int:
        return self.plan.shape.devices

    @property
    def units_per_node(self) -> int:
        """What a node offers the pool's models: devices, times the slices per device on a shared pool."""
        return self.plan.shape.devices * self.pool.slices_per_device()


def pool_load(cfg: StackConfig, pool: AcceleratorPoolConfig) -> PoolLoad:
    """Steady nodes (max of minNodes, onDemandBaseline, the tiers' minNodes and what the min replicas need), peak
    nodes (what the max replicas need), and the time-weighted average, all within maxNodes."""
    pf = cfg.settings.pricing.peak_hours_fraction
    placed = [m for _, m in sizing.models_on(cfg.settings.models, pool.name)]
    plan = sizing.plan_pool(cfg.cloud, pool, [sizing.replica_of(m) for m in placed])
    per_node = plan.shape.devices * pool.slices_per_device()  # a model on a shared pool takes one slice
    min_devices = sum(m.min_replicas * m.accelerators for m in placed)
    max_devices = sum(m.max_replicas * m.accelerators for m in placed)
    floor = max(pool.min_nodes, pool.on_demand_baseline, floor_nodes(plan.tiers))
    steady = min(pool.max_nodes, max(floor, nodes_for(min_devices, per_node)))
    peak = min(pool.max_nodes, max(steady, nodes_for(max_devices, per_node)))
    return PoolLoad(pool, plan, placed, steady, peak, average(steady, peak, pf))


def estimate(cfg: StackConfig) -> CostEstimate:
    """The monthly estimate of a validated stack; raises ``PriceNotFound`` naming every missing price key."""
    if cfg.settings.existing_cluster is not None:
        raise PriceNotFound(
            f"stack {cfg.name} deploys to an existing cluster (inferstack:existingCluster): its nodes and platform are billed elsewhere"
        )
    s = cfg.settings
    loads = [pool_load(cfg, pool) for pool in s.accelerator_pools]
    require_prices(cfg, loads)
    pricing = s.pricing
    pf = pricing.peak_hours_fraction
    est = CostEstimate(
        stack=cfg.name,
        cloud=cfg.cloud.value,
        environment=cfg.environment.value,
        region=cfg.region,
        assumptions={
            "hours_per_month": HOURS_PER_MONTH,
            "peak_hours_fraction": pf,
            "spot_share": pricing.spot_share,
            "nat_processed_gb_per_month": pricing.nat_processed_gb_per_month,
            "registry_storage_gb": pricing.registry_storage_gb,
            "reserved_discount": pricing.reserved_discount,
            "flex_start_discount": pricing.flex_start_discount,
            "overrides": sorted(set(pricing.on_demand_hourly_usd) | set(pricing.spot_discount)),
        },
    )
    total_avg_nodes = 0.0
    for load in loads:
        pool = load.pool
        placed, shape, steady, peak, avg = load.placed, load.plan.shape, load.steady, load.peak, load.average
        per_node = shape.devices
        mix = tier_mix(load.plan, avg, pricing.spot_share)
        price = _price(cfg, shape.name)
        cost = mix_monthly_usd(mix, prices_of(cfg, shape.name))
        all_od = monthly_usd(avg, 0.0, price)
        units = load.units_per_node  # a slice's share on a shared pool
        per_device = (cost / (avg * units), all_od / (avg * units)) if avg else (0.0, 0.0)
        allocated = 0.0
        for m in placed:
            avg_rep = average(m.min_replicas, m.max_replicas, pf)
            row = ModelRow(m.name, m.namespace, pool.name, m.accelerators, m.min_replicas, m.max_replicas, avg_rep,
                           avg_rep * m.accelerators * per_device[0], avg_rep * m.accelerators * per_device[1])
            allocated += row.monthly_usd
            est.models.append(row)
        est.pools.append(
            PoolRow(pool.name, pool.kind, "ladder" if pool.ladder else pool.capacity.value, shape.name, per_node, pool.max_nodes,
                    steady, peak, avg, mix.running[ON_DEMAND], mix.running[SPOT],
                    price.on_demand_hourly_usd, price.spot_discount, cost, all_od, max(0.0, cost - allocated),
                    price.source, price.basis, mix.running[RESERVED], mix.running[FLEX_START],
                    mix.billed[RESERVED] - mix.running[RESERVED])
        )
        total_avg_nodes += avg
        accelerators.lookup(pool.kind, cfg.cloud)  # kinds were validated; keeps the catalog the single vocabulary
    plat = platform_prices_of(cfg)
    system_type = system_node_type(cfg)
    sys_price = _price(cfg, system_type)
    cpu_only_nodes = 0.0
    for m in s.models:
        if m.pool is None:
            # CPU-only models run on the system nodes: each replica is charged its share of one (dominant resource).
            avg_rep = average(m.min_replicas, m.max_replicas, pf)
            share = system_share(m.cpu, m.memory, system_type)
            cost = monthly_usd(avg_rep * share, 0.0, sys_price) if share is not None else 0.0
            cpu_only_nodes += avg_rep * (share or 0.0)
            est.models.append(ModelRow(m.name, m.namespace, None, 0, m.min_replicas, m.max_replicas, avg_rep, cost, cost, share))
    est.assumptions["cpu_only_system_nodes"] = round(cpu_only_nodes, 2)
    est.assumptions["system_node_size_known"] = system_type in SYSTEM_NODE_SIZES
    sys_cost = monthly_usd(s.cluster.system_nodes_min, 0.0, sys_price)
    detail = f"{s.cluster.system_nodes_min} x {system_type} on-demand"
    if cpu_only_nodes:
        detail += f", {cpu_only_nodes:.2f} CPU-only"
    est.platform.append(LineRow("system nodes", detail, sys_cost, sys_cost, sys_price.source))
    cp = HOURS_PER_MONTH * plat.control_plane_hourly_usd
    est.platform.append(LineRow("control plane", "EKS cluster" if cfg.cloud is Cloud.AWS else "GKE cluster (regional)", cp, cp, plat.control_plane_source))
    vms = total_avg_nodes + s.cluster.system_nodes_min
    gateways = s.network.nat_gateways
    nat = nat_monthly_usd(cfg.cloud, gateways, vms, pricing.nat_processed_gb_per_month, plat)
    nat_detail = (
        f"{gateways} NAT gateway(s) + {pricing.nat_processed_gb_per_month:g} GB"
        if cfg.cloud is Cloud.AWS
        else f"Cloud NAT for {vms:.1f} VMs + {pricing.nat_processed_gb_per_month:g} GB"
    )
    est.platform.append(LineRow("NAT", nat_detail, nat, nat, plat.nat_source))
    storage = pricing.registry_storage_gb * plat.storage_gb_month_usd
    est.platform.append(LineRow("registry storage", f"{pricing.registry_storage_gb:g} GB", storage, storage, plat.storage_source))
    return est


def render_text(est: CostEstimate) -> str:
    """The estimate as tables: pools, models, platform, totals and the assumptions."""
    out = [f"Monthly cost estimate of stack {est.stack} ({est.cloud}, {est.environment}, {est.region}), USD, {HOURS_PER_MONTH} h/month", ""]
    out.append(f"{'pool':<12} {'node type':<18} {'capacity':<10} {'nodes steady/peak/avg':>22} {'res/od/flex/spot avg':>21} {'$/h od':>8} {'spot -%':>7} {'monthly':>10} {'all on-demand':>14}")
    for p in est.pools:
        tiers = f"{p.reserved_nodes:.2f}/{p.on_demand_nodes:.2f}/{p.flex_start_nodes:.2f}/{p.spot_nodes:.2f}"
        out.append(
            f"{p.pool:<12} {p.node_type:<18} {p.capacity:<10} {f'{p.steady_nodes}/{p.peak_nodes}/{p.average_nodes:.2f}':>22} "
            f"{tiers:>21} {p.on_demand_hourly_usd:>8.3f} {p.spot_discount * 100:>6.0f}% "
            f"{p.monthly_usd:>10,.2f} {p.all_on_demand_monthly_usd:>14,.2f}"
        )
    out += ["", f"{'model':<24} {'pool':<12} {'replicas min/max/avg':>21} {'monthly':>10} {'all on-demand':>14}"]
    for m in est.models:
        out.append(
            f"{m.namespace + '/' + m.model:<24} {m.pool or '(system)':<12} {f'{m.min_replicas}/{m.max_replicas}/{m.average_replicas:.2f}':>21} "
            f"{m.monthly_usd:>10,.2f} {m.all_on_demand_monthly_usd:>14,.2f}"
        )
    out += ["", f"{'platform':<18} {'detail':<42} {'monthly':>10} {'all on-demand':>14}"]
    for line in est.platform:
        out.append(f"{line.item:<18} {line.detail:<42} {line.monthly_usd:>10,.2f} {line.all_on_demand_monthly_usd:>14,.2f}")
    saved = est.spot_savings_usd
    share = saved / est.all_on_demand_monthly_usd * 100 if est.all_on_demand_monthly_usd else 0.0
    out += [
        "",
        f"{'total':<61} {est.monthly_usd:>10,.2f} {est.all_on_demand_monthly_usd:>14,.2f}",
        f"spot saves {saved:,.2f} USD/month ({share:.0f}% of the all-on-demand equivalent; reserved and flex-start tiers included)",
        "",
        f"assumptions: peak {est.assumptions['peak_hours_fraction']:g} of the month at maxReplicas, spot share "
        f"{est.assumptions['spot_share']:g} of spot-first node-hours, NAT {est.assumptions['nat_processed_gb_per_month']:g} GB, "
        f"registry {est.assumptions['registry_storage_gb']:g} GB; overrides: {', '.join(est.assumptions['overrides']) or 'none'}",
        "prices: public list prices (see inferstack/catalog/prices.py for source, date and basis of each figure)",
    ]
    return "\n".join(out) + "\n"


def monthly_totals(cfg: StackConfig) -> tuple[float, float] | str:
    """(estimate, all-on-demand equivalent) in USD per month, rounded to cents; or, when something has no price, the
    message naming every missing price key."""
    try:
        est = estimate(cfg)
    except PriceNotFound as err:
        return str(err)
    return _round(est.monthly_usd), _round(est.all_on_demand_monthly_usd)
