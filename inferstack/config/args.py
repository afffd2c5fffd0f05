"""Typed arguments of the components: each component takes its own ``*Args`` model, never the whole stack config.

They reuse the stack config's sub-models (``NetworkConfig``, ``ClusterConfig``, ``AcceleratorPoolConfig``, ...),
so a default or a rule lives in one place. ``StackConfig.platform_args()`` and its siblings build them from a
checked stack; programs that use the components directly build them themselves (keyword names or camelCase keys).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from inferstack.config.base import Cloud, Environment, StrictModel
from inferstack.config.existing import ExistingClusterConfig
from inferstack.config.platform import AcceleratorPoolConfig, AccessEntry, ClusterConfig, NetworkConfig
from inferstack.config.policy import PolicyConfig
from inferstack.config.registry import RegistryConfig, SecretConfig
from inferstack.config.scheduling import SchedulingConfig
from inferstack.config.serving import NAMESPACE_PATTERN, ModelConfig

#: A stack name as it appears in resource names (clusters, buckets, KMS aliases, service accounts).
STACK_NAME_PATTERN = r"^[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?$"
#: A team namespace name.
Namespace = Annotated[str, StringConstraints(pattern=NAMESPACE_PATTERN)]


class StackArgs(StrictModel):
    """Which stack a component belongs to: its name, environment class and region."""

    stack: str = Field(pattern=STACK_NAME_PATTERN, description="Stack name; it names clusters, buckets and keys (inferstack-<stack>).")
    environment: Environment = Field(description="Environment class: prod protects and retains stateful resources.")
    region: str = Field(min_length=1, description="Region of every resource (AWS region or GCP region).")

    @property
    def is_prod(self) -> bool:
        return self.environment is Environment.PROD


class AwsPlatformArgs(StackArgs):
    """Arguments of ``AwsPlatform``: the network, the EKS cluster and its accelerator pools."""

    network: NetworkConfig = Field(default_factory=NetworkConfig, description="VPC and subnets.")
    cluster: ClusterConfig = Field(default_factory=ClusterConfig, description="EKS control plane and system node group.")
    accelerator_pools: list[AcceleratorPoolConfig] = Field(default_factory=list, description="Accelerator NodePools.")


class GcpPlatformArgs(StackArgs):
    """Arguments of ``GcpPlatform``: the project, network, GKE cluster, accelerator pools and the models they hold."""

    project: str = Field(min_length=1, description="Google Cloud project id.")
    network: NetworkConfig = Field(default_factory=NetworkConfig, description="VPC, subnet and secondary ranges.")
    cluster: ClusterConfig = Field(default_factory=ClusterConfig, description="GKE control plane and system pool.")
    accelerator_pools: list[AcceleratorPoolConfig] = Field(default_factory=list, description="Accelerator node pools.")
    models: list[ModelConfig] = Field(
        default_factory=list, description="Models placed on the pools; they size each pool's machine type and initial nodes."
    )


class ExistingClusterArgs(StackArgs):
    """Arguments of ``ExistingCluster``: the cluster made elsewhere and the accelerator pools it already has."""

    cloud: Cloud = Field(description="Cloud the cluster runs on (workload identity annotations, registry scheme).")
    cluster: ExistingClusterConfig = Field(description="kubeconfig, context, add-ons present, registry, secret store.")
    accelerator_pools: list[AcceleratorPoolConfig] = Field(
        default_factory=list, description="The cluster's accelerator node pools (nodes labelled inferstack.io/pool and inferstack.io/accelerator)."
    )


class RegistryArgs(StackArgs):
    """Arguments of ``AwsRegistry`` / ``GcpRegistry``: the bucket settings and the namespaces whose predictors read it."""

    project: str | None = Field(None, description="Google Cloud project id (GCP only).")
    registry: RegistryConfig = Field(default_factory=RegistryConfig, description="Model registry settings.")
    team_namespaces: list[Namespace] = Field(
        default_factory=list, description="Namespaces whose serving service account gets read access to the registry."
    )


class SecretsArgs(StackArgs):
    """Arguments of ``AwsSecrets`` / ``GcpSecrets``: the secrets stored in the cloud's secret manager."""

    project: str | None = Field(None, description="Google Cloud project id (GCP only).")
    secrets: list[SecretConfig] = Field(default_factory=list, description="Secrets delivered into team namespaces.")


class ServingArgs(StrictModel):
    """Arguments of ``Serving``: the models, the pools they run on, the team namespaces and who may use them."""

    stack: str = Field(pattern=STACK_NAME_PATTERN, description="Stack name.")
    environment: Environment = Field(description="Environment class: scale to zero only in dev.")
    models: list[ModelConfig] = Field(default_factory=list, description="Models served with KServe.")
    accelerator_pools: list[AcceleratorPoolConfig] = Field(default_factory=list, description="Pools the models run on.")
    team_namespaces: list[Namespace] = Field(
        default_factory=list, description="Team namespaces to prepare (those of the models and any extra ones)."
    )
    access_entries: list[AccessEntry] = Field(
        default_factory=list, description="Principals bound in the team RoleBindings (GKE: Google principals)."
    )
    policy: PolicyConfig = Field(default_factory=PolicyConfig, description="Admin group and public-inference switch.")
    scheduling: SchedulingConfig = Field(
        default_factory=SchedulingConfig, description="Kueue queues and quotas of the pools; gang admission of LLM workloads."
    )

    def pool(self, name: str) -> AcceleratorPoolConfig:
        """The pool called ``name``."""
        for p in self.accelerator_pools:
            if p.name == name:
                return p
        raise KeyError(name)
