"""What every cloud's platform component hands to the cloud-agnostic layers (add-ons, serving, registry, secrets).

Serving never asks which cloud it runs on: it gets a :class:`PlatformOutputs` and a :class:`WorkloadIdentity`
that turns "this Kubernetes service account may use this cloud identity" into the right annotation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from inferstack.config.base import Cloud
from inferstack.config.platform import AcceleratorPoolConfig, GpuAllocation

#: Service account every model's predictor runs under, in its team namespace.
SERVING_SERVICE_ACCOUNT = "inferstack-serving"
#: Namespace of the metrics stack (prometheus-operator, Prometheus, Grafana) and the service account its Prometheus
#: runs as: the per-cloud metrics components bind their long-term store's write identity to it.
MONITORING_NAMESPACE = "monitoring"
PROMETHEUS_SERVICE_ACCOUNT = "inferstack-prometheus"


@dataclass(frozen=True)
class PoolInfo:
    """An accelerator pool as serving sees it: kind, limits and the node labels / taints to target it."""

    name: str
    kind: str
    max_nodes: int
    devices_per_node: int
    node_selector: dict[str, str]
    taint_key: str
    device_resource: str
    #: Tolerations beyond the device taint's (GKE: the pool's ComputeClass taint).
    tolerations: tuple[dict[str, Any], ...] = ()
    #: How the pool's GPUs are allocated and shared, as the pool's config keys say it: ``{"allocation": "dra"}``,
    #: ``{"sharing": {"mig": "1g.10gb"}}`` or ``{"sharing": {"timeSlicingReplicas": 4}}``; empty: whole GPUs through the
    #: device plugin (:func:`pool_gpu_access`). A team stack rebuilds the pool's config from it (slices, claims).
    gpu_access: dict[str, Any] = field(default_factory=dict)

    def to_output(self) -> dict[str, Any]:
        """The pool as the platform stack exports it (``pools`` output; camelCase keys), for team stacks."""
        return {
            "kind": self.kind,
            "maxNodes": self.max_nodes,
            "devicesPerNode": self.devices_per_node,
            "nodeSelector": dict(self.node_selector),
            "taintKey": self.taint_key,
            "deviceResource": self.device_resource,
            "tolerations": [dict(t) for t in self.tolerations],
            **({"gpuAccess": dict(self.gpu_access)} if self.gpu_access else {}),
        }

    @classmethod
    def from_output(cls, name: str, out: Mapping[str, Any]) -> PoolInfo:
        """The pool from a platform stack's ``pools`` output entry (see :meth:`to_output`)."""
        return cls(
            name=name,
            kind=out["kind"],
            max_nodes=int(out["maxNodes"]),
            devices_per_node=int(out["devicesPerNode"]),
            node_selector=dict(out["nodeSelector"]),
            taint_key=out["taintKey"],
            device_resource=out["deviceResource"],
            tolerations=tuple(dict(t) for t in out.get("tolerations") or ()),
            gpu_access=dict(out.get("gpuAccess") or {}),
        )


def pool_gpu_access(pool: AcceleratorPoolConfig) -> dict[str, Any]:
    """The pool's ``allocation`` and ``sharing`` config keys where they differ from the default (whole GPUs through
    the device plugin): :attr:`PoolInfo.gpu_access`, which ``AcceleratorPoolConfig.model_validate`` reads back."""
    out: dict[str, Any] = {}
    if pool.allocation is not GpuAllocation.DEVICE_PLUGIN:
        out["allocation"] = pool.allocation.value
    if pool.sharing is not None:
        out["sharing"] = pool.sharing.model_dump(by_alias=True, exclude_none=True)
    return out


@dataclass
class WorkloadIdentity:
    """How a Kubernetes service account assumes a cloud identity (IRSA on EKS, Workload Identity on GKE)."""

    #: The cloud whose identities the service accounts assume.
    cloud: Cloud
    #: AWS: the ARN of the cluster's IAM OIDC provider.
    oidc_provider_arn: pulumi.Output[str] | None = None
    #: AWS: the cluster's OIDC issuer, host and path without https:// (the trust policies' condition key).
    oidc_issuer: pulumi.Output[str] | None = None
    #: GCP: the project of the cluster.
    project: str | None = None
    #: GCP: the workload pool (``<project>.svc.id.goog``).
    workload_pool: str | None = None

    def service_account_annotation_key(self) -> str:
        """The ServiceAccount annotation that names the cloud identity (``eks.amazonaws.com/role-arn`` on AWS,
        ``iam.gke.io/gcp-service-account`` on GCP)."""
        return "eks.amazonaws.com/role-arn" if self.cloud is Cloud.AWS else "iam.gke.io/gcp-service-account"


@dataclass
class MetricsOutputs:
    """Where the in-cluster Prometheus keeps its series long-term: the cloud's managed Prometheus."""

    #: ``amp`` (Amazon Managed Service for Prometheus, remote write) or ``gmp`` (Google Managed Prometheus, export).
    store: str
    #: Values merged into the kube-prometheus-stack chart's ``prometheus`` key: service account identity annotation,
    #: and remote write (AWS) or the GMP drop-in image (GCP).
    prometheus_values: pulumi.Output[dict[str, Any]]
    #: The store: AMP workspace ARN, or the Cloud Monitoring project (``projects/<id>``).
    store_id: pulumi.Output[str]


@dataclass
class PlatformOutputs:
    """The cluster as the cloud-agnostic layers use it.

    ``AwsPlatform`` / ``GcpPlatform`` / ``ExistingCluster`` build it (their ``outputs``); a program on a cluster
    of its own builds it from the cluster's values (``examples/byo-eks``: the given cluster name, kubeconfig
    provider, KMS key and OIDC provider, with the pools of ``AcceleratorPools``) and hands it to ``Serving``,
    ``AwsRegistry`` / ``GcpRegistry`` and ``ExternalSecrets``.
    """

    #: The cloud the cluster runs on (``Cloud.AWS`` or ``Cloud.GCP``).
    cloud: Cloud
    #: The cluster's region (``StackConfig.region``); cloud resources of the layers above are placed there.
    region: str
    #: The EKS / GKE cluster name.
    cluster_name: pulumi.Output[str]
    #: The Kubernetes provider every Kubernetes object and Helm release of the layers above uses.
    k8s_provider: k8s.Provider
    #: CMK used for everything the platform encrypts: KMS key ARN (AWS) or CryptoKey id (GCP).
    kms_key: pulumi.Output[str]
    #: How service accounts assume cloud identities (IRSA: OIDC provider ARN and issuer; GKE: workload pool).
    identity: WorkloadIdentity
    #: Accelerator pool name -> how to target it (``AcceleratorPools.pools`` on AWS); models name these pools.
    pools: dict[str, PoolInfo] = field(default_factory=dict)
    #: Resources that must exist before Kubernetes objects are declared (node groups, device plugins).
    ready: list[pulumi.Resource] = field(default_factory=list)
    #: Resources that must exist before anything is encrypted with ``kms_key`` (GCP: the service agents' grants).
    encryption_ready: list[pulumi.Resource] = field(default_factory=list)
    #: Exec-plugin kubeconfig of the cluster (a secret output; no credential in it), for team stacks.
    kubeconfig: pulumi.Output[str] | None = None
    #: The managed long-term metrics store; None keeps metrics in the cluster's Prometheus only.
    metrics: MetricsOutputs | None = None
    #: Add-ons the cluster already has (``ExistingAddons`` keys: certManager, knative, kserve, llm, monitoring, keda,
    #: externalSecrets): serving declares their objects but installs no chart for them.
    preinstalled: frozenset[str] = frozenset()

    def installs(self, addon: str) -> bool:
        """Whether inferstack installs ``addon`` (an ``ExistingAddons`` key) on this cluster."""
        return addon not in self.preinstalled


@dataclass
class RegistryOutputs:
    """The model registry as serving uses it: where artifacts live and the read-only identity for predictors."""

    #: ``s3`` or ``gs``.
    scheme: str
    #: The bucket's name: model versions live under ``<scheme>://<bucket>/models/<registryModel>/v<version>/``.
    bucket: pulumi.Output[str]
    #: Read-only identity for the predictors' service accounts: IAM role ARN (IRSA) or Google service account email;
    #: None when the cluster grants access otherwise (an existing cluster's own node or pod identity).
    reader_identity: pulumi.Output[str] | None
