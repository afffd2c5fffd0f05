"""The Pulumi program: parse the stack config, then declare the platform for the stack's cloud.

``__main__.py`` calls :func:`main`; ``pulumi up`` and the offline engine run the same code.
"""

from __future__ import annotations

import pulumi
from pulumi.runtime import config as pconfig

from inferstack.config import Cloud, ConfigError, StackConfig, parse_stack_config


def load_config() -> StackConfig:
    """The stack config as Pulumi passes it to the program, validated."""
    values = dict(pconfig.get_config_env())
    values.update(pconfig.CONFIG.get())
    secret_keys = set(pconfig.get_config_secret_keys_env()) | {k for k in values if pconfig.is_config_secret(k)}
    return parse_stack_config(pulumi.get_stack(), values, secret_keys=secret_keys)


def build(cfg: StackConfig) -> None:
    """Declare every resource of the stack."""
    if cfg.cloud is Cloud.AWS:
        from inferstack.components.aws.platform import AwsPlatform

        platform = AwsPlatform(cfg.name, cfg)
    else:
        from inferstack.components.gcp.platform import GcpPlatform

        platform = GcpPlatform(cfg.name, cfg)
    outputs = platform.outputs
    # What team stacks read through a StackReference (examples/team-serving): the cluster, its exec-plugin
    # kubeconfig (a secret output; no credential in it) and how to target each accelerator pool.
    pulumi.export("cluster_name", outputs.cluster_name)
    pulumi.export("kubeconfig", outputs.kubeconfig)
    pulumi.export("pools", {name: info.to_output() for name, info in sorted(outputs.pools.items())})
    pulumi.export("team_namespaces", cfg.team_namespaces)

    from inferstack.registry.deploy import build_external_secrets, build_registry

    registry, secrets = build_registry(cfg, outputs)

    from inferstack.serving.deploy import build_serving

    serving = build_serving(cfg, outputs, registry)
    build_external_secrets(cfg, outputs, secrets, [team.namespace for team in serving.teams.values()])


def main() -> None:
    try:
        cfg = load_config()
    except ConfigError as err:
        # No traceback and nothing declared: the engine reports the message and fails the update.
        raise pulumi.RunError(str(err)) from None
    build(cfg)


if __name__ == "__main__":  # the offline engine's program when inferstack is installed without the project files
    main()
