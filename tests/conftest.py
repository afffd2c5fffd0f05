"""Shared fixtures: reference stacks and their offline-engine recordings (run once per session)."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from inferstack.config import StackConfig
from inferstack.engine import Recording, run_stack
from inferstack.load import load_stack_file

REPO = Path(__file__).resolve().parent.parent
STACKS_DIR = REPO / "stacks"
REFERENCE_STACKS = ["dev", "staging", "prod", "gcp-dev", "gcp-prod"]
AWS_STACKS = ["dev", "staging", "prod"]
GCP_STACKS = ["gcp-dev", "gcp-prod"]


def stack_path(name: str) -> Path:
    return STACKS_DIR / f"Pulumi.{name}.yaml"


@functools.cache
def stack_config(name: str) -> StackConfig:
    return load_stack_file(stack_path(name))


@functools.cache
def recording(name: str) -> Recording:
    """The offline-engine recording of a reference stack, computed once per test session."""
    return run_stack(stack_config(name))


@pytest.fixture(params=REFERENCE_STACKS)
def reference_stack(request: pytest.FixtureRequest) -> str:
    return request.param


# tests/e2e needs tools built from Go modules (make e2e builds them and sets INFERSTACK_E2E=1); `make test` needs
# no Go, so it does not collect them.
collect_ignore = [] if __import__("os").environ.get("INFERSTACK_E2E") == "1" else ["e2e"]
