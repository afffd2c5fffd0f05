"""Offline evaluator: run the real policy objects over an engine Recording with the Pulumi CLI's semantics.

Semantics copied from pulumi-policy's analyzer: enforcement level from the pack config > the policy's own >
the pack's > advisory (config for a policy without a level makes it advisory); ``disabled`` skips the policy;
remediations run first, only at level ``remediate``, and a violation left afterwards is reported as mandatory;
an unknown value read by a rule is reported as an advisory "can't run policy" finding, as in a real preview.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from inferstack.engine import Recording, ResourceRecord, Unknown


@dataclass
class Finding:
    policy: str
    enforcement_level: str
    message: str
    urn: str | None = None
    type: str | None = None
    name: str | None = None
    file: str | None = None
    line: int | None = None

    def to_json(self) -> dict[str, Any]:
        res = {"urn": self.urn, "type": self.type, "name": self.name} if self.urn else None
        return {"policy": self.policy, "enforcementLevel": self.enforcement_level, "resource": res, "message": self.message}


def _sentinels(value: Any) -> Any:
    if isinstance(value, Unknown):
        return UNKNOWN_STRING_VALUE
    if isinstance(value, dict):
        return {k: _sentinels(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_sentinels(v) for v in value]
    return value


def _levels(policies: list, pack_config: Mapping[str, Any], pack_level: str | None) -> dict[str, str]:
    out = {}
    for p in policies:
        entry = pack_config.get(p.name)
        if isinstance(entry, str):
            level = entry
        elif isinstance(entry, dict):
            level = entry.get("enforcementLevel", "advisory")
        else:
            own = p.enforcement_level
            level = (own.value if own is not None else None) or pack_level or "advisory"
        out[p.name] = level.value if isinstance(level, EnforcementLevel) else level
    return out


def _policy_config(pack_config: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    entry = pack_config.get(name)
    return {k: v for k, v in entry.items() if k != "enforcementLevel"} if isinstance(entry, dict) and entry else None


def _opts(r: ResourceRecord) -> PolicyResourceOptions:
    opts = PolicyResourceOptions(r.protect, [], None, list(r.aliases), PolicyCustomTimeouts(0, 0, 0),
                                 list(r.additional_secret_outputs), r.parent)
    opts.retain_on_delete = r.retain_on_delete  # not in pulumi-policy's options; protection rules accept either
    return opts


def _provider(rec: Recording, r: ResourceRecord) -> PolicyProviderResource | None:
    p = rec.provider_of(r)
    return PolicyProviderResource(p.type, _sentinels(p.plain_inputs), p.urn, p.name) if p else None


def evaluate(rec: Recording, pack_config: Mapping[str, Any], policies: list | None = None,
             pack_level: str | None = "mandatory") -> list[Finding]:
    """All findings of ``policies`` (default: the whole pack) over the resources of ``rec``."""
    if policies is None:
        from inferstack.policies.pack import POLICIES as policies  # noqa: N811
    levels = _levels(policies, pack_config, pack_level)
    records = [r for r in rec.resources if r.custom and not r.is_provider]
    by_urn = {r.urn: r for r in rec.resources}
    props = {r.urn: _sentinels(r.plain_inputs) for r in records}
    findings: list[Finding] = []

    def reporter(policy: str, level: str, default: ResourceRecord | None):
        def report(message: str, urn: str | None = None) -> None:
            r = by_urn.get(urn) if urn else default
            src = r.source if r else None
            findings.append(Finding(policy, level, f"{message}", r.urn if r else None, r.type if r else None,
                                    r.name if r else None, src.file if src else None, src.line if src else None))
        return report

    # Remediations first, only at level remediate; they rewrite the properties later policies see.
    for p in policies:
        if isinstance(p, ResourceValidationPolicy) and levels[p.name] == "remediate" and p.remediate is not None:
            for r in records:
                args = ResourceValidationArgs(r.type, props[r.urn], r.urn, r.name, _opts(r), _provider(rec, r),
                                              _policy_config(pack_config, p.name))
                new = p.remediate(args)
                if new is not None:
                    props[r.urn] = dict(new)

    for p in policies:
        level = levels[p.name]
        if level == "disabled":
            continue
        shown = "mandatory" if level == "remediate" else level
        cfg = _policy_config(pack_config, p.name)
        if isinstance(p, ResourceValidationPolicy):
            for r in records:
                args = ResourceValidationArgs(r.type, unknown_checking_proxy(props[r.urn]), r.urn, r.name, _opts(r),
                                              _provider(rec, r), cfg)
                _run(p, args, reporter(p.name, shown, r), findings, r)
        elif isinstance(p, StackValidationPolicy):
            prs: dict[str, PolicyResource] = {}
            for r in records:
                prs[r.urn] = PolicyResource(r.type, props[r.urn], r.urn, r.name, _opts(r), _provider(rec, r), None, [], {})
            for r in records:
                pr = prs[r.urn]
                pr.parent = prs.get(r.parent) if r.parent else None
                pr.dependencies = [prs[d] for d in r.dependencies if d in prs]
                pr.property_dependencies = {k: [prs[d] for d in v if d in prs] for k, v in r.property_dependencies.items()}
            args = StackValidationArgs(list(prs.values()), cfg)
            _run(p, args, reporter(p.name, shown, None), findings, None)
    return findings


def _run(policy, args, report, findings: list[Finding], r: ResourceRecord | None) -> None:
    try:
        policy.validate(args, report)
    except UnknownValueError as e:
        findings.append(Finding(policy.name, "advisory", f"can't run policy '{policy.name}' during preview: {e.message}",
                                r.urn if r else None, r.type if r else None, r.name if r else None))
    except Exception as e:  # a rule error must not hide the rest of the report
        if type(e).__name__ == "_NotApplicableError":
            return
        findings.append(Finding(policy.name, "mandatory", f"policy raised {type(e).__name__}: {e}",
                                r.urn if r else None, r.type if r else None, r.name if r else None))


def summary(findings: list[Finding]) -> dict[str, Any]:
    counts = {"mandatory": 0, "advisory": 0}
    for f in findings:
        counts[f.enforcement_level] = counts.get(f.enforcement_level, 0) + 1
    return {"findings": counts, "policies": sorted({f.policy for f in findings})}
