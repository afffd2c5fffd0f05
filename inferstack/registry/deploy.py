"""The registry-and-secrets steps of the program: the cloud's registry and secret store (before serving), then
External Secrets (after serving has created the team namespaces the secrets are written into)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi

from inferstack.components.platform import PlatformOutputs, RegistryOutputs
from inferstack.config import Cloud, StackConfig

if TYPE_CHECKING:
    from inferstack.components.aws.registry import AwsRegistry
    from inferstack.components.aws.secrets import AwsSecrets
    from inferstack.components.external_secrets import ExternalSecrets
    from inferstack.components.gcp.registry import GcpRegistry
    from inferstack.components.gcp.secrets import GcpSecrets


def build_registry(cfg: StackConfig, platform: PlatformOutputs) -> tuple[RegistryOutputs, AwsSecrets | GcpSecrets]:
    """Declare the model registry and the secret store for ``cfg``; return what serving needs and the secret store."""
    if cfg.cloud is Cloud.AWS:
        from inferstack.components.aws.registry import AwsRegistry
        from inferstack.components.aws.secrets import AwsSecrets

        registry: AwsRegistry | GcpRegistry = AwsRegistry(f"{cfg.name}-registry", cfg, platform)
        secrets: AwsSecrets | GcpSecrets = AwsSecrets(f"{cfg.name}-secrets", cfg, platform)
    else:
        from inferstack.components.gcp.registry import GcpRegistry
        from inferstack.components.gcp.secrets import GcpSecrets

        registry = GcpRegistry(f"{cfg.name}-registry", cfg, platform)
        secrets = GcpSecrets(f"{cfg.name}-secrets", cfg, platform)
    pulumi.export("registry_bucket", registry.outputs.bucket)
    return registry.outputs, secrets


def build_external_secrets(
    cfg: StackConfig, platform: PlatformOutputs, secrets: AwsSecrets | GcpSecrets, namespaces: list[pulumi.Resource]
) -> ExternalSecrets | None:
    """Declare External Secrets for ``cfg``'s secrets, after the store and the team ``namespaces`` they write into."""
    if not cfg.settings.secrets:
        return None
    from inferstack.components.external_secrets import ExternalSecrets

    return ExternalSecrets(
        f"{cfg.name}-external-secrets", platform, secrets.store, list(cfg.settings.secrets), depends_on=[secrets, *namespaces]
    )
