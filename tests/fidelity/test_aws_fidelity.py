"""Fidelity to real clouds (AWS): every enum-like value the AWS recordings declare is one AWS accepts (botocore's
shipped service models, plus documented sets botocore does not model), and every IAM policy document is well formed
with real service prefixes and condition operators.

Recordings: the AWS reference stacks, the AWS examples, and generated variations (other allowed regions, every AWS
accelerator kind, the longest accepted stack name). See ``aws_fidelity.RECORDINGS``."""

from __future__ import annotations

import pytest

from inferstack.config import ConfigError, read_stack_file
from inferstack.load import load_stack
from tests.fidelity import aws_fidelity as fx

KEYS = sorted(fx.RECORDINGS)


def test_enum_table_resolves_against_botocore() -> None:
    """Each table row names a real botocore enum shape (or a non-empty documented set)."""
    for rule in fx.ENUM_RULES:
        assert rule.allowed(), rule


@pytest.mark.parametrize("key", KEYS)
def test_enum_values_are_ones_aws_accepts(key: str) -> None:
    checked, findings, _ = fx.check_enums(fx.recording(key))
    print(f"{key}: {checked} enum/range values checked")
    assert not findings, "\n".join(map(str, findings))


def test_every_exercised_table_row_sees_a_value() -> None:
    """A row no recording reaches is a dead check (renamed input, moved resource): fail rather than pass vacuously."""
    seen: set[int] = set()
    for key in KEYS:
        seen |= fx.check_enums(fx.recording(key))[2]
    dead = [f"{r.type} {r.path}" for i, r in enumerate(fx.ENUM_RULES) if r.exercised and i not in seen]
    assert not dead, dead


def test_every_aws_accelerator_kind_reaches_a_node_pool() -> None:
    rec = fx.recording("every-aws-accelerator-kind")
    pools = [r for r in rec.resources if r.type == fx.NODE_POOL]
    kinds = {r.inputs["metadata"]["labels"]["inferstack.io/accelerator"] for r in pools}
    assert kinds == set(fx.kinds_for(fx.Cloud.AWS))
    types = [
        v
        for r in pools
        for _, v in fx.walk(r.inputs, f"spec.template.spec.requirements[{fx.INSTANCE_TYPE_LABEL}]")
    ]
    assert types and set(types) <= fx.enum_values("ec2", "InstanceType")


def test_variations_really_vary() -> None:
    """The region variations declare resources in their region (not a silently ignored override)."""
    for key, region in (("prod@eu-central-1", "eu-central-1"), ("staging@us-east-1", "us-east-1")):
        zones = {
            v
            for r in fx.recording(key).resources
            if r.type == "aws:ec2/subnet:Subnet"
            for v in [r.inputs.get("availabilityZone")]
        }
        assert zones and all(z.startswith(region) for z in zones), (key, zones)


@pytest.mark.parametrize("key", KEYS)
def test_iam_policy_documents_are_valid(key: str) -> None:
    report = fx.check_policies(fx.recording(key))
    print(
        f"{key}: {report.documents} documents, {report.statements} statements, {report.actions} actions, "
        f"{report.conditions} condition operators"
    )
    for w in report.warnings:
        print("WARNING", w)
    assert not report.errors, "\n".join(report.errors)


def test_the_aws_stacks_declare_policy_documents() -> None:
    """Guard: the policy walker finds the role, inline, bucket, queue and key policies."""
    rec = fx.recording("stack-prod")
    types = {where.split("::")[0] for where, _, _ in fx.policy_documents(rec)}
    assert {
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:sqs/queuePolicy:QueuePolicy",
        "aws:kms/keyPolicy:KeyPolicy",
    } <= types, types


@pytest.mark.parametrize("key", KEYS)
def test_event_patterns_name_real_sources(key: str) -> None:
    _, errors = fx.check_event_patterns(fx.recording(key))
    assert not errors, errors


# ------------------------------------------------------------------ the checkers themselves catch what they claim


def test_enum_checker_reports_a_bad_value_with_nearest_allowed() -> None:
    class R:
        type, name = "aws:ec2/launchTemplate:LaunchTemplate", "lt"
        inputs = {
            "instanceType": "g6.xlarg",
            "blockDeviceMappings": [{"ebs": {"volumeType": "gp4"}}],
            "metadataOptions": {"httpTokens": "required"},
        }

    class Rec:
        resources = [R()]

    _, findings, _ = fx.check_enums(Rec())  # type: ignore[arg-type]
    by_path = {f.path: f for f in findings}
    assert set(by_path) == {"instanceType", "blockDeviceMappings[0].ebs.volumeType"}
    assert "g6.xlarge" in by_path["instanceType"].nearest
    assert "gp3" in by_path["blockDeviceMappings[0].ebs.volumeType"].nearest


def test_retention_days_checker_rejects_undocumented_values() -> None:
    class R:
        type, name = "aws:cloudwatch/logGroup:LogGroup", "lg"
        inputs = {"retentionInDays": 100.0}

    class Rec:
        resources = [R()]

    _, findings, _ = fx.check_enums(Rec())  # type: ignore[arg-type]
    assert len(findings) == 1 and 90 in findings[0].nearest and 120 in findings[0].nearest


@pytest.mark.parametrize(
    "doc,needle",
    [
        (
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s4:GetObject", "Resource": "*"}]}',
            "unknown service prefix",
        ),
        (
            '{"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}',
            "Version",
        ),
        (
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Permit", "Action": "s3:GetObject", "Resource": "*"}]}',
            "Effect",
        ),
        (
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", '
            '"Condition": {"StringEqual": {"aws:x": "y"}}}]}',
            "condition operator",
        ),
        (
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "GetObject", "Resource": "*"}]}',
            "service:Action",
        ),
        ("{not json", "not JSON"),
    ],
)
def test_policy_checker_rejects(doc: str, needle: str) -> None:
    report = fx.PolicyReport()
    fx.check_policy("t", doc, report)
    assert any(needle in e for e in report.errors), report.errors


@pytest.mark.parametrize(
    "op",
    [
        "StringEquals",
        "StringLikeIfExists",
        "ForAllValues:StringLike",
        "ForAnyValue:StringEqualsIfExists",
        "Null",
        "ArnLike",
        "NumericLessThan",
    ],
)
def test_condition_qualifiers_accepted(op: str) -> None:
    assert fx.condition_operator_ok(op)


@pytest.mark.parametrize("op", ["NullIfExists", "ForAllValues:Nope", "StringEqual", "stringequals"])
def test_condition_operators_rejected(op: str) -> None:
    assert not fx.condition_operator_ok(op)


# ------------------------------------------------------------------ real problems


def test_a_too_long_stack_name_is_a_config_error() -> None:
    f = read_stack_file(fx.STACKS_DIR / "Pulumi.prod.yaml")
    with pytest.raises(ConfigError, match="stack: stack name 'prod-eu-west-inference-platform1-blue-green': use 1-32"):
        load_stack(fx.LONG_STACK_NAME + "-blue-green", dict(f.config), secret_keys=f.secret_keys)
