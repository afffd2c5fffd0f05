"""Derived names within the providers' limits (fit_name and the config errors of check_names); enum-like settings."""

from __future__ import annotations

import copy
import re

import pytest

from inferstack.catalog import limits
from inferstack.checks.names import bucket_prefix, fit_name, gcp_account_id, gcs_bucket_name, iam_role_name
from inferstack.config import ConfigError, read_stack_file
from inferstack.load import load_stack
from tests.conftest import stack_path


def test_fit_name_keeps_a_name_that_fits():
    assert fit_name("inferstack-dev", 30) == "inferstack-dev"
    assert fit_name("inferstack-dev-models", 37, suffix="-") == "inferstack-dev-models-"


def test_fit_name_cuts_to_the_limit_with_a_hash_and_keeps_the_suffix():
    base = "inferstack-" + "a" * 40 + "-models"
    out = fit_name(base, 37, suffix="-")
    assert len(out) == 37 and out.endswith("-")
    assert re.fullmatch(r"inferstack-a+-[0-9a-f]{6}-", out)
    assert fit_name(base, 37, suffix="-") == out  # deterministic


def test_fit_name_keeps_long_names_apart_and_never_ends_a_cut_with_a_dash():
    a, b = fit_name("x" * 20 + "-model-reader", 20), fit_name("x" * 20 + "-model-writer", 20)
    assert a != b and len(a) == len(b) == 20
    assert "--" not in fit_name("abcdefghi-" + "z" * 30, 17)


def test_fit_name_refuses_a_limit_without_room():
    with pytest.raises(ValueError):
        fit_name("abcdefghijkl", 5)


def test_gcp_account_ids_of_a_long_stack_are_valid_and_distinct():
    stack = "team-nlp-europe-west4-prod"
    ids = {gcp_account_id(stack, role) for role in ("model-reader", "model-writer", "external-secrets")}
    assert len(ids) == 3
    for i in ids:
        assert limits.GCP_SERVICE_ACCOUNT_ID.problem(i) is None, i
    assert gcp_account_id("gcp-dev", "model-reader") == "gcp-dev-model-reader"  # unchanged when it fits


def test_stack_derived_names_fit_their_limits():
    stack = "s" * 60
    assert limits.S3_BUCKET_PREFIX.problem(bucket_prefix(stack)) is None
    assert limits.IAM_ROLE.problem(iam_role_name(stack, "model-writer")) is None
    name = gcs_bucket_name("my-project-123456", stack)
    assert limits.GCS_BUCKET.problem(name) is None and name.endswith("-models")
    assert gcs_bucket_name("inferstack-dev", "gcp-dev") == "inferstack-dev-gcp-dev-models"


def _issues(ref: str, edit, stack: str | None = None) -> list[str]:
    f = read_stack_file(stack_path(ref))
    cfg = copy.deepcopy(f.config)
    edit(cfg)
    with pytest.raises(ConfigError) as err:
        load_stack(stack or ref, cfg, secret_keys=f.secret_keys)
    return [str(i) for i in err.value.issues]


def test_long_gcp_stack_name_is_a_config_error_naming_the_stack():
    issues = _issues("gcp-dev", lambda c: None, stack="gcp-dev-" + "x" * 22)  # 30 characters: a valid stack name
    assert any(i.startswith("stack: GKE cluster name 'inferstack-gcp-dev-x") and "1-40" in i for i in issues), issues
    too_long = _issues("gcp-dev", lambda c: None, stack="gcp-dev-" + "x" * 30)
    assert too_long == [f"stack: stack name 'gcp-dev-{'x' * 30}': use 1-32 lower-case letters, digits and dashes, "
                        "starting with a letter (it names the cluster, buckets, roles and keys)"]


def test_stack_name_with_upper_case_is_a_config_error_on_gcp():
    issues = _issues("gcp-dev", lambda c: None, stack="GcpDev")
    assert len(issues) == 1 and issues[0].startswith("stack: stack name 'GcpDev': use 1-32 lower-case"), issues


def test_long_gke_pool_name_is_a_config_error_naming_the_pool():
    long = "gpu-l4-" + "p" * 24  # 31 characters: allowed by the pattern, but <pool>-on-demand has 41

    def edit(c):
        c["inferstack:acceleratorPools"][0]["name"] = long
        for m in c["inferstack:models"]:
            if m.get("pool") == "gpu-l4":
                m["pool"] = long

    issues = _issues("gcp-dev", edit)
    assert any(
        i.startswith(f"inferstack:acceleratorPools[0].name: GKE node pool name '{long}-on-demand' has 41 characters; allowed 1-40")
        for i in issues
    ), issues


def test_long_model_name_is_a_config_error_naming_the_model():
    def edit(c):
        c["inferstack:models"][0].update(name="chat-" + "m" * 37, namespace="team-nlp-eu")  # 42 + 10 + 12 = 64
        c.setdefault("inferstack:teamNamespaces", []).append("team-nlp-eu")

    issues = _issues("gcp-dev", edit)
    assert any(
        i.startswith("inferstack:models[0].name: KServe predictor host label") and "allowed 1-63" in i for i in issues
    ), issues


@pytest.mark.parametrize("key", ["network", "cluster"])
def test_cloudwatch_retention_must_be_an_accepted_value(key):
    field = "flowLogRetentionDays" if key == "network" else "logRetentionDays"
    issues = _issues("dev", lambda c: c.setdefault(f"inferstack:{key}", {}).update({field: 45}))
    [issue] = [i for i in issues if i.startswith(f"inferstack:{key}.{field}:")]
    assert "allowed: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192" in issue
    assert "3288, 3653" in issue


def test_cloudwatch_retention_accepts_listed_values():
    f = read_stack_file(stack_path("dev"))
    cfg = copy.deepcopy(f.config)
    cfg.setdefault("inferstack:network", {})["flowLogRetentionDays"] = 400
    cfg.setdefault("inferstack:cluster", {})["logRetentionDays"] = 731
    loaded = load_stack("dev", cfg, secret_keys=f.secret_keys)
    assert loaded.settings.cluster.log_retention_days == 731


def test_gke_release_channel_accepts_extended_and_refuses_others():
    f = read_stack_file(stack_path("gcp-dev"))
    cfg = copy.deepcopy(f.config)
    cfg.setdefault("inferstack:cluster", {})["releaseChannel"] = "EXTENDED"
    assert load_stack("gcp-dev", cfg, secret_keys=f.secret_keys).settings.cluster.release_channel == "EXTENDED"
    issues = _issues("gcp-dev", lambda c: c.setdefault("inferstack:cluster", {}).update(releaseChannel="FAST"))
    assert any(i.startswith("inferstack:cluster.releaseChannel:") for i in issues), issues
