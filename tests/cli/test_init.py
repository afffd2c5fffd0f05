"""``inferstack init``: a user's stack file from the reference stack, validated; exit 2 naming the key on bad input,
nothing written then; an existing file is never overwritten without --force."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from inferstack.checks.example_values import check_example_values
from inferstack.cli import main
from inferstack.cli.init_cmd import parse_key_path, parse_reservation
from inferstack.load import load_stack_file

REPO = Path(__file__).resolve().parents[2]
AWS_PROD = ["init", "--cloud", "aws", "--environment", "prod", "--stack", "acme-prod"]
AWS_VALUES = ["--writer-principal", "arn:aws:iam::210987654321:role/ml-publisher",
              "--reservation", "gpu-l4=cr-0fedcba9876543210"]
GCP_VALUES = ["--project", "acme-ml", "--writer-principal", "group:ml-release@acme.io", "--reservation", "gpu-l4=acme-l4"]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _with_secret(path: Path) -> Path:
    """The written file as it is after `pulumi config set --secret` (a secure value in it), for the loader."""
    doc = yaml.safe_load(path.read_text())
    doc["config"]["inferstack-secrets:hfToken"] = {"secure": "v1:set-by-pulumi"}
    done = path.parent / "after-secret" / path.name
    done.parent.mkdir(exist_ok=True)
    done.write_text(yaml.safe_dump(doc, sort_keys=False))
    return done


# ---------------------------------------------------------------- bad input first: exit 2, one key named, nothing written


def test_example_values_left_are_refused_naming_each_key_and_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(AWS_PROD, capsys)
    assert code == 2 and not list(tmp_path.iterdir())
    assert err.startswith("error: ") and "Traceback" not in err
    assert ("inferstack:acceleratorPools[0].ladder[0].reservations[0].id: 'cr-0a1b2c3d4e5f60718' is an example "
            "reservation id of the reference stacks; set it with --reservation POOL=ID[@ZONE]") in err
    assert ("inferstack:registry.writerPrincipals[0]: 'arn:aws:iam::123456789012:role/inferstack-ci-model-publisher' "
            "is the documentation AWS account 123456789012; set it with --writer-principal") in err


@pytest.mark.parametrize("extra, named", [
    (["--stack", "Acme_Prod"], "--stack 'Acme_Prod'"),
    (["--project", "acme"], "--project"),
    (["--reservation", "gpu-l4"], "--reservation 'gpu-l4' is not POOL=ID"),
    (["--reservation", "gpu-xx=cr-0fedcba9876543210"], "no pool 'gpu-xx'"),
    (["--reservation", "gpu-l40s=cr-0fedcba9876543210"], "pool gpu-l40s has no reserved tier"),
    (["--set", "policy.platformAdminGroup=x"], "--set 'policy.platformAdminGroup' is not a namespaced key"),
    (["--set", "inferstack:policy.platformAdminGroup"], "expected KEY=VALUE"),
    (["--set", "inferstack:registry.writerPrincipals[5]=x"], "index [5] is past the end"),
    (["--set", "inferstack:registry.noncurrentVersionDays=-3"], "inferstack:registry.noncurrentVersionDays"),
    (["--set", "inferstack:registry.noSuchKey=1"], "inferstack:registry.noSuchKey"),
    (["--region", "us-east-1"], "inferstack:acceleratorPools[0].ladder[0].reservations[0].zone: eu-central-1a is not a "
     "zone of the stack's region us-east-1; its zones: us-east-1a, "),
    (["--region", "us-east-1"], "; set it with --reservation gpu-l4=ID@ZONE"),
    (["--region", "eu-centrall-1"], "aws:region: 'eu-centrall-1' is not among the zone catalogue's aws regions; "
     "did you mean eu-central-1?"),
    (["--region", "eu-centrall-1"], "; set it with --region"),
    (["--set", "inferstack:models[4].format=xgbost"], "inferstack:models[4].format: unknown model format 'xgbost'"),
    (["--set", "inferstack:models[4].format=xgbost"], "; did you mean xgboost?"),
    (["--writer-principal", "ml-release@acme.io"], "inferstack:registry.writerPrincipals[1]: 'ml-release@acme.io' is "
     "not an AWS principal of a trust policy"),
    (["--writer-principal", "ml-release@acme.io"], "; set it with --writer-principal"),
    (["--from", "nowhere/Pulumi.x.yaml"], "nowhere/Pulumi.x.yaml does not exist"),
    (["--out", "Pulumi.other.yaml"], "the file of stack acme-prod is named Pulumi.acme-prod.yaml"),
    (["--from", str(REPO / "stacks" / "Pulumi.gcp-dev.yaml")], "is a gcp stack; --cloud aws does not match"),
])
def test_bad_input_names_the_argument_or_key(extra: list[str], named: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = _run([*AWS_PROD, *AWS_VALUES, *extra], capsys)
    assert code == 2, (out, err)
    assert named in err and err.startswith("error: ") and "Traceback" not in err, err
    assert not list(tmp_path.iterdir()), "nothing written on error"


def test_misspelt_region_gets_no_made_up_zones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = _run([*AWS_PROD, *AWS_VALUES, "--region", "eu-centrall-1"], capsys)
    assert code == 2 and err.count("\n") == 1, err  # one line: the reservation's zone is not reported besides
    assert "eu-centrall-1a" not in err and "did you mean eu-central-1?" in err


@pytest.mark.parametrize("extra, named", [
    (["--project", "ACME_ML"], "--project 'ACME_ML': not a GCP project id; a GCP project id is 6-30 lower-case"),
    (["--project", "acme"], "--project 'acme': not a GCP project id"),
    (["--set", "gcp:project=ACME_ML"], "gcp:project: 'ACME_ML' is not a project id"),
    (["--writer-principal", "ml-release@acme.io"], "inferstack:registry.writerPrincipals[1]: 'ml-release@acme.io' has "
     "no member prefix; write user:ml-release@acme.io, group:ml-release@acme.io or serviceAccount:ml-release@acme.io"),
])
def test_gcp_bad_input_names_the_argument_or_key(extra: list[str], named: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(["init", "--cloud", "gcp", "--environment", "prod", "--stack", "g1", *GCP_VALUES, *extra],
                          capsys)
    assert code == 2, (out, err)
    assert named in err and err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert "GCS bucket" not in err
    assert not list(tmp_path.iterdir()), "nothing written on error"


def test_gcp_needs_its_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(["init", "--cloud", "gcp", "--environment", "dev", "--stack", "me",
                         "--public-access-cidr", "100.64.10.0/24"], capsys)
    assert code == 2 and "--project: required with --cloud gcp" in err and not list(tmp_path.iterdir())


def test_existing_file_is_kept_without_force(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Pulumi.acme-prod.yaml").write_text("config: {}\n")
    code, _, err = _run([*AWS_PROD, *AWS_VALUES], capsys)
    assert code == 2 and "Pulumi.acme-prod.yaml exists; pass --force to overwrite it" in err
    assert (tmp_path / "Pulumi.acme-prod.yaml").read_text() == "config: {}\n"
    code, _, _ = _run([*AWS_PROD, *AWS_VALUES, "--force"], capsys)
    assert code == 0 and "cr-0fedcba9876543210" in (tmp_path / "Pulumi.acme-prod.yaml").read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["Pulumi.acme-prod.yaml"], "no temporary file left"


# ---------------------------------------------------------------- the written stack


def test_aws_prod_with_real_values_validates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = _run([*AWS_PROD, *AWS_VALUES, "--reservation", "gpu-l4=cr-0fedcba9876543210@eu-central-1b",
                           "--set", "inferstack:policy.platformAdminGroup=acme:platform-admins"], capsys)
    assert code == 0, err
    path = tmp_path / "Pulumi.acme-prod.yaml"
    assert f"wrote {path}" in out and "pulumi config set --secret inferstack-secrets:hfToken <value>" in out
    text = path.read_text()
    assert text.startswith("# acme-prod: written by `inferstack init` from Pulumi.prod.yaml (aws, prod).\n")
    assert "encryptionsalt" not in text and "secure:" not in text, "the reference's sample secret is not copied"
    assert "passphrase" not in text and "sample value" not in text, "nor the reference's comment about it"
    assert "writerPrincipals: [arn:aws:iam::210987654321:role/ml-publisher]" in text
    cfg = load_stack_file(_with_secret(path))
    assert cfg.name == "acme-prod" and cfg.environment.value == "prod" and cfg.region == "eu-central-1"
    assert check_example_values(cfg) == []
    reservation = cfg.settings.accelerator_pools[0].ladder[0].reservations[0]
    assert (reservation.id, reservation.zone) == ("cr-0fedcba9876543210", "eu-central-1b")
    assert cfg.settings.policy.platform_admin_group == "acme:platform-admins"
    # Everything else is the reference stack's.
    ref = load_stack_file(REPO / "stacks" / "Pulumi.prod.yaml")
    assert [m.name for m in cfg.settings.models] == [m.name for m in ref.settings.models]
    assert cfg.settings.network == ref.settings.network


def test_gcp_staging_starts_from_gcp_prod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(["init", "--cloud", "gcp", "--environment", "staging", "--stack", "acme-stg", *GCP_VALUES,
                         "--region", "europe-west4", "--allowed-region", "europe-west4"], capsys)
    assert code == 0, err
    cfg = load_stack_file(_with_secret(tmp_path / "Pulumi.acme-stg.yaml"))
    assert cfg.environment.value == "staging" and cfg.project == "acme-ml"
    assert cfg.settings.residency.allowed_regions == ["europe-west4"]
    assert cfg.settings.registry.writer_principals == ["group:ml-release@acme.io"]
    assert check_example_values(cfg) == []


@pytest.mark.parametrize("cloud, extra", [("aws", []), ("gcp", ["--project", "acme-ml-dev"])])
def test_dev_lands_in_the_projects_stack_dir(cloud: str, extra: list[str], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """dev stacks: every example value the reference dev stack has (its public endpoint's documentation CIDR, if
    any) is named with its flag; given, the file lands in the project's stackConfigDir."""
    (tmp_path / "Pulumi.yaml").write_text("name: mine\nruntime: python\nstackConfigDir: stacks\n")
    monkeypatch.chdir(tmp_path)
    argv = ["init", "--cloud", cloud, "--environment", "dev", "--stack", "me", *extra]
    reference = load_stack_file(REPO / "stacks" / ("Pulumi.dev.yaml" if cloud == "aws" else "Pulumi.gcp-dev.yaml"))
    if check_example_values(reference):
        code, _, err = _run(argv, capsys)
        assert code == 2 and not (tmp_path / "stacks").exists()
        assert all(f"{i.path}: " in err for i in check_example_values(reference)), err
    code, _, err = _run([*argv, "--public-access-cidr", "100.64.10.0/24", "--set",
                         "inferstack:cluster.endpoint.access=public"], capsys)
    assert code == 0, err
    cfg = load_stack_file(tmp_path / "stacks" / "Pulumi.me.yaml")
    assert check_example_values(cfg) == []
    assert cfg.settings.cluster.endpoint.public_access_cidrs == ["100.64.10.0/24"]


def test_region_sets_the_allowed_regions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(["init", "--cloud", "aws", "--environment", "staging", "--stack", "stg", "--region", "us-east-1"],
                        capsys)
    assert code == 0, err
    cfg = load_stack_file(tmp_path / "Pulumi.stg.yaml")
    assert cfg.region == "us-east-1" and cfg.settings.residency.allowed_regions == ["us-east-1"]


def test_parsers() -> None:
    assert parse_key_path("inferstack:cluster.accessEntries[0].principal") == (
        "inferstack:cluster", ["accessEntries", 0, "principal"])
    assert parse_key_path("aws:region") == ("aws:region", [])
    for bad in ("inferstack:", "inferstack:a..b", "inferstack:[0]", "inferstack:a[x]"):
        with pytest.raises(ValueError):
            parse_key_path(bad)
    assert parse_reservation("gpu-l4=cr-0123@eu-central-1a") == ("gpu-l4", "cr-0123", "eu-central-1a")
    assert parse_reservation("gpu-l4=res") == ("gpu-l4", "res", None)


def test_written_stack_needs_its_secret_and_previews_offline_with_a_placeholder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """What docs/config.md says: validate refuses the fresh file naming the secret; a secure: placeholder passes."""
    monkeypatch.chdir(tmp_path)
    code, _, err = _run([*AWS_PROD, *AWS_VALUES], capsys)
    assert code == 0, err
    path = tmp_path / "Pulumi.acme-prod.yaml"
    code, _, err = _run(["config", "validate", "--config", str(path)], capsys)
    assert code == 2 and "config key 'inferstack-secrets:hfToken' is not set; run: pulumi config set --secret" in err
    text = path.read_text().replace("config:\n", "config:\n  inferstack-secrets:hfToken:\n    secure: placeholder\n", 1)
    path.write_text(text)
    code, out, err = _run(["config", "validate", "--config", str(path)], capsys)
    assert code == 0 and "stack acme-prod: valid (aws, prod, eu-central-1)" in out, err
