"""Every checked-in stack file read by the real Pulumi CLI (issue #27 item 3: `secure:` values, Pulumi.yaml settings).

For each reference stack (stacks/, with the repo's Pulumi.yaml and its ``stackConfigDir``) and each example's stack
file (with the example's Pulumi.yaml), in a temp copy of the project with a file:// backend and a passphrase:
`pulumi stack init`, then `pulumi config --show-secrets --json` must decrypt and list every value, and each value must
be what the offline engine hands the program (``inferstack.engine.runner`` turns the file's values into the strings
Pulumi passes: JSON for objects). Needs only the CLI (no language host, no provider).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from inferstack.config import read_stack_file
from tests.e2e.pulumi_cli import PASSPHRASE, Workspace, cli_tools
from tests.e2e.tools import REPO

REFERENCE = sorted(p.name for p in (REPO / "stacks").glob("Pulumi.*.yaml"))
EXAMPLES = sorted(str(p.relative_to(REPO)) for p in (REPO / "examples").glob("*/Pulumi.*.yaml") if p.name != "Pulumi.yaml")


def copy_project(target: str, dest: Path) -> tuple[Path, str, Path]:
    """(project dir, stack name, stack file in the copy) of a reference stack file name or an example stack path."""
    if target.startswith("Pulumi."):
        shutil.copy(REPO / "Pulumi.yaml", dest / "Pulumi.yaml")
        config_dir = yaml.safe_load((REPO / "Pulumi.yaml").read_text()).get("stackConfigDir", ".")
        (dest / config_dir).mkdir(parents=True, exist_ok=True)
        stack_file = dest / config_dir / target
        shutil.copy(REPO / "stacks" / target, stack_file)
        name = target
    else:
        src = REPO / target
        shutil.copy(src.parent / "Pulumi.yaml", dest / "Pulumi.yaml")
        stack_file = dest / src.name
        shutil.copy(src, stack_file)
        name = src.name
    return dest, name[len("Pulumi."):-len(".yaml")], stack_file


def program_strings(stack_file: Path) -> dict[str, Any]:
    """What the offline engine passes the program for each key (objects as parsed JSON, strings as they are)."""
    f = read_stack_file(stack_file)
    out: dict[str, Any] = {}
    for key, value in f.config.items():
        if key in f.secret_keys:
            continue
        out[key] = value if isinstance(value, str) else json.loads(json.dumps(value))
    return out


@pytest.mark.parametrize("target", REFERENCE + EXAMPLES)
def test_the_cli_reads_every_stack_file(target: str, tmp_path: Path) -> None:
    ws = Workspace(cli_tools(), tmp_path / "ws")
    (tmp_path / "project").mkdir()
    project, stack, stack_file = copy_project(target, tmp_path / "project")
    ws.stack_init(project, stack)
    result = ws.run("config", "--stack", stack, "--show-secrets", "--json", cwd=project, check=False)
    assert result.returncode == 0, (
        f"the Pulumi CLI cannot read {target} (passphrase {PASSPHRASE!r}, fresh stack):\n{result.describe()}")
    listed = json.loads(result.stdout)
    expected = program_strings(stack_file)
    secret_keys = read_stack_file(stack_file).secret_keys
    assert set(listed) == set(expected) | set(secret_keys)
    for key, want in expected.items():
        got = listed[key]
        value = got["objectValue"] if "objectValue" in got else got["value"]
        if not isinstance(want, str):
            want = json.loads(json.dumps(want))
        elif not isinstance(value, str):
            value = json.dumps(value)
        assert value == want, (key, value, want)
        assert got["secret"] is False
    for key in secret_keys:
        assert listed[key]["secret"] is True
