"""docs/api.md documents what the examples use: every name they import from the public packages, every attribute of
the stack config (``cfg.<attr>``) they read, and every field they pass when they build a data class of the API
themselves (``PlatformOutputs(...)`` in byo-eks, ``RegistryOutputs(...)`` in team-serving)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.parent.name for p in (REPO / "examples").glob("*/__main__.py"))
PUBLIC = ("inferstack.components", "inferstack.serving", "inferstack.config")
API = (REPO / "docs" / "api.md").read_text()


def _tree(example: str) -> ast.Module:
    return ast.parse((REPO / "examples" / example / "__main__.py").read_text())


def _imported(tree: ast.Module) -> dict[str, str]:
    """Public name -> the package it is imported from."""
    return {a.name: n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module in PUBLIC
            for a in n.names}


def _section(name: str) -> str:
    """The ``### name`` section of docs/api.md (up to the next heading)."""
    m = re.search(rf"^### {re.escape(name)}\n(.*?)(?=^##)", API + "\n##", re.M | re.S)
    assert m, f"docs/api.md has no section ### {name}"
    return m.group(1)


def _documented(name: str) -> bool:
    return f"| `{name}` |" in API or re.search(rf"^### {re.escape(name)}$", API, re.M) is not None


def _member_documented(section: str, member: str) -> bool:
    """A field, property or method row of a data class section (``| `name` |`` or ``| `name(...)``)."""
    return re.search(rf"^\| `{re.escape(member)}(\(|`)", section, re.M) is not None


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_public_name_an_example_imports_is_documented(example: str) -> None:
    names = _imported(_tree(example))
    assert names, f"examples/{example} imports no public name"
    missing = sorted(f"{pkg}.{n}" for n, pkg in names.items() if not _documented(n))
    assert not missing, f"docs/api.md does not document {missing} (scripts/gen_docs.py)"


@pytest.mark.parametrize("example", EXAMPLES)
def test_stack_config_attributes_the_example_reads_are_documented(example: str) -> None:
    tree = _tree(example)
    attrs = {n.attr for n in ast.walk(tree)
             if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "cfg"}
    assert attrs, f"examples/{example} reads nothing of its StackConfig (cfg)"
    section = _section("StackConfig")
    missing = sorted(a for a in attrs if not _member_documented(section, a))
    assert not missing, f"StackConfig attributes used by examples/{example} but not in docs/api.md: {missing}"


@pytest.mark.parametrize("example", EXAMPLES)
def test_fields_of_data_classes_the_example_builds_are_documented(example: str) -> None:
    tree = _tree(example)
    imported = _imported(tree)
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)):
        name = call.func.id
        if name not in imported or not call.keywords or f"### {name}\n\n`" not in API:
            continue
        section = _section(name)
        if "(data class)" not in section.splitlines()[1]:
            continue
        missing = [k.arg for k in call.keywords if k.arg and not _member_documented(section, k.arg)]
        assert not missing, f"{name} fields examples/{example} passes but docs/api.md lacks: {missing}"
        undocumented = [line for line in section.splitlines() if line.startswith("| `") and line.endswith("|  |")]
        assert not undocumented, f"{name}: fields with no meaning in docs/api.md: {undocumented}"


def test_platform_outputs_is_documented_for_a_program_that_builds_it() -> None:
    section = _section("PlatformOutputs")
    for field in ("cloud", "region", "cluster_name", "k8s_provider", "kms_key", "identity", "pools", "ready"):
        assert re.search(rf"^\| `{field}` \| `[^`]+` \| [^|]+ \| \S", section, re.M), field
    assert "examples/byo-eks" in section


def test_config_values_return_shape_is_documented() -> None:
    row = next(line for line in API.splitlines() if line.startswith("| `config_values` |"))
    assert "-> tuple[dict[str, Any], set[str]]" in row and "(values, secret_keys)" in row
    assert "JSON-encoded" in row and "secret" in row
