"""A team's model-serving stack on the platform another stack created (``pulumi.StackReference``), with canaries.

The platform stack (this repository's program, one per environment) owns the cluster, the accelerator pools, KServe,
the model registry and the team namespaces. This stack reads the platform's outputs (kubeconfig, registry bucket,
accelerator pools) and declares only the team's models: one InferenceService per model (with its canary split) and
its PodDisruptionBudget, in the team's namespace; and, for a model on an ``allocation: dra`` pool, the
ResourceClaimTemplate ``<model>-gpu`` its predictor's pods claim their GPUs through (built as the platform's own
serving builds it).

Models are ``inferstack:models`` entries, validated with the platform's pools by the same typed models and checks as
a reference stack (``parse_stack`` then ``prepare``): unknown pools, autoscaling rules per environment, canary versions, and
replicas that do not fit the pool's limits are config errors.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from inferstack.components import (
    CATALOG,
    CLOUDS,
    GKE_TPU_TOPOLOGY_LABEL,
    AcceleratorPoolConfig,
    PoolInfo,
    RegistryOutputs,
    config_values,
    prepare,
    resource_claim_template,
    resource_claim_template_resource,
)
from inferstack.config import ConfigError, StackConfig, parse_stack
from inferstack.serving import ModelService, model_storage_uri, placement_for, traffic

#: Config namespace of this project's own inputs (kept fixed so that a renamed copy of the project still reads them).
CONFIG_NS = "team-serving"
#: ``inferstack:`` keys of a team stack; pools come from the platform stack.
TEAM_KEYS = ("cloud", "environment", "residency", "models", "policy")
#: Platform stack outputs this stack reads besides ``kubeconfig`` (a secret, used only by the provider).
PLATFORM_OUTPUTS = ("registry_bucket", "pools", "team_namespaces")


def team_config(stack: str, pools: dict[str, dict[str, Any]], namespace: str) -> StackConfig:
    """This stack's ``inferstack:`` settings with the platform's pools, checked like a reference stack's."""
    values, secret_keys = config_values()
    source = f"stack {stack} (pools from the platform stack)"
    try:
        cfg = parse_stack(stack, values, source=source, secret_keys=secret_keys)
        fields = type(cfg.settings).model_fields
        extra = sorted(fields[f].alias or f for f in cfg.settings.model_fields_set if (fields[f].alias or f) not in TEAM_KEYS)
        if extra:
            raise pulumi.RunError(f"inferstack:{', inferstack:'.join(extra)}: set in the platform stack, not in a team stack")
        # The pool as the platform configured it, with its GPU allocation and sharing (gpuAccess: allocation: dra,
        # sharing: a MIG profile or time-slicing replicas) so that slices and claims are checked and placed as there.
        platform_pools = [
            AcceleratorPoolConfig.model_validate(
                {
                    "name": name,
                    "kind": p["kind"],
                    "devicesPerNode": p["devicesPerNode"],
                    "maxNodes": p["maxNodes"],
                    "tpuTopology": p["nodeSelector"].get(GKE_TPU_TOPOLOGY_LABEL),
                    **(p.get("gpuAccess") or {}),
                }
            )
            for name, p in sorted(pools.items())
        ]
        settings = cfg.settings.model_copy(update={"accelerator_pools": platform_pools})
        cfg = prepare(dataclasses.replace(cfg, settings=settings), source)
    except ConfigError as err:
        raise pulumi.RunError(str(err)) from None
    outside = [f"inferstack:models[{i}].namespace" for i, m in enumerate(cfg.settings.models) if m.namespace != namespace]
    if outside:
        raise pulumi.RunError(f"{', '.join(outside)}: this stack deploys to {namespace} only ({CONFIG_NS}:namespace)")
    return cfg


def deploy(outputs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Declare one ModelService per model; runs once the platform's outputs are known (they are at preview).
    Returns, per ``namespace/name``, the version in the spec and the traffic split per version."""
    if namespace not in outputs["team_namespaces"]:
        raise pulumi.RunError(
            f"{CONFIG_NS}:namespace: the platform stack does not prepare {namespace}; add it to the platform's "
            f"inferstack:teamNamespaces (prepared: {', '.join(outputs['team_namespaces']) or 'none'})"
        )
    cfg = team_config(pulumi.get_stack(), outputs["pools"], namespace)
    registry = RegistryOutputs(
        scheme=CLOUDS[cfg.cloud].storage_scheme,
        bucket=pulumi.Output.from_input(outputs["registry_bucket"]),
        reader_identity=pulumi.Output.from_input(""),  # the platform's service account already carries it
    )
    deployed: dict[str, dict[str, Any]] = {}
    for model in cfg.settings.models:
        pool = cfg.pool(model.pool) if model.pool else None
        info = PoolInfo.from_output(model.pool, outputs["pools"][model.pool]) if model.pool else None
        place = placement_for(model, pool, cfg.cloud, info)
        claims: list[pulumi.Resource] = []
        if place.claim_template and pool is not None:
            # A DRA pool (gpuAccess allocation: dra): the predictor's pods claim their GPUs through this template,
            # which the team's deployer role may manage; without it the pods would never be scheduled.
            obj = resource_claim_template(model.name, model.namespace, pool.kind, model.accelerators, CATALOG[pool.kind].device_memory_gib)
            claims.append(resource_claim_template_resource(
                f"{model.namespace}-{model.name}-gpu-claim", obj, pulumi.ResourceOptions(provider=provider)
            ))
        ModelService(
            f"{model.namespace}-{model.name}",
            model,
            place,
            model_storage_uri(model, registry),
            provider,
            public=model.public and cfg.settings.policy.allow_public_inference,
            depends_on=claims,
        )
        t = traffic(model)
        deployed[f"{model.namespace}/{model.name}"] = {"specVersion": t.serving_version, "traffic": t.split}
    return deployed


inputs = pulumi.Config(CONFIG_NS)
namespace = inputs.require("namespace")
platform = pulumi.StackReference("platform", stack_name=inputs.require("platformStack"))
# Exec-based kubeconfig (short-lived token from the cloud CLI of whoever runs this stack): no credential in state.
provider = k8s.Provider("platform-cluster", kubeconfig=platform.require_output("kubeconfig"), namespace=namespace)
models = pulumi.Output.all(**{name: platform.require_output(name) for name in PLATFORM_OUTPUTS}).apply(deploy)

pulumi.export("models", models)
