"""What a node keeps for itself: the kubelet's and the system's reservations, eviction headroom, the DaemonSets the
platform runs on every accelerator node, and the sidecars KServe adds to each predictor pod.

Pure data with its sources; ``inferstack.sizing`` turns it into allocatable CPU and memory per shape, so the
capacity planner sizes pods against what a pod can really request, not the instance's raw vCPU and memory.

Sources (checked 2026-12-01):

- EKS (AL2023 nodeadm, same formula as the Amazon Linux 2 bootstrap): kube-reserved memory = 255 MiB + 11 MiB per
  pod of max-pods (110 below 30 vCPU, 250 above, as the max-pods calculator caps them with prefix delegation);
  kube-reserved CPU = 6 % of the first core, 1 % of the second, 0.5 % of the third and fourth, 0.25 % of every
  core above four; eviction threshold memory.available 100 Mi.
- GKE ("Standard cluster architecture: node allocatable resources"): memory = 255 MiB below 1 GiB, else 25 % of the
  first 4 GiB, 20 % of the next 4, 10 % of the next 8, 6 % of the next 112 and 2 % above 128 GiB; CPU as on EKS;
  eviction threshold 100 MiB.
- DaemonSets: the requests of the agents every node runs (CNI, kube-proxy, CSI node plugin, logging/metrics
  agents) and of the device plugin and exporter of the family (NVIDIA device plugin and DCGM exporter, Neuron
  device plugin and monitor; GKE runs the TPU and GPU device plugins itself). Conservative sums of the charts'
  and add-ons' default requests; check a real node with ``kubectl describe node``.
- Sidecars: Knative's queue-proxy requests 25m CPU (``queueSidecarCPURequest``) and inferstack budgets 64 MiB for
  it; KServe's storage-initializer (an init container, 100m / 100 MiB) does not add to the running pod.
"""

from __future__ import annotations

from dataclasses import dataclass

from inferstack.catalog.accelerators import Family
from inferstack.catalog.clouds import Cloud

#: Kubelet eviction threshold (memory.available) on both clouds, GiB.
EVICTION_MEMORY_GIB = 100 / 1024
#: CPU reservation brackets (cores, fraction) shared by EKS and GKE; the last bracket applies to every core above.
CPU_RESERVATION: tuple[tuple[float, float], ...] = ((1, 0.06), (1, 0.01), (2, 0.005), (float("inf"), 0.0025))
#: GKE memory reservation brackets (GiB, fraction), applied to nodes of 1 GiB or more.
GKE_MEMORY_RESERVATION: tuple[tuple[float, float], ...] = ((4, 0.25), (4, 0.20), (8, 0.10), (112, 0.06), (float("inf"), 0.02))
#: EKS max pods by node size: (vCPU below which it applies, max pods).
EKS_MAX_PODS: tuple[tuple[int, int], ...] = ((30, 110), (10_000, 250))


@dataclass(frozen=True)
class Overhead:
    """CPU cores and memory (GiB) requested on a node, or by a pod's sidecars."""

    cpu: float
    memory_gib: float


#: Requests of the DaemonSets on every node of a pool, per cloud (system agents) ...
SYSTEM_DAEMONSETS: dict[Cloud, Overhead] = {
    Cloud.AWS: Overhead(cpu=0.25, memory_gib=0.5),  # aws-node, kube-proxy, ebs-csi-node, eks-pod-identity-agent
    Cloud.GCP: Overhead(cpu=0.4, memory_gib=0.75),  # anetd, kube-proxy, pdcsi-node, fluentbit-gke, gke-metrics-agent
}
#: ... plus those of the device family's plugins and exporters the platform installs (AWS) or GKE runs (GCP).
DEVICE_DAEMONSETS: dict[Family, Overhead] = {
    Family.NVIDIA: Overhead(cpu=0.2, memory_gib=0.5),  # device plugin, DCGM exporter
    Family.NEURON: Overhead(cpu=0.2, memory_gib=0.5),  # Neuron device plugin, neuron-monitor
    Family.TPU: Overhead(cpu=0.1, memory_gib=0.25),  # GKE's TPU device plugin and metrics
}
#: Requests a predictor pod adds beside the model server (Knative queue-proxy).
SERVING_SIDECARS = Overhead(cpu=0.025, memory_gib=0.0625)
