"""Generated docs: docs/api.md and the README's config reference match the code; `--check` catches staleness."""

from __future__ import annotations

import importlib.util
import inspect
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pulumi
import pytest

import inferstack.components as components
import inferstack.serving as serving
from inferstack.config.schema import stack_file_schema

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "gen_docs.py"


@pytest.fixture(scope="module")
def gen_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_docs", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120)


def test_generated_docs_are_current() -> None:
    proc = _run("--check")
    assert proc.returncode == 0, proc.stderr + "\nrun `make docs` and commit docs/api.md and README.md"


def _current_root(tmp_path: Path) -> Path:
    """A copy of the README and the API reference, regenerated (so these tests do not depend on the repo's copy)."""
    (tmp_path / "docs").mkdir()
    shutil.copy2(REPO / "docs" / "api.md", tmp_path / "docs" / "api.md")
    shutil.copy2(REPO / "README.md", tmp_path / "README.md")
    assert _run("--root", str(tmp_path)).returncode == 0
    assert _run("--check", "--root", str(tmp_path)).returncode == 0
    return tmp_path


def test_check_fails_on_a_stale_api_reference_and_write_repairs_it(tmp_path: Path) -> None:
    root = _current_root(tmp_path)
    api = root / "docs" / "api.md"
    current = api.read_text()
    api.write_text(current.replace("type token `inferstack:aws:Platform`", "type token `inferstack:aws:Old`"))
    proc = _run("--check", "--root", str(root))
    assert proc.returncode == 1
    assert "docs/api.md" in proc.stderr and "README.md" not in proc.stderr
    assert _run("--root", str(root)).returncode == 0
    assert api.read_text() == current
    assert _run("--check", "--root", str(root)).returncode == 0


def test_check_fails_on_a_stale_config_reference_and_write_touches_only_the_block(tmp_path: Path) -> None:
    root = _current_root(tmp_path)
    readme = root / "README.md"
    original = readme.read_text()
    row = "| `inferstack:registry.noncurrentVersionDays` |"
    assert row in original
    readme.write_text(original.replace(row, "| `inferstack:registry.oldKey` |") + "\nuser text outside the block\n")
    proc = _run("--check", "--root", str(root))
    assert proc.returncode == 1 and "README.md" in proc.stderr and "docs/api.md" not in proc.stderr
    assert _run("--root", str(root)).returncode == 0
    assert readme.read_text() == original + "\nuser text outside the block\n"


def test_missing_markers_are_an_error(gen_docs: ModuleType) -> None:
    with pytest.raises(SystemExit, match="config-reference:start"):
        gen_docs.splice_readme("# README without markers\n", "block\n")


def _schema_keys(node: dict[str, Any], defs: dict[str, Any], prefix: str) -> list[str]:
    """Every key path of the JSON Schema (an independent walk of the same models), as the reference writes it."""
    keys = []
    for name, prop in node.get("properties", {}).items():
        key = f"{prefix}{name}"
        keys.append(key)
        keys += _schema_keys(_resolve(prop, defs), defs, f"{key}.")
        items = _resolve(prop, defs).get("items")
        if items:
            keys += _schema_keys(_resolve(items, defs), defs, f"{key}[].")
    return keys


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in prop:
        return defs[prop["$ref"].rsplit("/", 1)[-1]]
    for alt in prop.get("anyOf", []):
        if "$ref" in alt or "items" in alt:
            return _resolve(alt, defs)
    return prop


def test_config_reference_lists_every_key_of_the_schema() -> None:
    schema = stack_file_schema()
    config = schema["properties"]["config"]
    inferstack_props = {k: v for k, v in config["properties"].items() if k.startswith("inferstack:")}
    keys = _schema_keys({"properties": inferstack_props}, schema["$defs"], "")
    readme = (REPO / "README.md").read_text()
    block = readme.split("<!-- config-reference:start -->", 1)[1].split("<!-- config-reference:end -->", 1)[0]
    assert len(keys) > 50
    missing = [k for k in keys if f"| `{k}` |" not in block]
    assert not missing, missing


def test_api_reference_documents_every_export() -> None:
    text = (REPO / "docs" / "api.md").read_text()
    for package in (components, serving):
        for name in package.__all__:
            value = getattr(package, name)
            if inspect.isclass(value) and issubclass(value, pulumi.ComponentResource):
                assert f"\n### {name}\n" in text, name
                doc = inspect.getdoc(value)
                assert doc and doc in text, f"{name}: docstring missing or stale in docs/api.md"
            else:
                assert f"| `{name}` |" in text, name
