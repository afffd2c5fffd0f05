"""Every member of every family (policies/families/data_<cloud>.py, generated from the installed SDKs) is judged by a
policy of the pack or explained; the coverage report and ``inferstack policy coverage`` / ``policy list --framework``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from pulumi_policy import ResourceValidationPolicy

from inferstack.config.base import Environment
from inferstack.policies.entry import MANDATORY, PolicyEntry
from inferstack.policies.families import members
from inferstack.policies.families.coverage import (
    cloud_specs,
    coverage,
    coverage_markdown,
    explanation,
    judges,
    stale_explanations,
)


def test_no_family_member_is_left_unjudged() -> None:
    gaps = {c.name: list(c.gaps) for c in coverage() if c.gaps}
    assert gaps == {}, "judge these types with a rule (types or families=) or explain them in EXPLAINED"


def test_every_spec_of_a_cloud_is_generated() -> None:
    from inferstack.policies.families import all_families

    for cloud in ("aws", "gcp", "kubernetes"):
        specs, _ = cloud_specs(cloud)
        missing = [s.name for s in specs if s.name not in all_families()]
        assert missing == [], f"run scripts/gen_families.py: {missing}"


def test_explanations_name_real_members() -> None:
    assert stale_explanations() == []


def test_every_aws_family_is_judged_by_construction() -> None:
    rows = {c.name: c for c in coverage() if c.cloud == "aws"}
    assert set(rows) >= {"aws-resource-policy", "aws-resource-grant", "aws-encryption-at-rest",
                         "aws-encryption-in-transit", "aws-public-ip", "aws-deletion-protection"}
    assert rows["aws-resource-policy"].judged["aws:glacier/vault:Vault"] == ("resource-policy-not-public",)
    assert len(rows["aws-resource-policy"].members) == len(members("aws-resource-policy")) > 50


def test_a_new_member_is_a_gap_until_judged_or_explained() -> None:
    """What an SDK upgrade's new member looks like to the coverage check."""
    policy = ResourceValidationPolicy(name="t-judge", description="d", validate=lambda a, r: None)
    typed = PolicyEntry(policy, MANDATORY, types=("aws:newsvc/",))
    assert judges(typed, "aws-resource-policy", "aws:newsvc/vaultPolicy:VaultPolicy")
    assert not judges(typed, "aws-resource-policy", "aws:other/thing:Thing")
    assert explanation("aws:newsvc/vaultPolicy:VaultPolicy", {"aws:newsvc/": "not offered"}) == "not offered"
    assert explanation("aws:newsvc/vaultPolicy:VaultPolicy", {"aws:newsvc/vault": "a prefix must end in / or :"}) is None


def test_entry_families_dispatch_and_errors() -> None:
    policy = ResourceValidationPolicy(name="t-family", description="d", validate=lambda a, r: None)
    entry = PolicyEntry(policy, MANDATORY, families=("aws-public-ip",))
    assert entry.clouds == frozenset({"aws"}) and entry.applies_to("aws:ec2/subnet:Subnet")
    assert not entry.applies_to("aws:s3/bucket:Bucket")
    assert entry.catalogue_row()["families"] == ["aws-public-ip"]
    with pytest.raises(ValueError, match="policy t-bad: unknown family 'aws-nope'; known: "):
        PolicyEntry(ResourceValidationPolicy(name="t-bad", description="d", validate=lambda a, r: None), MANDATORY,
                    families=("aws-nope",))
    assert entry.level(Environment.DEV) == "mandatory"


def test_docs_coverage_table_is_generated() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "policies.md").read_text()
    block = text.split("<!-- family-coverage:start -->\n", 1)[1].split("<!-- family-coverage:end -->", 1)[0]
    assert block == coverage_markdown(), (
        "docs/policies.md drifted: regenerate with `.venv/bin/python scripts/gen_families.py --docs`")


def test_markdown_table_counts() -> None:
    md = coverage_markdown()
    assert md.startswith("| Family | Cloud | Control | Judged | Explained | Members |")
    assert "| aws-resource-policy | aws |" in md


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inferstack", "policy", *args], capture_output=True, text=True, timeout=120)


def test_cli_coverage_exits_1_on_a_gap(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    import argparse

    from inferstack.cli import policy as cli
    from inferstack.policies.families.coverage import FamilyCoverage

    gap = FamilyCoverage("aws-x", "aws", "c", ("aws:newsvc/thing:Thing",), {}, {})
    monkeypatch.setattr(cli, "coverage", lambda: [gap])
    assert cli._coverage(argparse.Namespace(format="text")) == 1
    assert "GAPS: aws:newsvc/thing:Thing" in capsys.readouterr().out


def test_cli_coverage_json() -> None:
    proc = _cli("coverage", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["family"]: r for r in json.loads(proc.stdout)}
    row = rows["aws-public-ip"]
    assert row["cloud"] == "aws" and row["judged"] + 0 == row["members"] and row["gaps"] == []


def test_cli_list_framework_filters_and_rejects_unknown() -> None:
    proc = _cli("list", "--framework", "cis aws", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert rows and all(any(c.startswith("CIS AWS ") for c in r["controls"]) for r in rows)
    assert "cloudtrail-hardened" in {r["id"] for r in rows}
    bad = _cli("list", "--framework", "SOC9")
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith("error: --framework 'SOC9': no policy cites it; allowed: ") and "Traceback" not in bad.stderr


def test_stack_policies_judge_the_families_they_name() -> None:
    """A stack policy's ``STACK_FAMILIES`` names a stack policy of the pack and generated families; the S3 bucket
    family is judged by the S3 stack policies, so a bucket type an SDK upgrade adds reaches them (#25)."""
    from inferstack.policies.families import all_families
    from inferstack.policies.families.coverage import stack_families
    from inferstack.policies.pack import ENTRY_BY_NAME

    named = stack_families()
    assert named, "no rule module names the families of its stack policies"
    for policy, fams in named.items():
        assert policy in ENTRY_BY_NAME and ENTRY_BY_NAME[policy].types is None, policy
        assert set(fams) <= set(all_families()), (policy, fams)
    rows = {c.name: c for c in coverage()}
    assert set(rows["aws-s3-bucket"].judged["aws:s3/bucketV2:BucketV2"]) >= {
        "s3-bucket-sse-kms", "s3-tls-only", "s3-no-public-access", "prod-stateful-protected"}
    assert rows["aws-s3-acl"].judged["aws:s3/bucketAclV2:BucketAclV2"] == ("s3-acl-not-public",)
