"""Cross-field checks of a stack config that pydantic's per-field validation cannot express."""

from __future__ import annotations

from collections.abc import Iterable

from inferstack.components import accelerators
from inferstack.config.base import Cloud
from inferstack.config.stack import ConfigIssue, StackConfig, semantic_check


@semantic_check
def check_accelerator_pools(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """Pool names are unique; kinds exist on the stack's cloud (and region, on GCP); shapes exist."""
    seen: set[str] = set()
    for i, pool in enumerate(cfg.settings.accelerator_pools):
        path = f"inferstack:acceleratorPools[{i}]"
        if pool.name in seen:
            yield ConfigIssue(f"{path}.name", f"duplicate pool name {pool.name!r}; pool names must be unique")
        seen.add(pool.name)
        try:
            acc = accelerators.lookup(pool.kind, cfg.cloud)
        except ValueError as err:
            yield ConfigIssue(f"{path}.kind", str(err))
            continue
        if cfg.cloud is Cloud.GCP and cfg.region not in acc.gcp_regions:
            yield ConfigIssue(
                f"{path}.kind",
                f"{pool.kind} is not offered in {cfg.region}; regions offering it: {', '.join(sorted(acc.gcp_regions))}",
            )
        if pool.devices_per_node is not None:
            counts = sorted({s.devices for s in acc.shapes(cfg.cloud)})
            if pool.devices_per_node not in counts:
                yield ConfigIssue(
                    f"{path}.devicesPerNode",
                    f"{pool.kind} nodes carry {', '.join(map(str, counts))} devices on {cfg.cloud.value}; got {pool.devices_per_node}",
                )
        if pool.min_nodes > pool.max_nodes:
            yield ConfigIssue(f"{path}.minNodes", f"minNodes {pool.min_nodes} exceeds maxNodes {pool.max_nodes}")
        if pool.on_demand_baseline > pool.max_nodes:
            yield ConfigIssue(
                f"{path}.onDemandBaseline", f"onDemandBaseline {pool.on_demand_baseline} exceeds maxNodes {pool.max_nodes}"
            )


@semantic_check
def check_model_references(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """Model names are unique per namespace and each model's pool exists."""
    pools = [p.name for p in cfg.settings.accelerator_pools]
    seen: set[tuple[str, str]] = set()
    for i, model in enumerate(cfg.settings.models):
        path = f"inferstack:models[{i}]"
        if (model.namespace, model.name) in seen:
            yield ConfigIssue(f"{path}.name", f"duplicate model {model.namespace}/{model.name}")
        seen.add((model.namespace, model.name))
        if model.pool is not None and model.pool not in pools:
            yield ConfigIssue(f"{path}.pool", f"unknown pool {model.pool!r}; pools: {', '.join(pools) or '(none)'}")
