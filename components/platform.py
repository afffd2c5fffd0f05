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
        )


@dataclass
class WorkloadIdentity:
    """How a Kubernetes service account assumes a cloud identity (IRSA on EKS, Workload Identity on GKE)."""

    cloud: Cloud
    #: AWS: the IAM OIDC provider ARN and issuer host/path (no https://).
    oidc_provider_arn: pulumi.Output[str] | None = None
    oidc_issuer: pulumi.Output[str] | None = None
    #: GCP: the project and workload pool (``<project>.svc.id.goog``).
    project: str | None = None
    workload_pool: str | None = None

    def service_account_annotation_key(self) -> str:
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
    """The cluster as the cloud-agnostic layers use it."""

    cloud: Cloud
    region: str
    cluster_name: pulumi.Output[str]
    k8s_provider: k8s.Provider
    #: CMK used for everything the platform encrypts: KMS key ARN (AWS) or CryptoKey id (GCP).
    kms_key: pulumi.Output[str]
    identity: WorkloadIdentity
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
    bucket: pulumi.Output[str]
    #: Read-only identity for the predictors' service accounts: IAM role ARN (IRSA) or Google service account email;
    #: None when the cluster grants access otherwise (an existing cluster's own node or pod identity).
    reader_identity: pulumi.Output[str] | None
