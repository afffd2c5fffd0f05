"""Checks of zones and capacity ladders: the network's zones exist in the region (catalogued zones, or for a region
newer than the catalogue the zones listed in ``network.zones``, with a warning); accelerator pools land only in
zones offering their kind; a ladder's tiers exist on the stack's cloud and its
reservations are in zones the pool can use (the stack's region, allowed by residency, offering the accelerator)."""

from __future__ import annotations

from collections.abc import Iterable

from inferstack.catalog import accelerators
from inferstack.catalog import zones as catalogue
from inferstack.catalog.clouds import CLOUDS
from inferstack.checks.residency import misspelt_region
from inferstack.config.base import Cloud
from inferstack.config.platform import AcceleratorPoolConfig, LadderTierKind
from inferstack.config.stack import ConfigIssue, Loc, StackConfig, file_issue


def _region_of_zone(cloud: Cloud, zone: str) -> str | None:
    """The catalogued region holding ``zone``, or None."""
    for (c, region), entry in catalogue.REGIONS.items():
        if c is cloud and zone in entry.zones:
            return region
    return None


def network_zones(cfg: StackConfig) -> list[str] | None:
    """The zones the stack's network spans (``network.zones``, else the catalogue's first ``availabilityZones``
    default zones), or None when they cannot be known (reported by :func:`check_zones`)."""
    net = cfg.settings.network
    try:
        return catalogue.zones_for(cfg.cloud, cfg.region, net.availability_zones, net.zones)
    except (KeyError, ValueError):
        return None


def pool_zones(cfg: StackConfig, pool: AcceleratorPoolConfig) -> list[str] | None:
    """Zones the pool's nodes may use: TPU kinds their TPU zones in the region; other kinds the network's zones that
    offer the kind (zone catalogue). None when the kind or the network's zones are unknown (reported elsewhere)."""
    try:
        acc = accelerators.lookup(pool.kind, cfg.cloud)
    except ValueError:
        return None
    network = network_zones(cfg)
    if network is None:
        return None
    if cfg.cloud is Cloud.GCP and acc.family is accelerators.Family.TPU:
        return list(catalogue.tpu_zones(acc, cfg.region, network))
    return catalogue.zones_offering(cfg.cloud, cfg.region, pool.kind, network)


def check_zones(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """The stack's zones exist: ``network.zones`` are zones of the region (any of its catalogued zones, or of the
    region's form when the catalogue lacks the region), else the catalogued region has ``availabilityZones`` default
    zones; an uncatalogued region without ``network.zones`` is refused naming that key. Every accelerator pool has a
    zone among the network's offering its kind (else the zones that would work are named)."""
    net = cfg.settings.network
    loc: Loc = ("network", "zones")
    if cfg.settings.existing_cluster is not None:
        return  # the cluster and its nodes were placed elsewhere
    if not catalogue.is_catalogued(cfg.cloud, cfg.region):
        if net.zones is None:
            close = misspelt_region(cfg.region, cfg.cloud)
            if close:  # a typo, most likely: name the region key, and no zone names made from the misspelt region
                yield file_issue(CLOUDS[cfg.cloud].region_key, _misspelt(cfg, close))
            else:
                yield ConfigIssue(loc, _uncatalogued(cfg))
            return
        bad = [z for z in net.zones if not catalogue.has_zone_form(cfg.cloud, cfg.region, z)]
        if bad:
            yield ConfigIssue(
                loc, f"{', '.join(bad)}: not a zone of {cfg.region}; its zones are named like {', '.join(catalogue.example_zones(cfg.cloud, cfg.region))}"
            )
        return
    entry = catalogue.region_zones(cfg.cloud, cfg.region)
    if net.zones is not None:
        unknown = [z for z in net.zones if z not in entry.zones]
        if unknown:
            yield ConfigIssue(loc, f"{', '.join(unknown)}: not a zone of {cfg.region}; its zones: {', '.join(entry.zones)}")
            return
        network = list(net.zones)
    else:
        usable = catalogue.default_zones(entry)
        want = net.availability_zones
        if want > len(usable):
            yield ConfigIssue(
                ("network", "availabilityZones"),
                f"{cfg.region} has {len(usable)} zones open to every account ({', '.join(usable)}); set availabilityZones to at most "
                f"{len(usable)}, or list the zones your account has in network.zones",
            )
            return
        network = usable[:want]
    for i, pool in enumerate(cfg.settings.accelerator_pools):
        try:
            acc = accelerators.lookup(pool.kind, cfg.cloud)
        except ValueError:
            continue  # reported by check_accelerator_pools
        if cfg.cloud is Cloud.GCP and acc.family is accelerators.Family.TPU:
            continue  # TPU pools use the kind's TPU zones (check_accelerator_pools reports a region without one)
        offered = catalogue.zones_offering(cfg.cloud, cfg.region, pool.kind, list(entry.zones))
        if not set(offered) & set(network):
            hint = "list one of them in network.zones" if net.zones is not None else "raise network.availabilityZones or list them in network.zones"
            yield ConfigIssue(
                ("acceleratorPools", i, "kind"),
                f"none of the stack's zones ({', '.join(network)}) offers {pool.kind}; zones of {cfg.region} offering it: "
                f"{', '.join(offered) or 'none'} ({hint}, or pick another kind)",
            )


def _misspelt(cfg: StackConfig, close: str) -> str:
    return (
        f"{cfg.region!r} is not among the zone catalogue's {cfg.cloud.value} regions; did you mean {close}? "
        f"(a region newer than the catalogue, checked {catalogue.CHECKED}, needs its zones listed in {catalogue.ZONES_KEY})"
    )


def _uncatalogued(cfg: StackConfig) -> str:
    return (
        f"region {cfg.region} is not in the zone catalogue (inferstack/catalog/zones.py, checked {catalogue.CHECKED}): "
        f"set {catalogue.ZONES_KEY} to {cfg.settings.network.availability_zones} of its zones, e.g. "
        f"[{', '.join(catalogue.example_zones(cfg.cloud, cfg.region, cfg.settings.network.availability_zones))}]"
    )


def notice_zones(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """Warnings, not errors: a region the catalogue lacks (its zones are used as listed; zone and accelerator offerings
    are not checked), and listed zones that the catalogue marks closed to newer accounts."""
    if cfg.settings.existing_cluster is not None:
        return
    if not catalogue.is_catalogued(cfg.cloud, cfg.region):
        if cfg.settings.network.zones is not None:
            close = misspelt_region(cfg.region, cfg.cloud)
            yield file_issue(
                CLOUDS[cfg.cloud].region_key,
                f"region {cfg.region} is not in the zone catalogue (checked {catalogue.CHECKED}): using network.zones as listed "
                f"({', '.join(cfg.settings.network.zones)}); which zones offer each accelerator is not checked"
                + (f" (did you mean {close}?)" if close else ""),
            )
        return
    entry = catalogue.region_zones(cfg.cloud, cfg.region)
    closed = [z for z in cfg.settings.network.zones or () if z in entry.restricted]
    if closed:
        yield ConfigIssue(
            ("network", "zones"),
            f"{', '.join(closed)}: not offered to newer accounts ({entry.source}); fine if your account has it",
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
            if region is None and not catalogue.is_catalogued(cfg.cloud, cfg.region) and catalogue.has_zone_form(cfg.cloud, cfg.region, res.zone):
                region = cfg.region
            if region != cfg.region:
                if not catalogue.is_catalogued(cfg.cloud, cfg.region) and cfg.settings.network.zones is None:
                    continue  # the region is reported (check_zones); its zones cannot be known
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
    if cfg.settings.existing_cluster is not None:
        return  # an existing cluster's pools are bought elsewhere
    for i, pool in enumerate(cfg.settings.accelerator_pools):
        if pool.ladder is not None:
            yield from _ladder_issues(cfg, i, pool)
