"""Coverage of the families: every member judged by a rule or explained.

A member of a family is *judged* by a policy of the pack whose entry names the family in ``families`` (it judges
every member), by a stack policy its rule module lists with the family in ``STACK_FAMILIES`` (policy name ->
families: a stack policy sees every resource, so it picks the family's members itself), or whose ``types`` match
the member (exact token or prefix; an entry without ``types`` is not
counted: it names nothing). Otherwise it must be *explained*: the cloud's ``EXPLAINED`` maps its token, or a token
prefix ending in ``:`` or ``/``, to why it needs no rule. Any other member is a gap (tests/policies/
test_family_coverage.py fails on one; ``inferstack policy coverage`` prints the table).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from inferstack.policies.entry import PolicyEntry
from inferstack.policies.families import CLOUDS, all_families
from inferstack.policies.families.base import FamilySpec


@dataclass(frozen=True)
class FamilyCoverage:
    """One family: its members, the policies judging each, the reason explaining each, and the gaps."""

    name: str
    cloud: str
    control: str
    members: tuple[str, ...]
    judged: Mapping[str, tuple[str, ...]]
    explained: Mapping[str, str]

    @property
    def gaps(self) -> tuple[str, ...]:
        return tuple(t for t in self.members if t not in self.judged and t not in self.explained)

    def row(self) -> dict[str, Any]:
        return {"family": self.name, "cloud": self.cloud, "control": self.control, "members": len(self.members),
                "judged": len(self.judged), "explained": len(self.explained), "gaps": list(self.gaps),
                "explanations": dict(self.explained)}


def cloud_specs(cloud: str) -> tuple[tuple[FamilySpec, ...], Mapping[str, str]]:
    """The ``SPECS`` and ``EXPLAINED`` of ``policies/families/<cloud>.py`` (empty when it does not exist yet)."""
    name = f"inferstack.policies.families.{cloud}"
    try:
        mod = importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name == name:
            return (), {}
        raise
    return tuple(mod.SPECS), dict(getattr(mod, "EXPLAINED", {}))


def explanation(token: str, explained: Mapping[str, str]) -> str | None:
    """Why ``token`` needs no rule: its own entry, else the longest matching prefix entry (ending in ``:`` or ``/``)."""
    if token in explained:
        return explained[token]
    hits = [p for p in explained if p.endswith((":", "/")) and token.startswith(p)]
    return explained[max(hits, key=len)] if hits else None


@cache
def stack_families() -> dict[str, tuple[str, ...]]:
    """Stack policy name -> the families it judges, from the ``STACK_FAMILIES`` of every rule module of the pack."""
    from inferstack.policies.pack import RULE_MODULES

    out: dict[str, tuple[str, ...]] = {}
    for module in RULE_MODULES:
        for name, fams in getattr(module, "STACK_FAMILIES", {}).items():
            out[name] = (*out.get(name, ()), *fams)
    return out


def judges(entry: PolicyEntry, family: str, token: str) -> bool:
    """Whether ``entry`` judges ``token`` as a member of ``family``."""
    if family in entry.families or family in stack_families().get(entry.name, ()):
        return True
    return entry.types is not None and (token in entry.types or token.startswith(
        tuple(t for t in entry.types if t.endswith((":", "/")))))


def coverage(entries: Iterable[PolicyEntry] | None = None) -> list[FamilyCoverage]:
    """Every generated family, per cloud in :data:`CLOUDS` order, with what judges or explains each member."""
    if entries is None:
        from inferstack.policies.pack import ENTRIES as entries  # noqa: N811
    entries = list(entries)
    generated = all_families()
    out = []
    for cloud in CLOUDS:
        specs, explained = cloud_specs(cloud)
        for spec in specs:
            mem = tuple(generated.get(spec.name, {}))
            judged = {t: tuple(e.name for e in entries if judges(e, spec.name, t)) for t in mem}
            out.append(FamilyCoverage(
                spec.name, cloud, spec.control, mem, {t: p for t, p in judged.items() if p},
                {t: why for t in mem if (why := explanation(t, explained)) is not None}))
    return out


def stale_explanations() -> list[str]:
    """``EXPLAINED`` keys that match no member of any family of their cloud (a type renamed or gone)."""
    generated = all_families()
    out = []
    for cloud in CLOUDS:
        specs, explained = cloud_specs(cloud)
        tokens = {t for s in specs for t in generated.get(s.name, {})}
        out += [f"{cloud}: {k}" for k in explained if not any(t == k or (k.endswith((":", "/")) and t.startswith(k))
                                                             for t in tokens)]
    return out


def coverage_markdown(rows: list[FamilyCoverage] | None = None) -> str:
    """The coverage table of docs/policies.md (``inferstack policy coverage --format markdown``)."""
    rows = coverage() if rows is None else rows
    lines = ["| Family | Cloud | Control | Judged | Explained | Members |", "| --- | --- | --- | --- | --- | --- |"]
    for c in rows:
        lines.append(f"| {c.name} | {c.cloud} | {c.control} | {len(c.judged)} | {len(c.explained)} | {len(c.members)} |")
    return "\n".join(lines) + "\n"


def coverage_text(rows: list[FamilyCoverage] | None = None) -> str:
    rows = coverage() if rows is None else rows
    out = []
    for c in rows:
        out.append(f"{c.cloud:10} {c.name}: {len(c.judged)} judged, {len(c.explained)} explained, {len(c.members)} members"
                   + (f"; GAPS: {', '.join(c.gaps)}" if c.gaps else ""))
    gaps = sum(len(c.gaps) for c in rows)
    out.append(f"{len(rows)} families, {sum(len(c.members) for c in rows)} members, {gaps} gap(s)")
    return "\n".join(out) + "\n"
