"""The registry-and-secrets step of the program: the cloud's registry and secret store, then External Secrets."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi

from inferstack.components.platform import PlatformOutputs, RegistryOutputs
from inferstack.config import Cloud, StackConfig

if TYPE_CHECKING:
    from inferstack.components.aws.registry import AwsRegistry
    from inferstack.components.aws.secrets import AwsSecrets
    from inferstack.components.gcp.registry import GcpRegistry
    from inferstack.components.gcp.secrets import GcpSecrets


def build_registry(cfg: StackConfig, platform: PlatformOutputs) -> RegistryOutputs:
    """Declare the model registry, the secret store and External Secrets for ``cfg``; return what serving needs."""
    from inferstack.components.external_secrets import ExternalSecrets

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
    if cfg.settings.secrets:
        ExternalSecrets(f"{cfg.name}-external-secrets", platform, secrets.store, list(cfg.settings.secrets), depends_on=[secrets])
    pulumi.export("registry_bucket", registry.outputs.bucket)
    return registry.outputs
