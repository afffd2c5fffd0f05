"""The docs: generated pages (docs/api.md, docs/config.md's config reference) match the code and `--check` catches
staleness; the README stays a short index whose links, and every page's links, resolve."""

from __future__ import annotations

import importlib.util
import inspect
import re
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
CONFIG_DOC = REPO / "docs" / "config.md"


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
    assert proc.returncode == 0, proc.stderr + "\nrun `make docs` and commit docs/api.md and docs/config.md"


def _current_root(tmp_path: Path) -> Path:
    """A copy of the generated pages, regenerated (so these tests do not depend on the repo's copy)."""
    (tmp_path / "docs").mkdir()
    for page in ("api.md", "config.md"):
        shutil.copy2(REPO / "docs" / page, tmp_path / "docs" / page)
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
    assert "docs/api.md" in proc.stderr and "docs/config.md" not in proc.stderr
    assert _run("--root", str(root)).returncode == 0
    assert api.read_text() == current
    assert _run("--check", "--root", str(root)).returncode == 0


def test_check_fails_on_a_stale_config_reference_and_write_touches_only_the_block(tmp_path: Path) -> None:
    root = _current_root(tmp_path)
    page = root / "docs" / "config.md"
    original = page.read_text()
    row = "| `inferstack:registry.noncurrentVersionDays` |"
    assert row in original
    page.write_text(original.replace(row, "| `inferstack:registry.oldKey` |") + "\nuser text outside the block\n")
    proc = _run("--check", "--root", str(root))
    assert proc.returncode == 1 and "docs/config.md" in proc.stderr and "docs/api.md" not in proc.stderr
    assert _run("--root", str(root)).returncode == 0
    assert page.read_text() == original + "\nuser text outside the block\n"


def test_missing_markers_are_an_error(gen_docs: ModuleType) -> None:
    with pytest.raises(SystemExit, match="config-reference:start"):
        gen_docs.splice_config_doc("# Stack config without markers\n", "block\n")


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
    text = CONFIG_DOC.read_text()
    block = text.split("<!-- config-reference:start -->", 1)[1].split("<!-- config-reference:end -->", 1)[0]
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


# ---------------------------------------------------------------- the README as an index, links between pages

README = REPO / "README.md"
PAGES = sorted((REPO / "docs").glob("*.md"))
README_MAX_LINES = 200
_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.M | re.S)
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.S)
_INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+[\"'(][^)]*)?\)")
_REFERENCE_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$", re.M)


def markdown_links(text: str) -> list[str]:
    """Targets of the inline links, images and reference definitions of Markdown text, outside code."""
    prose = _CODE_SPAN.sub("", _FENCE.sub("", text))
    return _INLINE_LINK.findall(prose) + _REFERENCE_DEF.findall(prose)


def relative_links(path: Path) -> list[str]:
    """The links of a page that point into the repository (no scheme such as https: or mailto:)."""
    return [t for t in markdown_links(path.read_text()) if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", t)]


def test_markdown_link_parser() -> None:
    text = (
        "[a](docs/a.md) and ![img](img/x.png \"title\") and [b](https://example.com)\n"
        "`[not](a-link.md)` [x `code`](c.md)\n```\n[fenced](no.md)\n```\n[ref]: <d.md>\n"
    )
    assert markdown_links(text) == ["docs/a.md", "img/x.png", "https://example.com", "c.md", "d.md"]


@pytest.mark.parametrize("path", [README, *PAGES], ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve_to_files_without_anchors(path: Path) -> None:
    links = relative_links(path)
    anchored = [t for t in links if "#" in t]
    assert not anchored, f"{path.name}: link to a file, not an anchor (anchors break when headings move): {anchored}"
    missing = [t for t in links if not t or not (path.parent / t).exists()]
    assert not missing, f"{path.name}: links to missing files: {missing}"


_REPO_FILE = re.compile(
    r"`((?:components|serving|policies|inferstack|tests|scripts|stacks|examples|provider|docs|\.github|\.ci)/[\w./-]*\.\w+)`"
)


@pytest.mark.parametrize("path", [README, *PAGES], ids=lambda p: str(p.relative_to(REPO)))
def test_files_named_in_code_spans_exist(path: Path) -> None:
    """A repository file a page names (`tests/test_x.py`, `components/aws/platform.py`, ...) exists: moves update docs."""
    named = sorted(set(_REPO_FILE.findall(path.read_text())))
    missing = [f for f in named if not (REPO / f).exists()]
    assert not missing, f"{path.name} names files that do not exist (moved?): {missing}"


def test_readme_is_a_short_index_of_every_docs_page() -> None:
    text = README.read_text()
    lines = len(text.splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines (at most {README_MAX_LINES}): move detail to docs/"
    linked = {(README.parent / t).resolve() for t in relative_links(README)}
    unlinked = [p.name for p in PAGES if p.resolve() not in linked]
    assert not unlinked, f"README.md links no entry for: {unlinked}"
    assert {"config.md", "architecture.md", "api.md"} <= {p.name for p in PAGES}


def test_readme_quick_start_matches_the_makefile() -> None:
    """The two set-up commands the README promises exist, and `make preview` is the dev stack's offline preview."""
    readme = README.read_text()
    makefile = (REPO / "Makefile").read_text()
    for target in ("preview", "test"):
        assert f"make {target}" in readme
        assert re.search(rf"^{target}:.*\binstall\b", makefile, re.M), f"make {target} no longer installs first"
    assert "inferstack preview --stack dev" in makefile


def test_policy_table_lists_every_policy_with_its_levels() -> None:
    """docs/policies.md's table (hand-written checks) names every policy of the pack with its levels per environment."""
    from inferstack.config.base import Environment
    from inferstack.policies.pack import ENTRIES

    text = (REPO / "docs" / "policies.md").read_text()
    rows = {}
    for line in text.splitlines():
        m = re.match(r"^\| `([a-z0-9-]+)` \|.*\| (\w+) \| (\w+) \|$", line)
        if m:
            rows[m.group(1)] = (m.group(2), m.group(3))
    expected = {}
    for e in ENTRIES:
        staging, prod = e.levels[Environment.STAGING], e.levels[Environment.PROD]
        assert staging == prod, f"{e.name}: staging and prod differ; the table's last column joins them"
        expected[e.name] = (e.levels[Environment.DEV], prod)
    assert rows == expected
