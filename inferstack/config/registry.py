"""Config of the model registry and the secret store."""

from __future__ import annotations

from pydantic import Field

from inferstack.config.base import StrictModel


class RegistryConfig(StrictModel):
    """The model registry: a versioned, CMK-encrypted bucket plus version metadata."""

    noncurrent_version_days: int = Field(90, ge=1, le=3650, description="Days a noncurrent object version is kept.")
    writer_principals: list[str] = Field(
        default_factory=list, description="Principals (CI roles / service accounts) allowed to push models."
    )
    force_destroy: bool = Field(False, description="Allow deleting a non-empty bucket (dev only).")
