"""Checks of capacity: replica counts against traffic plans, replicas against node shapes, pools against demand,
price overrides against known node types. The numbers come from ``inferstack.sizing``, the one capacity plan."""

from __future__ import annotations

import math
from collections.abc import Iterable

from inferstack.catalog import accelerators
from inferstack.catalog.accelerators import Family
from inferstack.catalog.node_overhead import SERVING_SIDECARS
from inferstack.catalog.prices import known_node_types
from inferstack.config.base import Cloud
from inferstack.config.serving import ModelConfig
from inferstack.config.stack import ConfigIssue, Loc, StackConfig
from inferstack.sizing import (
    allocatable,
    candidate_shapes,
    cpu_cores,
    fits,
    memory_gib,
    models_on,
    plan_replicas,
    pool_device_capacity,
    pool_shape,
    replica_of,
    topology_chips,
)


def _fmt(x: float) -> str:
    return f"{x:g}"


def replica_issues(model: ModelConfig, loc: Loc) -> list[ConfigIssue]:
    """minReplicas/maxReplicas that contradict the model's capacity block. Derived values (``sizing.derive_replicas``)
    always agree with it, so a value below the plan's is one the entry set explicitly."""
    plan = model.capacity
    if plan is None:
        return []
    derived = plan_replicas(plan)
    issues = []
    formula = f"{_fmt(plan.peak_rps)} rps x (1 + {_fmt(plan.headroom)} headroom) / {_fmt(plan.replica_rps)} rps per replica"
    if model.max_replicas < derived.max_replicas:
        issues.append(
            ConfigIssue(
                (*loc, "maxReplicas"),
                f"maxReplicas {model.max_replicas} cannot serve the planned peak: {formula} needs {derived.max_replicas} "
                f"replicas; raise maxReplicas to {derived.max_replicas} or omit it to use the derived value",
            )
        )
    if plan.base_rps and model.min_replicas < derived.min_replicas:
        issues.append(
            ConfigIssue(
                (*loc, "minReplicas"),
                f"minReplicas {model.min_replicas} cannot serve baseRps {_fmt(plan.base_rps)}: "
                f"{_fmt(plan.base_rps)} x (1 + {_fmt(plan.headroom)}) / {_fmt(plan.replica_rps)} needs {derived.min_replicas} replicas",
            )
        )
    if plan.base_rps and plan.base_rps > plan.peak_rps:
        issues.append(ConfigIssue((*loc, "capacity", "baseRps"), f"baseRps {_fmt(plan.base_rps)} exceeds peakRps {_fmt(plan.peak_rps)}"))
    if plan.latency_target_ms is not None and plan.latency_target_ms > model.timeout_seconds * 1000:
        issues.append(
            ConfigIssue(
                (*loc, "capacity", "latencyTargetMs"),
                f"latencyTargetMs {plan.latency_target_ms} exceeds the request timeout ({model.timeout_seconds} s = "
                f"{model.timeout_seconds * 1000} ms)",
            )
        )
    return issues


def check_capacity_plans(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """Explicit replica counts agree with each model's traffic plan."""
    for i, model in enumerate(cfg.settings.models):
        yield from replica_issues(model, ("models", i))


def check_replicas_fit_pools(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """Each replica fits a node of its pool, and each pool's limits hold the max replicas of all its models."""
    for p, pool in enumerate(cfg.settings.accelerator_pools):
        try:
            acc = accelerators.lookup(pool.kind, cfg.cloud)
        except ValueError:
            continue  # reported by check_accelerator_pools
        if acc.family is Family.TPU and pool.tpu_topology and pool.tpu_topology not in accelerators.tpu_topologies(acc):
            continue  # an unoffered topology: reported by check_tpu_topology
        placed = models_on(cfg.settings.models, pool.name)
        replicas = []
        bad = False
        for i, model in placed:
            for key, parse, value in (("memory", memory_gib, model.memory), ("cpu", cpu_cores, model.cpu)):
                try:
                    parse(value)
                except ValueError as err:
                    yield ConfigIssue(("models", i, key), str(err))
                    bad = True
            if not bad:
                replicas.append(replica_of(model))
        if bad:
            continue
        candidates = candidate_shapes(cfg.cloud, pool)
        if not candidates:
            continue  # a devicesPerNode the kind does not offer: reported by check_accelerator_pools
        shape = pool_shape(cfg.cloud, pool, replicas)
        chips = topology_chips(cfg.cloud, pool)
        for (i, model), rep in zip(placed, replicas, strict=True):
            loc = ("models", i)
            if acc.family is Family.TPU and chips is not None:
                if model.accelerators != chips:
                    yield ConfigIssue(
                        (*loc, "accelerators"),
                        f"pool {pool.name} runs TPU slices of topology {pool.tpu_topology or candidates[0].tpu_topology} "
                        f"({chips} chips); a replica must request all {chips} chips, got {model.accelerators}",
                    )
                    continue
            elif model.accelerators > shape.devices:
                yield ConfigIssue(
                    (*loc, "accelerators"),
                    f"{model.accelerators} {pool.kind} per replica do not fit a node of pool {pool.name} "
                    f"({shape.name}: {shape.devices} per node); set the pool's devicesPerNode to at least {model.accelerators}",
                )
                continue
            node = allocatable(cfg.cloud, acc.family, shape)
            if not fits(rep, node):
                # The largest request that fits: the biggest candidate's allocatable less the serving sidecars.
                best = max((allocatable(cfg.cloud, acc.family, c) for c in candidates), key=lambda a: (a.memory_gib, a.cpu))
                biggest = max(candidates, key=lambda c: (c.memory_gib, c.vcpu))
                mem_fit = math.floor((best.memory_gib - SERVING_SIDECARS.memory_gib) * 10) / 10
                cpu_fit = math.floor((best.cpu - SERVING_SIDECARS.cpu) * 10) / 10
                key = "memory" if rep.memory_gib > node.memory_gib else "cpu"
                yield ConfigIssue(
                    (*loc, key),
                    f"a replica requests {model.memory} memory and {model.cpu} CPU; the largest node of pool {pool.name} "
                    f"({biggest.name}: {biggest.memory_gib} GiB, {biggest.vcpu} vCPU) can give a replica at most "
                    f"{mem_fit:g}Gi memory and {cpu_fit:g} CPU after the kubelet, system, DaemonSet and sidecar "
                    f"reservations",
                )
        if not placed:
            continue
        per_host = shape.devices
        capacity = pool_device_capacity(pool, shape)
        # A multi-node LLM replica (a LeaderWorkerSet group) takes nodesPerReplica nodes of accelerators each.
        pods = {m.name: m.llm.nodes_per_replica if m.llm else 1 for _, m in placed}
        demand = sum(m.max_replicas * pods[m.name] * m.accelerators for _, m in placed)
        if demand > capacity:
            terms = " + ".join(
                f"{m.name} {m.max_replicas}{f' x {pods[m.name]} nodes' if pods[m.name] > 1 else ''} x {m.accelerators}" for _, m in placed
            )
            last = placed[-1][0]
            need = math.ceil(demand / per_host)
            yield ConfigIssue(
                ("models", last, "maxReplicas"),
                f"the max replicas of the models on pool {pool.name} need {demand} {pool.kind} devices ({terms}); "
                f"the pool holds {capacity} (maxNodes {pool.max_nodes} x {per_host} per {shape.name} node); "
                f"raise inferstack:acceleratorPools[{p}].maxNodes to {need} or lower maxReplicas",
            )


def check_pricing_overrides(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """Price overrides name node types the stack's cloud has (accelerator shapes, system types, catalog types)."""
    known = {s.name for a in accelerators.CATALOG.values() for s in a.shapes(cfg.cloud)}
    known |= {t for t in known_node_types() if ("-" in t) == (cfg.cloud is Cloud.GCP)}
    if cfg.settings.cluster.system_node_type:
        known.add(cfg.settings.cluster.system_node_type)
    pricing = cfg.settings.pricing
    for key, table in (("onDemandHourlyUsd", pricing.on_demand_hourly_usd), ("spotDiscount", pricing.spot_discount)):
        for node_type in table:
            if node_type not in known:
                yield ConfigIssue(
                    ("pricing", key, node_type),
                    f"unknown {cfg.cloud.value} node type {node_type!r}; known: {', '.join(sorted(known))}",
                )
