"""``inferstack preview``: run the stack's program offline and show what ``pulumi up`` would create.

With ``--program P --config F --policy-config FILE [--environment E]`` the findings use FILE's settings and levels, as
``policy check --program`` does (:func:`inferstack.cli.target.load_target`; no ``inferstack:`` key needed in F). The
report says what the offline run could not know (stack references answered unknown, placeholders from data-source
lookups): text under ``Notes:``, JSON as ``notes``, ``placeholders`` (a count) and ``lookups``; a finding whose
resource's inputs hold a placeholder names those inputs (``placeholderInputs``)."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from typing import Any

from inferstack.catalog.prices import PriceNotFound
from inferstack.cli.common import write_output
from inferstack.cli.cost import declared_estimate, prices_declared
from inferstack.cli.policy import finding_rows, target_pack_config
from inferstack.cli.target import Target, add_policy_config_args, add_target_args, load_target, report_notes
from inferstack.config import StackConfig, read_stack_file
from inferstack.cost.estimate import monthly_totals
from inferstack.engine import Recording, ResourceRecord
from inferstack.policies.evaluate import evaluate


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("preview", help="offline preview of a stack: resource tree, counts, policy findings")
    add_target_args(p)
    add_policy_config_args(p)
    p.add_argument("--format", choices=["text", "json"], default="text", help="output format (default text)")
    p.add_argument("--out", metavar="FILE", help="write the report to FILE instead of stdout")
    p.set_defaults(func=_preview)


def build_report(target: Target, config_path: str | None = None) -> dict[str, Any]:
    """The JSON preview report: stack, resources (engine camelCase inputs, secrets redacted), findings, summary
    (the cost estimate: a stack's capacity plan; for a ``--program``, the resources it declares, with the pricing
    overrides of its stack file ``config_path``)."""
    rec = target.recording
    by_type = Counter(r.type for r in rec.resources if not r.synthesized)
    resources = [
        {
            "urn": r.urn,
            "type": r.type,
            "name": r.name,
            "parent": r.parent,
            "provider": r.provider,
            "protect": r.protect,
            "retainOnDelete": r.retain_on_delete,
            "inputs": r.to_json()["inputs"],
            **({"source": r.to_json()["source"]} if r.source else {}),
        }
        for r in rec.resources
        if not r.synthesized
    ]
    findings = finding_rows(evaluate(rec, target_pack_config(target)), rec)
    counts = {"mandatory": 0, "advisory": 0}
    for f in findings:
        counts[f["enforcementLevel"]] = counts.get(f["enforcementLevel"], 0) + 1
    return {
        "stack": target.stack,
        "cloud": target.cloud.value,
        "environment": target.settings.environment.value,
        "region": target.region,
        **({"program": str(target.program)} if target.external else {}),
        "resources": resources,
        "findings": findings,
        "notes": report_notes(rec),
        "placeholders": rec.placeholder_count,
        "lookups": [x.to_json() for x in rec.lookups],
        "summary": {
            "resources": len(resources),
            "byType": dict(sorted(by_type.items())),
            "findings": counts,
            **(_declared_cost_summary(target, config_path) if prices_declared(target) else _cost_summary(target.config)),
        },
    }


def _cost_summary(cfg: StackConfig | None) -> dict[str, Any]:
    """summary.monthlyCostUsd and summary.allOnDemandMonthlyCostUsd (null when a node type has no price, or when a
    program's stack file is not a complete inferstack stack)."""
    if cfg is None:
        return {"monthlyCostUsd": None, "allOnDemandMonthlyCostUsd": None,
                "costUnavailable": "the program's stack file is not a complete inferstack stack"}
    totals = monthly_totals(cfg)
    if isinstance(totals, str):
        return {"monthlyCostUsd": None, "allOnDemandMonthlyCostUsd": None, "costUnavailable": totals}
    return {"monthlyCostUsd": totals[0], "allOnDemandMonthlyCostUsd": totals[1]}


def _declared_cost_summary(target: Target, config_path: str | None) -> dict[str, Any]:
    """summary.monthlyCostUsd of a ``--program`` run or a stack on an existing cluster: the resources it declares
    (``inferstack cost --program``), or costUnavailable naming every missing price key."""
    try:
        est = declared_estimate(target, config_path)
    except PriceNotFound as err:
        return {"monthlyCostUsd": None, "allOnDemandMonthlyCostUsd": None, "costUnavailable": str(err)}
    return {"monthlyCostUsd": round(est.monthly_usd + 0.0, 2), "allOnDemandMonthlyCostUsd": round(est.all_on_demand_monthly_usd + 0.0, 2),
            "costBasis": "declared", "costUnpriced": len(est.unpriced)}


def _tree(rec: Recording) -> list[str]:
    records = [r for r in rec.resources if not r.synthesized]
    known = {r.urn for r in records}
    kids: dict[str | None, list[ResourceRecord]] = {}
    for r in records:
        parent = r.parent if r.parent in known else None
        kids.setdefault(parent, []).append(r)
    width = max((len(r.type) for r in records), default=20) + 12
    # The root is named <project>-<stack> as pulumi preview shows it; the project is the one the URNs carry.
    project = records[0].urn.split("::")[1] if records else "inferstack"
    lines = [f"     {'Type':<{width}} Name", f" +   {'pulumi:pulumi:Stack':<{width}} {project}-{rec.stack}"]

    def walk(parent: str | None, prefix: str) -> None:
        items = kids.get(parent, [])
        for i, r in enumerate(items):
            last = i == len(items) - 1
            branch = "└─ " if last else "├─ "
            label = f"{prefix}{branch}{r.type}"
            flags = " [protect]" if r.protect else (" [retain]" if r.retain_on_delete else "")
            lines.append(f" +   {label:<{width}} {r.name}{flags}")
            walk(r.urn, prefix + ("   " if last else "│  "))

    walk(None, "")
    return lines


def render_text(target: Target, report: dict[str, Any]) -> str:
    out = [f"Previewing {target.describe()} offline", ""]
    out += _tree(target.recording)
    out += ["", "Resources:", f"    + {report['summary']['resources']} to create", "", "By type:"]
    for t, n in sorted(report["summary"]["byType"].items(), key=lambda kv: (-kv[1], kv[0])):
        out.append(f"    {n:>4}  {t}")
    if report["summary"].get("monthlyCostUsd") is not None:
        out += ["", f"Estimated cost: {report['summary']['monthlyCostUsd']:,.2f} USD/month "
                f"(all on-demand: {report['summary']['allOnDemandMonthlyCostUsd']:,.2f}; "
                + (f"declared resources; {report['summary']['costUnpriced']} not priced; " if report["summary"].get("costBasis") else "")
                + "details: inferstack cost)"]
    elif report["summary"].get("costUnavailable"):
        out += ["", f"Estimated cost: not available: {report['summary']['costUnavailable']}"]
    findings = report["findings"]
    if report["notes"]:
        out += ["", "Notes:"] + [f"    {n}" for n in report["notes"]]
    out += ["", f"Policy findings: {report['summary']['findings']['mandatory']} mandatory, {report['summary']['findings']['advisory']} advisory"]
    for f in findings:
        res = f.get("resource") or {}
        flag = f" [inputs from data-source placeholders: {', '.join(f['placeholderInputs'])}]" if f.get("placeholderInputs") else ""
        out.append(f"    [{f['enforcementLevel']}] {f['policy']}: {res.get('name', '(stack)')}{flag}: {f['message']}")
    return "\n".join(out) + "\n"


def _pricing_file(target: Target, config_path: str | None) -> str | None:
    """The stack file whose ``inferstack:pricing`` the estimate of a ``--program`` run reads (None for ``--stack``).
    With ``--policy-config`` the file is only the program's config: one without any ``inferstack:`` key has no
    pricing overrides, and is not read for them (its missing policy keys are not an error there)."""
    if not target.external or config_path is None:
        return None
    if target.pack_config is not None and not any(str(k).startswith("inferstack:") for k in read_stack_file(config_path).config):
        return None
    return config_path


def _preview(args: argparse.Namespace) -> int:
    target = load_target(args)
    report = build_report(target, _pricing_file(target, args.config))
    text = json.dumps(report, indent=2) + "\n" if args.format == "json" else render_text(target, report)
    write_output(text, args.out)
    return 1 if report["summary"]["findings"]["mandatory"] else 0
