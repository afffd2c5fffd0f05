"""Each example installs from its own requirements.txt into a fresh virtualenv and runs there, outside the repository.

An example's requirements.txt installs inferstack from this checkout (``-e ../..[aws]``: a path dependency, which
pip reads relative to the directory it runs in, the example's, as Pulumi runs it). A full install from the package
index took 78 s for byo-eks here (fresh venv, pulumi, pulumi-aws, boto3 and the rest downloaded), too slow for
every test run and not offline, so the test installs the requirements file with ``--no-deps --no-index`` into a
fresh virtualenv whose dependencies come from this interpreter's site-packages (a .pth file; the editable finder of
the repo's own install is not active there), checks that inferstack is the one this install put in, with each of
its dependencies (the example's extra included) satisfied, then imports the example's inferstack modules and runs
the example under the offline engine (``inferstack preview --program``), with that
virtualenv's Python, from a directory outside the repository.
"""

from __future__ import annotations

import ast
import json
import re
import site
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
#: example -> (its sample stack, the extra its requirements install)
INSTALLS = {"byo-eks": ("prod", "aws"), "team-serving": ("prod", "aws"), "gke-tpu-serving": ("prod", "gcp")}
#: Seconds a --no-deps install of one example may take.
INSTALL_BUDGET = 60


def _env() -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "PYTHONNOUSERSITE": "1", "HOME": "/nonexistent", "PIP_NO_INPUT": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def _fresh_venv(root: Path) -> tuple[Path, Path]:
    """(python, purelib) of a new virtualenv without inferstack; its dependencies from this interpreter's site."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    python = root / "bin" / "python"
    purelib = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True, timeout=60).stdout.strip())
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (purelib / "_inferstack_test_deps.pth").write_text("".join(f"{p}\n" for p in deps))
    return python, purelib


def _inferstack_modules(example: str) -> list[str]:
    tree = ast.parse((EXAMPLES / example / "__main__.py").read_text())
    mods = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    mods |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    return sorted(m for m in mods if m.split(".")[0] == "inferstack")


CHECK = """
import importlib, json, sys
from importlib import metadata
from packaging.requirements import Requirement
dist = metadata.distribution("inferstack")
unmet = []
for text in dist.requires or []:
    req = Requirement(text)
    if req.marker is not None and not req.marker.evaluate({"extra": sys.argv[1]}):
        continue
    try:
        have = metadata.version(req.name)
    except metadata.PackageNotFoundError:
        unmet.append(f"{req} (not installed)")
        continue
    if have not in req.specifier:
        unmet.append(f"{req} (have {have})")
mods = {m: importlib.import_module(m).__file__ for m in sys.argv[2:]}
print(json.dumps({"dist": str(dist.locate_file("")), "direct_url": json.loads(dist.read_text("direct_url.json")),
                  "unmet": unmet, "modules": mods}))
"""


@pytest.mark.parametrize("example", sorted(INSTALLS))
def test_example_installs_into_a_fresh_venv_and_runs(example: str, tmp_path: Path) -> None:
    stack, extra = INSTALLS[example]
    python, purelib = _fresh_venv(tmp_path / "venv")
    before = subprocess.run([str(python), "-c", "import inferstack"], capture_output=True, text=True, env=_env(),
                            cwd=tmp_path, timeout=60)
    assert "No module named 'inferstack'" in before.stderr, "the fresh venv must not see inferstack before the install"

    start = time.monotonic()
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--no-build-isolation",
         "-r", "requirements.txt"],
        cwd=EXAMPLES / example, capture_output=True, text=True, env=_env(), timeout=300)
    seconds = time.monotonic() - start
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    print(f"{example}: pip install -r requirements.txt (--no-deps) in {seconds:.1f} s")
    assert seconds < INSTALL_BUDGET

    modules = _inferstack_modules(example)
    assert modules, f"examples/{example} imports nothing of inferstack"
    proc = subprocess.run([str(python), "-c", CHECK, extra, *modules], capture_output=True, text=True, env=_env(),
                          cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    # The distribution this install made (in the fresh venv), pointing at this checkout, editable.
    assert Path(got["dist"]).resolve() == purelib.resolve()
    assert got["direct_url"]["url"] == REPO.as_uri() and got["direct_url"]["dir_info"] == {"editable": True}
    assert got["unmet"] == [], f"dependencies of inferstack[{extra}] not satisfied: {got['unmet']}"
    assert all(str(Path(f).resolve()).startswith(str(REPO)) for f in got["modules"].values()), got["modules"]

    report = tmp_path / "preview.json"
    run = subprocess.run(
        [str(python), "-m", "inferstack", "preview", "--program", str(EXAMPLES / example / "__main__.py"),
         "--config", str(EXAMPLES / example / f"Pulumi.{stack}.yaml"), "--format", "json", "--out", str(report)],
        capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=300)
    # 0, or 1 for mandatory policy findings (tests/examples/test_examples.py holds the examples to none): the program
    # ran in the fresh venv either way.
    assert run.returncode in (0, 1) and report.is_file(), run.stdout[-3000:] + run.stderr[-3000:]
    doc = json.loads(report.read_text())
    types = {r["type"] for r in doc["resources"]}
    assert any(t.startswith("inferstack:") for t in types), f"examples/{example} declared no inferstack component: {types}"
    assert any(t.startswith("kubernetes:") and t != "pulumi:providers:kubernetes" for t in types), types


@pytest.mark.parametrize("example", sorted(INSTALLS))
def test_requirements_name_the_checkout_and_the_released_form(example: str) -> None:
    _, extra = INSTALLS[example]
    text = (EXAMPLES / example / "requirements.txt").read_text()
    version = re.search(r'^version = "([^"]+)"$', (REPO / "pyproject.toml").read_text(), re.M).group(1)
    assert [x for x in text.splitlines() if x and not x.startswith("#")] == [f"-e ../..[{extra}]"]
    assert f"inferstack[{extra}]=={version}" in text and f"inferstack[{extra}] @ git+" in text
