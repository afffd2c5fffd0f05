"""``inferstack conformance``: the stack's Kubernetes AI Conformance checklist, each requirement's status computed
from the offline recording, with the objects and settings that provide it and the KAR test-plan steps a live cluster
run needs (docs/conformance.md)."""

from __future__ import annotations

import argparse
import sys

from inferstack.catalog.ai_conformance import CHECKLISTS, DEFAULT_VERSION
from inferstack.cli.common import write_output
from inferstack.cli.target import add_target_args, load_target

#: What the report says of the platform (the checklist's metadata a submission fills).
REPO_URL = "https://github.com/inferstack/inferstack"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("conformance", help="Kubernetes AI Conformance checklist of a stack, status computed offline")
    add_target_args(p)
    p.add_argument("--version", choices=sorted(CHECKLISTS), default=DEFAULT_VERSION, dest="k8s_version",
                   help=f"Kubernetes version of the checklist (default {DEFAULT_VERSION})")
    p.add_argument("--format", choices=["yaml", "json", "markdown"], default="yaml", help="output format (default yaml)")
    p.add_argument("--out", metavar="FILE", help="write the report to FILE instead of stdout")
    p.add_argument("--fail-on-must", action="store_true",
                   help="exit 1 when a MUST requirement is not Implemented (a CI gate); the report is written either way")
    p.set_defaults(func=_conformance)


def _conformance(args: argparse.Namespace) -> int:
    from inferstack.cli import version
    from inferstack.conformance import build_report, render, summary
    from inferstack.conformance.report import rows

    target = load_target(args, policy=False)
    metadata = {
        "platformName": f"inferstack stack {target.stack}",
        "platformVersion": version(),
        "vendorName": "inferstack",
        "repoUrl": REPO_URL,
        "documentationUrl": f"{REPO_URL}/blob/main/docs/conformance.md",
        "description": f"{target.describe()}: status computed from the offline recording of the stack",
    }
    report = build_report(target.recording, args.k8s_version, metadata)
    write_output(render(report, args.format), args.out)
    s = summary(report)
    # The document owns stdout (so ``--format json | jq`` parses); the summary and the gate's verdict go to stderr.
    print(f"conformance {args.k8s_version} of {target.describe()}: "
          + ", ".join(f"{k} {v}" for k, v in s.items() if k != "mustNotImplemented")
          + f"; MUST not Implemented: {s['mustNotImplemented']}", file=sys.stderr)
    if args.fail_on_must and s["mustNotImplemented"]:
        failing = [f"{r['id']} ({r['status']})" for r in rows(report) if r["level"] == "MUST" and r["status"] != "Implemented"]
        print(f"error: MUST requirements not Implemented: {', '.join(failing)}", file=sys.stderr)
        return 1
    return 0
