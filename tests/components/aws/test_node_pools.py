"""Pure logic of the AWS platform: pool plans, limits, subnet plan, endpoint exposure, IAM policy, config errors."""

from __future__ import annotations

import ipaddress

import pytest

from inferstack.components.aws.cluster import endpoint_access
from inferstack.components.aws.karpenter import controller_policy
from inferstack.components.aws.kms import key_policy
from inferstack.components.aws.network import plan_subnets
from inferstack.components.aws.node_pools import (
    disruption,
    ec2_node_class_spec,
    limits,
    plan_pool,
)
from inferstack.config import ConfigError
from inferstack.config.platform import AcceleratorPoolConfig, ClusterConfig
from inferstack.load import load_stack

BASE = {
    "aws:region": "eu-west-1",
    "inferstack:cloud": "aws",
    "inferstack:environment": "dev",
    "inferstack:residency": {"allowedRegions": ["eu-west-1"]},
}


def pool(**kw) -> AcceleratorPoolConfig:
    return AcceleratorPoolConfig.model_validate({"name": "gpu", "kind": "nvidia-l4", **kw})


def test_spot_first_is_one_pool_with_both_capacity_types() -> None:
    plan = plan_pool(pool(maxNodes=4))
    assert plan.node_pools == (("gpu", ("spot", "on-demand"), 4, None),)
    assert [s.name for s in plan.shapes] == ["g6.xlarge", "g6.2xlarge"]  # every 1-GPU L4 shape: more spot pools to draw on


def test_on_demand_baseline_is_a_heavier_on_demand_pool_within_max_nodes() -> None:
    plan = plan_pool(pool(maxNodes=6, onDemandBaseline=2))
    assert plan.node_pools == (("gpu-on-demand-baseline", ("on-demand",), 2, 50), ("gpu", ("spot", "on-demand"), 4, None))
    assert sum(n for _, _, n, _ in plan.node_pools) == 6
    only_baseline = plan_pool(pool(maxNodes=2, onDemandBaseline=2))
    assert only_baseline.node_pools == (("gpu-on-demand-baseline", ("on-demand",), 2, 50),)


def test_capacity_modes() -> None:
    assert plan_pool(pool(capacity="spot-only", maxNodes=3)).node_pools == (("gpu", ("spot",), 3, None),)
    assert plan_pool(pool(capacity="spot-only", maxNodes=3, onDemandBaseline=1)).node_pools == (
        ("gpu-on-demand-baseline", ("on-demand",), 1, 50), ("gpu", ("spot",), 2, None))
    assert plan_pool(pool(capacity="on-demand", onDemandBaseline=2, maxNodes=3)).node_pools == (("gpu", ("on-demand",), 3, None),)


def test_devices_per_node_picks_shapes_and_limits() -> None:
    plan = plan_pool(pool(kind="aws-inferentia2", devicesPerNode=6, maxNodes=3))
    assert [s.name for s in plan.shapes] == ["inf2.24xlarge"]
    assert limits(plan.shapes, "aws.amazon.com/neuron", 3) == {"aws.amazon.com/neuron": "18", "cpu": "288", "memory": "1152Gi"}


def test_disruption_never_consolidates_busy_nodes_and_freezes_drift_in_prod() -> None:
    d = disruption(pool(), prod=False)
    assert d == {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "30m", "budgets": [{"nodes": "1"}]}
    assert disruption(pool(), prod=True)["budgets"][1]["reasons"] == ["Drifted"]


def test_node_class_spec() -> None:
    spec = ec2_node_class_spec(pool="gpu", kind="nvidia-l4", cluster_name="c", instance_profile="p", security_group_id="sg-1", kms_key_arn="arn:k")
    assert spec["metadataOptions"]["httpTokens"] == "required" and spec["metadataOptions"]["httpPutResponseHopLimit"] == 1
    assert spec["blockDeviceMappings"][0]["ebs"]["kmsKeyID"] == "arn:k"
    assert spec["associatePublicIPAddress"] is False


def test_subnet_plan_disjoint_inside_vpc() -> None:
    plan = plan_subnets("10.30.0.0/16", "eu-west-1", 3)
    assert plan.zones == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    nets = [ipaddress.ip_network(c) for c in plan.private + plan.public]
    assert all(n.subnet_of(ipaddress.ip_network("10.30.0.0/16")) for n in nets)
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])
    assert plan.private[0] == "10.30.0.0/19" and plan.public[0] == "10.30.224.0/22"
    with pytest.raises(ValueError, match="too small"):
        plan_subnets("10.0.0.0/24", "eu-west-1", 2)


def test_endpoint_private_by_default_and_never_open_to_the_internet() -> None:
    assert endpoint_access(ClusterConfig()) == (False, None)
    public = {"endpoint": {"access": "public", "publicAccessCidrs": ["203.0.113.0/24"]}}
    assert endpoint_access(ClusterConfig.model_validate(public)) == (True, ["203.0.113.0/24"])
    for bad in ({"endpoint": {"access": "public"}}, {"endpoint": {"access": "public", "publicAccessCidrs": ["0.0.0.0/0"]}}):
        with pytest.raises(ValueError):
            ClusterConfig.model_validate(bad)


def test_public_endpoint_errors_name_the_key() -> None:
    with pytest.raises(ConfigError) as err:
        load_stack("t", {**BASE, "inferstack:cluster": {"endpoint": {"access": "public", "publicAccessCidrs": ["0.0.0.0/0"]}}})
    assert any(i.path == "inferstack:cluster.endpoint.publicAccessCidrs" for i in err.value.issues)


@pytest.mark.parametrize(("kind", "message"), [("nvidia-b999", "unknown accelerator kind"), ("tpu-v5e", "not offered on aws")])
def test_unknown_or_other_cloud_kind_is_a_config_error(kind: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_stack("t", {**BASE, "inferstack:acceleratorPools": [{"name": "gpu-pool", "kind": kind}]})
    (issue,) = err.value.issues
    assert issue.path == "inferstack:acceleratorPools[0].kind" and message in issue.message and "nvidia-l4" in issue.message


def test_controller_policy_scoped() -> None:
    doc = controller_policy(
        partition="aws", region="eu-west-1", account_id="123456789012", cluster_name="c", queue_arn="arn:q",
        node_role_arn="arn:r", instance_profile_arn="arn:ip", kms_key_arn="arn:k",
    )  # fmt: skip
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert by_sid["AllowScopedDeletion"]["Condition"]["StringEquals"] == {"aws:ResourceTag/kubernetes.io/cluster/c": "owned"}
    assert by_sid["AllowPassingInstanceRole"]["Resource"] == "arn:r"
    assert by_sid["AllowRegionalReadActions"]["Condition"] == {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
    writes_on_star = [s["Sid"] for s in doc["Statement"] if s["Resource"] == "*" and s["Sid"] not in ("AllowRegionalReadActions", "AllowPricingReadActions")]
    assert writes_on_star == []


def test_key_policy_has_no_wildcard_action() -> None:
    doc = key_policy("123456789012", "eu-west-1")
    actions = [a for s in doc["Statement"] for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]
    assert "kms:*" not in actions and "*" not in actions
    logs = next(s for s in doc["Statement"] if s["Sid"] == "CloudWatchLogs")
    assert logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == "arn:aws:logs:eu-west-1:123456789012:*"
