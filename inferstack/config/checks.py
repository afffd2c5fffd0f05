"""Cross-field checks of a stack config that pydantic's per-field validation cannot express."""

from __future__ import annotations

from collections.abc import Iterable

from inferstack.components import accelerators
from inferstack.config.base import Cloud
from inferstack.config.platform import GOOGLE_PRINCIPAL_KINDS, deployer_group, team_group
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


@semantic_check
def check_tpu_topology(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """tpuTopology is for TPU kinds, names a slice the kind offers, agrees with devicesPerNode; a multi-host slice
    pool holds exactly one slice (GKE scales multi-host pools atomically), and models cannot run on one (a KServe
    predictor is a single pod)."""
    for i, pool in enumerate(cfg.settings.accelerator_pools):
        path = f"inferstack:acceleratorPools[{i}]"
        acc = accelerators.CATALOG.get(pool.kind)
        if acc is None or not acc.shapes(cfg.cloud):
            continue  # reported by check_accelerator_pools
        if acc.family is not accelerators.Family.TPU:
            if pool.tpu_topology is not None:
                yield ConfigIssue(f"{path}.tpuTopology", f"tpuTopology applies to TPU kinds only; {pool.kind} is {acc.family.value}")
            continue
        if pool.tpu_topology is None:
            continue
        allowed = accelerators.tpu_topologies(acc)
        if pool.tpu_topology not in allowed:
            yield ConfigIssue(f"{path}.tpuTopology", f"{pool.kind} does not offer topology {pool.tpu_topology!r}; allowed: {', '.join(allowed)}")
            continue
        host = accelerators.tpu_host_shape(acc, pool.tpu_topology)
        if pool.devices_per_node is not None and pool.devices_per_node != host.devices:
            yield ConfigIssue(
                f"{path}.devicesPerNode",
                f"topology {pool.tpu_topology} runs on {host.name} hosts with {host.devices} chips each; got devicesPerNode {pool.devices_per_node}",
            )
        hosts = accelerators.tpu_hosts(acc, pool.tpu_topology)
        if hosts > 1:
            if pool.max_nodes != hosts:
                yield ConfigIssue(
                    f"{path}.maxNodes",
                    f"a {pool.tpu_topology} {pool.kind} slice is {hosts} hosts and a multi-host pool holds one slice; set maxNodes to {hosts}",
                )
            for key, value in (("minNodes", pool.min_nodes), ("onDemandBaseline", pool.on_demand_baseline)):
                if value not in (0, hosts):
                    yield ConfigIssue(f"{path}.{key}", f"a multi-host slice scales as a whole: {key} must be 0 or {hosts}, got {value}")
            for m, model in enumerate(cfg.settings.models):
                if model.pool == pool.name:
                    yield ConfigIssue(
                        f"inferstack:models[{m}].pool",
                        f"pool {pool.name} runs multi-host {pool.tpu_topology} slices ({hosts} hosts); a KServe predictor is one pod: "
                        f"use a single-host topology ({', '.join(t for t in allowed if accelerators.tpu_hosts(acc, t) == 1)})",
                    )


@semantic_check
def check_gke_access_entries(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """On GKE, access entries are Google principals bound directly in the team RoleBindings: only team groups of
    prepared namespaces (cluster-admin goes through IAM roles/container.admin), and group: principals need Google
    Groups for RBAC."""
    if cfg.cloud is not Cloud.GCP:
        return
    teams = {g for ns in cfg.team_namespaces for g in (team_group(ns), deployer_group(ns))}
    for i, entry in enumerate(cfg.settings.cluster.access_entries):
        path = f"inferstack:cluster.accessEntries[{i}]"
        kind, _, email = entry.principal.partition(":")
        if kind not in GOOGLE_PRINCIPAL_KINDS or "@" not in email:
            yield ConfigIssue(
                f"{path}.principal",
                f"{entry.principal!r} is not a Google principal; use group:<email>, user:<email> or serviceAccount:<email>",
            )
        elif kind == "group" and cfg.settings.cluster.google_groups_security_group is None:
            yield ConfigIssue(
                f"{path}.principal",
                "group principals need Google Groups for RBAC: set inferstack:cluster.googleGroupsSecurityGroup "
                "(gke-security-groups@<your domain>) and make the group a member of it",
            )
        for j, group in enumerate(entry.groups):
            if group not in teams:
                hint = (
                    "grant cluster-admin on GKE with IAM (roles/container.admin)"
                    if group == cfg.settings.policy.platform_admin_group
                    else f"allowed: {', '.join(sorted(teams)) or '(no team namespaces)'}"
                )
                yield ConfigIssue(f"{path}.groups[{j}]", f"{group!r} is not a team group of this stack; {hint}")
