"""Capacity ladders on GKE: one node pool per rung (reservation affinity, flex-start, spot), a ComputeClass with the
priorities in ladder order and active migration, and gcp-prod's rendered objects."""

from __future__ import annotations

from typing import Any

import pytest

from inferstack import sizing
from inferstack.components.gcp import node_pools as gnp
from inferstack.config.base import Cloud
from inferstack.engine import run_stack
from inferstack.load import load_stack
from tests.conftest import recording, stack_config
from tests.sizing.test_capacity_ladder import SHAPES
from tests.sizing.test_capacity_planner import gcp_config

NODEPOOL = "gcp:container/nodePool:NodePool"
COMPUTE_CLASS = "kubernetes:cloud.google.com/v1:ComputeClass"
RES = {"id": "l4-reservation", "zone": "europe-west4-b"}
#: The ladder shapes on GKE (GCE reservations are named; Capacity Blocks are AWS only).
GKE_SHAPES: dict[str, tuple[str, list[dict[str, Any]], int]] = {
    "reserved-only": ("nvidia-l4", [{"tier": "reserved", "minNodes": 1, "maxNodes": 2, "reservations": [RES]}], 2),
    "reserved-on-demand-spot": (
        "nvidia-l4",
        [{"tier": "reserved", "minNodes": 2, "maxNodes": 2, "reservations": [RES]}, {"tier": "on-demand", "maxNodes": 6},
         {"tier": "spot", "maxNodes": 4}], 12),
    "spot-on-demand": ("nvidia-l4", SHAPES["spot-on-demand"][0], 6),
    "spot-flex-on-demand": ("tpu-v5e", SHAPES["spot-flex-on-demand"][0], 4),
    "on-demand-only": ("nvidia-l4", SHAPES["on-demand-only"][0], 3),
}
ZONES = ["europe-west4-a", "europe-west4-b", "europe-west4-c"]


@pytest.fixture(scope="module")
def rec():
    """One stack holding a pool of every ladder shape, run once under the offline engine."""
    pools = [{"name": name, "kind": kind, "maxNodes": n, "ladder": ladder, "workload": "batch"} for name, (kind, ladder, n) in GKE_SHAPES.items()]
    cfg = gcp_config(pools, [])
    cfg["inferstack:network"] = {"availabilityZones": 3}
    return run_stack(load_stack("ladders", cfg))


def _pools(rec, pool: str) -> dict[str, dict[str, Any]]:
    return {r.inputs["name"]: r.inputs for r in rec.by_type(NODEPOOL) if r.inputs["nodeConfig"]["labels"].get("inferstack.io/pool") == pool}


@pytest.mark.parametrize("shape", sorted(GKE_SHAPES))
def test_node_pool_per_rung_and_priorities_in_ladder_order(rec, shape: str) -> None:
    kind, ladder, n = GKE_SHAPES[shape]
    tiers = sizing.plan_pool(Cloud.GCP, load_stack("x", gcp_config([{"name": shape, "kind": kind, "maxNodes": n, "ladder": ladder}], [])).settings.accelerator_pools[0]).tiers
    names = [f"{shape}-{gnp.TIER_SUFFIX[t.name]}" for t in tiers]
    pools = _pools(rec, shape)
    assert sorted(pools) == sorted(names)
    (cc,) = [c.inputs for c in rec.by_type(COMPUTE_CLASS) if c.inputs["metadata"]["name"] == f"inferstack-{shape}"]
    assert cc["spec"]["priorities"] == [{"nodepools": [name]} for name in names]
    assert cc["spec"]["activeMigration"] == {"optimizeRulePriority": True}
    assert cc["spec"]["whenUnsatisfiable"] == "DoNotScaleUp" and cc["spec"]["nodePoolAutoCreation"] == {"enabled": False}
    assert cc["metadata"]["labels"][gnp.WORKLOAD_LABEL] == "batch"
    for tier, name in zip(tiers, names, strict=True):
        np, nc = pools[name], pools[name]["nodeConfig"]
        assert np["autoscaling"]["totalMinNodeCount"] == tier.min_nodes and np["autoscaling"]["totalMaxNodeCount"] == tier.max_nodes
        assert nc["spot"] is (tier.name == "spot")
        assert nc.get("flexStart", False) is (tier.name == "flex-start")
        if tier.name == "reserved":
            assert nc["reservationAffinity"] == {"consumeReservationType": "SPECIFIC_RESERVATION",
                                                 "key": gnp.RESERVATION_NAME_KEY, "values": ["l4-reservation"]}
            assert np["nodeLocations"] == ["europe-west4-b"]  # the reservation's zone
            assert np["autoscaling"]["locationPolicy"] == "ANY"
        elif tier.name == "flex-start":
            assert nc["reservationAffinity"] == {"consumeReservationType": "NO_RESERVATION"}
            assert np["autoscaling"]["locationPolicy"] == "ANY"
        else:
            assert "reservationAffinity" not in nc


def test_node_pool_names_fit_gke_limit() -> None:
    assert max(len(s) for s in gnp.TIER_SUFFIX.values()) <= len("on-demand")


def test_pools_without_a_ladder_keep_spot_then_on_demand() -> None:
    pool = load_stack("x", gcp_config([{"name": "gpu", "kind": "nvidia-l4", "maxNodes": 4}], [])).settings.accelerator_pools[0]
    plans = gnp.node_pool_plans(pool)
    assert [(p.suffix, p.spot, p.capacity_type, p.reservations) for p in plans] == [("spot", True, "spot", ()), ("on-demand", False, "on-demand", ())]
    assert gnp.reservation_affinity(plans[0]) is None


def test_gcp_prod_renders_its_ladders() -> None:
    rec = recording("gcp-prod")
    for pool in (p for p in stack_config("gcp-prod").settings.accelerator_pools if p.ladder is not None):
        tiers = sizing.plan_pool(Cloud.GCP, pool).tiers
        (cc,) = [c.inputs for c in rec.by_type(COMPUTE_CLASS) if c.inputs["metadata"]["name"] == f"inferstack-{pool.name}"]
        assert cc["spec"]["priorities"] == [{"nodepools": [f"{pool.name}-{gnp.TIER_SUFFIX[t.name]}"]} for t in tiers]
        assert cc["metadata"]["labels"][gnp.WORKLOAD_LABEL] == pool.workload.value
    first = {c.inputs["metadata"]["name"]: c.inputs["spec"]["priorities"][0]["nodepools"][0] for c in rec.by_type(COMPUTE_CLASS)}
    assert first == {"inferstack-gpu-l4": "gpu-l4-reserved", "inferstack-tpu-v5e": "tpu-v5e-spot", "inferstack-gpu-dra": "gpu-dra-spot",
                     "inferstack-gpu-mig": "gpu-mig-spot"}


def test_europe_west1_cluster_and_gpu_pools_use_catalogue_zones() -> None:
    config = gcp_config([{"name": "gpu", "kind": "nvidia-l4", "maxNodes": 2}], [])
    config["gcp:region"] = "europe-west1"
    config["inferstack:residency"] = {"allowedRegions": ["europe-west1"]}
    config["inferstack:network"] = {"availabilityZones": 3}
    rec = run_stack(load_stack("ew1", config))
    (cluster,) = rec.by_type("gcp:container/cluster:Cluster")
    assert cluster.inputs["nodeLocations"] == ["europe-west1-b", "europe-west1-c", "europe-west1-d"]  # no europe-west1-a
    gpu = [np.inputs for np in rec.by_type(NODEPOOL) if np.inputs["name"] != "system"]  # the system pool follows the cluster
    # L4 is offered in europe-west1-b and -c only (generated GPU zone table): the GPU pools use those of the cluster's
    assert len(gpu) == 2 and all(np["nodeLocations"] == ["europe-west1-b", "europe-west1-c"] for np in gpu)
