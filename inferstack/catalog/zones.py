"""The zone catalogue: region -> zones, per cloud, with the accelerators each zone offers where that was verified.

Zones are never derived from a letter suffix: GCP's europe-west1 has zones b, c and d (no a), and AWS zone *names*
map to different zone *ids* in each account (so a reservation or an offering is only meaningful per zone name in one
account). Network and cluster components take their zones from here (the first ``availabilityZones`` of a region),
accelerator pools are placed only in zones offering their kind, and ``inferstack.checks.zones`` refuses a config
that cannot get the zones it asks for, naming the zones that would work.

``offerings`` holds only what was checked against a source: a kind absent from a region's ``offerings`` is not
known at zone level, and every zone of the region is taken to offer it (its region-level offering is the
accelerator catalogue's ``gcp_regions``; on AWS, Karpenter launches only where EC2 offers the instance type).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

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

    def offering(self, kind: str) -> tuple[str, ...] | None:
        """Zones of this region offering ``kind``, or None when the catalogue does not know it at zone level."""
        return self.offerings.get(kind)


_GCP_ZONES_SOURCE = "https://cloud.google.com/compute/docs/regions-zones (region table: zones per region)"
_GCP_TPU_SOURCE = "https://cloud.google.com/tpu/docs/regions-zones (Europe: v6e in europe-west4-a)"
_AWS_SOURCE = "AWS Regions and Availability Zones (zone names a-c and zone ids <region-code>-az1..az3 per region)"

#: The date the catalogue was checked against its sources.
CHECKED = "2026-12-01"

#: Every catalogued region, by cloud and name. Checked 2026-12-01.
REGIONS: Mapping[tuple[Cloud, str], RegionZones] = MappingProxyType(
    {
        (r.cloud, r.region): r
        for r in (
            # GCP ---------------------------------------------------------------------------------------------
            RegionZones(
                Cloud.GCP,
                "europe-west1",
                ("europe-west1-b", "europe-west1-c", "europe-west1-d"),  # no europe-west1-a
                source=_GCP_ZONES_SOURCE,
                checked="2026-12-01",
                # GPU offerings per zone (nvidia-t4, nvidia-l4, nvidia-h100) were not verified zone by zone here:
                # left out, so every zone of the region is taken to offer the catalogue's region-level kinds.
            ),
            RegionZones(
                Cloud.GCP,
                "europe-west4",
                ("europe-west4-a", "europe-west4-b", "europe-west4-c"),
                source=f"{_GCP_ZONES_SOURCE}; {_GCP_TPU_SOURCE}",
                checked="2026-12-01",
                offerings={
                    "tpu-v6e": ("europe-west4-a",),  # TPU regions and zones page, Europe table
                    # v5e (v5litepod) and v5p: europe-west4-b as catalog.accelerators gcp_zones records; the Europe
                    # rows of the TPU page for these two were not readable in the stored copy checked here.
                    "tpu-v5e": ("europe-west4-b",),
                    "tpu-v5p": ("europe-west4-b",),
                    # GPU offerings per zone were not verified zone by zone: left out (region-level kinds apply).
                },
            ),
            # AWS ---------------------------------------------------------------------------------------------
            RegionZones(
                Cloud.AWS,
                "eu-west-1",
                ("eu-west-1a", "eu-west-1b", "eu-west-1c"),
                source=_AWS_SOURCE,
                checked="2026-12-01",
                zone_ids=("euw1-az1", "euw1-az2", "euw1-az3"),
                # EC2 instance-type offerings per zone (ec2:DescribeInstanceTypeOfferings --location-type
                # availability-zone) vary per account and were not checked: left out; Karpenter launches only
                # where EC2 offers the NodePool's instance types.
            ),
            RegionZones(
                Cloud.AWS,
                "eu-central-1",
                ("eu-central-1a", "eu-central-1b", "eu-central-1c"),
                source=_AWS_SOURCE,
                checked="2026-12-01",
                zone_ids=("euc1-az1", "euc1-az2", "euc1-az3"),
            ),
            RegionZones(
                Cloud.AWS,
                "us-east-1",
                ("us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"),
                source=_AWS_SOURCE,
                checked="2026-12-01",
                zone_ids=("use1-az1", "use1-az2", "use1-az3", "use1-az4", "use1-az5", "use1-az6"),
            ),
        )
    }
)


#: Config key that lists a stack's zones (``inferstack.config.platform.NetworkConfig.zones``).
ZONES_KEY = "inferstack:network.zones"


def regions_of(cloud: Cloud) -> list[str]:
    """The catalogued regions of ``cloud``, sorted."""
    return sorted(region for c, region in REGIONS if c is cloud)


def is_catalogued(cloud: Cloud, region: str) -> bool:
    """Whether the zone catalogue knows ``region`` (a region launched after the catalogue's date does not)."""
    return (cloud, region) in REGIONS


def example_zones(cloud: Cloud, region: str, count: int = 2) -> list[str]:
    """Zone names of the form ``region`` would have, for messages: ``ap-east-9a`` (AWS), ``me-west9-a`` (GCP)."""
    sep = "" if cloud is Cloud.AWS else "-"
    return [f"{region}{sep}{letter}" for letter in "abc"[:count]]


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
