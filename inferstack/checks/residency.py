"""Check of residency: the stack's region is one ``inferstack:residency.allowedRegions`` allows."""

from __future__ import annotations

from collections.abc import Iterable

from inferstack.catalog.clouds import CLOUDS
from inferstack.config.stack import ConfigIssue, StackConfig, file_issue


def check_region(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """The provider region (``aws:region`` / ``gcp:region``) is in ``residency.allowedRegions``."""
    allowed = cfg.settings.residency.allowed_regions
    if cfg.region not in allowed:
        yield file_issue(
            CLOUDS[cfg.cloud].region_key,
            f"{cfg.region!r} is not in inferstack:residency.allowedRegions; allowed: {', '.join(allowed)}",
        )
