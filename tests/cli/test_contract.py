"""The CLI contract of every command: exit codes, one-line errors, no traceback, what it runs, deterministic output.

0 ok, 1 mandatory policy findings, 2 usage or config error, 3 program or I/O failure, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from inferstack.cli import COMMANDS, build_parser, main

REPO = Path(__file__).resolve().parents[2]


def _run(*argv: str, cwd: Path = REPO, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "inferstack", *argv], capture_output=True, text=True, cwd=cwd,
                          timeout=300, **kw)  # type: ignore[call-overload]


def test_version() -> None:
    proc = _run("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("inferstack ")


@pytest.mark.parametrize("argv", [["--help"], ["config", "validate", "--stack", "gcp-dev"], ["config", "schema"]])
def test_light_commands_import_no_pulumi_sdk(argv: list[str]) -> None:
    code = (
        "import sys, runpy\n"
        f"sys.argv = ['inferstack', *{argv!r}]\n"
        "from inferstack.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'pulumi_aws', 'pulumi_gcp', "
        "'pulumi_kubernetes', 'pulumi_policy', 'ruamel', 'boto3'))\n"
        "print('HEAVY', heavy)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert "HEAVY []" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]


def test_command_table_help_matches_each_module() -> None:
    """``COMMANDS`` lists each subcommand's help so that ``--help`` imports nothing; it must say what the module says."""
    for name, (module, help_text) in COMMANDS.items():
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        importlib.import_module(module).register(sub)
        (registered,) = [a for a in sub._choices_actions if a.dest == name]  # noqa: SLF001 - argparse keeps help here
        assert registered.help == help_text, name


def test_only_the_chosen_command_is_built() -> None:
    parser = build_parser(["cost", "--stack", "dev"])
    args = parser.parse_args(["cost", "--stack", "dev"])
    assert args.command == "cost" and callable(args.func)


def test_default_stack_is_announced(tmp_path: Path) -> None:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text((REPO / "stacks" / "Pulumi.dev.yaml").read_text())
    proc = _run("config", "validate", cwd=tmp_path)
    assert proc.returncode == 0
    assert "no --stack or --config given; using stack dev" in proc.stderr


def test_no_silent_fallback_to_the_packages_stacks(tmp_path: Path) -> None:
    proc = _run("config", "validate", "--stack", "prod", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "no stacks directory" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_unwritable_out_is_one_line_exit_3(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    proc = _run("cost", "--stack", "dev", "--out", str(blocker / "x" / "cost.txt"))
    assert proc.returncode == 3 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("error: inferstack cost: cannot access")


def test_broken_pipe_exits_quietly() -> None:
    proc = subprocess.run(f"{sys.executable} -m inferstack config schema | head -c 10", shell=True, capture_output=True,
                          text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0 and proc.stderr == ""


def test_failing_program_is_one_line_with_its_file_and_line(tmp_path: Path) -> None:
    program = tmp_path / "__main__.py"
    program.write_text("import pulumi\n\nvalues = {}\nprint(values['missing'])\n")
    config = tmp_path / "Pulumi.dev.yaml"
    config.write_text("config:\n  aws:region: eu-west-1\n  inferstack:cloud: aws\n  inferstack:environment: dev\n"
                      "  inferstack:residency:\n    allowedRegions: [eu-west-1]\n")
    proc = _run("policy", "check", "--program", str(program), "--config", str(config))
    assert proc.returncode == 3 and "Traceback" not in proc.stderr, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "KeyError" in line and f"{program}:4" in line


def test_internal_error_shows_a_traceback_only_with_debug(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import inferstack.cli.config_cmd as config_cmd

    def boom(args: argparse.Namespace) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(config_cmd, "_schema", boom)
    assert main(["config", "schema"]) == 3
    assert "RuntimeError: boom" in capsys.readouterr().err
    with pytest.raises(RuntimeError):
        main(["--debug", "config", "schema"])


def test_preview_json_is_byte_identical_across_runs(tmp_path: Path) -> None:
    outs = []
    for i in range(2):
        out = tmp_path / f"p{i}.json"
        assert _run("preview", "--stack", "gcp-dev", "--format", "json", "--out", str(out)).returncode == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    json.loads(outs[0])


def test_render_and_policy_reports_are_byte_identical_across_runs(tmp_path: Path) -> None:
    trees, reports = [], []
    for i in range(2):
        out = tmp_path / f"r{i}"
        assert _run("render", "--stack", "prod", "--out", str(out)).returncode == 0
        trees.append({p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()})
        report = tmp_path / f"policy{i}.json"
        assert _run("policy", "check", "--stack", "prod", "--json", str(report)).returncode == 0
        reports.append(report.read_bytes())
    assert trees[0] == trees[1] and reports[0] == reports[1]


BYO = REPO / "examples" / "byo-eks"


def test_preview_render_and_cost_run_any_program(tmp_path: Path) -> None:
    """``--program`` works like ``policy check``'s: the program runs with its stack file, URNs carry the project
    name of its Pulumi.yaml, and the header says which program ran."""
    args = ["--program", str(BYO / "__main__.py"), "--config", str(BYO / "Pulumi.prod.yaml")]
    out = tmp_path / "preview.json"
    proc = _run("preview", *args, "--format", "json", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["program"] == str(BYO / "__main__.py")
    assert report["resources"] and all(r["urn"].startswith("urn:pulumi:prod::byo-eks::") for r in report["resources"])
    text = _run("preview", *args)
    assert text.stdout.startswith(f"Previewing stack prod (aws, prod, eu-central-1), program {BYO / '__main__.py'} offline")
    rendered = _run("render", *args, "--out", str(tmp_path / "manifests"))
    assert rendered.returncode == 0 and any((tmp_path / "manifests").rglob("NodePool.karpenter.sh.*.yaml"))
    cost = _run("cost", *args, "--format", "json")
    assert cost.returncode == 0 and json.loads(cost.stdout)["stack"] == "prod"


def test_program_needs_its_config_file() -> None:
    proc = _run("preview", "--program", str(BYO / "__main__.py"))
    assert proc.returncode == 2 and "--program needs --config FILE" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("delay", [0.15, 0.3, 0.8, 1.5, 3.0])
def test_ctrl_c_at_any_moment_exits_130_with_one_line(delay: float) -> None:
    import signal
    import time

    proc = subprocess.Popen([sys.executable, "-m", "inferstack", "preview", "--stack", "prod"], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("the preview finished before the signal")
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip().splitlines() == ["error: interrupted"]


def test_help_imports_no_config_model() -> None:
    """`inferstack --help` parses nothing but arguments: neither pydantic nor the config models are imported."""
    code = (
        "import sys\n"
        "from inferstack.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] == 'pydantic' or m.startswith('inferstack.config')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert "LOADED []" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]
