"""GCP platform: pure node-pool plans, the GKE stacks under the offline engine, ComputeClass against Google's
documented fields, and TPU/region config errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from inferstack import sizing
from inferstack.catalog.accelerators import ACCELERATOR_LABEL, GKE_TPU_TOPOLOGY_LABEL, POOL_LABEL
from inferstack.catalog.drivers import driver_labels
from inferstack.catalog.ports import WEBHOOK_PORTS
from inferstack.catalog.versions import GKE_GPU_DRIVER_VERSION
from inferstack.components.gcp import node_pools as gnp
from inferstack.components.gcp.cluster import NODE_ROLES
from inferstack.config import Cloud, ConfigError
from inferstack.config.platform import AcceleratorPoolConfig, Capacity
from inferstack.engine import run_stack
from inferstack.load import load_stack
from inferstack.serving.placement import gke_tpu_selector
from tests.conftest import GCP_STACKS, recording, stack_config
from tests.sizing.test_capacity_planner import gcp_config

NODEPOOL = "gcp:container/nodePool:NodePool"
CLUSTER = "gcp:container/cluster:Cluster"
COMPUTE_CLASS = "kubernetes:cloud.google.com/v1:ComputeClass"


def pool(**kw: Any) -> AcceleratorPoolConfig:
    return AcceleratorPoolConfig.model_validate({"name": "pl", "kind": "nvidia-l4", **kw})


# ---------------------------------------------------------------- pure plans


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"maxNodes": 4}, [("spot", True, 0, 4), ("on-demand", False, 0, 4)]),
        ({"maxNodes": 12, "onDemandBaseline": 1, "minNodes": 3}, [("spot", True, 2, 11), ("on-demand", False, 1, 12)]),
        ({"maxNodes": 2, "onDemandBaseline": 2}, [("on-demand", False, 2, 2)]),
        ({"maxNodes": 5, "capacity": "on-demand", "minNodes": 1}, [("on-demand", False, 1, 5)]),
        ({"maxNodes": 5, "capacity": "on-demand", "onDemandBaseline": 2}, [("on-demand", False, 2, 5)]),
        ({"maxNodes": 3, "capacity": "spot-only", "minNodes": 1}, [("spot", True, 1, 3)]),
    ],
)
def test_node_pool_plans(kw: dict[str, Any], expected: list[tuple[str, bool, int, int]]) -> None:
    plans = gnp.node_pool_plans(pool(**kw))
    assert [(p.suffix, p.spot, p.min_nodes, p.max_nodes) for p in plans] == expected
    assert all(p.max_nodes <= kw["maxNodes"] for p in plans)


def test_gpu_plan_uses_cluster_zones_and_the_shape_that_fits() -> None:
    zones = ["europe-west4-a", "europe-west4-b"]
    small = gnp.plan_pool(pool(maxNodes=2), "europe-west4", zones, [sizing.Replica(1, 24, 4)])
    assert (small.shape.name, small.zones, small.topology, small.hosts) == ("g2-standard-8", tuple(zones), None, 1)
    two = gnp.plan_pool(pool(maxNodes=2, devicesPerNode=2), "europe-west4", zones, [sizing.Replica(2, 60, 12)])
    assert (two.shape.name, two.shape.devices) == ("g2-standard-24", 2)
    assert gnp.compute_class_spec(small, {"spot": "p-spot", "on-demand": "p-on-demand"})["priorities"] == [
        {"nodepools": ["p-spot"]},
        {"nodepools": ["p-on-demand"]},
    ]


def test_tpu_plans_single_and_multi_host() -> None:
    single = gnp.plan_pool(pool(kind="tpu-v5e", tpuTopology="2x4", maxNodes=2), "europe-west4", ["europe-west4-a"])
    assert (single.shape.name, single.topology, single.hosts, single.zones) == ("ct5lp-hightpu-8t", "2x4", 1, ("europe-west4-a", "europe-west4-b"))
    assert not single.multi_host
    assert single.node_selector()[GKE_TPU_TOPOLOGY_LABEL] == "2x4"
    multi = gnp.plan_pool(pool(kind="tpu-v5e", tpuTopology="4x4", maxNodes=4), "europe-west4", ["europe-west4-a"])
    assert (multi.shape.name, multi.hosts, multi.multi_host) == ("ct5lp-hightpu-4t", 4, True)
    v6e = gnp.plan_pool(pool(kind="tpu-v6e", maxNodes=1), "europe-west4", ["europe-west4-b"])
    assert (v6e.zones, v6e.boot_disk_type) == (("europe-west4-a",), "hyperdisk-balanced")


@pytest.mark.parametrize(("min_nodes", "zones", "per_zone"), [(0, 3, 0), (1, 3, 1), (3, 3, 1), (4, 3, 2), (2, 1, 2)])
def test_initial_nodes_are_per_zone(min_nodes: int, zones: int, per_zone: int) -> None:
    assert gnp.initial_nodes_per_zone(min_nodes, [f"z{i}" for i in range(zones)]) == per_zone


def test_tpu_pool_without_topology_runs_the_slice_of_its_devices_per_node() -> None:
    # The node pool's machine type and the topology serving selects come from the same shape.
    tpu = pool(kind="tpu-v5e", devicesPerNode=4, maxNodes=2)
    plan = gnp.plan_pool(tpu, "europe-west4", ["europe-west4-a"])
    assert (plan.shape.name, plan.topology) == ("ct5lp-hightpu-4t", "2x2")
    assert gke_tpu_selector(tpu, Cloud.GCP)[GKE_TPU_TOPOLOGY_LABEL] == plan.topology
    default = gnp.plan_pool(pool(kind="tpu-v5e", maxNodes=2), "europe-west4", ["europe-west4-a"])
    assert (default.shape.name, default.topology) == ("ct5lp-hightpu-1t", "1x1")


def test_boot_disk_type_by_machine_series() -> None:
    assert gnp.boot_disk_type("g2-standard-8") == "pd-balanced"
    assert gnp.boot_disk_type("ct5lp-hightpu-4t") == "pd-balanced"
    assert gnp.boot_disk_type("ct6e-standard-8t") == "hyperdisk-balanced"


def test_tpu_kind_without_a_zone_in_the_region_is_an_error() -> None:
    # europe-west1 is catalogued and has no TPU v6e zone (the generated TPU zone table).
    with pytest.raises(ValueError, match="tpu-v6e has no TPU zone in europe-west1"):
        gnp.plan_pool(pool(kind="tpu-v6e", maxNodes=1), "europe-west1", ["europe-west1-b"])


# ---------------------------------------------------------------- the reference GKE stacks


@pytest.fixture(params=GCP_STACKS)
def stack(request: pytest.FixtureRequest) -> str:
    return request.param


def test_network_subnet_ranges_nat_and_webhook_firewall(stack: str) -> None:
    rec = recording(stack)
    cfg = stack_config(stack)
    # The node subnet (the other one is the proxy-only subnet of the internal inference Gateway, tests/serving/test_llm.py).
    (subnet,) = [s for s in rec.by_type("gcp:compute/subnetwork:Subnetwork") if s.inputs.get("purpose") != "REGIONAL_MANAGED_PROXY"]
    ranges = {r["rangeName"]: r["ipCidrRange"] for r in subnet.inputs["secondaryIpRanges"]}
    assert ranges == {"pods": cfg.settings.network.pods_cidr, "services": cfg.settings.network.services_cidr}
    assert subnet.inputs["privateIpGoogleAccess"] is True
    assert subnet.inputs["region"] == cfg.region
    (nat,) = rec.by_type("gcp:compute/routerNat:RouterNat")
    assert nat.inputs["sourceSubnetworkIpRangesToNat"] == "LIST_OF_SUBNETWORKS"
    (fw,) = rec.by_type("gcp:compute/firewall:Firewall")
    assert fw.inputs["direction"] == "INGRESS"
    assert fw.inputs["sourceRanges"] == [cfg.settings.cluster.control_plane_cidr]
    assert fw.inputs["allows"] == [{"protocol": "tcp", "ports": [str(p) for p in WEBHOOK_PORTS]}]
    tag = f"inferstack-{stack}-node"
    assert fw.inputs["targetTags"] == [tag]
    # Every node pool carries the tag the rule targets.
    assert all(tag in np.inputs["nodeConfig"]["tags"] for np in rec.by_type(NODEPOOL))


def test_cluster_private_encrypted_identity_shielded(stack: str) -> None:
    rec = recording(stack)
    cfg = stack_config(stack)
    (key,) = rec.by_type("gcp:kms/cryptoKey:CryptoKey")
    assert key.inputs["rotationPeriod"] == "7776000s"
    (cluster,) = rec.by_type(CLUSTER)
    i = cluster.inputs
    assert i["location"] == cfg.region and len(i["nodeLocations"]) == cfg.settings.network.availability_zones
    assert i["releaseChannel"] == {"channel": cfg.settings.cluster.release_channel}
    assert i["databaseEncryption"] == {"state": "ENCRYPTED", "keyName": key.id}
    assert i["workloadIdentityConfig"] == {"workloadPool": f"{cfg.project}.svc.id.goog"}
    assert i["privateClusterConfig"]["enablePrivateNodes"] is True
    assert i["privateClusterConfig"]["masterIpv4CidrBlock"] == cfg.settings.cluster.control_plane_cidr
    assert i["masterAuthorizedNetworksConfig"]["gcpPublicCidrsAccessEnabled"] is False
    endpoint = cfg.settings.cluster.endpoint
    assert i["privateClusterConfig"]["enablePrivateEndpoint"] is not endpoint.public
    assert [c["cidrBlock"] for c in i["masterAuthorizedNetworksConfig"]["cidrBlocks"]] == [
        cfg.settings.network.cidr, *endpoint.private_access_cidrs, *endpoint.public_access_cidrs
    ]
    assert i["enableShieldedNodes"] is True and i["enableLegacyAbac"] is False
    assert i["networkingMode"] == "VPC_NATIVE" and i["removeDefaultNodePool"] is True
    assert i["nodeConfig"]["bootDiskKmsKey"] == key.id
    assert i["monitoringConfig"]["managedPrometheus"] == {"enabled": True}
    assert "WORKLOADS" in i["loggingConfig"]["enableComponents"]
    assert i["deletionProtection"] is cfg.is_prod
    assert cluster.protect is cfg.is_prod and cluster.retain_on_delete is cfg.is_prod
    # The cluster waits for the service agents' grants on the key (CMEK etcd and boot disks).
    grants = {g.urn for g in rec.by_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember") if g.name.endswith("-agent")}
    assert len(grants) == 3 and grants <= set(cluster.dependencies)


def test_nodes_least_privilege_account_and_hardened_config(stack: str) -> None:
    rec = recording(stack)
    (key,) = rec.by_type("gcp:kms/cryptoKey:CryptoKey")
    accounts = {a.outputs["email"] for a in rec.by_type("gcp:serviceaccount/account:Account") if a.name.endswith("-nodes")}
    members = [m for m in rec.by_type("gcp:projects/iAMMember:IAMMember") if m.inputs["member"] in {f"serviceAccount:{a}" for a in accounts}]
    assert sorted(m.inputs["role"] for m in members) == sorted(NODE_ROLES)
    for np in rec.by_type(NODEPOOL):
        nc = np.inputs["nodeConfig"]
        assert nc["serviceAccount"] in accounts
        assert nc["bootDiskKmsKey"] == key.id
        assert nc["shieldedInstanceConfig"] == {"enableSecureBoot": True, "enableIntegrityMonitoring": True}
        assert nc["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
        assert nc["imageType"] == "COS_CONTAINERD"


def test_system_pool_is_small_and_on_demand(stack: str) -> None:
    cfg = stack_config(stack).settings.cluster
    (system,) = [np for np in recording(stack).by_type(NODEPOOL) if np.inputs["name"] == "system"]
    assert system.inputs["nodeConfig"].get("spot", False) is False
    assert system.inputs["autoscaling"]["totalMinNodeCount"] == cfg.system_nodes_min
    assert system.inputs["autoscaling"]["totalMaxNodeCount"] == cfg.system_nodes_max


def test_each_pool_has_spot_and_on_demand_node_pools_and_a_compute_class(stack: str) -> None:
    rec = recording(stack)
    cfg = stack_config(stack)
    by_name = {np.inputs["name"]: np for np in rec.by_type(NODEPOOL)}
    classes = {c.inputs["metadata"]["name"]: c for c in rec.by_type(COMPUTE_CLASS)}
    for p in cfg.settings.accelerator_pools:
        if p.ladder is not None:
            continue  # capacity ladders: tests/components/gcp/test_node_pools_ladder.py
        spot, od = by_name[f"{p.name}-spot"], by_name[f"{p.name}-on-demand"]
        assert spot.inputs["nodeConfig"]["spot"] is True and od.inputs["nodeConfig"]["spot"] is False
        assert spot.inputs["autoscaling"]["locationPolicy"] == "ANY"
        assert od.inputs["autoscaling"]["totalMinNodeCount"] == p.on_demand_baseline
        assert od.inputs["autoscaling"]["totalMaxNodeCount"] == p.max_nodes
        assert spot.inputs["autoscaling"]["totalMaxNodeCount"] == p.max_nodes - p.on_demand_baseline
        cc = f"inferstack-{p.name}"
        for np in (spot, od):
            nc = np.inputs["nodeConfig"]
            assert nc["labels"] == {ACCELERATOR_LABEL: p.kind, POOL_LABEL: p.name, gnp.COMPUTE_CLASS_LABEL: cc,
                                    **driver_labels(Cloud.GCP, p.kind)}
            device_taint = "google.com/tpu" if p.kind.startswith("tpu-") else "nvidia.com/gpu"
            assert {(t["key"], t["value"], t["effect"]) for t in nc["taints"]} == {
                (device_taint, "present", "NO_SCHEDULE"),
                (gnp.COMPUTE_CLASS_LABEL, cc, "NO_SCHEDULE"),
            }
            assert nc["diskSizeGb"] == gnp.BOOT_DISK_GB
        spec = classes[cc].inputs["spec"]
        assert spec["priorities"] == [{"nodepools": [f"{p.name}-spot"]}, {"nodepools": [f"{p.name}-on-demand"]}]
        assert spec["whenUnsatisfiable"] == "DoNotScaleUp"
        assert spec["activeMigration"] == {"optimizeRulePriority": True}


def test_gpu_pools_attach_gpus_with_managed_drivers_tpu_pools_their_zone(stack: str) -> None:
    for np in recording(stack).by_type(NODEPOOL):
        kind = np.inputs["nodeConfig"]["labels"].get(ACCELERATOR_LABEL)
        if kind == "nvidia-l4":
            (ga,) = np.inputs["nodeConfig"]["guestAccelerators"]
            assert ga["type"] == "nvidia-l4" and ga["count"] == 1
            assert ga["gpuDriverInstallationConfig"] == {"gpuDriverVersion": GKE_GPU_DRIVER_VERSION}
            assert np.inputs["nodeConfig"]["machineType"].startswith("g2-standard-")
        elif kind == "tpu-v5e":
            assert "guestAccelerators" not in np.inputs["nodeConfig"]
            # the zones of the TPU zone table offering v5e in the region (generated catalogue: a and b)
            assert np.inputs["nodeLocations"] == ["europe-west4-a", "europe-west4-b"]
            assert np.inputs["nodeConfig"]["machineType"].startswith("ct5lp-hightpu-")
            assert "placementPolicy" not in np.inputs  # single-host slices


def test_gke_models_select_and_tolerate_their_compute_class(stack: str) -> None:
    cfg = stack_config(stack)
    isvcs = {r.inputs["metadata"]["name"]: r.inputs for r in recording(stack).by_type("kubernetes:serving.kserve.io/v1beta1:InferenceService")}
    # LLM-track models carry the same placement in their LLMInferenceService's pod template.
    pods = {**{r.inputs["metadata"]["labels"]["inferstack.io/model"]: r.inputs["spec"]["template"]
               for r in recording(stack).by_type("kubernetes:serving.kserve.io/v1alpha2:LLMInferenceService")},
            **{name: isvc["spec"]["predictor"] for name, isvc in isvcs.items()}}
    for m in cfg.settings.models:
        pred = pods[m.name]
        cc = f"inferstack-{m.pool}"
        assert pred["nodeSelector"][gnp.COMPUTE_CLASS_LABEL] == cc
        assert {"key": gnp.COMPUTE_CLASS_LABEL, "operator": "Equal", "value": cc, "effect": "NoSchedule"} in pred["tolerations"]


def test_prod_key_and_cluster_protected_dev_not() -> None:
    for stack, prod in (("gcp-dev", False), ("gcp-prod", True)):
        rec = recording(stack)
        for t in ("gcp:kms/cryptoKey:CryptoKey", "gcp:kms/keyRing:KeyRing", CLUSTER):
            (r,) = rec.by_type(t)
            assert (r.protect, r.retain_on_delete) == (prod, prod), (stack, t)


# ---------------------------------------------------------------- ComputeClass against Google's documented fields

#: Written from the ComputeClass reference (cloud.google.com/kubernetes-engine/docs/reference/crds/computeclass):
#: the spec fields inferstack may set, with their documented types and enums; unknown fields are rejected.
_PRIORITY = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "machineFamily": {"type": "string"},
        "machineType": {"type": "string"},
        "minCores": {"type": "integer", "minimum": 0},
        "minMemoryGb": {"type": "integer", "minimum": 0},
        "nodepools": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "spot": {"type": "boolean"},
        "gpu": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"count": {"type": "integer", "minimum": 1}, "type": {"type": "string"}, "driverVersion": {"type": "string"}},
        },
        "tpu": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"count": {"type": "integer"}, "topology": {"type": "string"}, "type": {"type": "string"}},
        },
        "storage": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "bootDiskKMSKey": {"type": "string"},
                "bootDiskSize": {"type": "integer"},
                "bootDiskType": {"type": "string"},
                "localSSDCount": {"type": "integer"},
            },
        },
    },
}
COMPUTE_CLASS_SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "cloud.google.com/v1"},
        "kind": {"const": "ComputeClass"},
        "metadata": {"type": "object", "required": ["name"]},
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["priorities"],
            "properties": {
                "priorities": {"type": "array", "items": _PRIORITY, "minItems": 1},
                "whenUnsatisfiable": {"enum": ["ScaleUpAnyway", "DoNotScaleUp"]},
                "nodePoolAutoCreation": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"enabled": {"type": "boolean"}},
                },
                "activeMigration": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"optimizeRulePriority": {"type": "boolean"}},
                },
                "autoscalingPolicy": {"type": "object"},
                "nodePoolConfig": {"type": "object"},
            },
        },
    },
}


def test_compute_classes_match_the_documented_schema(stack: str) -> None:
    objects = recording(stack).by_type(COMPUTE_CLASS)
    assert len(objects) == len(stack_config(stack).settings.accelerator_pools)
    for obj in objects:
        jsonschema.validate(obj.inputs, COMPUTE_CLASS_SCHEMA)
        # Every priority names node pools this stack declares.
        names = {np.inputs["name"] for np in recording(stack).by_type(NODEPOOL)}
        assert {n for p in obj.inputs["spec"]["priorities"] for n in p["nodepools"]} <= names


def test_schema_rejects_a_misspelled_field() -> None:
    bad = {"apiVersion": "cloud.google.com/v1", "kind": "ComputeClass", "metadata": {"name": "x"},
           "spec": {"priorities": [{"nodepools": ["a"]}], "whenUnsatisfiable": "DoNotScaleup"}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, COMPUTE_CLASS_SCHEMA)


# ---------------------------------------------------------------- multi-host TPU slices and config errors


def gcp(pools: list[dict[str, Any]], models: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return gcp_config(pools, models or [])


def test_multi_host_slice_pool_is_compact_with_per_zone_limits() -> None:
    cfg = load_stack("tpu", gcp([{"name": "slice", "kind": "tpu-v5e", "tpuTopology": "4x4", "maxNodes": 4}]))
    rec = run_stack(cfg)
    pools = {np.inputs["name"]: np.inputs for np in rec.by_type(NODEPOOL)}
    for name in ("slice-spot", "slice-on-demand"):
        np = pools[name]
        assert np["placementPolicy"] == {"type": "COMPACT", "tpuTopology": "4x4"}
        assert np["autoscaling"] == {"minNodeCount": 0, "maxNodeCount": 4}
        # one zone, although europe-west4 offers v5e in two (a and b): a slice is atomic in one zone
        assert np["nodeLocations"] == ["europe-west4-a"]
        assert np["nodeConfig"]["machineType"] == "ct5lp-hightpu-4t"
        assert "upgradeSettings" not in np


def _issues(config: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_stack("t", config)
    return [str(i) for i in err.value.issues]


@pytest.mark.parametrize(
    ("pool_cfg", "expected"),
    [
        ({"kind": "tpu-v5e", "tpuTopology": "3x3"}, "inferstack:acceleratorPools[0].tpuTopology: tpu-v5e does not offer topology '3x3'; allowed: 1x1, 2x2, 2x4, 4x4"),
        ({"kind": "tpu-v5p", "tpuTopology": "2x4"}, "inferstack:acceleratorPools[0].tpuTopology: tpu-v5p does not offer topology '2x4'"),
        ({"kind": "nvidia-l4", "tpuTopology": "2x2"}, "inferstack:acceleratorPools[0].tpuTopology: tpuTopology applies to TPU kinds only"),
        ({"kind": "tpu-v5e", "tpuTopology": "2x4", "devicesPerNode": 4}, "inferstack:acceleratorPools[0].devicesPerNode: topology 2x4 runs on ct5lp-hightpu-8t hosts with 8 chips"),
        ({"kind": "tpu-v5e", "tpuTopology": "4x4", "maxNodes": 8}, "inferstack:acceleratorPools[0].maxNodes: a 4x4 tpu-v5e slice is 4 hosts"),
        ({"kind": "tpu-v5e", "tpuTopology": "4x4", "maxNodes": 4, "minNodes": 2}, "inferstack:acceleratorPools[0].minNodes: a multi-host slice scales as a whole"),
        ({"kind": "nvidia-a10g"}, "inferstack:acceleratorPools[0].kind:"),
    ],
)
def test_bad_tpu_and_accelerator_combinations_are_config_errors(pool_cfg: dict[str, Any], expected: str) -> None:
    found = _issues(gcp([{"name": "pl", "maxNodes": 4, **pool_cfg}]))
    assert any(i.startswith(expected) for i in found), found


def test_accelerator_not_offered_in_the_region_is_a_config_error() -> None:
    cfg = gcp([{"name": "pl", "kind": "tpu-v6e", "maxNodes": 1}])
    cfg["gcp:region"] = "europe-west1"
    cfg["inferstack:residency"] = {"allowedRegions": ["europe-west1"]}
    found = _issues(cfg)
    assert any(i.startswith("inferstack:acceleratorPools[0].kind:") and "tpu-v6e is not offered in europe-west1" in i for i in found), found


def test_cli_rejects_a_bad_topology_with_exit_2_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text(yaml.safe_dump({"config": gcp([{"name": "pl", "kind": "tpu-v6e", "tpuTopology": "2x3", "maxNodes": 1}])}))
    out = tmp_path / "preview.json"
    proc = subprocess.run(
        [sys.executable, "-m", "inferstack", "preview", "--config", str(path), "--format", "json", "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "inferstack:acceleratorPools[0].tpuTopology: tpu-v6e does not offer topology '2x3'; allowed:" in proc.stderr
    assert not out.exists()


def test_capacity_type_enum_covers_the_plans() -> None:
    # Every capacity mode yields at least one node pool; only spot-first yields two.
    for cap in Capacity:
        plans = gnp.node_pool_plans(pool(capacity=cap.value, maxNodes=3))
        assert len(plans) == (2 if cap is Capacity.SPOT_FIRST else 1)


# ---------------------------------------------------------------- GKE access entries: Google principals in team RBAC


def _with_access(entries: list[dict[str, Any]], **cluster: Any) -> dict[str, Any]:
    cfg = gcp([{"name": "gpu", "kind": "nvidia-l4", "maxNodes": 2}])
    cfg["inferstack:teamNamespaces"] = ["team-a"]
    cfg["inferstack:cluster"] = {"accessEntries": entries, **cluster}
    return cfg


def test_gke_access_entries_bind_google_principals_in_the_team_role_bindings() -> None:
    cfg = load_stack("acc", _with_access(
        [{"principal": "group:ml-team-a@example.com", "groups": ["inferstack:team:team-a"]},
         {"principal": "serviceAccount:ci@p.iam.gserviceaccount.com", "groups": ["inferstack:team:team-a:deployers"]}],
        googleGroupsSecurityGroup="gke-security-groups@example.com",
    ))
    rec = run_stack(cfg)
    (cluster,) = rec.by_type(CLUSTER)
    assert cluster.inputs["authenticatorGroupsConfig"] == {"securityGroup": "gke-security-groups@example.com"}
    subjects = {b.inputs["roleRef"]["name"]: b.inputs["subjects"] for b in rec.by_type("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")}
    assert subjects["inferstack-team"] == [
        {"kind": "Group", "name": "inferstack:team:team-a", "apiGroup": "rbac.authorization.k8s.io"},
        {"kind": "Group", "name": "ml-team-a@example.com", "apiGroup": "rbac.authorization.k8s.io"},
    ]
    assert subjects["inferstack-team-deployer"][1] == {"kind": "User", "name": "ci@p.iam.gserviceaccount.com", "apiGroup": "rbac.authorization.k8s.io"}


@pytest.mark.parametrize(
    ("entries", "cluster", "expected"),
    [
        ([{"principal": "arn:aws:iam::1:role/x", "groups": ["inferstack:team:team-a"]}], {},
         "inferstack:cluster.accessEntries[0].principal: 'arn:aws:iam::1:role/x' is not a Google principal"),
        ([{"principal": "group:g@example.com", "groups": ["inferstack:team:team-a"]}], {},
         "inferstack:cluster.accessEntries[0].principal: group principals need Google Groups for RBAC"),
        ([{"principal": "user:u@example.com", "groups": ["inferstack:platform-admins"]}], {},
         "inferstack:cluster.accessEntries[0].groups[0]: 'inferstack:platform-admins' is not a team group of this stack; grant cluster-admin on GKE with IAM"),
        ([{"principal": "user:u@example.com", "groups": ["inferstack:team:team-b"]}], {},
         "inferstack:cluster.accessEntries[0].groups[0]: 'inferstack:team:team-b' is not a team group of this stack; allowed: inferstack:team:team-a"),
    ],
)
def test_bad_gke_access_entries_are_config_errors(entries: list[dict[str, Any]], cluster: dict[str, Any], expected: str) -> None:
    found = _issues(_with_access(entries, **cluster))
    assert any(i.startswith(expected) for i in found), found
