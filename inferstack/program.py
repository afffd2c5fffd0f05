"""The Pulumi program: load the stack config, then declare the platform, registry, serving and secrets.

``__main__.py`` calls :func:`main`; ``pulumi up`` and the offline engine run the same code. The cloud's
components come from :data:`inferstack.clouds.PROFILES`; each takes its own typed arguments.
"""

from __future__ import annotations

import pulumi

from inferstack.catalog.clouds import CLOUDS
from inferstack.checks.example_values import refuse_example_values
from inferstack.clouds import PROFILES
from inferstack.components.existing_cluster import ExistingCluster
from inferstack.components.external_secrets import ExternalSecrets, SecretStoreSpec, existing_store_keys
from inferstack.components.platform import PlatformOutputs, RegistryOutputs
from inferstack.config import ConfigError, StackConfig
from inferstack.load import load_config
from inferstack.serving.deploy import Serving


def export_cluster(cfg: StackConfig, outputs: PlatformOutputs) -> None:
    """What team and workloads stacks read through a StackReference (examples/team-serving, an existingCluster stack
    with platformStack): the cluster, how to target each accelerator pool, and the team namespaces prepared."""
    pulumi.export("cluster_name", outputs.cluster_name)
    pulumi.export("pools", {name: info.to_output() for name, info in sorted(outputs.pools.items())})
    pulumi.export("team_namespaces", cfg.team_namespaces)


def build_on_existing_cluster(cfg: StackConfig) -> None:
    """Declare the Kubernetes layer of a stack with ``inferstack:existingCluster``: serving (teams, RBAC, models,
    autoscaling, monitoring, SLO rules) and secret delivery from the cluster's own store; no cloud resource."""
    existing = cfg.settings.existing_cluster
    assert existing is not None
    cluster = ExistingCluster(cfg.name, cfg.existing_cluster_args(), namespaces=cfg.team_namespaces)
    outputs = cluster.outputs
    export_cluster(cfg, outputs)
    registry = None
    if existing.registry is None and cluster.platform is not None:
        # A workloads stack: the platform stack's registry, whose reader identity its teamNamespaces may assume.
        registry = RegistryOutputs(
            scheme=CLOUDS[cfg.cloud].storage_scheme,
            bucket=cluster.platform.require_output("registry_bucket"),
            reader_identity=cluster.platform.require_output("registry_reader_identity"),
        )
        pulumi.export("registry_bucket", registry.bucket)
    elif existing.registry is not None:
        registry = RegistryOutputs(
            scheme=CLOUDS[cfg.cloud].storage_scheme,
            bucket=pulumi.Output.from_input(existing.registry.bucket),
            reader_identity=(
                pulumi.Output.from_input(existing.registry.reader_identity) if existing.registry.reader_identity else None
            ),
        )
        pulumi.export("registry_bucket", registry.bucket)
    serving = Serving(f"{cfg.name}-serving", cfg.serving_args(), outputs, registry)
    if cfg.settings.secrets:
        assert existing.secret_store is not None  # inferstack.checks.cluster.check_existing_cluster
        store = SecretStoreSpec(provider={}, remote_keys=existing_store_keys(cfg.name, list(cfg.settings.secrets)))
        namespaces = [team.namespace for team in serving.teams.values()]
        ExternalSecrets(
            f"{cfg.name}-external-secrets", outputs, store, list(cfg.settings.secrets), depends_on=namespaces,
            existing_store=existing.secret_store,
        )


def build(cfg: StackConfig) -> None:
    """Declare every resource of the stack."""
    if cfg.settings.existing_cluster is not None:
        build_on_existing_cluster(cfg)
        return
    profile = PROFILES[cfg.cloud]
    platform = profile.platform()(cfg.name, cfg.platform_args())
    outputs = platform.outputs
    # The cluster's exec-plugin kubeconfig too (a secret output; no credential in it).
    export_cluster(cfg, outputs)
    pulumi.export("kubeconfig", outputs.kubeconfig)

    # The registry and the secret store come before serving, which reads the registry's bucket and identity.
    registry = profile.registry()(f"{cfg.name}-registry", cfg.registry_args(), outputs)
    pulumi.export("registry_bucket", registry.outputs.bucket)
    pulumi.export("registry_reader_identity", registry.outputs.reader_identity)
    if cfg.settings.cluster.workloads_stack:
        # A platform stack: add-ons, teams, models and secret delivery are the workloads stack's (an existingCluster
        # stack with platformStack naming this one), which reads the outputs above.
        return
    secrets = profile.secrets()(f"{cfg.name}-secrets", cfg.secrets_args(), outputs)

    serving = Serving(f"{cfg.name}-serving", cfg.serving_args(), outputs, registry.outputs)
    if cfg.settings.secrets:
        # After the store and the team namespaces the secrets are written into (a first `pulumi up` could race).
        namespaces = [team.namespace for team in serving.teams.values()]
        ExternalSecrets(
            f"{cfg.name}-external-secrets", outputs, secrets.store, list(cfg.settings.secrets), depends_on=[secrets, *namespaces]
        )


def main() -> None:
    try:
        cfg = load_config()
        refuse_example_values(cfg)  # under the real engine only (pulumi up/preview); the offline engine accepts them
    except ConfigError as err:
        # No traceback and nothing declared: the engine reports the message and fails the update.
        raise pulumi.RunError(str(err)) from None
    for warning in cfg.warnings:
        pulumi.log.warn(str(warning))
    build(cfg)


if __name__ == "__main__":  # the offline engine's program when inferstack is installed without the project files
    main()
