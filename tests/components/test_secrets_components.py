"""Secret stores and External Secrets under the offline engine; no known secret value appears unmarked anywhere."""

from __future__ import annotations

import json

import pytest

from inferstack.catalog.versions import CHARTS
from inferstack.config import ConfigError
from inferstack.engine import Secret, run_stack
from inferstack.load import load_stack
from tests.conftest import recording, stack_config

KNOWN = "hf_KnownTokenValue_4f9c2a7e1d"


def _unmarked_strings(value):
    """Every string in ``value`` outside an engine.Secret wrapper (keys included)."""
    if isinstance(value, Secret):
        return
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _unmarked_strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _unmarked_strings(v)
    elif isinstance(value, str):
        yield value


def _marked_strings(value, inside=False):
    if isinstance(value, Secret):
        yield from _marked_strings(value.value, True)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _marked_strings(v, inside)
    elif isinstance(value, list):
        for v in value:
            yield from _marked_strings(v, inside)
    elif isinstance(value, str) and inside:
        yield value


@pytest.mark.parametrize("stack", ["prod", "gcp-prod"])
def test_no_known_secret_value_appears_unmarked(stack):
    cfg = stack_config(stack)
    keys = sorted(cfg.secret_keys)
    assert keys, "the reference prod stacks carry a secure secret value"
    known = {k: f"{KNOWN}-{i}" for i, k in enumerate(keys)}
    rec = run_stack(cfg, secrets=known)
    marked = set()
    for r in rec.resources:
        for part in (r.inputs, r.outputs):
            for s in _unmarked_strings(part):
                for v in known.values():
                    assert v not in s, f"{r.type} {r.name} carries a secret value unmarked"
            marked.update(s for s in _marked_strings(part))
    # the value does reach the secret store, marked secret
    assert set(known.values()) <= marked
    assert not rec.by_type("kubernetes:core/v1:Secret")


@pytest.mark.parametrize("stack", ["prod", "gcp-prod"])
def test_secret_versions_declare_secret_outputs(stack):
    rec = recording(stack)
    versions = [r for r in rec.resources if r.type.endswith("/secretVersion:SecretVersion")]
    assert versions
    for v in versions:
        field = "secretString" if v.type.startswith("aws:") else "secretData"
        assert isinstance(v.inputs[field], Secret)
        assert field in v.additional_secret_outputs
        assert v.retain_on_delete


def test_aws_secrets_manager_cmk_region_and_eso_scope():
    rec, cfg = recording("prod"), stack_config("prod")
    key = rec.by_type("aws:kms/key:Key")[0].outputs["arn"]
    secrets = rec.by_type("aws:secretsmanager/secret:Secret")
    assert [s.inputs["name"] for s in secrets] == ["inferstack/prod/hf-token"]
    for s in secrets:
        assert s.inputs["kmsKeyId"] == key
        assert s.inputs["region"] == cfg.region
        assert s.retain_on_delete and s.protect
    role = next(r for r in rec.by_type("aws:iam/role:Role") if r.name.endswith("-secrets-eso"))
    cond = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]["StringEquals"]
    assert [v for k, v in cond.items() if k.endswith(":sub")] == [["system:serviceaccount:external-secrets:external-secrets"]]
    policy = next(r for r in rec.by_type("aws:iam/rolePolicy:RolePolicy") if r.name.endswith("-secrets-eso-read"))
    stmts = json.loads(policy.inputs["policy"])["Statement"]
    assert stmts[0]["Resource"] == [s.outputs["arn"] for s in secrets]
    assert stmts[1]["Resource"] == key and stmts[1]["Action"] == ["kms:Decrypt"]


def test_gcp_secret_manager_cmek_replicas_in_allowed_regions():
    rec, cfg = recording("gcp-prod"), stack_config("gcp-prod")
    key = rec.by_type("gcp:kms/cryptoKey:CryptoKey")[0].id
    for s in rec.by_type("gcp:secretmanager/secret:Secret"):
        replicas = s.inputs["replication"]["userManaged"]["replicas"]
        assert replicas and all(r["location"] in cfg.settings.residency.allowed_regions for r in replicas)
        assert all(r["customerManagedEncryption"]["kmsKeyName"] == key for r in replicas)
        assert "auto" not in s.inputs["replication"]
        assert s.retain_on_delete
        access = [r for r in rec.by_type("gcp:secretmanager/secretIamMember:SecretIamMember") if r.parent == s.urn]
        assert [a.inputs["role"] for a in access] == ["roles/secretmanager.secretAccessor"]
    eso = next(r for r in rec.by_type("gcp:serviceaccount/account:Account") if r.name.endswith("-secrets-eso"))
    wi = [r for r in rec.by_type("gcp:serviceaccount/iAMMember:IAMMember") if r.parent == eso.urn]
    assert [r.inputs["member"] for r in wi] == ["serviceAccount:inferstack-prod.svc.id.goog[external-secrets/external-secrets]"]


@pytest.mark.parametrize(("stack", "annotation"), [("prod", "eks.amazonaws.com/role-arn"), ("gcp-prod", "iam.gke.io/gcp-service-account")])
def test_external_secrets_chart_store_and_delivery(stack, annotation):
    rec, cfg = recording(stack), stack_config(stack)
    (release,) = [r for r in rec.by_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "external-secrets"]
    assert release.inputs["version"] == CHARTS["external-secrets"].version
    assert annotation in release.inputs["values"]["serviceAccount"]["annotations"]
    (store,) = rec.by_type("kubernetes:external-secrets.io/v1:ClusterSecretStore")
    namespaces = sorted({ns for s in cfg.settings.secrets for ns in s.namespaces})
    assert store.inputs["spec"]["conditions"] == [{"namespaces": namespaces}]
    assert "auth" not in json.dumps(store.inputs["spec"]["provider"])  # credentials come from the controller's identity
    delivered = {(r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"]) for r in rec.by_type("kubernetes:external-secrets.io/v1:ExternalSecret")}
    assert delivered == {(ns, s.name) for s in cfg.settings.secrets for ns in s.namespaces}
    for r in rec.by_type("kubernetes:external-secrets.io/v1:ExternalSecret"):
        assert r.inputs["spec"]["secretStoreRef"] == {"name": store.inputs["metadata"]["name"], "kind": "ClusterSecretStore"}
        assert r.inputs["spec"]["data"][0]["secretKey"] == "HF_TOKEN"


def test_stacks_without_secrets_install_no_operator():
    rec = recording("dev")
    assert not rec.by_type("kubernetes:external-secrets.io/v1:ExternalSecret")
    assert not [r for r in rec.by_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "external-secrets"]


def _prod_config(**changes):
    cfg = stack_config("prod")
    values = dict(cfg.values)
    values.update(changes)
    return values, set(cfg.secret_keys)


def test_secret_value_must_come_from_secure_config():
    values, secure = _prod_config()
    with pytest.raises(ConfigError) as err:
        load_stack("prod", values, secret_keys=secure - {"inferstack-secrets:hfToken"})
    assert "inferstack:secrets[0].valueFrom" in str(err.value) and "--secret" in str(err.value)
    values.pop("inferstack-secrets:hfToken")
    with pytest.raises(ConfigError) as err:
        load_stack("prod", values, secret_keys=secure)
    assert "is not set" in str(err.value)
    values, secure = _prod_config()
    values["inferstack:secrets"] = [{"name": "hf-token", "namespaces": ["team-nlp"], "valueFrom": "inferstack-secrets:hfToken", "value": "x"}]
    with pytest.raises(ConfigError) as err:
        load_stack("prod", values, secret_keys=secure)
    assert "inferstack:secrets[0].value" in str(err.value) and "unknown key" in str(err.value)


@pytest.mark.parametrize("stack", ["prod", "gcp-prod"])
def test_external_secrets_wait_for_the_team_namespaces_they_write_into(stack):
    rec = recording(stack)
    namespaces = {r.inputs["metadata"]["name"]: r.urn for r in rec.by_type("kubernetes:core/v1:Namespace")}
    objs = rec.by_type("kubernetes:external-secrets.io/v1:ExternalSecret")
    assert objs
    by_urn = {r.urn: r for r in rec.resources}

    def waits_for(urn: str) -> set[str]:  # Pulumi orders by dependencies transitively
        seen, todo = set(), list(by_urn[urn].dependencies)
        while todo:
            u = todo.pop()
            if u not in seen:
                seen.add(u)
                todo.extend(by_urn[u].dependencies if u in by_urn else [])
        return seen

    for obj in objs:
        assert namespaces[obj.inputs["metadata"]["namespace"]] in waits_for(obj.urn)
