"""Checks of the accelerator pools: kinds offered on the cloud and in the region, shapes, TPU slices."""

from __future__ import annotations

from collections.abc import Iterable

from inferstack.catalog import accelerators, zones, zones_data
from inferstack.config.base import Cloud
from inferstack.config.stack import ConfigIssue, StackConfig


def check_accelerator_pools(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """Pool names are unique; kinds exist on the stack's cloud (and region, on GCP); shapes exist."""
    seen: set[str] = set()
    for i, pool in enumerate(cfg.settings.accelerator_pools):
        loc = ("acceleratorPools", i)
        if pool.name in seen:
            yield ConfigIssue((*loc, "name"), f"duplicate pool name {pool.name!r}; pool names must be unique")
        seen.add(pool.name)
        try:
            acc = accelerators.lookup(pool.kind, cfg.cloud)
        except ValueError as err:
            yield ConfigIssue((*loc, "kind"), str(err))
            continue
        if cfg.cloud is Cloud.GCP and cfg.region not in acc.gcp_regions and zones.is_catalogued(cfg.cloud, cfg.region):
            yield ConfigIssue(
                (*loc, "kind"),
                f"{pool.kind} is not offered in {cfg.region}; regions offering it: {', '.join(sorted(acc.gcp_regions))}",
            )
        if pool.devices_per_node is not None:
            counts = sorted({s.devices for s in acc.shapes(cfg.cloud)})
            if pool.devices_per_node not in counts:
                yield ConfigIssue(
                    (*loc, "devicesPerNode"),
                    f"{pool.kind} nodes carry {', '.join(map(str, counts))} devices on {cfg.cloud.value}; got {pool.devices_per_node}",
                )
        if pool.min_nodes > pool.max_nodes:
            yield ConfigIssue((*loc, "minNodes"), f"minNodes {pool.min_nodes} exceeds maxNodes {pool.max_nodes}")
        if pool.on_demand_baseline > pool.max_nodes:
            yield ConfigIssue(
                (*loc, "onDemandBaseline"), f"onDemandBaseline {pool.on_demand_baseline} exceeds maxNodes {pool.max_nodes}"
            )


def _some(names: list[str], most: int = 6) -> str:
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "") if names else "none"


def notice_accelerator_regions(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """A warning per pool whose kind the catalogue cannot confirm in the stack's region: a GCP region the catalogue
    lacks, or an AWS region where no source shows any of the kind's instance types (EC2 offerings per region come
    from the price sources, ``zones_data.AWS_INSTANCE_REGIONS``: a region missing there may still offer them)."""
    if cfg.settings.existing_cluster is not None:
        return
    for i, pool in enumerate(cfg.settings.accelerator_pools):
        acc = accelerators.CATALOG.get(pool.kind)
        if acc is None or not acc.shapes(cfg.cloud):
            continue  # reported by check_accelerator_pools
        loc = ("acceleratorPools", i, "kind")
        if cfg.cloud is Cloud.GCP:
            if not zones.is_catalogued(cfg.cloud, cfg.region):
                yield ConfigIssue(
                    loc, f"{cfg.region} is not in the catalogue: whether it offers {pool.kind} is not checked (regions "
                    f"known to: {_some(sorted(acc.gcp_regions))})",
                )
            continue
        types = [s.name for s in acc.shapes(Cloud.AWS)]
        if zones.is_catalogued(cfg.cloud, cfg.region) and not any(cfg.region in zones_data.AWS_INSTANCE_REGIONS.get(t, ()) for t in types):
            known = sorted({r for t in types for r in zones_data.AWS_INSTANCE_REGIONS.get(t, ())})
            yield ConfigIssue(
                loc,
                f"no source of the catalogue shows {', '.join(types)} in {cfg.region}: EC2 may not offer {pool.kind} there "
                f"(check: aws ec2 describe-instance-type-offerings --region {cfg.region}); regions known to: {_some(known)}",
            )


def check_tpu_topology(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """tpuTopology is for TPU kinds, names a slice the kind offers, agrees with devicesPerNode; a multi-host slice
    pool holds exactly one slice (GKE scales multi-host pools atomically), and models cannot run on one (a KServe
    predictor is a single pod)."""
    for i, pool in enumerate(cfg.settings.accelerator_pools):
        loc = ("acceleratorPools", i)
        acc = accelerators.CATALOG.get(pool.kind)
        if acc is None or not acc.shapes(cfg.cloud):
            continue  # reported by check_accelerator_pools
        if acc.family is not accelerators.Family.TPU:
            if pool.tpu_topology is not None:
                yield ConfigIssue((*loc, "tpuTopology"), f"tpuTopology applies to TPU kinds only; {pool.kind} is {acc.family.value}")
            continue
        if pool.tpu_topology is None:
            continue
        allowed = accelerators.tpu_topologies(acc)
        if pool.tpu_topology not in allowed:
            yield ConfigIssue((*loc, "tpuTopology"), f"{pool.kind} does not offer topology {pool.tpu_topology!r}; allowed: {', '.join(allowed)}")
            continue
        host = accelerators.tpu_host_shape(acc, pool.tpu_topology)
        if pool.devices_per_node is not None and pool.devices_per_node != host.devices:
            yield ConfigIssue(
                (*loc, "devicesPerNode"),
                f"topology {pool.tpu_topology} runs on {host.name} hosts with {host.devices} chips each; got devicesPerNode {pool.devices_per_node}",
            )
        hosts = accelerators.tpu_hosts(acc, pool.tpu_topology)
        if hosts > 1:
            if pool.max_nodes != hosts:
                yield ConfigIssue(
                    (*loc, "maxNodes"),
                    f"a {pool.tpu_topology} {pool.kind} slice is {hosts} hosts and a multi-host pool holds one slice; set maxNodes to {hosts}",
                )
            for key, value in (("minNodes", pool.min_nodes), ("onDemandBaseline", pool.on_demand_baseline)):
                if value not in (0, hosts):
                    yield ConfigIssue((*loc, key), f"a multi-host slice scales as a whole: {key} must be 0 or {hosts}, got {value}")
            for j, rung in enumerate(pool.ladder or []):
                for key, value in (("minNodes", rung.min_nodes), ("maxNodes", min(rung.max_nodes, pool.max_nodes))):
                    if value not in ((0, hosts) if key == "minNodes" else (hosts,)):
                        allowed = f"0 or {hosts}" if key == "minNodes" else str(hosts)
                        yield ConfigIssue(
                            (*loc, "ladder", j, key), f"a multi-host slice scales as a whole: each rung's {key} must be {allowed}, got {value}"
                        )
            for m, model in enumerate(cfg.settings.models):
                if model.pool == pool.name:
                    yield ConfigIssue(
                        ("models", m, "pool"),
                        f"pool {pool.name} runs multi-host {pool.tpu_topology} slices ({hosts} hosts); a KServe predictor is one pod: "
                        f"use a single-host topology ({', '.join(t for t in allowed if accelerators.tpu_hosts(acc, t) == 1)})",
                    )
