"""Every policy of the pack, gathered from the rule modules' entries, and the pack config generated from a stack.

Each rule module (``policies/rules/*.py``) exports ``ENTRIES``: its policies with their level per environment and
the settings they read (:class:`~inferstack.policies.entry.PolicyEntry`). This module only gathers them, in report
order. The pack config (``policies/config/<stack>.json``) is the single place a stack's policy settings reach the
pack: :func:`pack_config` builds it from the stack's :class:`~inferstack.config.policy.PolicySettings`;
``inferstack policy config --stack S --write`` writes it; a test fails on drift.
"""

from __future__ import annotations

from typing import Any

from inferstack.config.base import Environment
from inferstack.config.policy import EnforcementLevel, PolicySettings
from inferstack.config.stack import StackConfig
from inferstack.policies.entry import PolicyEntry
from inferstack.policies.rules import (
    accelerator_access,
    accelerators,
    aws_accounts,
    aws_data,
    aws_iam,
    capacity,
    drivers,
    encryption,
    exposure,
    gcp_compute,
    gcp_data,
    gcp_iam,
    gke_nodes,
    iam,
    k8s_data,
    k8s_workloads,
    kubernetes,
    lifecycle,
    logging,
    network,
    opaque,
    pod_security,
    protection,
    rbac,
    residency,
    scheduling,
)

PACK_NAME = "inferstack"

#: The rule modules, in report order.
RULE_MODULES = (encryption, logging, iam, aws_iam, aws_accounts, aws_data, rbac, residency, exposure, network, opaque, gke_nodes, protection,
                accelerators, capacity, lifecycle, pod_security, kubernetes, gcp_iam, gcp_data, gcp_compute, k8s_workloads, k8s_data,
                accelerator_access, drivers, scheduling)

#: Every policy's entry, in report order.
ENTRIES: tuple[PolicyEntry, ...] = tuple(entry for module in RULE_MODULES for entry in module.ENTRIES)
#: All policies, in report order.
POLICIES = [e.policy for e in ENTRIES]
POLICY_NAMES = [e.name for e in ENTRIES]
ENTRY_BY_NAME: dict[str, PolicyEntry] = {e.name: e for e in ENTRIES}
if len(ENTRY_BY_NAME) != len(ENTRIES):
    raise ValueError(f"policy names registered twice: {sorted({n for n in POLICY_NAMES if POLICY_NAMES.count(n) > 1})}")


def entry_of(policy: Any) -> PolicyEntry | None:
    """The pack's entry of a policy object (None for a policy that is not the pack's own)."""
    entry = ENTRY_BY_NAME.get(getattr(policy, "name", None))
    return entry if entry is not None and entry.policy is policy else None


def catalogue() -> list[dict[str, Any]]:
    """Every policy as ``inferstack policy list`` prints it: id, description, clouds, controls, severity, level per
    environment, remediation."""
    return [e.catalogue_row() for e in ENTRIES]


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def catalogue_markdown(entries: list[PolicyEntry] | tuple[PolicyEntry, ...] = ENTRIES) -> str:
    """The rule table of docs/policies.md (``inferstack policy list --format markdown``; a test fails on drift).

    The last two columns are the level in dev and the level in staging and prod (the same in both for every policy).
    """
    lines = ["| Policy | Clouds | Controls | Severity | Checks | dev | staging, prod |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for e in entries:
        staging, prod = e.level(Environment.STAGING), e.level(Environment.PROD)
        last = prod if staging == prod else f"{staging}/{prod}"
        lines.append(f"| `{e.name}` | {', '.join(sorted(e.clouds))} | {_cell('; '.join(e.controls)) or '-'} | "
                     f"{e.severity_name} | {_cell(e.description)} | {e.level(Environment.DEV)} | {last} |")
    return "\n".join(lines) + "\n"


def default_level(policy: str, environment: Environment | str) -> EnforcementLevel:
    """The enforcement level of ``policy`` in an environment before per-stack overrides."""
    return ENTRY_BY_NAME[policy].level(environment)


class PackConfigError(ValueError):
    """Policy settings of a stack the pack cannot take; ``loc`` is the key under ``inferstack:`` (``("policy",
    "enforcement")``), ``message`` what is wrong and what is allowed."""

    def __init__(self, loc: tuple[str, ...], message: str):
        self.loc, self.message = loc, message
        super().__init__(f"inferstack:{'.'.join(loc)}: {message}")


def reviewed_type(key: str) -> str:
    """The type token an ``inferstack:policy.reviewedResources`` key names (``<type>::<name>`` or a URN)."""
    if key.startswith("urn:pulumi:"):
        return key.split("::")[2].rsplit("$", 1)[-1]
    return key.split("::", 1)[0]


def pack_config(settings: PolicySettings | StackConfig) -> dict[str, dict[str, Any]]:
    """The ``--policy-pack-config`` document of a stack: every policy with its level and settings.

    Takes the stack's :class:`PolicySettings` (a :class:`StackConfig` stands for its ``policy_settings()``).
    Raises :class:`PackConfigError` naming the unknown policies of ``inferstack:policy.enforcement``, or a
    ``inferstack:policy.reviewedResources`` entry of a type the rules see inside (only opaque resources are reviewed).
    """
    if isinstance(settings, StackConfig):
        settings = settings.policy_settings()
    overrides = settings.policy.enforcement
    unknown = sorted(set(overrides) - set(POLICY_NAMES))
    if unknown:
        raise PackConfigError(("policy", "enforcement"), f"unknown policies {unknown}; allowed: {', '.join(POLICY_NAMES)}")
    seen = sorted(k for k in settings.policy.reviewed_resources if not opaque.blind_families(reviewed_type(k)))
    if seen:
        raise PackConfigError(
            ("policy", "reviewedResources"),
            f"{seen}: the rules see inside these resources' types and judge them; reviewedResources acknowledges only "
            "resources they cannot see (dynamic providers, types of provider packages no rule knows)",
        )
    return {
        e.name: {"enforcementLevel": overrides.get(e.name, e.level(settings.environment)), **e.settings(settings)}
        for e in ENTRIES
    }
