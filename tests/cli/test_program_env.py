"""The program's own environment (Pulumi.yaml runtime.options: toolchain, virtualenv): its packages import under the
offline engine after inferstack's own SDKs; a module no environment has is one line naming the pip install, exit 3."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from inferstack.cli.program_env import RuntimeOptionsError, program_environment, site_packages

PACK = {"region-residency": {"enforcementLevel": "mandatory", "allowedRegions": ["eu-west-1"]}}
PROGRAM = """import pulumi
import pulumi_aws as aws
import teamlib

aws.ssm.Parameter("setting", type="String", value=teamlib.VALUE)
pulumi.export("value", teamlib.VALUE)
"""


def make_venv(path: Path) -> Path:
    """A real virtualenv (no pip: fast) with a package of the team's own, ``teamlib``, in its site-packages."""
    venv.EnvBuilder(with_pip=False).create(path)
    (sp,) = site_packages(path)
    (sp / "teamlib").mkdir()
    (sp / "teamlib" / "__init__.py").write_text('VALUE = "from-the-team-venv"\n')
    return sp


def project(tmp_path: Path, options: str, program: str = PROGRAM) -> Path:
    d = tmp_path / "team"
    d.mkdir(exist_ok=True)
    (d / "Pulumi.yaml").write_text(f"name: team\nruntime:\n  name: python\n{options}")
    (d / "__main__.py").write_text(program)
    (d / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    (d / "policy.json").write_text(json.dumps(PACK))
    return d


def check(d: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inferstack", "policy", "check", "--program", str(d / "__main__.py"),
                           "--config", str(d / "Pulumi.dev.yaml"), "--policy-config", str(d / "policy.json"),
                           "--environment", "dev", *extra], capture_output=True, text=True)


def test_virtualenv_packages_import(tmp_path: Path) -> None:
    d = project(tmp_path, "  options:\n    virtualenv: venv\n")
    make_venv(d / "venv")
    proc = check(d, "--json", str(tmp_path / "r.json"))
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["stack"] == "dev"


def test_inferstack_sdks_win_over_the_programs_copies(tmp_path: Path) -> None:
    """A pulumi_aws in the program's virtualenv does not replace the engine's (it is appended after)."""
    d = project(tmp_path, "  options:\n    virtualenv: venv\n")
    sp = make_venv(d / "venv")
    (sp / "pulumi_aws").mkdir()
    (sp / "pulumi_aws" / "__init__.py").write_text("raise ImportError('the venv copy was imported')\n")
    proc = check(d)
    assert proc.returncode in (0, 1), proc.stderr


def test_missing_sdk_is_one_line_with_the_pip_install(tmp_path: Path) -> None:
    d = project(tmp_path, "  options:\n    virtualenv: venv\n",
                program="import pulumi\nimport pulumi_definitely_missing as m\n")
    make_venv(d / "venv")
    proc = check(d)
    assert proc.returncode == 3, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    venv_dir = (d / "venv").resolve()
    assert "pulumi_definitely_missing, which is not installed in its environment" in lines[0]
    assert f"{venv_dir}/bin/pip install pulumi-definitely-missing" in lines[0]


def test_missing_sdk_without_a_virtualenv(tmp_path: Path) -> None:
    d = project(tmp_path, "", program="import pulumi\nimport teamlib\n")
    proc = check(d)
    assert proc.returncode == 3 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "pip install teamlib (or name the program's virtualenv in its Pulumi.yaml runtime options)" in proc.stderr


def test_virtualenv_not_created_yet(tmp_path: Path) -> None:
    d = project(tmp_path, "  options:\n    virtualenv: venv\n")
    proc = check(d)
    assert proc.returncode == 3 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    venv_dir = (d / "venv").resolve()
    assert f"its virtualenv {venv_dir} (Pulumi.yaml runtime options) does not exist: python -m venv {venv_dir}" in proc.stderr


def test_bad_toolchain_is_a_usage_error(tmp_path: Path) -> None:
    d = project(tmp_path, "  options:\n    toolchain: conda\n")
    proc = check(d)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "runtime.options.toolchain: 'conda'; allowed: pip, poetry, uv" in proc.stderr


@pytest.mark.parametrize(("options", "files", "expected"), [
    ("", [], None),  # pip without a virtualenv: Pulumi runs the python on PATH
    ("  options:\n    virtualenv: venv\n", [], "team/venv"),
    ("  options:\n    toolchain: pip\n    virtualenv: /abs/env\n", [], "/abs/env"),
    ("  options:\n    toolchain: uv\n", [], "team/.venv"),
    ("  options:\n    toolchain: uv\n", ["uv.lock"], ".venv"),  # beside the nearest uv.lock (tmp_path)
    ("  options:\n    toolchain: uv\n    virtualenv: env\n", ["uv.lock"], "team/env"),
    ("  options:\n    toolchain: poetry\n", ["pyproject.toml"], ".venv"),  # in-project (no poetry executable here)
])
def test_environment_of_each_toolchain(tmp_path: Path, options: str, files: list[str], expected: str | None,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")  # no poetry/uv executables: the file layout decides
    d = project(tmp_path, options)
    for f in files:
        (tmp_path / f).write_text("")
    env = program_environment(d / "__main__.py")
    if expected is None:
        assert env.virtualenv is None and env.site_packages == ()
    elif expected.startswith("/"):
        assert env.virtualenv == Path(expected).resolve()
    else:
        assert env.virtualenv == (tmp_path / expected).resolve()


def test_bad_virtualenv_option(tmp_path: Path) -> None:
    d = project(tmp_path, "  options:\n    virtualenv: [a]\n")
    with pytest.raises(RuntimeOptionsError, match="runtime.options.virtualenv: expected a directory path"):
        program_environment(d / "__main__.py")


def test_path_is_restored(tmp_path: Path) -> None:
    d = project(tmp_path, "  options:\n    virtualenv: venv\n")
    sp = make_venv(d / "venv")
    env = program_environment(d / "__main__.py")
    before = list(sys.path)
    with env.on_path():
        assert sys.path[: len(before)] == before and str(sp) in sys.path
    assert sys.path == before


#: A real provider SDK from the package registry, installed into the program's virtualenv (about 2 s, no deps: its
#: `pulumi` dependency is the engine's own, which wins anyway).
PULUMI_RANDOM = "pulumi-random==4.21.4"
RANDOM_PROGRAM = """import pulumi
import pulumi_aws as aws
import pulumi_random as random

suffix = random.RandomPet("suffix", length=2)
password = random.RandomPassword("db", length=24)
aws.ssm.Parameter("db-password", type="SecureString", value=password.result)
pulumi.export("suffix", suffix.id)
"""


def test_a_real_provider_sdk_of_the_programs_virtualenv(tmp_path: Path) -> None:
    d = project(tmp_path, "  options:\n    virtualenv: venv\n", program=RANDOM_PROGRAM)
    venv.EnvBuilder(with_pip=False).create(d / "venv")
    (sp,) = site_packages(d / "venv")
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(sp),
                          PULUMI_RANDOM], capture_output=True, text=True, timeout=120)
    if pip.returncode != 0:
        pytest.skip(f"{PULUMI_RANDOM} could not be installed from the package registry: {pip.stderr.strip()[-200:]}")
    proc = check(d, "--json", str(tmp_path / "r.json"))
    assert proc.returncode in (0, 1), proc.stderr
    assert json.loads((tmp_path / "r.json").read_text())["stack"] == "dev"
    # What the engine recorded: the SDK's resources, with the type tokens pulumi_random registers.
    from inferstack.engine import run_program

    env = program_environment(d / "__main__.py")
    with env.on_path():
        rec = run_program("dev", {"aws:region": "eu-west-1"}, region="eu-west-1", program=d / "__main__.py",
                          pulumi_project="team")
    types = {r.type for r in rec.resources}
    assert {"random:index/randomPet:RandomPet", "random:index/randomPassword:RandomPassword"} <= types, types
    # Without the virtualenv named, the same program stops at the import, in one line.
    (d / "Pulumi.yaml").write_text("name: team\nruntime: python\n")
    proc = check(d)
    assert proc.returncode == 3 and "pip install pulumi-random" in proc.stderr, proc.stderr
