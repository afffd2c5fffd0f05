"""``inferstack rollout`` under bad input and faults: a rolled-back canary is not promoted by accident, a canary's
version is not replaced at its old share, ``drop`` removes a canary, every edit prints the traffic before and
after, comments of other entries survive a removed canary, the stack file is replaced atomically, and two
concurrent rollouts never lose an update (exclusive lock beside the stack file)."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from inferstack.cli import main
from inferstack.load import load_stack_file
from tests.conftest import REPO, stack_path


@pytest.fixture
def staging(tmp_path: Path) -> Path:
    path = tmp_path / "Pulumi.staging.yaml"
    path.write_text(stack_path("staging").read_text())
    return path


@pytest.fixture
def rolled_back(staging: Path) -> Path:
    """Staging with chat's canary (v5) rolled back to 0%."""
    staging.write_text(staging.read_text().replace("        percent: 20\n", "        percent: 0\n"))
    return staging


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_refused(capsys, path: Path, argv: list[str], message: str) -> None:
    """Exit 2, one ``error:`` line naming the problem, nothing on stdout, the file and its directory untouched."""
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    code, out, err = run(capsys, "rollout", argv[0], "--config", str(path), *argv[1:])
    assert code == 2, (out, err)
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert message in err
    assert out == ""
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def chat(path: Path):
    return load_stack_file(path).settings.models[0]


def embed(path: Path):
    return load_stack_file(path).settings.models[1]


# ---------------------------------------------------------------- promote of a rolled-back canary


def test_promote_refuses_a_rolled_back_canary(capsys, rolled_back):
    assert_refused(
        capsys, rolled_back, ["promote", "--model", "chat"],
        "--model: chat's canary v5 is at 0% (rolled back); promoting it would send it all traffic at once; "
        "give --force to promote it anyway",
    )


def test_promote_force_promotes_a_rolled_back_canary(capsys, rolled_back):
    code, out, _ = run(capsys, "rollout", "promote", "--config", str(rolled_back), "--model", "chat", "--force")
    assert code == 0
    assert "team-nlp/chat in " in out and ": traffic v4 100% / v5 0% -> v5 100%" in out
    m = chat(rolled_back)
    assert (m.version, m.canary) == ("5", None)


def test_force_is_only_an_option_of_promote(staging):
    with pytest.raises(SystemExit) as exc:
        main(["rollout", "rollback", "--config", str(staging), "--model", "chat", "--force"])
    assert exc.value.code == 2


# ---------------------------------------------------------------- set --version on an existing canary


def test_set_version_of_an_existing_canary_requires_percent(capsys, staging):
    assert_refused(
        capsys, staging, ["set", "--model", "chat", "--version", "6"],
        "--percent: chat's canary is v5 at 20%; replacing it with v6 needs --percent "
        "(the share v6 starts with, e.g. --percent 5)",
    )


def test_set_version_with_percent_replaces_the_canary(capsys, staging):
    code, out, _ = run(capsys, "rollout", "set", "--config", str(staging), "--model", "chat", "--version", "6", "--percent", "5")
    assert code == 0
    assert ": traffic v4 80% / v5 20% -> v4 95% / v6 5%" in out
    m = chat(staging)
    assert (m.version, m.canary.version, m.canary.percent) == ("4", "6", 5)


def test_set_version_of_the_same_canary_without_percent_changes_nothing(capsys, staging):
    before, mtime = staging.read_bytes(), staging.stat().st_mtime_ns
    code, out, err = run(capsys, "rollout", "set", "--config", str(staging), "--model", "chat", "--version", "5")
    assert (code, err) == (0, "")
    assert "team-nlp/chat: traffic v4 80% / v5 20% unchanged; file not written" in out
    assert staging.read_bytes() == before and staging.stat().st_mtime_ns == mtime


def test_rollback_of_a_rolled_back_canary_changes_nothing(capsys, rolled_back):
    before = rolled_back.read_bytes()
    code, out, _ = run(capsys, "rollout", "rollback", "--config", str(rolled_back), "--model", "chat")
    assert code == 0 and "traffic v4 100% / v5 0% unchanged; file not written" in out
    assert rolled_back.read_bytes() == before


# ---------------------------------------------------------------- drop


def test_drop_removes_the_canary(capsys, staging):
    before = staging.read_text()
    code, out, _ = run(capsys, "rollout", "drop", "--config", str(staging), "--model", "chat")
    assert code == 0
    assert ": traffic v4 80% / v5 20% -> v4 100%" in out
    assert "spec.predictor.canaryTrafficPercent: 20 -> (removed)" in out
    assert "/models/llama-3-8b-instruct/v5/\" -> \"s3://" in out and "/models/llama-3-8b-instruct/v4/" in out
    after = staging.read_text()
    assert after == before.replace('      canary:\n        version: "5"\n        percent: 20\n', "")
    m = chat(staging)
    assert (m.version, m.canary) == ("4", None)


def test_drop_of_a_rolled_back_canary(capsys, rolled_back):
    code, out, _ = run(capsys, "rollout", "drop", "--config", str(rolled_back), "--model", "team-nlp/chat")
    assert code == 0 and ": traffic v4 100% / v5 0% -> v4 100%" in out
    assert chat(rolled_back).canary is None


def test_drop_needs_a_canary(capsys, staging):
    assert_refused(capsys, staging, ["drop", "--model", "embed"], "--model: embed has no canary to drop")


def test_drop_dry_run_writes_nothing(capsys, staging):
    before = staging.read_bytes()
    code, out, _ = run(capsys, "rollout", "drop", "--config", str(staging), "--model", "chat", "--dry-run")
    assert code == 0 and "dry run: file not written" in out and "-> v4 100%" in out
    assert staging.read_bytes() == before


@pytest.mark.parametrize("action", ["drop", "promote"])
def test_removing_a_canary_keeps_the_comments_that_follow_it(capsys, staging, action):
    """Full-line comments after the canary block belong to what follows (here the next model): they stay."""
    text = staging.read_text().replace('      canary:\n        version: "5"\n        percent: 20\n', "")
    text = text.replace(
        "      maxReplicas: 4\n",
        '      maxReplicas: 4  # peak\n      canary:\n        version: "5"\n        percent: 20  # canary line\n'
        "    # embeddings: owned by team-search\n",
        1,
    )
    staging.write_text(text)
    code, _, _ = run(capsys, "rollout", action, "--config", str(staging), "--model", "chat")
    assert code == 0
    after = staging.read_text()
    assert "      maxReplicas: 4  # peak\n    # embeddings: owned by team-search\n    - name: embed\n" in after
    assert "canary" not in after


def test_removing_a_canary_in_the_middle_keeps_the_comment_below_it(capsys, staging):
    text = staging.read_text().replace("        percent: 20\n", "        percent: 20\n      # pool picked by the capacity planner\n")
    staging.write_text(text)
    code, _, _ = run(capsys, "rollout", "drop", "--config", str(staging), "--model", "chat")
    assert code == 0
    assert '      version: "4"\n      # pool picked by the capacity planner\n      pool: gpu-l4\n' in staging.read_text()


# ---------------------------------------------------------------- traffic before and after, for every edit


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["set", "--model", "embed", "--version", "5"], "team-search/embed in {path}: traffic v4 100% -> v4 95% / v5 5%"),
        (["set", "--model", "chat"], "team-nlp/chat in {path}: traffic v4 80% / v5 20% -> v4 75% / v5 25%"),
        (["promote", "--model", "chat"], "team-nlp/chat in {path}: traffic v4 80% / v5 20% -> v5 100%"),
        (["rollback", "--model", "chat"], "team-nlp/chat in {path}: traffic v4 80% / v5 20% -> v4 100% / v5 0%"),
        (["drop", "--model", "chat"], "team-nlp/chat in {path}: traffic v4 80% / v5 20% -> v4 100%"),
    ],
)
def test_every_edit_prints_the_traffic_before_and_after(capsys, staging, argv, line):
    code, out, _ = run(capsys, "rollout", argv[0], "--config", str(staging), *argv[1:])
    assert code == 0
    assert out.splitlines()[0] == line.format(path=staging)


# ---------------------------------------------------------------- atomic replacement


def _python(code: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, capture_output=True, text=True, timeout=120, **kwargs)


def test_a_rollout_killed_before_the_rename_leaves_the_old_file(capsys, staging):
    """SIGKILL between writing the temporary file and renaming it: the stack file is the old one, whole; the next
    rollout removes the stale temporary file and works."""
    before = staging.read_bytes()
    proc = _python(f"""
        import os, signal
        os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
        from inferstack.cli import main
        main(["rollout", "set", "--config", {str(staging)!r}, "--model", "chat", "--percent", "50"])
    """)
    assert proc.returncode == -9, proc.stderr
    assert staging.read_bytes() == before
    leftovers = sorted(p.name for p in staging.parent.iterdir() if p != staging)
    assert len(leftovers) == 2 and leftovers[0].startswith(".Pulumi.staging.yaml.") and leftovers[0].endswith(".tmp")
    assert leftovers[1] == "Pulumi.staging.yaml.lock"  # left by the killed process; its flock died with it

    code, _, _ = run(capsys, "rollout", "set", "--config", str(staging), "--model", "chat", "--percent", "50")
    assert code == 0
    assert chat(staging).canary.percent == 50
    assert [p.name for p in staging.parent.iterdir()] == [staging.name]


def test_a_rollout_killed_while_writing_the_temporary_file_leaves_the_old_file(staging):
    before = staging.read_bytes()
    proc = _python(f"""
        import os, signal
        os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)
        from inferstack.cli import main
        main(["rollout", "drop", "--config", {str(staging)!r}, "--model", "chat"])
    """)
    assert proc.returncode == -9, proc.stderr
    assert staging.read_bytes() == before


def test_a_failed_write_exits_2_and_leaves_the_file(capsys, staging, monkeypatch):
    import inferstack.cli.rollout as cli_rollout

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli_rollout.tempfile, "mkstemp", no_space)
    before = staging.read_bytes()
    code, _, err = run(capsys, "rollout", "set", "--config", str(staging), "--model", "chat", "--percent", "50")
    assert code == 2 and err.count("\n") == 1
    assert f"error: inferstack rollout: {staging}: cannot write: No space left on device; file left unchanged" in err
    assert staging.read_bytes() == before
    assert [p.name for p in staging.parent.iterdir()] == [staging.name]


def test_a_file_changed_by_another_program_during_the_edit_is_not_overwritten(capsys, staging, monkeypatch):
    """A writer that ignores the lock (an editor, git) changes the file while the engine runs: refuse, keep theirs."""
    import inferstack.cli.rollout as cli_rollout

    real = cli_rollout.run_stack

    def run_and_edit(cfg):
        if "# edited meanwhile" not in staging.read_text():
            staging.write_text(staging.read_text() + "# edited meanwhile\n")
        return real(cfg)

    monkeypatch.setattr(cli_rollout, "run_stack", run_and_edit)
    code, _, err = run(capsys, "rollout", "set", "--config", str(staging), "--model", "chat", "--percent", "50")
    assert code == 2 and err.count("\n") == 1
    assert f"{staging} changed while this rollout ran (another program wrote it); nothing written, run the command again" in err
    assert staging.read_text().endswith("# edited meanwhile\n")
    assert chat(staging).canary.percent == 20


# ---------------------------------------------------------------- concurrent rollouts


def _rollout(path: Path, *argv: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "inferstack", "rollout", argv[0], "--config", str(path), *argv[1:]],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_two_concurrent_rollouts_both_land(staging):
    """Two processes edit two models of the same file at once: both updates are in the file (the second waits)."""
    a = _rollout(staging, "set", "--model", "chat", "--percent", "30")
    b = _rollout(staging, "set", "--model", "embed", "--version", "5")
    results = [(p.wait(timeout=120), *p.communicate()) for p in (a, b)]
    for code, out, err in results:
        assert code == 0, err
        assert "wrote " in out
    assert chat(staging).canary.percent == 30
    e = embed(staging)
    assert (e.canary.version, e.canary.percent) == ("5", 5)
    assert [p.name for p in staging.parent.iterdir()] == [staging.name]


def test_a_rollout_that_cannot_get_the_lock_exits_2_saying_locked(capsys, staging):
    before = staging.read_bytes()
    lock = staging.with_name(staging.name + ".lock")
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write("4242\n")
        held.flush()
        code, out, err = run(capsys, "rollout", "set", "--config", str(staging), "--model", "chat", "--lock-timeout", "0")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"error: inferstack rollout: {staging} is locked by another rollout (pid 4242, lock file {lock})" in err
    assert staging.read_bytes() == before


def test_a_rollout_waits_for_the_lock(capsys, staging):
    lock = staging.with_name(staging.name + ".lock")
    held = open(lock, "w")  # noqa: SIM115
    fcntl.flock(held, fcntl.LOCK_EX)

    def release() -> None:
        time.sleep(0.5)
        held.close()

    t = threading.Thread(target=release)
    t.start()
    start = time.monotonic()
    code, out, _ = run(capsys, "rollout", "set", "--config", str(staging), "--model", "chat", "--percent", "40", "--lock-timeout", "30")
    t.join()
    assert code == 0 and time.monotonic() - start >= 0.5
    assert chat(staging).canary.percent == 40


def test_bad_lock_timeout_is_a_usage_error(staging):
    with pytest.raises(SystemExit) as exc:
        main(["rollout", "set", "--config", str(staging), "--model", "chat", "--lock-timeout", "-1"])
    assert exc.value.code == 2


def test_dry_run_and_status_do_not_take_the_lock(capsys, staging):
    lock = staging.with_name(staging.name + ".lock")
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        code, out, _ = run(capsys, "rollout", "drop", "--config", str(staging), "--model", "chat", "--dry-run", "--lock-timeout", "0")
        assert code == 0 and "dry run" in out
        code, out, _ = run(capsys, "rollout", "status", "--config", str(staging))
        assert code == 0
    os.unlink(lock)


def test_a_lock_file_that_cannot_be_created_exits_2(capsys, staging):
    staging.with_name(staging.name + ".lock").mkdir()  # EISDIR when opened for writing
    before = staging.read_bytes()
    code, out, err = run(capsys, "rollout", "drop", "--config", str(staging), "--model", "chat")
    assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert f"{staging}: cannot create the lock file {staging}.lock: Is a directory; file left unchanged" in err
    assert staging.read_bytes() == before
