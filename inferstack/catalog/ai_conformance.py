"""Kubernetes AI Conformance checklists and their test plans, as catalogue data.

Checklists: ``github.com/cncf/k8s-ai-conformance`` ``docs/AIConformance-1.35.yaml`` and ``-1.36.yaml`` at commit
b2c89690e77f705dd4aec8da7d33a3b5d9831d8e (2026-08-19; the 1.36 file was added 2026-06-23): requirement ids, levels
and descriptions copied from the files, in their order and sections. Generated from the files (the ``spec`` mapping,
section by section), then checked by ``tests/conformance``.

Test plans: ``github.com/kubernetes-sigs/ai-conformance`` ``kars/<number>-<slug>/README.md`` ("Test Plan") at commit
af907ca8c5343b731c7bcea25c15a06c51066795 (2026-06-11), summarised step by step: what a live cluster run has to show.
``ai_inference`` has no KAR there (checked at that commit); ``dra_support`` is KAR-0051, covered by the upstream
Kubernetes conformance suite's DRA CRUD tests from 1.35. The one automated test of the suite at that commit is
``TestSecureAcceleratorAccess`` (``test/ai_conformance_test.go``, KAR-0049).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Where the checklists and test plans come from (see the module docstring).
CHECKLIST_REPO = "https://github.com/cncf/k8s-ai-conformance"
CHECKLIST_COMMIT = "b2c89690e77f705dd4aec8da7d33a3b5d9831d8e"
KAR_REPO = "https://github.com/kubernetes-sigs/ai-conformance"
KAR_COMMIT = "af907ca8c5343b731c7bcea25c15a06c51066795"
#: When the data was checked against both repositories.
CHECKED = "2026-12-06"

#: The status values the checklist allows (its ``status`` comment).
STATUSES = ("Implemented", "Partially Implemented", "Not Implemented", "N/A")


@dataclass(frozen=True)
class Requirement:
    """One checklist row: ``id``, ``level`` (MUST or SHOULD), ``description``."""

    id: str
    level: str
    description: str


@dataclass(frozen=True)
class Checklist:
    """One Kubernetes version's checklist: the metadata keys a submission fills, then the sections' requirements."""

    version: str
    source_path: str
    metadata_keys: tuple[str, ...]
    sections: tuple[tuple[str, tuple[Requirement, ...]], ...]

    def requirements(self) -> list[tuple[str, Requirement]]:
        """``(section, requirement)`` in the file's order."""
        return [(section, r) for section, reqs in self.sections for r in reqs]

    @property
    def source_url(self) -> str:
        return f"{CHECKLIST_REPO}/blob/{CHECKLIST_COMMIT}/{self.source_path}"


CHECKLISTS: dict[str, Checklist] = {
    "1.35": Checklist(
        version="1.35",
        source_path="docs/AIConformance-1.35.yaml",
        metadata_keys=('kubernetesVersion', 'platformName', 'platformVersion', 'vendorName', 'websiteUrl', 'repoUrl', 'documentationUrl', 'productLogoUrl', 'description', 'contactEmailAddress', 'k8sConformanceUrl'),
        sections=(
            ("accelerators", (
                Requirement('dra_support', 'MUST',
                            'Support Dynamic Resource Allocation (DRA) APIs to enable more flexible and fine-grained resource requests beyond simple counts.'),
                Requirement('driver_runtime_management', 'SHOULD',
                            'Provide a verifiable mechanism for ensuring that compatible accelerator drivers and corresponding container runtime configurations are correctly installed and maintained on nodes with accelerators. Once the accelerator supports exposing driver and runtime version information as part of DRA, then the platform should use the DRA mechanism for verification.'),
                Requirement('gpu_sharing', 'SHOULD',
                            'For accelerators that support static GPU sharing, provide well-defined mechanisms for at least one GPU sharing strategy to improve utilization for workloads that do not require a full dedicated GPU. If hardware-level partitioning is supported, then these fractional GPU resources should be exposed as schedulable resources. If software-based sharing (e.g. time-slicing) is supported, then oversubscription of GPUs should be allowed. Forward-looking: Once the accelerator supports static GPU sharing as part of DRA, the platform should expose the DRA mechanism to allow users to leverage static GPU sharing. Once the accelerator supports dynamic GPU sharing as part of DRA and the partitionable devices feature is GA, the platform should expose the DRA mechanism to allow users to leverage dynamic GPU sharing.'),
                Requirement('virtualized_accelerator', 'SHOULD',
                            'For accelerators that support virtualized accelerator technologies (e.g. vGPU), provide well-defined mechanisms for these to be exposed and managed, maintaining consistency with physical fractional GPUs. Forward-looking: Once the accelerator supports virtualized accelerator technologies as part of DRA, then the platform should use the DRA mechanism.'),
            )),
            ("networking", (
                Requirement('ai_inference', 'MUST',
                            'Support the Kubernetes Gateway API with an implementation for advanced traffic management for inference services, which enables capabilities like weighted traffic splitting, header-based routing (for OpenAI protocol headers), and optional integration with service meshes.'),
            )),
            ("schedulingOrchestration", (
                Requirement('gang_scheduling', 'MUST',
                            'The platform must allow for the installation and successful operation of at least one gang scheduling solution that ensures all-or-nothing scheduling for distributed AI workloads (e.g. Kueue, Volcano, etc.) To be conformant, the vendor must demonstrate that their platform can successfully run at least one such solution.'),
                Requirement('cluster_autoscaling', 'MUST',
                            'If the platform provides a cluster autoscaler or an equivalent mechanism, it must be able to scale up/down node groups containing specific accelerator types based on pending pods requesting those accelerators.'),
                Requirement('pod_autoscaling', 'MUST',
                            'If the platform supports the HorizontalPodAutoscaler, it must function correctly for pods utilizing accelerators. This includes the ability to scale these Pods based on custom metrics relevant to AI/ML workloads.'),
            )),
            ("observability", (
                Requirement('accelerator_metrics', 'MUST',
                            'For supported accelerator types, the platform must allow for the installation and successful operation of at least one accelerator metrics solution that exposes fine-grained performance metrics via a standardized, machine-readable metrics endpoint. This must include a core set of metrics for per-accelerator utilization and memory usage. Additionally, other relevant metrics such as temperature, power draw, and interconnect bandwidth should be exposed if the underlying hardware or virtualization layer makes them available. The list of metrics should align with emerging standards, such as OpenTelemetry metrics, to ensure interoperability. The platform may provide a managed solution, but this is not required for conformance.'),
                Requirement('ai_service_metrics', 'MUST',
                            'Provide a monitoring system capable of discovering and collecting metrics from workloads that expose them in a standard format (e.g. Prometheus exposition format). This ensures easy integration for collecting key metrics from common AI frameworks and servers.'),
            )),
            ("security", (
                Requirement('secure_accelerator_access', 'MUST',
                            'Ensure that access to accelerators from within containers is properly isolated and mediated by the Kubernetes resource management framework (device plugin or DRA) and container runtime, preventing unauthorized access or interference between workloads.'),
            )),
            ("operator", (
                Requirement('robust_controller', 'MUST',
                            "The platform must prove that at least one complex AI operator with a CRD (e.g., Ray, Kubeflow) can be installed and functions reliably. This includes verifying that the operator's pods run correctly, its webhooks are operational, and its custom resources can be reconciled."),
            )),
        ),
    ),
    "1.36": Checklist(
        version="1.36",
        source_path="docs/AIConformance-1.36.yaml",
        metadata_keys=('kubernetesVersion', 'platformName', 'platformVersion', 'vendorName', 'websiteUrl', 'repoUrl', 'documentationUrl', 'productLogoUrl', 'description', 'contactEmailAddress'),
        sections=(
            ("accelerators", (
                Requirement('driver_runtime_management', 'SHOULD',
                            'Provide a verifiable mechanism for ensuring that compatible accelerator drivers and corresponding container runtime configurations are correctly installed and maintained on nodes with accelerators. Once the accelerator supports exposing driver and runtime version information as part of DRA, then the platform should use the DRA mechanism for verification.'),
                Requirement('gpu_sharing', 'SHOULD',
                            'For accelerators that support static GPU sharing, provide well-defined mechanisms for at least one GPU sharing strategy to improve utilization for workloads that do not require a full dedicated GPU. If hardware-level partitioning is supported, then these fractional GPU resources should be exposed as schedulable resources. If software-based sharing (e.g. time-slicing) is supported, then oversubscription of GPUs should be allowed. Forward-looking: Once the accelerator supports static GPU sharing as part of DRA, the platform should expose the DRA mechanism to allow users to leverage static GPU sharing. Once the accelerator supports dynamic GPU sharing as part of DRA and the partitionable devices feature is GA, the platform should expose the DRA mechanism to allow users to leverage dynamic GPU sharing.'),
                Requirement('virtualized_accelerator', 'SHOULD',
                            'For accelerators that support virtualized accelerator technologies (e.g. vGPU), provide well-defined mechanisms for these to be exposed and managed, maintaining consistency with physical fractional GPUs. Forward-looking: Once the accelerator supports virtualized accelerator technologies as part of DRA, then the platform should use the DRA mechanism.'),
            )),
            ("networking", (
                Requirement('ai_inference', 'MUST',
                            'Support the Kubernetes Gateway API with an implementation for advanced traffic management for inference services, which enables capabilities like weighted traffic splitting, header-based routing (for OpenAI protocol headers), and optional integration with service meshes.'),
                Requirement('advanced_inference_ingress', 'SHOULD',
                            'Support an implementation of the Gateway API Inference Extension (GAIE), which can route requests to models hosted on Kubernetes. The implementation supports serving LLMs and making advanced routing decisions (e.g., K/V cache-aware routing) based on metrics and capabilities advertised by the underlying model serving platform.'),
                Requirement('high_performance_networking', 'SHOULD',
                            'If high performance pod-to-pod communication is needed, then provide well-defined mechanisms for these specialized network resources to be managed and exposed such that their characteristics should be discoverable to enable informed scheduling or workload configuration and to enable pods to attach to multiple network interfaces. Platforms should use DRA as the mechanism to manage and expose these specialized network resources (e.g., DRANET).'),
                Requirement('disaggregated_inference', 'SHOULD',
                            'Support the deployment and operation of disaggregated inference architectures. To be conformant, the platform should demonstrate that it can successfully install and run a disaggregated inference solution (e.g., vLLM, SGLang, llm-d, or Dynamo, with separate instances for distinct phases like prefill and decode). Disaggregated serving splits phases such as prefill and decode into separately scalable components so each phase can match different compute/memory/network needs, improving GPU utilization and tail latency while enabling higher throughput under mixed and bursty LLM workloads.'),
            )),
            ("schedulingOrchestration", (
                Requirement('gang_scheduling', 'MUST',
                            'The platform must allow for the installation and successful operation of at least one gang scheduling solution that ensures all-or-nothing scheduling for distributed AI workloads (e.g. Kueue, Volcano, etc.) To be conformant, the vendor must demonstrate that their platform can successfully run at least one such solution.'),
                Requirement('cluster_autoscaling', 'MUST',
                            'If the platform provides a cluster autoscaler or an equivalent mechanism, it must be able to scale up/down node groups containing specific accelerator types based on pending pods requesting those accelerators.'),
                Requirement('pod_autoscaling', 'MUST',
                            'If the platform supports the HorizontalPodAutoscaler, it must function correctly for pods utilizing accelerators. This includes the ability to scale these Pods based on custom metrics relevant to AI/ML workloads.'),
            )),
            ("observability", (
                Requirement('accelerator_metrics', 'MUST',
                            'For supported accelerator types, the platform must allow for the installation and successful operation of at least one accelerator metrics solution that exposes fine-grained performance metrics via a standardized, machine-readable metrics endpoint. This must include a core set of metrics for per-accelerator utilization and memory usage. Additionally, other relevant metrics such as temperature, power draw, and interconnect bandwidth should be exposed if the underlying hardware or virtualization layer makes them available. The list of metrics should align with emerging standards, such as OpenTelemetry metrics, to ensure interoperability. The platform may provide a managed solution, but this is not required for conformance.'),
                Requirement('ai_service_metrics', 'MUST',
                            'Provide a monitoring system capable of discovering and collecting metrics from workloads that expose them in a standard format (e.g. Prometheus exposition format). This ensures easy integration for collecting key metrics from common AI frameworks and servers.'),
            )),
            ("security", (
                Requirement('secure_accelerator_access', 'MUST',
                            'Ensure that access to accelerators from within containers is properly isolated and mediated by the Kubernetes resource management framework (device plugin or DRA) and container runtime, preventing unauthorized access or interference between workloads.'),
            )),
            ("operator", (
                Requirement('robust_controller', 'MUST',
                            "The platform must prove that at least one complex AI operator with a CRD (e.g., Ray, Kubeflow) can be installed and functions reliably. This includes verifying that the operator's pods run correctly, its webhooks are operational, and its custom resources can be reconciled."),
            )),
        ),
    ),}

#: The checklist version used when none is asked for.
DEFAULT_VERSION = "1.35"


@dataclass(frozen=True)
class TestPlan:
    """A KAR's test plan: what a live cluster run does, step by step (summarised from its README)."""

    number: int
    title: str
    path: str
    steps: tuple[str, ...]
    #: The automated test of the ai-conformance suite, where there is one.
    automated_test: str | None = None

    @property
    def url(self) -> str:
        return f"{KAR_REPO}/blob/{KAR_COMMIT}/{self.path}/README.md"


#: Requirement id -> its KAR test plan (requirements without one are absent: ``ai_inference``).
TEST_PLANS: dict[str, TestPlan] = {
    "dra_support": TestPlan(
        51, "Accelerator Resource Exposure & Allocation", "kars/0051-accelerator-resource-exposure-allocation",
        (
            "Check that every resource.k8s.io/v1 DRA API is served: DeviceClass, ResourceClaim, ResourceClaimTemplate, ResourceSlice.",
            "Run the Kubernetes conformance suite's '[sig-node] [DRA] CRUD Tests resource.k8s.io/v1 ...' tests (conformance from v1.35).",
        ),
    ),
    "driver_runtime_management": TestPlan(
        1, "Accelerator Driver & Runtime Management", "kars/0001-accelerator-driver-runtime-management",
        (
            "Run a pod on a node of each accelerator type; inside it, read the installed driver and runtime versions.",
            "Compare them with what the platform's mechanism declares for that node (node labels, annotations or DRA attributes).",
            "An accelerator the test does not know reports Unknown: verify it by hand.",
        ),
    ),
    "gpu_sharing": TestPlan(
        3, "GPU Sharing", "kars/0003-gpu-sharing",
        (
            "Check that the node's Allocatable lists the statically configured shared GPUs (time-slices or MIG resources).",
            "Run pods that each request one shared logical GPU (e.g. nvidia.com/gpu: 1 on a time-sliced node, nvidia.com/mig-1g.10gb: 1).",
            "Check they all run on the same node and the same physical GPU.",
            "Inside each pod, check the accelerator's health reports no error.",
        ),
    ),
    "virtualized_accelerator": TestPlan(
        4, "Virtualized Accelerators", "kars/0004-virtualized-accelerators",
        (
            "Run pods requesting one or more vGPUs through the same mechanism as physical fractional GPUs.",
            "Check they run on a node with vGPUs and their accelerator health check reports no error.",
        ),
    ),
    "gang_scheduling": TestPlan(
        53, "Gang Scheduling", "kars/0053-gang-scheduling",
        (
            "Positive: submit a workload of N pods that must be co-scheduled where capacity suffices; all N reach Running and it completes.",
            "Negative: submit N pods where capacity holds fewer than N; within the wait period no pod reaches Running (no partial scheduling).",
            "Clean up and check the resources are released.",
        ),
    ),
    "cluster_autoscaling": TestPlan(
        55, "Effective Cluster Autoscaling for Accelerators", "kars/0055-cluster-autoscaling-for-accelerators",
        (
            "Set up a node pool of N nodes with one accelerator each, minimum N and maximum at least N+1.",
            "Scale up: create N+1 pods each requesting one accelerator; one stays Pending, the pool grows to N+1, it then runs.",
            "Scale down: delete the workload; the autoscaler removes the idle accelerator node, back to N.",
            "Clean up and restore the pool.",
        ),
    ),
    "pod_autoscaling": TestPlan(
        57, "Effective HPA Autoscaling for AI Workloads", "kars/0057-hpa-autoscaling-for-ai-workloads",
        (
            "Set up a custom metrics adapter, a Deployment whose pods request an accelerator and emit the metric, and an HPA on it.",
            "Scale up: drive the metric above target; replicas grow and the new pods run on accelerator nodes.",
            "Scale down: lower the metric; replicas shrink after the stabilization window.",
            "Clean up the HPA, Deployment and adapter.",
        ),
    ),
    "accelerator_metrics": TestPlan(
        59, "Accelerator Performance Metrics", "kars/0059-accelerator-performance-metrics",
        (
            "Find the metrics endpoint of the accelerator metrics solution on a node with a supported accelerator.",
            "Scrape it: per-accelerator utilization and memory usage are present (temperature, power, interconnect where the hardware has them).",
            "Run a short accelerator workload; the utilization metric changes between scrapes before and during it.",
            "Clean up the workload.",
        ),
    ),
    "ai_service_metrics": TestPlan(
        61, "AI Job & Inference Service Metrics", "kars/0061-ai-job-inference-service-metrics",
        (
            "Deploy an inference server of a common framework exposing Prometheus metrics, with a ServiceMonitor/PodMonitor (or equivalent).",
            "Send a known number of requests.",
            "Query the monitoring system: request count, latency and queue metrics are present and reflect the traffic.",
            "Clean up the workload and its monitoring configuration.",
        ),
    ),
    "secure_accelerator_access": TestPlan(
        49, "Secure Accelerator Access", "kars/0049-secure-accelerator-access",
        (
            "Run a pod on an accelerator node without requesting an accelerator; probing for devices finds none.",
            "Run two pods each allocated an accelerator; from one, accessing the other's accelerator is denied.",
        ),
        automated_test="TestSecureAcceleratorAccess",
    ),
    "robust_controller": TestPlan(
        63, "Robust CRD and Controller Operation", "kars/0063-robust-crd-controller-operation",
        (
            "Install an AI operator; its pods and webhook run and its CRDs are registered.",
            "Submit a custom resource with an invalid spec; the admission webhook rejects it.",
            "Submit a valid custom resource; the operator reconciles it (children created, Ready within a timeout).",
            "Clean up the custom resources and the operator.",
        ),
    ),
    "high_performance_networking": TestPlan(
        10, "High-Performance Pod-to-Pod Communication", "kars/0010-high-performance-pod-to-pod-communication",
        (
            "A pod on a node with secondary interfaces sees them in its network namespace.",
            "The interfaces' characteristics (type, bandwidth, RDMA, PCI bus, NUMA node) are published and queryable.",
            "A workload requiring such an interface is scheduled only where one is available.",
            "Two such pods exchange data over the secondary interface.",
        ),
    ),
    "advanced_inference_ingress": TestPlan(
        11, "Advanced Inference Ingress", "kars/0011-advanced-ingress-inference",
        ("Run the Gateway API Inference Extension conformance suite against the cluster's GatewayClass (go test ./conformance -args -gateway-class <name>).",),
    ),
    "disaggregated_inference": TestPlan(
        41, "Disaggregated Inference Support", "kars/0041-disaggregated-inference",
        (
            "Deploy a gateway and a disaggregated inference solution serving a model that supports it.",
            "Send an inference request through the gateway; it succeeds.",
            "Check prefill and decode ran in separate pods: the same request id appears in both phases' logs (KV cache transferred).",
        ),
    ),
}
