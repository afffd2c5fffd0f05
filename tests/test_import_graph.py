"""The package's import graph: no cycle between modules, and no layer imports a layer above it.

The graph is built from the source (``ast``), with the ``package-dir`` mapping of ``pyproject.toml`` resolved
(``components/`` is ``inferstack.components``, ...). Every import counts: module level, inside functions and
under ``TYPE_CHECKING``, so a function-local import cannot hide an upward edge or a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import tomllib

REPO = Path(__file__).resolve().parents[1]

#: The layers, lowest first: a module may import its own layer and the layers below it (docs/architecture.md).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("inferstack", "inferstack.lazy", "inferstack.errors", "inferstack.catalog"),
    ("inferstack.config",),
    ("inferstack.sizing",),
    ("inferstack.checks",),
    ("inferstack.load",),
    ("inferstack.engine",),
    ("inferstack.components",),
    ("inferstack.registry",),
    ("inferstack.cost",),
    ("inferstack.serving",),
    ("inferstack.policies", "inferstack.conformance"),
    ("inferstack.clouds",),
    ("inferstack.program",),
    ("inferstack.provider",),
    ("inferstack.cli", "inferstack.console", "inferstack.__main__"),
)


def package_dirs() -> dict[str, Path]:
    """Package name -> source directory, from pyproject's ``[tool.setuptools]`` (``package-dir`` resolved)."""
    tool = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapping = tool["package-dir"]
    out = {}
    for pkg in tool["packages"]:
        # The longest mapped prefix decides the directory: inferstack.components.aws -> components/aws.
        root = max((p for p in mapping if pkg == p or pkg.startswith(p + ".")), key=len)
        out[pkg] = REPO / mapping[root] / Path(*pkg[len(root) :].lstrip(".").split(".")) if pkg != root else REPO / mapping[root]
    return out


def modules() -> dict[str, Path]:
    """Every module of the installed package -> its source file."""
    out = {}
    for pkg, directory in package_dirs().items():
        for f in directory.glob("*.py"):
            out[pkg if f.stem == "__init__" else f"{pkg}.{f.stem}"] = f
    return out


def _imported(module: str, path: Path, node: ast.AST, known: set[str]) -> set[str]:
    if isinstance(node, ast.Import):
        return {a.name for a in node.names}
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        base = base[: len(base) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    names = {target}
    names |= {f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in known}
    return names


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (anywhere in its source)."""
    mods = modules()
    known = set(mods)
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        edges = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges |= {t for t in _imported(name, path, node, known) if t in known and t != name}
        graph[name] = edges
    return graph


def layer_of(module: str) -> int:
    best = None
    for i, layer in enumerate(LAYERS):
        for unit in layer:
            if (module == unit or module.startswith(unit + ".")) and unit != "inferstack":
                if best is None or len(unit) > best[1]:
                    best = (i, len(unit))
    if best is None:
        assert module == "inferstack", f"{module} is in no layer: add it to LAYERS (and docs/architecture.md)"
        return 0
    return best[0]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_every_package_of_pyproject_has_source() -> None:
    dirs = package_dirs()
    assert dirs["inferstack.components.aws"] == REPO / "components" / "aws"
    assert dirs["inferstack.policies.rules"] == REPO / "policies" / "rules"
    assert all(d.is_dir() for d in dirs.values()), [p for p, d in dirs.items() if not d.is_dir()]
    # Every source directory with Python files is a listed package (a missing one would not be installed).
    listed = set(dirs.values())
    for root in {REPO / "inferstack", REPO / "components", REPO / "serving", REPO / "policies"}:
        for f in root.rglob("*.py"):
            if "__pycache__" not in f.parts:
                assert f.parent in listed, f"{f.parent.relative_to(REPO)} holds modules but is not in pyproject packages"


def test_graph_sees_function_local_and_relative_imports() -> None:
    graph = import_graph()
    # inferstack.clouds imports each cloud's platform inside a loader function.
    assert "inferstack.components.aws.platform" in graph["inferstack.clouds"]
    assert "inferstack.components.gcp.platform" in graph["inferstack.clouds"]
    assert "inferstack.config.stack" in graph["inferstack.load"] or "inferstack.config" in graph["inferstack.load"]


def test_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_cycle_detection_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_layer_imports_a_layer_above_it() -> None:
    upward = sorted(
        f"{m} (layer {layer_of(m)}) imports {t} (layer {layer_of(t)})"
        for m, targets in import_graph().items()
        for t in targets
        if layer_of(t) > layer_of(m)
    )
    assert upward == []


@pytest.mark.parametrize(
    ("module", "layer"),
    [("inferstack.catalog.accelerators", 0), ("inferstack.config.stack", 1), ("inferstack.checks.capacity", 3),
     ("inferstack.components.aws.platform", 6), ("inferstack.serving.deploy", 9), ("inferstack.cli.policy", 14)],
)
def test_layer_assignment(module: str, layer: int) -> None:
    assert layer_of(module) == layer
