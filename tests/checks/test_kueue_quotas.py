"""inferstack:scheduling: bad input refused naming the key (one error line, exit 2), and the quota plan's numbers
taken from the capacity plan (devices, allocatable CPU and memory of maxNodes nodes; teams' minReplicas)."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from inferstack import sizing
from inferstack.catalog.accelerators import lookup
from inferstack.checks.scheduling import (
    Quota,
    cpu_text,
    guaranteed_share,
    memory_text,
    pool_capacity,
    queue_plan,
)
from inferstack.config import Cloud, ConfigError
from inferstack.config.scheduling import SchedulingConfig
from inferstack.config.serving import ModelConfig
from inferstack.load import load_stack
from tests.conftest import REPO, stack_config

BASE: dict[str, Any] = {
    "aws:region": "eu-west-1",
    "inferstack:cloud": "aws",
    "inferstack:environment": "dev",
    "inferstack:residency": {"allowedRegions": ["eu-west-1"]},
    "inferstack:acceleratorPools": [{"name": "gpu-l4", "kind": "nvidia-l4", "maxNodes": 4}],
}
LLM = {
    "name": "chat", "namespace": "team-nlp", "format": "huggingface", "registryModel": "llama-3-8b-instruct", "version": "1",
    "pool": "gpu-l4", "accelerators": 1, "cpu": "4", "memory": "24Gi", "minReplicas": 1, "maxReplicas": 3,
    "scaleMetric": "waiting-requests",
    "llm": {"shape": {"parametersB": 8, "layers": 32, "kvHeads": 8, "headDim": 128}},
}


def config(**extra: Any) -> dict[str, Any]:
    return {**copy.deepcopy(BASE), **extra}


def issues(cfg: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_stack("t", cfg)
    return [str(i) for i in err.value.issues]


def validate(tmp_path: Path, cfg: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "Pulumi.t.yaml"
    path.write_text(yaml.safe_dump({"config": cfg}))
    return subprocess.run(
        [sys.executable, "-m", "inferstack", "config", "validate", "--config", str(path)],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )


def test_a_quota_the_pool_cannot_hold_is_refused_in_one_line_exit_2(tmp_path: Path) -> None:
    # 4 g6.xlarge nodes hold 4 L4 GPUs; 5 is refused naming the key, the limit and the fix.
    cfg = config(**{"inferstack:scheduling": {"queues": [{"pool": "gpu-l4", "devices": 5}]}})
    proc = validate(tmp_path, cfg)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "inferstack:scheduling.queues[0].devices: 5 is more than pool gpu-l4 can hold: at most 4 (maxNodes 4)" in lines[0]
    assert lines[0].startswith("error:")


def test_cpu_and_memory_quotas_are_bounded_by_the_nodes_allocatable() -> None:
    cap = pool_capacity(Cloud.AWS, load_stack("t", config()).settings.accelerator_pools[0], [])
    too_much = {"pool": "gpu-l4", "cpu": cpu_text(cap.cpu_milli + 1000), "memory": memory_text(cap.memory_mib + 1024)}
    found = issues(config(**{"inferstack:scheduling": {"queues": [too_much]}}))
    assert [i.split(":", 2)[1] for i in found] == ["scheduling.queues[0].cpu", "scheduling.queues[0].memory"]
    assert f"at most {cpu_text(cap.cpu_milli)} (maxNodes 4)" in found[0]
    assert f"at most {memory_text(cap.memory_mib)} (maxNodes 4)" in found[1]
    # Exactly the capacity is accepted.
    load_stack("t", config(**{"inferstack:scheduling": {"queues": [{"pool": "gpu-l4", "cpu": cpu_text(cap.cpu_milli)}]}}))


def test_an_unknown_pool_is_refused_naming_the_pools() -> None:
    (issue,) = issues(config(**{"inferstack:scheduling": {"queues": [{"pool": "gpu-h100", "devices": 1}]}}))
    assert issue == "inferstack:scheduling.queues[0].pool: no accelerator pool 'gpu-h100'; pools: gpu-l4"


@pytest.mark.parametrize(
    ("scheduling", "key", "words"),
    [
        ({"queues": [{"pool": "gpu-l4"}, {"pool": "gpu-l4"}]}, "scheduling.queues", "listed more than once: gpu-l4"),
        ({"queues": [{"pool": "gpu-l4", "cpu": "lots"}]}, "scheduling.queues[0].cpu", "a CPU quantity"),
        ({"queues": [{"pool": "gpu-l4", "memory": "24GiB"}]}, "scheduling.queues[0].memory", "a memory quantity"),
        ({"queues": [{"pool": "gpu-l4", "devices": -1}]}, "scheduling.queues[0].devices", "greater than or equal to 0"),
        ({"podsReadyTimeout": "30s"}, "scheduling.podsReadyTimeout", "pattern"),
        ({"reclaimWithinCohort": "Always"}, "scheduling.reclaimWithinCohort", "'Never', 'LowerPriority' or 'Any'"),
        ({"queue": []}, "scheduling.queue", "unknown key; allowed: enabled, cohort, queues, reclaimWithinCohort, podsReadyTimeout"),
    ],
)
def test_bad_scheduling_settings_name_the_key(scheduling: dict[str, Any], key: str, words: str) -> None:
    (issue,) = issues(config(**{"inferstack:scheduling": scheduling}))
    assert issue.startswith(f"inferstack:{key}: ") and words in issue, issue


def test_minimum_replicas_the_queues_cannot_hold_are_refused() -> None:
    # Two devices offered to Kueue, three replicas guaranteed.
    cfg = config(
        **{"inferstack:models": [{**LLM, "minReplicas": 3}], "inferstack:scheduling": {"queues": [{"pool": "gpu-l4", "devices": 2}]}}
    )
    (issue,) = issues(cfg)
    assert issue.startswith("inferstack:scheduling.queues[0]: the queues of pool gpu-l4 cannot hold the minReplicas")
    assert "devices 2 < 3" in issue


def test_quota_plan_is_the_capacity_plan_less_what_kueue_does_not_admit() -> None:
    cfg = stack_config("prod")
    s = cfg.settings
    plan = {pq.pool.name: pq for pq in queue_plan(cfg.cloud, s.accelerator_pools, s.models, s.scheduling)}
    assert list(plan) == [p.name for p in s.accelerator_pools]  # one queue per accelerator pool
    for pool in s.accelerator_pools:
        pq = plan[pool.name]
        replicas = [sizing.replica_of(m) for _, m in sizing.models_on(s.models, pool.name)]
        shape = sizing.pool_shape(cfg.cloud, pool, replicas)
        node = sizing.allocatable(cfg.cloud, lookup(pool.kind, cfg.cloud).family, shape)
        # Devices: whole GPUs, or slices on a shared pool (MIG partitions, time-slices: each a device to Kueue).
        assert pq.capacity.devices == sizing.pool_device_capacity(pool, shape) == pool.max_nodes * shape.devices * pool.slices_per_device()
        assert pq.capacity.cpu_milli == round(node.cpu * 1000) * pool.max_nodes
        assert pq.capacity.memory_mib == int(node.memory_gib * 1024 + 1e-6) * pool.max_nodes
        assert pq.offered + pq.unqueued == pq.capacity
        assert pq.lender + sum(pq.guaranteed.values(), Quota()) == pq.offered
        assert pq.lender.devices >= 0
    # The chat LLM (queued) guarantees its team its minReplicas on gpu-l4; the predictive models are kept out of Kueue.
    chat = next(m for m in s.models if m.name == "chat")
    assert plan["gpu-l4"].guaranteed["team-nlp"].devices >= chat.min_replicas * chat.accelerators
    assert plan["inf2"].guaranteed == {} and plan["inf2"].unqueued.devices > 0


def test_guaranteed_share_counts_every_pod_of_a_group_and_the_prefill_replicas() -> None:
    model = ModelConfig.model_validate({**LLM, "minReplicas": 2, "llm": {**LLM["llm"], "nodesPerReplica": 2}})
    assert guaranteed_share(model) == Quota(4, 16000, 4 * 24 * 1024)
    pd = ModelConfig.model_validate({**LLM, "llm": {**LLM["llm"], "prefillDecode": {"prefillReplicas": 2}}})
    assert guaranteed_share(pd) == Quota(3, 12000, 3 * 24 * 1024)


def test_scheduling_off_plans_nothing() -> None:
    cfg = load_stack("t", config(**{"inferstack:models": [LLM], "inferstack:scheduling": {"enabled": False}}))
    s = cfg.settings
    assert queue_plan(cfg.cloud, s.accelerator_pools, s.models, s.scheduling) == []
    assert SchedulingConfig().enabled is True


def test_a_multi_node_replica_counts_every_node_in_the_pool_limit() -> None:
    # 3 single-node replicas fit 4 nodes; a 2-node group at maxReplicas 2 needs 4 more: 3 + 4 > 4.
    small = {**LLM, "maxReplicas": 3}
    group = {**LLM, "name": "big", "maxReplicas": 2, "llm": {**LLM["llm"], "nodesPerReplica": 2, "vllm": {"pipelineParallelSize": 2}}}
    found = issues(config(**{"inferstack:models": [small, group]}))
    assert found == [
        "inferstack:models[1].maxReplicas: the max replicas of the models on pool gpu-l4 need 7 nvidia-l4 devices "
        "(chat 3 x 1 + big 2 x 2 nodes x 1); the pool holds 4 (maxNodes 4 x 1 per g6.2xlarge node); raise "
        "inferstack:acceleratorPools[0].maxNodes to 7 or lower maxReplicas"
    ]
