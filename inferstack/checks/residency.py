"""Checks of residency: the stack's region is one ``inferstack:residency.allowedRegions`` allows; an allowed region
that looks like a misspelling of a catalogued one is reported (a warning: see :func:`notice_allowed_regions`)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from inferstack.catalog import zones as catalogue
from inferstack.catalog.clouds import CLOUDS
from inferstack.config.base import Cloud
from inferstack.config.stack import ConfigIssue, StackConfig, file_issue


def _stem(region: str) -> str:
    """``eu-central-1`` -> ``eu-central-``, ``europe-west4`` -> ``europe-west``: the name without its number."""
    return region.rstrip("0123456789")


def misspelt_region(region: str, cloud: Cloud | None = None) -> str | None:
    """The catalogued region (of ``cloud``, or of any cloud) that ``region`` looks like a misspelling of; None when
    ``region`` is catalogued, close to none, or a catalogued region's name with another number (``ap-south-9``,
    ``europe-west13``: how a region newer than the catalogue is named, so not taken for a typo)."""
    clouds = [cloud] if cloud is not None else list(Cloud)
    if any(catalogue.is_catalogued(c, region) for c in clouds):
        return None
    known = sorted({r for c in clouds for r in catalogue.regions_of(c)})
    if _stem(region) != region and any(_stem(region) == _stem(r) for r in known):
        return None
    close = difflib.get_close_matches(region, known, n=1, cutoff=0.8)
    return close[0] if close else None


def check_region(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """The provider region (``aws:region`` / ``gcp:region``) is in ``residency.allowedRegions``."""
    allowed = cfg.settings.residency.allowed_regions
    if cfg.region not in allowed:
        yield file_issue(
            CLOUDS[cfg.cloud].region_key,
            f"{cfg.region!r} is not in inferstack:residency.allowedRegions; allowed: {', '.join(allowed)}",
        )


def notice_allowed_regions(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """Warnings, not errors: an ``allowedRegions`` entry (other than the stack's region, which ``check_zones``
    reports) that is not a catalogued region of the cloud but close to one, e.g. eu-wst-1 -> eu-west-1.

    A warning, because a misspelt entry fails safe (it only narrows what the residency policy allows: a resource in
    the intended region is then refused, loudly, at preview) while refusing it would lock out a region newer than the
    zone catalogue, which ``allowedRegions`` has no other way to name."""
    for i, region in enumerate(cfg.settings.residency.allowed_regions):
        close = None if region == cfg.region else misspelt_region(region, cfg.cloud)
        if close:
            yield ConfigIssue(
                ("residency", "allowedRegions", i),
                f"{region!r} is not among the zone catalogue's {cfg.cloud.value} regions; did you mean {close}? "
                f"(kept as written: the residency policy allows only the regions listed)",
            )
