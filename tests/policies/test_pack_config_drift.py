"""The committed --policy-pack-config files are exactly what each stack's settings generate (one source of truth)."""

from __future__ import annotations

import json

import pytest

from inferstack.policies.pack import pack_config
from tests.conftest import REFERENCE_STACKS, REPO, stack_config


@pytest.mark.parametrize("name", REFERENCE_STACKS)
def test_pack_config_matches_stack(name: str) -> None:
    committed = json.loads((REPO / "policies" / "config" / f"{name}.json").read_text())
    assert committed == json.loads(json.dumps(pack_config(stack_config(name)))), (
        f"policies/config/{name}.json is stale: run `inferstack policy config --stack {name} --write`"
    )


def test_prod_levels_are_mandatory_and_dev_has_advisory() -> None:
    prod = pack_config(stack_config("prod"))
    dev = pack_config(stack_config("dev"))
    levels = lambda c: {k: v["enforcementLevel"] if isinstance(v, dict) else v for k, v in c.items()}  # noqa: E731
    assert set(levels(prod).values()) == {"mandatory"}
    assert "advisory" in set(levels(dev).values())
