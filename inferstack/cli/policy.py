"""``inferstack policy``: run the policy pack offline (``check``) and print or write a stack's pack config (``config``).

``check`` runs a program under the offline engine and evaluates the real policy objects with the Pulumi CLI's
semantics (see ``inferstack.policies.evaluate``). Exit 1 on any mandatory finding, 0 otherwise, 2 on usage and
config errors. With ``--program FILE.py --config F`` only the policy settings (inferstack:cloud, environment,
residency, policy) are read from the ``inferstack:`` namespace; every other key belongs to the program. With
``--program P --config F --policy-config FILE [--environment E]`` no ``inferstack:`` key is read: the pack's settings
and levels come from FILE and E (``inferstack.policies.pack_file``), as ``pulumi preview --policy-pack-config`` takes them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from inferstack.cli import version
from inferstack.cli.common import UsageError, add_stack_args, fail, load_stack, write_output
from inferstack.cli.target import (
    Target,
    add_policy_config_args,
    add_target_args,
    load_target,
    placeholder_inputs,
    placeholder_values,
    report_notes,
)
from inferstack.config import ConfigError, ConfigIssue, Environment, PolicySettings
from inferstack.engine import REPO_ROOT, Recording
from inferstack.policies.entry import framework_of
from inferstack.policies.evaluate import Finding, evaluate, strict, summary
from inferstack.policies.families.coverage import coverage, coverage_markdown, coverage_text
from inferstack.policies.pack import ENTRIES, PackConfigError, catalogue_markdown, pack_config

CONFIG_DIR = REPO_ROOT / "policies" / "config"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("policy", help="policy pack: offline check, generated pack config")
    psub = p.add_subparsers(dest="policy_command", metavar="SUBCOMMAND")
    psub.required = True
    c = psub.add_parser("check", help="evaluate the policy pack over a stack or program, offline")
    add_target_args(c)
    c.add_argument("--json", metavar="FILE", help="write the JSON report to FILE")
    c.add_argument("--sarif", metavar="FILE", help="write a SARIF 2.1.0 log to FILE")
    c.add_argument("--strict", action="store_true",
                   help="findings a rule could not evaluate (values unknown at preview) are mandatory")
    add_policy_config_args(c)
    c.set_defaults(func=_check)
    lst = psub.add_parser("list", help="print the policy catalogue: id, clouds, controls, severity, levels, remediation")
    lst.add_argument("--format", choices=("text", "json", "markdown"), default="text", help="output format (default text)")
    lst.add_argument("--framework", metavar="NAME",
                     help="only the policies enforcing a control of this benchmark (CIS AWS, CIS EKS, FSBP, PSS baseline, "
                          "...; case-insensitive)")
    lst.set_defaults(func=_list)
    cov = psub.add_parser("coverage", help="per family of SDK resource types: members judged by a rule / explained / all",
                          description="Per family of SDK resource types (policies/families): the members a policy "
                                      "judges, the members explained, all members. Exit 1 when a member is neither.")
    cov.add_argument("--format", choices=("text", "json", "markdown"), default="text", help="output format (default text)")
    cov.set_defaults(func=_coverage)
    g = psub.add_parser("config", help="print (or --write) the --policy-pack-config document of a stack")
    add_stack_args(g)
    g.add_argument("--write", action="store_true", help="write policies/config/<stack>.json")
    g.add_argument("--environment", choices=("dev", "staging", "prod"),
                   help="without a stack file: the document of a stack of this environment (with --allowed-region)")
    g.add_argument("--allowed-region", action="append", metavar="REGION",
                   help="with --environment: a region resources may be in (repeat for several)")
    g.add_argument("--out", metavar="FILE", help="write the document to FILE instead of stdout")
    g.set_defaults(func=_config)


def checked_pack_config(settings: PolicySettings, source: str) -> dict[str, Any]:
    """The stack's pack config; ConfigError (exit 2) naming the key when the pack cannot take its settings."""
    try:
        return pack_config(settings)
    except PackConfigError as err:
        raise ConfigError(source, [ConfigIssue(err.loc, err.message)]) from None


def target_pack_config(target: Target) -> dict[str, Any]:
    """The pack config a target is judged with: ``--policy-config FILE``'s when given, else its stack's."""
    return target.pack_config if target.pack_config is not None else checked_pack_config(target.settings, target.stack)


def report(stack: str, findings: list[Finding], rec: Recording | None = None) -> dict[str, Any]:
    """The JSON report: the findings (each with ``placeholderInputs`` when its resource's inputs hold a value made up
    for a data-source lookup), the summary, and with a recording the ``notes`` on what the run could not know, the
    ``placeholders`` count and the ``lookups`` (data-source calls and reads, and how each was answered)."""
    doc: dict[str, Any] = {"stack": stack, "findings": finding_rows(findings, rec), "summary": summary(findings)}
    if rec is not None:
        doc.update(notes=report_notes(rec), placeholders=rec.placeholder_count,
                   lookups=[x.to_json() for x in rec.lookups])
    return doc


def finding_rows(findings: list[Finding], rec: Recording | None) -> list[dict[str, Any]]:
    """The findings' JSON, each marked with the input paths of its resource that hold placeholders (if any)."""
    values = placeholder_values(rec) if rec is not None else frozenset()
    rows = []
    for f in findings:
        row = f.to_json()
        paths = placeholder_inputs(rec.by_urn(f.urn), values) if rec is not None and f.urn and values else []
        if paths:
            row["placeholderInputs"] = paths
        rows.append(row)
    return rows


def sarif_uri(path: str) -> str:
    """A file's SARIF artifact URI: relative to the working directory (the repository root in CI) when inside it,
    else an absolute ``file://`` URI."""
    p = Path(path)
    p = (p if p.is_absolute() else REPO_ROOT / p).resolve()  # the engine records repo files relative to the repo
    try:
        return p.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return p.as_uri()


def sarif(findings: list[Finding], program_file: str, notes: list[str] | None = None) -> dict[str, Any]:
    """A SARIF 2.1.0 log: one result per finding, located at the declaring source line when known; ``notes`` (what
    the offline run could not know) as the invocation's tool execution notifications.

    Mandatory findings are ``error``, advisory ones ``warning``. A finding on a resource whose declaration the
    engine could not place, or a stack-level finding, points at the program file without a line.
    """
    rules = [{"id": e.name, "name": e.name, "shortDescription": {"text": e.policy.description},
              "help": {"text": e.policy.remediation_steps or e.policy.description},
              "defaultConfiguration": {"level": "error"},
              "properties": {"advisoryInDev": e.level(Environment.DEV) == "advisory"}} for e in ENTRIES]
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = []
    for f in findings:
        loc: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": sarif_uri(f.file or program_file)}}}
        if f.line and f.file:
            loc["physicalLocation"]["region"] = {"startLine": int(f.line)}
        if f.urn:
            loc["logicalLocations"] = [{"fullyQualifiedName": f.urn, "name": f.name or f.urn, "kind": "resource"}]
        result: dict[str, Any] = {"ruleId": f.policy, "level": "error" if f.enforcement_level == "mandatory" else "warning",
                                  "message": {"text": f.message}, "locations": [loc]}
        if f.policy in index:
            result["ruleIndex"] = index[f.policy]
        result["properties"] = {"enforcementLevel": f.enforcement_level, **({"resourceType": f.type} if f.type else {})}
        results.append(result)
    driver = {"name": "inferstack-policy", "version": _version(),
              "informationUri": "https://www.pulumi.com/docs/iac/using-pulumi/crossguard/", "rules": rules}
    run: dict[str, Any] = {"tool": {"driver": driver}, "columnKind": "unicodeCodePoints", "results": results}
    if notes:
        run["invocations"] = [{"executionSuccessful": True, "toolExecutionNotifications": [
            {"level": "note", "message": {"text": n}} for n in notes]}]
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _version() -> str:
    return version()


def _check(args: argparse.Namespace) -> int:
    target = load_target(args)
    rec = target.recording
    findings = evaluate(rec, target_pack_config(target))
    if args.strict:
        strict(findings)
    doc = report(target.stack, findings, rec)
    if args.json:
        write_output(json.dumps(doc, indent=2) + "\n", args.json)
    if args.sarif:
        write_output(json.dumps(sarif(findings, str(target.program), doc["notes"]), indent=2) + "\n", args.sarif)
    print_findings(findings, rec)
    for note in doc["notes"]:
        print(f"note: {note}")
    c = doc["summary"]["findings"]
    print(f"{target.stack}: {c['mandatory']} mandatory, {c['advisory']} advisory finding(s)")
    return 1 if c["mandatory"] else 0


def print_findings(findings: list[Finding], rec: Recording | None = None) -> None:
    """The findings grouped per resource: a line naming the resource (and where the program declares it, and which
    of its inputs are placeholders from data-source lookups), then one line per policy with its problems and fix;
    the stack-level findings first."""
    values = placeholder_values(rec) if rec is not None else frozenset()
    by_resource: dict[str | None, list[Finding]] = {}
    for f in findings:
        by_resource.setdefault(f.urn, []).append(f)
    for urn, group in sorted(by_resource.items(), key=lambda kv: (kv[0] is not None, kv[0] or "")):
        f = group[0]
        where = f" ({Path(f.file).name}:{f.line})" if f.file and f.line else ""
        paths = placeholder_inputs(rec.by_urn(urn), values) if rec is not None and urn else []
        flag = f" [inputs from data-source placeholders: {', '.join(paths)}]" if paths else ""
        print(f"{f.type} {f.name}{where}{flag}" if urn else "stack")
        for f in group:
            print(f"  {f.enforcement_level:9} {f.policy}: {f.message}")


def frameworks() -> list[str]:
    """The benchmark names the pack's controls cite (``CIS AWS``, ``FSBP``, ``PSS baseline``, ...), sorted."""
    return sorted({framework_of(c).name for e in ENTRIES for c in e.controls})


def _framework_entries(name: str | None) -> list:
    if name is None:
        return list(ENTRIES)
    known = {f.lower(): f for f in frameworks()}
    if name.strip().lower() not in known:
        raise UsageError(f"--framework {name!r}: no policy cites it; allowed: {', '.join(known.values())}")
    wanted = known[name.strip().lower()]
    return [e for e in ENTRIES if any(framework_of(c).name == wanted for c in e.controls)]


def _list(args: argparse.Namespace) -> int:
    try:
        entries = _framework_entries(args.framework)
    except UsageError as e:
        return fail(str(e))
    if args.format == "json":
        print(json.dumps([e.catalogue_row() for e in entries], indent=2))
    elif args.format == "markdown":
        print(catalogue_markdown(entries), end="")
    else:
        rows = [e.catalogue_row() for e in entries]
        for row in rows:
            levels = ", ".join(f"{env} {level}" for env, level in row["levels"].items())
            print(f"{row['id']} [{row['kind']}; {', '.join(row['clouds'])}; severity {row['severity']}]")
            print(f"  {row['description']}")
            print(f"  controls: {', '.join(row['controls']) or '-'}")
            if row["families"]:
                print(f"  families: {', '.join(row['families'])} (every member type; inferstack policy coverage)")
            print(f"  levels: {levels}")
            print(f"  remediation: {row['remediation']}")
        print(f"{len(rows)} policies")
    return 0


def _coverage(args: argparse.Namespace) -> int:
    rows = coverage()
    if args.format == "json":
        print(json.dumps([c.row() for c in rows], indent=2))
    elif args.format == "markdown":
        print(coverage_markdown(rows), end="")
    else:
        print(coverage_text(rows), end="")
    return 1 if any(c.gaps for c in rows) else 0


def _team_settings(args: argparse.Namespace) -> PolicySettings | None:
    """``--environment E --allowed-region R...``: the settings of a stack of that environment, for a team's own
    policy config file (no stack file); None without ``--environment``. UsageError on a bad combination."""
    if args.environment is None:
        if args.allowed_region:
            raise UsageError("--allowed-region needs --environment (a stack's regions come from its stack file)")
        return None
    if args.stack or args.config:
        raise UsageError("--environment and --stack/--config: give one (a stack file has its own environment)")
    if args.write:
        raise UsageError("--write writes a reference stack's file (policies/config/<stack>.json); use --out FILE")
    if not args.allowed_region:
        raise UsageError("--environment needs --allowed-region REGION (repeat for several): no region set is a safe "
                         "default")
    for region in args.allowed_region:
        if not region.strip() or region != region.strip():
            raise UsageError(f"--allowed-region: {region!r} is not a region name (eu-west-1, europe-west1, ...)")
    from inferstack.checks.residency import misspelt_region

    for region in args.allowed_region:  # a warning: a misspelt region only narrows the policy; a new one is allowed
        close = misspelt_region(region)
        if close:
            print(f"warning: --allowed-region {region!r} is not among the zone catalogue's regions; did you mean "
                  f"{close}? (kept as written: the residency policy allows only the regions given)", file=sys.stderr)
    return PolicySettings(environment=Environment(args.environment), allowed_regions=tuple(args.allowed_region))


def _config(args: argparse.Namespace) -> int:
    if args.out and args.write:
        raise UsageError("--out and --write: give one (--write writes policies/config/<stack>.json)")
    team = _team_settings(args)
    if team is not None:
        settings, name = team, f"environment {args.environment}"
    else:
        cfg = load_stack(args)
        settings, name = cfg.policy_settings(), cfg.name
    text = json.dumps(checked_pack_config(settings, name), indent=2, sort_keys=True) + "\n"
    if args.write:
        write_output(text, str(CONFIG_DIR / f"{name}.json"))
        print(f"wrote {CONFIG_DIR / f'{name}.json'}")
    else:
        write_output(text, args.out)
    return 0
