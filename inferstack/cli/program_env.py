"""The program's own Python environment, as Pulumi's language host would pick it from the program's ``Pulumi.yaml``.

A team's program imports the provider SDKs its own environment has (``pulumi_random``, ``pulumi_docker``, a community
provider). Pulumi's Python language host runs the program in the environment its ``Pulumi.yaml`` names::

    runtime:
      name: python
      options:
        toolchain: pip          # pip (default) | poetry | uv
        virtualenv: venv        # relative to the project directory, or absolute

The environment the offline engine adds, by toolchain (Pulumi's ``sdk/python/toolchain``):

- ``pip``: ``options.virtualenv`` when given; without it Pulumi uses the ``python`` on PATH: nothing is added.
- ``uv``: ``options.virtualenv``, else ``.venv`` beside the nearest ``uv.lock``, else beside the nearest
  ``pyproject.toml``, else ``.venv`` in the project directory.
- ``poetry``: the environment ``poetry env info --path`` names (when ``poetry`` is on PATH), else an in-project
  ``.venv`` beside the nearest ``pyproject.toml``.

Its ``site-packages`` (with its ``.pth`` files) go on ``sys.path`` *after* inferstack's own entries, so the engine's
``pulumi``, ``pulumi_aws``, ``pulumi_gcp`` and ``pulumi_kubernetes`` win over the program's copies (the offline
engine is built on those versions) and the program's other packages import. ``sys.path`` is restored afterwards.

A module the program imports that neither environment has is reported in one line naming the package and the
``pip install`` that fixes it (:meth:`ProgramEnvironment.missing_module`; the CLI exits 3).
"""

from __future__ import annotations

import shutil
import site
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOOLCHAINS = ("pip", "poetry", "uv")
#: Seconds ``poetry env info --path`` may take.
POETRY_TIMEOUT = 20


class RuntimeOptionsError(ValueError):
    """A ``Pulumi.yaml`` runtime option the engine cannot follow (the CLI reports it as a usage error, exit 2)."""


@dataclass(frozen=True)
class ProgramEnvironment:
    """The environment a program runs in: its virtualenv (None: inferstack's own only) and its site-packages."""

    project_dir: Path
    toolchain: str = "pip"
    virtualenv: Path | None = None
    site_packages: tuple[Path, ...] = ()
    #: Why the environment was chosen, or why none was (said in the missing-module message).
    notes: tuple[str, ...] = field(default=())

    @contextmanager
    def on_path(self) -> Iterator[None]:
        """``sys.path`` with the environment's site-packages appended (inferstack's entries first); restored after."""
        saved = list(sys.path)
        try:
            for sp in self.site_packages:
                site.addsitedir(str(sp))  # appends, and reads the .pth files (editable installs)
            yield
        finally:
            sys.path[:] = saved

    def missing_module(self, err: ModuleNotFoundError) -> str | None:
        """The one-line message of a module the program imports that no environment has; None when the missing
        module is not the program's import (an internal error, reported as such)."""
        name = (err.name or "").split(".")[0]
        if not name:
            return None
        package = name.replace("_", "-")
        if self.virtualenv is not None and not self.site_packages:
            return (f"the program imports {name}, and its virtualenv {self.virtualenv} (Pulumi.yaml runtime options) "
                    f"does not exist: python -m venv {self.virtualenv} && {self.virtualenv}/bin/pip install -r "
                    f"{self.project_dir / 'requirements.txt'}")
        if self.virtualenv is not None:
            where = f"its environment {self.virtualenv}"
            pip = self.virtualenv / ("Scripts/pip" if sys.platform == "win32" else "bin/pip")
            fix = f"{pip} install {package}"
        else:
            where = "inferstack's environment (the program's Pulumi.yaml names no virtualenv)"
            fix = f"pip install {package} (or name the program's virtualenv in its Pulumi.yaml runtime options)"
        return f"the program imports {name}, which is not installed in {where}: {fix}"


def _runtime_options(project_dir: Path) -> tuple[dict[str, Any], Path | None]:
    from inferstack.config.files import read_yaml_file

    for candidate in (project_dir / "Pulumi.yaml", project_dir / "Pulumi.yml"):
        if candidate.is_file():
            doc = read_yaml_file(candidate)
            runtime = doc.get("runtime") if isinstance(doc, dict) else None
            options = runtime.get("options") if isinstance(runtime, dict) else None
            if options is not None and not isinstance(options, dict):
                raise RuntimeOptionsError(f"{candidate}: runtime.options: expected a mapping (toolchain, virtualenv)")
            return dict(options or {}), candidate
    return {}, None


def _search_up(start: Path, name: str) -> Path | None:
    for d in (start, *start.parents):
        if (d / name).exists():
            return d
    return None


def _poetry_env(project_dir: Path) -> Path | None:
    poetry = shutil.which("poetry")
    if poetry:
        try:
            out = subprocess.run([poetry, "env", "info", "--path"], cwd=project_dir, capture_output=True, text=True,
                                 timeout=POETRY_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired):
            out = None
        if out is not None and out.returncode == 0 and out.stdout.strip():
            return Path(out.stdout.strip())
    root = _search_up(project_dir, "pyproject.toml")
    return (root / ".venv") if root is not None else None


def site_packages(venv: Path) -> tuple[Path, ...]:
    """The site-packages of a virtualenv: this Python's version first (``lib/python3.X``), ``Lib`` on Windows."""
    own = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    found = [own] if own.is_dir() else []
    found += [p for p in sorted(venv.glob("lib/python3*/site-packages")) if p != own and p.is_dir()]
    if (venv / "Lib" / "site-packages").is_dir():
        found.append(venv / "Lib" / "site-packages")
    return tuple(found)


def program_environment(program: Path) -> ProgramEnvironment:
    """The environment of the program at ``program`` (its project: the directory of the ``Pulumi.yaml`` beside it).

    Raises :class:`RuntimeOptionsError` for a toolchain Pulumi does not know, or a virtualenv option that is not a
    string; a virtualenv that does not exist (not created yet) adds nothing and is said in the notes.
    """
    project_dir = program.resolve().parent
    options, source = _runtime_options(project_dir)
    toolchain = options.get("toolchain", "pip")
    if toolchain not in TOOLCHAINS:
        raise RuntimeOptionsError(f"{source}: runtime.options.toolchain: {toolchain!r}; allowed: {', '.join(TOOLCHAINS)}")
    option = options.get("virtualenv")
    if option is not None and (not isinstance(option, str) or not option.strip()):
        raise RuntimeOptionsError(f"{source}: runtime.options.virtualenv: expected a directory path")
    venv: Path | None = None
    if option:
        venv = Path(option) if Path(option).is_absolute() else project_dir / option
    elif toolchain == "uv":
        base = _search_up(project_dir, "uv.lock") or _search_up(project_dir, "pyproject.toml") or project_dir
        venv = base / ".venv"
    elif toolchain == "poetry":
        venv = _poetry_env(project_dir)
    if venv is None:
        return ProgramEnvironment(project_dir, toolchain)
    venv = venv.resolve()
    found = site_packages(venv) if venv.is_dir() else ()
    notes = () if found else (f"{venv} has no site-packages (not created yet?)",)
    return ProgramEnvironment(project_dir, toolchain, venv, found, notes)
