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


#: Every version prefix lives under this root (``models/<model>/v<version>/``).
MODELS_ROOT = "models/"

_KEY = re.compile(r"^models/(?P<model>[^/]+)/v(?P<version>[0-9]+)/(?P<path>.*)$")


def parse_artifact_key(key: str) -> tuple[str, int, str] | None:
    """``models/<model>/v<N>/<path>`` → (model, N, path); None for a key outside the layout."""
    m = _KEY.match(key)
    if not m or not _MODEL.match(m.group("model")) or int(m.group("version")) < 1:
        return None
    return m.group("model"), int(m.group("version")), m.group("path")


def check_relpath(path: str) -> str:
    """A file path inside a version (``dir/file.bin``): relative, '/'-separated, no '.', '..' or empty parts.

    Pull writes manifest paths under a local directory, so a path that could leave it is refused.
    """
    parts = path.split("/")
    if not path or path.startswith("/") or "\\" in path or "\0" in path or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"invalid artifact path {path!r}: must be relative, '/'-separated, without '.', '..' or empty parts")
    return path
