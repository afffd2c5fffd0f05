"""Where a model version's artifacts live in the registry bucket. Serving's ``storageUri`` is built from this."""

from __future__ import annotations

import re

from inferstack.config.bounded import DecodeError, fullmatch, shown
from inferstack.config.bounded import version as decode_version
from inferstack.config.patterns import ALLOWED, REGISTRY_MODEL_PATTERN, REGISTRY_VERSION_MAX


def artifact_prefix(model: str, version: int | str) -> str:
    """Object key prefix of a model version: ``models/<model>/v<version>/``; ValueError for a model name or version
    the stack config would refuse (the same patterns, inferstack.config.patterns)."""
    if not fullmatch(REGISTRY_MODEL_PATTERN, model):
        raise ValueError(f"invalid model name {shown(model)}; {ALLOWED[REGISTRY_MODEL_PATTERN]}")
    if isinstance(version, bool) or not (isinstance(version, str) or 1 <= version <= REGISTRY_VERSION_MAX):
        raise ValueError(f"invalid version {version!r}; versions are 1 to {REGISTRY_VERSION_MAX}")
    v = decode_version(version) if isinstance(version, str) else version
    return f"models/{model}/v{v}/"


def storage_uri(scheme: str, bucket: str, model: str, version: int | str) -> str:
    """``s3://bucket/models/<model>/v<version>/`` or ``gs://...``: what KServe's storageUri points at."""
    if scheme not in ("s3", "gs"):
        raise ValueError(f"invalid scheme {scheme!r}; allowed: s3, gs")
    return f"{scheme}://{bucket}/{artifact_prefix(model, version)}"


#: Every version prefix lives under this root (``models/<model>/v<version>/``).
MODELS_ROOT = "models/"

_KEY = re.compile(r"models/(?P<model>[^/]+)/v(?P<version>[0-9]+)/(?P<path>.*)", re.ASCII | re.DOTALL)


def parse_artifact_key(key: str) -> tuple[str, int, str] | None:
    """``models/<model>/v<N>/<path>`` → (model, N, path); None for a key outside the layout."""
    m = _KEY.fullmatch(key)
    if not m or not fullmatch(REGISTRY_MODEL_PATTERN, m.group("model")):
        return None
    try:
        version = decode_version(m.group("version"))  # bounded: a key with a 5,000-digit "version" is not ours
    except DecodeError:
        return None
    return m.group("model"), version, m.group("path")


def check_relpath(path: str) -> str:
    """A file path inside a version (``dir/file.bin``): relative, '/'-separated, no '.', '..' or empty parts.

    Pull writes manifest paths under a local directory, so a path that could leave it is refused.
    """
    parts = path.split("/")
    if not path or path.startswith("/") or "\\" in path or "\0" in path or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"invalid artifact path {path!r}: must be relative, '/'-separated, without '.', '..' or empty parts")
    return path
