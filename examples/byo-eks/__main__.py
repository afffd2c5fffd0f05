"""Accelerator pools and KServe serving on an EKS cluster the team already runs (bring your own cluster).

Inputs (config namespace ``byo-eks:``, see README.md): the cluster's name, a kubeconfig (secret), its IAM OIDC
provider ARN and issuer URL, the node security group, the private subnets and their zones, and a KMS key ARN.
Pools, models, registry and policy settings are the ``inferstack:`` keys of a reference stack, validated by the same
typed models and checks (``load_config``) before anything is declared.

Declares: subnet discovery tags, Karpenter (IAM, interruption queue, controller), one EC2NodeClass and its
NodePools per accelerator pool, the device plugins the pools need, the model registry (S3 + DynamoDB, CMK
encrypted) and serving (cert-manager, Knative + Kourier, KServe, monitoring, KEDA, Kueue and the pools' queues, team
namespaces, one InferenceService per model).
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from inferstack.components import (
    AcceleratorPools,
    AwsRegistry,
    Cloud,
    DevicePlugins,
    Karpenter,
    PlatformOutputs,
    WorkloadIdentity,
    load_config,
    lookup,
)
from inferstack.config import ConfigError, StackConfig
from inferstack.serving import Serving

#: Config namespace of this project's own inputs (kept fixed so that a renamed copy of the project still reads them).
CONFIG_NS = "byo-eks"
#: ``inferstack:`` keys this program uses; the others (network, cluster, secrets) describe a cluster inferstack builds.
INFERSTACK_KEYS = ("cloud", "environment", "residency", "acceleratorPools", "models", "registry", "policy", "pricing", "scheduling")
#: Subnet tag the EC2NodeClasses select subnets by (value: the cluster name).
DISCOVERY_TAG = "karpenter.sh/discovery"


def stack_config() -> StackConfig:
    """The ``inferstack:`` settings of this stack plus ``aws:region``, loaded and checked like a reference stack's."""
    try:
        cfg = load_config()
    except ConfigError as err:
        raise pulumi.RunError(str(err)) from None
    fields = type(cfg.settings).model_fields
    ignored = sorted(fields[f].alias or f for f in cfg.settings.model_fields_set if (fields[f].alias or f) not in INFERSTACK_KEYS)
    if ignored:
        raise pulumi.RunError(
            f"inferstack:{', inferstack:'.join(ignored)}: not used with a bring-your-own cluster; remove the key(s)"
        )
    return cfg


cfg = stack_config()
inputs = pulumi.Config(CONFIG_NS)
cluster_name = inputs.require("clusterName")
kubeconfig = inputs.require_secret("kubeconfig")
oidc_provider_arn = inputs.require("oidcProviderArn")
oidc_issuer = inputs.require("oidcIssuerUrl").removeprefix("https://")
node_security_group = inputs.require("nodeSecurityGroupId")
subnet_ids: list[str] = inputs.require_object("subnetIds")
zones: list[str] = inputs.require_object("zones")
kms_key_arn = inputs.require("kmsKeyArn")
#: Nodes of your cluster the controllers (Karpenter, the Neuron scheduler) run on; default inferstack.io/pool=system.
system_nodes: dict[str, str] | None = inputs.get_object("systemNodeSelector")

# Every AWS resource through one explicit provider in the stack's region; every Kubernetes object through the kubeconfig.
aws_provider = aws.Provider(
    "aws",
    region=cfg.region,
    default_tags=aws.ProviderDefaultTagsArgs(tags={"inferstack:stack": cfg.name, "inferstack:cluster": cluster_name}),
)
k8s_provider = k8s.Provider("cluster", kubeconfig=kubeconfig)
on_aws = pulumi.ResourceOptions(providers={"aws": aws_provider})

# Karpenter launches accelerator nodes into the subnets carrying the discovery tag.
for subnet_id in subnet_ids:
    aws.ec2.Tag(f"discovery-{subnet_id}", resource_id=subnet_id, key=DISCOVERY_TAG, value=cluster_name, opts=on_aws)

karpenter = Karpenter(
    "karpenter",
    cluster_name=cluster_name,
    static_cluster_name=cluster_name,
    region=cfg.region,
    oidc_provider_arn=oidc_provider_arn,
    oidc_issuer=oidc_issuer,
    kms_key_arn=kms_key_arn,
    k8s_provider=k8s_provider,
    depends_on=[],
    opts=on_aws,
    system_node_selector=system_nodes,
)
pools = AcceleratorPools(
    "pools",
    pools=list(cfg.settings.accelerator_pools),
    zones=zones,
    prod=cfg.is_prod,
    cluster_name=cluster_name,
    instance_profile=karpenter.instance_profile.name,
    security_group_id=node_security_group,
    kms_key_arn=kms_key_arn,
    k8s_provider=k8s_provider,
    depends_on=[karpenter.release],
    opts=on_aws,
)
kinds_by_family: dict = {}
for pool in cfg.settings.accelerator_pools:
    acc = lookup(pool.kind, Cloud.AWS)
    if acc.kind not in kinds_by_family.setdefault(acc.family, []):
        kinds_by_family[acc.family].append(acc.kind)
devices = DevicePlugins(
    "devices", kinds_by_family=kinds_by_family, k8s_provider=k8s_provider, depends_on=[], system_node_selector=system_nodes
)

platform = PlatformOutputs(
    cloud=Cloud.AWS,
    region=cfg.region,
    cluster_name=pulumi.Output.from_input(cluster_name),
    k8s_provider=k8s_provider,
    kms_key=pulumi.Output.from_input(kms_key_arn),
    identity=WorkloadIdentity(
        cloud=Cloud.AWS,
        oidc_provider_arn=pulumi.Output.from_input(oidc_provider_arn),
        oidc_issuer=pulumi.Output.from_input(oidc_issuer),
    ),
    pools=pools.pools,
    ready=[karpenter.release, *pools.node_pools, *devices.releases],
)
registry = AwsRegistry("registry", cfg.registry_args(), platform, opts=on_aws)
serving = Serving("serving", cfg.serving_args(), platform, registry.outputs)

pulumi.export("pools", {name: {"kind": p.kind, "nodeSelector": p.node_selector} for name, p in pools.pools.items()})
pulumi.export("registry_bucket", registry.outputs.bucket)
pulumi.export("model_reader_role_arn", registry.outputs.reader_identity)
pulumi.export("karpenter_queue", karpenter.queue.name)
pulumi.export("models", [f"{m.namespace}/{m.name}" for m in cfg.settings.models])
