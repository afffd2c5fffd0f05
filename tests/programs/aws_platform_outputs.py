"""Engine test program: builds AwsPlatform for the stack's config and records its PlatformOutputs in a ConfigMap."""

import json

import pulumi
import pulumi_kubernetes as k8s

from inferstack.components.aws.platform import AwsPlatform
from inferstack.program import load_config

cfg = load_config()
platform = AwsPlatform(cfg.name, cfg.platform_args())
out = platform.outputs
pools = {n: {"kind": p.kind, "nodeSelector": p.node_selector, "taint": p.taint_key, "devices": p.devices_per_node} for n, p in out.pools.items()}
data = pulumi.Output.all(out.cluster_name, out.kms_key, out.identity.oidc_provider_arn, out.identity.oidc_issuer).apply(
    lambda a: {
        "clusterName": a[0],
        "kmsKey": a[1],
        "oidcProviderArn": a[2],
        "oidcIssuer": a[3],
        "pools": json.dumps(pools, sort_keys=True),
        "ready": json.dumps(sorted(r._name for r in out.ready)),  # noqa: SLF001 - test program
    }
)
k8s.core.v1.ConfigMap(
    "platform-outputs",
    metadata={"name": "platform-outputs", "namespace": "default"},
    data=data,
    opts=pulumi.ResourceOptions(provider=out.k8s_provider, depends_on=out.ready),
)
