"""Offline preview semantics like a real ``pulumi preview``: what a provider computes and the mock tables do not
supply is unknown (``apply``/``concat`` over it are skipped), data-source calls answer with their declared result
type (placeholders in the plain form, unknowns in the ``*_output`` form), ``Resource.get`` reads keep their id, and
URNs carry the whole parent type chain."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from inferstack.engine import UNKNOWN, ProgramError, is_unknown, run_program

CONFIG = {"aws:region": "eu-west-1"}


def _run(tmp_path: Path, source: str, config: dict | None = None):
    program = tmp_path / "__main__.py"
    program.write_text(textwrap.dedent(source))
    return run_program("dev", config or CONFIG, region="eu-west-1", program=program, pulumi_project="shapes")


def test_helm_release_status_is_unknown_and_concat_over_it_is_skipped(tmp_path: Path) -> None:
    rec = _run(tmp_path, """
        import pulumi
        import pulumi_kubernetes as k8s

        release = k8s.helm.v3.Release("redis", chart="redis", namespace="data",
                                      repository_opts={"repo": "https://charts.example.org"})
        host = pulumi.Output.concat(release.status.name, "-master.", release.status.namespace, ".svc")
        port = pulumi.Output.all(release.status.name, release.status.namespace).apply(lambda a: a[0] + a[1])
        k8s.core.v1.ConfigMap("conn", metadata={"namespace": "app"}, data={"host": host, "port": port})
        pulumi.export("host", host)
    """)
    cm = rec.find("kubernetes:core/v1:ConfigMap", "conn")
    assert is_unknown(cm.inputs["data"]["host"]) and is_unknown(cm.inputs["data"]["port"])
    assert is_unknown(rec.outputs["host"])
    release = rec.find("kubernetes:helm.sh/v3:Release", "redis")
    assert "status" not in release.outputs  # computed by the provider: unknown
    assert release.outputs["chart"] == "redis"  # inputs stay known


def test_supplied_outputs_stay_known(tmp_path: Path) -> None:
    rec = _run(tmp_path, """
        import pulumi
        import pulumi_aws as aws

        role = aws.iam.Role("app", assume_role_policy="{}")
        aws.sns.Topic("arn", display_name=pulumi.Output.concat("role=", role.arn))
        aws.sns.Topic("created", display_name=role.create_date.apply(lambda d: f"at {d}"))
    """)
    assert rec.find("aws:sns/topic:Topic", "arn").inputs["displayName"].startswith("role=arn:aws:iam::123456789012:role/")
    assert rec.find("aws:sns/topic:Topic", "created").inputs["displayName"] is UNKNOWN


def test_table_outputs_from_unknown_inputs_are_unknown(tmp_path: Path) -> None:
    rec = _run(tmp_path, """
        import pulumi_aws as aws
        import pulumi_kubernetes as k8s

        release = k8s.helm.v3.Release("r", chart="c")
        role = aws.iam.Role("app", name=release.status.name, assume_role_policy="{}")
        aws.sns.Topic("p", display_name=role.arn)
    """)
    role = rec.find("aws:iam/role:Role", "app")
    assert is_unknown(role.inputs["name"])
    assert "arn" not in role.outputs  # no ARN made up from an unknown name
    assert is_unknown(rec.find("aws:sns/topic:Topic", "p").inputs["displayName"])


def test_data_source_plain_form_answers_placeholders_of_the_result_type(tmp_path: Path) -> None:
    rec = _run(tmp_path, """
        import pulumi_aws as aws

        zone = aws.route53.get_zone(name="example.org")
        aws.route53.Record("www", zone_id=zone.zone_id, name="www." + zone.name, type="A", ttl=300, records=["192.0.2.1"])
    """)
    record = rec.find("aws:route53/record:Record", "www")
    assert record.inputs["name"] == "www.example.org"  # the argument given is echoed
    (lookup,) = [x for x in rec.lookups if x.token == "aws:route53/getZone:getZone"]
    assert lookup.kind == "invoke" and lookup.form == "plain"
    assert record.inputs["zoneId"] == lookup.placeholders["zoneId"]
    assert "zoneId" in lookup.placeholders and "name" not in lookup.placeholders
    assert rec.placeholder_count >= 1
    note = rec.placeholder_note()
    assert note is not None and note.startswith(f"{rec.placeholder_count} values are placeholders from data-source lookups")
    assert "aws:route53/getZone:getZone: " in note and "zoneId" in note


def test_data_source_output_form_is_unknown(tmp_path: Path) -> None:
    rec = _run(tmp_path, """
        import pulumi
        import pulumi_aws as aws

        ami = aws.ec2.get_ami_output(most_recent=True, owners=["amazon"],
                                     filters=[{"name": "name", "values": ["al2023-ami-*"]}])
        aws.ec2.Instance("web", ami=ami.id, instance_type="t3.micro")
        pulumi.export("ami", ami.id)
    """)
    assert is_unknown(rec.find("aws:ec2/instance:Instance", "web").inputs["ami"])
    (lookup,) = [x for x in rec.lookups if x.token == "aws:ec2/getAmi:getAmi"]
    assert lookup.form == "output" and not lookup.placeholders and "imageId" in lookup.unknown


def test_supplied_invokes_stay_known(tmp_path: Path) -> None:
    rec = _run(tmp_path, """
        import pulumi_aws as aws

        me = aws.get_caller_identity()
        aws.sns.Topic("acct", display_name=me.account_id)
        aws.sns.Topic("azs", display_name=aws.get_availability_zones_output().names.apply(",".join))
        aws.sns.Topic("tokyo", display_name=aws.get_availability_zones(region="ap-northeast-1").names[0])
    """)
    assert rec.find("aws:sns/topic:Topic", "tokyo").inputs["displayName"] == "ap-northeast-1a"
    assert rec.find("aws:sns/topic:Topic", "acct").inputs["displayName"] == "123456789012"
    assert rec.find("aws:sns/topic:Topic", "azs").inputs["displayName"] == "eu-west-1a,eu-west-1b,eu-west-1c"
    assert rec.placeholder_count == 0 and rec.placeholder_note() is None


def test_resource_get_reads_keep_the_id_and_leave_the_rest_unknown(tmp_path: Path) -> None:
    rec = _run(tmp_path, """
        import pulumi
        import pulumi_aws as aws

        vpc = aws.ec2.Vpc.get("shared", "vpc-0123456789abcdef0")
        aws.ec2.SecurityGroup("web", vpc_id=vpc.id, description=vpc.cidr_block.apply(lambda c: f"from {c}"))
    """)
    sg = rec.find("aws:ec2/securityGroup:SecurityGroup", "web")
    assert sg.inputs["vpcId"] == "vpc-0123456789abcdef0"
    assert is_unknown(sg.inputs["description"])
    (read,) = [x for x in rec.lookups if x.kind == "read"]
    assert read.token == "aws:ec2/vpc:Vpc" and read.name == "shared" and read.id == "vpc-0123456789abcdef0"
    assert read.urn == "urn:pulumi:dev::shapes::aws:ec2/vpc:Vpc::shared"
    assert all(r.type != "aws:ec2/vpc:Vpc" for r in rec.resources)  # a read is not a resource the program manages


def test_urns_qualify_the_whole_parent_type_chain(tmp_path: Path) -> None:
    rec = _run(tmp_path, """
        import pulumi
        import pulumi_aws as aws

        class Outer(pulumi.ComponentResource):
            def __init__(self, name):
                super().__init__("shapes:x:Outer", name)
                inner = pulumi.ComponentResource("shapes:x:Inner", "inner", opts=pulumi.ResourceOptions(parent=self))
                role = aws.iam.Role("role", assume_role_policy="{}", opts=pulumi.ResourceOptions(parent=inner))
                aws.iam.RolePolicy("pol", role=role.name, policy="{}", opts=pulumi.ResourceOptions(parent=role))

        Outer("o")
    """)
    pol = rec.find("aws:iam/rolePolicy:RolePolicy", "pol")
    assert pol.urn == ("urn:pulumi:dev::shapes::shapes:x:Outer$shapes:x:Inner$aws:iam/role:Role"
                       "$aws:iam/rolePolicy:RolePolicy::pol")
    assert rec.find("shapes:x:Outer", "o").urn == "urn:pulumi:dev::shapes::shapes:x:Outer::o"
    assert pol.parent == rec.find("aws:iam/role:Role", "role").urn


def test_docs_name_every_supplied_output_table_entry() -> None:
    """docs/engine.md says exactly which outputs are supplied: every table entry is named there."""
    from inferstack.engine.mocks import (
        ARGUMENT_INVOKES,
        AWS_RESOURCE_PREFIXES,
        AWS_RESOURCES,
        GCP_RESOURCES,
        INVOKES,
    )

    text = (Path(__file__).resolve().parents[2] / "docs" / "engine.md").read_text()
    missing = [t for t in [*AWS_RESOURCES, *GCP_RESOURCES, *INVOKES, *ARGUMENT_INVOKES] if f"`{t}`" not in text]
    missing += [p for p in AWS_RESOURCE_PREFIXES if f"`{p}*`" not in text]
    assert not missing, f"docs/engine.md does not name: {missing}"


def test_placeholders_follow_the_declared_types() -> None:
    """Pure: a result type's placeholder value has every field, of its declared type, deterministic."""
    from pulumi_aws.ec2 import GetAmiResult

    from inferstack.engine.results import fields, placeholder_result, result_type

    assert result_type("aws:ec2/getAmi:getAmi") is GetAmiResult
    assert result_type("nosuchpackage:x/getY:getY") is None
    made = placeholder_result(GetAmiResult, {"owners": ["amazon"], "mostRecent": True}, "seed")
    assert set(made.value) == set(fields(GetAmiResult))
    assert made.value["owners"] == ["amazon"] and made.value["mostRecent"] is True
    assert made.value["imageId"].startswith("placeholder-imageid-") and made.value["imageId"] == made.leaves["imageId"]
    assert made.value["sriovNetSupport"] == made.leaves["sriovNetSupport"]
    assert isinstance(made.value["blockDeviceMappings"], list) and len(made.value["blockDeviceMappings"]) == 1
    assert made.value["tags"] == {} and made.value["deprecationTime"].startswith("placeholder-")
    assert "owners" not in made.leaves and placeholder_result(GetAmiResult, {}, "seed").value["imageId"] == made.value["imageId"]


def test_both_forms_of_one_function_and_a_plain_call_inside_apply(tmp_path: Path) -> None:
    rec = _run(tmp_path, """
        import pulumi
        import pulumi_aws as aws

        later = aws.route53.get_zone_output(name="example.org")
        now = aws.route53.get_zone(name="example.org")
        bucket = aws.s3.Bucket("b")
        inside = bucket.bucket.apply(lambda b: aws.ec2.get_vpc(tags={"Bucket": b}).id)
        aws.sns.Topic("t", display_name=later.zone_id, tags={"now": now.zone_id, "inside": inside})
    """)
    forms = sorted((x.token, x.form) for x in rec.lookups)
    assert forms == [("aws:ec2/getVpc:getVpc", "plain"), ("aws:route53/getZone:getZone", "output"),
                     ("aws:route53/getZone:getZone", "plain")]
    topic = rec.find("aws:sns/topic:Topic", "t")
    assert is_unknown(topic.inputs["displayName"])
    assert topic.inputs["tags"]["now"].startswith("placeholder-zoneid-")
    assert topic.inputs["tags"]["inside"].startswith("placeholder-id-")


REFERENCE = """
    import pulumi
    import pulumi_kubernetes as k8s

    ref = pulumi.StackReference("infra", stack_name="acme/infra/dev")
    k8s.core.v1.ConfigMap("c", metadata={"namespace": ref.get_output("namespace")},
                          data={"bucket": ref.require_output("bucket")})
"""


def test_unlisted_stack_reference_stops_the_run_by_default(tmp_path: Path) -> None:
    with pytest.raises(ProgramError, match=r"StackReference 'acme/infra/dev'.*inferstack-offline:stackOutputs"):
        _run(tmp_path, REFERENCE)


def test_unlisted_stack_reference_outputs_can_be_unknown(tmp_path: Path) -> None:
    program = tmp_path / "__main__.py"
    program.write_text(textwrap.dedent(REFERENCE))
    rec = run_program("dev", CONFIG, region="eu-west-1", program=program, pulumi_project="shapes",
                      unknown_stack_references=True)
    cm = rec.find("kubernetes:core/v1:ConfigMap", "c")
    assert is_unknown(cm.inputs["metadata"]["namespace"]) and is_unknown(cm.inputs["data"]["bucket"])
    ref = _lookup_of(rec, "pulumi:pulumi:StackReference")
    assert ref.id == "acme/infra/dev" and "outputs" in ref.unknown


def _lookup_of(rec, token: str):
    (found,) = [x for x in rec.lookups if x.token == token]
    return found
