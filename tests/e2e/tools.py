"""Where the e2e tests find their binaries: $KUBEBUILDER_ASSETS, then .tools/bin (what `make tools` builds), then PATH.

The same order as controller-runtime's envtest (KUBEBUILDER_ASSETS first). A missing tool fails the test with a
message telling to run `make tools`: the e2e suite never skips silently.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS_BIN = REPO / ".tools" / "bin"


def find_tool(name: str) -> Path | None:
    """The first executable `name` in $KUBEBUILDER_ASSETS, $INFERSTACK_TOOLS_BIN (default .tools/bin), PATH."""
    dirs = []
    if os.environ.get("KUBEBUILDER_ASSETS"):
        dirs.append(Path(os.environ["KUBEBUILDER_ASSETS"]))
    dirs.append(Path(os.environ.get("INFERSTACK_TOOLS_BIN") or TOOLS_BIN))
    for d in dirs:
        candidate = d / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    return Path(found) if found else None


def tool_path(name: str) -> Path:
    """The path of tool `name`, or pytest.fail telling how to build it."""
    path = find_tool(name)
    if path is None:
        pytest.fail(
            f"{name} not found in $KUBEBUILDER_ASSETS, {TOOLS_BIN} or PATH: run `make tools` "
            "(builds the e2e tools from tools/*/ with Go into .tools/bin)",
            pytrace=False,
        )
    return path


def server_apply() -> ModuleType:
    """``scripts/server_apply.py`` as the module ``server_apply`` (a script, not a package: imported from its path
    once per test session)."""
    if "server_apply" in sys.modules:
        return sys.modules["server_apply"]
    spec = importlib.util.spec_from_file_location("server_apply", REPO / "scripts" / "server_apply.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["server_apply"] = module
    spec.loader.exec_module(module)
    return module
