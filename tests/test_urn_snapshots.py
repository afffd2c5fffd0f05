"""URN guard: the reference stacks' URNs match tests/snapshots/urns/<stack>.txt (scripts/snapshot_urns.py).

A changed URN makes `pulumi up` replace the resource; the failure names the URNs gone and added and says what to do.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from inferstack.cli import main
from inferstack.engine import run_program

from .conftest import recording

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "snapshot_urns.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("snapshot_urns", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("snapshot_urns", mod)
    spec.loader.exec_module(mod)
    return mod


snap = _load()


@pytest.mark.parametrize("stack", snap.reference_stacks())
def test_reference_stack_urns_unchanged(stack: str) -> None:
    path = snap.snapshot_path(stack)
    if not path.is_file():
        pytest.skip(f"no URN snapshot for {stack}: create it with python scripts/snapshot_urns.py --stack {stack}")
    expected = snap.parse(path.read_text())
    actual = snap.urns(recording(stack))
    assert len(actual) == len(set(actual)), f"stack {stack} declares a URN twice"
    diff = snap.difference(stack, expected, actual)
    assert not diff, diff


PROGRAM = """
import pulumi
import pulumi_kubernetes as k8s

class Outer(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("test:guard:Outer", name, None, opts)
        Inner(f"{name}-inner", opts=pulumi.ResourceOptions(parent=self))

class Inner(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("test:guard:Inner", name, None, opts)
        k8s.core.v1.ConfigMap(pulumi.Config("t").require("cm"), metadata={"name": "x", "namespace": "default"},
                              opts=pulumi.ResourceOptions(parent=self))

Outer("outer")
"""


def _urns(tmp_path: Path, cm_name: str) -> list[str]:
    program = tmp_path / "prog.py"
    program.write_text(PROGRAM)
    return snap.urns(run_program("guard", {"t:cm": cm_name, "aws:region": "eu-west-1"}, region="eu-west-1", program=program))


def test_urns_carry_every_parent_type_like_the_engine(tmp_path: Path) -> None:
    assert _urns(tmp_path, "settings") == [
        "urn:pulumi:guard::inferstack::test:guard:Outer$test:guard:Inner$kubernetes:core/v1:ConfigMap::settings",
        "urn:pulumi:guard::inferstack::test:guard:Outer$test:guard:Inner::outer-inner",
        "urn:pulumi:guard::inferstack::test:guard:Outer::outer",
    ]


def test_a_renamed_resource_fails_with_advice_and_both_urns(tmp_path: Path) -> None:
    before, after = _urns(tmp_path, "settings"), _urns(tmp_path, "settings-v2")
    diff = snap.difference("guard", before, after)
    assert diff.startswith("stack guard: URN changed: add aliases= to keep live resources, or regenerate with "
                           "python scripts/snapshot_urns.py if intended")
    assert "  - urn:pulumi:guard::inferstack::test:guard:Outer$test:guard:Inner$kubernetes:core/v1:ConfigMap::settings\n" in diff
    assert "  + urn:pulumi:guard::inferstack::test:guard:Outer$test:guard:Inner$kubernetes:core/v1:ConfigMap::settings-v2\n" in diff
    assert snap.difference("guard", before, list(before)) == ""


def test_snapshot_text_round_trips_and_skips_comments() -> None:
    lines = ["urn:pulumi:s::inferstack::a:b:C::one", "urn:pulumi:s::inferstack::a:b:C::two"]
    text = snap.render("s", lines)
    assert text.startswith("# URNs of stack s (stacks/Pulumi.s.yaml)")
    assert snap.parse(text) == lines


def test_check_mode_passes_on_a_current_snapshot_and_rejects_unknown_stacks(capsys: pytest.CaptureFixture[str]) -> None:
    stack = next(s for s in snap.reference_stacks() if snap.snapshot_path(s).is_file())
    assert snap.main(["--check", "--stack", stack]) == 0
    assert f"stack {stack}: " in capsys.readouterr().out
    assert snap.main(["--check", "--stack", "no-such-stack"]) == 2
    assert "unknown stack(s) no-such-stack" in capsys.readouterr().err


def test_added_urns_only_ask_for_a_regenerated_snapshot() -> None:
    before = ["urn:pulumi:s::inferstack::a:b:C::one"]
    diff = snap.difference("s", before, [*before, "urn:pulumi:s::inferstack::a:b:C::two"])
    assert diff.startswith("stack s: URNs added (no live resource is replaced): record them with python scripts/snapshot_urns.py")
    assert "  + urn:pulumi:s::inferstack::a:b:C::two" in diff


@pytest.mark.parametrize("stack", snap.reference_stacks())
def test_preview_json_urns_equal_the_snapshot(stack: str, tmp_path: Path) -> None:
    """The URNs `inferstack preview --format json` reports are the engine's own (whole parent type chain, as
    `pulumi up` records them), equal to the snapshot composed from the recorded parent links."""
    path = snap.snapshot_path(stack)
    if not path.is_file():
        pytest.skip(f"no URN snapshot for {stack}")
    out = tmp_path / "preview.json"
    assert main(["preview", "--stack", stack, "--format", "json", "--out", str(out)]) in (0, 1)
    reported = sorted(r["urn"] for r in json.loads(out.read_text())["resources"])
    assert reported == snap.parse(path.read_text())
