"""AWS platform under the offline engine: encryption, endpoint exposure, IMDSv2, fallback shape, taints, labels, limits."""

from __future__ import annotations

import json

import pytest

from inferstack.catalog.accelerators import ACCELERATOR_LABEL, CATALOG, POOL_LABEL
from inferstack.catalog.clouds import Cloud
from inferstack.catalog.drivers import driver_labels
from inferstack.catalog.versions import CHARTS, EKS_VERSION
from inferstack.config.platform import Capacity
from tests.conftest import AWS_STACKS, recording, stack_config

NODEPOOL = "kubernetes:karpenter.sh/v1:NodePool"
NODECLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"


def _key_arn(stack: str) -> str:
    (key,) = recording(stack).by_type("aws:kms/key:Key")
    return key.outputs["arn"]


@pytest.fixture(params=AWS_STACKS)
def stack(request: pytest.FixtureRequest) -> str:
    return request.param


def test_cmk_rotates_and_is_retained_in_prod(stack: str) -> None:
    (key,) = recording(stack).by_type("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    prod = stack_config(stack).is_prod
    assert key.retain_on_delete is prod and key.protect is prod
    (policy,) = recording(stack).by_type("aws:kms/keyPolicy:KeyPolicy")
    doc = json.loads(policy.inputs["policy"])
    assert all(s["Action"] != "kms:*" and s["Action"] != "*" for s in doc["Statement"])


def test_cluster_encrypted_private_logged_api_auth(stack: str) -> None:
    (cluster,) = recording(stack).by_type("aws:eks/cluster:Cluster")
    i = cluster.inputs
    assert i["version"] == EKS_VERSION
    assert i["encryptionConfig"]["provider"]["keyArn"] == _key_arn(stack)
    assert i["encryptionConfig"]["resources"] == ["secrets"]
    assert i["vpcConfig"]["endpointPrivateAccess"] is True
    endpoint = stack_config(stack).settings.cluster.endpoint
    assert i["vpcConfig"]["endpointPublicAccess"] is endpoint.public
    assert i["vpcConfig"].get("publicAccessCidrs") == (endpoint.public_access_cidrs or None)
    assert "0.0.0.0/0" not in (i["vpcConfig"].get("publicAccessCidrs") or [])
    assert i["accessConfig"]["authenticationMode"] == "API"
    assert set(i["enabledClusterLogTypes"]) == {"api", "audit", "authenticator", "controllerManager", "scheduler"}
    assert cluster.retain_on_delete is stack_config(stack).is_prod
    (oidc,) = recording(stack).by_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert oidc.inputs["clientIdLists"] == ["sts.amazonaws.com"]


def test_logs_encrypted_with_cmk(stack: str) -> None:
    groups = recording(stack).by_type("aws:cloudwatch/logGroup:LogGroup")
    assert {g.inputs["name"].rsplit("/", 1)[1] for g in groups} == {"cluster", "vpc-flow-logs"}
    assert all(g.inputs["kmsKeyId"] == _key_arn(stack) for g in groups)
    (flow,) = recording(stack).by_type("aws:ec2/flowLog:FlowLog")
    assert flow.inputs["trafficType"] == "ALL"


def test_system_nodes_imdsv2_encrypted_gp3_on_demand(stack: str) -> None:
    (lt,) = recording(stack).by_type("aws:ec2/launchTemplate:LaunchTemplate")
    assert lt.inputs["metadataOptions"]["httpTokens"] == "required"
    ebs = lt.inputs["blockDeviceMappings"][0]["ebs"]
    assert (ebs["volumeType"], ebs["encrypted"], ebs["kmsKeyId"]) == ("gp3", "true", _key_arn(stack))
    (ng,) = recording(stack).by_type("aws:eks/nodeGroup:NodeGroup")
    assert ng.inputs["capacityType"] == "ON_DEMAND"
    assert "diskSize" not in ng.inputs
    cfg = stack_config(stack).settings.cluster
    assert ng.inputs["scalingConfig"]["minSize"] == cfg.system_nodes_min


def test_network_zones_subnet_tags_nat(stack: str) -> None:
    cfg = stack_config(stack)
    subnets = recording(stack).by_type("aws:ec2/subnet:Subnet")
    private = [s for s in subnets if "kubernetes.io/role/internal-elb" in s.inputs["tags"]]
    public = [s for s in subnets if "kubernetes.io/role/elb" in s.inputs["tags"]]
    zones = cfg.settings.network.availability_zones
    assert len(private) == len(public) == zones
    assert zones == 3 if cfg.is_prod else zones >= 2
    assert all(s.inputs["tags"]["karpenter.sh/discovery"] == f"inferstack-{cfg.name}" for s in private)
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in public)
    assert len(recording(stack).by_type("aws:ec2/natGateway:NatGateway")) == min(cfg.settings.network.nat_gateways, zones)


def test_node_classes_imdsv2_encrypted_with_cmk(stack: str) -> None:
    classes = recording(stack).by_type(NODECLASS)
    assert len(classes) == len(stack_config(stack).settings.accelerator_pools)
    for nc in classes:
        spec = nc.inputs["spec"]
        assert spec["metadataOptions"]["httpTokens"] == "required"
        assert spec["amiSelectorTerms"][0]["alias"].startswith("al2023@v")
        (bdm,) = spec["blockDeviceMappings"]
        assert bdm["ebs"]["encrypted"] is True and bdm["ebs"]["kmsKeyID"] == _key_arn(stack)
        assert spec["subnetSelectorTerms"] == [{"tags": {"karpenter.sh/discovery": f"inferstack-{stack}"}}]
        assert spec["securityGroupSelectorTerms"][0]["id"].startswith("sg-")


def _node_pools(stack: str, pool: str) -> list[dict]:
    return [
        r.inputs for r in recording(stack).by_type(NODEPOOL) if r.inputs["spec"]["template"]["metadata"]["labels"][POOL_LABEL] == pool
    ]


def test_fallback_shape_taints_labels_limits(stack: str) -> None:
    cfg = stack_config(stack)
    for pool in cfg.settings.accelerator_pools:
        if pool.ladder is not None:
            continue  # capacity ladders: tests/components/aws/test_node_pools_ladder.py
        acc = CATALOG[pool.kind]
        nps = _node_pools(stack, pool.name)
        types = {np["metadata"]["name"]: _req(np, "karpenter.sh/capacity-type") for np in nps}
        assert types[pool.name] == ["spot", "on-demand"], "spot first with on-demand fallback in one NodePool"
        baseline = f"{pool.name}-on-demand-baseline"
        if pool.on_demand_baseline:
            assert types[baseline] == ["on-demand"]
            by_name = {np["metadata"]["name"]: np for np in nps}
            assert by_name[baseline]["spec"]["weight"] > by_name[pool.name]["spec"].get("weight", 0)
        else:
            assert baseline not in types
        devices = sum(int(np["spec"]["limits"][acc.device_resource]) for np in nps)
        per_node = max(s.devices for s in acc.shapes(cfg.cloud) if s.devices == (pool.devices_per_node or 1))
        assert devices == pool.max_nodes * per_node
        for np in nps:
            tmpl = np["spec"]["template"]
            assert tmpl["metadata"]["labels"] == {ACCELERATOR_LABEL: pool.kind, POOL_LABEL: pool.name,
                                                  **driver_labels(Cloud.AWS, pool.kind)}
            assert tmpl["spec"]["taints"] == [{"key": acc.taint_key, "value": "true", "effect": "NoSchedule"}]
            d = np["spec"]["disruption"]
            assert d["consolidationPolicy"] == "WhenEmpty" and d["budgets"][0] == {"nodes": "1"}
            assert tmpl["spec"]["expireAfter"] == pool.expire_after
            assert tmpl["spec"]["nodeClassRef"] == {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": pool.name}


def _req(np: dict, key: str) -> list[str]:
    (r,) = [r for r in np["spec"]["template"]["spec"]["requirements"] if r["key"] == key]
    return r["values"]


def test_prod_has_nvidia_and_inferentia2_with_on_demand_baseline() -> None:
    pools = stack_config("prod").settings.accelerator_pools
    kinds = {p.kind for p in pools}
    assert "aws-inferentia2" in kinds and any(CATALOG[k].family.value == "nvidia" for k in kinds)
    assert all(p.capacity is not Capacity.SPOT_ONLY for p in pools)
    assert all(p.on_demand_baseline >= 1 for p in pools if p.ladder is None)  # ladders: test_node_pools_ladder.py
    budgets = [b for np in recording("prod").by_type(NODEPOOL) for b in np.inputs["spec"]["disruption"]["budgets"]]
    assert {"nodes": "0", "reasons": ["Drifted"], "schedule": "0 7 * * mon-fri", "duration": "12h"} in budgets


def test_karpenter_controller_policy_least_privilege(stack: str) -> None:
    (role_policy,) = [r for r in recording(stack).by_type("aws:iam/rolePolicy:RolePolicy") if r.name.endswith("karpenter-controller")]
    doc = json.loads(role_policy.inputs["policy"])
    read_only = ("ec2:Describe", "pricing:GetProducts")
    for st in doc["Statement"]:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        assert "*" not in actions and not any(a.endswith(":*") for a in actions)
        if st["Resource"] == "*":
            assert all(a.startswith(read_only) for a in actions), st["Sid"]
    (queue,) = recording(stack).by_type("aws:sqs/queue:Queue")
    assert queue.inputs["kmsMasterKeyId"] == _key_arn(stack)
    targets = recording(stack).by_type("aws:cloudwatch/eventTarget:EventTarget")
    assert len(targets) == 4 and all(t.inputs["arn"] == queue.outputs["arn"] for t in targets)


def test_charts_pinned_and_device_plugins_only_for_present_families(stack: str) -> None:
    releases = {r.inputs["name"]: r.inputs for r in recording(stack).by_type("kubernetes:helm.sh/v3:Release")}
    karpenter = releases["karpenter"]
    assert (karpenter["chart"], karpenter["version"]) == ("oci://public.ecr.aws/karpenter/karpenter", CHARTS["karpenter"].version)
    assert karpenter["values"]["nodeSelector"] == {POOL_LABEL: "system"}
    families = {CATALOG[p.kind].family.value for p in stack_config(stack).settings.accelerator_pools}
    assert ("nvidia-device-plugin" in releases) is ("nvidia" in families)
    assert ("dcgm-exporter" in releases) is ("nvidia" in families)
    assert ("neuron" in releases) is ("neuron" in families)
    for key in ("nvidia-device-plugin", "dcgm-exporter", "neuron"):
        if key in releases:
            assert releases[key]["version"] == CHARTS[key].version
    if "nvidia-device-plugin" in releases:
        aff = releases["nvidia-device-plugin"]["values"]["affinity"]["nodeAffinity"]
        # Nodes of the stack's NVIDIA kinds that are not DRA nodes (the DRA driver allocates those: components/dra.py).
        (expr, not_dra) = aff["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]["matchExpressions"]
        assert expr["key"] == ACCELERATOR_LABEL
        assert set(expr["values"]) == {k for k in (p.kind for p in stack_config(stack).settings.accelerator_pools) if k.startswith("nvidia")}
        assert not_dra == {"key": "inferstack.io/gpu-allocation", "operator": "NotIn", "values": ["dra"]}


def test_every_aws_resource_uses_the_regional_provider(stack: str) -> None:
    rec = recording(stack)
    for r in rec.resources:
        if r.package == "aws" and r.custom and not r.is_provider:
            prov = rec.provider_of(r)
            assert prov is not None and prov.inputs.get("region") == stack_config(stack).region, r.name


def test_platform_outputs_contract(stack: str) -> None:
    from pathlib import Path

    from inferstack.engine import run_stack

    cfg = stack_config(stack)
    rec = run_stack(cfg, program=Path(__file__).resolve().parents[2] / "programs" / "aws_platform_outputs.py")
    data = rec.find("kubernetes:core/v1:ConfigMap", "platform-outputs").inputs["data"]
    assert data["clusterName"] == f"inferstack-{stack}"
    assert data["kmsKey"].startswith("arn:aws:kms:eu-central-1:")
    assert data["oidcProviderArn"].startswith("arn:aws:iam::") and ":oidc-provider/oidc.eks." in data["oidcProviderArn"]
    assert data["oidcIssuer"].startswith("oidc.eks.eu-central-1.amazonaws.com/id/")
    pools = json.loads(data["pools"])
    assert set(pools) == {p.name for p in cfg.settings.accelerator_pools}
    for p in cfg.settings.accelerator_pools:
        assert pools[p.name]["nodeSelector"] == {ACCELERATOR_LABEL: p.kind, POOL_LABEL: p.name}
        assert pools[p.name]["taint"] == CATALOG[p.kind].taint_key
    ready = json.loads(data["ready"])
    assert f"{stack}-karpenter-chart" in ready and f"{stack}-cluster-system" in ready
    assert sum(name.startswith(f"{stack}-pools-") for name in ready) == len(rec.by_type(NODEPOOL))


def test_access_entries_and_restricted_public_endpoint() -> None:
    from inferstack.engine import run_stack
    from inferstack.load import load_stack

    values = dict(stack_config("dev").values)
    admins = "arn:aws:iam::123456789012:role/platform-admins"
    values["inferstack:cluster"] = {
        "endpoint": {"access": "public", "publicAccessCidrs": ["203.0.113.0/24"]},
        "accessEntries": [{"principal": admins, "groups": ["inferstack:platform-admins"]}],
    }
    rec = run_stack(load_stack("dev", values))
    (cluster,) = rec.by_type("aws:eks/cluster:Cluster")
    assert cluster.inputs["vpcConfig"]["endpointPublicAccess"] is True
    assert cluster.inputs["vpcConfig"]["publicAccessCidrs"] == ["203.0.113.0/24"]
    entries = {e.inputs["principalArn"]: e.inputs for e in rec.by_type("aws:eks/accessEntry:AccessEntry")}
    assert entries[admins]["kubernetesGroups"] == ["inferstack:platform-admins"] and entries[admins]["type"] == "STANDARD"
    assert [e["type"] for e in entries.values() if e is not entries[admins]] == ["EC2_LINUX"]  # Karpenter's node role
