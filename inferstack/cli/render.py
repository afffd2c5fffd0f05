"""``inferstack render``: every Kubernetes object the program declares, as YAML, one file per object."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from inferstack.cli.target import add_target_args, load_target
from inferstack.engine import Recording, redact

#: libyaml's emitter where PyYAML was built with it (as on PyPI's wheels): the same YAML, several times faster.
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

#: Kubernetes resources that are not API objects (Helm releases, YAML groups): rendered as their own kind elsewhere.
NON_OBJECT_TYPES = ("kubernetes:helm.sh/", "kubernetes:yaml", "kubernetes:kustomize")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render", help="write every Kubernetes object of a stack as YAML (one file per object)")
    add_target_args(p)
    p.add_argument("--out", metavar="DIR", required=True, help="directory to write the manifests to")
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


def write_manifests(objs: list[dict[str, Any]], out: Path) -> list[Path]:
    paths = []
    for obj in objs:
        path = out / manifest_filename(obj)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.dump(obj, Dumper=_Dumper, sort_keys=False))
        paths.append(path)
    return paths


def _render(args: argparse.Namespace) -> int:
    target = load_target(args)
    paths = write_manifests(kubernetes_objects(target.recording), Path(args.out))
    print(f"wrote {len(paths)} manifests of {target.describe()} to {args.out}")
    return 0
