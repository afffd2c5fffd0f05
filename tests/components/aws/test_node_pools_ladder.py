"""Capacity ladders on EKS: one Karpenter NodePool per rung (capacity type, weight in ladder order, limits), the
EC2NodeClass's capacity reservation selector terms, Capacity Block drain, and prod's rendered objects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inferstack import sizing
from inferstack.components.aws import node_pools as anp
from inferstack.config.base import Cloud
from tests.conftest import REPO, recording, stack_config
from tests.sizing.test_capacity_ladder import SHAPES, ladder_pool

NODEPOOL = "kubernetes:karpenter.sh/v1:NodePool"
NODECLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
#: Upstream CRD schemas beside the project (developers and CI have ../shared; a user's clone does not).
SCHEMAS = REPO.parent / "shared" / "schemas"
AWS_SHAPES = sorted(s for s in SHAPES if "flex" not in s)


def specs(shape: str, prod: bool = True) -> tuple[anp.PoolPlan, list[dict[str, Any]]]:
    ladder, max_nodes, _ = SHAPES[shape]
    plan = anp.plan_pool(ladder_pool(ladder, max_nodes, workload="latency-critical"))
    out = [
        anp.node_pool_spec(plan, name, types, nodes, weight, ZONES, "gpu", prod, plan.tiers[i])
        for i, (name, types, nodes, weight) in enumerate(plan.node_pools)
    ]
    return plan, out


def req(spec: dict[str, Any], key: str) -> list[str]:
    (r,) = [r for r in spec["template"]["spec"]["requirements"] if r["key"] == key]
    return r["values"]


@pytest.mark.parametrize("shape", AWS_SHAPES)
def test_one_nodepool_per_rung_weighted_in_ladder_order(shape: str) -> None:
    plan, nps = specs(shape)
    tiers = sizing.plan_pool(Cloud.AWS, plan.pool).tiers
    assert [name for name, *_ in plan.node_pools] == [f"gpu-{t.name}" for t in tiers]
    assert [req(s, "karpenter.sh/capacity-type") for s in nps] == [[t.name] for t in tiers]
    weights = [s["weight"] for s in nps]
    assert weights == sorted(weights, reverse=True) and len(set(weights)) == len(weights)
    assert all(1 <= w <= 100 for w in weights) and weights[0] == anp.LADDER_TOP_WEIGHT
    for spec, tier in zip(nps, tiers, strict=True):
        assert spec["limits"]["nvidia.com/gpu"] == str(tier.max_nodes)  # one L4 per node
        assert spec["template"]["metadata"]["labels"][anp.WORKLOAD_LABEL] == "latency-critical"


def test_reserved_rung_selects_its_reservations_and_their_zone() -> None:
    plan, nps = specs("reserved-on-demand-spot")
    assert req(nps[0], "topology.kubernetes.io/zone") == ["eu-west-1a"]  # the reservation's zone
    assert req(nps[1], "topology.kubernetes.io/zone") == ZONES
    nc = anp.ec2_node_class_spec(pool="gpu", kind="nvidia-l4", cluster_name="c", instance_profile="p", security_group_id="sg",
                                 kms_key_arn="arn:k", reservations=plan.reservations)
    assert nc["capacityReservationSelectorTerms"] == [{"id": "cr-0a1b2c3d4e5f60718"}]
    none = anp.ec2_node_class_spec(pool="gpu", kind="nvidia-l4", cluster_name="c", instance_profile="p", security_group_id="sg",
                                   kms_key_arn="arn:k")
    assert "capacityReservationSelectorTerms" not in none


def test_capacity_block_rung_drains_within_the_ten_minutes_ec2_leaves() -> None:
    _, nps = specs("capacity-block")
    assert nps[0]["template"]["spec"]["terminationGracePeriod"] == anp.CAPACITY_BLOCK_GRACE_PERIOD == "10m"
    assert nps[1]["template"]["spec"]["terminationGracePeriod"] == anp.TERMINATION_GRACE_PERIOD
    assert req(nps[0], "topology.kubernetes.io/zone") == ["eu-west-1b"]
    _, plain = specs("reserved-only")
    assert plain[0]["template"]["spec"]["terminationGracePeriod"] == anp.TERMINATION_GRACE_PERIOD  # a default ODCR does not end in a kill


def test_flex_start_is_refused_on_aws() -> None:
    ladder, max_nodes, _ = SHAPES["spot-flex-on-demand"]
    with pytest.raises(ValueError, match="flex-start is a GKE capacity tier"):
        anp.plan_pool(ladder_pool(ladder, max_nodes))


def test_pools_without_a_ladder_keep_their_nodepools_and_labels() -> None:
    plan = anp.plan_pool(ladder_pool(None, 6, onDemandBaseline=2))  # type: ignore[arg-type]
    assert plan.node_pools == (("gpu-on-demand-baseline", ("on-demand",), 2, 50), ("gpu", ("spot", "on-demand"), 4, None))
    spec = anp.node_pool_spec(plan, "gpu", ("spot", "on-demand"), 4, None, ZONES, "gpu", True)
    assert anp.WORKLOAD_LABEL not in spec["template"]["metadata"]["labels"] and "weight" not in spec


def _prod_nodepools(pool: str) -> dict[str, dict[str, Any]]:
    """The pool's NodePools by name, heaviest (most preferred) first."""
    nps = [r.inputs for r in recording("prod").by_type(NODEPOOL) if r.inputs["spec"]["template"]["metadata"]["labels"]["inferstack.io/pool"] == pool]
    return {np["metadata"]["name"]: np for np in sorted(nps, key=lambda np: -np["spec"].get("weight", 0))}


def test_prod_renders_the_plan_of_each_ladder() -> None:
    cfg = stack_config("prod")
    for pool in (p for p in cfg.settings.accelerator_pools if p.ladder is not None):
        plan = sizing.plan_pool(Cloud.AWS, pool)
        nps = _prod_nodepools(pool.name)
        assert list(nps) == [f"{pool.name}-{t.name}" for t in plan.tiers]
        for tier, (name, np) in zip(plan.tiers, nps.items(), strict=True):
            assert req(np["spec"], "karpenter.sh/capacity-type") == list(tier.purchase), name
            assert np["metadata"]["labels"][anp.WORKLOAD_LABEL] == pool.workload.value
        assert [np["spec"]["weight"] for np in nps.values()] == [anp.ladder_weight(i) for i in range(len(plan.tiers))]
    # the latency-critical pool starts on its reservation; the batch pool on spot
    assert [req(np["spec"], "karpenter.sh/capacity-type") for np in _prod_nodepools("gpu-l4").values()][0] == ["reserved"]
    assert [req(np["spec"], "karpenter.sh/capacity-type") for np in _prod_nodepools("gpu-l40s").values()][0] == ["spot"]
    (l4_class,) = [r.inputs for r in recording("prod").by_type(NODECLASS) if r.inputs["metadata"]["name"] == "gpu-l4"]
    assert l4_class["spec"]["capacityReservationSelectorTerms"] == [{"id": "cr-0a1b2c3d4e5f60718"}]


def _schema(name: str) -> dict[str, Any]:
    path = SCHEMAS / name
    if not path.is_file():
        pytest.skip(f"{path} absent (upstream schemas live beside the project, in ../shared)")
    return json.loads(Path(path).read_text())["openAPIV3Schema"]


@pytest.mark.parametrize("shape", AWS_SHAPES)
def test_ladder_objects_pass_the_upstream_karpenter_schemas(shape: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    np_schema = _schema("karpenter-v1.14.1-nodepool.v1.json")
    nc_schema = _schema("karpenter-v1.14.1-ec2nodeclass.v1.json")
    plan, nps = specs(shape)
    for spec in nps:
        jsonschema.validate({"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "x"}, "spec": spec}, np_schema)
    nc = anp.ec2_node_class_spec(pool="gpu", kind="nvidia-l4", cluster_name="c", instance_profile="p", security_group_id="sg-1",
                                 kms_key_arn="arn:aws:kms:eu-west-1:111122223333:key/k", reservations=plan.reservations)
    jsonschema.validate({"apiVersion": "karpenter.k8s.aws/v1", "kind": "EC2NodeClass", "metadata": {"name": "x"}, "spec": nc}, nc_schema)


def test_subnets_take_the_catalogue_zones() -> None:
    from inferstack.components.aws.network import plan_subnets

    assert plan_subnets("10.0.0.0/16", "eu-central-1", 3).zones == ["eu-central-1a", "eu-central-1b", "eu-central-1c"]
    with pytest.raises(KeyError, match="not in the zone catalogue"):
        plan_subnets("10.0.0.0/16", "ap-south-9", 2)  # a region launched after the catalogue
    assert plan_subnets("10.0.0.0/16", "ap-south-9", 2, ["ap-south-9a", "ap-south-9c"]).zones == ["ap-south-9a", "ap-south-9c"]
