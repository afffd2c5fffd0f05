"""Values checked against what the service they are passed to accepts: a model's format against KServe's
supportedModelFormats of its runtime, writer principals / access entries against the trust policy / IAM member /
EKS access entry forms, gcp:project against GCP's project id rule, and regions against the zone catalogue (a typo:
'did you mean', never zone names made from it)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from inferstack.catalog.runtime_formats import AUTO_SELECT_FORMATS, KSERVE_RUNTIME_FORMATS
from inferstack.catalog.runtimes import KSERVE_RUNTIMES, formats_of
from inferstack.checks import run_notices
from inferstack.config import ConfigError
from inferstack.load import load_stack

AWS: dict[str, Any] = {
    "aws:region": "eu-west-1",
    "inferstack:cloud": "aws",
    "inferstack:environment": "dev",
    "inferstack:residency": {"allowedRegions": ["eu-west-1"]},
}
GCP: dict[str, Any] = {
    "gcp:region": "europe-west4",
    "gcp:project": "acme-ml",
    "inferstack:cloud": "gcp",
    "inferstack:environment": "dev",
    "inferstack:residency": {"allowedRegions": ["europe-west4"]},
}


def model(**kw: Any) -> dict[str, Any]:
    return {"name": "fraud", "namespace": "team-a", "format": "xgboost", "registryModel": "fraud", "version": "1",
            "accelerators": 0, **kw}


def issues(config: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_stack("t", config)
    return [str(i) for i in err.value.issues]


def with_(base: dict[str, Any], **keys: Any) -> dict[str, Any]:
    return {**copy.deepcopy(base), **{k.replace("__", ":"): v for k, v in keys.items()}}


# ---------------------------------------------------------------- models[].format


def test_format_catalogue_covers_every_kserve_runtime_inferstack_accepts() -> None:
    assert KSERVE_RUNTIMES == set(KSERVE_RUNTIME_FORMATS) >= {"kserve-autogluonserver", "kserve-vllmserver"}
    assert {"huggingface", "xgboost", "sklearn", "pytorch", "onnx", "tensorflow", "triton"} <= AUTO_SELECT_FORMATS
    # predictiveserver auto-selects nothing; triton serves pytorch only when named
    assert "pytorch" in formats_of("kserve-tritonserver") and formats_of("kserve-sklearnserver") == {"sklearn"}
    assert formats_of("inferstack-vllm-tpu") == {"huggingface"} and formats_of("no-such-runtime") is None


def test_misspelt_format_is_refused_naming_the_key_and_the_closest() -> None:
    [msg] = issues(with_(AWS, inferstack__models=[model(format="xgbost")]))
    assert msg.startswith("inferstack:models[0].format: unknown model format 'xgbost' (no runtime set")
    assert "allowed: autogluon, huggingface, lightgbm," in msg and msg.endswith("; did you mean xgboost?")


def test_format_the_named_runtime_does_not_serve_is_refused() -> None:
    [msg] = issues(with_(AWS, inferstack__models=[model(runtime="kserve-sklearnserver")]))
    assert msg == ("inferstack:models[0].format: runtime kserve-sklearnserver does not serve format 'xgboost'; "
                   "allowed: sklearn")
    [msg] = issues(with_(AWS, inferstack__models=[model(format="XGBoost")]))
    assert msg.endswith("did you mean xgboost?")


@pytest.mark.parametrize("kw", [{}, {"format": "sklearn"}, {"format": "onnx", "runtime": "kserve-tritonserver"},
                                {"format": "pytorch", "runtime": "kserve-tritonserver"},
                                {"format": "lightgbm", "runtime": "kserve-mlserver"}])
def test_served_formats_pass(kw: dict[str, Any]) -> None:
    assert load_stack("t", with_(AWS, inferstack__models=[model(**kw)])).settings.models[0].format == kw.get("format", "xgboost")


# ---------------------------------------------------------------- principals


@pytest.mark.parametrize("principal", [
    "arn:aws:iam::210987654321:role/ml-publisher", "arn:aws:iam::210987654321:role/ci/ml-publisher",
    "arn:aws:iam::210987654321:user/release-bot", "arn:aws:iam::210987654321:root", "210987654321",
    "arn:aws-cn:iam::210987654321:role/ml", "arn:aws-us-gov:iam::210987654321:role/ml",
])
def test_aws_writer_principals_the_trust_policy_takes(principal: str) -> None:
    cfg = load_stack("t", with_(AWS, inferstack__registry={"writerPrincipals": [principal]}))
    assert cfg.settings.registry.writer_principals == [principal]


@pytest.mark.parametrize("principal", [
    "ml@acme.io", "*", "ml-publisher", "arn:aws:iam::2109876543:role/ml", "arn:aws:iam::210987654321:role/",
    "arn:aws:iam::210987654321:group/ml", "arn:aws:s3:::bucket", "arn:aws:iam::210987654321:role/ml\n",
    "group:ml@acme.io",
])
def test_aws_writer_principals_refused(principal: str) -> None:
    [msg] = issues(with_(AWS, inferstack__registry={"writerPrincipals": ["210987654321", principal]}))
    assert msg.startswith("inferstack:registry.writerPrincipals[1]: ")
    assert "is not an AWS principal of a trust policy; allowed: an IAM principal ARN" in msg


def test_aws_access_entry_takes_a_role_or_user_arn() -> None:
    entry = {"principal": "arn:aws:iam::210987654321:root", "groups": ["inferstack:team:team-a"]}
    [msg] = issues(with_(AWS, inferstack__cluster={"accessEntries": [entry]}))
    assert msg.startswith("inferstack:cluster.accessEntries[0].principal: 'arn:aws:iam::210987654321:root' is not an "
                          "IAM role or user ARN")
    entry["principal"] = "arn:aws:iam::210987654321:role/team-a"
    assert load_stack("t", with_(AWS, inferstack__cluster={"accessEntries": [entry]}))


@pytest.mark.parametrize("member", [
    "group:ml-release@acme.io", "user:me@acme.io", "serviceAccount:ci@acme-ml.iam.gserviceaccount.com",
    "domain:acme.io",
    "principalSet://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/gh/attribute.repository/acme/ml",
    "principal://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/gh/subject/repo:acme/ml:ref:main",
])
def test_gcp_writer_members_with_their_prefix(member: str) -> None:
    assert load_stack("t", with_(GCP, inferstack__registry={"writerPrincipals": [member]}))


def test_gcp_bare_email_is_refused_naming_the_prefixes() -> None:
    [msg] = issues(with_(GCP, inferstack__registry={"writerPrincipals": ["ml-release@acme.io"]}))
    assert msg.startswith("inferstack:registry.writerPrincipals[0]: 'ml-release@acme.io' has no member prefix; "
                          "write user:ml-release@acme.io, group:ml-release@acme.io or serviceAccount:ml-release@acme.io")


@pytest.mark.parametrize("member", ["allUsers", "allAuthenticatedUsers", "arn:aws:iam::210987654321:role/x",
                                    "group:", "domain:", "deleted:user:me@acme.io?uid=1"])
def test_gcp_other_members_are_refused(member: str) -> None:
    [msg] = issues(with_(GCP, inferstack__registry={"writerPrincipals": [member]}))
    assert msg.startswith("inferstack:registry.writerPrincipals[0]: ") and "is not an IAM member; allowed:" in msg


# ---------------------------------------------------------------- gcp:project


@pytest.mark.parametrize("project", ["ACME_ML", "acme", "1acme-ml", "acme-ml-", "a" * 31, "acme_ml", "acme-ml\n"])
def test_gcp_project_id_rule(project: str) -> None:
    [msg] = issues(with_(GCP, gcp__project=project))
    assert msg.startswith("gcp:project: ") and "is not a project id; a GCP project id is 6-30" in msg


@pytest.mark.parametrize("project", ["acme-ml", "a12345", "a" * 30])
def test_gcp_project_ids_pass(project: str) -> None:
    assert load_stack("t", with_(GCP, gcp__project=project)).project == project


# ---------------------------------------------------------------- regions


def test_misspelt_region_says_did_you_mean_and_makes_up_no_zones() -> None:
    [msg] = issues(with_(AWS, aws__region="eu-wst-1", inferstack__residency={"allowedRegions": ["eu-wst-1"]}))
    assert msg.startswith("aws:region: 'eu-wst-1' is not among the zone catalogue's aws regions; did you mean eu-west-1?")
    assert "eu-wst-1a" not in msg
    [msg] = issues(with_(GCP, gcp__region="europe-wset4", inferstack__residency={"allowedRegions": ["europe-wset4"]}))
    assert "did you mean europe-west4?" in msg and "europe-wset4-a" not in msg


def test_misspelt_region_hides_the_reservation_zone_issue() -> None:
    pool = {"name": "gpu", "kind": "nvidia-l4", "maxNodes": 2,
            "ladder": [{"tier": "reserved", "maxNodes": 1,
                        "reservations": [{"id": "cr-0fedcba9876543210", "zone": "eu-central-1a"}]},
                       {"tier": "on-demand", "maxNodes": 1}]}
    found = issues(with_(AWS, aws__region="eu-centrall-1", inferstack__residency={"allowedRegions": ["eu-centrall-1"]},
                         inferstack__acceleratorPools=[pool]))
    assert len(found) == 1 and "did you mean eu-central-1?" in found[0]


def test_a_region_newer_than_the_catalogue_still_works_with_its_zones() -> None:
    zones = ["eu-central-3a", "eu-central-3b"]
    cfg = load_stack("t", with_(AWS, aws__region="eu-central-3", inferstack__residency={"allowedRegions": ["eu-central-3"]},
                                inferstack__network={"zones": zones}))
    [notice] = [str(n) for n in run_notices(cfg)]
    assert notice.startswith("aws:region: region eu-central-3 is not in the zone catalogue") and "did you mean" not in notice
    # a catalogued region's name with another number is how a new region is named, not a typo: its zones' form
    [msg] = issues(with_(AWS, aws__region="eu-central-3", inferstack__residency={"allowedRegions": ["eu-central-3"]}))
    assert msg.startswith("inferstack:network.zones: region eu-central-3 is not in the zone catalogue") and "eu-central-3a" in msg
    # a misspelt one with its zones listed: used as listed, the warning asks
    cfg = load_stack("t", with_(AWS, aws__region="eu-centrall-1", inferstack__residency={"allowedRegions": ["eu-centrall-1"]},
                                inferstack__network={"zones": ["eu-centrall-1a", "eu-centrall-1b"]}))
    assert [str(n) for n in run_notices(cfg)][0].endswith("(did you mean eu-central-1?)")
    # far from every catalogued region: the zones-of-its-form suggestion, as before
    [msg] = issues(with_(AWS, aws__region="xx-foo-1", inferstack__residency={"allowedRegions": ["xx-foo-1"]}))
    assert msg.startswith("inferstack:network.zones: region xx-foo-1 is not in the zone catalogue") and "xx-foo-1a" in msg


def test_misspelt_allowed_region_is_a_warning() -> None:
    cfg = load_stack("t", with_(AWS, inferstack__residency={"allowedRegions": ["eu-west-1", "eu-wst-2", "mars-north-1"]}))
    notices = [str(n) for n in run_notices(cfg)]
    assert notices == ["inferstack:residency.allowedRegions[1]: 'eu-wst-2' is not among the zone catalogue's aws regions; "
                       "did you mean eu-west-2? (kept as written: the residency policy allows only the regions listed)"]
