"""S3 buckets by construction (#25): every bucket type of the SDK (family aws-s3-bucket: Bucket, BucketV2,
DirectoryBucket), every split-out default-encryption type (aws-s3-bucket-encryption), every ACL-bearing type
(aws-s3-acl: bucket in-line ACLs and grants, BucketAcl/BucketAclV2, objects) and every general purpose bucket and
split-out versioning type (aws-s3-bucket-versioning) is judged by the S3 rules. Fixtures
both ways through the real pulumi_policy objects (harness of tests/policies/test_rules.py), and the new-user
program of the issue (BucketV2 + BucketAclV2 public-read) end to end through ``policy check --program``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from inferstack.engine import UNKNOWN
from inferstack.policies.families import members
from tests.policies.test_rules import DELETE, KEY, Case, Res, _findings, case_tests, doc, one

NAME = "inferstack-models-1a2b"
V2 = "aws:s3/bucketV2:BucketV2"
DIRECTORY = "aws:s3/directoryBucket:DirectoryBucket"
DIR_NAME = "inferstack-express--euw1-az1--x-s3"
SSE_V2 = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
ACL_V2 = "aws:s3/bucketAclV2:BucketAclV2"
ACL_V1 = "aws:s3/bucketAcl:BucketAcl"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
OWNER = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"

KMS_DEFAULT = {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY}
BUCKET_V2 = Res(V2, {"bucket": NAME, "region": "eu-west-1"}, name="models")
DIR_BUCKET = Res(DIRECTORY, {"bucket": DIR_NAME, "region": "eu-west-1", "dataRedundancy": "SingleAvailabilityZone",
                             "type": "Directory", "location": {"name": "euw1-az1", "type": "AvailabilityZone"}},
                 name="express")
SSE_V2_RES = Res(SSE_V2, {"bucket": NAME, "region": "eu-west-1",
                          "rules": [{"applyServerSideEncryptionByDefault": KMS_DEFAULT, "bucketKeyEnabled": True}]},
                 name="models-sse")
DIR_SSE = Res("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
              {"bucket": DIR_NAME, "region": "eu-west-1",
               "rules": [{"applyServerSideEncryptionByDefault": KMS_DEFAULT, "bucketKeyEnabled": True}]},
              name="express-sse")
#: BucketV2's in-line (deprecated) default encryption: lists all the way down.
INLINE_V2 = {"bucket": NAME, "region": "eu-west-1", "serverSideEncryptionConfigurations": [
    {"rules": [{"applyServerSideEncryptionByDefaults": [KMS_DEFAULT], "bucketKeyEnabled": True}]}]}
#: Bucket's in-line (deprecated) default encryption: one block, one rule.
INLINE_V1 = {"bucket": NAME, "region": "eu-west-1", "serverSideEncryptionConfiguration": {
    "rule": {"applyServerSideEncryptionByDefault": KMS_DEFAULT, "bucketKeyEnabled": True}}}
PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
PAB = Res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
          {"bucket": NAME, "region": "eu-west-1", **{f: True for f in PAB_FLAGS}}, name="models-public-access")
TLS = {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
       "Resource": [f"arn:aws:s3:::{NAME}", f"arn:aws:s3:::{NAME}/*"],
       "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
DIR_TLS = {**TLS, "Action": "s3express:*", "Resource": f"arn:aws:s3express:eu-west-1:111122223333:bucket/{DIR_NAME}"}
POLICY = Res("aws:s3/bucketPolicy:BucketPolicy", {"bucket": NAME, "policy": doc(TLS)}, name="models-tls")
DIR_POLICY = Res("aws:s3/bucketPolicy:BucketPolicy", {"bucket": DIR_NAME, "policy": doc(DIR_TLS)}, name="express-tls")
#: A BucketAclV2 granting the owner full control and the log delivery group write (a logging target's ACL).
GRANTS = {"owner": {"id": OWNER}, "grants": [
    {"grantee": {"type": "CanonicalUser", "id": OWNER}, "permission": "FULL_CONTROL"},
    {"grantee": {"type": "Group", "uri": LOG_DELIVERY}, "permission": "WRITE"}]}
GRANT_URI = (0, "props", "accessControlPolicy", "grants", 1, "grantee", "uri")

AUDIT = "audit-logs-1a2b"
TRAIL = Res("aws:cloudtrail/trail:Trail", {"s3BucketName": AUDIT, "isMultiRegionTrail": True,
                                           "enableLogFileValidation": True, "kmsKeyId": KEY}, name="trail")
AUDIT_V2 = Res(V2, {"bucket": AUDIT, "region": "eu-west-1"}, name="audit")
AUDIT_LOGGING = Res("aws:s3/bucketLoggingV2:BucketLoggingV2",
                    {"bucket": AUDIT, "targetBucket": "access-logs-1a2b", "targetPrefix": "audit/"}, name="audit-logging")

VERSIONING_V2 = "aws:s3/bucketVersioningV2:BucketVersioningV2"
VERSIONING_V1 = "aws:s3/bucketVersioning:BucketVersioning"
#: A split-out versioning configuration, Enabled; MFA delete off (CIS AWS 2.1.3 is manual and root-only: not required).
VERSIONS = Res(VERSIONING_V2, {"bucket": NAME, "region": "eu-west-1",
                               "versioningConfiguration": {"status": "Enabled", "mfaDelete": "Disabled"}},
               name="models-versioning")
STATUS = (1, "props", "versioningConfiguration", "status")
BUCKET_V1 = Res("aws:s3/bucket:Bucket", {"bucket": NAME, "region": "eu-west-1"}, name="models")

CASES = [
    # ---------------------------------------------------------- versioning: every general purpose bucket type
    Case("s3v2-no-versioning", "s3-bucket-versioning", (BUCKET_V2, VERSIONS), (1,), DELETE),
    Case("s3v2-versioning-names-another-bucket", "s3-bucket-versioning", (BUCKET_V2, VERSIONS), (1, "props", "bucket"),
         "logs-1a2b"),
    Case("s3v2-versioning-no-status", "s3-bucket-versioning", (BUCKET_V2, VERSIONS), STATUS, DELETE, flagged=1),
    *[Case(f"{b.type.rsplit(':', 1)[1]}-versioning-{status.lower()}-{t.rsplit(':', 1)[1]}", "s3-bucket-versioning",
           (b, Res(t, VERSIONS.props, name="models-versioning")), STATUS, status, flagged=1)
      for b in (BUCKET_V1, BUCKET_V2) for t in (VERSIONING_V1, VERSIONING_V2) for status in ("Suspended", "Disabled")],
    Case("s3-inline-versioning-off", "s3-bucket-versioning",
         one("aws:s3/bucket:Bucket", {"bucket": NAME, "versioning": {"enabled": True, "mfaDelete": False}}),
         (0, "props", "versioning", "enabled"), False),
    Case("s3-inline-versioning-removed", "s3-bucket-versioning",
         one("aws:s3/bucket:Bucket", {"bucket": NAME, "versioning": {"enabled": True}}), (0, "props", "versioning"),
         DELETE),
    Case("s3v2-inline-versionings-off", "s3-bucket-versioning", one(V2, {"bucket": NAME, "versionings": [{"enabled": True}]}),
         (0, "props", "versionings", 0, "enabled"), False),
    Case("s3-inline-on-split-out-suspended", "s3-bucket-versioning",
         (Res("aws:s3/bucket:Bucket", {"bucket": NAME, "versioning": {"enabled": True}}, name="models"), VERSIONS),
         STATUS, "Suspended", flagged=1),
    Case("s3-split-out-on-inline-off", "s3-bucket-versioning",
         (Res("aws:s3/bucket:Bucket", {"bucket": NAME}, name="models"), VERSIONS), (0, "props", "versioning"),
         {"enabled": False}),
    # Object Lock enables versioning for good (it can no longer be suspended)
    Case("s3v2-object-lock-removed", "s3-bucket-versioning", one(V2, {"bucket": NAME, "objectLockEnabled": True}),
         (0, "props", "objectLockEnabled"), False),

    # ---------------------------------------------------------- encryption: every bucket type, every config type
    Case("s3v2-no-sse", "s3-bucket-sse-kms", (BUCKET_V2, SSE_V2_RES), (1,), DELETE),
    Case("s3v2-sse-v2-aes256", "s3-bucket-sse-kms", (BUCKET_V2, SSE_V2_RES),
         (1, "props", "rules", 0, "applyServerSideEncryptionByDefault", "sseAlgorithm"), "AES256", flagged=1),
    Case("s3v2-sse-v2-other-bucket", "s3-bucket-sse-kms", (BUCKET_V2, SSE_V2_RES), (1, "props", "bucket"), "logs"),
    Case("s3v2-inline-sse-aes256", "s3-bucket-sse-kms", one(V2, INLINE_V2),
         (0, "props", "serverSideEncryptionConfigurations", 0, "rules", 0, "applyServerSideEncryptionByDefaults", 0,
          "sseAlgorithm"), "AES256"),
    Case("s3v2-inline-sse-removed", "s3-bucket-sse-kms", one(V2, INLINE_V2),
         (0, "props", "serverSideEncryptionConfigurations"), DELETE),
    Case("s3-inline-sse-aws-managed-key", "s3-bucket-sse-kms", one("aws:s3/bucket:Bucket", INLINE_V1),
         (0, "props", "serverSideEncryptionConfiguration", "rule", "applyServerSideEncryptionByDefault",
          "kmsMasterKeyId"), "alias/aws/s3"),
    Case("s3-directory-no-sse", "s3-bucket-sse-kms", (DIR_BUCKET, DIR_SSE), (1,), DELETE),
    # ---------------------------------------------------------- public access block, TLS, protection, residency
    Case("s3v2-no-pab", "s3-no-public-access", (BUCKET_V2, PAB), (1,), DELETE),
    Case("s3v2-pab-flag-off", "s3-no-public-access", (BUCKET_V2, PAB), (1, "props", "ignorePublicAcls"), False,
         flagged=1),
    Case("s3v2-no-tls-policy", "s3-tls-only", (BUCKET_V2, POLICY), (1,), DELETE),
    Case("s3v2-inline-policy-allows-http", "s3-tls-only", one(V2, {"bucket": NAME, "policy": doc(TLS)}),
         (0, "props", "policy", "Statement", 0, "Condition", "Bool", "aws:SecureTransport"), "true"),
    Case("s3-directory-no-tls-policy", "s3-tls-only", (DIR_BUCKET, DIR_POLICY), (1, "props", "bucket"), "other--x-s3"),
    *[Case(f"prod-unprotected-{t.rsplit(':', 1)[1]}", "prod-stateful-protected",
           one(t, {"bucket": NAME}, opts={"protect": True}), (0, "opts", "protect"), False)
      for t in (V2, DIRECTORY)],
    Case("s3-directory-region-outside", "region-residency", (DIR_BUCKET,), (0, "props", "region"), "us-east-1"),
    # ---------------------------------------------------------- CloudTrail's bucket keeps access logs
    Case("trail-bucket-v2-no-access-logging", "cloudtrail-bucket-access-logging", (TRAIL, AUDIT_V2, AUDIT_LOGGING),
         (2,), DELETE, flagged=1),
    Case("trail-bucket-logging-names-another-bucket", "cloudtrail-bucket-access-logging",
         (TRAIL, AUDIT_V2, AUDIT_LOGGING), (2, "props", "bucket"), "other-1a2b", flagged=1),
    Case("trail-bucket-logging-v1-no-target", "cloudtrail-bucket-access-logging",
         (TRAIL, AUDIT_V2, Res("aws:s3/bucketLogging:BucketLogging", AUDIT_LOGGING.props)),
         (2, "props", "targetBucket"), DELETE, flagged=1),
    Case("trail-bucket-inline-logging-removed", "cloudtrail-bucket-access-logging",
         (TRAIL, Res("aws:s3/bucket:Bucket", {"bucket": AUDIT, "logging": {"targetBucket": "access-logs-1a2b"}})),
         (1, "props", "logging"), DELETE, flagged=1),
    # ---------------------------------------------------------- ACLs: canned and grants, on every ACL-bearing type
    *[Case(f"acl-{acl}-{t.rsplit(':', 1)[1]}", "s3-acl-not-public", one(t, {"bucket": NAME, "acl": "private"}),
           (0, "props", "acl"), acl)
      for t in (ACL_V2, ACL_V1, V2, "aws:s3/bucket:Bucket")
      for acl in ("public-read", "public-read-write", "authenticated-read")],
    Case("acl-object-public-read", "s3-acl-not-public",
         one("aws:s3/bucketObjectv2:BucketObjectv2", {"bucket": NAME, "key": "model.bin", "acl": "private"}),
         (0, "props", "acl"), "public-read"),
    *[Case(f"acl-grant-{who.rsplit('/', 1)[1]}-{t.rsplit(':', 1)[1]}", "s3-acl-not-public",
           one(t, {"bucket": NAME, "accessControlPolicy": GRANTS}), GRANT_URI, who)
      for t in (ACL_V2, ACL_V1) for who in (ALL_USERS, AUTHENTICATED)],
    Case("acl-inline-grant-all-users", "s3-acl-not-public",
         one(V2, {"bucket": NAME, "grants": [{"type": "CanonicalUser", "id": OWNER, "permissions": ["FULL_CONTROL"]},
                                             {"type": "Group", "uri": LOG_DELIVERY, "permissions": ["WRITE"]}]}),
         (0, "props", "grants", 1, "uri"), ALL_USERS),
    Case("acl-object-copy-grant-all-users", "s3-acl-not-public",
         one("aws:s3/objectCopy:ObjectCopy", {"bucket": NAME, "key": "b", "source": "a/b", "grants": [
             {"type": "CanonicalUser", "id": OWNER, "permissions": ["READ"]}]}),
         (0, "props", "grants", 0), {"type": "Group", "uri": ALL_USERS, "permissions": ["READ"]}),
]


test_compliant_fixture_passes, test_one_field_change_violates = case_tests(CASES)


def test_bucket_family_is_every_bucket_type_of_the_sdk() -> None:
    """Found by predicate, not listed: the general-purpose buckets (both generations) and directory buckets; the
    Bucket<Thing> configuration types and objects are not buckets."""
    buckets = set(members("aws-s3-bucket"))
    assert {"aws:s3/bucket:Bucket", V2, DIRECTORY} <= buckets
    assert not any("Acl" in t or "Object" in t or "Configuration" in t or "Policy" in t for t in buckets)
    assert {"aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            SSE_V2} <= set(members("aws-s3-bucket-encryption"))
    assert {ACL_V1, ACL_V2, V2, "aws:s3/bucket:Bucket"} <= set(members("aws-s3-acl"))


def test_versioning_family_is_every_general_purpose_bucket_and_versioning_type() -> None:
    """By predicate: the general purpose bucket types (in-line versioning, Object Lock) and the split-out
    versioning types; directory buckets, which S3 cannot version, by what they are (a bucket placed in one zone)."""
    versioning = members("aws-s3-bucket-versioning")
    assert {"aws:s3/bucket:Bucket", V2, VERSIONING_V1, VERSIONING_V2} <= set(versioning)
    assert DIRECTORY in members("aws-s3-bucket") and DIRECTORY not in versioning
    assert set(members("aws-s3-bucket")) - set(versioning) == {DIRECTORY}
    assert versioning[VERSIONING_V2] == ("versioning_configuration",)


def test_directory_buckets_need_no_versioning_and_unknown_buckets_are_not_evaluated() -> None:
    assert _findings((DIR_BUCKET,), "s3-bucket-versioning") == []
    assert [f.name for f in _findings((DIR_BUCKET, BUCKET_V2), "s3-bucket-versioning")] == ["models"]
    unknown = Res(VERSIONING_V2, {**VERSIONS.props, "bucket": UNKNOWN}, name="models-versioning", depends_on=(0,))
    found = _findings((BUCKET_V2, unknown), "s3-bucket-versioning")
    assert [(f.enforcement_level, f.not_evaluated) for f in found] == [("advisory", True)], found
    # a bucket already found versioned is judged whatever another configuration names
    assert _findings((BUCKET_V2, VERSIONS, unknown), "s3-bucket-versioning") == []


def test_directory_buckets_need_no_public_access_block() -> None:
    """S3 keeps a directory bucket's public access block on and rejects PutPublicAccessBlock for it."""
    assert _findings((DIR_BUCKET,), "s3-no-public-access") == []
    assert [f.name for f in _findings((DIR_BUCKET, BUCKET_V2), "s3-no-public-access")] == ["models"]


def test_private_canned_acls_and_log_delivery_grants_pass() -> None:
    for acl in ("private", "bucket-owner-full-control", "log-delivery-write", "aws-exec-read", "bucket-owner-read"):
        assert _findings(one(ACL_V2, {"bucket": NAME, "acl": acl}), "s3-acl-not-public") == [], acl
    unknown = _findings(one(ACL_V2, {"bucket": NAME, "acl": UNKNOWN}), "s3-acl-not-public")
    assert [f.enforcement_level for f in unknown] == ["advisory"], unknown  # not evaluated, never passed


def test_sse_config_for_a_bucket_v2_unknown_at_preview_is_not_evaluated() -> None:
    unknown = Res(SSE_V2, {**SSE_V2_RES.props, "bucket": UNKNOWN}, name="models-sse", depends_on=(0,))
    found = _findings((BUCKET_V2, unknown), "s3-bucket-sse-kms")
    assert [(f.enforcement_level, f.not_evaluated) for f in found] == [("advisory", True)], found


def test_only_the_trails_bucket_needs_access_logging() -> None:
    assert _findings((TRAIL, AUDIT_V2, AUDIT_LOGGING, BUCKET_V2), "cloudtrail-bucket-access-logging") == []
    assert _findings((BUCKET_V2,), "cloudtrail-bucket-access-logging") == []
    unknown = Res(TRAIL.type, {**TRAIL.props, "s3BucketName": UNKNOWN}, name="trail")
    found = _findings((unknown, AUDIT_V2), "cloudtrail-bucket-access-logging")
    assert [(f.enforcement_level, f.not_evaluated) for f in found] == [("advisory", True)], found


# ---------------------------------------------------------------- end to end: the new user's program

PROGRAM = '''\
import pulumi_aws as aws

bucket = aws.s3.BucketV2("data", bucket="team-data-1a2b")
aws.s3.BucketAclV2("data-acl", bucket=bucket.id, acl="public-read")
'''


def test_bucket_v2_with_a_public_acl_program_fails_policy_check(tmp_path: Path) -> None:
    """The issue's program: ``policy check --program`` with a generated prod policy config exits 1 with the S3
    findings a ``Bucket`` gets, and the ACL's own finding."""
    program = tmp_path / "__main__.py"
    program.write_text(PROGRAM)
    config = tmp_path / "Pulumi.dev.yaml"
    config.write_text(yaml.safe_dump({"config": {"aws:region": "eu-west-1"}}))
    prod = tmp_path / "prod.json"
    run = [sys.executable, "-m", "inferstack", "policy"]
    made = subprocess.run([*run, "config", "--environment", "prod", "--allowed-region", "eu-west-1", "--out", str(prod)],
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    report = tmp_path / "report.json"
    proc = subprocess.run([*run, "check", "--program", str(program), "--config", str(config), "--policy-config",
                           str(prod), "--environment", "prod", "--json", str(report)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    found = {(f["policy"], f["resource"]["type"]) for f in json.loads(report.read_text())["findings"]
             if f["enforcementLevel"] == "mandatory"}
    assert {("s3-bucket-sse-kms", V2), ("s3-tls-only", V2), ("s3-no-public-access", V2),
            ("prod-stateful-protected", V2), ("s3-acl-not-public", ACL_V2)} <= found, found
