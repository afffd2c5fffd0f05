"""The conformance report: the upstream checklist of a Kubernetes version, each requirement's status, evidence and
notes computed from a stack's recording, plus the KAR test-plan steps a live cluster run needs, and its renderings
(YAML and JSON in the checklist's own shape, a Markdown table)."""

from __future__ import annotations

import json
from typing import Any

import yaml

from inferstack.catalog.ai_conformance import CHECKLISTS, STATUSES, TEST_PLANS
from inferstack.conformance.requirements import EVALUATORS, NA
from inferstack.engine import Recording

FORMATS = ("yaml", "json", "markdown")


def build_report(rec: Recording, version: str, metadata: dict[str, str]) -> dict[str, Any]:
    """The checklist of ``version`` filled for the recording: ``metadata`` and ``spec`` as upstream (``id``,
    ``description``, ``level``, ``status``, ``evidence``, ``notes``), each row with its ``liveChecks`` (the KAR test
    plan); KeyError for a version the catalogue does not hold."""
    checklist = CHECKLISTS[version]
    meta = {k: metadata.get(k, "") for k in checklist.metadata_keys}
    meta["kubernetesVersion"] = f"v{version}"
    spec: dict[str, list[dict[str, Any]]] = {}
    for section, req in checklist.requirements():
        result = EVALUATORS[req.id](rec)
        assert result.status in STATUSES, result.status
        row: dict[str, Any] = {
            "id": req.id,
            "description": req.description,
            "level": req.level,
            "status": result.status,
            "evidence": list(result.evidence),
            "notes": result.notes if result.status != NA or result.notes else "",
        }
        plan = TEST_PLANS.get(req.id)
        row["liveChecks"] = (
            {"kar": f"KAR-{plan.number:04d}", "title": plan.title, "url": plan.url, "steps": list(plan.steps),
             **({"automatedTest": plan.automated_test} if plan.automated_test else {})}
            if plan else {"kar": None, "steps": [], "note": "no KAR test plan upstream for this requirement"}
        )
        spec.setdefault(section, []).append(row)
    return {"metadata": meta, "spec": spec, "source": {"checklist": checklist.source_url}}


def rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [row for section in report["spec"].values() for row in section]


def summary(report: dict[str, Any]) -> dict[str, int]:
    """Count of rows per status, and ``mustNotImplemented``: MUST rows that are not Implemented."""
    out = {s: 0 for s in STATUSES}
    for row in rows(report):
        out[row["status"]] += 1
    out["mustNotImplemented"] = sum(1 for r in rows(report) if r["level"] == "MUST" and r["status"] != "Implemented")
    return out


def render(report: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report, indent=2) + "\n"
    if fmt == "yaml":
        return yaml.safe_dump(report, sort_keys=False, width=120, allow_unicode=True)
    return markdown(report)


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def markdown(report: dict[str, Any]) -> str:
    m = report["metadata"]
    lines = [f"# Kubernetes AI Conformance {m['kubernetesVersion']}: {m.get('platformName') or 'stack'}", "",
             f"Checklist: {report['source']['checklist']}", "",
             "| Requirement | Level | Status | Evidence | Notes | Live check |", "| --- | --- | --- | --- | --- | --- |"]
    for row in rows(report):
        live = row["liveChecks"]
        kar = f"[{live['kar']}]({live['url']})" if live.get("kar") else "none upstream"
        evidence = "<br>".join(_cell(e) for e in row["evidence"]) or "-"
        lines.append(f"| `{row['id']}` | {row['level']} | {row['status']} | {evidence} | {_cell(row['notes']) or '-'} "
                     f"| {kar} |")
    s = summary(report)
    lines += ["", ", ".join(f"{k}: {v}" for k, v in s.items() if k != "mustNotImplemented")
              + f"; MUST not Implemented: {s['mustNotImplemented']}", ""]
    return "\n".join(lines)
