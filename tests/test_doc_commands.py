"""Documented examples run as documented: each `inferstack rollout set` console example of docs/serving.md, run on a
copy of the reference stacks, prints what the page shows; the example key of ``valueFrom``'s reference text is one
the config accepts."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from inferstack.config.registry import SecretConfig
from inferstack.load import load_stack

REPO = Path(__file__).resolve().parents[1]
SERVING = REPO / "docs" / "serving.md"


def _console_examples(text: str, command: str) -> list[tuple[str, list[str]]]:
    """(command line, shown output lines) of every ``$ <command>`` in the page's console blocks."""
    out: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        current: tuple[str, list[str]] | None = None
        for line in block.splitlines():
            if line.startswith("$ "):
                current = None
                if line[2:].startswith(command):
                    current = (line[2:].split("#", 1)[0].strip(), [])
                    out.append(current)
            elif current is not None:
                current[1].append(line)
    return out


def _normalise(line: str) -> str:
    """Hunk headers carry line numbers of the stack file, which other edits of the file move."""
    return re.sub(r"^@@ -\d+,(\d+) \+\d+,(\d+) @@", r"@@ -N,\1 +N,\2 @@", line)


def _shown_in(shown: list[str], actual: list[str]) -> str | None:
    """None when the shown lines appear in the actual output in order, each run between ``...`` lines contiguous;
    else what is missing."""
    runs: list[list[str]] = [[]]
    for line in shown:
        if line.strip() == "...":
            runs.append([])
        else:
            runs[-1].append(_normalise(line))
    actual = [_normalise(line) for line in actual]
    pos = 0
    for run in (r for r in runs if r):
        for start in range(pos, len(actual) - len(run) + 1):
            if actual[start:start + len(run)] == run:
                pos = start + len(run)
                break
        else:
            return "\n".join(run)
    return None


EXAMPLES = _console_examples(SERVING.read_text(), "inferstack rollout set")


def test_the_page_has_rollout_set_examples() -> None:
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("command, shown", EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_rollout_set_example_prints_what_the_page_shows(command: str, shown: list[str], tmp_path: Path) -> None:
    stacks = tmp_path / "stacks"
    shutil.copytree(REPO / "stacks", stacks)
    argv = shlex.split(command)
    assert argv[0] == "inferstack"
    proc = subprocess.run([sys.executable, "-m", "inferstack", *argv[1:]], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    actual = proc.stdout.replace(f"{tmp_path}/", "").splitlines()
    missing = _shown_in(shown, actual)
    assert missing is None, f"docs/serving.md shows\n{missing}\nwhich `{command}` does not print:\n" + "\n".join(actual)


def test_value_from_reference_example_is_accepted() -> None:
    """The key the config reference gives as valueFrom's example (docs/config.md, from the field's description)."""
    description = SecretConfig.model_fields["value_from"].description or ""
    example = re.search(r"e\.g\. ([A-Za-z0-9_-]+:[A-Za-z0-9_.-]+)", description)
    assert example, description
    key = example.group(1)
    config = yaml.safe_load((REPO / "stacks" / "Pulumi.dev.yaml").read_text())["config"]
    config[key] = {"secure": "v1:an-encrypted-value"}
    config["inferstack:secrets"] = [{"name": "doc-example", "namespaces": ["team-nlp"], "valueFrom": key}]
    cfg = load_stack("dev", config, secret_keys=[key])
    assert [s.value_from for s in cfg.settings.secrets] == [key]
