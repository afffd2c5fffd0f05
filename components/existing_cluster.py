"""A cluster made elsewhere (bring your own cluster): the Kubernetes provider of its kubeconfig, and the pools it has.

A stack with ``inferstack:existingCluster`` declares no cloud resource: :class:`ExistingCluster` hands serving the
same :class:`~inferstack.components.platform.PlatformOutputs` a cloud platform does, built from config.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from inferstack.catalog import accelerators
from inferstack.catalog.accelerators import ACCELERATOR_LABEL, POOL_LABEL
from inferstack.catalog.clouds import Cloud
from inferstack.components.platform import PlatformOutputs, PoolInfo, WorkloadIdentity
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
        taint_key=acc.taint_key, device_resource=acc.device_resource,
    )


class ExistingCluster(pulumi.ComponentResource):
    """The Kubernetes provider of an existing cluster and what serving needs to know of it.

    Provisions one ``kubernetes`` provider from ``cluster.kubeconfig`` (a path; default ``$KUBECONFIG`` or
    ``~/.kube/config``) and ``cluster.context``; nothing else. Serving installs the add-ons marked ``install`` and
    assumes those marked ``present``.

    Args:
        name (str): component name; its child is ``<name>-k8s`` (the provider).
        args (ExistingClusterArgs): ``cloud``, ``region``, ``cluster`` (``ExistingClusterConfig``) and
            ``accelerator_pools`` (the cluster's pools: their labels and taints are described above).
        opts (pulumi.ResourceOptions | None, default None): options of the component.

    Outputs:
        outputs (PlatformOutputs): the provider, the pools, ``preinstalled`` add-ons, the workload identity kind of
        ``cloud`` (annotations only; the identities are made elsewhere). Registered outputs: ``clusterName``, ``pools``.

    Secure choices:
        - no credential enters the stack: the provider reads the kubeconfig file at run time (an exec-based
          kubeconfig keeps no token in it) and only the file's path is in the state.
    """

    def __init__(self, name: str, args: ExistingClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("inferstack:platform:ExistingCluster", name, None, opts)
        cluster = args.cluster
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=cluster.kubeconfig,
            context=cluster.context,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.outputs = PlatformOutputs(
            cloud=args.cloud,
            region=args.region,
            cluster_name=pulumi.Output.from_input(cluster.name),
            k8s_provider=self.provider,
            kms_key=pulumi.Output.from_input(""),
            identity=WorkloadIdentity(args.cloud),
            pools={p.name: existing_pool_info(args.cloud, p) for p in args.accelerator_pools},
            preinstalled=cluster.addons.present(),
        )
        self.register_outputs({"clusterName": cluster.name, "pools": sorted(self.outputs.pools)})
