"""The components of the ``inferstack`` Pulumi package, for programs in any Pulumi language.

Each one validates its arguments as a stack config (:func:`~inferstack.provider.config.component_stack_config`) and
declares the real Python component, with the typed ``*Args`` that config builds, as its child: ``inferstack:index:AwsPlatform`` wraps
``inferstack:aws:Platform``, and so on. The package schema is inferred from the annotations here and in
:mod:`inferstack.provider.args` by ``pulumi.provider.experimental``.

No ``from __future__ import annotations`` here: the schema analyzer reads the real annotation objects. Cloud SDKs
are imported when a component is declared, so a GCP-only install never imports pulumi-aws.
"""

from typing import Any

import pulumi
from pulumi.errors import InputPropertiesError

from inferstack.clouds import PROFILES
from inferstack.components.platform import PlatformOutputs
from inferstack.config import Cloud, StackConfig
from inferstack.provider.args import AwsPlatformArgs, GcpPlatformArgs, InferenceStackArgs, Pool
from inferstack.provider.config import component_stack_config
from inferstack.serving.deploy import Serving

PACKAGE = "inferstack"


def _allowed(args_type: Any) -> frozenset:
    return frozenset(args_type.__required_keys__ | args_type.__optional_keys__)


def _cloud(value: Any) -> Cloud:
    try:
        return Cloud(getattr(value, "value", value))
    except ValueError:
        allowed = ", ".join(c.value for c in Cloud)
        raise InputPropertiesError(
            f"cloud: {value!r} is not a cloud; allowed: {allowed}", [{"property_path": "cloud", "reason": f"allowed: {allowed}"}]
        ) from None


def _pools(platform: PlatformOutputs) -> dict[str, dict[str, Any]]:
    """The pools as the platform stack exports them (``PoolInfo.to_output``: camelCase keys, the schema's names)."""
    return {name: info.to_output() for name, info in sorted(platform.pools.items())}


def _declare_platform(name: str, cfg: StackConfig, parent: pulumi.Resource) -> Any:
    """The real platform component of ``cfg.cloud``, as a child of ``parent``."""
    return PROFILES[cfg.cloud].platform()(name, cfg.platform_args(), opts=pulumi.ResourceOptions(parent=parent))


class AwsPlatform(pulumi.ComponentResource):
    """EKS platform for inference: CMK, VPC, private EKS, Karpenter, spot-first accelerator pools, device plugins."""

    # One line: the docstring is the schema's description. The child is the real ``inferstack:aws:Platform``.

    cluster_name: pulumi.Output[str]
    """EKS cluster name (inferstack-<name>)."""

    kubeconfig: pulumi.Output[str]
    """Kubeconfig (JSON, secret) authenticating with `aws eks get-token`; holds no credential."""

    kms_key_arn: pulumi.Output[str]
    """ARN of the customer-managed KMS key that encrypts cluster secrets, volumes, logs and the registry."""

    oidc_provider_arn: pulumi.Output[str]
    """ARN of the cluster's IAM OIDC provider, for IAM roles for service accounts."""

    oidc_issuer: pulumi.Output[str]
    """OIDC issuer of the cluster without https://, for IRSA trust policies."""

    pools: pulumi.Output[dict[str, Pool]]
    """Accelerator pools by name: how workloads target each one (the platform stack's pools export)."""

    def __init__(self, name: str, args: AwsPlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"{PACKAGE}:index:AwsPlatform", name, {}, opts)
        cfg = component_stack_config(name, Cloud.AWS, args, _allowed(AwsPlatformArgs))
        self.platform = _declare_platform(name, cfg, self)
        out: PlatformOutputs = self.platform.outputs
        pools = _pools(out)
        self.cluster_name = out.cluster_name
        self.kubeconfig = pulumi.Output.secret(out.kubeconfig)
        self.kms_key_arn = out.kms_key
        self.oidc_provider_arn = pulumi.Output.from_input(out.identity.oidc_provider_arn)
        self.oidc_issuer = pulumi.Output.from_input(out.identity.oidc_issuer)
        self.pools = pulumi.Output.from_input(pools)
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "kubeconfig": self.kubeconfig,
                "kmsKeyArn": self.kms_key_arn,
                "oidcProviderArn": self.oidc_provider_arn,
                "oidcIssuer": self.oidc_issuer,
                "pools": pools,
            }
        )


class GcpPlatform(pulumi.ComponentResource):
    """GKE platform for inference: CMEK, VPC, private regional GKE with Workload Identity, accelerator pools."""

    # The child is the real ``inferstack:gcp:Platform``.

    cluster_name: pulumi.Output[str]
    """GKE cluster name (inferstack-<name>)."""

    kms_key_id: pulumi.Output[str]
    """Id of the Cloud KMS CryptoKey that encrypts cluster secrets and the registry."""

    workload_pool: pulumi.Output[str]
    """Workload Identity pool of the cluster (<project>.svc.id.goog)."""

    kubeconfig: pulumi.Output[str]
    """Kubeconfig (JSON, secret) authenticating with gke-gcloud-auth-plugin; holds no credential."""

    pools: pulumi.Output[dict[str, Pool]]
    """Accelerator pools by name: how workloads target each one (the platform stack's pools export)."""

    def __init__(self, name: str, args: GcpPlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"{PACKAGE}:index:GcpPlatform", name, {}, opts)
        cfg = component_stack_config(name, Cloud.GCP, args, _allowed(GcpPlatformArgs))
        self.platform = _declare_platform(name, cfg, self)
        out: PlatformOutputs = self.platform.outputs
        pools = _pools(out)
        self.cluster_name = out.cluster_name
        self.kubeconfig = pulumi.Output.secret(out.kubeconfig)
        self.kms_key_id = out.kms_key
        self.workload_pool = pulumi.Output.from_input(out.identity.workload_pool or "")
        self.pools = pulumi.Output.from_input(pools)
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "kubeconfig": self.kubeconfig,
                "kmsKeyId": self.kms_key_id,
                "workloadPool": self.workload_pool,
                "pools": pools,
            }
        )


class InferenceStack(pulumi.ComponentResource):
    """A whole inference stack on AWS or GCP: platform, encrypted model registry, KServe serving of the models."""

    # Children: the real ``inferstack:aws:Platform`` or ``inferstack:gcp:Platform``, the registry component and
    # ``inferstack:serving:Serving`` (team namespaces, RBAC, one InferenceService per model), as ``pulumi up`` of a
    # stack declares them; the secret store is left out (secret values come from a stack's secure config).

    cluster_name: pulumi.Output[str]
    """Kubernetes cluster name (inferstack-<name>)."""

    kubeconfig: pulumi.Output[str]
    """Kubeconfig (JSON, secret) authenticating through the cloud CLI's exec plugin; holds no credential."""

    kms_key: pulumi.Output[str]
    """Customer-managed key: KMS key ARN (AWS) or Cloud KMS CryptoKey id (GCP)."""

    pools: pulumi.Output[dict[str, Pool]]
    """Accelerator pools by name: how workloads target each one (the platform stack's pools export)."""

    registry_bucket: pulumi.Output[str]
    """Bucket of the model registry (s3 or gs)."""

    registry_reader: pulumi.Output[str]
    """Read-only identity of the predictors: IAM role ARN (AWS) or Google service account email (GCP)."""

    models: pulumi.Output[list[str]]
    """Served models as namespace/name."""

    def __init__(self, name: str, args: InferenceStackArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"{PACKAGE}:index:InferenceStack", name, {}, opts)
        cloud = _cloud(args.get("cloud"))
        cfg = component_stack_config(name, cloud, args, _allowed(InferenceStackArgs))
        child = pulumi.ResourceOptions(parent=self)
        self.platform = _declare_platform(name, cfg, self)
        platform: PlatformOutputs = self.platform.outputs
        self.registry: Any = PROFILES[cloud].registry()(f"{name}-registry", cfg.registry_args(), platform, opts=child)
        self.serving = Serving(f"{name}-serving", cfg.serving_args(), platform, self.registry.outputs, opts=child)
        served = [f"{m.namespace}/{m.name}" for m in cfg.settings.models]
        pools = _pools(platform)
        self.cluster_name = platform.cluster_name
        self.kubeconfig = pulumi.Output.secret(platform.kubeconfig)
        self.kms_key = platform.kms_key
        self.pools = pulumi.Output.from_input(pools)
        self.registry_bucket = self.registry.outputs.bucket
        self.registry_reader = self.registry.outputs.reader_identity
        self.models = pulumi.Output.from_input(served)
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "kubeconfig": self.kubeconfig,
                "kmsKey": self.kms_key,
                "pools": pools,
                "registryBucket": self.registry_bucket,
                "registryReader": self.registry_reader,
                "models": served,
            }
        )


#: Every component of the package, in schema order.
COMPONENTS: list[type[pulumi.ComponentResource]] = [AwsPlatform, GcpPlatform, InferenceStack]
