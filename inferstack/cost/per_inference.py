"""Cost per inference: each model's monthly share per tier mix, USD per 1M requests / tokens from its measured
throughput, capacity lost to reloads after interruptions, and the accelerator kinds that could serve it, ranked.

Assumptions (``docs/cost.md``):

- **Throughput**: a model's ``throughput`` entries give what one replica sustains *at its SLO latency* on a kind.
  USD per 1M is priced at **full measured throughput**: a replica-hour's cost (the pool's cost per device-hour under
  the mix x devices of the measured replica) over the requests (tokens) it serves in an hour. It is the price of
  busy capacity, the figure that compares kinds; idle replicas (the capacity plan's off-peak hours) make the
  real bill's cost per request higher by the inverse of the utilisation.
- **Per-model share**: as in the monthly estimate, the pool's cost per device-hour x the model's average devices.
- **Tier mixes** (``inferstack.cost.tiers``): all-on-demand, the pool's ladder, spot-heavy.
- **Interruptions**: a replica on a spot node is reloaded at the pool's ``spotInterruptionsPerNodeDay`` (default
  per accelerator family, ``inferstack.catalog.prices``) per node it spans; a replica on flex-start once per
  node-week (flex-start nodes live at most 7 days). Each reload loses ``modelLoadSeconds`` of the replica; its cost
  is those replica-hours at the mix's price. Node provisioning time is not counted.
- **Compare kinds**: every kind of the catalogue offered on the stack's cloud (GCP: in its region) with a price in
  the region; a kind is ranked when the model fits it (LLMs: ``inferstack.checks.llm.memory_need`` of the measured
  replica; all models: CPU and memory within a node's allocatable, ``inferstack.sizing``) and has a measurement
  (measured at SLO latency, so the SLO is met); the rest are listed with the reason. Ranked by USD per 1M tokens
  (LLMs with token measurements) or requests, priced with the model's current tier mix on the kind's cheapest
  fitting node shape (replicas packed per node).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from inferstack import sizing
from inferstack.catalog import accelerators, gpu_sharing
from inferstack.catalog.accelerators import Accelerator, Family, Shape
from inferstack.catalog.prices import (
    FLEX_START_MAX_RUN_DAYS,
    PriceNotFound,
    TierPrices,
    spot_interruptions_per_node_day,
)
from inferstack.checks.llm import memory_need
from inferstack.config.base import Cloud
from inferstack.config.serving import ModelConfig, ThroughputConfig
from inferstack.config.stack import StackConfig
from inferstack.cost.estimate import HOURS_PER_MONTH, PoolLoad, average, mix_monthly_usd, pool_load, prices_of
from inferstack.cost.tiers import (
    ALL_ON_DEMAND,
    FLEX_START,
    LADDER,
    MIXES,
    ON_DEMAND,
    PURCHASES,
    SPOT,
    TierMix,
    tier_mix,
)

DAYS_PER_MONTH = HOURS_PER_MONTH / 24
MILLION = 1_000_000

# ---------------------------------------------------------------- pure arithmetic


def usd_per_million(usd_per_replica_hour: float, per_second: float) -> float:
    """USD per 1M requests (tokens) when a replica-hour costs ``usd_per_replica_hour`` and serves ``per_second``."""
    if per_second <= 0:
        raise ValueError("throughput must be positive")
    return usd_per_replica_hour / (per_second * 3600) * MILLION


def reloads_per_month(replicas: float, per_node_day: float, nodes_per_replica: int = 1) -> float:
    """Expected reloads of ``replicas`` (average) on capacity interrupted ``per_node_day`` times per node and day; a
    replica spanning several nodes is lost when any of them is."""
    return replicas * per_node_day * nodes_per_replica * DAYS_PER_MONTH


def replica_hours_lost(reloads: float, load_seconds: float) -> float:
    """Replica-hours lost while reloaded replicas load the model again."""
    return reloads * load_seconds / 3600


def mix_hourly_usd(shares: dict[str, float], prices: TierPrices) -> float:
    """USD per node-hour of a node bought in ``shares`` (purchase -> share of node-hours); flex-start shares fall
    back to on-demand where there is no flex-start price (EC2)."""
    total = 0.0
    for purchase, share in shares.items():
        if not share:
            continue
        if purchase == FLEX_START and prices.flex_start is None:
            purchase = ON_DEMAND
        total += share * prices.hourly(purchase)
    return total


# ---------------------------------------------------------------- rows


@dataclass
class Interruptions:
    """Capacity lost to reloads of one model under one tier mix, per month."""

    spot_per_node_day: float
    reloads: float
    replica_hours_lost: float
    capacity_lost_share: float
    cost_usd: float


@dataclass
class MixCost:
    """One model under one tier mix."""

    mix: str
    tier_mix: dict[str, float]
    monthly_usd: float
    usd_per_device_hour: float
    usd_per_million: dict[str, float]
    savings_vs_on_demand_usd: float
    interruptions: Interruptions


@dataclass
class ModelCost:
    model: str
    namespace: str
    pool: str
    kind: str
    node_type: str
    accelerators: int
    average_replicas: float
    model_load_seconds: int
    throughput: dict[str, float] | None
    mixes: list[MixCost] = field(default_factory=list)
    note: str = ""

    def mix(self, name: str) -> MixCost:
        return next(m for m in self.mixes if m.mix == name)


@dataclass
class KindOption:
    """One accelerator kind for one model."""

    kind: str
    status: str  # ranked | no measurement | does not fit | not offered | no price
    reason: str = ""
    rank: int | None = None
    node_type: str | None = None
    devices_per_replica: int | None = None
    replicas_per_node: int | None = None
    usd_per_replica_hour: float | None = None
    usd_per_million: dict[str, float] = field(default_factory=dict)
    current: bool = False


@dataclass
class KindComparison:
    model: str
    namespace: str
    metric: str  # tokens | requests
    tier_mix: dict[str, float]
    options: list[KindOption]


@dataclass
class PerInference:
    stack: str
    cloud: str
    region: str
    models: list[ModelCost] = field(default_factory=list)
    comparisons: list[KindComparison] = field(default_factory=list)
    assumptions: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "assumptions": self.assumptions,
            "models": [_rounded(asdict(m)) for m in self.models],
        }
        if self.comparisons:
            out["compare_kinds"] = [_rounded(asdict(c)) for c in self.comparisons]
        return out


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value + 0.0, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


# ---------------------------------------------------------------- per model


def measurement(model: ModelConfig, kind: str, gpu: str | None = None) -> ThroughputConfig | None:
    """The model's throughput entry for ``kind`` on whole devices (``gpu`` None) or on the GPU slice ``gpu``."""
    return next((t for t in model.throughput if t.kind == kind and t.gpu == gpu), None)


def _per_million(usd_per_replica_hour: float, t: ThroughputConfig | None) -> dict[str, float]:
    out: dict[str, float] = {}
    if t is not None and t.requests_per_second:
        out["requests"] = usd_per_million(usd_per_replica_hour, t.requests_per_second)
    if t is not None and t.tokens_per_second:
        out["tokens"] = usd_per_million(usd_per_replica_hour, t.tokens_per_second)
    return out


def nodes_per_replica(model: ModelConfig, load: PoolLoad) -> int:
    """Nodes one replica spans: its devices over the node's, a multi-host TPU slice's hosts, an LLM's nodesPerReplica."""
    n = max(1, math.ceil(model.accelerators / max(1, load.devices_per_node)), load.plan.hosts)
    return max(n, model.llm.nodes_per_replica) if model.llm else n


def model_costs(cfg: StackConfig, load: PoolLoad) -> list[ModelCost]:
    """Every model on ``load``'s pool under each tier mix."""
    s = cfg.settings
    pricing = s.pricing
    pf = pricing.peak_hours_fraction
    pool = load.pool
    plan = load.plan
    prices = prices_of(cfg, plan.shape.name)
    family = accelerators.lookup(pool.kind, cfg.cloud).family
    per_day = spot_interruptions_per_node_day(family, pool.spot_interruptions_per_node_day)
    device_hours = load.average * load.units_per_node  # slices on a shared pool: a model pays for its slice
    mixes: dict[str, tuple[TierMix, float]] = {}
    for name in MIXES:
        mix = tier_mix(plan, load.average, pricing.spot_share, name)
        mixes[name] = (mix, mix_monthly_usd(mix, prices))
    out: list[ModelCost] = []
    for m in load.placed:
        t = measurement(m, pool.kind, m.gpu)
        avg_rep = average(m.min_replicas, m.max_replicas, pf)
        row = ModelCost(
            m.name, m.namespace, pool.name, pool.kind, plan.shape.name, m.accelerators, avg_rep, m.model_load_seconds,
            None if t is None else {k: v for k, v in (("requests_per_second", t.requests_per_second),
                                                       ("tokens_per_second", t.tokens_per_second),
                                                       ("accelerators", t.accelerators or m.accelerators)) if v},
            note="" if t is not None else f"no throughput measured on {pool.kind}{f' ({m.gpu} slice)' if m.gpu else ''}: no USD per 1M",
        )
        on_demand_monthly = 0.0
        span = nodes_per_replica(m, load)
        for name in MIXES:
            mix, pool_monthly = mixes[name]
            per_device_hour = pool_monthly / HOURS_PER_MONTH / device_hours if device_hours else 0.0
            monthly = avg_rep * m.accelerators * per_device_hour * HOURS_PER_MONTH
            if name == ALL_ON_DEMAND:
                on_demand_monthly = monthly
            shares = mix.shares()
            reloads = reloads_per_month(avg_rep * shares[SPOT], per_day, span)
            reloads += reloads_per_month(avg_rep * shares[FLEX_START], 1 / FLEX_START_MAX_RUN_DAYS, span)
            lost = replica_hours_lost(reloads, m.model_load_seconds)
            replica_hour = m.accelerators * per_device_hour
            row.mixes.append(MixCost(
                name, shares, monthly, per_device_hour,
                _per_million(per_device_hour * ((t.accelerators or m.accelerators) if t else m.accelerators), t),
                on_demand_monthly - monthly,
                Interruptions(per_day, reloads, lost, lost / (avg_rep * HOURS_PER_MONTH) if avg_rep else 0.0, lost * replica_hour),
            ))
        out.append(row)
    return out


# ---------------------------------------------------------------- compare kinds


def _offered(acc: Accelerator, cloud: Cloud, region: str) -> bool:
    return bool(acc.shapes(cloud)) and (cloud is Cloud.AWS or region in acc.gcp_regions)


def memory_fit(model: ModelConfig, acc: Accelerator, devices: int) -> str | None:
    """Why one replica of ``model`` with ``devices`` devices of ``acc`` does not hold the model in device memory
    (LLMs: weights + one sequence of KV cache + reserve, ``inferstack.checks.llm.memory_need``); None when it does."""
    if model.llm is None:
        return None
    shards = devices * acc.cores_per_device
    llm = model.llm.model_copy(update={"vllm": model.llm.vllm.model_copy(update={"tensor_parallel_size": shards, "pipeline_parallel_size": 1})})
    need = memory_need(llm, acc)
    if need.fits:
        return None
    return (f"needs {need.total:.1f} GiB per device (weights {need.weights:.1f} + KV cache {need.kv_cache:.1f} + reserve "
            f"{need.reserve:.1f}), has {need.budget:.1f} GiB ({acc.device_memory_gib} GiB x {llm.vllm.gpu_memory_utilization})")


def node_for(cloud: Cloud, acc: Accelerator, replica: sizing.Replica) -> list[Shape]:
    """Shapes of ``acc`` one replica fits (devices, CPU and memory within the node's allocatable; TPU: exactly the
    host's chips)."""
    out = []
    for shape in acc.shapes(cloud):
        if acc.family is Family.TPU and shape.devices != replica.accelerators:
            continue
        if sizing.fits(replica, sizing.allocatable(cloud, acc.family, shape)):
            out.append(shape)
    return out


def compare_kinds(cfg: StackConfig, model: ModelConfig, shares: dict[str, float]) -> KindComparison:
    """The accelerator kinds that could serve ``model`` on the stack's cloud and region, ranked by USD per 1M at the
    tier mix ``shares``; the others listed with the reason."""
    cloud = cfg.cloud
    metric = "tokens" if any(t.tokens_per_second for t in model.throughput) else "requests"
    base = sizing.replica_of(model)
    options: list[KindOption] = []
    for kind, acc in accelerators.CATALOG.items():
        opt = KindOption(kind, "ranked", current=kind == _pool_kind(cfg, model) and model.gpu is None)
        options.append(opt)
        if not _offered(acc, cloud, cfg.region):
            opt.status, opt.reason = "not offered", f"not offered on {cloud.value} in {cfg.region}"
            continue
        t = measurement(model, kind)
        devices = (t.accelerators if t and t.accelerators else model.accelerators) or 1
        opt.devices_per_replica = devices
        why = memory_fit(model, acc, devices)
        shapes = node_for(cloud, acc, sizing.Replica(devices, base.memory_gib, base.cpu))
        if why is None and not shapes:
            why = f"no {kind} node holds a replica of {devices} device(s), {base.memory_gib:.1f} GiB and {base.cpu:g} CPU"
        if why:
            opt.status, opt.reason = "does not fit", why
            continue
        best = _cheapest_node(cfg, shapes, shares, devices_per_replica=devices)
        if best is None:
            opt.status, opt.reason = "no price", f"no catalog price for {kind} nodes in {cfg.region}"
            continue
        opt.usd_per_replica_hour, opt.node_type, opt.replicas_per_node = best
        if t is None:
            opt.status, opt.reason = "no measurement", f"no throughput measured on {kind}"
            continue
        opt.usd_per_million = _per_million(opt.usd_per_replica_hour, t)
        if metric not in opt.usd_per_million:
            opt.status, opt.reason = "no measurement", f"no {'tokensPerSecond' if metric == 'tokens' else 'requestsPerSecond'} measured on {kind}"
    options += slice_options(cfg, model, shares, metric)
    ranked = sorted((o for o in options if o.status == "ranked"), key=lambda o: o.usd_per_million[metric])
    for i, o in enumerate(ranked, 1):
        o.rank = i
    order = {"ranked": 0, "no measurement": 1, "does not fit": 2, "no price": 3, "not offered": 4}
    options.sort(key=lambda o: (order[o.status], o.rank or 0, o.kind))
    return KindComparison(model.name, model.namespace, metric, shares, options)


def slice_options(cfg: StackConfig, model: ModelConfig, shares: dict[str, float], metric: str) -> list[KindOption]:
    """GPU-slice options beside the whole devices: every slice the model was measured on (``throughput[].gpu``) whose
    kind is offered here. A MIG profile's price is the node's over its GPUs x the profile's instances per GPU; a
    time-slice's, over the time-slicing replicas of the model's pool (a kind measured on a time-slice without such
    a pool is listed with the reason). The slice must hold the model (LLMs: the slice's memory)."""
    cloud = cfg.cloud
    base = sizing.replica_of(model)
    pool = next((p for p in cfg.settings.accelerator_pools if p.name == model.pool), None)
    out: list[KindOption] = []
    for t in model.throughput:
        if t.gpu is None or t.kind not in accelerators.CATALOG:
            continue
        acc = accelerators.CATALOG[t.kind]
        opt = KindOption(f"{t.kind} {t.gpu}", "ranked", current=pool is not None and pool.kind == t.kind and model.gpu == t.gpu)
        out.append(opt)
        if not _offered(acc, cloud, cfg.region):
            opt.status, opt.reason = "not offered", f"not offered on {cloud.value} in {cfg.region}"
            continue
        if t.gpu == gpu_sharing.TIME_SLICE:
            if pool is None or pool.kind != t.kind or pool.sharing is None or not pool.sharing.time_slicing_replicas:
                opt.status, opt.reason = "no price", "a time-slice's share needs the model's pool time-slicing this kind"
                continue
            per_gpu, memory = pool.sharing.time_slicing_replicas, acc.device_memory_gib / pool.sharing.time_slicing_replicas
        else:
            try:
                profile = gpu_sharing.mig_profile(t.kind, t.gpu)
            except ValueError as err:
                opt.status, opt.reason = "does not fit", str(err)
                continue
            if cloud is Cloud.AWS:
                opt.status, opt.reason = "not offered", "MIG on EKS needs NVIDIA's MIG manager (not installed by inferstack)"
                continue
            per_gpu, memory = profile.per_gpu, float(profile.memory_gb)
        opt.devices_per_replica = 1
        why = memory_fit(model, replace(acc, device_memory_gib=memory), 1)
        shapes = node_for(cloud, acc, sizing.Replica(1, base.memory_gib, base.cpu))
        if why is None and not shapes:
            why = f"no {t.kind} node holds a replica of {base.memory_gib:.1f} GiB and {base.cpu:g} CPU"
        if why:
            opt.status, opt.reason = "does not fit", why
            continue
        best = _cheapest_node(cfg, shapes, shares, replicas_per_device=per_gpu)
        if best is None:
            opt.status, opt.reason = "no price", f"no catalog price for {t.kind} nodes in {cfg.region}"
            continue
        opt.usd_per_replica_hour, opt.node_type, opt.replicas_per_node = best
        opt.usd_per_million = _per_million(opt.usd_per_replica_hour, t)
        if metric not in opt.usd_per_million:
            opt.status, opt.reason = "no measurement", f"no {'tokensPerSecond' if metric == 'tokens' else 'requestsPerSecond'} measured on the {t.gpu} slice"
    return out


def _cheapest_node(cfg: StackConfig, shapes: list[Shape], shares: dict[str, float], devices_per_replica: int = 1,
                   replicas_per_device: int = 1) -> tuple[float, str, int] | None:
    """(USD per replica-hour, node type, replicas per node) of the cheapest priced node type of ``shapes`` at the tier
    mix ``shares``, a replica taking ``devices_per_replica`` whole devices or 1 / ``replicas_per_device`` of one (a
    GPU slice); None when none has a price."""
    best: tuple[float, str, int] | None = None
    for shape in shapes:
        per_node = shape.devices * replicas_per_device // devices_per_replica
        try:
            hourly = mix_hourly_usd(shares, prices_of(cfg, shape.name)) / per_node
        except PriceNotFound:
            continue
        if best is None or hourly < best[0]:
            best = (hourly, shape.name, per_node)
    return best


def _pool_kind(cfg: StackConfig, model: ModelConfig) -> str | None:
    pool = next((p for p in cfg.settings.accelerator_pools if p.name == model.pool), None)
    return pool.kind if pool else None


# ---------------------------------------------------------------- the report


def per_inference(cfg: StackConfig, kinds: bool = False) -> PerInference:
    """Cost per inference of every model on an accelerator pool (and, with ``kinds``, the ranked kinds of each model
    that has a throughput measurement); raises ``PriceNotFound`` when a pool's node type has no price."""
    pricing = cfg.settings.pricing
    report = PerInference(cfg.name, cfg.cloud.value, cfg.region, assumptions={
        "throughput": "full measured throughput at the SLO latency (USD per busy replica-hour / what it serves)",
        "hours_per_month": HOURS_PER_MONTH,
        "peak_hours_fraction": pricing.peak_hours_fraction,
        "spot_share": pricing.spot_share,
        "reserved_discount": pricing.reserved_discount,
        "flex_start_discount": pricing.flex_start_discount,
        "flex_start_max_run_days": FLEX_START_MAX_RUN_DAYS,
        "mixes": list(MIXES),
        "purchases": list(PURCHASES),
    })
    for pool in cfg.settings.accelerator_pools:
        load = pool_load(cfg, pool)
        rows = model_costs(cfg, load)
        report.models += rows
        if kinds:
            for row, m in zip(rows, load.placed, strict=True):
                if m.throughput:
                    report.comparisons.append(compare_kinds(cfg, m, row.mix(LADDER).tier_mix))
    return report


def merge_into_estimate(estimate_json: dict[str, Any], report: PerInference) -> dict[str, Any]:
    """The estimate's JSON with each model row given ``tier_mix`` (shares of its pool's node-hours under the ladder)
    and ``usd_per_million`` (requests and/or tokens; null without a measurement), plus ``per_inference``."""
    by_model = {(m.namespace, m.model): m for m in report.models}
    for row in estimate_json.get("models", []):
        cost = by_model.get((row["namespace"], row["model"]))
        if cost is None:
            row["tier_mix"], row["usd_per_million"] = None, None
            continue
        ladder = cost.mix(LADDER)
        row["tier_mix"] = _rounded(ladder.tier_mix)
        row["usd_per_million"] = _rounded(ladder.usd_per_million) or None
    estimate_json["per_inference"] = report.to_json()
    return estimate_json


def render_text(report: PerInference) -> str:
    """Cost per inference, interruptions beside the savings, and the ranked kinds, as tables."""
    out = [f"Cost per inference of stack {report.stack}, USD, at full measured throughput (SLO latency)", ""]
    out.append(f"{'model':<24} {'mix':<14} {'res/od/flex/spot %':>19} {'monthly':>10} {'$/1M req':>9} {'$/1M tok':>9} "
               f"{'saves':>9} {'reloads':>8} {'lost h':>7} {'lost $':>8}")
    for m in report.models:
        for mix in m.mixes:
            tm = mix.tier_mix
            shares = "/".join(f"{tm[p] * 100:.0f}" for p in PURCHASES)
            req, tok = mix.usd_per_million.get("requests"), mix.usd_per_million.get("tokens")
            i = mix.interruptions
            out.append(
                f"{m.namespace + '/' + m.model:<24} {mix.mix:<14} {shares:>19} {mix.monthly_usd:>10,.2f} "
                f"{_fmt(req):>9} {_fmt(tok, 4):>9} {mix.savings_vs_on_demand_usd:>9,.2f} {i.reloads:>8.1f} "
                f"{i.replica_hours_lost:>7.1f} {i.cost_usd:>8,.2f}"
            )
        if m.note:
            out.append(f"{'':<24} {m.note}")
    out += ["", "reloads: expected replica reloads per month on spot (the pool's interruptions per node-day) and "
                "flex-start (7-day node lifetime); lost h: replica-hours spent loading (modelLoadSeconds)"]
    for c in report.comparisons:
        out += ["", f"accelerator kinds for {c.namespace}/{c.model}, ranked by USD per 1M {c.metric} "
                    f"(tier mix of its pool: " + ", ".join(f"{p} {v * 100:.0f}%" for p, v in c.tier_mix.items() if v) + ")"]
        out.append(f"{'rank':>4} {'kind (slice)':<20} {'node type':<18} {'dev/rep':>7} {'$/replica-h':>11} {'$/1M ' + c.metric:>12}  status")
        for o in c.options:
            price = _fmt(o.usd_per_million.get(c.metric), 4 if c.metric == "tokens" else 2)
            rh = f"{o.usd_per_replica_hour:.3f}" if o.usd_per_replica_hour is not None else "-"
            status = o.status + (f": {o.reason}" if o.reason else "") + (" (current)" if o.current else "")
            out.append(f"{o.rank or '-':>4} {o.kind:<20} {o.node_type or '-':<18} {o.devices_per_replica or '-':>7} {rh:>11} {price:>12}  {status}")
    return "\n".join(out) + "\n"


def _fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:,.{digits}f}"
