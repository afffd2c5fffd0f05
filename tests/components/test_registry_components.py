"""Registry components under the offline engine: encryption, access scope, residency, retention; pure policy builders."""

from __future__ import annotations

import json

import pytest

from inferstack.components.aws.identity import irsa_trust
from inferstack.components.aws.registry import reader_policy, serving_subjects, writer_policy
from inferstack.components.platform import SERVING_SERVICE_ACCOUNT
from inferstack.engine import Recording
from tests.conftest import AWS_STACKS, GCP_STACKS, recording, stack_config


def _one(rec: Recording, type_token: str, suffix: str):
    found = [r for r in rec.by_type(type_token) if r.name.endswith(suffix)]
    assert len(found) == 1, [r.name for r in rec.by_type(type_token)]
    return found[0]


def _region(rec: Recording, r) -> str:
    return r.inputs.get("region") or rec.provider_of(r).inputs["region"]


def _statements(policy: str) -> list[dict]:
    return json.loads(policy)["Statement"]


def _as_list(v) -> list:
    return v if isinstance(v, list) else [v]


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_aws_bucket_encrypted_private_versioned_in_region(stack):
    rec, cfg = recording(stack), stack_config(stack)
    bucket = _one(rec, "aws:s3/bucket:Bucket", "-registry-models")
    assert _region(rec, bucket) == cfg.region
    bname = bucket.outputs["bucket"]
    kms_key = rec.by_type("aws:kms/key:Key")[0].outputs["arn"]

    def for_bucket(t):
        return [r for r in rec.by_type(t) if r.inputs.get("bucket") == bname]

    (sse,) = for_bucket("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    rule = sse.inputs["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": kms_key}
    assert rule["bucketKeyEnabled"] is True
    (ver,) = for_bucket("aws:s3/bucketVersioning:BucketVersioning")
    assert ver.inputs["versioningConfiguration"]["status"] == "Enabled"
    (pab,) = for_bucket("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert all(pab.inputs[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    (own,) = for_bucket("aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert own.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    (pol,) = for_bucket("aws:s3/bucketPolicy:BucketPolicy")
    deny = _statements(pol.inputs["policy"])[0]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    (lc,) = for_bucket("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    days = lc.inputs["rules"][0]["noncurrentVersionExpiration"]["noncurrentDays"]
    assert days == cfg.settings.registry.noncurrent_version_days
    for r in (sse, ver, pab, own, pol, lc):
        assert _region(rec, r) == cfg.region

    table = _one(rec, "aws:dynamodb/table:Table", "-registry-model-versions")
    assert table.inputs["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": kms_key}
    assert table.inputs["pointInTimeRecovery"]["enabled"] is True
    assert (table.inputs["hashKey"], table.inputs["rangeKey"]) == ("model", "item")
    assert _region(rec, table) == cfg.region
    for r in (bucket, table):
        assert r.retain_on_delete is cfg.is_prod and r.protect is cfg.is_prod
    assert bucket.inputs["forceDestroy"] is False or not cfg.is_prod


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_aws_reader_trusts_only_serving_accounts_of_model_namespaces(stack):
    rec, cfg = recording(stack), stack_config(stack)
    reader = _one(rec, "aws:iam/role:Role", "-registry-model-reader")
    (st,) = _statements(reader.inputs["assumeRolePolicy"])
    oidc = rec.by_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")[0]
    assert st["Principal"] == {"Federated": oidc.outputs["arn"]}
    assert st["Action"] == "sts:AssumeRoleWithWebIdentity"
    cond = st["Condition"]["StringEquals"]
    sub = next(v for k, v in cond.items() if k.endswith(":sub"))
    aud = next(v for k, v in cond.items() if k.endswith(":aud"))
    namespaces = cfg.team_namespaces
    assert sub == [f"system:serviceaccount:{ns}:{SERVING_SERVICE_ACCOUNT}" for ns in namespaces]
    assert aud == "sts.amazonaws.com"
    (policy,) = [r for r in rec.by_type("aws:iam/rolePolicy:RolePolicy") if r.name.endswith("-registry-model-reader-policy")]
    actions = {a for s in _statements(policy.inputs["policy"]) for a in _as_list(s["Action"])}
    assert actions == {"s3:ListBucket", "s3:GetObject", "s3:GetObjectVersion", "kms:Decrypt"}


def test_aws_writer_scoped_to_registry():
    rec, cfg = recording("prod"), stack_config("prod")
    writer = _one(rec, "aws:iam/role:Role", "-registry-model-writer")
    (st,) = _statements(writer.inputs["assumeRolePolicy"])
    assert st["Principal"] == {"AWS": sorted(cfg.settings.registry.writer_principals)}
    (policy,) = [r for r in rec.by_type("aws:iam/rolePolicy:RolePolicy") if r.name.endswith("-registry-model-writer-policy")]
    bucket = _one(rec, "aws:s3/bucket:Bucket", "-registry-models").outputs["arn"]
    table = _one(rec, "aws:dynamodb/table:Table", "-registry-model-versions").outputs["arn"]
    for s in _statements(policy.inputs["policy"]):
        assert s["Effect"] == "Allow"
        assert not any("*" in a for a in _as_list(s["Action"]))
        for res in _as_list(s["Resource"]):
            assert res != "*" and (res.startswith((bucket, table)) or res.startswith("arn:aws:kms:"))
    # no writer role when no writer principals are configured
    assert not [r for r in recording("dev").by_type("aws:iam/role:Role") if r.name.endswith("-registry-model-writer")]


@pytest.mark.parametrize("stack", GCP_STACKS)
def test_gcp_bucket_cmek_uniform_private_versioned_in_region(stack):
    rec, cfg = recording(stack), stack_config(stack)
    bucket = _one(rec, "gcp:storage/bucket:Bucket", "-registry-models")
    key = rec.by_type("gcp:kms/cryptoKey:CryptoKey")[0]
    assert bucket.inputs["location"] == cfg.region
    assert bucket.inputs["encryption"]["defaultKmsKeyName"] == key.id
    assert bucket.inputs["uniformBucketLevelAccess"] is True
    assert bucket.inputs["publicAccessPrevention"] == "enforced"
    assert bucket.inputs["versioning"] == {"enabled": True}
    (rule,) = bucket.inputs["lifecycleRules"]
    assert rule["condition"]["daysSinceNoncurrentTime"] == cfg.settings.registry.noncurrent_version_days
    assert bucket.retain_on_delete is cfg.is_prod


@pytest.mark.parametrize("stack", GCP_STACKS)
def test_gcp_reader_workload_identity_and_bucket_scope(stack):
    rec, cfg = recording(stack), stack_config(stack)
    reader = _one(rec, "gcp:serviceaccount/account:Account", "-registry-model-reader")
    wi = [r for r in rec.by_type("gcp:serviceaccount/iAMMember:IAMMember") if r.parent == reader.urn]
    namespaces = cfg.team_namespaces
    assert sorted(r.inputs["member"] for r in wi) == [
        f"serviceAccount:{cfg.project}.svc.id.goog[{ns}/{SERVING_SERVICE_ACCOUNT}]" for ns in namespaces
    ]
    assert {r.inputs["role"] for r in wi} == {"roles/iam.workloadIdentityUser"}
    bucket = _one(rec, "gcp:storage/bucket:Bucket", "-registry-models")
    grants = [r for r in rec.resources if r.type.startswith("gcp:") and r.inputs.get("member") == reader.outputs["member"]]
    assert [(g.type, g.inputs["role"], g.inputs["bucket"]) for g in grants] == [
        ("gcp:storage/bucketIAMMember:BucketIAMMember", "roles/storage.objectViewer", bucket.outputs["name"])
    ]
    writer = _one(rec, "gcp:serviceaccount/account:Account", "-registry-model-writer")
    wgrants = [r for r in rec.resources if r.type.startswith("gcp:") and r.inputs.get("member") == writer.outputs["member"]]
    assert [(g.inputs["role"], g.inputs["bucket"]) for g in wgrants] == [("roles/storage.objectUser", bucket.outputs["name"])]


def test_pure_policy_builders():
    trust = json.loads(irsa_trust("arn:oidc", "oidc.example/id/X", ["system:serviceaccount:a:inferstack-serving"]))
    cond = trust["Statement"][0]["Condition"]["StringEquals"]
    assert cond == {"oidc.example/id/X:sub": ["system:serviceaccount:a:inferstack-serving"], "oidc.example/id/X:aud": "sts.amazonaws.com"}
    read = json.loads(reader_policy("arn:aws:s3:::b", "arn:aws:kms:eu-west-1:1:key/k"))
    assert not any(a.startswith(("s3:Put", "s3:Delete")) for s in read["Statement"] for a in s["Action"])
    write = json.loads(writer_policy("arn:aws:s3:::b", "arn:aws:dynamodb:eu-west-1:1:table/t", "arn:aws:kms:eu-west-1:1:key/k"))
    assert "dynamodb:DeleteItem" not in {a for s in write["Statement"] for a in s["Action"]}
    assert serving_subjects(stack_config("prod").team_namespaces) == [
        "system:serviceaccount:team-nlp:inferstack-serving", "system:serviceaccount:team-search:inferstack-serving"
    ]


def test_layout_and_refs():
    from inferstack.registry.client import FileEntry, RegistryError, parse_ref, version_digest

    assert parse_ref("m") == ("m", None, None)
    assert parse_ref("m:12") == ("m", 12, None)
    assert parse_ref("m@prod") == ("m", None, "prod")
    for bad in ("m:x", "m:1@a", ""):
        with pytest.raises(RegistryError):
            parse_ref(bad)
    a, b = FileEntry("a", "00", 1), FileEntry("b", "11", 2)
    assert version_digest([a, b]) == version_digest([b, a]) != version_digest([a, FileEntry("b", "12", 2)])
