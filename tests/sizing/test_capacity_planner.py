"""Capacity planner: replicas from traffic, node shapes, node fit and pool limits (pure functions and config errors)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from inferstack import sizing
from inferstack.catalog import accelerators
from inferstack.catalog.accelerators import Family, Shape, lookup
from inferstack.config import Cloud, ConfigError
from inferstack.config.platform import AcceleratorPoolConfig
from inferstack.config.serving import CapacityPlanConfig, ModelConfig
from inferstack.load import load_stack
from tests.conftest import REFERENCE_STACKS, stack_config

MODEL = {
    "name": "chat",
    "namespace": "team-nlp",
    "format": "huggingface",
    "registryModel": "llama",
    "version": "3",
    "pool": "gpu",
    "accelerators": 1,
    "cpu": "4",
    "memory": "24Gi",
    "minReplicas": 1,
    "maxReplicas": 4,
}


def aws_config(pools: list[dict[str, Any]] | None = None, models: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    cfg = {
        "aws:region": "eu-central-1",
        "inferstack:cloud": "aws",
        "inferstack:environment": "dev",
        "inferstack:residency": {"allowedRegions": ["eu-central-1"]},
        "inferstack:acceleratorPools": pools if pools is not None else [{"name": "gpu", "kind": "nvidia-l4", "maxNodes": 4}],
        "inferstack:models": models if models is not None else [dict(MODEL)],
    }
    cfg.update({f"inferstack:{k}": v for k, v in extra.items()})
    return cfg


def gcp_config(pools: list[dict[str, Any]], models: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "gcp:region": "europe-west4",
        "gcp:project": "acme-ml",
        "inferstack:cloud": "gcp",
        "inferstack:environment": "dev",
        "inferstack:residency": {"allowedRegions": ["europe-west4"]},
        "inferstack:acceleratorPools": pools,
        "inferstack:models": models,
    }


def issues(config: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_stack("t", config)
    return [str(i) for i in err.value.issues]


def model(**kw: Any) -> dict[str, Any]:
    m = copy.deepcopy(MODEL)
    m.update(kw)
    return m


# ---------------------------------------------------------------- pure functions


@pytest.mark.parametrize(
    ("rps", "replica_rps", "headroom", "expected"),
    [(40, 6, 0.25, 9), (40, 6, 0.2, 8), (10, 10, 0, 1), (0.5, 10, 0.25, 1), (100, 7, 0, 15), (12, 4, 0.5, 5)],
)
def test_replicas_for(rps: float, replica_rps: float, headroom: float, expected: int) -> None:
    assert sizing.replicas_for(rps, replica_rps, headroom) == expected


def test_replicas_for_rejects_zero_throughput() -> None:
    with pytest.raises(ValueError):
        sizing.replicas_for(10, 0, 0.25)


def test_plan_replicas_with_and_without_base_rps() -> None:
    assert sizing.plan_replicas(CapacityPlanConfig(peak_rps=40, replica_rps=6, headroom=0.2)) == sizing.ReplicaPlan(1, 8)
    assert sizing.plan_replicas(CapacityPlanConfig(peak_rps=40, replica_rps=6, headroom=0.2, base_rps=10)) == sizing.ReplicaPlan(2, 8)


@pytest.mark.parametrize(("q", "gib"), [("24Gi", 24), ("512Mi", 0.5), ("1Ti", 1024), ("8G", 8e9 / 2**30)])
def test_memory_gib(q: str, gib: float) -> None:
    assert sizing.memory_gib(q) == pytest.approx(gib)


@pytest.mark.parametrize(("q", "cores"), [("4", 4), ("500m", 0.5), ("2.5", 2.5)])
def test_cpu_cores(q: str, cores: float) -> None:
    assert sizing.cpu_cores(q) == pytest.approx(cores)


@pytest.mark.parametrize("bad", ["lots", "24GiB", ""])
def test_bad_quantities_raise(bad: str) -> None:
    with pytest.raises(ValueError):
        sizing.memory_gib(bad)


@pytest.mark.parametrize(("topology", "chips"), [("1x1", 1), ("2x4", 8), ("4x4", 16), ("2x2x4", 16)])
def test_tpu_chips(topology: str, chips: int) -> None:
    assert accelerators.topology_chips(topology) == chips


def test_fits() -> None:
    node = sizing.allocatable(Cloud.AWS, Family.NVIDIA, Shape("g6.2xlarge", 1, 8, 32))
    assert sizing.fits(sizing.Replica(1, 24, 4), node)
    assert not sizing.fits(sizing.Replica(2, 24, 4), node)
    assert not sizing.fits(sizing.Replica(1, 40, 4), node)
    assert not sizing.fits(sizing.Replica(1, 24, 8), node)  # 8 vCPU node: less than 8 cores are allocatable


def test_allocatable_follows_the_eks_and_gke_reservations() -> None:
    # EKS: CPU 6% + 1% + 2 x 0.5% + 4 x 0.25% of 8 cores; memory 255 MiB + 11 MiB x 110 pods, 100 MiB eviction;
    # then the system and NVIDIA DaemonSets (0.25 + 0.2 CPU, 0.5 + 0.5 GiB).
    eks = sizing.allocatable(Cloud.AWS, Family.NVIDIA, Shape("g6.2xlarge", 1, 8, 32))
    assert eks.cpu == pytest.approx(8 - 0.09 - 0.45)
    assert eks.memory_gib == pytest.approx(32 - 1465 / 1024 - 100 / 1024 - 1.0)
    # GKE: memory 25% of 4 + 20% of 4 + 10% of 8 + 6% of the next 16 GiB; DaemonSets 0.75 + 0.5 GiB.
    gke = sizing.allocatable(Cloud.GCP, Family.NVIDIA, Shape("g2-standard-8", 1, 8, 32))
    assert gke.memory_gib == pytest.approx(32 - (1 + 0.8 + 0.8 + 0.96) - 100 / 1024 - 1.25)
    # Replicas carry the serving sidecars.
    m = ModelConfig.model_validate(model(cpu="4", memory="8Gi"))
    assert sizing.replica_of(m) == sizing.Replica(1, 8 + 0.0625, 4 + 0.025)


def test_a_request_of_the_whole_instance_never_fits() -> None:
    found = issues(aws_config(pools=[{"name": "gpu", "kind": "nvidia-l4", "maxNodes": 4, "devicesPerNode": 1}],
                              models=[model(cpu="8", memory="16Gi")]))
    assert len(found) == 1 and found[0].startswith("inferstack:models[0].cpu: a replica requests 16Gi memory and 8 CPU")
    assert "can give a replica at most 29.4Gi memory and 7.4 CPU" in found[0]


def test_pool_shape_is_smallest_that_fits() -> None:
    pool = AcceleratorPoolConfig(name="gpu", kind="nvidia-l4")
    assert sizing.pool_shape(Cloud.AWS, pool, [sizing.Replica(1, 8, 2)]).name == "g6.xlarge"
    assert sizing.pool_shape(Cloud.AWS, pool, [sizing.Replica(1, 24, 4)]).name == "g6.2xlarge"
    four = AcceleratorPoolConfig(name="gpu", kind="nvidia-l4", devices_per_node=4)
    assert sizing.pool_shape(Cloud.AWS, four, []).name == "g6.12xlarge"


def test_tpu_pool_shape_follows_topology() -> None:
    single = AcceleratorPoolConfig(name="tpu", kind="tpu-v5e", tpu_topology="2x4")
    assert sizing.pool_shape(Cloud.GCP, single).name == "ct5lp-hightpu-8t"
    multi = AcceleratorPoolConfig(name="tpu", kind="tpu-v5e", tpu_topology="4x4")
    assert sizing.pool_shape(Cloud.GCP, multi).name == "ct5lp-hightpu-4t"
    assert sizing.topology_chips(Cloud.GCP, multi) == 16


# ---------------------------------------------------------------- derived replicas in the config


def test_capacity_fills_omitted_replicas() -> None:
    m = sizing.derive_replicas(ModelConfig.model_validate(
        {k: v for k, v in model(capacity={"peakRps": 40, "replicaRps": 6, "baseRps": 6, "headroom": 0.2}).items()
         if k not in ("minReplicas", "maxReplicas")}
    ))
    assert (m.min_replicas, m.max_replicas) == (2, 8)
    # Explicit values are kept (and checked against the plan by inferstack.checks.capacity).
    explicit = ModelConfig.model_validate(model(minReplicas=3, maxReplicas=9, capacity={"peakRps": 40, "replicaRps": 6}))
    assert sizing.derive_replicas(explicit) is explicit


def test_load_stack_derives_replicas_before_checking() -> None:
    cfg = load_stack("t", aws_config(pools=[{"name": "gpu", "kind": "nvidia-l4", "maxNodes": 12}],
                                     models=[{k: v for k, v in model(capacity={"peakRps": 40, "replicaRps": 6}).items()
                                              if k != "maxReplicas"}]))
    assert cfg.settings.models[0].max_replicas == 9


def test_explicit_max_below_plan_is_an_error_with_numbers() -> None:
    found = issues(aws_config(pools=[{"name": "gpu", "kind": "nvidia-l4", "maxNodes": 12}],
                              models=[model(maxReplicas=8, capacity={"peakRps": 40, "replicaRps": 6})]))
    assert found == [
        "inferstack:models[0].maxReplicas: maxReplicas 8 cannot serve the planned peak: 40 rps x (1 + 0.25 headroom) / "
        "6 rps per replica needs 9 replicas; raise maxReplicas to 9 or omit it to use the derived value"
    ]


def test_explicit_min_below_base_rps_is_an_error() -> None:
    found = issues(aws_config(models=[model(minReplicas=1, maxReplicas=4, capacity={"peakRps": 20, "replicaRps": 6, "baseRps": 10})]))
    assert any(f.startswith("inferstack:models[0].minReplicas: minReplicas 1 cannot serve baseRps 10") and "needs 3 replicas" in f for f in found)


def test_explicit_values_above_plan_are_accepted() -> None:
    cfg = load_stack("t", aws_config(models=[model(minReplicas=2, maxReplicas=4, capacity={"peakRps": 10, "replicaRps": 6})]))
    assert (cfg.settings.models[0].min_replicas, cfg.settings.models[0].max_replicas) == (2, 4)


def test_latency_target_beyond_timeout_is_an_error() -> None:
    found = issues(aws_config(models=[model(timeoutSeconds=1, capacity={"peakRps": 1, "replicaRps": 6, "latencyTargetMs": 2000})]))
    assert found == ["inferstack:models[0].capacity.latencyTargetMs: latencyTargetMs 2000 exceeds the request timeout (1 s = 1000 ms)"]


# ---------------------------------------------------------------- node fit and pool limits


def test_pool_limit_violation_shows_the_numbers() -> None:
    found = issues(aws_config(
        pools=[{"name": "gpu", "kind": "nvidia-l4", "maxNodes": 4}],
        models=[model(maxReplicas=3), model(name="rerank", maxReplicas=2)],
    ))
    assert found == [
        "inferstack:models[1].maxReplicas: the max replicas of the models on pool gpu need 5 nvidia-l4 devices "
        "(chat 3 x 1 + rerank 2 x 1); the pool holds 4 (maxNodes 4 x 1 per g6.2xlarge node); "
        "raise inferstack:acceleratorPools[0].maxNodes to 5 or lower maxReplicas"
    ]


def test_replica_needing_more_devices_than_a_node_is_an_error() -> None:
    found = issues(aws_config(models=[model(accelerators=2)]))
    assert found[0].startswith("inferstack:models[0].accelerators: 2 nvidia-l4 per replica do not fit a node of pool gpu")
    assert "set the pool's devicesPerNode to at least 2" in found[0]


def test_replica_memory_beyond_every_node_is_an_error() -> None:
    found = issues(aws_config(models=[model(memory="300Gi")]))
    assert found == [
        "inferstack:models[0].memory: a replica requests 300Gi memory and 4 CPU; the largest node of pool gpu "
        "(g6.2xlarge: 32 GiB, 8 vCPU) can give a replica at most 29.4Gi memory and 7.4 CPU after the kubelet, "
        "system, DaemonSet and sidecar reservations"
    ]


def test_tpu_replica_must_take_the_whole_slice() -> None:
    found = issues(gcp_config(
        pools=[{"name": "tpu", "kind": "tpu-v5e", "tpuTopology": "2x4", "maxNodes": 2}],
        models=[model(pool="tpu", accelerators=4, memory="64Gi", cpu="8", runtime="inferstack-vllm-tpu")],
    ))
    assert found == [
        "inferstack:models[0].accelerators: pool tpu runs TPU slices of topology 2x4 (8 chips); "
        "a replica must request all 8 chips, got 4"
    ]


def test_multi_host_tpu_pool_runs_on_four_chip_hosts() -> None:
    # 4x4 = 16 chips on four 4-chip hosts; the pool holds one slice and serves no model.
    ok = gcp_config(pools=[{"name": "tpu", "kind": "tpu-v5e", "tpuTopology": "4x4", "maxNodes": 4}], models=[])
    cfg = load_stack("t", ok)
    shape = sizing.pool_shape(cfg.cloud, cfg.settings.accelerator_pools[0])
    assert (shape.name, shape.devices) == ("ct5lp-hightpu-4t", 4)
    ok["inferstack:models"] = [model(pool="tpu", accelerators=16, memory="64Gi", cpu="8", maxReplicas=1)]
    assert any("a KServe predictor is one pod" in i for i in issues(ok))


def test_malformed_quantities_are_config_errors() -> None:
    found = issues(aws_config(models=[model(memory="lots", cpu="four")]))
    assert found == [  # checked by the config model, in field order, for every model (with a pool or not)
        "inferstack:models[0].cpu: not a CPU quantity: 'four' (e.g. 4, 500m)",
        "inferstack:models[0].memory: not a memory quantity: 'lots' (e.g. 24Gi, 512Mi)",
    ]


# ---------------------------------------------------------------- pricing overrides are checked


def test_unknown_override_type_and_bad_discount_are_errors() -> None:
    found = issues(aws_config(pricing={"onDemandHourlyUsd": {"g9.huge": 1.0}, "spotDiscount": {"g6.xlarge": 1.5}}))
    assert any(f.startswith("inferstack:pricing.spotDiscount.g6.xlarge: Input should be less than or equal to 1") for f in found)
    found = issues(aws_config(pricing={"onDemandHourlyUsd": {"g9.huge": 1.0}}))
    assert found[0].startswith("inferstack:pricing.onDemandHourlyUsd.g9.huge: unknown aws node type 'g9.huge'; known: ")


def test_gcp_machine_type_is_unknown_on_aws() -> None:
    found = issues(aws_config(pricing={"spotDiscount": {"g2-standard-8": 0.5}}))
    assert found[0].startswith("inferstack:pricing.spotDiscount.g2-standard-8: unknown aws node type")


# ---------------------------------------------------------------- reference stacks


@pytest.mark.parametrize("name", REFERENCE_STACKS)
def test_reference_stack_pools_hold_their_models(name: str) -> None:
    cfg = stack_config(name)
    for pool in cfg.settings.accelerator_pools:
        placed = [m for _, m in sizing.models_on(cfg.settings.models, pool.name)]
        shape = sizing.pool_shape(cfg.cloud, pool, [sizing.replica_of(m) for m in placed])
        # A shared pool holds slices (MIG instances or time-slices: sizing.pool_device_capacity), a model on it takes
        # one per replica; a multi-node LLM replica takes accelerators on each of its nodesPerReplica nodes.
        demand = sum(m.max_replicas * (m.llm.nodes_per_replica if m.llm else 1) * m.accelerators for m in placed)
        capacity = sizing.pool_device_capacity(pool, shape)
        assert capacity == pool.max_nodes * shape.devices * pool.slices_per_device()
        assert demand <= capacity, (pool.name, demand, capacity)
        node = sizing.allocatable(cfg.cloud, lookup(pool.kind, cfg.cloud).family, shape)
        assert all(sizing.fits(sizing.replica_of(m), node) for m in placed)


def test_prod_chat_plan_matches_its_replicas() -> None:
    chat = stack_config("prod").settings.models[0]
    assert chat.capacity is not None
    assert sizing.plan_replicas(chat.capacity).max_replicas == chat.max_replicas == 8
