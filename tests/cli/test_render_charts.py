"""`inferstack render --include-charts`: Helm releases are rendered from local chart archives with `helm template`,
or listed plainly (stderr and DIR/charts-not-rendered.json) with the reason they were left out.

The chart archives here are tiny fixtures built by the test (no upstream chart content). The `helm` path runs the
real binary when it is installed; `test_helm_invocation` puts a recording stand-in named `helm` first on PATH to
check what render passes to it (release, namespace, values, CRDs, tests, Kubernetes version) and what it does with
the objects it prints, which runs on every machine."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from inferstack.catalog.versions import CHARTS, EKS_VERSION
from inferstack.cli import main
from inferstack.cli.render import NOT_RENDERED_FILE, helm_releases
from tests.conftest import REFERENCE_STACKS, recording

CERT_MANAGER = CHARTS["cert-manager"]

TEMPLATE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-fixture
  namespace: {{ .Release.Namespace }}
data:
  crds: {{ .Values.crds.enabled | quote }}
"""


def chart_archive(directory: Path, name: str, version: str, template: str = TEMPLATE) -> Path:
    """A minimal Helm chart ``<name>-<version>.tgz`` (Chart.yaml + one template), as `helm package` lays it out."""
    files = {
        f"{name}/Chart.yaml": f"apiVersion: v2\nname: {name}\nversion: {version}\ntype: application\n",
        f"{name}/values.yaml": "crds:\n  enabled: false\n",
        f"{name}/templates/configmap.yaml": template,
    }
    path = directory / f"{name}-{version}.tgz"
    with tarfile.open(path, "w:gz") as tar:
        for member, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _releases(stack: str) -> int:
    return len(helm_releases(recording(stack)))


@pytest.mark.parametrize("stack", REFERENCE_STACKS)
def test_every_release_is_listed_when_no_chart_is_available(
    stack: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "m"
    assert main(["render", "--stack", stack, "--out", str(out), "--include-charts"]) == 0
    listed = json.loads((out / NOT_RENDERED_FILE).read_text())
    releases = helm_releases(recording(stack))
    assert releases, "every stack installs add-ons with Helm"
    assert [r["release"] for r in listed] == [r.release for r in releases]
    for r in listed:
        assert set(r) == {"release", "chart", "repo", "version", "namespace", "reason"}
        assert r["reason"] == "no --chart-dir given" and r["version"] and r["namespace"]
    err = capsys.readouterr().err
    assert f"{len(listed)} Helm releases not rendered" in err
    assert f"Helm release cert-manager (chart cert-manager {CERT_MANAGER.version}, namespace cert-manager)" in err


def test_plain_render_says_which_objects_it_leaves_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "--stack", "dev", "--out", str(tmp_path)]) == 0
    assert f"the objects of {_releases('dev')} Helm releases are not rendered" in capsys.readouterr().err
    assert not (tmp_path / NOT_RENDERED_FILE).exists()


def test_chart_names_and_versions_come_from_the_pins() -> None:
    by_release = {r.release: r for r in helm_releases(recording("prod"))}
    kserve = by_release["kserve"]
    assert (kserve.chart, kserve.repo, kserve.version) == ("kserve-resources", "oci://ghcr.io/kserve/charts", "v0.20.0")
    assert kserve.archive == "kserve-resources-v0.20.0.tgz"
    cm = by_release["cert-manager"]
    assert (cm.chart, cm.repo, cm.namespace) == ("cert-manager", CERT_MANAGER.repo, CERT_MANAGER.namespace)


def test_archive_present_but_no_helm_is_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    charts = tmp_path / "charts"
    charts.mkdir()
    chart_archive(charts, "cert-manager", CERT_MANAGER.version)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no helm anywhere
    out = tmp_path / "m"
    assert main(["render", "--stack", "dev", "--out", str(out), "--include-charts", "--chart-dir", str(charts)]) == 0
    listed = {r["release"]: r["reason"] for r in json.loads((out / NOT_RENDERED_FILE).read_text())}
    assert listed["cert-manager"] == f"chart archive {charts / f'cert-manager-{CERT_MANAGER.version}.tgz'} present, but no helm binary on PATH"
    assert all(reason.startswith("no chart archive") for rel, reason in listed.items() if rel != "cert-manager")
    assert not (out / "_charts" / "cert-manager").exists()


FAKE_HELM = """#!{python}
# Stand-in for `helm template NAME ARCHIVE ...`: records its arguments and values, prints the archive's templates.
import json, sys, tarfile
args = sys.argv[1:]
values = open(args[args.index("--values") + 1]).read()
json.dump({{"args": args, "values": json.loads(values)}}, open({log!r}, "w"))
with tarfile.open(args[2]) as tar:
    for m in tar.getmembers():
        if "/templates/" in m.name:
            print("---")
            print(tar.extractfile(m).read().decode().replace("{{{{ .Release.Name }}}}", args[1])
                  .replace("{{{{ .Release.Namespace }}}}", args[args.index("--namespace") + 1])
                  .replace("{{{{ .Values.crds.enabled | quote }}}}", "x"))
"""


def _fake_helm(bin_dir: Path, log: Path) -> None:
    bin_dir.mkdir()
    helm = bin_dir / "helm"
    helm.write_text(FAKE_HELM.format(python=sys.executable, log=str(log)))
    helm.chmod(helm.stat().st_mode | stat.S_IEXEC)


def test_helm_invocation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    charts = tmp_path / "charts"
    charts.mkdir()
    chart_archive(charts, "cert-manager", CERT_MANAGER.version)
    log = tmp_path / "helm.json"
    _fake_helm(tmp_path / "bin", log)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    out = tmp_path / "m"
    assert main(["render", "--stack", "dev", "--out", str(out), "--include-charts", "--chart-dir", str(charts)]) == 0

    call = json.loads(log.read_text())
    args = call["args"]
    assert args[:3] == ["template", "cert-manager", str(charts / f"cert-manager-{CERT_MANAGER.version}.tgz")]
    assert args[args.index("--namespace") + 1] == "cert-manager"
    assert args[args.index("--kube-version") + 1] == EKS_VERSION
    assert "--include-crds" in args and "--skip-tests" in args
    declared = next(r for r in helm_releases(recording("dev")) if r.release == "cert-manager")
    assert call["values"] == declared.values and call["values"]["crds"]["enabled"] is True

    rendered = out / "_charts" / "cert-manager" / "cert-manager" / "ConfigMap.core.cert-manager-fixture.yaml"
    obj = yaml.safe_load(rendered.read_text())
    assert obj["metadata"] == {"name": "cert-manager-fixture", "namespace": "cert-manager"}
    listed = [r["release"] for r in json.loads((out / NOT_RENDERED_FILE).read_text())]
    assert "cert-manager" not in listed and len(listed) == _releases("dev") - 1
    assert f"wrote 1 objects of 1 of {_releases('dev')} Helm releases" in capsys.readouterr().out


def test_failing_helm_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    charts = tmp_path / "charts"
    charts.mkdir()
    (charts / f"cert-manager-{CERT_MANAGER.version}.tgz").write_bytes(b"not a chart")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helm = bin_dir / "helm"
    helm.write_text("#!/bin/sh\necho 'Error: file is not a valid chart archive' >&2\nexit 1\n")
    helm.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    code = main(["render", "--stack", "dev", "--out", str(tmp_path / "m"), "--include-charts", "--chart-dir", str(charts)])
    assert code == 3
    assert "helm template cert-manager" in capsys.readouterr().err


def test_chart_dir_needs_include_charts(tmp_path: Path) -> None:
    assert main(["render", "--stack", "dev", "--out", str(tmp_path), "--chart-dir", str(tmp_path)]) == 2


@pytest.mark.skipif(shutil.which("helm") is None, reason="helm is not installed")
def test_real_helm_renders_a_local_chart(tmp_path: Path) -> None:
    charts = tmp_path / "charts"
    charts.mkdir()
    chart_archive(charts, "cert-manager", CERT_MANAGER.version)
    out = tmp_path / "m"
    assert main(["render", "--stack", "dev", "--out", str(out), "--include-charts", "--chart-dir", str(charts)]) == 0
    obj = yaml.safe_load((out / "_charts/cert-manager/cert-manager/ConfigMap.core.cert-manager-fixture.yaml").read_text())
    assert obj["metadata"]["namespace"] == "cert-manager"
    assert obj["data"]["crds"] == "true"  # the release's values override the chart's default (false)
