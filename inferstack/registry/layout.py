"""Where a model version's artifacts live in the registry bucket. Serving's ``storageUri`` is built from this."""

from __future__ import annotations

import re

_MODEL = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}$")


def artifact_prefix(model: str, version: int | str) -> str:
    """Object key prefix of a model version: ``models/<model>/v<version>/``."""
    if not _MODEL.match(model):
        raise ValueError(f"invalid model name {model!r}: lower-case letters, digits, '.', '_' and '-'")
    v = int(version)
    if v < 1:
        raise ValueError(f"invalid version {version!r}: versions start at 1")
    return f"models/{model}/v{v}/"


def storage_uri(scheme: str, bucket: str, model: str, version: int | str) -> str:
    """``s3://bucket/models/<model>/v<version>/`` or ``gs://...``: what KServe's storageUri points at."""
    if scheme not in ("s3", "gs"):
        raise ValueError(f"invalid scheme {scheme!r}; allowed: s3, gs")
    return f"{scheme}://{bucket}/{artifact_prefix(model, version)}"
