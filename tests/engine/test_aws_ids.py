"""Ids the offline engine answers as the AWS provider does: a bucket's id IS its bucket name, for every bucket type,
so a split-out configuration linked through ``bucket=b.id`` names the bucket exactly as it does in a real stack."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from inferstack.engine import run_program
from policies import families

BUCKET_TYPES = sorted(families.members("aws-s3-bucket"))


def _program(token: str) -> str:
    module, cls = token.split(":")[1].split("/")[0], token.rsplit(":", 1)[1]
    extra = ', location={"name": "euw1-az1", "type": "AvailabilityZone"}' if cls == "DirectoryBucket" else ""
    named = "acme-ids--euw1-az1--x-s3" if cls == "DirectoryBucket" else "acme-ids"
    auto = "" if cls == "DirectoryBucket" else f"""
        auto = aws.{module}.{cls}("auto")
        aws.s3.BucketPublicAccessBlock("auto-pab", bucket=auto.id, block_public_acls=True)
    """
    return textwrap.dedent(f"""
        import pulumi_aws as aws

        named = aws.{module}.{cls}("named", bucket="{named}"{extra})
        aws.s3.BucketPublicAccessBlock("named-pab", bucket=named.id, block_public_acls=True)
        aws.s3.BucketPolicy("named-policy", bucket=named.bucket, policy="{{}}")
    """) + textwrap.dedent(auto)


def test_every_bucket_type_is_covered() -> None:
    assert {"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2", "aws:s3/directoryBucket:DirectoryBucket"} <= set(BUCKET_TYPES)


@pytest.mark.parametrize("token", BUCKET_TYPES)
def test_bucket_id_is_its_name(tmp_path: Path, token: str) -> None:
    program = tmp_path / "__main__.py"
    program.write_text(_program(token))
    rec = run_program("dev", {"aws:region": "eu-west-1"}, region="eu-west-1", program=program, pulumi_project="ids")
    named = rec.find(token, "named")
    name = named.outputs["bucket"]
    assert name.startswith("acme-ids")
    assert rec.find("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "named-pab").inputs["bucket"] == name
    assert rec.find("aws:s3/bucketPolicy:BucketPolicy", "named-policy").inputs["bucket"] == name
    assert name in named.outputs["arn"]
    if token.endswith(":DirectoryBucket"):
        assert named.outputs["arn"] == f"arn:aws:s3express:eu-west-1:123456789012:bucket/{name}"
        return
    assert named.outputs["arn"] == f"arn:aws:s3:::{name}"
    auto = rec.find(token, "auto").outputs["bucket"]
    assert auto.startswith("auto-") and auto != "auto"
    assert rec.find("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "auto-pab").inputs["bucket"] == auto


def test_adopted_default_ec2_resources_have_the_id_of_what_they_adopt(tmp_path: Path) -> None:
    """A DefaultVpc is the region's default VPC: its id is a ``vpc-`` id a FlowLog's vpc_id names, as in AWS."""
    program = tmp_path / "__main__.py"
    program.write_text(textwrap.dedent("""
        import pulumi_aws as aws

        vpc = aws.ec2.DefaultVpc("default")
        aws.ec2.FlowLog("flow", vpc_id=vpc.id, traffic_type="ALL", log_destination="arn:aws:s3:::logs",
                        log_destination_type="s3")
        aws.ec2.DefaultSecurityGroup("default-sg", vpc_id=vpc.id)
    """))
    rec = run_program("dev", {"aws:region": "eu-west-1"}, region="eu-west-1", program=program, pulumi_project="ids")
    vpc_id = rec.find("aws:ec2/flowLog:FlowLog", "flow").inputs["vpcId"]
    assert vpc_id.startswith("vpc-")
    assert rec.find("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "default-sg").inputs["vpcId"] == vpc_id
