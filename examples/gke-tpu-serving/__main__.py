"""LLM serving on Cloud TPUs: a private GKE cluster with spot-first TPU pools, KServe, and vLLM on the TPUs.

Everything comes from inferstack's public API:

1. ``GcpPlatform``: CMEK key (90-day rotation), VPC with Cloud NAT and the webhook firewall rule, a private regional
   GKE cluster (Workload Identity, shielded nodes, etcd encrypted with the key), and per accelerator pool a spot node
   pool, an on-demand node pool and a ComputeClass that prefers spot and migrates back to it.
2. ``GcpRegistry``: the model registry bucket (CMEK, versioned, public access prevented) with a read-only Google
   service account bound to the serving service accounts through Workload Identity.
3. ``Serving``: cert-manager, Knative, KServe, the ``inferstack-vllm-tpu`` runtime, team namespaces and RBAC, and
   one InferenceService per model on its TPU pool (with canary traffic split and tensor parallelism over the slice).

The ``inferstack:`` config is validated before anything is declared: a TPU topology the kind does not offer, a
kind not offered in the region, or a TPU model without a TPU runtime fails ``pulumi up`` with the key at fault.
"""

from __future__ import annotations

import pulumi

from inferstack.components import ConfigError, GcpPlatform, GcpRegistry, load_config
from inferstack.serving import Serving, traffic


def stack_config():
    """This stack's config (the ``inferstack:``, ``gcp:`` keys), checked by inferstack's models and rules."""
    try:
        return load_config()
    except ConfigError as err:
        raise pulumi.RunError(str(err)) from None


cfg = stack_config()
platform = GcpPlatform("tpu", cfg.platform_args())
registry = GcpRegistry("models", cfg.registry_args(), platform.outputs)
Serving("serving", cfg.serving_args(), platform.outputs, registry.outputs)

pulumi.export("cluster_name", platform.outputs.cluster_name)
pulumi.export("registry_bucket", registry.outputs.bucket)
pulumi.export("compute_classes", {name: f"inferstack-{name}" for name in platform.outputs.pools})
pulumi.export(
    "models",
    {f"{m.namespace}/{m.name}": {"pool": m.pool, "traffic": traffic(m).split} for m in cfg.settings.models},
)
