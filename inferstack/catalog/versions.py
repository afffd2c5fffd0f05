"""Every pinned chart version and container image, in one place. Bump here, nowhere else.

Each entry: chart repository (OCI or HTTPS), chart name, version; images with tags. Sources are noted beside them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chart:
    """A pinned Helm chart."""

    repo: str
    chart: str
    version: str
    namespace: str


#: Kubernetes version of EKS clusters (AWS); GKE follows its release channel. 1.35 is in EKS standard support
#: until 2027-03-27 (checked 2026-12-01; 1.33 left it on 2026-07-29 and 1.34 leaves it on 2026-12-02).
EKS_VERSION = "1.35"

#: End of EKS standard support per Kubernetes minor version (docs.aws.amazon.com/eks kubernetes-versions; EKS
#: releases a version, then supports it 14 months, then 12 months of billed extended support). Checked 2026-12-01.
EKS_STANDARD_SUPPORT_END: dict[str, str] = {
    "1.31": "2025-11-26",
    "1.32": "2026-03-23",
    "1.33": "2026-07-29",
    "1.34": "2026-12-02",
    "1.35": "2027-03-27",
}

#: EKS-optimized Amazon Linux 2023 AMI release picked by Karpenter's EC2NodeClass alias; Karpenter selects the
#: standard, NVIDIA or Neuron variant of this release per instance type (github.com/awslabs/amazon-eks-ami/releases).
#: The September 2026 release carries kubelets for every version in standard support, 1.35 included.
EKS_AL2023_AMI_ALIAS = "al2023@v20260903"

CHARTS: dict[str, Chart] = {
    # Filled by the components that install each add-on (Karpenter, device plugins, cert-manager, Knative, KServe, ESO).
    # AWS platform (components/aws). Karpenter 1.14.1 matches the CRD schemas the manifests are validated against.
    "karpenter": Chart("oci://public.ecr.aws/karpenter", "karpenter", "1.14.1", "kube-system"),
    # github.com/NVIDIA/k8s-device-plugin releases; repo https://nvidia.github.io/k8s-device-plugin
    "nvidia-device-plugin": Chart("https://nvidia.github.io/k8s-device-plugin", "nvidia-device-plugin", "0.18.2", "kube-system"),
    # github.com/NVIDIA/dcgm-exporter: chart 4.7.0 ships exporter 4.4.2-4.7.0
    "dcgm-exporter": Chart("https://nvidia.github.io/dcgm-exporter/helm-charts", "dcgm-exporter", "4.7.0", "kube-system"),
    # github.com/NVIDIA/k8s-dra-driver-gpu v25.12.0 (deployments/helm/nvidia-dra-driver-gpu; repo https://helm.ngc.nvidia.com/nvidia,
    # kubeVersion >=1.32): the DRA kubelet plugin for GPUs on allocation: dra pools; image nvcr.io/nvidia/k8s-dra-driver-gpu
    # at the chart's appVersion 25.12.0. Checked 2026-12-06.
    "nvidia-dra-driver-gpu": Chart("https://helm.ngc.nvidia.com/nvidia", "nvidia-dra-driver-gpu", "25.12.0", "nvidia-dra-driver-gpu"),
    # github.com/aws-neuron/neuron-helm-charts 1.9.0 (Neuron SDK 2.31.0): device plugin + scheduler extension
    "neuron": Chart("oci://public.ecr.aws/neuron", "neuron-helm-chart", "1.9.0", "kube-system"),
    # github.com/external-secrets/external-secrets: chart 0.20.4 serves the external-secrets.io/v1 API
    "external-secrets": Chart("https://charts.external-secrets.io", "external-secrets", "0.20.4", "external-secrets"),
    # Serving (serving/install.py). cert-manager >= 1.17 is a KServe prerequisite (github.com/cert-manager/cert-manager).
    "cert-manager": Chart("https://charts.jetstack.io", "cert-manager", "v1.19.1", "cert-manager"),
    # github.com/knative/operator knative-v1.21.4: installs Knative Serving KNATIVE_SERVING_VERSION and Kourier.
    "knative-operator": Chart("https://knative.github.io/operator", "knative-operator", "1.21.4", "knative-operator"),
    # github.com/kserve/kserve v0.20.0 charts: CRDs, then controller (kserve-resources), then ClusterServingRuntimes.
    "kserve-crd": Chart("oci://ghcr.io/kserve/charts", "kserve-crd", "v0.20.0", "kserve"),
    "kserve": Chart("oci://ghcr.io/kserve/charts", "kserve-resources", "v0.20.0", "kserve"),
    "kserve-runtime-configs": Chart("oci://ghcr.io/kserve/charts", "kserve-runtime-configs", "v0.20.0", "kserve"),
    # LLM track (serving/install.py), checked 2026-12-01. KServe v0.20.0's LLMInferenceService CRDs and controller
    # (kserve-llmisvc-resources also installs the Gateway API Inference Extension CRDs, InferencePool v1).
    "kserve-llmisvc-crd": Chart("oci://ghcr.io/kserve/charts", "kserve-llmisvc-crd", "v0.20.0", "kserve"),
    "kserve-llmisvc": Chart("oci://ghcr.io/kserve/charts", "kserve-llmisvc-resources", "v0.20.0", "kserve"),
    # github.com/kubernetes-sigs/lws v0.9.0 (the LeaderWorkerSet schema the manifests are validated against).
    "lws": Chart("oci://registry.k8s.io/lws/charts", "lws", "0.9.0", "lws-system"),
    # Gateway API v1.5.1 standard-channel CRDs on EKS (GKE manages its own): Envoy Gateway's gateway-crds-helm v1.8.1
    # bundles exactly Gateway API v1.5.1 (github.com/envoyproxy/gateway charts/gateway-crds-helm; the Envoy Gateway
    # version KServe v0.20.0's quick-install pins); only the Gateway API CRDs are enabled.
    "gateway-api-crds": Chart("oci://docker.io/envoyproxy", "gateway-crds-helm", "v1.8.1", "gateway-system"),
    # Istio 1.28.1 (istio.io, InferencePool v1 support since 1.28.0): the inference gateway on EKS.
    "istio-base": Chart("https://istio-release.storage.googleapis.com/charts", "base", "1.28.1", "istio-system"),
    "istiod": Chart("https://istio-release.storage.googleapis.com/charts", "istiod", "1.28.1", "istio-system"),
    # Observability (serving/monitoring.py). github.com/prometheus-community/helm-charts: kube-prometheus-stack 82.18.0
    # ships prometheus-operator v0.89.0, the CRDs (ServiceMonitor, PodMonitor, PrometheusRule) the manifests are
    # validated against (newer charts carry newer operators). Checked 2026-12-01.
    "kube-prometheus-stack": Chart(
        "https://prometheus-community.github.io/helm-charts", "kube-prometheus-stack", "82.18.0", "monitoring"
    ),
    # github.com/kedacore/charts keda 2.20.2 (KEDA 2.20.2, the ScaledObject schema the manifests are validated against).
    "keda": Chart("https://kedacore.github.io/charts", "keda", "2.20.2", "keda"),
    # github.com/kubernetes-sigs/kueue v0.19.2 (the kueue.x-k8s.io/v1beta2 schemas the manifests are validated
    # against; its chart sets the controller image registry.k8s.io/kueue/kueue:v0.19.2): queues, quotas, gang admission.
    "kueue": Chart("oci://registry.k8s.io/kueue/charts", "kueue", "0.19.2", "kueue-system"),
}

#: Kueue controller image of the ``kueue`` chart (pinned in the release's values too).
KUEUE_IMAGE = ("registry.k8s.io/kueue/kueue", "v0.19.2")

#: Knative Serving release the operator installs (KnativeServing spec.version; bundled by knative-operator 1.21.4).
KNATIVE_SERVING_VERSION = "1.21.3"

#: GKE-managed NVIDIA driver of GPU node pools (``gpu_driver_installation_config.gpu_driver_version``): ``LATEST``
#: is the newest driver GKE qualifies for the node version (vLLM's CUDA needs recent drivers). Changing it recreates
#: the node pools.
GKE_GPU_DRIVER_VERSION = "LATEST"

#: Model-server images of the ClusterServingRuntimes inferstack adds (serving/runtimes.py), for accelerators KServe's
#: own runtimes do not drive, and of the LLMInferenceServiceConfig preset it declares (serving/llm.py).
IMAGES: dict[str, str] = {
    # vLLM for Cloud TPU (v5e, v6e; single host), github.com/vllm-project/tpu-inference; the tag Google's TPU guides use.
    "vllm-tpu": "docker.io/vllm/vllm-tpu:v0.11.1",
    # AWS Neuron Deep Learning Container with vLLM-Neuron 0.16 (SDK 2.31.1, the line covering Inf2/Trn1), github.com/aws-neuron/deep-learning-containers.
    "vllm-neuron": "public.ecr.aws/neuron/pytorch-inference-vllm-neuronx:0.16.0-neuronx-py312-sdk2.31.1-ubuntu24.04",
    # llm-d CUDA vLLM: the image of every LLMInferenceServiceConfig preset KServe v0.20.0 ships
    # (charts/kserve-runtime-configs/files/llmisvcconfigs/resources.yaml), checked 2026-12-01; used by the multi-node
    # pipeline-parallel preset inferstack declares (serving/llm.py).
    "llm-d-cuda": "ghcr.io/llm-d/llm-d-cuda:v0.8.0",
}

#: Google Cloud Managed Service for Prometheus drop-in Prometheus (self-deployed collection: keeps its TSDB and exports
#: to Monarch); the tag of Google's "self-deployed collection" guide
#: (cloud.google.com/stackdriver/docs/managed-prometheus/setup-unmanaged), checked 2026-12-01.
PROMETHEUS_GMP_IMAGE = "gke.gcr.io/prometheus-engine/prometheus:v2.53.5-gmp.9-gke.0"
#: Prometheus version of ``PROMETHEUS_GMP_IMAGE`` (the operator cannot parse it from the ``-gmp`` tag).
PROMETHEUS_GMP_VERSION = "v2.53.5"

#: AWS's neuron-monitor node agent (Neuron device, runtime and host metrics, served for Prometheus on port 8000):
#: the image of AWS's manifest aws-neuron-sdk src/k8/k8s-neuron-monitor-daemonset.yml (unchanged since Neuron SDK
#: release 2.22.0; read at aws-neuron-sdk commit 81ce03a, 2026-08-21, still 1.3.0). The pinned neuron-helm-chart
#: (``CHARTS["neuron"]``) ships no neuron-monitor, so components/aws/device_plugins.py declares AWS's DaemonSet.
NEURON_MONITOR_IMAGE = "public.ecr.aws/neuron/neuron-monitor:1.3.0"

#: Node agents the policy pack exempts from the privileged-container rules (no-privileged-workloads,
#: pss-privileged and the restricted controls privileged overrides): a DaemonSet in kube-system whose every container
#: runs exactly one of these images (tag and all; policies/rules/node_agents.py). Only agents that need the node's
#: devices, from their vendor's manifest, belong here (CIS EKS 4.2.1: minimize privileged containers).
NODE_AGENT_IMAGES: tuple[str, ...] = (NEURON_MONITOR_IMAGE,)
