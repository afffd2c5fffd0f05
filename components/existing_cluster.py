"""A cluster made elsewhere (bring your own cluster): the Kubernetes provider of its kubeconfig, and the pools it has.

A stack with ``inferstack:existingCluster`` declares no cloud resource: :class:`ExistingCluster` hands serving the
same :class:`~inferstack.components.platform.PlatformOutputs` a cloud platform does, built from config.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from inferstack import sizing
from inferstack.catalog import accelerators
from inferstack.catalog.accelerators import ACCELERATOR_LABEL, POOL_LABEL
from inferstack.catalog.clouds import Cloud
from inferstack.components.dra import gke_sharing_selector
from inferstack.components.platform import PlatformOutputs, PoolInfo, WorkloadIdentity, pool_gpu_access
from inferstack.config.args import ExistingClusterArgs
from inferstack.config.platform import AcceleratorPoolConfig


def existing_pool_info(cloud: Cloud, pool: AcceleratorPoolConfig) -> PoolInfo:
    """The pool as serving sees it: nodes labelled ``inferstack.io/accelerator=<kind>`` and ``inferstack.io/pool=<name>``
    (GKE TPU nodes also carry GKE's TPU labels), tainted ``<device resource>=true:NoSchedule``."""
    acc = accelerators.lookup(pool.kind, cloud)
    selector = {ACCELERATOR_LABEL: acc.kind, POOL_LABEL: pool.name}
    if acc.family is accelerators.Family.TPU and pool.tpu_topology:
        selector |= accelerators.gke_tpu_labels(acc, pool.tpu_topology)
    devices = pool.devices_per_node or acc.shapes(cloud)[0].devices
    return PoolInfo(
        name=pool.name, kind=acc.kind, max_nodes=pool.max_nodes, devices_per_node=devices, node_selector=selector,
        taint_key=acc.taint_key, device_resource=acc.device_resource, gpu_access=pool_gpu_access(pool),
    )


def platform_pool_info(cloud: Cloud, pool: AcceleratorPoolConfig) -> PoolInfo:
    """The pool as an inferstack platform stack made it (what its ``pools`` output says): on GKE the nodes also carry
    the pool's ComputeClass label and taint (``cloud.google.com/compute-class``), which pods select and tolerate, and
    a shared pool's GKE sharing labels (MIG partition size, time-sharing)."""
    # Sized as the platform stack sized it: for no replica of its own (its models are the workloads stack's).
    info = dataclasses.replace(existing_pool_info(cloud, pool), devices_per_node=sizing.plan_pool(cloud, pool).shape.devices)
    if cloud is not Cloud.GCP:
        return info
    from inferstack.components.gcp.node_pools import (  # GCP's SDK: GKE only
        COMPUTE_CLASS_LABEL,
        compute_class_name,
    )

    compute_class = compute_class_name(pool.name)
    return dataclasses.replace(
        info,
        node_selector={**info.node_selector, COMPUTE_CLASS_LABEL: compute_class, **gke_sharing_selector(pool)},
        tolerations=({"key": COMPUTE_CLASS_LABEL, "operator": "Equal", "value": compute_class, "effect": "NoSchedule"},),
    )


def platform_mismatches(
    pools: Mapping[str, PoolInfo], namespaces: Sequence[str], platform_pools: Mapping[str, Any], prepared: Sequence[str]
) -> list[str]:
    """What a workloads stack declares that its platform stack does not have: a pool missing or different from the
    platform's ``pools`` output, a namespace not in its ``team_namespaces`` (which alone have registry read access)."""
    problems = []
    for name, info in sorted(pools.items()):
        theirs = platform_pools.get(name)
        if theirs is None:
            problems.append(f"acceleratorPools: {name} is not a pool of the platform stack (it has: {', '.join(sorted(platform_pools)) or 'none'})")
        else:
            # Numbers come back from a stack's outputs as floats: compare the pools as PoolInfo reads them.
            platform_pool = PoolInfo.from_output(name, theirs).to_output()
            mine = info.to_output()
            differ = sorted(k for k in mine.keys() | platform_pool.keys() if mine.get(k) != platform_pool.get(k))
            if differ:
                shown = ", ".join(f"{k} {mine.get(k)!r} here, {platform_pool.get(k)!r} there" for k in differ)
                problems.append(
                    f"acceleratorPools: {name} differs from the platform stack's pool ({shown}); copy the pool's "
                    "name, kind, maxNodes, devicesPerNode, tpuTopology, allocation and sharing from the platform stack"
                )
    missing = sorted(set(namespaces) - set(prepared))
    if missing:
        problems.append(
            f"namespaces {', '.join(missing)} are not in the platform stack's teamNamespaces (registry read access is "
            "granted there): add them to it and run its pulumi up first"
        )
    return problems


class ExistingCluster(pulumi.ComponentResource):
    """The Kubernetes provider of an existing cluster and what serving needs to know of it.

    Provisions one ``kubernetes`` provider, from ``cluster.kubeconfig`` (a path; default ``$KUBECONFIG`` or
    ``~/.kube/config``) and ``cluster.context``, or, with ``cluster.platformStack``, from that stack's
    ``kubeconfig`` output read through a ``pulumi.StackReference`` (child ``<name>-platform``); nothing else.
    Serving installs the add-ons marked ``install`` and assumes those marked ``present``.

    Args:
        name (str): component name; its children are ``<name>-k8s`` (the provider) and, with a platform stack,
            ``<name>-platform`` (the StackReference).
        args (ExistingClusterArgs): ``cloud``, ``region``, ``cluster`` (``ExistingClusterConfig``) and
            ``accelerator_pools`` (the cluster's pools: their labels and taints are described above).
        opts (pulumi.ResourceOptions | None, default None): options of the component.
        namespaces (Sequence[str], default ()): the team namespaces the stack deploys to; with a platform stack,
            each must be one of its ``team_namespaces``.

    Outputs:
        outputs (PlatformOutputs): the provider, the pools, ``preinstalled`` add-ons, the workload identity kind of
        ``cloud`` (annotations only; the identities are made elsewhere). ``platform`` (pulumi.StackReference | None).
        Registered outputs: ``clusterName``, ``pools``, ``platformMatches`` (with a platform stack: fails the
        update, naming each difference, when a pool or namespace is not the platform's; else true).

    Secure choices:
        - no credential enters the stack: the provider reads the kubeconfig file at run time (an exec-based
          kubeconfig keeps no token in it) and only the file's path is in the state; a platform stack's kubeconfig
          output is an exec-plugin kubeconfig too, kept secret.
    """

    def __init__(
        self, name: str, args: ExistingClusterArgs, opts: pulumi.ResourceOptions | None = None, namespaces: Sequence[str] = ()
    ):
        super().__init__("inferstack:platform:ExistingCluster", name, None, opts)
        cluster = args.cluster
        self.platform: pulumi.StackReference | None = None
        if cluster.platform_stack:
            self.platform = pulumi.StackReference(
                f"{name}-platform", stack_name=cluster.platform_stack, opts=pulumi.ResourceOptions(parent=self)
            )
            pools = {p.name: platform_pool_info(args.cloud, p) for p in args.accelerator_pools}
            cluster_name: pulumi.Output[str] = self.platform.require_output("cluster_name")
            self.provider = k8s.Provider(
                f"{name}-k8s",
                kubeconfig=self.platform.require_output("kubeconfig"),
                enable_server_side_apply=True,
                opts=pulumi.ResourceOptions(parent=self),
            )
        else:
            pools = {p.name: existing_pool_info(args.cloud, p) for p in args.accelerator_pools}
            cluster_name = pulumi.Output.from_input(cluster.name or "")
            self.provider = k8s.Provider(
                f"{name}-k8s",
                kubeconfig=cluster.kubeconfig,
                context=cluster.context,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.outputs = PlatformOutputs(
            cloud=args.cloud,
            region=args.region,
            cluster_name=cluster_name,
            k8s_provider=self.provider,
            kms_key=pulumi.Output.from_input(""),
            identity=WorkloadIdentity(args.cloud),
            pools=pools,
            preinstalled=cluster.addons.present(),
        )
        platform_matches = (
            pulumi.Output.all(self.platform.require_output("pools"), self.platform.require_output("team_namespaces")).apply(
                lambda a: _matches(pools, list(namespaces), a[0], a[1], cluster.platform_stack or "")
            )
            if self.platform is not None
            else True
        )
        self.register_outputs({"clusterName": cluster_name, "pools": sorted(pools), "platformMatches": platform_matches})


def _matches(pools: Mapping[str, PoolInfo], namespaces: list[str], theirs: Mapping[str, Any], prepared: Sequence[str], stack: str) -> bool:
    problems = platform_mismatches(pools, namespaces, theirs or {}, prepared or [])
    if problems:
        # RunError: Pulumi reports the message and fails the update, without a traceback.
        raise pulumi.RunError(f"inferstack:existingCluster.platformStack {stack}: " + "; ".join(problems))
    return True
