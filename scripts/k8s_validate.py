#!/usr/bin/env python3
"""Conformance of rendered manifests: core Kubernetes objects against the Kubernetes OpenAPI schemas
(``kubernetes-validate``, strict: unknown fields are errors) at the pinned Kubernetes version.

Usage: k8s_validate.py [--version 1.35] [--crd-schemas DIR] PATH [PATH ...]

Every document under PATH (YAML, recursively) falls in exactly one class:

- **core**: its group/version/kind is served by Kubernetes itself (it appears in kubernetes-validate's definitions
  for that version): validated here, strictly;
- **crd**: an upstream CRD schema for it is in ``--crd-schemas`` (``../shared/schemas``): left to
  ``crd_validate.py``, counted here;
- **skipped**: neither: printed by kind (``SKIP <kind> (<apiVersion>): N objects, no upstream CRD or core schema``),
  never silently.

Prints ``FAIL`` lines, the skipped kinds and ``N passed, M failed``; exits 1 when any object failed, 2 when the
version is newer than kubernetes-validate knows. Needs kubernetes-validate and PyYAML.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml
from kubernetes_validate import utils as kv_utils

#: The Kubernetes version the platform pins (``inferstack.catalog.versions.EKS_VERSION``; GKE's REGULAR channel is
#: at least as new). The script does not import inferstack so that CI can run it on any rendered directory.
DEFAULT_VERSION = "1.35"


def schema_version(version: str) -> str:
    """The newest kubernetes-validate schema version not newer than ``version`` (what ``validate`` uses)."""
    wanted = kv_utils.major_minor(version.lstrip("v"))
    if wanted > kv_utils.latest_version():
        raise kv_utils.VersionNotSupportedError(version=wanted)
    return [v for v in kv_utils.all_versions() if kv_utils.major_minor(v) <= wanted][-1]


@functools.cache
def core_kinds(version: str) -> frozenset[tuple[str, str]]:
    """(apiVersion, kind) of every object Kubernetes ``version`` serves, from kubernetes-validate's definitions."""
    defs = kv_utils.schema_contents(
        f"kubernetes-json-schema/v{schema_version(version)}-local-strict/_definitions.json", version
    )
    out = set()
    for d in (defs.get("$defs") or defs.get("definitions") or {}).values():
        for gvk in d.get("x-kubernetes-group-version-kind") or ():
            api = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
            out.add((api, gvk["kind"]))
    return frozenset(out)


def crd_kinds(schema_dir: Path | None) -> frozenset[tuple[str, str]]:
    """(apiVersion, kind) of every upstream CRD schema in ``schema_dir`` (the ``../shared/schemas`` format)."""
    if schema_dir is None or not schema_dir.is_dir():
        return frozenset()
    out = set()
    for p in sorted(schema_dir.glob("*.json")):
        doc = json.loads(p.read_text())
        out.add((f"{doc['group']}/{doc['version']}", doc["kind"]))
    return frozenset(out)


@dataclass
class Report:
    version: str
    passed: int = 0
    crd: int = 0
    failures: list[str] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    validated_kinds: Counter = field(default_factory=Counter)

    @property
    def failed(self) -> int:
        return len({f.split(" at ")[0] for f in self.failures})

    def lines(self) -> list[str]:
        out = list(self.failures)
        for (api, kind), n in sorted(self.skipped.items(), key=lambda kv: kv[0][1]):
            out.append(f"SKIP {kind} ({api}): {n} objects, no upstream CRD or core Kubernetes schema")
        out.append(
            f"core objects against Kubernetes {self.version} (kubernetes-validate {kv_utils.__version__}, strict): "
            f"{self.passed} passed, {self.failed} failed; {self.crd} left to the CRD schemas; "
            f"{sum(self.skipped.values())} skipped"
        )
        return out


def _name(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{obj.get('kind')}/{ns + '/' if ns else ''}{meta.get('name', '?')}"


def validate_objects(
    objs: Iterable[tuple[str, dict[str, Any]]], version: str = DEFAULT_VERSION, crds: frozenset = frozenset()
) -> Report:
    """Validate every core object of ``(where, object)`` pairs; count CRD objects; count the rest as skipped."""
    report = Report(version=kv_utils.major_minor(schema_version(version)))
    core = core_kinds(version)
    for where, obj in objs:
        key = (obj.get("apiVersion", ""), obj.get("kind", ""))
        if key in crds:
            report.crd += 1
        elif key in core:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as e:
                path = ".".join(str(p) for p in e.path) or "(root)"
                report.failures.append(f"FAIL {_name(obj)} ({where}) at {path}: {e.message[:300]}")
            else:
                report.passed += 1
                report.validated_kinds[key[1]] += 1
        else:
            report.skipped[key] += 1
    return report


def documents(paths: Iterable[Path]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")) if path.is_dir() else [path]
        for f in files:
            for i, doc in enumerate(yaml.safe_load_all(f.read_text())):
                if isinstance(doc, dict) and doc.get("kind") == "List":
                    for j, item in enumerate(doc.get("items") or []):
                        yield f"{f}#{i}.{j}", item
                elif isinstance(doc, dict):
                    yield f"{f}#{i}", doc


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--version", default=DEFAULT_VERSION, help=f"Kubernetes version (default {DEFAULT_VERSION})")
    p.add_argument("--crd-schemas", type=Path, help="directory of upstream CRD schemas (../shared/schemas)")
    p.add_argument("paths", nargs="+", type=Path)
    args = p.parse_args(argv)
    try:
        report = validate_objects(documents(args.paths), args.version, crd_kinds(args.crd_schemas))
    except kv_utils.VersionNotSupportedError:
        print(f"kubernetes-validate {kv_utils.__version__} has no schemas for Kubernetes {args.version}")
        return 2
    if report.version != kv_utils.major_minor(args.version.lstrip("v")):
        print(f"note: kubernetes-validate has no {args.version} schemas; validated against {report.version}")
    print("\n".join(report.lines()))
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
