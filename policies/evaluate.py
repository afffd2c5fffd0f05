"""Offline evaluator: run the real policy objects over an engine Recording with the Pulumi CLI's semantics.

Semantics copied from pulumi-policy's analyzer: enforcement level from the pack config > the policy's own >
the pack's > advisory (config for a policy without a level makes it advisory); ``disabled`` skips the policy;
remediations run first, only at level ``remediate``, and a violation left afterwards is reported as mandatory;
an unknown value read by a rule is reported as an advisory "can't run policy" finding, as in a real preview.

Cost: each resource's policy view (:class:`ResourceView`: props, options, provider, and the ``PolicyResource`` stack
policies see) is built once, whatever the number of policies; a provider's view once per provider; a resource
policy runs only on the resources of the types its pack entry names. The time is linear in resources x the
policies that apply to their type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from inferstack.config.policy import PolicySettings
from inferstack.engine import Recording, ResourceRecord, batch_gc
from inferstack.engine.wire import UNKNOWN_SENTINEL, Secret, Unknown
from inferstack.policies.pack import ENTRY_BY_NAME, POLICIES, entry_of
from inferstack.policies.rules.k8s_objects import pod_spec_cache


@dataclass
class Finding:
    """One policy's verdict on one resource (or on the stack): every problem the policy reported there, the rule's
    remediation and the settings that change its verdict (:func:`group` builds them from the rules' reports)."""

    policy: str
    enforcement_level: str
    message: str
    urn: str | None = None
    type: str | None = None
    name: str | None = None
    file: str | None = None
    line: int | None = None
    #: The rule could not decide (a value unknown at preview time, or a resource the pack cannot see inside:
    #: a policy whose entry sets ``not_evaluated``): mandatory under ``--strict``.
    not_evaluated: bool = False
    #: Each problem the policy reported on the resource, in report order (``message`` joins them with the fix).
    problems: list[str] = field(default_factory=list)
    #: The rule's remediation steps (``inferstack policy list`` shows the same).
    remediation: str | None = None
    #: The settings that change the rule's verdict: ``{"stack": "inferstack:policy.allowPublicLoadBalancers",
    #: "policyConfig": "no-public-load-balancers.allowPublicLoadBalancers"}`` each.
    settings: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        res = {"urn": self.urn, "type": self.type, "name": self.name} if self.urn else None
        out: dict[str, Any] = {"policy": self.policy, "enforcementLevel": self.enforcement_level, "resource": res,
                               "message": self.message}
        if self.problems:
            out["problems"] = list(self.problems)
        if self.remediation:
            out["remediation"] = self.remediation
        if self.settings:
            out["settings"] = [dict(s) for s in self.settings]
        if self.not_evaluated:
            out["notEvaluated"] = True
        return out


#: Pack-config setting -> the stack key it comes from (``inferstack policy config`` maps them one to one). The
#: ``environment`` setting is left out: it is the stack's class, not a knob that changes a verdict.
SETTING_KEYS = {
    "allowedRegions": "inferstack:residency.allowedRegions",
    "allowPublicLoadBalancers": "inferstack:policy.allowPublicLoadBalancers",
    "allowPublicInference": "inferstack:policy.allowPublicInference",
    "platformAdminGroup": "inferstack:policy.platformAdminGroup",
    "reviewedResources": "inferstack:policy.reviewedResources",
}


def policy_settings(policy: str) -> list[dict[str, str]]:
    """The settings of ``policy`` that change its verdict: the stack key and the key in a policy config file."""
    entry = ENTRY_BY_NAME.get(policy)
    if entry is None:
        return []
    sample = entry.settings(PolicySettings(environment="prod", allowed_regions=("x",)))
    return [{"stack": SETTING_KEYS[k], "policyConfig": f"{policy}.{k}"} for k in sample if k in SETTING_KEYS]


def _with_fix(problems: list[str], remediation: str | None, settings: list[dict[str, str]]) -> str:
    text = problems[0] if len(problems) == 1 else "; ".join(f"({i}) {p.rstrip('.')}" for i, p in enumerate(problems, 1)) + "."
    # The fix, unless every problem already says it (a rule whose message names the change to make).
    first = (remediation or "").split("; ")[0].rstrip(".").lower()
    fix = remediation if remediation and not all(first in p.lower() for p in problems) else None
    if fix:
        text = f"{text.rstrip()} Fix: {fix.rstrip()}"
    shown = [s for s in settings if s["stack"] not in (fix or "") or s["policyConfig"] not in (fix or "")]
    if shown:
        keys = ", ".join(f"{s['stack']} (policy config: {s['policyConfig']})" for s in shown)
        text = f"{text.rstrip()} Setting: {keys}."
    return text


def group(findings: list[Finding]) -> list[Finding]:
    """One finding per policy and resource (and level), listing every problem the policy reported there, with the
    rule's remediation and the settings that change it; in the order of each group's first report. Findings a rule
    could not evaluate (unknown values) and rule errors keep their own message, without a fix."""
    groups: dict[tuple, Finding] = {}
    for f in findings:
        key = (f.policy, f.urn, f.enforcement_level, f.not_evaluated)
        g = groups.get(key)
        if g is None:
            g = groups[key] = Finding(f.policy, f.enforcement_level, f.message, f.urn, f.type, f.name, f.file, f.line,
                                      f.not_evaluated, [])
        if f.message not in g.problems:
            g.problems.append(f.message)
    out = list(groups.values())
    for g in out:
        entry = ENTRY_BY_NAME.get(g.policy)
        cant_run = any(p.startswith(("can't run policy", "policy raised")) for p in g.problems)
        g.remediation = entry.remediation if entry is not None and not cant_run and entry.remediation else None
        g.settings = policy_settings(g.policy) if not cant_run else []
        g.message = _with_fix(g.problems, g.remediation, g.settings)
    return out


_SCALARS = frozenset({str, int, float, bool, type(None)})

#: What every placeholder string of a data-source lookup starts with (:func:`inferstack.engine.results`): a quick
#: test before looking for the recording's own placeholders in a string.
_PLACEHOLDER_MARK = "placeholder-"


def placeholder_strings(rec: Recording) -> frozenset[str]:
    """The placeholder strings the run's data-source lookups were answered with (numbers and booleans made up for a
    lookup cannot be told from a program's own, so only strings are traced into resource inputs)."""
    return frozenset(v for _, _, v in rec.placeholders if isinstance(v, str) and _PLACEHOLDER_MARK in v)


def policy_props(value: Any, placeholders: frozenset[str] = frozenset()) -> Any:
    """A recorded value as a policy sees it, in one pass: secrets as plaintext, unknowns as Pulumi's sentinel.

    A string that is, or is built from, one of ``placeholders`` (the made-up answers of data-source lookups:
    :func:`placeholder_strings`) is a value the offline run could not know: it is unknown too, so a rule reading it
    reports "not evaluated" (as for any unknown value) instead of judging a made-up value."""
    t = type(value)  # exact types first: the bulk of a recording (the general checks below handle subclasses)
    if t in _SCALARS:
        if placeholders and t is str and _PLACEHOLDER_MARK in value and any(p in value for p in placeholders):
            return UNKNOWN_SENTINEL
        return value
    if t is dict:
        return {k: policy_props(v, placeholders) for k, v in value.items()}
    if t is list:
        return [policy_props(v, placeholders) for v in value]
    if isinstance(value, Secret):
        return policy_props(value.value, placeholders)
    if isinstance(value, Unknown):
        return UNKNOWN_SENTINEL
    if isinstance(value, dict):
        return {k: policy_props(v, placeholders) for k, v in value.items()}
    if isinstance(value, list):
        return [policy_props(v, placeholders) for v in value]
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


class ResourceView:
    """One resource as policies see it, built once per evaluation and shared by every policy."""

    __slots__ = ("record", "_props", "_checked", "opts", "provider", "stack_resource", "placeholders")

    def __init__(self, record: ResourceRecord, provider: PolicyProviderResource | None,
                 placeholders: frozenset[str] = frozenset()):
        self.record = record
        self._props: dict[str, Any] = policy_props(record.inputs, placeholders)
        self._checked: Mapping[str, Any] | None = None
        opts = PolicyResourceOptions(record.protect, [], None, list(record.aliases), PolicyCustomTimeouts(0, 0, 0),
                                     list(record.additional_secret_outputs), record.parent)
        opts.retain_on_delete = record.retain_on_delete  # not in pulumi-policy's options; protection rules accept either
        self.opts = opts
        self.provider = provider
        #: The PolicyResource of stack policies (linked to its parent and dependencies by :func:`_stack_resources`).
        self.stack_resource: PolicyResource | None = None
        #: The run's placeholder strings (:func:`placeholder_strings`): unknown wherever a policy reads them.
        self.placeholders = placeholders

    @property
    def props(self) -> dict[str, Any]:
        return self._props

    @props.setter
    def props(self, value: dict[str, Any]) -> None:  # a remediation's new properties
        self._props = value
        self._checked = None

    @property
    def checked_props(self) -> Mapping[str, Any]:
        """The props wrapped to raise on an unknown value (what a resource policy's ``args.props`` is)."""
        if self._checked is None:
            self._checked = unknown_checking_proxy(self._props)
        return self._checked

    def args(self, config: Mapping[str, Any] | None, checked: bool = True) -> ResourceValidationArgs:
        """The validation args of one policy call: the shared view plus that policy's config."""
        r = self.record
        props = self.checked_props if checked else self._props
        return ResourceValidationArgs(r.type, props, r.urn, r.name, self.opts, self.provider, config)


#: Remote components whose children only a real engine registers (the provider expands them): offline, the rules
#: judge their inputs (the objects they hold), which is what Pulumi's analyzer sees as their children.
OPAQUE_COMPONENTS = frozenset({"kubernetes:yaml/v2:ConfigGroup", "kubernetes:yaml/v2:ConfigFile"})


def default_provider(r: ResourceRecord) -> PolicyProviderResource:
    """The default provider of a custom resource registered without one, as a real engine shows it to policies.

    The engine gives every custom resource a provider: the one in its options, else the package's default provider
    ``pulumi:providers:<package>`` (named ``default...``), which the offline engine does not register (Pulumi's mocks
    make none). Its inputs come from the stack's provider config, unknown here: empty, as for a provider that sets
    nothing. Component resources have none (``args.provider`` is None: how a rule tells them apart in a real preview).
    """
    prefix = r.urn.split("::", 2)[:2]
    urn = "::".join([*prefix, f"pulumi:providers:{r.package}", "default"])
    return PolicyProviderResource(f"pulumi:providers:{r.package}", {}, urn, "default")


def _views(rec: Recording) -> list[ResourceView]:
    """The view of every custom, non-provider resource and of every opaque remote component (:data:`OPAQUE_COMPONENTS`),
    in recording order; one provider view per provider."""
    providers: dict[str, PolicyProviderResource | None] = {}
    placeholders = placeholder_strings(rec)

    def provider_view(r: ResourceRecord) -> PolicyProviderResource | None:
        if not r.provider:
            if not r.custom:
                return None
            key = f"default:{r.urn.split('::', 2)[:2]}:{r.package}"
            if key not in providers:
                providers[key] = default_provider(r)
            return providers[key]
        if r.provider not in providers:
            p = rec.provider_of(r)  # an index lookup
            providers[r.provider] = PolicyProviderResource(p.type, policy_props(p.inputs, placeholders), p.urn, p.name) if p else None
        return providers[r.provider]

    return [
        ResourceView(r, provider_view(r), placeholders)
        for r in rec.resources
        if (r.custom and not r.is_provider) or r.type in OPAQUE_COMPONENTS
    ]


def _stack_resources(views: list[ResourceView]) -> list[PolicyResource]:
    """The resources stack policies see (built once, after remediations), linked to parents and dependencies."""
    by_urn: dict[str, PolicyResource] = {}
    for v in views:
        r = v.record
        # Stack policies see a resource's outputs in Pulumi (the physical name an S3 sub-resource refers to, ...):
        # the recorded outputs fill in what the inputs do not say.
        # An output the inputs also name is overridden by the input: only the others are converted (the same
        # mapping, key order included, as {**policy_props(outputs), **props}, without converting the inputs twice).
        if r.outputs:
            own = v.props
            props = {k: own[k] if k in own else policy_props(val, v.placeholders) for k, val in r.outputs.items()}
            props.update(own)
        else:
            props = v.props
        v.stack_resource = by_urn[r.urn] = PolicyResource(r.type, props, r.urn, r.name, v.opts, v.provider, None, [], {})
    for v in views:
        r, pr = v.record, v.stack_resource
        pr.parent = by_urn.get(r.parent) if r.parent else None
        pr.dependencies = [by_urn[d] for d in r.dependencies if d in by_urn]
        pr.property_dependencies = {k: [by_urn[d] for d in deps if d in by_urn] for k, deps in r.property_dependencies.items()}
    return list(by_urn.values())


def _targets(policies: list, views: list[ResourceView]) -> dict[int, list[ResourceView]]:
    """Resource policy (by id) -> the views of the resources it applies to, in registration order.

    A policy of the pack applies to the types its entry names; any other policy to every resource. The policies of
    each type are worked out once per type, so the cost is the resources plus the (policy, resource) pairs that apply.
    """
    applies = {id(p): (e.applies_to if (e := entry_of(p)) is not None else None) for p in policies}
    per_type: dict[str, list[Any]] = {}
    out: dict[int, list[ResourceView]] = {id(p): [] for p in policies}
    for v in views:
        t = v.record.type
        ps = per_type.get(t)
        if ps is None:
            ps = per_type[t] = [p for p in policies if applies[id(p)] is None or applies[id(p)](t)]
        for p in ps:
            out[id(p)].append(v)
    return out


def evaluate(rec: Recording, pack_config: Mapping[str, Any], policies: list | None = None,
             pack_level: str | None = "mandatory") -> list[Finding]:
    """All findings of ``policies`` (default: the whole pack) over the resources of ``rec``: one per policy and
    resource, listing the problems, with the fix (:func:`group`)."""
    with batch_gc(), pod_spec_cache():
        return group(_evaluate(rec, pack_config, POLICIES if policies is None else policies, pack_level))


def _evaluate(rec: Recording, pack_config: Mapping[str, Any], policies: list, pack_level: str | None) -> list[Finding]:
    levels = _levels(policies, pack_config, pack_level)
    views = _views(rec)
    resource_policies = [p for p in policies if isinstance(p, ResourceValidationPolicy) and levels[p.name] != "disabled"]
    targets = _targets(resource_policies, views)
    findings: list[Finding] = []

    not_evaluated = {p.name for p in policies if (e := entry_of(p)) is not None and e.not_evaluated}

    def reporter(policy: str, level: str, default: ResourceRecord | None):
        def report(message: str, urn: str | None = None) -> None:
            r = rec.by_urn(urn) if urn else default
            src = r.source if r else None
            findings.append(Finding(policy, level, f"{message}", r.urn if r else None, r.type if r else None,
                                    r.name if r else None, src.file if src else None, src.line if src else None,
                                    not_evaluated=policy in not_evaluated))
        return report

    # Remediations first, only at level remediate; they rewrite the properties later policies see.
    for p in resource_policies:
        if levels[p.name] == "remediate" and p.remediate is not None:
            cfg = _policy_config(pack_config, p.name)
            for v in targets[id(p)]:
                new = p.remediate(v.args(cfg, checked=False))
                if new is not None:
                    v.props = dict(new)

    stack_resources: list[PolicyResource] | None = None
    for p in policies:
        level = levels[p.name]
        if level == "disabled":
            continue
        shown = "mandatory" if level == "remediate" else level
        cfg = _policy_config(pack_config, p.name)
        if isinstance(p, ResourceValidationPolicy):
            for v in targets[id(p)]:
                _run(p, v.args(cfg), reporter(p.name, shown, v.record), findings, v.record)
        elif isinstance(p, StackValidationPolicy):
            if stack_resources is None:
                stack_resources = _stack_resources(views)
            args = StackValidationArgs(list(stack_resources), cfg)
            _run(p, args, reporter(p.name, shown, None), findings, None)
    return findings


def _run(policy, args, report, findings: list[Finding], r: ResourceRecord | None) -> None:
    try:
        policy.validate(args, report)
    except UnknownValueError as e:
        findings.append(Finding(policy.name, "advisory", f"can't run policy '{policy.name}' during preview: {e.message}",
                                r.urn if r else None, r.type if r else None, r.name if r else None, not_evaluated=True))
    except Exception as e:  # a rule error must not hide the rest of the report
        if type(e).__name__ == "_NotApplicableError":
            return
        findings.append(Finding(policy.name, "mandatory", f"policy raised {type(e).__name__}: {e}",
                                r.urn if r else None, r.type if r else None, r.name if r else None))


def strict(findings: list[Finding]) -> list[Finding]:
    """``policy check --strict``: a finding the rule could not evaluate (unknown at preview, or a resource the pack
    cannot see inside) becomes mandatory."""
    for f in findings:
        if f.not_evaluated:
            f.enforcement_level = "mandatory"
    return findings


def summary(findings: list[Finding]) -> dict[str, Any]:
    counts = {"mandatory": 0, "advisory": 0}
    for f in findings:
        counts[f.enforcement_level] = counts.get(f.enforcement_level, 0) + 1
    return {"findings": counts, "policies": sorted({f.policy for f in findings})}
