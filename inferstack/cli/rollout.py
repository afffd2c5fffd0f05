"""``inferstack rollout``: canary status and edits of a model's traffic in the stack config file.

``status`` shows each model's versions and traffic split. ``set`` starts a canary (``--version``) or moves its share
(``--percent``, default the next step 5 -> 10 -> 25 -> 50 -> 75 -> 100); ``promote`` makes the canary the stable
version at 100%; ``rollback`` sends all traffic back to the stable version. Edits keep the file's comments, quoting
and layout (ruamel.yaml round trip), are validated with the config models before anything is written, are written
atomically (temporary file + rename), and print the file diff plus what ``pulumi up`` will change (the offline
engine run on the old and the new config). ``--dry-run`` prints without writing. Bad input exits 2 naming the
argument, and leaves the file untouched.
"""

from __future__ import annotations

import argparse
import difflib
import io
import json
import os
import re
import stat
import tempfile
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from ruamel.yaml.util import load_yaml_guess_indent

from inferstack.cli.common import UsageError, add_stack_args, stack_file
from inferstack.config import ConfigError, StackConfig
from inferstack.config.stack import stack_key
from inferstack.engine import Recording, redact, run_stack
from inferstack.load import load_stack_file
from inferstack.serving import canary as rollout

MODELS_KEY = stack_key("models")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rollout", help="canary routes: status, set, promote, rollback (edits the stack config file)")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    def action(name: str, help_text: str, model_required: bool = True) -> argparse.ArgumentParser:
        a = actions.add_parser(name, help=help_text)
        add_stack_args(a, required=True)
        a.add_argument("--model", metavar="M", required=model_required, help="model name, or namespace/name")
        return a

    status = action("status", "versions and traffic split of the models (all without --model)", model_required=False)
    status.add_argument("--format", choices=["text", "json"], default="text", help="output format (default text)")
    status.set_defaults(func=_status)
    for name, help_text in (
        ("set", "start a canary (--version) or set its traffic share (--percent, default the next step)"),
        ("promote", "the canary becomes the stable version at 100%%"),
        ("rollback", "all traffic back to the stable version (canary share 0)"),
    ):
        a = action(name, help_text)
        if name == "set":
            a.add_argument("--percent", metavar="P", type=int, help="canary traffic share, 0..100")
            a.add_argument("--version", metavar="V", help="registry version number of a new canary")
        a.add_argument("--dry-run", action="store_true", help="print the changes without writing the file")
        a.set_defaults(func=_edit)


# ---------------------------------------------------------------- YAML round trip


def _yaml_for(text: str) -> YAML:
    """A round-trip YAML instance that reproduces ``text``'s indentation and quoting."""
    _, seq_indent, offset = load_yaml_guess_indent(text)
    m = re.search(r"^[^\s#][^\n]*:\s*\n( +)[^\s-]", text, re.M)
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=len(m.group(1)) if m else 2, sequence=seq_indent or 4, offset=offset if offset is not None else 2)
    return y


def _models_of(doc: Any, path: Path) -> Any:
    config = doc.get("config") if isinstance(doc, MutableMapping) else None
    models = config.get(MODELS_KEY) if isinstance(config, MutableMapping) else None
    if not models:
        raise UsageError(f"--model: {path} declares no {MODELS_KEY}")
    return models


def edit_text(text: str, path: Path, model_ref: str, edit: Callable[[MutableMapping[str, Any]], None]) -> tuple[str, int]:
    """``text`` with ``edit`` applied to the model ``model_ref``; the model's index. RolloutError on bad input."""
    y = _yaml_for(text)
    doc = y.load(text)
    models = _models_of(doc, path)
    index = rollout.find_model(models, model_ref)
    entry = models[index]
    edit(entry)
    _quote_versions(entry)
    buf = io.StringIO()
    y.dump(doc, buf)
    return buf.getvalue(), index


def _quote_versions(entry: MutableMapping[str, Any]) -> None:
    """Versions stay quoted strings (``version: "5"``), as the config expects; a new canary goes after ``version``."""
    entry["version"] = DoubleQuotedScalarString(str(entry["version"]))
    canary = entry.get("canary")
    if canary is None:
        return
    if not isinstance(canary, CommentedMap):
        cm = CommentedMap([("version", canary["version"]), ("percent", canary["percent"])])
        del entry["canary"]
        if isinstance(entry, CommentedMap):
            entry.insert(list(entry).index("version") + 1, "canary", cm)
        else:
            entry["canary"] = cm
        canary = cm
    canary["version"] = DoubleQuotedScalarString(str(canary["version"]))


# ---------------------------------------------------------------- validation and diffs


def validate_text(text: str, path: Path) -> StackConfig:
    """Parse and validate ``text`` as the stack file ``path`` would be; ConfigError names the bad keys."""
    with tempfile.TemporaryDirectory(prefix="inferstack-rollout-") as tmp:
        candidate = Path(tmp) / path.name
        candidate.write_text(text)
        try:
            return load_stack_file(candidate)
        except ConfigError as err:
            raise ConfigError(f"{path} (after the edit; file left unchanged)", err.issues) from None


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out or {prefix: {}}
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        out = {}
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out or {prefix: []}
    return {prefix: value}


def resource_changes(before: Recording, after: Recording) -> list[dict[str, Any]]:
    """Resources the new config adds, deletes or updates, with the changed inputs (``path: old -> new``)."""
    old = {r.urn: r for r in before.resources}
    new = {r.urn: r for r in after.resources}
    changes: list[dict[str, Any]] = []
    for urn, r in new.items():
        if urn not in old:
            changes.append({"op": "create", "type": r.type, "name": r.name, "urn": urn, "inputs": []})
            continue
        a, b = _flatten(redact(old[urn].inputs)), _flatten(redact(r.inputs))
        diffs = [
            {"path": k, "old": a.get(k), "new": b.get(k)} for k in sorted(set(a) | set(b), key=lambda k: (k not in a, k)) if a.get(k) != b.get(k)
        ]
        if diffs:
            changes.append({"op": "update", "type": r.type, "name": r.name, "urn": urn, "inputs": diffs})
    for urn, r in old.items():
        if urn not in new:
            changes.append({"op": "delete", "type": r.type, "name": r.name, "urn": urn, "inputs": []})
    return changes


def render_changes(changes: list[dict[str, Any]]) -> str:
    if not changes:
        return "pulumi up will change nothing.\n"
    sign = {"create": "+", "update": "~", "delete": "-"}
    lines = [f"pulumi up will change {len(changes)} resource(s):"]
    for c in changes:
        lines.append(f"  {sign[c['op']]} {c['type']} {c['name']}")
        for d in c["inputs"]:
            old = "(none)" if d["old"] is None else json.dumps(d["old"])
            new = "(removed)" if d["new"] is None else json.dumps(d["new"])
            lines.append(f"      {d['path']}: {old} -> {new}")
    return "\n".join(lines) + "\n"


def describe(cfg: StackConfig, index: int) -> dict[str, Any]:
    """Versions, traffic split and tag routes of model ``index`` of ``cfg``."""
    model = cfg.settings.models[index]
    t = rollout.traffic(model)
    host = f"{model.name}-predictor.{model.namespace}.svc.cluster.local"
    routes = {"latest": f"latest-{host}"}
    if t.canary is not None:
        routes["prev"] = f"prev-{host}"
    return {
        "model": f"{model.namespace}/{model.name}",
        "stable": t.stable,
        "canary": t.canary,
        "canaryPercent": t.percent,
        "traffic": {f"v{v}": p for v, p in t.split.items()},
        "tagRoutes": routes,
    }


def _split_text(d: dict[str, Any]) -> str:
    return " / ".join(f"{v} {p}%" for v, p in d["traffic"].items())


# ---------------------------------------------------------------- commands


def _status(args: argparse.Namespace) -> int:
    path = stack_file(args)
    cfg = load_stack_file(path)
    models = cfg.settings.models
    try:
        indexes = [rollout.find_model(models, args.model)] if args.model else list(range(len(models)))
    except rollout.RolloutError as err:
        raise UsageError(str(err)) from None
    rows = [describe(cfg, i) for i in indexes]
    if args.format == "json":
        print(json.dumps({"stack": cfg.name, "models": rows}, indent=2))
        return 0
    print(f"stack {cfg.name} ({path})")
    for d in rows:
        canary = f"canary v{d['canary']} at {d['canaryPercent']}%" if d["canary"] else "no canary"
        print(f"  {d['model']}: stable v{d['stable']}, {canary}; traffic {_split_text(d)}")
        print(f"      tag routes: {', '.join(d['tagRoutes'].values())}")
    return 0


def _edit(args: argparse.Namespace) -> int:
    path = stack_file(args)
    before = load_stack_file(path)
    text = path.read_text()

    def edit(entry: MutableMapping[str, Any]) -> None:
        if args.action == "set":
            rollout.set_canary(entry, percent=args.percent, version=args.version)
        elif args.action == "promote":
            rollout.promote(entry)
        else:
            rollout.rollback(entry)

    try:
        new_text, index = edit_text(text, path, args.model, edit)
    except rollout.RolloutError as err:
        raise UsageError(str(err)) from None
    after = validate_text(new_text, path)

    old_d, new_d = describe(before, index), describe(after, index)
    print(f"{new_d['model']} in {path}: traffic {_split_text(old_d)} -> {_split_text(new_d)}")
    diff = difflib.unified_diff(text.splitlines(True), new_text.splitlines(True), f"{path}", f"{path} (new)")
    print("".join(diff), end="")
    print(render_changes(resource_changes(run_stack(before), run_stack(after))), end="")
    if args.dry_run:
        print("dry run: file not written")
        return 0
    write_atomically(path, new_text)
    print(f"wrote {path}; run `pulumi up` to apply")
    return 0


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, fsync it, then rename it over ``path`` (mode kept)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
