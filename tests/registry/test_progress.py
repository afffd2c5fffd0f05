"""``push`` and ``pull`` progress (stderr, terminals only) and ``pull`` itself, against a real moto server."""

from __future__ import annotations

import filecmp
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import tests.registry.test_client as base

# the moto server and registry fixtures of test_registry_client
moto_endpoint, registry_env, registry, artifact = base.moto_endpoint, base.registry_env, base.registry, base.artifact
run = base.run


def _cli_on_terminal(env: dict[str, str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal (stdout a pipe): (exit code, stdout, what the terminal got)."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "inferstack", "registry", *argv],
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    out = proc.stdout.read().decode() if proc.stdout else ""
    proc.wait(timeout=120)
    return proc.returncode, out, b"".join(chunks).decode(errors="replace")


def _cli_piped(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "inferstack", "registry", *argv],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
    )


def test_push_and_pull_show_progress_on_a_terminal(registry, artifact, tmp_path):
    code, out, term = _cli_on_terminal(registry, "push", "prog", str(artifact))
    assert (code, out.strip()) == (0, "1"), term
    total = sum(p.stat().st_size for p in artifact.rglob("*") if p.is_file())
    assert "push prog:1:" in term and "3/3 files" in term and "/s" in term, term
    assert f"{total / 1024:.1f} KiB / {total / 1024:.1f} KiB" in term, term
    assert "hashing:" in term

    dest = tmp_path / "pulled"
    code, out, term = _cli_on_terminal(registry, "pull", "prog:1", str(dest))
    assert (code, out.strip()) == (0, str(dest)), term
    assert "pull prog:1:" in term and "3/3 files" in term and "/s" in term, term


def test_no_progress_when_stderr_is_not_a_terminal_or_the_output_is_json(registry, artifact, tmp_path):
    proc = _cli_piped(registry, "push", "quiet", str(artifact))
    assert (proc.returncode, proc.stdout.strip(), proc.stderr) == (0, "1", "")
    proc = _cli_piped(registry, "pull", "quiet:1", str(tmp_path / "a"))
    assert proc.returncode == 0 and proc.stderr == ""

    code, out, term = _cli_on_terminal(registry, "push", "quiet", str(artifact), "--format", "json")
    assert code == 0 and json.loads(out)["version"] == 2 and term == ""
    code, out, term = _cli_on_terminal(registry, "pull", "quiet:2", str(tmp_path / "b"), "--format", "json")
    assert code == 0 and json.loads(out)["files"] == 3 and term == ""


def test_terminal_progress_line():
    from inferstack.cli.registry_cmd import TerminalProgress

    stream = io.StringIO()
    p = TerminalProgress(stream, interval=0)
    p.start("push m:1", 3 * 1024 * 1024, 2)
    p.update(1024 * 1024, 0)
    p.update(2 * 1024 * 1024, 2)
    p.done()
    last = stream.getvalue().rstrip("\n").split("\r")[-1]
    assert last.startswith("push m:1: 3.0 MiB / 3.0 MiB, 2/2 files, ") and last.endswith("/s\x1b[K")
    assert stream.getvalue().endswith("\n")


def test_pull_round_trip_takes_only_the_manifest(registry, artifact, tmp_path, capsys):
    import boto3

    assert run(capsys, "push", "rt", str(artifact))[0] == 0
    boto3.client("s3").put_object(Bucket=registry["INFERSTACK_REGISTRY_BUCKET"], Key="models/rt/v1/stray.bin", Body=b"?")
    dest = tmp_path / "out" / "rt"
    code, out, err = run(capsys, "pull", "rt", str(dest), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["dest"] == str(dest) and json.loads(out)["version"] == 1
    cmp = filecmp.dircmp(artifact, dest)
    assert not cmp.left_only and not cmp.right_only and not cmp.diff_files
    assert filecmp.cmp(artifact / "tokenizer" / "vocab.txt", dest / "tokenizer" / "vocab.txt", shallow=False)
    assert sorted(p.name for p in dest.parent.iterdir()) == ["rt"]  # no temporary directory left
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run(capsys, "pull", "rt:1", str(empty))[0] == 0 and (empty / "config.json").is_file()


def test_pull_refuses_a_non_empty_destination(registry, artifact, tmp_path, capsys):
    assert run(capsys, "push", "ne", str(artifact))[0] == 0
    dest = tmp_path / "busy"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    code, out, err = run(capsys, "pull", "ne", str(dest))
    assert code == 2 and out == "" and err.count("\n") == 1 and "not an empty directory" in err
    assert [p.name for p in dest.iterdir()] == ["keep.txt"]


def test_pull_of_a_tampered_file_fails_and_leaves_no_destination(registry, artifact, tmp_path, capsys):
    import boto3

    assert run(capsys, "push", "tp", str(artifact))[0] == 0
    boto3.client("s3").put_object(Bucket=registry["INFERSTACK_REGISTRY_BUCKET"], Key="models/tp/v1/model.safetensors", Body=b"evil")
    dest = tmp_path / "tp"
    code, out, err = run(capsys, "pull", "tp", str(dest))
    assert code == 2 and out == "" and "digest mismatch" in err and "model.safetensors" in err
    assert not dest.exists() and list(tmp_path.glob(".tp.pull-*")) == []


def test_pull_refuses_a_manifest_path_that_leaves_the_destination(registry, artifact, tmp_path, capsys):
    from inferstack.registry.client import Registry

    assert run(capsys, "push", "esc", str(artifact))[0] == 0
    reg = Registry.from_env()
    item = reg.ddb.get_item(TableName=reg.table, Key={"model": {"S": "esc"}, "item": {"S": "v000000001"}})["Item"]
    item["files"]["L"][0]["M"]["path"] = {"S": "../../escaped.txt"}
    reg.ddb.put_item(TableName=reg.table, Item=item)
    dest = tmp_path / "a" / "b"
    code, out, err = run(capsys, "pull", "esc:1", str(dest))
    assert code == 2 and "unsafe path" in err and "../../escaped.txt" in err
    assert not (tmp_path / "escaped.txt").exists() and not Path(dest).exists()
