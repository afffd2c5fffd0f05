"""``policy check --program``: the policy keys of a program's stack file become the config's PolicySettings."""

from __future__ import annotations

import pytest

from inferstack.catalog.clouds import Cloud
from inferstack.config import ConfigError, Environment, PolicySettings
from inferstack.config.policy import PolicyConfig
from inferstack.config.stack import parse_policy_settings as program_policy_settings
from inferstack.policies.pack import pack_config
from tests.conftest import stack_config

BASE = {
    "aws:region": "eu-west-1",
    "inferstack:cloud": "aws",
    "inferstack:environment": "prod",
    "inferstack:residency": {"allowedRegions": ["eu-west-1"]},
}


def test_policy_keys_only() -> None:
    config = {**BASE, "app:anything": {"x": 1}, "inferstack:models": "not even validated", "gcp:project": "acme-ml",
              "inferstack:policy": '{"allowPublicInference": true}'}  # as Pulumi passes structured values: JSON
    cloud, settings = program_policy_settings(config, "Pulumi.team.yaml")
    assert cloud is Cloud.AWS
    assert settings == PolicySettings(environment=Environment.PROD, allowed_regions=("eu-west-1",),
                                      policy=PolicyConfig(allow_public_inference=True))


def test_same_settings_as_the_full_stack_parser() -> None:
    full = stack_config("gcp-prod")
    policy_keys = {k: v for k, v in full.values.items() if k.startswith("inferstack:")}
    cloud, settings = program_policy_settings(policy_keys, "x")
    assert cloud is full.cloud and settings == full.policy_settings()
    assert pack_config(settings) == pack_config(full.policy_settings())


@pytest.mark.parametrize(
    ("change", "paths"),
    [
        ({"inferstack:cloud": "azure"}, ["inferstack:cloud"]),
        ({"inferstack:environment": "qa"}, ["inferstack:environment"]),
        ({"inferstack:residency": {"allowedRegion": ["eu-west-1"]}},
         ["inferstack:residency.allowedRegions", "inferstack:residency.allowedRegion"]),
        ({"inferstack:residency": {"allowedRegions": []}}, ["inferstack:residency.allowedRegions"]),
        ({"inferstack:policy": {"enforcement": {"kms-key-rotation": "strict"}}},
         ["inferstack:policy.enforcement.kms-key-rotation"]),
        ({"inferstack:policy": {"allowEverything": True}}, ["inferstack:policy.allowEverything"]),
    ],
)
def test_a_bad_policy_key_is_named(change: dict, paths: list[str]) -> None:
    with pytest.raises(ConfigError) as err:
        program_policy_settings({**BASE, **change}, "Pulumi.team.yaml")
    assert [i.path for i in err.value.issues] == paths


def test_missing_keys_are_named() -> None:
    with pytest.raises(ConfigError) as err:
        program_policy_settings({"aws:region": "eu-west-1"}, "Pulumi.team.yaml")
    assert sorted(i.path for i in err.value.issues) == ["inferstack:cloud", "inferstack:environment", "inferstack:residency"]
