"""Checks of zones and capacity ladders: the region is in the zone catalogue and has the zones the network asks
for; accelerator pools land only in zones offering their kind; a ladder's tiers exist on the stack's cloud and its
reservations are in zones the pool can use (the stack's region, allowed by residency, offering the accelerator)."""

from __future__ import annotations

from collections.abc import Iterable

from inferstack.catalog import accelerators
from inferstack.catalog import zones as catalogue
from inferstack.catalog.clouds import CLOUDS
from inferstack.config.base import Cloud
from inferstack.config.platform import AcceleratorPoolConfig, LadderTierKind
from inferstack.config.stack import ConfigIssue, Loc, StackConfig, file_issue


def _region_of_zone(cloud: Cloud, zone: str) -> str | None:
    """The catalogued region holding ``zone``, or None."""
    for (c, region), entry in catalogue.REGIONS.items():
        if c is cloud and zone in entry.zones:
            return region
    return None


def pool_zones(cfg: StackConfig, pool: AcceleratorPoolConfig) -> list[str] | None:
    """Zones the pool's nodes may use: TPU kinds their TPU zones in the region; other kinds the network's zones that
    offer the kind (zone catalogue). None when the kind or region is unknown (reported elsewhere)."""
    try:
        acc = accelerators.lookup(pool.kind, cfg.cloud)
        network = catalogue.zones_for(cfg.cloud, cfg.region, cfg.settings.network.availability_zones)
    except (KeyError, ValueError):
        return None
    if cfg.cloud is Cloud.GCP and acc.family is accelerators.Family.TPU:
        return catalogue.zones_offering(cfg.cloud, cfg.region, pool.kind, list(acc.gcp_zones.get(cfg.region, ())))
    return catalogue.zones_offering(cfg.cloud, cfg.region, pool.kind, network)


def check_zones(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """The stack's region is catalogued and has ``network.availabilityZones`` zones; every accelerator pool has a
    zone among them offering its kind (else the zones that would work are named)."""
    try:
        entry = catalogue.region_zones(cfg.cloud, cfg.region)
    except KeyError as err:
        yield file_issue(CLOUDS[cfg.cloud].region_key, str(err.args[0]))
        return
    want = cfg.settings.network.availability_zones
    if want > len(entry.zones):
        yield ConfigIssue(
            ("network", "availabilityZones"),
            f"{cfg.region} has {len(entry.zones)} zones ({', '.join(entry.zones)}); set availabilityZones to at most {len(entry.zones)}",
        )
        return
    network = list(entry.zones[:want])
    for i, pool in enumerate(cfg.settings.accelerator_pools):
        try:
            acc = accelerators.lookup(pool.kind, cfg.cloud)
        except ValueError:
            continue  # reported by check_accelerator_pools
        if cfg.cloud is Cloud.GCP and acc.family is accelerators.Family.TPU:
            continue  # TPU pools use the kind's TPU zones (check_accelerator_pools reports a region without one)
        offered = catalogue.zones_offering(cfg.cloud, cfg.region, pool.kind)
        if not set(offered) & set(network):
            yield ConfigIssue(
                ("acceleratorPools", i, "kind"),
                f"none of the stack's zones ({', '.join(network)}) offers {pool.kind}; zones of {cfg.region} offering it: "
                f"{', '.join(offered) or 'none'} (raise network.availabilityZones to reach them, or pick another kind)",
            )


def _ladder_issues(cfg: StackConfig, i: int, pool: AcceleratorPoolConfig) -> Iterable[ConfigIssue]:
    assert pool.ladder is not None
    loc: Loc = ("acceleratorPools", i, "ladder")
    allowed = cfg.settings.residency.allowed_regions
    usable = pool_zones(cfg, pool)
    for j, rung in enumerate(pool.ladder):
        if rung.tier is LadderTierKind.FLEX_START and cfg.cloud is not Cloud.GCP:
            yield ConfigIssue((*loc, j, "tier"), "flex-start is a GKE capacity tier (Dynamic Workload Scheduler); on AWS use reserved, on-demand or spot")
        for k, res in enumerate(rung.reservations):
            rloc = (*loc, j, "reservations", k)
            if cfg.cloud is Cloud.AWS and not res.id.startswith("cr-"):
                yield ConfigIssue((*rloc, "id"), f"{res.id!r} is not an EC2 capacity reservation id; use cr-<hex>, e.g. cr-0a1b2c3d4e5f60718")
            if cfg.cloud is Cloud.GCP and res.capacity_block:
                yield ConfigIssue((*rloc, "capacityBlock"), "Capacity Blocks are AWS reservations; a GCE reservation is named by id without capacityBlock")
            if res.zone is None:
                continue
            region = _region_of_zone(cfg.cloud, res.zone)
            if region != cfg.region:
                zones = ", ".join(catalogue.region_zones(cfg.cloud, cfg.region).zones) if (cfg.cloud, cfg.region) in catalogue.REGIONS else ""
                yield ConfigIssue(
                    (*rloc, "zone"),
                    f"{res.zone} is not a zone of the stack's region {cfg.region}" + (f"; its zones: {zones}" if zones else ""),
                )
                continue
            if region not in allowed:
                yield ConfigIssue((*rloc, "zone"), f"{res.zone} is in {region}, outside residency.allowedRegions ({', '.join(allowed)})")
                continue
            if usable is not None and res.zone not in usable:
                yield ConfigIssue(
                    (*rloc, "zone"),
                    f"pool {pool.name} ({pool.kind}) cannot use {res.zone}: its nodes run in {', '.join(usable) or 'no zone'} "
                    f"(zones of the network offering {pool.kind})",
                )
        if any(r.capacity_block for r in rung.reservations) and j == len(pool.ladder) - 1:
            yield ConfigIssue(
                (*loc, j, "reservations"),
                "a Capacity Block ends and its nodes are drained before its end: add a later rung (on-demand or spot) for its pods",
            )


def check_capacity_ladders(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """Each ladder's tiers exist on the stack's cloud (flex-start is GKE only), reservation ids fit the cloud, every
    reservation zone is in the stack's region, allowed by residency and among the zones the pool's nodes use (which
    offer its accelerator), and a Capacity Block rung has a rung after it."""
    for i, pool in enumerate(cfg.settings.accelerator_pools):
        if pool.ladder is not None:
            yield from _ladder_issues(cfg, i, pool)
