"""The corpus of real-world program shapes (tests/programs/corpus/<shape>/: __main__.py, Pulumi.yaml, Pulumi.dev.yaml
with no ``inferstack:`` keys) previews offline under :func:`inferstack.engine.run_program` like a real
``pulumi preview``: nothing raises, provider-computed values are unknown, plain-form data sources answer with
labelled placeholders, reads keep their ids, URNs carry the program's project and its parent chain."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from inferstack.engine import Recording, Secret, is_unknown, run_program

CORPUS = Path(__file__).resolve().parents[1] / "programs" / "corpus"
SHAPES = sorted(p.name for p in CORPUS.iterdir() if (p / "Pulumi.yaml").is_file())


def _project(shape: str) -> str:
    return yaml.safe_load((CORPUS / shape / "Pulumi.yaml").read_text())["name"]


def _config(shape: str) -> dict[str, Any]:
    return yaml.safe_load((CORPUS / shape / "Pulumi.dev.yaml").read_text())["config"]


@functools.cache
def run(shape: str) -> Recording:
    cfg = _config(shape)
    region = cfg.get("aws:region") or cfg.get("gcp:region") or "us-east-1"
    return run_program("dev", cfg, region=region, project=cfg.get("gcp:project"),
                       program=CORPUS / shape / "__main__.py", pulumi_project=_project(shape))


def test_the_corpus_has_every_shape() -> None:
    assert SHAPES == sorted([
        "data_sources", "eks_s3_site", "gke_cloudrun_sql", "guestbook", "helm_status", "k8s_yaml", "llm_server",
        "multi_provider", "own_component", "require_secret", "resource_get", "secrets_manager", "stack_reference",
    ])


@pytest.mark.parametrize("shape", SHAPES)
def test_shape_layout_and_no_inferstack_keys(shape: str) -> None:
    d = CORPUS / shape
    assert {"__main__.py", "Pulumi.yaml", "Pulumi.dev.yaml"} <= {p.name for p in d.iterdir()}
    assert yaml.safe_load((d / "Pulumi.yaml").read_text())["runtime"]["name"] == "python"
    assert not [k for k in _config(shape) if k.startswith("inferstack:")]


@pytest.mark.parametrize("shape", SHAPES)
def test_shape_previews_with_the_programs_project(shape: str) -> None:
    rec = run(shape)
    declared = [r for r in rec.resources if not r.synthesized]
    assert declared
    assert all(r.urn.startswith(f"urn:pulumi:dev::{_project(shape)}::") for r in rec.resources)
    assert len({r.urn for r in rec.resources}) == len(rec.resources)
    report = json.loads(json.dumps([x.to_json() for x in rec.lookups]))  # lookups serialize for a JSON report
    assert [x["token"] for x in report] == [x.token for x in rec.lookups]


def _types(rec: Recording) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rec.resources:
        if not r.synthesized:
            out[r.type] = out.get(r.type, 0) + 1
    return out


def _lookup(rec: Recording, token: str):
    (found,) = [x for x in rec.lookups if x.token == token]
    return found


def test_helm_status_feeds_unknowns_downstream() -> None:
    rec = run("helm_status")
    release = rec.find("kubernetes:helm.sh/v3:Release", "redis")
    assert release.inputs["chart"] == "redis" and "status" not in release.outputs
    data = rec.find("kubernetes:core/v1:ConfigMap", "app-config").inputs["data"]
    assert is_unknown(data["REDIS_LEADER"]) and is_unknown(data["REDIS_FOLLOWERS"]) and data["REDIS_PORT"] == "6379"
    assert is_unknown(rec.outputs["redisLeader"]) and is_unknown(rec.outputs["redisRevision"])
    assert rec.outputs["releaseChart"] == "redis"
    # The Deployment's env comes from the ConfigMap's name, which the engine supplies: known.
    env = rec.find("kubernetes:apps/v1:Deployment", "app").inputs["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    assert env[0]["configMapRef"]["name"].startswith("app-config-")


def test_data_sources_answer_by_form() -> None:
    rec = run("data_sources")
    zone = _lookup(rec, "aws:route53/getZone:getZone")
    assert zone.form == "plain" and zone.supplied == ["name", "privateZone"]
    assert set(zone.placeholders) >= {"zoneId", "arn", "nameServers[0]"}
    www = rec.find("aws:route53/record:Record", "www")
    assert www.inputs["zoneId"] == zone.placeholders["zoneId"] and www.inputs["name"] == "www.example.org"
    assert is_unknown(www.inputs["records"][0])  # the instance's private IP: computed
    ami = _lookup(rec, "aws:ec2/getAmi:getAmi")
    assert ami.form == "output" and not ami.placeholders and "imageId" in ami.unknown
    assert is_unknown(rec.find("aws:ec2/instance:Instance", "web").inputs["ami"])
    versions = _lookup(rec, "gcp:container/getEngineVersions:getEngineVersions")
    assert versions.form == "output" and is_unknown(rec.find("gcp:container/cluster:Cluster", "gke").inputs["minMasterVersion"])
    assert _lookup(rec, "aws:index/getCallerIdentity:getCallerIdentity").placeholders == {}
    assert rec.find("aws:ec2/vpc:Vpc", "main").inputs["tags"] == {"Owner": "123456789012"}
    assert [s.inputs["availabilityZone"] for s in rec.by_type("aws:ec2/subnet:Subnet")] == ["us-west-2a", "us-west-2b"]
    assert rec.placeholder_count == len(zone.placeholders)
    assert rec.outputs["zoneId"] == zone.placeholders["zoneId"] and is_unknown(rec.outputs["amiId"])


def test_resource_get_reads() -> None:
    rec = run("resource_get")
    reads = {x.token: x for x in rec.lookups if x.kind == "read"}
    assert set(reads) == {"aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:eks/cluster:Cluster", "kubernetes:core/v1:Namespace"}
    assert reads["aws:ec2/vpc:Vpc"].id == "vpc-0a1b2c3d4e5f60718" and "cidrBlock" in reads["aws:ec2/vpc:Vpc"].unknown
    assert not any(r.type in reads for r in rec.resources)
    sg = rec.find("aws:ec2/securityGroup:SecurityGroup", "app")
    assert sg.inputs["vpcId"] == "vpc-0a1b2c3d4e5f60718" and is_unknown(sg.inputs["ingress"][0]["cidrBlocks"][0])
    assert is_unknown(rec.find("aws:iam/rolePolicy:RolePolicy", "describe-cluster").inputs["policy"])
    assert rec.outputs["vpcId"] == "vpc-0a1b2c3d4e5f60718" and is_unknown(rec.outputs["kubeSystemUid"])


def test_stack_reference_outputs_from_the_offline_key() -> None:
    rec = run("stack_reference")
    ref = _lookup(rec, "pulumi:pulumi:StackReference")
    assert ref.kind == "read" and ref.id == "acme/platform/dev"
    provider = rec.find("pulumi:providers:kubernetes", "platform")
    assert isinstance(provider.inputs["kubeconfig"], Secret)
    assert rec.find("kubernetes:apps/v1:Deployment", "web").inputs["metadata"]["namespace"] == "apps"
    assert rec.outputs["cluster"] == "platform-dev"


def test_own_component_urns_carry_the_parent_chain() -> None:
    rec = run("own_component")
    assert _types(rec)["acme:web:Site"] == 2 and _types(rec)["acme:web:Logs"] == 2
    assert rec.find("aws:cloudwatch/logGroup:LogGroup", "docs-logs").urn == (
        "urn:pulumi:dev::static-sites::acme:web:Site$acme:web:Logs$aws:cloudwatch/logGroup:LogGroup::docs-logs")
    assert rec.find("aws:s3/bucketVersioning:BucketVersioning", "blog-versioning").urn == (
        "urn:pulumi:dev::static-sites::acme:web:Site$aws:s3/bucket:Bucket$aws:s3/bucketVersioning:BucketVersioning"
        "::blog-versioning")
    assert rec.outputs["logGroups"] == ["docs-logs", "blog-logs"]


def test_require_secret_stays_secret() -> None:
    rec = run("require_secret")
    db = rec.find("aws:rds/instance:Instance", "app-db")
    assert isinstance(db.inputs["password"], Secret)
    data = rec.find("kubernetes:core/v1:Secret", "db").inputs["stringData"]
    assert isinstance(data, Secret) or isinstance(data["PASSWORD"], Secret)
    assert is_unknown(rec.outputs["databaseUrl"])  # the instance address is computed
    assert isinstance(rec.outputs["passwordLength"], Secret)


def test_multi_provider_answers_per_provider_region() -> None:
    rec = run("multi_provider")
    primary, replica = rec.find("pulumi:providers:aws", "primary"), rec.find("pulumi:providers:aws", "replica")
    assert primary.inputs["region"] == "us-east-1" and replica.inputs["region"] == "eu-west-1"
    assert rec.provider_of(rec.find("aws:s3/bucket:Bucket", "assets-replica")) is replica
    # Each region's zones as the catalogue lists them (inferstack.catalog.zones_data).
    assert rec.outputs["zones"] == {"primary": [f"us-east-1{s}" for s in "abcdef"],
                                    "replica": ["eu-west-1a", "eu-west-1b", "eu-west-1c"]}
    rules = rec.find("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "assets").inputs["rules"]
    assert rules[0]["destination"]["bucket"].startswith("arn:aws:s3:::assets-replica-")


def test_kubernetes_yaml_components_are_recorded_opaque() -> None:
    rec = run("k8s_yaml")
    group = rec.find("kubernetes:yaml/v2:ConfigGroup", "settings")
    assert "exporter-settings" in group.inputs["yaml"] and group.inputs["objs"][0]["kind"] == "Service"
    assert rec.find("kubernetes:yaml/v2:ConfigFile", "exporter").inputs["file"].endswith("manifests.yaml")
    assert is_unknown(rec.outputs["resources"]) and rec.outputs["namespace"] == "tools"
    # The v1 ConfigGroup: the provider's yaml decode is answered (it only parses), so its objects are registered.
    decode = _lookup(rec, "kubernetes:yaml:decode")
    assert decode.supplied == ["result"] and not decode.placeholders
    netpols = rec.by_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    assert sorted(r.name for r in netpols) == ["tools/allow-scrape", "tools/default-deny"]
    assert all(r.urn.startswith("urn:pulumi:dev::yaml-bundle::kubernetes:yaml:ConfigGroup$") for r in netpols)
    assert rec.find("kubernetes:networking.k8s.io/v1:NetworkPolicy", "tools/default-deny").inputs["spec"][
        "policyTypes"] == ["Ingress", "Egress"]


def test_eks_cluster_and_s3_site() -> None:
    rec = run("eks_s3_site")
    assert _types(rec)["aws:iam/rolePolicyAttachment:RolePolicyAttachment"] == 4
    cluster = rec.find("aws:eks/cluster:Cluster", "eks")
    assert cluster.outputs["endpoint"].startswith("https://") and cluster.outputs["status"] == "ACTIVE"
    kubeconfig = rec.find("pulumi:providers:kubernetes", "eks").inputs["kubeconfig"]
    assert not is_unknown(kubeconfig)  # built from supplied outputs (name, endpoint, CA data)
    assert is_unknown(rec.outputs["siteEndpoint"])
    assert rec.find("aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration", "site").inputs["indexDocument"] == {
        "suffix": "index.html"}


def test_gke_cloud_run_cloud_sql() -> None:
    rec = run("gke_cloudrun_sql")
    versions = _lookup(rec, "gcp:container/getEngineVersions:getEngineVersions")
    assert versions.form == "plain" and versions.supplied == ["location", "versionPrefix"]
    cluster = rec.find("gcp:container/cluster:Cluster", "app")
    assert cluster.inputs["minMasterVersion"] == versions.placeholders["latestMasterVersion"]
    assert rec.find("gcp:container/nodePool:NodePool", "general").inputs["version"] == versions.placeholders["latestNodeVersion"]
    envs = rec.find("gcp:cloudrunv2/service:Service", "api").inputs["template"]["containers"][0]["envs"]
    assert is_unknown(next(e["value"] for e in envs if e["name"] == "DB_CONNECTION"))
    assert is_unknown(rec.outputs["serviceUrl"]) and is_unknown(rec.outputs["sqlConnection"])
    assert rec.placeholder_count == len(versions.placeholders)


def test_secrets_manager() -> None:
    rec = run("secrets_manager")
    secret = rec.find("aws:secretsmanager/secret:Secret", "api-key")
    assert secret.inputs["kmsKeyId"].startswith("arn:aws:kms:eu-north-1:123456789012:key/")
    assert isinstance(rec.find("aws:secretsmanager/secretVersion:SecretVersion", "api-key").inputs["secretString"], Secret)
    assert "secretsmanager:GetSecretValue" in rec.find("aws:secretsmanager/secretPolicy:SecretPolicy", "api-key").inputs["policy"]
    assert _lookup(rec, "aws:secretsmanager/getSecretVersion:getSecretVersion").form == "output"
    assert is_unknown(rec.outputs["currentStages"]) and is_unknown(rec.outputs["versionId"])


def test_guestbook() -> None:
    rec = run("guestbook")
    assert _types(rec) == {"kubernetes:apps/v1:Deployment": 3, "kubernetes:core/v1:Service": 3}
    assert rec.find("kubernetes:core/v1:Service", "frontend").inputs["spec"]["type"] == "LoadBalancer"
    assert is_unknown(rec.outputs["frontendIp"])  # the load balancer's address: status, computed


def test_llm_server() -> None:
    rec = run("llm_server")
    container = rec.find("kubernetes:apps/v1:Deployment", "vllm").inputs["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert container["args"][:2] == ["--model", "Qwen/Qwen2.5-7B-Instruct"]
    assert isinstance(rec.find("kubernetes:core/v1:Secret", "hf-token").inputs["stringData"], Secret)
    assert rec.outputs["url"].startswith("http://vllm-") and is_unknown(rec.outputs["readyReplicas"])
