"""``inferstack render``: every Kubernetes object the program declares, as YAML, one file per object; with
``--include-charts``, also the objects of the Helm releases it installs, from local chart archives, or a plain list
of the releases it leaves out."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from inferstack.catalog.versions import EKS_VERSION
from inferstack.cli.target import add_target_args, load_target
from inferstack.engine import Recording, redact

#: libyaml's emitter where PyYAML was built with it (as on PyPI's wheels): the same YAML, several times faster.
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

#: Kubernetes resources that are not API objects (Helm releases, YAML groups): rendered as their own kind elsewhere.
NON_OBJECT_TYPES = ("kubernetes:helm.sh/", "kubernetes:yaml", "kubernetes:kustomize")

#: Helm releases and charts whose objects only Helm renders (``--include-charts``).
HELM_TYPES = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart")

#: Where chart objects go under ``--out`` (``_`` cannot start a namespace name, so no clash with namespaces).
CHARTS_SUBDIR = "_charts"
#: The machine-readable list of releases whose objects were not rendered (a JSON list; empty when all were).
NOT_RENDERED_FILE = "charts-not-rendered.json"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render", help="write every Kubernetes object of a stack as YAML (one file per object)")
    add_target_args(p)
    p.add_argument("--out", metavar="DIR", required=True, help="directory to write the manifests to")
    p.add_argument(
        "--include-charts",
        action="store_true",
        help="also render the objects of every Helm release, offline, from chart archives in --chart-dir "
        f"(with `helm template`); the releases left out are listed on stderr and in DIR/{NOT_RENDERED_FILE}",
    )
    p.add_argument(
        "--chart-dir",
        metavar="DIR",
        help="local chart cache: <chart>-<version>.tgz archives (helm pull / helm package names)",
    )
    p.set_defaults(func=_render)


def kubernetes_objects(rec: Recording) -> list[dict[str, Any]]:
    """The manifests of every typed Kubernetes object (and CustomResource) in the recording, secrets redacted."""
    objs = []
    for r in rec.resources:
        if r.package != "kubernetes" or r.is_provider or not r.custom or r.type.startswith(NON_OBJECT_TYPES):
            continue
        manifest = redact(r.inputs)
        manifest.setdefault("metadata", {})
        manifest["metadata"].setdefault("name", (r.outputs.get("metadata") or {}).get("name", r.name))
        objs.append(manifest)
    return objs


def manifest_filename(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata", {})
    ns = meta.get("namespace") or "_cluster"
    group = obj.get("apiVersion", "v1").split("/")[0] if "/" in obj.get("apiVersion", "") else "core"
    return f"{ns}/{obj.get('kind', 'Object')}.{group}.{meta.get('name')}.yaml"


def write_manifests(objs: list[dict[str, Any]], out: Path, by_namespace: bool = True) -> list[Path]:
    """One YAML file per object: ``<namespace>/<Kind>.<group>.<name>.yaml`` under ``out`` (``by_namespace``), or
    ``<Kind>.<group>.<name>.yaml`` directly in ``out``."""
    paths = []
    for obj in objs:
        name = manifest_filename(obj)
        path = out / (name if by_namespace else Path(name).name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.dump(obj, Dumper=_Dumper, sort_keys=False))
        paths.append(path)
    return paths


# ------------------------------------------------------------------ Helm releases


@dataclass(frozen=True)
class HelmRelease:
    """A Helm release the program declares: what ``helm template`` needs to render it."""

    resource: str
    release: str
    chart: str
    repo: str
    version: str
    namespace: str
    values: dict[str, Any]

    @property
    def archive(self) -> str:
        """The file name ``helm pull`` / ``helm package`` give the chart: ``<chart>-<version>.tgz``."""
        return f"{self.chart}-{self.version}.tgz"


def helm_releases(rec: Recording) -> list[HelmRelease]:
    """Every Helm release (``helm.sh/v3:Release``, ``helm.sh/v4:Chart``) in the recording, values redacted."""
    out = []
    for r in rec.resources:
        if r.type not in HELM_TYPES:
            continue
        i = r.inputs
        chart_ref = str(i.get("chart") or "")
        repo = str((i.get("repositoryOpts") or {}).get("repo") or "")
        if "/" in chart_ref:  # oci://<registry>/<path>/<chart> or <repo alias>/<chart>
            repo, _, chart = chart_ref.rpartition("/")
        else:
            chart = chart_ref
        out.append(
            HelmRelease(
                resource=r.name,
                release=str(i.get("name") or r.name),
                chart=chart,
                repo=repo,
                version=str(i.get("version") or ""),
                namespace=str(i.get("namespace") or "default"),
                values=redact(i.get("values") or {}),
            )
        )
    return out


class HelmTemplateError(Exception):
    """``helm template`` failed on a chart archive that is present (exit 3: the chart, not the stack, is wrong)."""


def helm_template(rel: HelmRelease, archive: Path, helm: str, kube_version: str = EKS_VERSION) -> list[dict[str, Any]]:
    """The objects ``helm template`` renders from ``archive`` with the release's name, namespace and values, as
    ``helm install`` would create them: CRDs included, test hooks left out, capabilities of ``kube_version``."""
    with tempfile.TemporaryDirectory() as tmp:
        values = Path(tmp) / "values.json"  # JSON is YAML: helm reads it as a values file
        values.write_text(json.dumps(rel.values))
        cmd = [
            helm, "template", rel.release, str(archive),
            "--namespace", rel.namespace,
            "--values", str(values),
            "--include-crds",
            "--skip-tests",
            "--kube-version", kube_version,
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise HelmTemplateError(f"helm template {rel.release} ({archive.name}) failed: {detail}")
    return [d for d in yaml.safe_load_all(proc.stdout) if isinstance(d, dict) and d.get("kind")]


def write_chart_objects(objs: list[dict[str, Any]], out: Path) -> list[Path]:
    """One file per object, ``<Kind>.<group>.<name>.yaml``, as Helm rendered it (Helm leaves the namespace of most
    objects to ``helm install --namespace``, which is the directory's parent: ``_charts/<namespace>/<release>/``)."""
    out.mkdir(parents=True, exist_ok=True)
    return write_manifests(objs, out, by_namespace=False)


@dataclass(frozen=True)
class NotRendered:
    """A Helm release whose objects ``render`` left out, and why."""

    release: str
    chart: str
    repo: str
    version: str
    namespace: str
    reason: str


def render_charts(
    releases: list[HelmRelease], out: Path, chart_dir: Path | None, helm: str | None
) -> tuple[list[Path], list[NotRendered]]:
    """Write the objects of every release whose archive is in ``chart_dir`` (and ``helm`` is given) under
    ``out/_charts/<namespace>/<release>/``; return the files written and the releases left out, with the reason."""
    written: list[Path] = []
    missing: list[NotRendered] = []
    for rel in releases:
        archive = chart_dir / rel.archive if chart_dir else None
        if archive is None:
            reason = "no --chart-dir given"
        elif not archive.is_file():
            reason = f"no chart archive {rel.archive} in {chart_dir}"
        elif helm is None:
            reason = f"chart archive {archive} present, but no helm binary on PATH"
        else:
            written += write_chart_objects(helm_template(rel, archive, helm), out / CHARTS_SUBDIR / rel.namespace / rel.release)
            continue
        missing.append(NotRendered(rel.release, rel.chart, rel.repo, rel.version, rel.namespace, reason))
    return written, missing


def _render(args: argparse.Namespace) -> int:
    if args.chart_dir and not args.include_charts:
        print("error: --chart-dir needs --include-charts", file=sys.stderr)
        return 2
    target = load_target(args, policy=False)
    out = Path(args.out)
    paths = write_manifests(kubernetes_objects(target.recording), out)
    print(f"wrote {len(paths)} manifests of {target.describe()} to {args.out}")
    if not args.include_charts:
        n = len(helm_releases(target.recording))
        if n:
            print(f"render: the objects of {n} Helm releases are not rendered (add --include-charts --chart-dir DIR)",
                  file=sys.stderr)
        return 0
    chart_dir = Path(args.chart_dir) if args.chart_dir else None
    if chart_dir is not None and not chart_dir.is_dir():
        print(f"error: --chart-dir {chart_dir}: no such directory", file=sys.stderr)
        return 2
    releases = helm_releases(target.recording)
    try:
        written, missing = render_charts(releases, out, chart_dir, shutil.which("helm"))
    except HelmTemplateError as err:
        print(f"error: {err}", file=sys.stderr)
        return 3
    out.mkdir(parents=True, exist_ok=True)
    (out / NOT_RENDERED_FILE).write_text(json.dumps([asdict(m) for m in missing], indent=2) + "\n")
    print(
        f"wrote {len(written)} objects of {len(releases) - len(missing)} of {len(releases)} Helm releases to "
        f"{out / CHARTS_SUBDIR}"
    )
    for m in missing:
        print(
            f"render: not rendered: Helm release {m.release} (chart {m.chart} {m.version}, namespace "
            f"{m.namespace}): {m.reason}",
            file=sys.stderr,
        )
    if missing:
        print(f"render: {len(missing)} Helm releases not rendered; listed in {out / NOT_RENDERED_FILE}", file=sys.stderr)
    return 0
