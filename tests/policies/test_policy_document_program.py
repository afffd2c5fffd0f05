"""End to end: a bucket policy built with ``aws.iam.get_policy_document`` is judged on the document it really is.

The offline engine answers ``aws:iam/getPolicyDocument`` as the provider computes it (from its arguments alone), so
``inferstack policy check --program`` sees the JSON the provider would write: a statement open to principal ``"*"``
with no restricting condition is a mandatory resource-policy-not-public finding (judged, not "not evaluated"), the
same statement conditioned on aws:PrincipalOrgID passes, and a Deny of aws:SecureTransport false from the same data
source satisfies s3-tls-only.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

PROGRAM = """
import pulumi_aws as aws


def bucket_policy(name, condition):
    bucket = aws.s3.BucketV2(name, bucket=f"acme-{name}")
    read = aws.iam.GetPolicyDocumentStatementArgs(
        sid="Read", actions=["s3:GetObject"], resources=[bucket.arn.apply(lambda a: a + "/*")],
        principals=[aws.iam.GetPolicyDocumentStatementPrincipalArgs(type="*", identifiers=["*"])],
        conditions=[condition] if condition else None)
    tls = aws.iam.GetPolicyDocumentStatementArgs(
        sid="TlsOnly", effect="Deny", actions=["s3:*"],
        resources=[bucket.arn, bucket.arn.apply(lambda a: a + "/*")],
        principals=[aws.iam.GetPolicyDocumentStatementPrincipalArgs(type="*", identifiers=["*"])],
        conditions=[aws.iam.GetPolicyDocumentStatementConditionArgs(
            test="Bool", variable="aws:SecureTransport", values=["false"])])
    doc = aws.iam.get_policy_document_output(statements=[read, tls])
    aws.s3.BucketPolicy(name, bucket=bucket.id, policy=doc.json)


bucket_policy("public", None)
bucket_policy("org", aws.iam.GetPolicyDocumentStatementConditionArgs(
    test="StringEquals", variable="aws:PrincipalOrgID", values=["o-abc123def4"]))
"""


def _check(tmp_path: Path) -> tuple[subprocess.CompletedProcess, list[dict]]:
    program = tmp_path / "__main__.py"
    program.write_text(textwrap.dedent(PROGRAM))
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    policy_config = tmp_path / "prod.json"
    subprocess.run([sys.executable, "-m", "inferstack", "policy", "config", "--environment", "prod",
                    "--allowed-region", "eu-west-1", "--out", str(policy_config)], check=True, capture_output=True)
    report = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-m", "inferstack", "policy", "check", "--program", str(program),
                           "--config", str(tmp_path / "Pulumi.dev.yaml"), "--policy-config", str(policy_config),
                           "--environment", "prod", "--json", str(report)], capture_output=True, text=True)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc, json.loads(report.read_text())["findings"]


def test_public_statement_from_get_policy_document_is_found_and_org_condition_passes(tmp_path: Path) -> None:
    proc, findings = _check(tmp_path)
    assert proc.returncode == 1, proc.stderr
    on_policies = {}
    for f in findings:
        if f["resource"]["type"] == "aws:s3/bucketPolicy:BucketPolicy":
            on_policies.setdefault(f["resource"]["name"], []).append(f)
    public = [(f["policy"], f["enforcementLevel"]) for f in on_policies.get("public", [])]
    assert public == [("resource-policy-not-public", "mandatory")], on_policies
    [finding] = on_policies["public"]
    assert not finding.get("notEvaluated") and "statement Read allows principal '*'" in finding["message"]
    assert on_policies.get("org", []) == [], on_policies["org"]
    # the Deny statement was read from the document too: neither bucket lacks a TLS-only policy
    assert not [f for f in findings if f["policy"] == "s3-tls-only"], findings
    # nothing was left unjudged for want of the document
    assert not [f for f in findings if "not evaluated" in f["message"]], findings
