"""The last crashing inputs of issue #24 through the real CLI: each is one ``error:`` line naming the key, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import stack_path

REPO = Path(__file__).resolve().parents[2]
DEV = stack_path("dev").read_text()
DEEP_PRICING = DEV + "  inferstack:pricing: '" + "[" * 100_000 + "]" * 100_000 + "'\n"
HUGE_VERSION = DEV.replace('version: "3"', 'version: "' + "1" * 5000 + '"')
assert HUGE_VERSION != DEV


def _cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "inferstack", *argv], capture_output=True, text=True, cwd=REPO, timeout=300)


@pytest.mark.parametrize(
    ("text", "key", "needle"),
    [
        (DEEP_PRICING, "inferstack:pricing", "nested deeper than 64 levels"),
        (HUGE_VERSION, "inferstack:models[0].version", "1 to 999999999"),
    ],
    ids=["pricing-100000-nested-arrays", "version-5000-digits"],
)
@pytest.mark.parametrize("command", [["config", "validate"], ["preview", "--format", "json"], ["cost"]])
def test_crashing_inputs_are_one_error_line_exit_2(tmp_path: Path, text: str, key: str, needle: str, command: list[str]) -> None:
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text(text)
    out = tmp_path / "out"
    argv = [*command, "--config", str(path)] + (["--out", str(out)] if command[0] != "config" else [])
    proc = _cli(*argv)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr[-2000:]
    assert f"{key}:" in lines[0] and needle in lines[0], lines[0]
    assert "Exceeds the limit" not in lines[0] and "Traceback" not in proc.stderr and len(lines[0]) < 600
    assert not out.exists() and proc.stdout == ""


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("'" + "[" * 100_000 + "]" * 100_000 + "'", "nested deeper than 64 levels"),
        ("'{\"acme/x/prod\": {\"outputs\": {\"n\": " + "1" * 5000 + "}}}'", "too large"),
        ("[1, 2]", "a mapping of stack names to"),
    ],
    ids=["deep", "huge", "not-a-mapping"],
)
def test_program_stack_outputs_are_bounded(tmp_path: Path, value: str, needle: str) -> None:
    """``--program``'s offline StackReference answers (a JSON string in the stack file) are decoded bounded too."""
    example = REPO / "examples" / "team-serving"
    lines = (example / "Pulumi.prod.yaml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  inferstack-offline:stackOutputs:"))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("  ") and not lines[i].startswith("   ")
                and not lines[i].lstrip().startswith("#")), len(lines))
    lines[start:end] = [f"  inferstack-offline:stackOutputs: {value}"]
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text("\n".join(lines) + "\n")
    proc = _cli("preview", "--program", str(example / "__main__.py"), "--config", str(path))
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert len(lines) == 1 and "inferstack-offline:stackOutputs:" in lines[0] and needle in lines[0], lines


@pytest.mark.parametrize("name", ["a" * 5000, "dev\n", "d\u0663v", "dev\u200b", "../stacks/Pulumi.dev", "Dev"])
def test_stack_argument_is_a_stack_name(name: str) -> None:
    """``--stack NAME`` takes the stack name's pattern (the one resource names use): one line, exit 2."""
    proc = _cli("config", "validate", "--stack", name)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert len(lines) == 1 and "--stack:" in lines[0] and "lower-case letters, digits and dashes" in lines[0], lines
    assert len(lines[0]) < 400
