"""scripts/gen_families.py: the generated family data matches the installed SDKs (``--check``), and the SDK facts
it reads (registration, input signatures) are real."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from inferstack.policies.families import all_families, data_module, members
from inferstack.policies.families.base import (
    FamilySpec,
    SdkType,
    camel,
    registered_types,
    sdk_types,
    sdk_version,
)

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gen_families.py"


def _gen():
    spec = importlib.util.spec_from_file_location("gen_families", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_check_passes_on_the_installed_sdks() -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr


def test_generated_file_is_byte_for_byte_the_render() -> None:
    gen = _gen()
    path = ROOT / "policies" / "families" / "data_aws.py"
    assert path.read_text() == gen.render("aws", gen.members("aws"))


def test_check_names_a_new_member(monkeypatch: pytest.MonkeyPatch) -> None:
    """An SDK upgrade adding a type with a policy input: --check fails naming the family and the new type."""
    gen = _gen()
    real = gen.sdk_types

    def upgraded(package: str) -> list[SdkType]:
        extra = SdkType("aws:newsvc/vaultPolicy:VaultPolicy", "pulumi_aws", "pulumi_aws.newsvc", "VaultPolicy",
                        {"policy": "pulumi.Input[Optional[_builtins.str]]", "vault": "pulumi.Input[_builtins.str]"})
        return [*real(package), extra] if package == "pulumi_aws" else real(package)

    monkeypatch.setattr(gen, "sdk_types", upgraded)
    problems = gen.diff("aws", gen.members("aws"))
    assert problems == ["aws: family aws-resource-policy: new members: aws:newsvc/vaultPolicy:VaultPolicy"]


def test_header_names_the_sdk_and_version() -> None:
    mod = data_module("aws")
    assert mod.SDK_PACKAGE == "pulumi_aws" and mod.SDK_VERSION == sdk_version("pulumi_aws")
    first = (ROOT / "policies" / "families" / "data_aws.py").read_text().splitlines()[0]
    assert f"pulumi_aws {sdk_version('pulumi_aws')}" in first and "do not edit" in first


def test_registration_and_signatures_are_the_sdks() -> None:
    tokens = registered_types("aws")
    assert tokens["aws:s3/bucketPolicy:BucketPolicy"] == ("pulumi_aws.s3", "BucketPolicy")
    by_token = {t.token: t for t in sdk_types("aws")}
    bp = by_token["aws:s3/bucketPolicy:BucketPolicy"]
    assert set(bp.inputs) == {"bucket", "policy", "region"} and "PolicyDocument" in bp.inputs["policy"]
    assert "kms_key_id" in by_token["aws:rds/instance:Instance"].inputs
    k8s = {t.token: t for t in sdk_types("pulumi_kubernetes")}
    assert set(k8s["kubernetes:core/v1:Service"].inputs) == {"api_version", "kind", "metadata", "spec"}


def test_members_carry_their_control_inputs() -> None:
    assert members("aws-resource-policy")["aws:opensearch/domain:Domain"] == ("access_policies",)
    assert "aws:lambda/permission:Permission" in members("aws-resource-grant")
    assert members("aws-public-ip")["aws:ec2/subnet:Subnet"] == ("map_public_ip_on_launch",)
    assert "aws-resource-policy" in all_families()
    with pytest.raises(ValueError, match="unknown family 'nope'; known: .*aws-resource-policy"):
        members("nope")


def test_spec_rejects_an_unknown_cloud() -> None:
    with pytest.raises(ValueError, match="unknown cloud 'azure'"):
        FamilySpec("x", "azure", "c", select=lambda t: True)


def test_camel() -> None:
    assert camel("kms_key_id") == "kmsKeyId" and camel("policy") == "policy"
