"""The built wheel: installs the library as ``inferstack.*`` only, holds every module of the repo's package
directories, and imports and runs in a fresh virtualenv, outside the repository."""

from __future__ import annotations

import json
import shutil
import site
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: Repository directory -> where it lands in the wheel (see [tool.setuptools.package-dir] in pyproject.toml).
PACKAGE_DIRS = {
    "inferstack": "inferstack",
    "components": "inferstack/components",
    "serving": "inferstack/serving",
    "policies": "inferstack/policies",
}
#: Non-Python files the installed package needs: the policy pack's project file and requirements, the PEP 561
#: marker and the type stubs of the lazily exporting packages.
PACKAGE_DATA = (
    "inferstack/policies/PulumiPolicy.yaml",
    "inferstack/policies/requirements.txt",
    "inferstack/py.typed",
    "inferstack/components/__init__.pyi",
    "inferstack/serving/__init__.pyi",
)
IMPORTS = (
    "inferstack.components.aws.platform",
    "inferstack.components.gcp.platform",
    "inferstack.serving",
    "inferstack.serving.deploy",
    "inferstack.policies.pack",
    "inferstack.sizing",
    "inferstack.load",
    "inferstack.checks",
    "inferstack.catalog.runtimes",
    "inferstack.cli",
    "inferstack.program",
    "inferstack.provider",
)
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")


def _source_modules(root: Path) -> set[str]:
    """Wheel paths of every .py file under the package directories of a source tree."""
    out = set()
    for src, dest in PACKAGE_DIRS.items():
        for f in (root / src).rglob("*.py"):
            rel = f.relative_to(root / src)
            if "__pycache__" in rel.parts:
                continue
            out.add(f"{dest}/{rel.as_posix()}")
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[str]]:
    """A wheel built with `python -m build` from a copy of the sources (the working tree gets no build/ dir)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    for d in PACKAGE_DIRS:
        shutil.copytree(REPO / d, src / d, ignore=_IGNORE)
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    wheels = list(out.glob("inferstack-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0], _source_modules(src)


@pytest.fixture(scope="module")
def wheel(built: tuple[Path, set[str]]) -> Path:
    return built[0]


@dataclass(frozen=True)
class Venv:
    python: Path
    site_packages: Path


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A fresh virtualenv (no system site-packages) with the wheel installed, without its dependencies.

    Installing the dependencies from the index would take minutes (the cloud SDKs), so a ``.pth`` file appends this
    interpreter's site-packages after the venv's own: the library comes from the wheel, pulumi and the SDKs from
    here. Only the venv's own .pth files run, so the editable install of the working tree stays inactive.
    """
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    python = root / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile", "--target", purelib, str(wheel)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (Path(purelib) / "_inferstack_test_deps.pth").write_text("".join(f"{p}\n" for p in deps))
    return Venv(python=python, site_packages=Path(purelib))


def _venv_env() -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "PYTHONNOUSERSITE": "1", "HOME": "/nonexistent"}


def test_wheel_holds_every_module_under_inferstack_only(built: tuple[Path, set[str]]) -> None:
    wheel, modules = built
    names = set(zipfile.ZipFile(wheel).namelist())
    top = {n.split("/", 1)[0] for n in names}
    dist_info = {t for t in top if t.endswith(".dist-info")}
    assert top - dist_info == {"inferstack"}, f"unexpected top-level entries: {sorted(top - dist_info)}"
    missing = sorted(modules - names)
    assert not missing, f"modules missing from the wheel (add their packages to pyproject.toml): {missing}"
    extra = sorted(n for n in names if n.endswith(".py") and n not in modules)
    assert not extra, f"wheel modules with no source in the repo: {extra}"
    for data in PACKAGE_DATA:
        assert data in names, data


def test_wheel_metadata_entry_point_and_extras(wheel: Path) -> None:
    zf = zipfile.ZipFile(wheel)
    (dist_info,) = {n.split("/", 1)[0] for n in zf.namelist() if n.split("/", 1)[0].endswith(".dist-info")}
    eps = zf.read(f"{dist_info}/entry_points.txt").decode()
    assert "[console_scripts]" in eps and "inferstack = inferstack.console:entrypoint" in eps
    meta = Parser().parsestr(zf.read(f"{dist_info}/METADATA").decode())
    requires = meta.get_all("Requires-Dist") or []
    base = [r for r in requires if "extra ==" not in r]
    gcp = [r for r in requires if 'extra == "gcp"' in r]
    aws = [r for r in requires if 'extra == "aws"' in r]
    # A GCP-only install pulls no AWS SDK, an AWS-only one no GCP SDK, and the core pulls neither.
    assert not [r for r in base if r.startswith(("pulumi-aws", "pulumi-gcp", "boto3"))], base
    assert any(r.startswith("pulumi-gcp") for r in gcp) and not any(r.startswith(("pulumi-aws", "boto3")) for r in gcp)
    assert any(r.startswith("pulumi-aws") for r in aws) and not any(r.startswith("pulumi-gcp") for r in aws)


def test_installed_wheel_imports_outside_the_repo(installed: Venv, tmp_path: Path) -> None:
    code = f"""
import importlib, json, sys
from importlib.metadata import distribution
for m in {list(IMPORTS)!r}:
    importlib.import_module(m)
loaded = {{n: getattr(m, "__file__", None) for n, m in sys.modules.items() if n.split(".")[0] == "inferstack"}}
dist = distribution("inferstack")
eps = [ep for ep in dist.entry_points if ep.group == "console_scripts" and ep.name == "inferstack"]
fn = eps[0].load() if eps else None
print(json.dumps({{"loaded": loaded, "entry": [ep.value for ep in eps], "prefix": sys.prefix,
                  "entry_file": sys.modules[fn.__module__].__file__ if fn else None,
                  "dist_files": str(dist.locate_file(""))}}))
"""
    proc = subprocess.run(
        [str(installed.python), "-c", code], cwd=tmp_path, env=_venv_env(), capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert Path(got["prefix"]).resolve() == installed.python.parent.parent.resolve()
    root = str(installed.site_packages.resolve())
    outside = {n: f for n, f in got["loaded"].items() if f is None or not str(Path(f).resolve()).startswith(root)}
    assert not outside, f"modules not loaded from the installed wheel: {outside}"
    for m in IMPORTS:
        assert m in got["loaded"], m
    assert got["entry"] == ["inferstack.console:entrypoint"]
    assert str(Path(got["entry_file"]).resolve()).startswith(root)
    assert str(Path(got["dist_files"]).resolve()).startswith(root)


def test_installed_cli_validates_a_stack_outside_the_repo(installed: Venv, tmp_path: Path) -> None:
    """``config validate`` runs every check of ``inferstack.checks``: all modules must be installed."""
    stack = tmp_path / "Pulumi.prod.yaml"
    shutil.copy2(REPO / "stacks" / "Pulumi.prod.yaml", stack)
    proc = subprocess.run(
        [str(installed.python), "-m", "inferstack", "config", "validate", "--config", str(stack)],
        cwd=tmp_path, env=_venv_env(), capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    bad = tmp_path / "Pulumi.bad.yaml"
    bad.write_text(stack.read_text().replace("inferstack:environment:", "inferstack:environmentt:", 1))
    proc = subprocess.run(
        [str(installed.python), "-m", "inferstack", "config", "validate", "--config", str(bad)],
        cwd=tmp_path, env=_venv_env(), capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2 and "inferstack:environmentt" in proc.stderr + proc.stdout


def test_installed_cli_previews_a_stack_outside_the_repo(installed: Venv, tmp_path: Path) -> None:
    """The offline engine runs the installed program (no ``__main__.py`` of the project beside it)."""
    stack = tmp_path / "Pulumi.gcp-dev.yaml"
    shutil.copy2(REPO / "stacks" / "Pulumi.gcp-dev.yaml", stack)
    out = tmp_path / "preview.json"
    proc = subprocess.run(
        [str(installed.python), "-m", "inferstack", "preview", "--config", str(stack), "--format", "json", "--out", str(out)],
        cwd=tmp_path, env=_venv_env(), capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    doc = json.loads(out.read_text())
    assert any(r["type"] == "gcp:container/cluster:Cluster" for r in doc["resources"])
    assert doc["summary"]["findings"]["mandatory"] == 0


# ---------------------------------------------------------------- the policy pack, as Pulumi's analyzer starts it


def test_policy_pack_project_names_its_virtualenv_and_requirements() -> None:
    """PulumiPolicy.yaml's runtime options (toolchain pip, virtualenv venv): Pulumi creates policies/venv from
    requirements.txt and runs the pack with that Python, not whatever is on PATH; requirements.txt installs this
    repository (a path pip reads relative to the pack directory, where Pulumi runs it)."""
    import yaml

    project = yaml.safe_load((REPO / "policies" / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}}
    assert project["version"]
    reqs = [line.strip() for line in (REPO / "policies" / "requirements.txt").read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")]
    assert reqs == ["-e .."]
    target = (REPO / "policies" / "..").resolve()
    assert 'name = "inferstack"' in (target / "pyproject.toml").read_text()


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the pack's dependencies (pulumi, pulumi-policy, pydantic: this interpreter's
    site-packages appended by a .pth file) but not inferstack: the editable install's finder is a .pth file of that
    directory, and a directory a .pth file adds has its own .pth files ignored."""
    root = tmp_path_factory.mktemp("bare-venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    python = root / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (Path(purelib) / "_inferstack_test_deps.pth").write_text("".join(f"{p}\n" for p in deps))
    proc = subprocess.run([str(python), "-c", "import pulumi_policy, pydantic\nimport inferstack"], capture_output=True,
                          text=True, timeout=60, env=_venv_env(), cwd=root)
    assert "No module named 'inferstack'" in proc.stderr, proc.stderr
    return python


def _serve_pack(argv: list[str], cwd: Path) -> tuple[list[str], int]:
    """Start the pack, read the port it prints, ask it GetAnalyzerInfo over gRPC, stop it: (policy names, port)."""
    import grpc
    from google.protobuf import empty_pb2
    from pulumi.runtime.proto import analyzer_pb2_grpc

    proc = subprocess.Popen(argv, cwd=cwd, env=_venv_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line.strip().isdigit():
            proc.kill()
            _, err = proc.communicate(timeout=60)
            raise AssertionError(f"the pack printed {line!r}, not its port; stderr:\n{err[-4000:]}")
        port = int(line)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            info = analyzer_pb2_grpc.AnalyzerStub(channel).GetAnalyzerInfo(empty_pb2.Empty(), timeout=60)
        assert info.name == "inferstack"
        return [p.name for p in info.policies], port
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=60)


def _pack_policies() -> list[str]:
    from inferstack.policies.pack import POLICIES

    return sorted(p.name for p in POLICIES)


def test_pack_starts_as_pulumis_analyzer_runs_it_without_inferstack_installed(bare_python: Path) -> None:
    """Pulumi (pkg v3.221+) runs a Python pack through the language host's RunPlugin: ``python -u -m pulumi.policy
    <engine address> <pack dir>`` with the pack directory as working directory (sdk/python/cmd/
    pulumi-language-python/main.go). With a Python that has the dependencies but not inferstack, the pack still
    imports its rules from the checkout and serves the analyzer."""
    pack = REPO / "policies"
    names, port = _serve_pack([str(bare_python), "-u", "-m", "pulumi.policy", "127.0.0.1:1", str(pack)], cwd=pack)
    assert port > 0 and sorted(names) == _pack_policies()


def test_pack_main_runs_from_any_directory(bare_python: Path, tmp_path: Path) -> None:
    """``python3 policies/__main__.py`` from a directory outside the repository (issue #28: ModuleNotFoundError)."""
    names, _ = _serve_pack([str(bare_python), "-u", str(REPO / "policies" / "__main__.py")], cwd=tmp_path)
    assert sorted(names) == _pack_policies()


def test_pack_starts_from_the_installed_wheel(installed: Venv, tmp_path: Path) -> None:
    """The pack as the wheel installs it (site-packages/inferstack/policies holds PulumiPolicy.yaml, requirements.txt
    and __main__.py), run the way the analyzer runs it."""
    pack = installed.site_packages / "inferstack" / "policies"
    assert (pack / "PulumiPolicy.yaml").is_file() and (pack / "__main__.py").is_file()
    names, _ = _serve_pack([str(installed.python), "-u", "-m", "pulumi.policy", "127.0.0.1:1", str(pack)], cwd=pack)
    assert sorted(names) == _pack_policies()
