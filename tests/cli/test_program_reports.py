"""`preview` and `policy check` of a team's own program (#29, #28): `preview --program` takes `--policy-config FILE
[--environment E]` as `policy check` does; both reports say what the offline run could not know (stack references
answered unknown, placeholders from data-source lookups) and which inputs of a finding's resource are placeholders."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from inferstack.cli import main
from inferstack.engine import STACK_OUTPUTS_KEY

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "programs" / "corpus"


def _pack(tmp_path: Path, environment: str, region: str, **overrides: object) -> Path:
    """A team's policy config file, as `inferstack policy config --environment E --allowed-region R` writes it."""
    out = tmp_path / f"{environment}.json"
    assert main(["policy", "config", "--environment", environment, "--allowed-region", region, "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    doc.update(overrides)
    out.write_text(json.dumps(doc))
    return out


def _corpus(name: str, tmp_path: Path, config: str | None = None) -> tuple[Path, Path]:
    """A corpus program copied into tmp_path (its stack file replaced by ``config`` when given)."""
    for f in (CORPUS / name).iterdir():
        if f.is_file():
            shutil.copy(f, tmp_path / f.name)
    if config is not None:
        (tmp_path / "Pulumi.dev.yaml").write_text(textwrap.dedent(config))
    return tmp_path / "__main__.py", tmp_path / "Pulumi.dev.yaml"


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


# ---------------------------------------------------------------- bad input first: one error line, exit 2


def test_preview_policy_config_needs_a_program(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pack = _pack(tmp_path, "dev", "eu-west-1")
    capsys.readouterr()
    out = tmp_path / "r.json"
    assert main(["preview", "--stack", "dev", "--policy-config", str(pack), "--out", str(out)]) == 2
    assert "--policy-config needs --program" in _error_line(capsys)
    assert not out.exists()


def test_preview_environment_needs_a_policy_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    program, config = _corpus("secrets_manager", tmp_path)
    out = tmp_path / "r.json"
    assert main(["preview", "--program", str(program), "--config", str(config), "--environment", "prod",
                 "--out", str(out)]) == 2
    assert "--environment needs --policy-config" in _error_line(capsys)
    assert not out.exists()


def test_preview_bad_policy_config_names_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    program, config = _corpus("secrets_manager", tmp_path)
    pack = tmp_path / "bad.json"
    pack.write_text(json.dumps({"region-residency": {"enforcementLevel": "mandatory", "allowedRegions": ["eu-west-1"]},
                                "no-such-policy": "mandatory"}))
    out = tmp_path / "r.json"
    assert main(["preview", "--program", str(program), "--config", str(config), "--policy-config", str(pack),
                 "--environment", "prod", "--format", "json", "--out", str(out)]) == 2
    line = _error_line(capsys)
    assert f"--policy-config {pack}: no-such-policy: not a policy" in line
    assert not out.exists()


# ---------------------------------------------------------------- preview --program --policy-config


def test_preview_takes_the_policy_config_of_policy_check(tmp_path: Path) -> None:
    """A stack file with no inferstack: key; the levels and regions come from the file (one level changed there),
    and preview's findings are policy check's."""
    program, config = _corpus("data_sources", tmp_path)
    assert not any(k.startswith("inferstack:") for k in config.read_text().split())
    pack = _pack(tmp_path, "prod", "us-west-2", **{"imdsv2-required": "advisory"})
    out = tmp_path / "preview.json"
    args = ["--program", str(program), "--config", str(config), "--policy-config", str(pack), "--environment", "prod"]
    code = main(["preview", *args, "--format", "json", "--out", str(out)])
    report = json.loads(out.read_text())
    assert report["environment"] == "prod" and report["region"] == "us-west-2"
    levels = {f["policy"]: f["enforcementLevel"] for f in report["findings"]}
    assert levels["imdsv2-required"] == "advisory"  # the file's level, not prod's mandatory
    assert levels["region-residency"] == "mandatory"  # the GKE cluster in us-central1: outside the file's regions
    assert code == 1
    check = tmp_path / "check.json"
    assert main(["policy", "check", *args, "--json", str(check)]) == 1
    checked = json.loads(check.read_text())
    assert [(f["policy"], f["resource"]) for f in checked["findings"]] == \
        [(f["policy"], f["resource"]) for f in report["findings"]]


def test_preview_reports_placeholders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """data_sources looks a zone up in the plain form: its fields are placeholders; preview says how many, in text
    and JSON, with the lookups."""
    program, config = _corpus("data_sources", tmp_path)
    pack = _pack(tmp_path, "dev", "us-west-2")
    args = ["preview", "--program", str(program), "--config", str(config), "--policy-config", str(pack)]
    out = tmp_path / "preview.json"
    main([*args, "--format", "json", "--out", str(out)])
    report = json.loads(out.read_text())
    assert report["placeholders"] == 12
    (note,) = report["notes"]
    assert note.startswith("12 values are placeholders from data-source lookups (aws:route53/getZone:getZone: arn,")
    zone = [x for x in report["lookups"] if x["token"] == "aws:route53/getZone:getZone"]
    assert zone and zone[0]["form"] == "plain" and "zoneId" in zone[0]["placeholders"]
    capsys.readouterr()
    main(args)
    text = capsys.readouterr().out
    assert f"\nNotes:\n    {note}\n" in text


PLACEHOLDER_PROGRAM = """
    import pulumi
    import pulumi_aws as aws

    zone = aws.route53.get_zone(name="corp.example.org")
    aws.ec2.Instance("web", ami="ami-0123456789abcdef0", instance_type="t3.micro",
                     tags={"zone": zone.zone_id, "name": f"web.{zone.name}"})
"""


def test_a_finding_on_placeholder_inputs_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The instance's tags hold the zone id made up for the lookup: its findings name that input, in preview and
    policy check (text, JSON, SARIF)."""
    (tmp_path / "__main__.py").write_text(textwrap.dedent(PLACEHOLDER_PROGRAM))
    (tmp_path / "Pulumi.yaml").write_text("name: lookups\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    pack = _pack(tmp_path, "prod", "eu-west-1")
    args = ["--program", str(tmp_path / "__main__.py"), "--config", str(tmp_path / "Pulumi.dev.yaml"),
            "--policy-config", str(pack)]
    out = tmp_path / "preview.json"
    assert main(["preview", *args, "--format", "json", "--out", str(out)]) == 1
    report = json.loads(out.read_text())
    (imds,) = [f for f in report["findings"] if f["policy"] == "imdsv2-required"]
    assert imds["placeholderInputs"] == ["tags.zone"]  # the name is the one given: no placeholder
    assert report["placeholders"] >= 1
    capsys.readouterr()
    check = tmp_path / "check.json"
    sarif = tmp_path / "check.sarif"
    assert main(["policy", "check", *args, "--json", str(check), "--sarif", str(sarif)]) == 1
    text = capsys.readouterr().out
    assert "aws:ec2/instance:Instance web (__main__.py:6) [inputs from data-source placeholders: tags.zone]" in text
    assert "\nnote: " in text and "placeholders from data-source lookups (aws:route53/getZone:getZone:" in text
    doc = json.loads(check.read_text())
    (imds,) = [f for f in doc["findings"] if f["policy"] == "imdsv2-required"]
    assert imds["placeholderInputs"] == ["tags.zone"]
    assert doc["placeholders"] == report["placeholders"] and doc["notes"] == report["notes"]
    assert [x["token"] for x in doc["lookups"]] == ["aws:route53/getZone:getZone"]
    (run,) = json.loads(sarif.read_text())["runs"]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notes] == doc["notes"] and notes[0]["level"] == "note"


# ---------------------------------------------------------------- stack references in --program runs

UNLISTED = """
    config:
      aws:region: eu-west-1
      app-on-shared-cluster:platformStack: acme/platform/dev
"""


def test_unlisted_stack_reference_is_unknown_and_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A team's program reading another stack with no offline outputs previews (was: exit 3) and the note names the
    stack and the key that supplies its outputs."""
    program, config = _corpus("stack_reference", tmp_path, UNLISTED)
    pack = _pack(tmp_path, "dev", "eu-west-1")
    args = ["--program", str(program), "--config", str(config), "--policy-config", str(pack)]
    out = tmp_path / "preview.json"
    assert main(["preview", *args, "--format", "json", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    (note,) = report["notes"]
    assert "'acme/platform/dev'" in note and STACK_OUTPUTS_KEY in note and "unknown outputs" in note
    (ref,) = report["lookups"]
    assert ref["token"] == "pulumi:pulumi:StackReference" and "outputs" in ref["unknown"]
    assert any(r["type"] == "kubernetes:apps/v1:Deployment" for r in report["resources"])
    capsys.readouterr()
    assert main(["policy", "check", *args]) == 0
    out_text = capsys.readouterr().out
    assert f"note: {note}\n" in out_text


def test_listed_stack_reference_has_no_note(tmp_path: Path) -> None:
    program, config = _corpus("stack_reference", tmp_path)
    pack = _pack(tmp_path, "dev", "eu-west-1")
    out = tmp_path / "preview.json"
    assert main(["preview", "--program", str(program), "--config", str(config), "--policy-config", str(pack),
                 "--format", "json", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["notes"] == [] and report["placeholders"] == 0
    (ref,) = report["lookups"]
    assert "outputs" in ref["supplied"] or "outputs" not in ref["unknown"]


def test_reference_stack_report_has_no_notes(tmp_path: Path) -> None:
    out = tmp_path / "preview.json"
    assert main(["preview", "--stack", "dev", "--format", "json", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["notes"] == [] and report["placeholders"] == 0 and isinstance(report["lookups"], list)


def test_plain_program_config_needs_policy_config_for_the_pack_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A team's stack file without inferstack: keys: preview and policy check say to give --policy-config (exit 2,
    one line); render and conformance need no policy settings and run."""
    program = tmp_path / "__main__.py"
    program.write_text("import pulumi_kubernetes as k8s\n"
                       "k8s.core.v1.ConfigMap('cm', metadata={'name': 'x', 'namespace': 'default'}, data={'a': 'b'})\n")
    (tmp_path / "Pulumi.yaml").write_text("name: team-app\nruntime: python\n")
    config = tmp_path / "Pulumi.dev.yaml"
    config.write_text("config:\n  aws:region: eu-west-1\n")
    for argv in (["preview"], ["policy", "check"]):
        assert main([*argv, "--program", str(program), "--config", str(config)]) == 2
        line = _error_line(capsys)
        assert "has no inferstack: key: give the pack's settings with --policy-config FILE" in line
    out = tmp_path / "manifests"
    assert main(["render", "--program", str(program), "--config", str(config), "--out", str(out)]) == 0
    assert [p.name for p in out.rglob("*.yaml")] and "(aws, eu-west-1)" in capsys.readouterr().out
    assert main(["conformance", "--program", str(program), "--config", str(config), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)
    # the preview's root is <project>-<stack>, the program's own project, as pulumi preview names it
    pack = _pack(tmp_path, "dev", "eu-west-1")
    capsys.readouterr()
    main(["preview", "--program", str(program), "--config", str(config), "--policy-config", str(pack)])
    assert "pulumi:pulumi:Stack" in (text := capsys.readouterr().out) and " team-app-dev" in text
