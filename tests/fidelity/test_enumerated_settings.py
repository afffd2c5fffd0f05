"""Enum-like settings are checked at config time against what the service accepts (exit 2 naming the key), and
those checks never refuse a value the service accepts (every EC2 instance type botocore knows passes)."""

from __future__ import annotations

import re

import pytest

from inferstack.catalog.accelerators import CATALOG
from inferstack.catalog.clouds import Cloud
from inferstack.catalog.limits import NODE_TYPE_PATTERN
from inferstack.config import ConfigError
from inferstack.load import load_stack
from tests.fidelity import aws_fidelity as ax
from tests.fidelity import variations as v


def test_every_ec2_instance_type_has_the_aws_form() -> None:
    bad = [t for t in ax.enum_values("ec2", "InstanceType") if not re.fullmatch(NODE_TYPE_PATTERN["aws"], t)]
    assert not bad, bad[:10]


def test_every_catalogue_shape_has_its_clouds_form() -> None:
    for acc in CATALOG.values():
        for cloud in (Cloud.AWS, Cloud.GCP):
            for shape in acc.shapes(cloud):
                assert re.fullmatch(NODE_TYPE_PATTERN[cloud.value], shape.name), (cloud, shape.name)


@pytest.mark.parametrize(
    "stack,node_type",
    [("prod", "e2-standard-4"), ("prod", "m6i-large"), ("gcp-prod", "m6i.large"), ("gcp-prod", "e2standard4")],
)
def test_system_node_type_of_the_other_cloud_is_refused(stack: str, node_type: str) -> None:
    name, config, secrets = v.stack_values(stack)
    config["inferstack:cluster"] = {**config.get("inferstack:cluster", {}), "systemNodeType": node_type}
    with pytest.raises(ConfigError, match=r"inferstack:cluster\.systemNodeType: .* is not a (aws|gcp) instance/machine type"):
        load_stack(name, config, secret_keys=secrets)


@pytest.mark.parametrize("stack,node_type", [("prod", "m7i-flex.large"), ("gcp-prod", "n2d-standard-8")])
def test_system_node_type_of_the_right_form_is_accepted(stack: str, node_type: str) -> None:
    name, config, secrets = v.stack_values(stack)
    config["inferstack:cluster"] = {**config.get("inferstack:cluster", {}), "systemNodeType": node_type}
    assert load_stack(name, config, secret_keys=secrets).settings.cluster.system_node_type == node_type
