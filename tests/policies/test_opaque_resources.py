"""Resources the pack cannot see inside (dynamic providers, types of provider packages no rule knows) fail closed for
encryption, exposure and residency: a "not evaluated" finding naming the resource, advisory in dev, mandatory in
prod and with --strict, acknowledged per resource by ``inferstack:policy.reviewedResources`` with a reason."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
)

from inferstack.config.base import Environment
from inferstack.config.policy import PolicyConfig, PolicySettings
from inferstack.policies.pack import ENTRY_BY_NAME, PackConfigError, pack_config
from inferstack.policies.rules import opaque, residency
from tests.conftest import stack_path
from tests.policies.test_rules import Case, _findings, case_tests, one

PROGRAM = Path(__file__).resolve().parents[1] / "programs" / "opaque_program.py"
SEED = "pulumi-python:dynamic/registry:Seed"
DNS = "cloudflare:index/record:Record"
POLICY = opaque.POLICY
REVIEWED = {
    f"{SEED}::registry-seed": "reviewed 2026-12-06 by platform-security: inserts rows into the registry table only",
    f"{DNS}::api-dns": "reviewed 2026-12-06 by platform-security: a CNAME to the internal load balancer, no data",
}


def _check(tmp_path: Path, environment: str, policy: dict[str, Any] | None = None, *extra: str,
           app: dict[str, Any] | None = None) -> tuple[subprocess.CompletedProcess, dict | None]:
    config: dict[str, Any] = {
        "aws:region": "eu-west-1",
        "inferstack:cloud": "aws",
        "inferstack:environment": environment,
        "inferstack:residency": {"allowedRegions": ["eu-west-1"]},
        **{f"app:{k}": v for k, v in (app or {}).items()},
    }
    if policy is not None:
        config["inferstack:policy"] = policy
    cfg = tmp_path / f"Pulumi.{environment}.yaml"
    cfg.write_text(yaml.safe_dump({"config": config}))
    report = tmp_path / "report.json"
    cmd = [sys.executable, "-m", "inferstack", "policy", "check", "--config", str(cfg), "--program", str(PROGRAM),
           "--json", str(report), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    return proc, (json.loads(report.read_text()) if report.exists() else None)


def _opaque_findings(doc: dict) -> dict[str, dict]:
    return {f["resource"]["type"]: f for f in doc["findings"] if f["policy"] == POLICY}


# ---------------------------------------------------------------- the type token decides, not a name


@pytest.mark.parametrize("token", [
    "pulumi-python:dynamic:Resource",
    "pulumi-nodejs:dynamic:Resource",
    "pulumi-python:dynamic/registry:Seed",
    "command:local:Command",
    "azure-native:storage:StorageAccount",
    "cloudflare:index/record:Record",
    "mycorp:index:AwsS3BucketEncrypted",  # a name that sounds like AWS: the package decides
])
def test_dynamic_and_unknown_package_types_are_opaque_to_every_family(token: str) -> None:
    assert [f.name for f in opaque.blind_families(token)] == ["encryption", "exposure", "residency"]


@pytest.mark.parametrize("token", [
    "aws:s3/bucket:Bucket",
    "aws:rds/instance:Instance",
    "gcp:storage/bucket:Bucket",
    "kubernetes:serving.kserve.io/v1beta1:InferenceService",
    "kubernetes:core/v1:Service",
    "random:index/randomPassword:RandomPassword",
    "tls:index/privateKey:PrivateKey",
    "pulumi:pulumi:StackReference",
    "aws:index/dynamicThing:DynamicThing",  # a known package; "dynamic" in a name is not the dynamic module
])
def test_types_of_known_packages_are_seen(token: str) -> None:
    assert opaque.blind_families(token) == []


def test_residency_family_knows_every_package_residency_treats_as_global() -> None:
    (family,) = [f for f in opaque.FAMILIES if f.name == "residency"]
    assert {p.split(":", 1)[0] for p in residency.GLOBAL_TYPE_PREFIXES} <= family.packages


def test_levels_advisory_in_dev_mandatory_in_staging_and_prod_and_not_evaluated() -> None:
    entry = ENTRY_BY_NAME[POLICY]
    assert {env.value: entry.level(env) for env in Environment} == {"dev": "advisory", "staging": "mandatory", "prod": "mandatory"}
    assert entry.not_evaluated


# ---------------------------------------------------------------- fixtures of the rule harness (tests/policies/test_rules.py)

SEEN_BUCKET = one("aws:s3/bucket:Bucket", {"bucket": "models-1a2b", "region": "eu-west-1"})
REVIEW = {"reviewedResources": {"pulumi-python:dynamic:Resource::subject": "reviewed: writes one row, no data store"}}
CASES = [
    Case("dynamic-provider-resource", POLICY, SEEN_BUCKET, (0, "type"), "pulumi-python:dynamic:Resource"),
    Case("unknown-provider-package", POLICY, SEEN_BUCKET, (0, "type"), "cloudflare:index/record:Record"),
    # A review names one resource: another dynamic resource (another name) is not covered by it.
    Case("review-is-per-resource", POLICY, one("pulumi-python:dynamic:Resource", {"table": "t"}), (0, "name"), "other",
         config=REVIEW),
]


test_compliant_fixture_passes, test_one_field_change_violates = case_tests(CASES)


def test_a_review_by_urn_counts_too() -> None:
    res = one("pulumi-python:dynamic:Resource", {"table": "t"})
    urn = "urn:pulumi:fixture::inferstack::pulumi-python:dynamic:Resource::subject-0"
    assert _findings(res, POLICY, reviewedResources={urn: "reviewed by platform-security"}) == []


def test_residency_leaves_an_opaque_type_without_region_to_the_review_but_judges_a_region_it_names() -> None:
    for token in ("pulumi-python:dynamic:Resource", "command:local:Command", "azure-native:storage:StorageAccount"):
        assert _findings(one(token, {}), "region-residency") == [], token
        assert _findings(one(token, {}), POLICY), token
    outside = _findings(one("pulumi-python:dynamic:Resource", {"region": "us-east-1"}), "region-residency")
    assert len(outside) == 1 and "outside allowedRegions" in outside[0].message
    # A type the rules know still fails closed in region-residency itself when it names no region.
    assert _findings(one("aws:rds/instance:Instance", {}, provider={}), "region-residency")


# ---------------------------------------------------------------- a program judged by the pack (policy check --program)


def test_dev_reports_each_opaque_resource_as_advisory_naming_it(tmp_path: Path) -> None:
    proc, doc = _check(tmp_path, "dev")
    assert proc.returncode == 0, proc.stderr
    found = _opaque_findings(doc)
    assert set(found) == {SEED, DNS}
    for token, name in ((SEED, "registry-seed"), (DNS, "api-dns")):
        f = found[token]
        assert f["enforcementLevel"] == "advisory" and f["notEvaluated"] is True
        assert f["resource"]["name"] == name and f["resource"]["urn"].endswith(f"::{token}::{name}")
        assert f["resource"]["urn"] in f["message"] and f"{token}::{name}" in f["message"]
        assert "not evaluated for encryption, exposure, residency" in f["message"]
    assert "dynamic provider" in found[SEED]["message"] and "'cloudflare'" in found[DNS]["message"]
    # residency no longer reports them separately (mandatory in every environment) when they name no region
    assert [f for f in doc["findings"] if f["policy"] == "region-residency"] == []
    assert doc["summary"]["findings"]["mandatory"] == 0


def test_prod_makes_them_mandatory(tmp_path: Path) -> None:
    proc, doc = _check(tmp_path, "prod")
    assert proc.returncode == 1, proc.stderr
    assert {t: f["enforcementLevel"] for t, f in _opaque_findings(doc).items()} == {SEED: "mandatory", DNS: "mandatory"}
    assert doc["summary"]["findings"]["mandatory"] == 2


def test_strict_makes_them_mandatory_in_dev(tmp_path: Path) -> None:
    proc, doc = _check(tmp_path, "dev", None, "--strict")
    assert proc.returncode == 1, proc.stderr
    assert {f["enforcementLevel"] for f in _opaque_findings(doc).values()} == {"mandatory"}


def test_reviewed_resources_with_a_reason_are_acknowledged(tmp_path: Path) -> None:
    proc, doc = _check(tmp_path, "prod", {"reviewedResources": REVIEWED})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert doc["findings"] == []
    proc, doc = _check(tmp_path, "dev", {"reviewedResources": REVIEWED}, "--strict")
    assert proc.returncode == 0 and doc["findings"] == []
    # one reviewed, the other still reported
    proc, doc = _check(tmp_path, "prod", {"reviewedResources": {f"{DNS}::api-dns": REVIEWED[f"{DNS}::api-dns"]}})
    assert proc.returncode == 1 and set(_opaque_findings(doc)) == {SEED}


def test_a_review_waives_nothing_else(tmp_path: Path) -> None:
    proc, doc = _check(tmp_path, "prod", {"reviewedResources": REVIEWED}, app={"seedRegion": "us-east-1"})
    assert proc.returncode == 1
    assert [(f["policy"], f["resource"]["type"]) for f in doc["findings"]] == [("region-residency", SEED)]


@pytest.mark.parametrize(("reviewed", "named"), [
    ({f"{SEED}::registry-seed": ""}, f"{SEED}::registry-seed"),
    ({f"{SEED}::registry-seed": "   "}, f"{SEED}::registry-seed"),
    ({f"{SEED}::registry-seed": None}, f"{SEED}::registry-seed"),
    ({"registry-seed": "reviewed"}, "registry-seed"),
    ({"aws:s3/bucket:Bucket::models": "reviewed, it is fine"}, "aws:s3/bucket:Bucket::models"),
])
def test_a_review_without_a_reason_or_of_a_seen_type_is_refused_with_exit_2(tmp_path: Path, reviewed, named) -> None:
    proc, doc = _check(tmp_path, "prod", {"reviewedResources": reviewed})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in proc.stderr, proc.stderr
    assert "inferstack:policy.reviewedResources" in lines[0] and named in lines[0]
    assert doc is None and proc.stdout == ""  # no report written, nothing judged


def test_stack_config_refuses_a_review_without_a_reason(tmp_path: Path) -> None:
    text = stack_path("dev").read_text()
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(text.replace("config:\n", f"config:\n  inferstack:policy:\n    reviewedResources:\n      '{SEED}::x': ''\n", 1))
    proc = subprocess.run([sys.executable, "-m", "inferstack", "config", "validate", "--config", str(path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "inferstack:policy.reviewedResources" in proc.stderr and "reason" in proc.stderr


def test_pack_config_carries_the_reviews_and_refuses_seen_types() -> None:
    settings = PolicySettings(environment=Environment.PROD, allowed_regions=("eu-west-1",),
                              policy=PolicyConfig(reviewed_resources=REVIEWED))
    assert pack_config(settings)[POLICY] == {"enforcementLevel": "mandatory", "reviewedResources": dict(sorted(REVIEWED.items()))}
    urn = "urn:pulumi:prod::inferstack::inferstack:serving:Serving$kubernetes:core/v1:Service::api"
    with pytest.raises(PackConfigError) as err:
        pack_config(PolicySettings(environment=Environment.PROD, allowed_regions=("eu-west-1",),
                                   policy=PolicyConfig(reviewed_resources={urn: "reviewed"})))
    assert err.value.loc == ("policy", "reviewedResources") and urn in err.value.message


def test_preview_refuses_a_review_of_a_seen_type_with_exit_2(tmp_path: Path) -> None:
    cfg = tmp_path / "Pulumi.prod.yaml"
    cfg.write_text(yaml.safe_dump({"config": {
        "aws:region": "eu-west-1", "inferstack:cloud": "aws", "inferstack:environment": "prod",
        "inferstack:residency": {"allowedRegions": ["eu-west-1"]},
        "inferstack:policy": {"reviewedResources": {"aws:kms/key:Key::data": "reviewed"}},
    }}))
    out = tmp_path / "preview.json"
    proc = subprocess.run([sys.executable, "-m", "inferstack", "preview", "--config", str(cfg), "--program", str(PROGRAM),
                           "--format", "json", "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and not out.exists()
    assert proc.stderr.startswith("error:") and "inferstack:policy.reviewedResources" in proc.stderr and "aws:kms/key:Key::data" in proc.stderr


def test_components_are_not_reported_their_children_are() -> None:
    """In a real preview Pulumi hands policies component resources too; they carry no provider (custom resources carry
    theirs, or the package's default one): a program's own component type is not an opaque resource."""
    policy = ENTRY_BY_NAME[POLICY].policy
    opts = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)
    urn = "urn:pulumi:prod::shop::mycorp:app:WebService::web"

    def findings(provider):
        out: list[str] = []
        args = ResourceValidationArgs("mycorp:app:WebService", {}, urn, "web", opts, provider, {"reviewedResources": {}})
        policy.validate(args, lambda message, urn=None: out.append(message))
        return out

    assert findings(None) == []
    default = PolicyProviderResource("pulumi:providers:mycorp", {}, "urn:pulumi:prod::shop::pulumi:providers:mycorp::default", "default")
    assert len(findings(default)) == 1  # a custom resource of the same unknown package is reported
    # Offline, a custom resource registered without a provider gets the package's default provider, as in a real engine.
    assert _findings(one("cloudflare:index/record:Record", {}), POLICY)
