"""Fixtures of the e2e suite (collected only under INFERSTACK_E2E=1: `make e2e`).

``control_plane``: one real etcd + kube-apiserver for the whole session (tests/e2e/controlplane.py), started from
the binaries `make tools` builds (tests/e2e/tools.py: $KUBEBUILDER_ASSETS, .tools/bin, PATH; a missing one fails
the session with a message to run `make tools`, it never skips). Its interface (``url``, ``kubeconfig`` with
context ``inferstack-e2e``, ``ca_file``, ``cert_file``, ``key_file``, ``session()``) is what the Pulumi e2e tests use.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.controlplane import ControlPlane
from tests.e2e.tools import REPO


@pytest.fixture(scope="session")
def control_plane() -> Iterator[ControlPlane]:
    with ControlPlane() as cp:
        yield cp


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``$INFERSTACK_SHARED`` (set by `make e2e`), else ``../shared`` beside the repo; fails when absent."""
    path = Path(os.environ.get("INFERSTACK_SHARED") or REPO.parent / "shared")
    if not (path / "schemas").is_dir():
        pytest.fail(f"no CRD schemas in {path}/schemas: set INFERSTACK_SHARED to the shared directory "
                    "(make e2e passes ../shared)", pytrace=False)
    return path
