"""Public API of the component library, installed as ``inferstack.components``.

Import from here: ``from inferstack.components import AwsPlatform, StackConfig``. Names resolve lazily, so importing
this package loads no cloud SDK; ``AwsPlatform`` loads pulumi_aws and ``GcpPlatform`` pulumi_gcp when first used.
The names in ``__all__`` are the stable surface (semantic versioning); modules and names not listed are private.

- Platforms: ``AwsPlatform`` (EKS) and ``GcpPlatform`` (GKE), each built from the per-concept components below.
- AWS parts: ``PlatformKey``, ``Network``, ``EksCluster``, ``Karpenter``, ``AcceleratorPools``, ``DevicePlugins``,
  ``AwsMetrics``.
- GCP parts: ``GcpKey``, ``GcpNetwork``, ``GkeCluster``, ``GkeAcceleratorPools``, ``GcpMetrics``.
- Registry and secrets: ``AwsRegistry``, ``GcpRegistry``, ``AwsSecrets``, ``GcpSecrets``, ``ExternalSecrets``.
- Kubernetes add-ons: ``TeamNamespace``, ``PlatformAdmins``.
- GPU allocation through DRA: ``NvidiaDra`` (driver and DeviceClasses); ``resource_claim_template`` and
  ``resource_claim_template_resource``: the ResourceClaimTemplate ``<model>-gpu`` a model on an ``allocation: dra``
  pool claims its GPUs through (serving declares it; a team stack declares its models' own).
- A cluster made elsewhere: ``ExistingCluster`` (its ``ExistingClusterArgs``; config ``ExistingClusterConfig``).
- Contracts between layers: ``PlatformOutputs``, ``PoolInfo``, ``WorkloadIdentity``, ``RegistryOutputs``,
  ``MetricsOutputs``.
- Accelerator catalog: ``CATALOG``, ``Accelerator``, ``Shape``, ``Family``, ``lookup``, ``kinds_for`` and the TPU
  topology helpers.
- Typed args: each component's ``*Args`` model (``AwsPlatformArgs``, ``GcpPlatformArgs``, ``RegistryArgs``,
  ``SecretsArgs``) and the stack config models they reuse; ``load_stack`` / ``load_stack_file`` load a whole stack
  (``StackConfig.platform_args()`` and its siblings build the components' args from it); ``load_config`` loads
  the running Pulumi program's stack; ``parse_stack`` and ``prepare`` split loading where a program adds
  settings of its own (``examples/team-serving``); ``CLOUDS``: each cloud's region key and storage scheme.
"""

from __future__ import annotations

from inferstack.lazy import lazy_exports

_AWS = "inferstack.components.aws"
_GCP = "inferstack.components.gcp"
_ACC = "inferstack.catalog.accelerators"
_CFG = "inferstack.config"

#: Public name -> module that defines it, or ``module:attribute`` when the public name differs.
_EXPORTS: dict[str, str] = {
    # platforms and their parts
    "AwsPlatform": f"{_AWS}.platform",
    "PlatformKey": f"{_AWS}.kms",
    "Network": f"{_AWS}.network",
    "EksCluster": f"{_AWS}.cluster",
    "Karpenter": f"{_AWS}.karpenter",
    "AcceleratorPools": f"{_AWS}.node_pools",
    "DevicePlugins": f"{_AWS}.device_plugins",
    "AwsMetrics": f"{_AWS}.metrics",
    "GcpPlatform": f"{_GCP}.platform",
    "GcpKey": f"{_GCP}.kms",
    "GcpNetwork": f"{_GCP}.network",
    "GkeCluster": f"{_GCP}.cluster",
    "GkeAcceleratorPools": f"{_GCP}.node_pools",
    "GcpMetrics": f"{_GCP}.metrics",
    "NvidiaDra": "inferstack.components.dra",
    "resource_claim_template": "inferstack.components.dra",
    "resource_claim_template_resource": "inferstack.components.dra",
    # registry, secrets, add-ons
    "AwsRegistry": f"{_AWS}.registry",
    "AwsSecrets": f"{_AWS}.secrets",
    "GcpRegistry": f"{_GCP}.registry",
    "GcpSecrets": f"{_GCP}.secrets",
    "ExternalSecrets": "inferstack.components.external_secrets",
    "ExistingCluster": "inferstack.components.existing_cluster",
    "TeamNamespace": "inferstack.components.teams",
    "PlatformAdmins": "inferstack.components.teams",
    # contracts between layers
    "PlatformOutputs": "inferstack.components.platform",
    "PoolInfo": "inferstack.components.platform",
    "WorkloadIdentity": "inferstack.components.platform",
    "RegistryOutputs": "inferstack.components.platform",
    "MetricsOutputs": "inferstack.components.platform",
    # accelerator catalog
    "CATALOG": _ACC,
    "Accelerator": _ACC,
    "Shape": _ACC,
    "Family": _ACC,
    "ACCELERATOR_LABEL": _ACC,
    "POOL_LABEL": _ACC,
    "GKE_TPU_ACCELERATOR_LABEL": _ACC,
    "GKE_TPU_TOPOLOGY_LABEL": _ACC,
    "DEVICE_RESOURCE": _ACC,
    "TAINT_KEY": _ACC,
    "lookup": _ACC,
    "kinds_for": _ACC,
    "topology_chips": _ACC,
    "tpu_topologies": _ACC,
    "tpu_host_shape": _ACC,
    "tpu_hosts": _ACC,
    # pinned versions
    "CHARTS": "inferstack.catalog.versions",
    "Chart": "inferstack.catalog.versions",
    "EKS_VERSION": "inferstack.catalog.versions",
    # typed args: the stack config
    "StackConfig": f"{_CFG}.stack",
    "InferstackConfig": f"{_CFG}.stack",
    "ResidencyConfig": f"{_CFG}.stack",
    "ConfigError": f"{_CFG}.stack",
    "ConfigIssue": f"{_CFG}.stack",
    "load_stack": "inferstack.load",
    "load_stack_file": "inferstack.load",
    "load_config": "inferstack.load",
    "config_values": "inferstack.load",
    "prepare": "inferstack.load",
    "parse_stack": f"{_CFG}.stack",
    "CLOUDS": "inferstack.catalog.clouds",
    "CloudInfo": "inferstack.catalog.clouds",
    "parse_stack_config": "inferstack.load:load_stack",
    "StackArgs": f"{_CFG}.args",
    "AwsPlatformArgs": f"{_CFG}.args",
    "GcpPlatformArgs": f"{_CFG}.args",
    "RegistryArgs": f"{_CFG}.args",
    "SecretsArgs": f"{_CFG}.args",
    "ExistingClusterArgs": f"{_CFG}.args",
    "Cloud": "inferstack.catalog.clouds",
    "Environment": f"{_CFG}.base",
    "CapacityType": f"{_CFG}.base",
    "NetworkConfig": f"{_CFG}.platform",
    "ClusterConfig": f"{_CFG}.platform",
    "AccessEntry": f"{_CFG}.platform",
    "AcceleratorPoolConfig": f"{_CFG}.platform",
    "Capacity": f"{_CFG}.platform",
    "ModelConfig": f"{_CFG}.serving",
    "CanaryConfig": f"{_CFG}.serving",
    "CapacityPlanConfig": f"{_CFG}.serving",
    "ScaleMetric": f"{_CFG}.serving",
    "RegistryConfig": f"{_CFG}.registry",
    "SecretConfig": f"{_CFG}.registry",
    "ExistingClusterConfig": f"{_CFG}.existing",
    "ExistingAddons": f"{_CFG}.existing",
    "ExistingRegistry": f"{_CFG}.existing",
    "AddonMode": f"{_CFG}.existing",
    "PolicyConfig": f"{_CFG}.policy",
    "PricingConfig": f"{_CFG}.pricing",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
