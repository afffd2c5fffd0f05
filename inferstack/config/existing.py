"""Config of a stack that targets a cluster made elsewhere (bring your own cluster): ``inferstack:existingCluster``.

Such a stack declares the Kubernetes layer only (namespaces, teams, RBAC, serving, autoscaling, monitoring objects,
SLO rules, secret delivery) through a kubeconfig; no cloud resource. Each add-on is either installed by inferstack
from its pinned chart or assumed present on the cluster.
"""

from __future__ import annotations

from enum import Enum

from pydantic import Field

from inferstack.config.base import StrictModel


class AddonMode(str, Enum):
    """Whether inferstack installs an add-on (its pinned chart) or the cluster already has it."""

    INSTALL = "install"
    PRESENT = "present"


class ExistingAddons(StrictModel):
    """Per add-on: ``install`` (inferstack installs its pinned chart) or ``present`` (the cluster has it)."""

    cert_manager: AddonMode = Field(AddonMode.INSTALL, description="cert-manager (KServe's webhook certificates).")
    knative: AddonMode = Field(AddonMode.INSTALL, description="Knative operator and Serving with Kourier (Knative-mode models).")
    kserve: AddonMode = Field(AddonMode.INSTALL, description="KServe CRDs, controller and ClusterServingRuntimes.")
    llm: AddonMode = Field(
        AddonMode.INSTALL, description="The LLM track's charts: Gateway API CRDs, Istio (AWS), LeaderWorkerSet, KServe's LLM controller."
    )
    monitoring: AddonMode = Field(AddonMode.INSTALL, description="kube-prometheus-stack (Prometheus operator, Prometheus, Grafana).")
    keda: AddonMode = Field(AddonMode.INSTALL, description="KEDA (ScaledObjects of LLM and Standard-mode models).")
    external_secrets: AddonMode = Field(
        AddonMode.PRESENT, description="External Secrets Operator; an existing cluster's own store is named by secretStore, so present is the default."
    )

    def present(self) -> frozenset[str]:
        """The add-ons the cluster already has (``PlatformOutputs.preinstalled``), by config key."""
        return frozenset(
            (f.alias or name) for name, f in type(self).model_fields.items() if getattr(self, name) is AddonMode.PRESENT
        )


class ExistingRegistry(StrictModel):
    """An existing model registry bucket the predictors read (laid out as ``inferstack registry`` writes it)."""

    bucket: str = Field(description="Bucket name (S3 on aws, GCS on gcp).", pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    reader_identity: str | None = Field(
        None,
        description="Identity the predictors' service accounts assume: IAM role ARN (IRSA) or Google service account email.",
        pattern=r"^(arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+|[a-z][a-z0-9-]+@[a-z][a-z0-9-]+\.iam\.gserviceaccount\.com)$",
        max_length=600,
    )


class ExistingClusterConfig(StrictModel):
    """A cluster made elsewhere that the stack deploys the Kubernetes layer to."""

    name: str = Field(description="The cluster's name (exported as cluster_name).", pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")
    kubeconfig: str | None = Field(
        None,
        description="Path of the kubeconfig file; default: $KUBECONFIG, else ~/.kube/config. Prefer an exec-based kubeconfig (no token in the file).",
        min_length=1,
        max_length=4096,
    )
    context: str | None = Field(
        None, description="kubeconfig context to use; default: the kubeconfig's current context.", min_length=1, max_length=253
    )
    addons: ExistingAddons = Field(default_factory=ExistingAddons, description="Which add-ons inferstack installs and which the cluster has.")
    registry: ExistingRegistry | None = Field(None, description="The model registry bucket models are served from; required with models.")
    secret_store: str | None = Field(
        None,
        description="Name of the cluster's ClusterSecretStore that holds inferstack/<stack>/<secret> entries; required with inferstack:secrets.",
        pattern=r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$",
    )
