"""Device plugins from pinned charts: NVIDIA device plugin and DCGM exporter on NVIDIA nodes, the Neuron device
plugin on Neuron nodes and the Neuron scheduler extension (as its own scheduler) on the system nodes; AWS's
neuron-monitor DaemonSet (metrics of the Neuron devices) on Neuron nodes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from inferstack.catalog.accelerators import ACCELERATOR_LABEL, DEVICE_RESOURCE, TAINT_KEY, Family
from inferstack.catalog.versions import NEURON_MONITOR_IMAGE
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


#: AWS's neuron-monitor DaemonSet, as in AWS's manifest (aws-neuron-sdk src/k8/k8s-neuron-monitor-daemonset.yml),
#: in kube-system: its name and pod label, the Prometheus exporter's port (``--port 8000``).
NEURON_MONITOR = "neuron-monitor"
NEURON_MONITOR_NAMESPACE = "kube-system"
NEURON_MONITOR_LABELS = {"app": NEURON_MONITOR}
NEURON_MONITOR_PORT = 8000
NEURON_MONITOR_PORT_NAME = "metrics"


def neuron_monitor_daemonset(kinds: list[str]) -> dict[str, Any]:
    """AWS's neuron-monitor DaemonSet (the manifest's image, command, args, port, resources, GOMEMLIMIT and
    ``privileged: true``: it reads the node's Neuron devices), on the Neuron nodes of ``kinds`` only (node affinity,
    the Neuron taint tolerated) instead of the manifest's instance-type list, with its own ServiceAccount and no API
    token (the exporter reads the devices, not the Kubernetes API: the k8s-info companion is off by default).
    In kube-system: the policy pack exempts exactly this pinned image there (policies/rules/node_agents.py)."""
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": NEURON_MONITOR, "namespace": NEURON_MONITOR_NAMESPACE,
                     "labels": {**NEURON_MONITOR_LABELS, "app.kubernetes.io/managed-by": "inferstack"}},
        "spec": {
            "selector": {"matchLabels": dict(NEURON_MONITOR_LABELS)},
            "template": {
                "metadata": {"labels": dict(NEURON_MONITOR_LABELS)},
                "spec": {
                    "serviceAccountName": NEURON_MONITOR,
                    "automountServiceAccountToken": False,
                    "priorityClassName": "system-node-critical",
                    "affinity": accelerator_affinity(kinds),
                    "tolerations": [toleration(Family.NEURON)],
                    "containers": [{
                        "name": NEURON_MONITOR,
                        "image": NEURON_MONITOR_IMAGE,
                        "command": ["/opt/bin/entrypoint.sh"],
                        "args": ["--port", str(NEURON_MONITOR_PORT),
                                 "--neuron-monitor-config", "/opt/aws/neuron/bin/neuron-monitor.conf"],
                        "ports": [{"name": NEURON_MONITOR_PORT_NAME, "containerPort": NEURON_MONITOR_PORT, "protocol": "TCP"}],
                        "env": [{"name": "GOMEMLIMIT", "value": "160MiB"}],
                        "resources": {"requests": {"cpu": "256m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
                        "securityContext": {"privileged": True},
                    }],
                },
            },
        },
    }


def _daemonset_args(d: dict[str, Any]) -> dict[str, Any]:
    """The typed arguments of :func:`neuron_monitor_daemonset`'s manifest."""
    meta, spec = d["metadata"], d["spec"]
    pod = spec["template"]["spec"]
    c = pod["containers"][0]
    terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    return {
        "metadata": k8s.meta.v1.ObjectMetaArgs(name=meta["name"], namespace=meta["namespace"], labels=meta["labels"]),
        "spec": k8s.apps.v1.DaemonSetSpecArgs(
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=spec["selector"]["matchLabels"]),
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels=spec["template"]["metadata"]["labels"]),
                spec=k8s.core.v1.PodSpecArgs(
                    service_account_name=pod["serviceAccountName"],
                    automount_service_account_token=pod["automountServiceAccountToken"],
                    priority_class_name=pod["priorityClassName"],
                    affinity=k8s.core.v1.AffinityArgs(node_affinity=k8s.core.v1.NodeAffinityArgs(
                        required_during_scheduling_ignored_during_execution=k8s.core.v1.NodeSelectorArgs(
                            node_selector_terms=[k8s.core.v1.NodeSelectorTermArgs(match_expressions=[
                                k8s.core.v1.NodeSelectorRequirementArgs(key=e["key"], operator=e["operator"], values=e["values"])
                                for e in t["matchExpressions"]]) for t in terms]))),
                    tolerations=[k8s.core.v1.TolerationArgs(**t) for t in pod["tolerations"]],
                    containers=[k8s.core.v1.ContainerArgs(
                        name=c["name"], image=c["image"], command=c["command"], args=c["args"],
                        ports=[k8s.core.v1.ContainerPortArgs(name=p["name"], container_port=p["containerPort"], protocol=p["protocol"])
                               for p in c["ports"]],
                        env=[k8s.core.v1.EnvVarArgs(name=e["name"], value=e["value"]) for e in c["env"]],
                        resources=k8s.core.v1.ResourceRequirementsArgs(requests=c["resources"]["requests"], limits=c["resources"]["limits"]),
                        security_context=k8s.core.v1.SecurityContextArgs(privileged=c["securityContext"]["privileged"]),
                    )],
                ),
            ),
        ),
    }


class DevicePlugins(pulumi.ComponentResource):
    """The device plugins the stack's accelerator kinds need, from pinned charts (none for a family with no pool).

    Provisions, for NVIDIA kinds, the NVIDIA device plugin and the DCGM exporter; for Neuron kinds, the Neuron chart's
    device plugin and its scheduler extension (run as its own scheduler, on the system nodes) and AWS's
    neuron-monitor DaemonSet in kube-system (:func:`neuron_monitor_daemonset`, with its ServiceAccount; the
    monitoring stack scrapes it). Each runs only on the nodes labelled with its kinds and tolerates the family's taint.

    Args:
        name (str): component name; children are ``<name>-nvidia-device-plugin``, ``<name>-dcgm-exporter``,
            ``<name>-neuron``, ``<name>-neuron-monitor-sa``, ``<name>-neuron-monitor``.
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
        node_agents (list[pulumi.Resource]): the DaemonSets declared here (neuron-monitor on Neuron stacks).
        device_resources (set[str]): extended resources the plugins advertise (``nvidia.com/gpu``,
            ``aws.amazon.com/neuron``).
        Registered outputs: ``releases`` (release names).

    Secure choices:
        - chart versions pinned in ``inferstack/catalog/versions.py``; releases atomic;
        - node affinity to accelerator nodes only, so nothing privileged runs on nodes that do not need it;
        - neuron-monitor: the image pinned in the catalogue (``NEURON_MONITOR_IMAGE``, the one image the policy
          pack lets run privileged, in kube-system only), its own ServiceAccount with no API token, requests and
          limits.
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
        self.node_agents: list[pulumi.Resource] = []
        if neuron:
            self.releases.append(self._release(name, "neuron", neuron_values(neuron, system_node_selector), k8s_provider, depends_on))
            child = pulumi.ResourceOptions(parent=self, provider=k8s_provider, depends_on=depends_on)
            sa = k8s.core.v1.ServiceAccount(
                f"{name}-neuron-monitor-sa",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=NEURON_MONITOR, namespace=NEURON_MONITOR_NAMESPACE,
                                                    labels={"app.kubernetes.io/managed-by": "inferstack"}),
                automount_service_account_token=False,
                opts=child,
            )
            self.node_agents.append(k8s.apps.v1.DaemonSet(
                f"{name}-neuron-monitor", **_daemonset_args(neuron_monitor_daemonset(neuron)),
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[sa])),
            ))
        self.device_resources = {DEVICE_RESOURCE[f] for f, kinds in kinds_by_family.items() if kinds}
        self.register_outputs({"releases": [r.name for r in self.releases]})

    def _release(self, name: str, key: str, values: dict, provider: k8s.Provider, depends_on: list) -> k8s.helm.v3.Release:
        return chart_release(
            f"{name}-{key}", key, values, pulumi.ResourceOptions(parent=self, provider=provider, depends_on=depends_on)
        )
