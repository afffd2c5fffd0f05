"""Device plugins from pinned charts: NVIDIA device plugin and DCGM exporter on NVIDIA nodes, the Neuron device
plugin on Neuron nodes and the Neuron scheduler extension (as its own scheduler) on the system nodes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from inferstack.catalog.accelerators import ACCELERATOR_LABEL, DEVICE_RESOURCE, TAINT_KEY, Family
from inferstack.components.aws.cluster import SYSTEM_POOL
from inferstack.components.dra import device_plugin_affinity, device_plugin_config
from inferstack.components.helm import chart_release
from inferstack.config.platform import AcceleratorPoolConfig


def accelerator_affinity(kinds: list[str]) -> dict[str, Any]:
    """Node affinity to the nodes labelled ``inferstack.io/accelerator`` with one of ``kinds``."""
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": ACCELERATOR_LABEL, "operator": "In", "values": sorted(kinds)}]}]
            }
        }
    }


def toleration(family: Family) -> dict[str, str]:
    return {"key": TAINT_KEY[family], "operator": "Exists", "effect": "NoSchedule"}


def nvidia_device_plugin_values(kinds: list[str], pools: Sequence[AcceleratorPoolConfig] = ()) -> dict[str, Any]:
    """On the nodes of ``kinds`` except DRA nodes (the DRA driver allocates their GPUs); with time-slicing pools among
    ``pools``, a named config per replica count, picked by the nodes' ``nvidia.com/device-plugin.config`` label."""
    values: dict[str, Any] = {
        "affinity": device_plugin_affinity(kinds), "tolerations": [toleration(Family.NVIDIA)], "priorityClassName": "system-node-critical",
    }
    config = device_plugin_config(pools)
    if config is not None:
        values["config"] = config
    return values


def dcgm_exporter_values(kinds: list[str]) -> dict[str, Any]:
    return {
        "affinity": accelerator_affinity(kinds),
        "tolerations": [toleration(Family.NVIDIA)],
        "serviceMonitor": {"enabled": False},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
    }


def neuron_values(kinds: list[str], system_node_selector: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Device plugin on Neuron nodes only; scheduler extension with its own scheduler (EKS has no access to the
    default scheduler's config) on system nodes (default ``inferstack.io/pool=system``); no node problem detector."""
    system = dict(system_node_selector or {"inferstack.io/pool": SYSTEM_POOL})
    return {
        "devicePlugin": {"affinity": accelerator_affinity(kinds), "tolerations": [toleration(Family.NEURON)]},
        "scheduler": {"enabled": True, "nodeSelector": system, "customScheduler": {"enabled": True, "nodeSelector": system}},
        "npd": {"enabled": False},
    }


class DevicePlugins(pulumi.ComponentResource):
    """The device plugins the stack's accelerator kinds need, from pinned charts (none for a family with no pool).

    Provisions, for NVIDIA kinds, the NVIDIA device plugin and the DCGM exporter; for Neuron kinds, the Neuron chart's
    device plugin and its scheduler extension (run as its own scheduler, on the system nodes). Each runs only on the
    nodes labelled with its kinds and tolerates the family's taint.

    Args:
        name (str): component name; children are ``<name>-nvidia-device-plugin``, ``<name>-dcgm-exporter``,
            ``<name>-neuron``.
        kinds_by_family (dict[Family, list[str]]): accelerator kinds of the stack's pools, by family.
        k8s_provider (k8s.Provider): provider of the cluster.
        depends_on (list[pulumi.Resource]): what the releases wait for (the system node group).
        system_node_selector (Mapping[str, str] | None, default None): nodes the Neuron scheduler runs on; default
            ``inferstack.io/pool=system``. Set it for a cluster you bring.
        pools (Sequence[AcceleratorPoolConfig], default ()): the stack's pools: the device plugin skips DRA pools'
            nodes and time-slices the GPUs of pools with ``sharing.timeSlicingReplicas`` (components/dra.py).
        opts (pulumi.ResourceOptions | None, default None): options of the component.
        All arguments but ``name`` and ``opts`` are keyword-only.

    Outputs:
        releases (list[k8s.helm.v3.Release]): the Helm releases, in order.
        device_resources (set[str]): extended resources the plugins advertise (``nvidia.com/gpu``,
            ``aws.amazon.com/neuron``).
        Registered outputs: ``releases`` (release names).

    Secure choices:
        - chart versions pinned in ``inferstack/catalog/versions.py``; releases atomic;
        - node affinity to accelerator nodes only, so nothing privileged runs on nodes that do not need it.
    """

    def __init__(
        self,
        name: str,
        *,
        kinds_by_family: dict[Family, list[str]],
        k8s_provider: k8s.Provider,
        depends_on: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
        system_node_selector: Mapping[str, str] | None = None,
        pools: Sequence[AcceleratorPoolConfig] = (),
    ):
        super().__init__("inferstack:aws:DevicePlugins", name, None, opts)
        self.releases: list[k8s.helm.v3.Release] = []
        nvidia = kinds_by_family.get(Family.NVIDIA, [])
        neuron = kinds_by_family.get(Family.NEURON, [])
        if nvidia:
            self.releases.append(self._release(name, "nvidia-device-plugin", nvidia_device_plugin_values(nvidia, pools), k8s_provider, depends_on))
            self.releases.append(self._release(name, "dcgm-exporter", dcgm_exporter_values(nvidia), k8s_provider, depends_on))
        if neuron:
            self.releases.append(self._release(name, "neuron", neuron_values(neuron, system_node_selector), k8s_provider, depends_on))
        self.device_resources = {DEVICE_RESOURCE[f] for f, kinds in kinds_by_family.items() if kinds}
        self.register_outputs({"releases": [r.name for r in self.releases]})

    def _release(self, name: str, key: str, values: dict, provider: k8s.Provider, depends_on: list) -> k8s.helm.v3.Release:
        return chart_release(
            f"{name}-{key}", key, values, pulumi.ResourceOptions(parent=self, provider=provider, depends_on=depends_on)
        )
