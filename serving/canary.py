"""Canary routes: what a model entry means for KServe, and the rollout edits ``inferstack rollout`` makes.

Pure functions (no Pulumi, no files). KServe (Knative mode) keeps one spec per InferenceService: the spec's
``storageUri`` is the *latest* revision and ``canaryTrafficPercent`` the share it gets; the rest goes to the last
revision that had all the traffic (the stable one). So an entry ``version: 3, canary: {version: 5, percent: 10}``
declares ``storageUri`` of v5 with ``canaryTrafficPercent: 10``; v3 must be the revision rolled out before.

- **set**: start a canary (``--version``) or move its share (``--percent``, default the next step of the
  entry's ``canary.steps``, else :data:`CANARY_STEPS`). Replacing the version of an existing canary needs an explicit ``--percent``: the new
  version must not silently inherit the old one's share.
- **promote**: the canary becomes the stable version; ``canaryTrafficPercent`` is dropped, so the latest revision
  (already running) takes 100% without a new rollout. A canary at 0% (rolled back) is refused unless forced: it
  would jump from no traffic to all of it.
- **rollback**: the canary's share goes to 0: all traffic back on the stable revision at once, the canary revision
  kept for inspection (``latest-`` tag URL).
- **drop**: the canary entry is removed; the spec serves the stable version again (a new revision of it takes all
  traffic), so the canary's share, if any, goes back to the stable version.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from inferstack.config import bounded

#: Default progression of a canary's traffic share, in percent.
CANARY_STEPS: tuple[int, ...] = (5, 10, 25, 50, 75, 100)


class RolloutError(ValueError):
    """A rollout request that cannot be applied; ``argument`` names the bad command-line argument."""

    def __init__(self, argument: str, message: str):
        self.argument = argument
        super().__init__(f"{argument}: {message}")


@dataclass(frozen=True)
class Traffic:
    """Traffic of one model: stable and canary versions, and the canary's percent (None without a canary)."""

    stable: str
    canary: str | None
    percent: int | None

    @property
    def serving_version(self) -> str:
        """The version in the InferenceService spec (the latest revision)."""
        return self.canary or self.stable

    @property
    def split(self) -> dict[str, int]:
        """Percent of traffic per version, e.g. ``{"3": 90, "5": 10}``."""
        if self.canary is None or self.percent is None:
            return {self.stable: 100}
        return {self.stable: 100 - self.percent, self.canary: self.percent}


def traffic(entry: Any) -> Traffic:
    """The traffic of a model entry: a ``ModelConfig`` or the raw mapping of the stack file."""
    if isinstance(entry, MutableMapping):
        canary = entry.get("canary") or None
        if canary is None:
            return Traffic(str(entry["version"]), None, None)
        return Traffic(str(entry["version"]), str(canary["version"]), int(canary.get("percent", 10)))
    if entry.canary is None:
        return Traffic(entry.version, None, None)
    return Traffic(entry.version, entry.canary.version, entry.canary.percent)


def canary_traffic_percent(entry: Any) -> int | None:
    """``canaryTrafficPercent`` of the InferenceService: the canary's percent, or None (field omitted)."""
    return traffic(entry).percent


def steps_of(entry: Any) -> tuple[int, ...]:
    """The canary steps of a model entry (``canary.steps``), or :data:`CANARY_STEPS` when it declares none."""
    canary = entry.get("canary") if isinstance(entry, MutableMapping) else getattr(entry, "canary", None)
    steps = (canary.get("steps") if isinstance(canary, MutableMapping) else getattr(canary, "steps", None)) if canary else None
    return tuple(int(s) for s in steps) if steps else CANARY_STEPS


def next_step(percent: int, steps: Sequence[int] = CANARY_STEPS) -> int:
    """The first step above ``percent``; RolloutError at 100 (promote instead)."""
    for step in steps:
        if step > percent:
            return step
    raise RolloutError("--percent", f"the canary already has {percent}%; promote it, or give --percent")


def check_percent(percent: int) -> int:
    if not 0 <= percent <= 100:
        raise RolloutError("--percent", f"must be between 0 and 100; got {percent}")
    return percent


def check_version(version: str) -> str:
    """``--version``: a registry version spelt as the stack config's ``version`` (inferstack.config.patterns)."""
    try:
        return str(bounded.version(str(version)))
    except bounded.DecodeError as err:
        raise RolloutError("--version", str(err)) from None


def find_model(models: Sequence[Any], ref: str) -> int:
    """Index of the model named ``ref`` (``name`` or ``namespace/name``); RolloutError naming the known ones."""
    ns, _, name = ref.rpartition("/")
    hits = [
        i for i, m in enumerate(models)
        if str(_get(m, "name")) == name and (not ns or str(_get(m, "namespace")) == ns)
    ]
    known = ", ".join(f"{_get(m, 'namespace')}/{_get(m, 'name')}" for m in models) or "(none)"
    if not hits:
        raise RolloutError("--model", f"no model {ref!r} in inferstack:models; models: {known}")
    if len(hits) > 1:
        raise RolloutError("--model", f"{ref!r} is ambiguous; use namespace/name: {known}")
    return hits[0]


def _get(entry: Any, key: str) -> Any:
    return entry.get(key) if isinstance(entry, MutableMapping) else getattr(entry, key)


# ---------------------------------------------------------------- edits of a raw model entry (in place)


def set_canary(entry: MutableMapping[str, Any], percent: int | None = None, version: str | None = None) -> None:
    """Start a canary of ``version`` or change its percent (default: the next step).

    Replacing the version of an existing canary requires ``percent`` (the share the new version starts with): a
    canary at 50% replaced by an untested version must not keep 50%. ``version`` equal to the canary's version is
    not a replacement (only ``percent``, if given, changes). Nothing is changed when a RolloutError is raised.
    """
    canary = entry.get("canary")
    if version is not None:
        version = check_version(version)
        if version == str(entry["version"]):
            raise RolloutError("--version", f"{version} is already the stable version of {entry['name']}")
    if percent is not None:
        check_percent(percent)
    if canary is None:
        if version is None:
            raise RolloutError("--version", f"{entry['name']} has no canary; give --version to start one")
        entry["canary"] = {"version": version, "percent": percent if percent is not None else CANARY_STEPS[0]}
        return
    t = traffic(entry)
    if version is not None and version != t.canary:
        if percent is None:
            raise RolloutError(
                "--percent",
                f"{entry['name']}'s canary is v{t.canary} at {t.percent}%; replacing it with v{version} needs --percent "
                f"(the share v{version} starts with, e.g. --percent {steps_of(entry)[0]})",
            )
        canary["version"] = version
    if percent is None and version is None:
        percent = next_step(int(t.percent or 0), steps_of(entry))
    if percent is not None:
        canary["percent"] = percent


def promote(entry: MutableMapping[str, Any], force: bool = False) -> None:
    """The canary becomes the stable version at 100%. A canary at 0% (rolled back) only with ``force``."""
    canary = entry.get("canary")
    if not canary:
        raise RolloutError("--model", f"{entry['name']} has no canary to promote")
    t = traffic(entry)
    if t.percent == 0 and not force:
        raise RolloutError(
            "--model",
            f"{entry['name']}'s canary v{t.canary} is at 0% (rolled back); promoting it would send it all traffic at "
            "once; give --force to promote it anyway, `rollout set` to send it traffic again, or `rollout drop` to "
            "remove it",
        )
    entry["version"] = str(canary["version"])
    del entry["canary"]


def rollback(entry: MutableMapping[str, Any]) -> None:
    """All traffic back to the stable version (canary share 0)."""
    canary = entry.get("canary")
    if not canary:
        raise RolloutError("--model", f"{entry['name']} has no canary to roll back")
    canary["percent"] = 0


def advance(entry: MutableMapping[str, Any], action: str) -> str:
    """Apply a canary-analysis decision: ``promote`` moves the canary to the next of its steps, or promotes it when
    it already has 100%; ``rollback`` rolls back; ``hold`` changes nothing. Returns what was done."""
    if action == "hold":
        return "hold"
    if action == "rollback":
        rollback(entry)
        return "rollback"
    if action != "promote":
        raise ValueError(f"{action}: not a decision (promote, hold, rollback)")
    t = traffic(entry)
    if t.canary is None:
        raise RolloutError("--model", f"{entry['name']} has no canary to advance")
    if (t.percent or 0) >= 100:
        promote(entry)
        return "promote"
    set_canary(entry, percent=next_step(int(t.percent or 0), steps_of(entry)))
    return "step"


def drop(entry: MutableMapping[str, Any]) -> None:
    """Remove the canary: the stable version is the spec again, with all traffic."""
    if not entry.get("canary"):
        raise RolloutError("--model", f"{entry['name']} has no canary to drop")
    del entry["canary"]
