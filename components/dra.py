"""GPU allocation and sharing on the nodes: the NVIDIA DRA driver and DeviceClasses of ``allocation: dra`` pools, the
node labels that keep the device plugin off them, and the device-plugin / GKE settings of shared pools.

Pure builders (tested without Pulumi) and one component, :class:`NvidiaDra`.

- **DRA pools** (``allocation: dra``): nodes labelled ``inferstack.io/gpu-allocation=dra``; the NVIDIA device plugin's
  affinity excludes them (EKS: :func:`device_plugin_affinity`; GKE: the node label
  ``gke-no-default-nvidia-gpu-device-plugin=true`` turns GKE's own plugin off), so a GPU is never advertised by both
  (they would double-allocate). The NVIDIA DRA driver (pinned chart ``nvidia-dra-driver-gpu``) runs its kubelet
  plugin on those nodes only, with GPU allocation on (``gpuResourcesEnabledOverride``: the chart's acknowledgement
  that no device plugin serves these nodes) and ComputeDomains (multi-node NVLink) off. A DeviceClass per kind,
  ``inferstack-<kind>`` (``resource.k8s.io/v1``), selects whole GPUs of that product (CEL on the driver's
  ``productName`` and ``type``); models ask for devices through a ResourceClaimTemplate (serving/placement.py).
- **Shared pools** (``sharing``): on EKS, time-slicing through the device plugin's named configs, one per replica
  count, picked by the node label ``nvidia.com/device-plugin.config`` (``failRequestsGreaterThanOne``: a pod takes
  one slice); on GKE the node pool's ``gpu_partition_size`` (MIG) or ``gpu_sharing_config`` (TIME_SHARING), and
  pods select GKE's labels ``cloud.google.com/gke-gpu-partition-size`` or ``gke-gpu-sharing-strategy`` /
  ``gke-max-shared-clients-per-gpu``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from inferstack.catalog import gpu_sharing
from inferstack.catalog.accelerators import ACCELERATOR_LABEL, TAINT_KEY, Family
from inferstack.components.helm import chart_release
from inferstack.config.base import Cloud
from inferstack.config.platform import AcceleratorPoolConfig, GpuAllocation

#: Node label naming how a node's GPUs are allocated (``dra`` on DRA pools; absent elsewhere).
GPU_ALLOCATION_LABEL = "inferstack.io/gpu-allocation"
#: GKE node label that turns GKE's NVIDIA device plugin off on a node pool (GKE "Prepare GKE infrastructure for DRA").
GKE_NO_DEVICE_PLUGIN_LABEL = "gke-no-default-nvidia-gpu-device-plugin"
#: NVIDIA's node label of GPU nodes (the DRA driver chart's default kubelet-plugin affinity reads it).
NVIDIA_GPU_PRESENT_LABEL = "nvidia.com/gpu.present"
#: Node label selecting a named config of the NVIDIA device plugin (k8s-device-plugin v0.18.2 README).
DEVICE_PLUGIN_CONFIG_LABEL = "nvidia.com/device-plugin.config"
#: The device plugin's config for nodes without the label: whole GPUs.
DEFAULT_PLUGIN_CONFIG = "whole-gpus"
#: GKE node labels of shared GPUs (what a pod selects; GKE sets them from the node pool's settings).
GKE_PARTITION_SIZE_LABEL = "cloud.google.com/gke-gpu-partition-size"
GKE_SHARING_STRATEGY_LABEL = "cloud.google.com/gke-gpu-sharing-strategy"
GKE_MAX_SHARED_CLIENTS_LABEL = "cloud.google.com/gke-max-shared-clients-per-gpu"
#: GKE's COS install path of the NVIDIA driver GKE installs (the DRA driver's ``nvidiaDriverRoot`` there).
GKE_DRIVER_ROOT = "/home/kubernetes/bin/nvidia"
#: Namespace of the DRA driver release (``CHARTS["nvidia-dra-driver-gpu"].namespace``).
DRA_RELEASE = "nvidia-dra-driver-gpu"
#: Name of the device request (and of the pod's claim) in inferstack's ResourceClaimTemplates.
CLAIM_NAME = "gpu"
#: Share of the catalogue's device memory a GPU must report to match a kind's memory selector: NVML reports a little
#: less than the product's nominal size (an H100 80GB shows 79.6 GiB).
MEMORY_MATCH = 0.9


def is_dra(pool: AcceleratorPoolConfig) -> bool:
    return pool.allocation is GpuAllocation.DRA


def time_slice_config_name(replicas: int) -> str:
    """Name of the device plugin config that time-slices each GPU ``replicas`` ways."""
    return f"time-slice-{replicas}"


def pool_node_labels(pool: AcceleratorPoolConfig, cloud: Cloud) -> dict[str, str]:
    """Node labels a pool's allocation and sharing add (beside the accelerator and pool labels)."""
    labels: dict[str, str] = {}
    if is_dra(pool):
        labels[GPU_ALLOCATION_LABEL] = GpuAllocation.DRA.value
        if cloud is Cloud.GCP:
            labels[GKE_NO_DEVICE_PLUGIN_LABEL] = "true"
            labels[NVIDIA_GPU_PRESENT_LABEL] = "true"
    if cloud is Cloud.AWS and pool.sharing is not None and pool.sharing.time_slicing_replicas:
        labels[DEVICE_PLUGIN_CONFIG_LABEL] = time_slice_config_name(pool.sharing.time_slicing_replicas)
    return labels


def gke_sharing_selector(pool: AcceleratorPoolConfig) -> dict[str, str]:
    """GKE labels a pod on a shared pool selects (GKE schedules shared-GPU pods only with them)."""
    if pool.sharing is None:
        return {}
    if pool.sharing.mig is not None:
        return {GKE_PARTITION_SIZE_LABEL: pool.sharing.mig}
    return {GKE_SHARING_STRATEGY_LABEL: "time-sharing", GKE_MAX_SHARED_CLIENTS_LABEL: str(pool.sharing.time_slicing_replicas)}


def gke_guest_accelerator_sharing(pool: AcceleratorPoolConfig) -> dict[str, Any]:
    """pulumi-gcp ``NodePoolNodeConfigGuestAcceleratorArgs`` keyword arguments of a shared pool: ``gpu_partition_size``
    (MIG) or ``gpu_sharing_config`` (``TIME_SHARING`` with ``max_shared_clients_per_gpu``), as plain values."""
    if pool.sharing is None:
        return {}
    if pool.sharing.mig is not None:
        return {"gpu_partition_size": pool.sharing.mig}
    return {"gpu_sharing_config": {"gpu_sharing_strategy": "TIME_SHARING", "max_shared_clients_per_gpu": pool.sharing.time_slicing_replicas}}


def device_plugin_affinity(kinds: Sequence[str]) -> dict[str, Any]:
    """Node affinity of the NVIDIA device plugin: nodes of ``kinds`` that are not DRA nodes."""
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": ACCELERATOR_LABEL, "operator": "In", "values": sorted(kinds)},
                            {"key": GPU_ALLOCATION_LABEL, "operator": "NotIn", "values": [GpuAllocation.DRA.value]},
                        ]
                    }
                ]
            }
        }
    }


def device_plugin_config(pools: Sequence[AcceleratorPoolConfig]) -> dict[str, Any] | None:
    """The device plugin's ``config`` value: a named config per time-slicing replica count of ``pools`` and the
    whole-GPU default; None when no pool time-slices (the chart's default config)."""
    counts = sorted({p.sharing.time_slicing_replicas for p in pools if p.sharing is not None and p.sharing.time_slicing_replicas})
    if not counts:
        return None
    configs = {DEFAULT_PLUGIN_CONFIG: pulumi_yaml({"version": "v1", "flags": {"migStrategy": "none"}})}
    for n in counts:
        configs[time_slice_config_name(n)] = pulumi_yaml({
            "version": "v1",
            "flags": {"migStrategy": "none"},
            "sharing": {
                "timeSlicing": {
                    "renameByDefault": False,
                    "failRequestsGreaterThanOne": True,
                    "resources": [{"name": "nvidia.com/gpu", "replicas": n}],
                }
            },
        })
    return {"map": configs, "default": DEFAULT_PLUGIN_CONFIG}


def pulumi_yaml(obj: Any) -> str:
    """``obj`` as the YAML text a chart's config map holds (JSON is YAML; keys kept in order)."""
    return json.dumps(obj, indent=2)


def dra_driver_values(cloud: Cloud, system_node_selector: Mapping[str, str]) -> dict[str, Any]:
    """Values of the ``nvidia-dra-driver-gpu`` chart: GPU allocation on, ComputeDomains off, the kubelet plugin on DRA
    nodes only (tolerating the GPU taint and, on GKE, the pools' ComputeClass taint), the webhook off."""
    tolerations = [{"key": TAINT_KEY[Family.NVIDIA], "operator": "Exists", "effect": "NoSchedule"}]
    if cloud is Cloud.GCP:
        tolerations.append({"key": "cloud.google.com/compute-class", "operator": "Exists", "effect": "NoSchedule"})
    values: dict[str, Any] = {
        "gpuResourcesEnabledOverride": True,
        "resources": {"gpus": {"enabled": True}, "computeDomains": {"enabled": False}},
        "webhook": {"enabled": False},
        "kubeletPlugin": {
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {"matchExpressions": [{"key": GPU_ALLOCATION_LABEL, "operator": "In", "values": [GpuAllocation.DRA.value]}]}
                        ]
                    }
                }
            },
            "tolerations": tolerations,
        },
        "controller": {"nodeSelector": dict(system_node_selector), "affinity": None},
    }
    if cloud is Cloud.GCP:
        values["nvidiaDriverRoot"] = GKE_DRIVER_ROOT
    return values


def device_class_name(kind: str) -> str:
    return f"inferstack-{kind}"


def device_class(kind: str, device_memory_gib: float) -> dict[str, Any]:
    """The DeviceClass of whole GPUs of ``kind``: the driver, a GPU (not a MIG device), the product, its memory."""
    return {
        "apiVersion": "resource.k8s.io/v1",
        "kind": "DeviceClass",
        "metadata": {"name": device_class_name(kind), "labels": {"app.kubernetes.io/managed-by": "inferstack", ACCELERATOR_LABEL: kind}},
        "spec": {
            "selectors": [
                {"cel": {"expression": f"device.driver == '{gpu_sharing.NVIDIA_DRA_DRIVER}' && "
                                       f"device.attributes['{gpu_sharing.NVIDIA_DRA_DRIVER}'].type == 'gpu'"}},
                {"cel": {"expression": gpu_sharing.product_selector(kind)}},
                {"cel": {"expression": gpu_sharing.memory_selector(device_memory_gib * MEMORY_MATCH)}},
            ]
        },
    }


def claim_template_name(model: str) -> str:
    return f"{model}-{CLAIM_NAME}"


def resource_claim_template(model: str, namespace: str, kind: str, count: int, device_memory_gib: float) -> dict[str, Any]:
    """The ResourceClaimTemplate a model's pods claim their GPUs through: ``count`` devices of the kind's
    DeviceClass, each of the product and at least the kind's memory (CEL selectors in the request too, so the claim
    says what it needs whatever the class holds); one claim per pod, never shared across pods or namespaces."""
    return {
        "apiVersion": "resource.k8s.io/v1",
        "kind": "ResourceClaimTemplate",
        "metadata": {
            "name": claim_template_name(model),
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "inferstack", ACCELERATOR_LABEL: kind},
        },
        "spec": {
            "spec": {
                "devices": {
                    "requests": [
                        {
                            "name": CLAIM_NAME,
                            "exactly": {
                                "deviceClassName": device_class_name(kind),
                                "allocationMode": "ExactCount",
                                "count": count,
                                "selectors": [
                                    {"cel": {"expression": gpu_sharing.product_selector(kind)}},
                                    {"cel": {"expression": gpu_sharing.memory_selector(device_memory_gib * MEMORY_MATCH)}},
                                ],
                            },
                        }
                    ]
                }
            }
        },
    }


def _selectors(sel: list[dict[str, Any]]) -> list[k8s.resource.v1.DeviceSelectorArgs]:
    return [k8s.resource.v1.DeviceSelectorArgs(cel=k8s.resource.v1.CELDeviceSelectorArgs(expression=s["cel"]["expression"])) for s in sel]


def device_class_resource(name: str, obj: dict[str, Any], opts: pulumi.ResourceOptions) -> k8s.resource.v1.DeviceClass:
    """The typed ``resource.k8s.io/v1`` DeviceClass of :func:`device_class`'s ``obj``."""
    return k8s.resource.v1.DeviceClass(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(**obj["metadata"]),
        spec=k8s.resource.v1.DeviceClassSpecArgs(selectors=_selectors(obj["spec"]["selectors"])),
        opts=opts,
    )


def resource_claim_template_resource(name: str, obj: dict[str, Any], opts: pulumi.ResourceOptions) -> k8s.resource.v1.ResourceClaimTemplate:
    """The typed ``resource.k8s.io/v1`` ResourceClaimTemplate of :func:`resource_claim_template`'s ``obj``."""
    requests = []
    for r in obj["spec"]["spec"]["devices"]["requests"]:
        ex = r["exactly"]
        requests.append(k8s.resource.v1.DeviceRequestArgs(
            name=r["name"],
            exactly=k8s.resource.v1.ExactDeviceRequestArgs(
                device_class_name=ex["deviceClassName"], allocation_mode=ex["allocationMode"], count=ex["count"],
                selectors=_selectors(ex["selectors"]),
            ),
        ))
    return k8s.resource.v1.ResourceClaimTemplate(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(**obj["metadata"]),
        spec=k8s.resource.v1.ResourceClaimTemplateSpecArgs(
            spec=k8s.resource.v1.ResourceClaimSpecArgs(devices=k8s.resource.v1.DeviceClaimArgs(requests=requests))
        ),
        # The API server keeps a ResourceClaimTemplate's spec immutable: a changed spec (another pool, kind or memory)
        # is a replacement of the same-named object, deleted first.
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(replace_on_changes=["spec"],
                                                                       delete_before_replace=True)),
    )


class NvidiaDra(pulumi.ComponentResource):
    """The NVIDIA DRA driver and a DeviceClass per GPU kind of the stack's ``allocation: dra`` pools.

    Args:
        name (str): component name; children are ``<name>-nvidia-dra-driver-gpu`` and ``<name>-<kind>-class``.
        pools (Sequence[AcceleratorPoolConfig]): the stack's pools (only DRA pools count).
        cloud (Cloud): where the cluster runs (GKE: driver root and ComputeClass toleration).
        k8s_provider (k8s.Provider): provider of the cluster.
        system_node_selector (Mapping[str, str]): nodes the driver's controller would run on.
        depends_on (Sequence[pulumi.Resource]): what the release waits for.
        opts (pulumi.ResourceOptions | None, default None): options of the component.

    Outputs:
        release (k8s.helm.v3.Release | None): the driver's release (None without a DRA pool).
        device_classes (dict[str, k8s.resource.v1.DeviceClass]): per kind.
        ready (list[pulumi.Resource]): the release and the classes.

    Secure choices:
        - chart pinned in ``inferstack/catalog/versions.py``; release atomic; the privileged kubelet plugin runs on DRA
          nodes only; ComputeDomains (and their privileged daemons) off; no device plugin on DRA nodes.
    """

    def __init__(
        self,
        name: str,
        *,
        pools: Sequence[AcceleratorPoolConfig],
        cloud: Cloud,
        k8s_provider: k8s.Provider,
        system_node_selector: Mapping[str, str],
        depends_on: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("inferstack:platform:NvidiaDra", name, None, opts)
        from inferstack.catalog.accelerators import CATALOG

        dra = [p for p in pools if is_dra(p)]
        child = pulumi.ResourceOptions(parent=self, provider=k8s_provider, depends_on=list(depends_on))
        self.release: k8s.helm.v3.Release | None = None
        self.device_classes: dict[str, k8s.resource.v1.DeviceClass] = {}
        if dra:
            self.release = chart_release(
                f"{name}-{DRA_RELEASE}", DRA_RELEASE, dra_driver_values(cloud, system_node_selector), child, create_namespace=True
            )
            for kind in sorted({p.kind for p in dra}):
                self.device_classes[kind] = device_class_resource(
                    f"{name}-{kind}-class", device_class(kind, CATALOG[kind].device_memory_gib), child
                )
        self.ready: list[pulumi.Resource] = [*([self.release] if self.release else []), *self.device_classes.values()]
        self.register_outputs({"deviceClasses": sorted(self.device_classes)})
