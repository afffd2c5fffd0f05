"""Cost from what a program declares (``cost --program``, ``preview --program``): bad input first, then the pricing
rules on hand-built records (no Pulumi), then real programs under the offline engine, and the cross-check of the
declared pricing against the reference stacks' capacity-plan estimate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from inferstack.catalog.clouds import Cloud
from inferstack.catalog.prices import PriceNotFound, node_price, platform_prices
from inferstack.cli import main
from inferstack.config.pricing import PricingConfig
from inferstack.cost import declared
from inferstack.cost import estimate as est_mod
from inferstack.engine import ResourceRecord
from tests.conftest import recording, stack_config

REPO = Path(__file__).resolve().parents[2]
BYO = REPO / "examples" / "byo-eks"
REGION = "eu-west-1"
HOURS = 730

STACK_FILE = f"""config:
  aws:region: {REGION}
  inferstack:cloud: aws
  inferstack:environment: dev
  inferstack:residency: {{allowedRegions: [{REGION}]}}
"""

NODE_GROUP = """import pulumi_aws as aws

aws.eks.NodeGroup(
    "workers",
    cluster_name="team-cluster",
    node_role_arn="arn:aws:iam::123456789012:role/nodes",
    subnet_ids=["subnet-0a", "subnet-0b"],
    instance_types=["{node_type}"],
    scaling_config=aws.eks.NodeGroupScalingConfigArgs(desired_size=3, max_size=5, min_size=1),
)
"""


def _program(tmp_path: Path, source: str, pricing: str = "") -> tuple[Path, Path]:
    """A program directory (Pulumi.yaml, __main__.py) and its stack file."""
    (tmp_path / "Pulumi.yaml").write_text("name: team\nruntime: python\n")
    program = tmp_path / "__main__.py"
    program.write_text(source)
    cfg = tmp_path / "Pulumi.dev.yaml"
    cfg.write_text(STACK_FILE + pricing)
    return program, cfg


def _cost_json(capsys: pytest.CaptureFixture[str], program: Path, cfg: Path) -> dict:
    assert main(["cost", "--program", str(program), "--config", str(cfg), "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


# ---------------------------------------------------------------- bad input first


def test_bad_pricing_in_a_programs_stack_file_exits_2_naming_the_key(tmp_path: Path) -> None:
    program, cfg = _program(tmp_path, NODE_GROUP.format(node_type="m6i.large"),
                            "  inferstack:pricing:\n    onDemandHourlyUsd: {m6i.large: -1}\n")
    proc = subprocess.run([sys.executable, "-m", "inferstack", "cost", "--program", str(program), "--config", str(cfg)],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "inferstack:pricing.onDemandHourlyUsd.m6i.large" in errors[0]
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_unknown_instance_type_exits_2_naming_the_override_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # m5.large is not in the catalogue (inferstack/catalog/prices_data.py): the estimate names the key to set.
    program, cfg = _program(tmp_path, NODE_GROUP.format(node_type="m5.large"))
    assert main(["cost", "--program", str(program), "--config", str(cfg)]) == 2
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert errors == [f"error: inferstack cost: no catalog price for 1 item(s) in {REGION} (catalog as of "
                      f"{declared.CATALOG_AS_OF}); set: inferstack:pricing.onDemandHourlyUsd.m5.large"]
    assert captured.out == ""
    # preview still runs and says why it shows no cost
    assert main(["preview", "--program", str(program), "--config", str(cfg), "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert summary["monthlyCostUsd"] is None and summary["costUnavailable"].endswith("inferstack:pricing.onDemandHourlyUsd.m5.large")


@pytest.mark.parametrize("flag", [["--compare-kinds"], ["--chart", "c.png"]])
def test_capacity_plan_flags_are_refused_with_a_program(tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: list[str]) -> None:
    program, cfg = _program(tmp_path, "")
    assert main(["cost", "--program", str(program), "--config", str(cfg), *flag]) == 2
    err = capsys.readouterr().err
    assert f"error: inferstack cost: {flag[0]} reads a stack's capacity plan: use it with --stack or --config, not --program" in err


# ---------------------------------------------------------------- pricing rules (records built by hand, no Pulumi)


def _rec(type_: str, name: str, inputs: dict, rid: str | None = None) -> ResourceRecord:
    urn = f"urn:pulumi:dev::team::{type_}::{name}"
    return ResourceRecord(urn, type_, name, True, None, None, False, False, [], {}, inputs, id=rid)


def _price(records: list[ResourceRecord], cloud: Cloud = Cloud.AWS, region: str = REGION, **kw) -> declared.DeclaredCost:
    return declared.price_declared(records, stack="dev", cloud=cloud, region=region, **kw)


def test_nothing_declared_costs_nothing() -> None:
    est = _price([])
    assert est.monthly_usd == 0 and est.priced == [] and est.unpriced == []
    assert est.to_json()["monthly_usd"] == 0.0


def test_node_group_instance_type_from_the_launch_template_and_spot() -> None:
    lt = _rec("aws:ec2/launchTemplate:LaunchTemplate", "lt", {"instanceType": "m6i.xlarge", "blockDeviceMappings": [
        {"deviceName": "/dev/xvda", "ebs": {"volumeSize": 50, "volumeType": "gp3"}}]}, rid="lt-123")
    ng = _rec("aws:eks/nodeGroup:NodeGroup", "ng", {"capacityType": "SPOT", "launchTemplate": {"id": "lt-123", "version": "1"},
                                                   "scalingConfig": {"desiredSize": 2.0, "minSize": 1.0, "maxSize": 4.0}})
    est = _price([lt, ng])
    price = node_price(REGION, "m6i.xlarge")
    [item] = est.priced
    assert item.urn == ng.urn and item.quantity == 2 and item.unit_usd == pytest.approx(price.spot_hourly_usd)
    assert item.monthly_usd == pytest.approx(2 * price.spot_hourly_usd * HOURS)
    assert item.all_on_demand_monthly_usd == pytest.approx(2 * price.on_demand_hourly_usd * HOURS)
    [disks] = est.unpriced
    assert disks.urn == lt.urn and "2 x 50 GB gp3 EBS" in disks.reason


def test_karpenter_nodepools_static_priced_dynamic_listed_with_why() -> None:
    def pool(name: str, spec_extra: dict, capacity: str = "on-demand") -> ResourceRecord:
        return _rec(declared.KARPENTER_NODEPOOL, name, {"spec": {**spec_extra, "template": {"spec": {"requirements": [
            {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["m6i.xlarge", "m6i.large"]},
            {"key": "karpenter.sh/capacity-type", "operator": "In", "values": [capacity]}]}}}})

    est = _price([pool("static", {"replicas": 2.0}), pool("dynamic", {"limits": {"cpu": "16"}}),
                  pool("reserved", {"limits": {"cpu": "8"}}, "reserved")])
    [item] = est.priced
    assert item.name == "static" and item.quantity == 2
    assert item.unit_usd == node_price(REGION, "m6i.large").on_demand_hourly_usd  # the lowest-priced allowed type
    dyn, reserved = est.unpriced
    assert dyn.name == "dynamic" and "declares no minimum" in dyn.reason and "cpu 16" in dyn.reason
    assert "capacity reservation" not in dyn.reason and "billed whether used or not" in reserved.reason


def test_gke_node_pools_count_zones_spot_and_accelerators() -> None:
    region = "europe-west4"
    cluster = _rec("gcp:container/cluster:Cluster", "gke", {"name": "c", "location": region, "removeDefaultNodePool": True,
                                                            "nodeLocations": ["europe-west4-a", "europe-west4-b", "europe-west4-c"]})
    spot = _rec("gcp:container/nodePool:NodePool", "l4", {"cluster": "c", "location": region, "nodeCount": 2.0, "nodeConfig": {
        "machineType": "g2-standard-8", "spot": True, "guestAccelerators": [{"type": "nvidia-l4", "count": 1.0}]}})
    wrong = _rec("gcp:container/nodePool:NodePool", "bare-l4", {"cluster": "c", "location": region, "nodeCount": 1.0, "nodeConfig": {
        "machineType": "g2-standard-8", "guestAccelerators": [{"type": "nvidia-l4", "count": 2.0}]}})
    nat = _rec("gcp:compute/routerNat:RouterNat", "nat", {"region": region})
    est = _price([cluster, spot, wrong, nat], Cloud.GCP, region)
    price = node_price(region, "g2-standard-8")
    plat = platform_prices(region, "gcp")
    by_name = {p.name: p for p in est.priced}
    assert by_name["gke"].monthly_usd == pytest.approx(plat.control_plane_hourly_usd * HOURS)
    assert by_name["l4"].quantity == 6  # nodeCount is per zone: 2 x 3 zones
    assert by_name["l4"].monthly_usd == pytest.approx(6 * price.spot_hourly_usd * HOURS)
    assert by_name["nat"].quantity == 6 and by_name["nat"].monthly_usd == pytest.approx(6 * plat.nat_per_vm_hourly_usd * HOURS)
    [mismatch] = [u for u in est.unpriced if u.name == "bare-l4"]
    assert "includes 1 x nvidia-l4" in mismatch.reason and "inferstack:pricing.onDemandHourlyUsd.g2-standard-8" in mismatch.reason


def test_nat_data_is_priced_only_when_the_stack_says_how_much() -> None:
    nat = _rec("aws:ec2/natGateway:NatGateway", "nat", {"subnetId": "subnet-0a"})
    plat = platform_prices(REGION, "aws")
    est = _price([nat])
    assert [p.item for p in est.priced] == ["NAT gateway"]
    assert [u.item for u in est.unpriced] == ["NAT data processed"]
    pricing = PricingConfig.model_validate({"natProcessedGbPerMonth": 100})
    est = _price([nat], pricing=pricing, usage_keys=pricing.model_fields_set)
    assert sum(p.monthly_usd for p in est.priced) == pytest.approx(plat.nat_hourly_usd * HOURS + 100 * plat.nat_per_gb_usd)


def test_usage_based_and_uncatalogued_fees_are_listed_not_invented() -> None:
    records = [_rec("aws:s3/bucket:Bucket", "b", {}), _rec("aws:lb/loadBalancer:LoadBalancer", "lb", {}),
               _rec("aws:ebs/volume:Volume", "v", {"size": 100.0}), _rec("aws:iam/role:Role", "r", {})]
    est = _price(records)
    assert est.priced == [] and est.monthly_usd == 0
    assert {u.name: u.item for u in est.unpriced} == {"b": "usage", "lb": "fee", "v": "fee"}
    assert est.free == {"aws:iam/role:Role": 1}


def test_missing_platform_prices_name_every_key_at_once() -> None:
    with pytest.raises(PriceNotFound) as err:
        _price([_rec("aws:eks/cluster:Cluster", "c", {}), _rec("aws:eks/nodeGroup:NodeGroup", "ng", {
            "instanceTypes": ["m6i.large"], "scalingConfig": {"desiredSize": 1.0}})], region="us-east-9")
    assert "inferstack:pricing.platform.controlPlaneHourlyUsd" in str(err.value)
    assert "inferstack:pricing.onDemandHourlyUsd.m6i.large" in str(err.value)


# ---------------------------------------------------------------- real programs under the offline engine


@pytest.mark.parametrize(("config", "named"), [
    ("config:\n  team:size: 3\n", "aws:region or gcp:region: sets neither"),
    ("config:\n  aws:region: eu-west-1\n  gcp:region: europe-west4\n", "aws:region or gcp:region: sets both"),
])
def test_program_config_without_inferstack_keys_needs_one_provider_region(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str, named: str) -> None:
    program, cfg = _program(tmp_path, '"""Declares nothing."""\n')
    cfg.write_text(config)
    assert main(["cost", "--program", str(program), "--config", str(cfg)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and named in err and err.count("error:") == 1


@pytest.mark.parametrize(("config", "cloud", "region"), [
    ("config:\n  aws:region: eu-west-1\n", "aws", "eu-west-1"),
    ("config:\n  gcp:project: acme\n  gcp:region: europe-west4\n", "gcp", "europe-west4"),
])
def test_program_config_of_its_own_is_priced_without_inferstack_keys(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str, cloud: str, region: str) -> None:
    """A team's program whose stack file is only its own config (no inferstack: key): the cost needs no policy
    settings; the cloud and region are its provider's."""
    program, cfg = _program(tmp_path, NODE_GROUP.format(node_type="m6i.large") if cloud == "aws"
                            else '"""Declares nothing."""\n')
    cfg.write_text(config)
    report = _cost_json(capsys, program, cfg)
    assert (report["cloud"], report["region"]) == (cloud, region), report
    if cloud == "aws":
        [row] = report["priced"]
        assert row["monthly_usd"] > 0
    else:
        assert report["monthly_usd"] == 0
    # the policy commands still need the settings: from the file's inferstack: keys or a --policy-config
    assert main(["policy", "check", "--program", str(program), "--config", str(cfg)]) == 2
    assert "inferstack:cloud" in capsys.readouterr().err


def test_empty_program_costs_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    program, cfg = _program(tmp_path, '"""Declares nothing."""\n')
    report = _cost_json(capsys, program, cfg)
    assert report["monthly_usd"] == 0 and report["priced"] == [] and report["unpriced"] == []
    assert main(["cost", "--program", str(program), "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "no priced resources" in out and "0.00" in out
    assert main(["preview", "--program", str(program), "--config", str(cfg)]) == 0
    assert "Estimated cost: 0.00 USD/month (all on-demand: 0.00; declared resources; 0 not priced;" in capsys.readouterr().out


def test_node_group_of_three_is_three_times_the_catalogue_price(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    program, cfg = _program(tmp_path, NODE_GROUP.format(node_type="m6i.large"))
    report = _cost_json(capsys, program, cfg)
    [item] = report["priced"]
    unit = node_price(REGION, "m6i.large").on_demand_hourly_usd
    assert item["urn"] == "urn:pulumi:dev::team::aws:eks/nodeGroup:NodeGroup::workers"
    assert (item["type"], item["name"], item["quantity"], item["unit"]) == ("aws:eks/nodeGroup:NodeGroup", "workers", 3, "node-hour")
    assert item["unit_usd"] == pytest.approx(unit) and report["monthly_usd"] == pytest.approx(round(3 * unit * HOURS, 2))
    assert main(["cost", "--program", str(program), "--config", str(cfg)]) == 0
    text = capsys.readouterr().out
    assert f"3 x m6i.large on-demand; {item['urn']}" in text and f"{3 * unit * HOURS:,.2f}" in text
    assert main(["preview", "--program", str(program), "--config", str(cfg), "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert summary["monthlyCostUsd"] == report["monthly_usd"] and summary["costBasis"] == "declared"


def test_an_override_prices_an_uncatalogued_type(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    program, cfg = _program(tmp_path, NODE_GROUP.format(node_type="m5.large"),
                            "  inferstack:pricing:\n    onDemandHourlyUsd: {m5.large: 0.2}\n")
    report = _cost_json(capsys, program, cfg)
    assert report["monthly_usd"] == pytest.approx(3 * 0.2 * HOURS) and report["assumptions"]["overrides"] == ["m5.large"]


def test_byo_eks_is_charged_only_what_it_declares(capsys: pytest.CaptureFixture[str]) -> None:
    report = _cost_json(capsys, BYO / "__main__.py", BYO / "Pulumi.prod.yaml")
    # No control plane, NAT or system nodes: the cluster is the team's own; Karpenter's NodePools declare no nodes.
    assert report["priced"] == [] and report["monthly_usd"] == 0
    billable = {"kubernetes:karpenter.sh/v1:NodePool", *declared.USAGE_BASED, *declared.NO_CATALOGUE_PRICE}
    assert main(["preview", "--program", str(BYO / "__main__.py"), "--config", str(BYO / "Pulumi.prod.yaml"), "--format", "json"]) == 0
    preview = json.loads(capsys.readouterr().out)
    expected = {r["urn"] for r in preview["resources"] if r["type"] in billable}
    assert expected and {u["urn"] for u in report["unpriced"]} == expected
    assert not any(u["type"] in ("aws:eks/cluster:Cluster", "aws:ec2/natGateway:NatGateway", "aws:eks/nodeGroup:NodeGroup")
                   for u in report["unpriced"])
    assert report["free_resources"] == len(preview["resources"]) - len(expected)


# ---------------------------------------------------------------- the two estimates agree where both price


@pytest.mark.parametrize("name", ["prod", "gcp-prod"])
def test_declared_pricing_agrees_with_the_capacity_plan(name: str) -> None:
    cfg = stack_config(name)
    est = est_mod.estimate(cfg)
    dec = declared.price_declared(recording(name).resources, stack=name, cloud=cfg.cloud, region=cfg.region,
                                  pricing=cfg.settings.pricing)
    lines = {line.item: line.monthly_usd for line in est.platform}
    priced = dec.priced
    control = [p for p in priced if p.item == "control plane"]
    assert len(control) == 1 and control[0].monthly_usd == pytest.approx(lines["control plane"])
    system = [p for p in priced if p.name.endswith("cluster-system")]
    assert len(system) == 1 and system[0].monthly_usd == pytest.approx(lines["system nodes"])
    if cfg.cloud is Cloud.AWS:
        plat = est_mod.platform_prices_of(cfg)
        gateways = [p for p in priced if p.item == "NAT gateway"]
        assert len(gateways) == cfg.settings.network.nat_gateways
        nat_hours = lines["NAT"] - cfg.settings.pricing.nat_processed_gb_per_month * plat.nat_per_gb_usd
        assert sum(p.monthly_usd for p in gateways) == pytest.approx(nat_hours)


# ---------------------------------------------------------------- CPU-only models: their share of the system nodes


def test_system_share_is_the_dominant_resource() -> None:
    assert est_mod.system_share("1", "2Gi", "m6i.large") == pytest.approx(0.5)  # 1 of 2 vCPU beats 2 of 8 GiB
    assert est_mod.system_share("500m", "12Gi", "e2-standard-4") == pytest.approx(0.75)  # 12 of 16 GiB
    assert est_mod.system_share("1", "2Gi", "m7i.large") is None  # size not catalogued: not charged


def test_every_catalogued_system_node_type_has_a_size() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_catalog", REPO / "scripts" / "gen_catalog.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert set(est_mod.SYSTEM_NODE_SIZES) == {*gen.AWS_SYSTEM_TYPES, *gen.GCP_SYSTEM_TYPES}


def test_cpu_only_model_is_charged_its_share_of_the_system_nodes() -> None:
    cfg = stack_config("prod")
    est = est_mod.estimate(cfg)
    [row] = [m for m in est.models if m.pool is None]
    model = next(m for m in cfg.settings.models if m.name == row.model)
    price = node_price(cfg.region, est_mod.system_node_type(cfg)).on_demand_hourly_usd
    share = est_mod.system_share(model.cpu, model.memory, est_mod.system_node_type(cfg))
    assert row.system_node_share == share and share is not None and share > 0
    assert row.monthly_usd == pytest.approx(row.average_replicas * share * price * HOURS)
    # The share is carved out of the system nodes line, not added to the total.
    system = next(line for line in est.platform if line.item == "system nodes")
    assert 0 < row.monthly_usd <= system.monthly_usd
    assert est.monthly_usd == pytest.approx(sum(p.monthly_usd for p in est.pools) + sum(line.monthly_usd for line in est.platform))


# ---------------------------------------------------------------- a stack on an existing cluster


def _existing_cluster_stack(tmp_path: Path) -> Path:
    import yaml

    from tests.components.test_existing_cluster import byo

    path = tmp_path / "Pulumi.byo.yaml"
    path.write_text(yaml.safe_dump({"config": byo()}))
    return path


def test_existing_cluster_stack_refuses_capacity_plan_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _existing_cluster_stack(tmp_path)
    assert main(["cost", "--config", str(cfg), "--compare-kinds"]) == 2
    err = capsys.readouterr().err
    assert ("error: inferstack cost: --compare-kinds reads a stack's capacity plan: use it with --stack or --config, "
            "not a stack on an existing cluster (inferstack:existingCluster)") in err


def test_existing_cluster_stack_is_charged_what_it_declares(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _existing_cluster_stack(tmp_path)
    assert main(["cost", "--config", str(cfg), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    # Kubernetes objects only: the cluster, its nodes and its platform are billed to whoever runs them.
    assert report["basis"] == "declared" and report["stack"] == "byo" and "program" not in report
    assert report["priced"] == [] and report["monthly_usd"] == 0 and report["free_resources"] > 0
    assert report["assumptions"]["note"].startswith("the stack deploys to an existing cluster")
    assert main(["preview", "--config", str(cfg), "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert summary["monthlyCostUsd"] == 0 and summary["costBasis"] == "declared"
