"""``inferstack policy``: run the policy pack offline (``check``) and print or write a stack's pack config (``config``).

``check`` runs a program under the offline engine and evaluates the real policy objects with the Pulumi CLI's
semantics (see ``inferstack.policies.evaluate``). Exit 1 on any mandatory finding, 0 otherwise, 2 on usage and
config errors. With ``--program FILE.py --config F`` only the policy settings (inferstack:cloud, environment,
residency, policy) are read from the ``inferstack:`` namespace; every other key belongs to the program.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
from pydantic import ValidationError

from inferstack.catalog.clouds import CLOUDS, Cloud
from inferstack.cli.common import UsageError, add_stack_args, load_stack, write_output
from inferstack.config import (
    ConfigError,
    ConfigIssue,
    Environment,
    InferstackConfig,
    PolicySettings,
    read_stack_file,
)
from inferstack.config.stack import NAMESPACE, _decode, file_issue, issues_from_validation
from inferstack.engine import DEFAULT_PROGRAM, REPO_ROOT, ProgramError, Recording, run_program, run_stack
from inferstack.policies.evaluate import Finding, evaluate, summary
from inferstack.policies.pack import ENTRIES, pack_config

#: The keys of the ``inferstack:`` namespace read in ``--program`` mode; the program owns every other key.
POLICY_KEYS = ("cloud", "environment", "residency", "policy")
CONFIG_DIR = REPO_ROOT / "policies" / "config"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("policy", help="policy pack: offline check, generated pack config")
    psub = p.add_subparsers(dest="policy_command", metavar="SUBCOMMAND")
    psub.required = True
    c = psub.add_parser("check", help="evaluate the policy pack over a stack or program, offline")
    add_stack_args(c)
    c.add_argument("--program", metavar="FILE.py", help="any Pulumi Python program (config from --config)")
    c.add_argument("--json", metavar="FILE", help="write the JSON report to FILE")
    c.add_argument("--sarif", metavar="FILE", help="write a SARIF 2.1.0 log to FILE")
    c.set_defaults(func=_check)
    g = psub.add_parser("config", help="print (or --write) the --policy-pack-config document of a stack")
    add_stack_args(g)
    g.add_argument("--write", action="store_true", help="write policies/config/<stack>.json")
    g.set_defaults(func=_config)


def program_policy_settings(config: Mapping[str, Any], source: str) -> tuple[Cloud, PolicySettings]:
    """The cloud and policy settings of a ``--program`` stack file: only ``inferstack:cloud``, ``environment``,
    ``residency`` and ``policy`` are read, validated by the models a full stack uses (so the same errors);
    :class:`ConfigError` names every bad key."""
    ns = {}
    for key, value in config.items():
        prefix, _, name = key.partition(":")
        if prefix == NAMESPACE and name in POLICY_KEYS:
            ns[name] = value if name in ("cloud", "environment") else _decode(value)
    try:
        # Every other field of InferstackConfig has a default: validating the policy keys alone is exact.
        s = InferstackConfig.model_validate(ns)
    except ValidationError as err:
        raise ConfigError(source, issues_from_validation(err)) from None
    return s.cloud, PolicySettings(
        environment=s.environment, allowed_regions=tuple(s.residency.allowed_regions), policy=s.policy
    )


def _pack_config(settings: PolicySettings, source: str) -> dict[str, Any]:
    try:
        return pack_config(settings)
    except ValueError as err:
        raise ConfigError(source, [ConfigIssue(("policy", "enforcement"), str(err).split(": ", 1)[-1])]) from None


def _run(args: argparse.Namespace) -> tuple[str, Recording, dict[str, Any], str]:
    if args.program:
        if not args.config:
            raise UsageError("--program needs --config FILE (the program's stack config)")
        program = Path(args.program)
        if not program.is_file():
            raise UsageError(f"--program {args.program}: no such file")
        f = read_stack_file(args.config)
        cloud, settings = program_policy_settings(f.config, str(f.path))
        info = CLOUDS[cloud]
        region = f.config.get(info.region_key)
        if not region:
            raise ConfigError(str(f.path), [file_issue(info.region_key, "required: the region the program deploys to")])
        project = f.config.get(info.project_key) if info.project_key else None
        try:
            # An absolute path: the SDK drops the source position of a frame whose file name is relative.
            rec = run_program(f.stack, f.config, region=str(region), project=project,
                              program=program.resolve(), secret_keys=f.secret_keys)
        except (ProgramError, pulumi.RunError, pulumi.ConfigMissingError, pulumi.ConfigTypeError) as err:
            # The program rejected its config (missing or invalid keys): a usage error, reported without a traceback.
            raise UsageError(f"--program {args.program}: {err}") from None
        return f.stack, rec, _pack_config(settings, str(f.path)), str(program.resolve())
    cfg = load_stack(args)
    return cfg.name, run_stack(cfg), _pack_config(cfg.policy_settings(), cfg.name), str(Path(DEFAULT_PROGRAM).resolve())


def report(stack: str, findings: list[Finding]) -> dict[str, Any]:
    return {"stack": stack, "findings": [f.to_json() for f in findings], "summary": summary(findings)}


def sarif_uri(path: str) -> str:
    """A file's SARIF artifact URI: relative to the working directory (the repository root in CI) when inside it,
    else an absolute ``file://`` URI."""
    p = Path(path)
    p = (p if p.is_absolute() else REPO_ROOT / p).resolve()  # the engine records repo files relative to the repo
    try:
        return p.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return p.as_uri()


def sarif(findings: list[Finding], program_file: str) -> dict[str, Any]:
    """A SARIF 2.1.0 log: one result per finding, located at the declaring source line when known.

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
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0",
            "runs": [{"tool": {"driver": driver}, "columnKind": "unicodeCodePoints", "results": results}]}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("inferstack")
    except PackageNotFoundError:
        return "0.0.0"


def _check(args: argparse.Namespace) -> int:
    stack, rec, pack_cfg, program_file = _run(args)
    findings = evaluate(rec, pack_cfg)
    doc = report(stack, findings)
    if args.json:
        write_output(json.dumps(doc, indent=2) + "\n", args.json)
    if args.sarif:
        write_output(json.dumps(sarif(findings, program_file), indent=2) + "\n", args.sarif)
    for f in findings:
        where = f"{f.type} {f.name}" if f.urn else "stack"
        print(f"{f.enforcement_level:9} {f.policy}: {where}: {f.message}")
    c = doc["summary"]["findings"]
    print(f"{stack}: {c['mandatory']} mandatory, {c['advisory']} advisory finding(s)")
    return 1 if c["mandatory"] else 0


def _config(args: argparse.Namespace) -> int:
    cfg = load_stack(args)
    text = json.dumps(_pack_config(cfg.policy_settings(), cfg.name), indent=2, sort_keys=True) + "\n"
    if args.write:
        write_output(text, str(CONFIG_DIR / f"{cfg.name}.json"))
        print(f"wrote {CONFIG_DIR / f'{cfg.name}.json'}")
    else:
        write_output(text, None)
    return 0
