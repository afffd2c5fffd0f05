"""The offline engine records what a real engine would see: parents, providers, options, secrets, sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inferstack.engine import Secret, redact, run_program
from tests.conftest import REFERENCE_STACKS, recording

PROGRAM = Path(__file__).resolve().parents[1] / "programs" / "secret_program.py"
CONFIG = {"aws:region": "eu-west-1", "app:token": {"secure": "v1:ciphertext"}}


@pytest.fixture(scope="module")
def small():
    return run_program("t", CONFIG, region="eu-west-1", program=PROGRAM, secrets={"app:token": "hunter2-token"})


def test_secret_config_stays_marked(small) -> None:
    param = small.find("aws:ssm/parameter:Parameter", "token")
    assert isinstance(param.inputs["value"], Secret)
    assert param.plain_inputs["value"] == "hunter2-token"
    assert param.to_json()["inputs"]["value"] == "[secret]"
    assert "hunter2-token" not in json.dumps([r.to_json() for r in small.resources])


def test_explicit_and_default_providers(small) -> None:
    param = small.find("aws:ssm/parameter:Parameter", "token")
    prov = small.provider_of(param)
    assert prov is not None and prov.type == "pulumi:providers:aws" and prov.name == "frankfurt"
    assert prov.inputs["region"] == "eu-central-1"
    bucket = small.find("aws:s3/bucket:Bucket", "logs")
    default = small.provider_of(bucket)
    assert default is not None and default.synthesized and default.inputs == {"region": "eu-west-1"}


def test_options_dependencies_and_urns(small) -> None:
    bucket = small.find("aws:s3/bucket:Bucket", "logs")
    versioning = small.find("aws:s3/bucketVersioning:BucketVersioning", "logs-versioning")
    param = small.find("aws:ssm/parameter:Parameter", "token")
    assert bucket.protect and not bucket.retain_on_delete
    assert versioning.retain_on_delete and not versioning.protect
    assert param.urn in versioning.dependencies
    assert versioning.property_dependencies["bucket"] == [bucket.urn]
    # Shaped like the real engine's: no root-stack type in the chain.
    assert bucket.urn == "urn:pulumi:t::inferstack::aws:s3/bucket:Bucket::logs"
    assert bucket.parent == "urn:pulumi:t::inferstack::pulumi:pulumi:Stack::inferstack-t"


def test_realistic_outputs_and_source_positions(small) -> None:
    bucket = small.find("aws:s3/bucket:Bucket", "logs")
    assert bucket.outputs["arn"] == f"arn:aws:s3:::{bucket.outputs['bucket']}"
    assert bucket.source is not None and bucket.source.file.endswith("secret_program.py") and bucket.source.line == 10


def test_redact_handles_nested_values() -> None:
    assert redact({"a": [Secret("x"), 1.0, {"b": Secret({"c": 1})}]}) == {"a": ["[secret]", 1, {"b": "[secret]"}]}


@pytest.mark.parametrize("name", REFERENCE_STACKS)
def test_reference_stack_structure(name: str) -> None:
    rec = recording(name)
    urns = {r.urn for r in rec.resources}
    stack_urn = f"urn:pulumi:{name}::inferstack::pulumi:pulumi:Stack::inferstack-{name}"
    assert len(urns) == len(rec.resources), "URNs are unique"
    for r in rec.resources:
        if r.synthesized:
            continue
        # Every resource hangs off the stack or a recorded component.
        assert r.parent == stack_urn or r.parent in urns, r.urn
        if r.custom and r.package in ("aws", "gcp"):
            prov = rec.provider_of(r)
            assert prov is not None, r.urn
            region = prov.inputs.get("region")
            assert region or r.plain_inputs.get("region") or r.plain_inputs.get("location"), r.urn
    components = [r for r in rec.resources if not r.custom]
    assert components and all(r.type.startswith("inferstack:") for r in components)
    assert any(r.property_dependencies for r in rec.resources)


def test_invokes_answer_like_the_provider(small) -> None:
    account = small.find("aws:ssm/parameter:Parameter", "account")
    assert account.plain_inputs["value"] == "123456789012"
