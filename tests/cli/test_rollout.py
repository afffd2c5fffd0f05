"""``inferstack rollout``: edits of the stack file keep everything else byte for byte, are validated, atomic, and
print what ``pulumi up`` will change; bad input exits 2 naming the argument and leaves the file untouched."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

import pytest

from inferstack.cli import main
from inferstack.cli.rollout import _yaml_for, validate_text, write_atomically
from inferstack.config import ConfigError
from inferstack.load import load_stack_file
from tests.conftest import stack_path

COMMENT = "      # canary owner: nlp on-call\n"


@pytest.fixture
def staging(tmp_path: Path) -> Path:
    """A copy of the staging stack with extra comments inside and after the models."""
    text = stack_path("staging").read_text().replace('        percent: 20\n', '        percent: 20  # raised by hand\n' + COMMENT)
    text += "# trailing comment\n"
    path = tmp_path / "Pulumi.staging.yaml"
    path.write_text(text)
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    a, b = before.splitlines(), after.splitlines()
    assert len(a) == len(b)
    return [(x, y) for x, y in zip(a, b, strict=True) if x != y]


def test_set_moves_the_canary_to_the_next_step_and_changes_only_that_line(capsys, staging):
    before = staging.read_text()
    code, out, _ = run(capsys, "rollout", "set", "--config", str(staging), "--model", "chat")
    assert code == 0
    after = staging.read_text()
    assert changed_lines(before, after) == [("        percent: 20  # raised by hand", "        percent: 25  # raised by hand")]
    assert "traffic v4 80% / v5 20% -> v4 75% / v5 25%" in out
    assert "-        percent: 20  # raised by hand\n+        percent: 25  # raised by hand" in out
    assert "~ kubernetes:serving.kserve.io/v1beta1:InferenceService staging-serving-team-nlp-chat-isvc" in out
    assert "spec.predictor.canaryTrafficPercent: 20 -> 25" in out
    assert load_stack_file(staging).settings.models[0].canary.percent == 25


def test_set_percent_explicit(capsys, staging):
    code, out, _ = run(capsys, "rollout", "set", "--config", str(staging), "--model", "team-nlp/chat", "--percent", "60")
    assert code == 0
    assert load_stack_file(staging).settings.models[0].canary.percent == 60


def test_set_version_starts_a_canary_after_the_version_key(capsys, staging):
    code, out, _ = run(capsys, "rollout", "set", "--config", str(staging), "--model", "embed", "--version", "5")
    assert code == 0
    text = staging.read_text()
    assert '      version: "4"\n      canary:\n        version: "5"\n        percent: 5\n      pool: inf2\n' in text
    assert "spec.predictor.canaryTrafficPercent: (none) -> 5" in out
    assert "/models/bge-large-en/v4/\" -> \"s3://" in out and "/models/bge-large-en/v5/" in out
    embed = load_stack_file(staging).settings.models[1]
    assert (embed.version, embed.canary.version, embed.canary.percent) == ("4", "5", 5)


def test_promote_makes_the_canary_stable(capsys, staging):
    code, out, _ = run(capsys, "rollout", "promote", "--config", str(staging), "--model", "chat")
    assert code == 0
    chat = load_stack_file(staging).settings.models[0]
    assert chat.version == "5" and chat.canary is None
    assert '      version: "5"\n' in staging.read_text()
    assert "spec.predictor.canaryTrafficPercent: 20 -> (removed)" in out
    assert "traffic v4 80% / v5 20% -> v5 100%" in out
    assert "# trailing comment" in staging.read_text()


def test_rollback_sends_traffic_back_to_stable(capsys, staging):
    code, out, _ = run(capsys, "rollout", "rollback", "--config", str(staging), "--model", "chat")
    assert code == 0
    assert load_stack_file(staging).settings.models[0].canary.percent == 0
    assert "spec.predictor.canaryTrafficPercent: 20 -> 0" in out
    assert COMMENT in staging.read_text()


def test_dry_run_writes_nothing(capsys, staging):
    before = staging.read_bytes()
    code, out, _ = run(capsys, "rollout", "set", "--config", str(staging), "--model", "chat", "--percent", "50", "--dry-run")
    assert code == 0 and "dry run: file not written" in out
    assert staging.read_bytes() == before


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["set", "--model", "nope", "--percent", "10"], "--model: no model 'nope' in inferstack:models; models: team-nlp/chat, team-search/embed"),
        (["set", "--model", "chat", "--percent", "150"], "--percent: must be between 0 and 100; got 150"),
        (["set", "--model", "chat", "--percent", "-5"], "--percent: must be between 0 and 100; got -5"),
        (["set", "--model", "embed", "--percent", "10"], "--version: embed has no canary; give --version to start one"),
        (["set", "--model", "chat", "--version", "4"], "--version: 4 is already the stable version of chat"),
        (["promote", "--model", "embed"], "--model: embed has no canary to promote"),
        (["rollback", "--model", "embed"], "--model: embed has no canary to roll back"),
    ],
)
def test_bad_input_exits_2_naming_the_argument_and_leaves_the_file(capsys, staging, argv, message):
    before, mtime = staging.read_bytes(), staging.stat().st_mtime_ns
    code, out, err = run(capsys, "rollout", argv[0], "--config", str(staging), *argv[1:])
    assert code == 2
    assert message in err and "Traceback" not in err
    assert out == ""
    assert staging.read_bytes() == before and staging.stat().st_mtime_ns == mtime
    assert [p.name for p in staging.parent.iterdir()] == [staging.name]


def test_unknown_stack_and_invalid_file_exit_2(capsys, tmp_path):
    code, _, err = run(capsys, "rollout", "set", "--stack", "nope", "--model", "chat")
    assert code == 2 and "--stack: no stack 'nope'" in err
    bad = tmp_path / "Pulumi.bad.yaml"
    bad.write_text(stack_path("dev").read_text().replace("minReplicas: 0", "minReplicas: -1"))
    before = bad.read_bytes()
    code, _, err = run(capsys, "rollout", "rollback", "--config", str(bad), "--model", "chat")
    assert code == 2 and "inferstack:models[0].minReplicas" in err
    assert bad.read_bytes() == before


def test_percent_must_be_an_integer(staging):
    with pytest.raises(SystemExit) as exc:
        main(["rollout", "set", "--config", str(staging), "--model", "chat", "--percent", "ten"])
    assert exc.value.code == 2


def test_validate_text_reports_the_edit_as_not_written(staging):
    text = staging.read_text().replace('version: "5"', 'version: "4"')  # canary == stable
    with pytest.raises(ConfigError) as err:
        validate_text(text, staging)
    assert "file left unchanged" in str(err.value)
    assert "inferstack:models[0].canary.version: 4 is the stable version too" in str(err.value)


def test_write_atomically_keeps_the_mode_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text("old\n")
    os.chmod(path, 0o640)
    write_atomically(path, "new\n")
    assert path.read_text() == "new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["Pulumi.x.yaml"]


def test_status_text_and_json(capsys):
    code, out, _ = run(capsys, "rollout", "status", "--stack", "prod")
    assert code == 0
    assert "team-nlp/chat: stable v3, canary v5 at 10%; traffic v3 90% / v5 10%" in out
    assert "chat-v5 router.route.weight 10" in out and "prev-chat-predictor" not in out  # an LLM: no Knative tags
    code, out, _ = run(capsys, "rollout", "status", "--stack", "gcp-prod", "--model", "gemma-tpu", "--format", "json")
    data = json.loads(out)
    assert data["models"] == [
        {"model": "team-nlp/gemma-tpu", "stable": "3", "canary": None, "canaryPercent": None, "traffic": {"v3": 100},
         "track": "knative", "inferenceService": "gemma-tpu", "deploymentMode": "Knative", "service": "gemma-tpu-predictor",
         "host": "gemma-tpu-predictor.team-nlp.svc.cluster.local", "canaryTrafficPercent": None,
         "tagRoutes": {"latest": "latest-gemma-tpu-predictor.team-nlp.svc.cluster.local"}}
    ]


def test_every_reference_stack_round_trips_unchanged():
    """The YAML round trip reproduces each reference stack exactly, so an edit changes only its own lines."""
    for path in sorted(stack_path("dev").parent.glob("Pulumi.*.yaml")):
        text = path.read_text()
        y = _yaml_for(text)
        buf = io.StringIO()
        y.dump(y.load(text), buf)
        assert buf.getvalue() == text, path.name


@pytest.mark.parametrize(
    ("option", "value", "allowed"),
    [
        ("--percent", "٣٠", "a whole percentage (0 to 100)"),  # Arabic-Indic digits
        ("--percent", "３０", "a whole percentage (0 to 100)"),  # fullwidth digits
        ("--percent", "1" * 5000, "a whole percentage (0 to 100)"),
        ("--lock-timeout", "١٠", "a number of seconds"),
        ("--lock-timeout", "inf", "a number of seconds"),
        ("--lock-timeout", "1e999", "out of range"),
    ],
)
def test_look_alike_and_huge_numbers_are_refused_and_change_nothing(
    staging: Path, capsys, option: str, value: str, allowed: str
) -> None:
    before = staging.read_bytes()
    with pytest.raises(SystemExit) as exc:
        main(["rollout", "set", "--config", str(staging), "--model", "chat", option, value])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and option in err and allowed in err and "Traceback" not in err, err
    assert staging.read_bytes() == before
