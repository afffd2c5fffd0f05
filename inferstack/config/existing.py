"""Config of a stack that targets a cluster made elsewhere (bring your own cluster): ``inferstack:existingCluster``.

Such a stack declares the Kubernetes layer only (namespaces, teams, RBAC, serving, autoscaling, monitoring objects,
SLO rules, secret delivery) through a kubeconfig, or through the outputs of the inferstack platform stack that made the
cluster (``platformStack``: the workloads stack of a two-stack deployment, docs/deploy.md); no cloud resource. Each add-on is either installed by inferstack
from its pinned chart or assumed present on the cluster.
"""

from __future__ import annotations

from enum import Enum

from pydantic import Field, ValidationInfo, field_validator, model_validator

from inferstack.config.base import StrictModel
from inferstack.config.platform import STACK_REFERENCE_PATTERN


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
    kueue: AddonMode = Field(
        AddonMode.INSTALL,
        description=(
            "Kueue (queues, quotas and gang admission of accelerator workloads; with accelerator pools and "
            "scheduling enabled). present: the cluster runs a Kueue serving kueue.x-k8s.io/v1beta2; the stack's "
            "queues are still declared. Without Kueue and not to install it: inferstack:scheduling.enabled false."
        ),
    )
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
    """A cluster made elsewhere that the stack deploys the Kubernetes layer to: named with its kubeconfig, or read
    from the inferstack platform stack that made it (``platformStack``: a workloads stack)."""

    platform_stack: str | None = Field(
        None,
        description=(
            "The inferstack platform stack (organization/project/stack) that made the cluster, read through a "
            "pulumi.StackReference: its cluster_name, kubeconfig, pools, team_namespaces and registry outputs. "
            "That stack sets cluster.workloadsStack to this one. Replaces name, kubeconfig and context."
        ),
        pattern=STACK_REFERENCE_PATTERN,
        max_length=302,
    )
    name: str | None = Field(
        None,
        description="The cluster's name (exported as cluster_name); required unless platformStack is given.",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$",
    )
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

    @field_validator("name", "kubeconfig", "context")
    @classmethod
    def _not_with_platform_stack(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is not None and info.data.get("platform_stack"):
            raise ValueError(
                "not used with platformStack: the cluster's name and kubeconfig are read from the platform stack's "
                "cluster_name and kubeconfig outputs; remove it"
            )
        return v

    @model_validator(mode="after")
    def _named(self) -> ExistingClusterConfig:
        if self.name is None and self.platform_stack is None:
            raise ValueError(
                "give name (the cluster's name, with kubeconfig/context) or platformStack (the inferstack stack that "
                "made the cluster, e.g. acme/inferstack/prod)"
            )
        return self
