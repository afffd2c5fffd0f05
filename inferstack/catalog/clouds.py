"""The clouds inferstack runs on and what the config needs to know of each: its config namespace and region key.

One table (:data:`CLOUDS`) answers "which key holds this stack's region" and "does this cloud need a project";
the config parser, the component package and the offline engine read it instead of branching on the cloud.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Cloud(str, Enum):
    """The cloud a stack runs on."""

    AWS = "aws"
    GCP = "gcp"


@dataclass(frozen=True)
class CloudInfo:
    """Config facts of one cloud: its provider's config namespace and the keys the stack file sets there."""

    cloud: Cloud
    #: Provider package / config namespace (``aws``, ``gcp``).
    namespace: str
    #: Registry URI scheme of the model bucket (``s3``, ``gs``).
    storage_scheme: str
    #: Whether the stack must name a project (``gcp:project``).
    needs_project: bool

    @property
    def region_key(self) -> str:
        """Stack config key of the region (``aws:region``, ``gcp:region``)."""
        return f"{self.namespace}:region"

    @property
    def project_key(self) -> str | None:
        """Stack config key of the project (``gcp:project``), or None when the cloud has none."""
        return f"{self.namespace}:project" if self.needs_project else None


CLOUDS: dict[Cloud, CloudInfo] = {
    Cloud.AWS: CloudInfo(Cloud.AWS, namespace="aws", storage_scheme="s3", needs_project=False),
    Cloud.GCP: CloudInfo(Cloud.GCP, namespace="gcp", storage_scheme="gs", needs_project=True),
}

#: Every region key, for code that maps a config key back to "the region".
REGION_KEYS = frozenset(info.region_key for info in CLOUDS.values())
