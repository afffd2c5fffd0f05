"""The zone catalogue: region -> zones, per cloud, with the accelerators each zone offers where that was verified.

Zones are never derived from a letter suffix: GCP's europe-west1 has zones b, c and d (no a), and AWS zone *names*
map to different zone *ids* in each account (so a reservation or an offering is only meaningful per zone name in one
account). Network and cluster components take their zones from here (the first ``availabilityZones`` of a region),
accelerator pools are placed only in zones offering their kind, and ``inferstack.checks.zones`` refuses a config
that cannot get the zones it asks for, naming the zones that would work.

``offerings`` holds only what was checked against a source: a kind absent from a region's ``offerings`` is not
known at zone level, and every zone of the region is taken to offer it (its region-level offering is the
accelerator catalogue's ``gcp_regions``; on AWS, Karpenter launches only where EC2 offers the instance type:
``zones_data.EC2_ZONE_OFFERINGS`` says why AWS has no zone-level offerings here).

The data is generated (``zones_data.py``, by ``scripts/gen_catalog.py`` from the dated snapshots in
``scripts/catalog_sources``); a region launched after it is used with the zones a stack lists in ``network.zones``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from inferstack.catalog import zones_data
from inferstack.catalog.accelerators import Accelerator
from inferstack.catalog.clouds import Cloud


@dataclass(frozen=True)
class RegionZones:
    """The zones of one region, in the order stacks use them, and the verified accelerator offerings per zone."""

    cloud: Cloud
    region: str
    #: Zone names, in placement order (a stack with ``availabilityZones: N`` uses the first N).
    zones: tuple[str, ...]
    #: Where the data comes from and when it was checked.
    source: str
    checked: str
    #: AWS zone ids of the region (``euw1-az1`` ...). Which name maps to which id differs per account.
    zone_ids: tuple[str, ...] = ()
    #: Accelerator kind -> the zones offering it (verified entries only; see the module docstring).
    offerings: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Zone names that newer accounts are not offered (constrained zones); never chosen by default.
    restricted: tuple[str, ...] = ()
    #: AWS: whether zone names map to the same zone ids in every account (``zones[i]`` is ``zone_ids[i]``); False in
    #: the regions AWS maps per account, where only ``describe-availability-zones`` in the account pairs them.
    uniform_mapping: bool = True

    def offering(self, kind: str) -> tuple[str, ...] | None:
        """Zones of this region offering ``kind``, or None when the catalogue does not know it at zone level."""
        return self.offerings.get(kind)


def _aws(region: str, row: Mapping[str, object]) -> RegionZones:
    return RegionZones(
        Cloud.AWS, region, tuple(row["zones"]),  # type: ignore[arg-type]
        source=zones_data.ZONE_SOURCES[str(row["source"])], checked=str(row["checked"]),
        zone_ids=tuple(row["zone_ids"]), restricted=tuple(row["restricted"]),  # type: ignore[arg-type]
        uniform_mapping=bool(row["uniform_mapping"]),
    )


def _gcp(region: str, row: Mapping[str, object]) -> RegionZones:
    offerings = {kind: by_region[region] for kind, by_region in zones_data.GCP_ACCELERATOR_ZONES.items() if region in by_region}
    return RegionZones(
        Cloud.GCP, region, tuple(row["zones"]),  # type: ignore[arg-type]
        source=f"{zones_data.ZONE_SOURCES[str(row['source'])]}; accelerators: {zones_data.ZONE_SOURCES['gcp-accelerator-zones']}",
        checked=str(row["checked"]), offerings=MappingProxyType(offerings),
    )


#: Every catalogued region, by cloud and name: every region of AWS's standard partition and every public GCP region
#: (generated: ``inferstack/catalog/zones_data.py``, from ``scripts/catalog_sources`` by ``scripts/gen_catalog.py``).
REGIONS: Mapping[tuple[Cloud, str], RegionZones] = MappingProxyType(
    {(Cloud.AWS, region): _aws(region, row) for region, row in zones_data.AWS_REGIONS.items()}
    | {(Cloud.GCP, region): _gcp(region, row) for region, row in zones_data.GCP_REGIONS.items()}
)

#: The date the catalogue was last checked against its sources (the newest ``checked`` of its regions).
CHECKED = max(entry.checked for entry in REGIONS.values())


#: Config key that lists a stack's zones (``inferstack.config.platform.NetworkConfig.zones``).
ZONES_KEY = "inferstack:network.zones"


def regions_of(cloud: Cloud) -> list[str]:
    """The catalogued regions of ``cloud``, sorted."""
    return sorted(region for c, region in REGIONS if c is cloud)


def is_catalogued(cloud: Cloud, region: str) -> bool:
    """Whether the zone catalogue knows ``region`` (a region launched after the catalogue's date does not)."""
    return (cloud, region) in REGIONS


#: What stands between a region and its zone letter: ``us-east-1a`` (AWS), ``us-east1-b`` (GCP).
ZONE_SEPARATOR: Mapping[Cloud, str] = MappingProxyType({Cloud.AWS: "", Cloud.GCP: "-"})


def example_zones(cloud: Cloud, region: str, count: int = 2) -> list[str]:
    """Zone names of the form ``region`` would have, for messages: ``ap-east-9a`` (AWS), ``me-west9-a`` (GCP)."""
    return [f"{region}{ZONE_SEPARATOR[cloud]}{letter}" for letter in "abc"[:count]]


def has_zone_form(cloud: Cloud, region: str, zone: str) -> bool:
    """``zone`` has the form of a zone of ``region``: the region, the cloud's separator and one letter."""
    suffix = zone.removeprefix(f"{region}{ZONE_SEPARATOR[cloud]}")
    return suffix != zone and len(suffix) == 1 and suffix.isascii() and suffix.isalpha()


def region_zones(cloud: Cloud, region: str) -> RegionZones:
    """The catalogue entry of ``region``; KeyError telling the user to list the zones when it has none."""
    entry = REGIONS.get((cloud, region))
    if entry is None:
        raise KeyError(
            f"region {region} is not in the zone catalogue of {cloud.value} (inferstack/catalog/zones.py, checked "
            f"{CHECKED}): list the zones to use in {ZONES_KEY}, e.g. [{', '.join(example_zones(cloud, region))}]"
        )
    return entry


def default_zones(entry: RegionZones) -> list[str]:
    """The zones a stack uses by default, in placement order: every zone but those closed to newer accounts."""
    return [z for z in entry.zones if z not in entry.restricted]


def zones_for(cloud: Cloud, region: str, count: int, listed: Sequence[str] | None = None) -> list[str]:
    """The zones a stack's network spans: ``listed`` (``network.zones``) when given, else the first ``count`` default
    zones of ``region``. KeyError for an uncatalogued region without ``listed``; ValueError naming the region's zones
    when it has fewer than ``count``."""
    if listed:
        return list(listed)
    usable = default_zones(region_zones(cloud, region))
    if count > len(usable):
        raise ValueError(f"{region} has {len(usable)} zones ({', '.join(usable)}); {count} requested")
    return usable[:count]


def zones_offering(cloud: Cloud, region: str, kind: str, among: Sequence[str] | None = None) -> list[str]:
    """The zones of ``region`` (or of ``among``, in its order) that offer ``kind``: the verified offering, or every
    zone when the catalogue does not know ``kind`` at zone level (an uncatalogued region: ``among`` as given)."""
    entry = REGIONS.get((cloud, region))
    if entry is None:
        return list(among or ())
    candidates = list(among) if among is not None else default_zones(entry)
    offered = entry.offering(kind)
    return candidates if offered is None else [z for z in candidates if z in offered]


def tpu_zones(acc: Accelerator, region: str, cluster_zones: Sequence[str]) -> tuple[str, ...]:
    """The zones a GKE TPU pool of ``acc`` uses in ``region``: the kind's TPU zones there; the cluster's zones where the
    kind is offered with its zones not catalogued, or in a region the catalogue lacks; none where it is not offered."""
    if not is_catalogued(Cloud.GCP, region):
        return tuple(cluster_zones)
    return acc.gcp_zones.get(region) or (tuple(cluster_zones) if region in acc.gcp_regions else ())
