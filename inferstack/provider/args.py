"""Argument types of the cross-language components: TypedDicts the package schema is inferred from.

Each nested type mirrors one ``inferstack.config`` model field for field (same names in camelCase, same
descriptions); the components validate what they receive by building those models, so defaults and checks live in
one place. Every argument is plain (not ``pulumi.Input``): the settings shape the resource graph, so they must be
known when the component is declared.

No ``from __future__ import annotations`` here: Pulumi's schema analyzer reads the real annotation objects.
"""

from typing import TypedDict

from typing_extensions import NotRequired

from inferstack.config.base import Cloud, Environment
from inferstack.config.platform import Capacity
from inferstack.config.serving import ScaleMetric

__all__ = [
    "AcceleratorPool",
    "AccessEntry",
    "AwsPlatformArgs",
    "Canary",
    "Capacity",
    "CapacityPlan",
    "Cloud",
    "Cluster",
    "Environment",
    "GcpPlatformArgs",
    "InferenceStackArgs",
    "Model",
    "Network",
    "Policy",
    "Registry",
    "ScaleMetric",
]


class Network(TypedDict):
    """VPC layout. On AWS: public subnets only for load balancers, private subnets for nodes, NAT; on GCP: one regional subnet. Mirrors ``inferstack.config.platform.NetworkConfig``."""

    cidr: NotRequired[str]
    """Primary CIDR block of the VPC (AWS) or node subnet (GCP)."""

    availability_zones: NotRequired[int]
    """Number of zones the nodes span (at least 2; 3 in prod)."""

    nat_gateways: NotRequired[int]
    """NAT gateways (AWS): 1 for dev, one per zone for prod."""

    flow_log_retention_days: NotRequired[int]
    """Retention of VPC flow logs, in days."""

    pods_cidr: NotRequired[str]
    """GKE secondary range for pods."""

    services_cidr: NotRequired[str]
    """GKE secondary range for services."""


class AccessEntry(TypedDict):
    """An IAM role (AWS) or Google group/user (GCP) mapped to Kubernetes groups. Mirrors ``inferstack.config.platform.AccessEntry``."""

    principal: str
    """IAM role ARN (AWS) or Google principal such as group:ml@example.com (GCP)."""

    groups: list[str]
    """Kubernetes groups the principal joins, bound by the team RBAC."""


class Cluster(TypedDict):
    """The Kubernetes control plane and its small on-demand system node pool. Mirrors ``inferstack.config.platform.ClusterConfig``."""

    version: NotRequired[str]
    """Kubernetes minor version of EKS (pinned in components/versions.py); GKE follows the release channel."""

    release_channel: NotRequired[str]
    """GKE release channel: RAPID, REGULAR or STABLE."""

    public_endpoint: NotRequired[bool]
    """Expose the API endpoint publicly (never to 0.0.0.0/0)."""

    public_access_cidrs: NotRequired[list[str]]
    """CIDRs allowed to reach a public endpoint, or GKE master authorized networks."""

    log_retention_days: NotRequired[int]
    """Retention of control-plane logs, in days."""

    access_entries: NotRequired[list[AccessEntry]]
    """Principals mapped to Kubernetes groups."""

    system_node_type: NotRequired[str]
    """Instance / machine type of the system pool; empty: m6i.large or e2-standard-4."""

    system_nodes_min: NotRequired[int]
    """Minimum size of the on-demand system pool."""

    system_nodes_max: NotRequired[int]
    """Maximum size of the on-demand system pool."""

    deletion_protection: NotRequired[bool]
    """Protect the cluster from deletion; default on in prod."""

    control_plane_cidr: NotRequired[str]
    """GKE: the /28 the private control plane uses (firewalled to the webhook ports of the nodes)."""


class AcceleratorPool(TypedDict):
    """A pool of accelerator nodes of one kind (Karpenter NodePools on AWS, GKE node pools + ComputeClass on GCP). Mirrors ``inferstack.config.platform.AcceleratorPoolConfig``."""

    name: str
    """Pool name, unique in the stack; lower-case letters, digits and dashes."""

    kind: str
    """Accelerator kind from the catalog, e.g. nvidia-l4, aws-inferentia2, tpu-v5e."""

    devices_per_node: NotRequired[int]
    """Devices per node; picks the shape; default the smallest."""

    capacity: NotRequired[Capacity]
    """spot-first (with on-demand fallback), on-demand or spot-only."""

    on_demand_baseline: NotRequired[int]
    """Nodes always kept on-demand (prod baseline), beside the spot-first capacity."""

    min_nodes: NotRequired[int]
    """Minimum nodes kept running (0 lets the pool scale to zero)."""

    max_nodes: NotRequired[int]
    """Maximum nodes of the pool; bounds cost and the models' max replicas."""

    tpu_topology: NotRequired[str]
    """TPU slice topology, e.g. 2x4 or 4x4 (multi-host); TPU kinds only."""

    consolidate_after: NotRequired[str]
    """How long a node stays empty before Karpenter removes it."""

    expire_after: NotRequired[str]
    """Maximum node lifetime before Karpenter replaces it (drift, patches)."""


class Canary(TypedDict):
    """A canary version receiving part of the traffic. Mirrors ``inferstack.config.serving.CanaryConfig``."""

    version: str
    """Registry version number of the canary, e.g. '7'."""

    percent: NotRequired[int]
    """Share of traffic sent to the canary, in percent (0: rolled back)."""


class CapacityPlan(TypedDict):
    """Traffic expectations the capacity planner sizes a model from. Mirrors ``inferstack.config.serving.CapacityPlanConfig``."""

    peak_rps: float
    """Expected peak requests per second for the model."""

    replica_rps: float
    """Measured sustainable requests per second of one replica."""

    latency_target_ms: NotRequired[int]
    """p95 latency target the replica_rps was measured at."""

    headroom: NotRequired[float]
    """Extra capacity above peak, as a fraction (0.25 = 25%)."""

    base_rps: NotRequired[float]
    """Expected off-peak requests per second; sizes minReplicas (default 1)."""


class Model(TypedDict):
    """One model served as a KServe InferenceService. Mirrors ``inferstack.config.serving.ModelConfig``."""

    name: str
    """InferenceService name; lower-case letters, digits and dashes."""

    namespace: str
    """Team namespace the model runs in."""

    format: str
    """KServe model format, e.g. huggingface, pytorch, onnx, triton, sklearn."""

    runtime: NotRequired[str]
    """ServingRuntime name; default: KServe picks one for the format."""

    registry_model: str
    """Model name in the registry."""

    version: str
    """Stable registry version number, e.g. '3'."""

    canary: NotRequired[Canary]
    """Optional canary version and its traffic share."""

    pool: NotRequired[str]
    """Accelerator pool to run on; none for CPU-only models."""

    accelerators: NotRequired[int]
    """Devices per replica on the pool's accelerator."""

    cpu: NotRequired[str]
    """CPU request per replica."""

    memory: NotRequired[str]
    """Memory request per replica."""

    min_replicas: NotRequired[int]
    """Minimum replicas (0 scales to zero; dev only for accelerator models)."""

    max_replicas: NotRequired[int]
    """Maximum replicas; must fit the pool's limits."""

    scale_metric: NotRequired[ScaleMetric]
    """Autoscaling metric: concurrency or rps (Knative KPA); cpu or memory use Knative's HPA class (no scale to zero)."""

    scale_target: NotRequired[int]
    """Target value of the scale metric per replica."""

    timeout_seconds: NotRequired[int]
    """Request timeout, in seconds."""

    progress_deadline_seconds: NotRequired[int]
    """How long a new revision may take to become ready."""

    public: NotRequired[bool]
    """Expose outside the cluster; also needs policy.allowPublicInference."""

    capacity: NotRequired[CapacityPlan]
    """Traffic plan; when set, the planner derives and checks replicas."""


class Registry(TypedDict):
    """The model registry: a versioned, CMK-encrypted bucket plus version metadata. Mirrors ``inferstack.config.registry.RegistryConfig``."""

    noncurrent_version_days: NotRequired[int]
    """Days a noncurrent object version is kept."""

    writer_principals: NotRequired[list[str]]
    """Principals (CI roles / service accounts) allowed to push models."""

    force_destroy: NotRequired[bool]
    """Allow deleting a non-empty bucket (dev only)."""


class Policy(TypedDict):
    """Policy pack settings for this stack. Mirrors ``inferstack.config.policy.PolicyConfig``."""

    platform_admin_group: NotRequired[str]
    """The only group cluster-admin may be bound to."""

    allow_public_inference: NotRequired[bool]
    """Allow InferenceServices that are not cluster-local."""

    allow_public_load_balancers: NotRequired[bool]
    """Allow LoadBalancer Services without the internal annotation."""


class AwsPlatformArgs(TypedDict):
    """Settings of an EKS platform (the ``inferstack:`` stack keys a platform uses, plus its region)."""

    environment: Environment
    """Environment class: dev, staging or prod; drives defaults (zones, NAT, protection) and policy levels."""

    region: str
    """AWS region of every resource, e.g. eu-west-1; must be in allowedRegions."""

    allowed_regions: NotRequired[list[str]]
    """Regions every resource must be in (residency); default: the region only."""

    network: NotRequired[Network]
    """VPC and subnets."""

    cluster: NotRequired[Cluster]
    """Kubernetes control plane and system pool."""

    accelerator_pools: NotRequired[list[AcceleratorPool]]
    """Accelerator node pools."""


class GcpPlatformArgs(TypedDict):
    """Settings of a GKE platform (the ``inferstack:`` stack keys a platform uses, plus project and region)."""

    environment: Environment
    """Environment class: dev, staging or prod; drives defaults (zones, protection) and policy levels."""

    project: str
    """Google Cloud project id."""

    region: str
    """Google Cloud region of every resource, e.g. europe-west4; must be in allowedRegions."""

    allowed_regions: NotRequired[list[str]]
    """Regions every resource must be in (residency); default: the region only."""

    network: NotRequired[Network]
    """VPC and subnets."""

    cluster: NotRequired[Cluster]
    """Kubernetes control plane and system pool."""

    accelerator_pools: NotRequired[list[AcceleratorPool]]
    """Accelerator node pools."""


class InferenceStackArgs(TypedDict):
    """Settings of a whole inference stack: platform, model registry and KServe serving of the models."""

    cloud: Cloud
    """Cloud the stack runs on: aws or gcp."""

    environment: Environment
    """Environment class: dev, staging or prod; drives defaults and policy levels."""

    region: str
    """Region of every resource; must be in allowedRegions."""

    project: NotRequired[str]
    """Google Cloud project id (required when cloud is gcp)."""

    allowed_regions: NotRequired[list[str]]
    """Regions every resource must be in (residency); default: the region only."""

    network: NotRequired[Network]
    """VPC and subnets."""

    cluster: NotRequired[Cluster]
    """Kubernetes control plane and system pool."""

    accelerator_pools: NotRequired[list[AcceleratorPool]]
    """Accelerator node pools."""

    models: NotRequired[list[Model]]
    """Models served with KServe."""

    registry: NotRequired[Registry]
    """Model registry settings."""

    policy: NotRequired[Policy]
    """Policy settings the components read (admin group, public inference)."""
