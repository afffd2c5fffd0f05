"""``inferstack rollout``: canary status and edits of a model's traffic in the stack config file.

``status`` shows each model's versions and traffic split. ``set`` starts a canary (``--version``) or moves its share
(``--percent``, default the next step 5 -> 10 -> 25 -> 50 -> 75 -> 100; replacing an existing canary's version needs
``--percent``); ``promote`` makes the canary the stable version at 100% (a canary at 0% only with ``--force``);
``rollback`` sends all traffic back to the stable version; ``drop`` removes the canary. Every edit prints the traffic
before and after. Edits keep the file's comments, quoting and layout (ruamel.yaml round trip), are validated with
the config models before anything is written, and print the file diff plus what ``pulumi up`` will change (the
offline engine run on the old and the new config). ``--dry-run`` prints without writing.

Writing is safe against faults and concurrent rollouts: the read-edit-write runs under an exclusive ``flock`` on
``<stack file>.lock`` (waiting up to ``--lock-timeout`` seconds, then exit 2 "locked"), the file is replaced
atomically (temporary file in the same directory, fsync, ``os.replace``, directory fsync), and a file changed by a
program that ignores the lock while the rollout ran is not overwritten. Bad input exits 2 with one ``error:`` line
naming the argument, and leaves the file untouched.

``analyze`` judges a canary against the model's ``slo`` on a Prometheus (``--prometheus URL``): stable and canary
request count, error ratio and latency percentiles over ``--window`` (default ``canary.analysis.window``), and the
decision promote / hold / rollback with its reasons (``--format json`` for CI; exit 0 whatever the decision, 2 for
a model without ``slo`` or canary, 3 when Prometheus is unreachable or answers badly). ``advance`` analyzes, then
applies the decision like the edits above: promote moves the canary to the next of its ``canary.steps`` (and
promotes it once it has 100%), rollback rolls back, hold writes nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import fcntl
import glob
import io
import json
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from ruamel.yaml.tokens import CommentToken
from ruamel.yaml.util import load_yaml_guess_indent

from inferstack.cli.common import UsageError, add_stack_args, stack_file
from inferstack.config import ConfigError, StackConfig, bounded
from inferstack.config.stack import stack_key
from inferstack.engine import Recording, redact, run_stack
from inferstack.load import load_stack_file
from inferstack.serving import canary as rollout

MODELS_KEY = stack_key("models")

#: Default seconds an edit waits for another rollout of the same stack file to finish.
LOCK_TIMEOUT = 30.0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rollout", help="canary routes: status, set, promote, rollback, drop, SLO-gated analyze / advance (edits the stack config file)")
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
        ("promote", "the canary becomes the stable version at 100%% (a canary at 0%% only with --force)"),
        ("rollback", "all traffic back to the stable version (canary share 0)"),
        ("drop", "remove the canary: the stable version serves all traffic"),
    ):
        a = action(name, help_text)
        if name == "set":
            a.add_argument("--percent", metavar="P", type=_percent, help="canary traffic share, 0..100 (required to replace a canary's version)")
            a.add_argument("--version", metavar="V", help="registry version number of a new canary")
        if name == "promote":
            a.add_argument("--force", action="store_true", help="promote a canary that was rolled back to 0%%")
        a.add_argument("--dry-run", action="store_true", help="print the changes without writing the file")
        a.add_argument(
            "--lock-timeout", metavar="S", type=_seconds, default=LOCK_TIMEOUT,
            help=f"seconds to wait for another rollout of the same file (default {LOCK_TIMEOUT:g}; 0: fail at once)",
        )
        a.set_defaults(func=_edit)
    for name, help_text in (
        ("analyze", "compare the canary with the stable version and the model's slo on Prometheus: promote, hold or rollback"),
        ("advance", "analyze, then apply the decision: next canary step (promote at 100%%), rollback, or nothing"),
    ):
        a = action(name, help_text)
        a.add_argument("--prometheus", metavar="URL", required=True, help="Prometheus HTTP API base URL, e.g. http://localhost:9090")
        a.add_argument("--window", metavar="W", help="range the numbers are computed over (default the model's canary.analysis.window)")
        a.add_argument("--timeout", metavar="S", type=_seconds, default=10.0, help="seconds per Prometheus query (default 10)")
        if name == "analyze":
            a.add_argument("--format", choices=["text", "json"], default="text", help="output format (default text)")
            a.set_defaults(func=_analyze)
        else:
            a.add_argument("--dry-run", action="store_true", help="print the changes without writing the file")
            a.add_argument(
                "--lock-timeout", metavar="S", type=_seconds, default=LOCK_TIMEOUT,
                help=f"seconds to wait for another rollout of the same file (default {LOCK_TIMEOUT:g}; 0: fail at once)",
            )
            a.set_defaults(func=_advance)


def _seconds(value: str) -> float:
    """A number of seconds in ASCII decimal (``inferstack.config.bounded``: no look-alike digits, no NaN or inf)."""
    try:
        seconds = bounded.number(value, "a number of seconds")
    except bounded.DecodeError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    if not 0 <= seconds <= 366 * 86400:
        raise argparse.ArgumentTypeError(f"must be 0 to {366 * 86400} seconds; got {value}")
    return seconds


def _percent(value: str) -> int:
    """A whole number in ASCII digits (the commands check the 0..100 range and say so)."""
    try:
        return bounded.integer(value, -10**6, 10**6, "a whole percentage (0 to 100)")
    except bounded.DecodeError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


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
    keys_before = list(entry)
    trailing = _trailing_comment_lines(entry, "canary")
    edit(entry)
    if "canary" in keys_before and "canary" not in entry and trailing:
        _keep_comments(entry, keys_before, "canary", trailing)
    _quote_versions(entry)
    buf = io.StringIO()
    y.dump(doc, buf)
    return buf.getvalue(), index


# A full-line comment after a block is stored by ruamel.yaml on the block's last scalar (after its end-of-line
# comment, in the same token). Deleting the canary mapping would take with it the comments below it, which belong to
# what follows (the next key, or the next model); they move to the key before the canary instead.


def _eol_slot(container: Any) -> int:
    return 0 if isinstance(container, CommentedSeq) else 2


def _last_scalar(container: Any, key: Any) -> tuple[Any, Any]:
    """The container and key holding the last scalar written under ``container[key]`` (block collections nest)."""
    value = container[key]
    while isinstance(value, (CommentedMap, CommentedSeq)) and len(value) and not value.fa.flow_style():
        last = list(value)[-1] if isinstance(value, CommentedMap) else len(value) - 1
        container, key, value = value, last, value[last]
    return container, key


def _trailing_comment_lines(entry: Any, key: str) -> str:
    """The full-line comments (and blank lines) right after ``entry[key]``'s block, '' when none."""
    if not isinstance(entry, CommentedMap) or key not in entry:
        return ""
    container, last = _last_scalar(entry, key)
    slots = container.ca.items.get(last) if isinstance(container, (CommentedMap, CommentedSeq)) else None
    token = slots[_eol_slot(container)] if slots else None
    if token is None and key in entry.ca.items:  # a flow-style block: the comment is on the key itself
        token = entry.ca.items[key][2]
    if not isinstance(token, CommentToken):
        return ""
    _, _, rest = token.value.partition("\n")
    return rest if rest.strip() else ""


def _keep_comments(entry: CommentedMap, keys_before: list[Any], removed: str, lines: str) -> None:
    """Put ``lines`` (full-line comments) after the key that came before ``removed``."""
    i = keys_before.index(removed)
    prev = next((k for k in reversed(keys_before[:i]) if k in entry), None)
    if prev is None:  # the removed block was the entry's first key: nothing above to hang them on
        return
    container, last = _last_scalar(entry, prev)
    slot = _eol_slot(container)
    slots = container.ca.items.setdefault(last, [None, None, None, None])
    token = slots[slot]
    if isinstance(token, CommentToken):
        token.value = token.value if token.value.endswith("\n") else token.value + "\n"
        token.value += lines
    else:
        slots[slot] = CommentToken("\n" + lines, CommentMark(0), None)


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


def routing(model: Any) -> dict[str, Any]:
    """Where a model's traffic goes on its serving track, read from the objects inferstack declares for it (the
    builders of ``serving/``) and named as KServe v0.20.0 names what it creates from them.

    - ``knative``: the InferenceService, its ``canaryTrafficPercent`` and the Knative tag routes;
    - ``standard``: the InferenceService and the Service KServe creates (``<name>-predictor``); no canary;
    - ``llm``: one LLMInferenceService per version in a routing group on the inference Gateway: per version its
      ``router.route.weight``, HTTPRoute, InferencePool and direct path; the group's version-independent path.
    """
    from inferstack.serving import inference, llm
    from inferstack.serving.metrics import LLM, track_of
    from inferstack.serving.placement import Placement

    track = track_of(model)
    if track == LLM:
        versions = []
        for member in llm.members(model):
            r = llm.kserve_routing(llm.llm_inference_service(model, member, Placement(), None))
            versions.append({"version": member.version, "role": member.role, **r})
        first = versions[0]
        return {
            "track": track,
            "routingGroup": first["group"],
            "gateway": ", ".join(first["gateways"]),
            "path": first["groupPath"],
            "versions": [{k: v for k, v in r.items() if k not in ("group", "gateways", "groupPath")} for r in versions],
        }
    return {"track": track, **inference.kserve_routing(inference.inference_service(model, Placement(), None))}


def describe(cfg: StackConfig, index: int) -> dict[str, Any]:
    """Versions, traffic split and routes (per serving track, :func:`routing`) of model ``index`` of ``cfg``."""
    model = cfg.settings.models[index]
    t = rollout.traffic(model)
    return {
        "model": f"{model.namespace}/{model.name}",
        "stable": t.stable,
        "canary": t.canary,
        "canaryPercent": t.percent,
        "traffic": {f"v{v}": p for v, p in t.split.items()},
        **routing(model),
    }


def _split_text(d: dict[str, Any]) -> str:
    return " / ".join(f"{v} {p}%" for v, p in d["traffic"].items())


def routing_lines(d: dict[str, Any]) -> list[str]:
    """The route lines of ``rollout status`` for one model (a :func:`describe` or :func:`routing` dict)."""
    if d["track"] == "llm":
        lines = [f"LLMInferenceService routing group {d['routingGroup']} on Gateway {d['gateway']}: {d['path']}..."]
        for v in d["versions"]:
            lines.append(
                f"  v{v['version']} {v['role']}: {v['llmInferenceService']} router.route.weight {v['weight']}, "
                f"HTTPRoute {v['httpRoute']}, InferencePool {v['inferencePool']}, direct {v['path']}..."
            )
        return lines
    head = f"{d['deploymentMode']} mode: InferenceService {d['inferenceService']}"
    if d["track"] == "standard":
        return [f"{head}, Service {d['service']} ({d['host']}); no canary in Standard mode"]
    if d["canaryTrafficPercent"] is not None:
        head += f", canaryTrafficPercent {d['canaryTrafficPercent']}"
    tags = d.get("tagRoutes")
    return [head, f"tag routes: {', '.join(tags.values())}"] if tags else [head]


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
        for line in routing_lines(d):
            print(f"      {line}")
    return 0


def _edit(args: argparse.Namespace) -> int:
    path = stack_file(args)
    if args.dry_run:
        return _apply(args, path)
    with stack_lock(path, args.lock_timeout):
        _remove_stale_temp_files(path)
        return _apply(args, path)


def _cli_edit(args: argparse.Namespace) -> Callable[[MutableMapping[str, Any]], None]:
    def edit(entry: MutableMapping[str, Any]) -> None:
        if args.action == "set":
            rollout.set_canary(entry, percent=args.percent, version=args.version)
        elif args.action == "promote":
            rollout.promote(entry, force=args.force)
        elif args.action == "drop":
            rollout.drop(entry)
        else:
            rollout.rollback(entry)

    return edit


def _apply(
    args: argparse.Namespace,
    path: Path,
    edit: Callable[[MutableMapping[str, Any]], None] | None = None,
    expect: Callable[[StackConfig], None] | None = None,
) -> int:
    """Read, edit, validate, print and (unless ``--dry-run``) write; the caller holds the lock. ``expect`` checks the
    config as read (UsageError when it no longer is what the edit was decided on)."""
    try:
        text = path.read_text()
    except OSError as err:
        raise UsageError(f"{path}: cannot read: {err.strerror or err}") from None
    before = load_stack_file(path)
    if expect is not None:
        expect(before)
    edit = edit or _cli_edit(args)

    try:
        new_text, index = edit_text(text, path, args.model, edit)
    except rollout.RolloutError as err:
        raise UsageError(str(err)) from None
    old_d = describe(before, index)
    if new_text == text:
        print(f"{old_d['model']}: traffic {_split_text(old_d)} unchanged; file not written")
        return 0
    after = validate_text(new_text, path)

    new_d = describe(after, index)
    print(f"{new_d['model']} in {path}: traffic {_split_text(old_d)} -> {_split_text(new_d)}")
    diff = difflib.unified_diff(text.splitlines(True), new_text.splitlines(True), f"{path}", f"{path} (new)")
    print("".join(diff), end="")
    print(render_changes(resource_changes(run_stack(before), run_stack(after))), end="")
    if args.dry_run:
        print("dry run: file not written")
        return 0
    if path.read_text() != text:
        raise UsageError(
            f"{path} changed while this rollout ran (another program wrote it); nothing written, run the command again"
        )
    try:
        write_atomically(path, new_text)
    except OSError as err:
        raise UsageError(f"{path}: cannot write: {err.strerror or err}; file left unchanged") from None
    print(f"wrote {path}; run `pulumi up` to apply")
    return 0


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


@contextlib.contextmanager
def stack_lock(path: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``<path>.lock`` (waiting up to ``timeout`` s); UsageError "locked" otherwise.

    The lock file holds the owner's pid and is removed on release (while still locked). A waiter that then gets the
    lock of the removed file sees that the path no longer names its file and starts over, so two processes never
    both hold the lock. A killed owner leaves the file behind but not the lock (the kernel releases it).
    """
    lock = lock_path(path)
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise UsageError(f"{path}: cannot create the lock file {lock}: {err.strerror or err}; file left unchanged") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            os.close(fd)
            if time.monotonic() >= deadline:
                owner = f"pid {holder}, " if holder.isdigit() else ""
                raise UsageError(
                    f"{path} is locked by another rollout ({owner}lock file {lock}); waited {timeout:g}s; "
                    "run the command again when it has finished"
                ) from None
            time.sleep(0.05)
            continue
        except BaseException:
            os.close(fd)
            raise
        try:
            current = os.stat(lock)
        except FileNotFoundError:
            current = None
        mine = os.fstat(fd)
        if current is not None and (current.st_dev, current.st_ino) == (mine.st_dev, mine.st_ino):
            break
        os.close(fd)  # locked a lock file its owner has just removed: try the one at the path now
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)
        os.close(fd)


def _remove_stale_temp_files(path: Path) -> None:
    """Temporary files of a rollout killed before its rename (only called under the lock: none is in flight)."""
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        tmp.unlink(missing_ok=True)


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, fsync it, rename it over ``path`` (mode kept), fsync the
    directory: a reader (or a crash) sees the old file or the new one, never part of one."""
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
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be opened and synced
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# ---------------------------------------------------------------- SLO-gated canary: analyze, advance


def _analysis_target(args: argparse.Namespace) -> tuple[Path, StackConfig, Any]:
    """The stack file, its config and the model to analyze; UsageError without a canary or an slo."""
    path = stack_file(args)
    cfg = load_stack_file(path)
    models = cfg.settings.models
    try:
        index = rollout.find_model(models, args.model)
    except rollout.RolloutError as err:
        raise UsageError(str(err)) from None
    model = models[index]
    ref = f"{model.namespace}/{model.name}"
    if model.canary is None and routing(model)["track"] == "standard":
        raise UsageError(
            f"--model: {ref} runs in Standard mode ({MODELS_KEY}[{index}].deploymentMode), which has no canary to "
            "analyze: KServe ignores canaryTrafficPercent there, so the config refuses a canary; serve it in Knative "
            "mode (deploymentMode: knative) to roll out a canary"
        )
    if model.slo is None:
        raise UsageError(
            f"--model: {ref} has no slo ({MODELS_KEY}[{index}].slo): the canary is judged against the model's SLO; "
            "declare slo (availability, latencyP95Ms, ...) first"
        )
    if model.canary is None:
        raise UsageError(f"--model: {ref} has no canary to analyze; start one with `inferstack rollout set --version V`")
    return path, cfg, model


def run_analysis(args: argparse.Namespace, model: Any) -> Any:
    """Measure stable and canary on Prometheus and decide; PrometheusError when Prometheus fails."""
    from inferstack.serving import analysis

    window = args.window or model.canary.analysis.window
    if not re.fullmatch(r"[1-9][0-9]*[smhd]", window):
        raise UsageError(f"--window: {window!r} is not a Prometheus duration such as 10m, 1h")
    try:
        client = analysis.PrometheusClient(args.prometheus, timeout=args.timeout)
    except ValueError as err:
        raise UsageError(f"--prometheus: {err}") from None
    stable = analysis.measure(client, model, model.version, window)
    canary = analysis.measure(client, model, model.canary.version, window)
    return window, analysis.decide(stable, canary, model.slo, model.canary.analysis)


def _stats_line(label: str, s: Any) -> str:
    def num(v: float | None, fmt: str) -> str:
        return "-" if v is None else fmt.format(v)

    return (
        f"  {label:<7} v{s.version:<4} requests {num(s.requests, '{:.0f}'):>8}  errors {num(None if s.error_ratio is None else s.error_ratio * 100, '{:.3g}%'):>7}"
        f"  p95 {num(s.p95_ms, '{:.0f} ms'):>9}  p99 {num(s.p99_ms, '{:.0f} ms'):>9}  ttft p95 {num(s.ttft_p95_ms, '{:.0f} ms'):>9}"
    )


def compared(model: Any) -> str:
    """What the analysis compares, named per serving track (the objects and traffic the versions have)."""
    r = routing(model)
    if r["track"] == "llm":
        members = " and ".join(f"{v['llmInferenceService']} (v{v['version']}, weight {v['weight']})" for v in r["versions"])
        return f"LLMInferenceServices {members} of routing group {r['routingGroup']}"
    t = rollout.traffic(model)
    return (
        f"InferenceService {r['inferenceService']} ({r['deploymentMode']} mode): stable revision v{t.stable} and "
        f"canary revision v{t.canary} at canaryTrafficPercent {r['canaryTrafficPercent']}"
    )


def _after(model: Any, action: str) -> Any:
    """The model entry after ``rollout advance`` applies ``action`` (the edit of the stack file, on a copy)."""
    entry: dict[str, Any] = {"name": model.name, "version": model.version}
    if model.canary is not None:
        entry["canary"] = {"version": model.canary.version, "percent": model.canary.percent, "steps": list(model.canary.steps)}
    rollout.advance(entry, action)
    canary = entry.get("canary")
    new_canary = model.canary.model_copy(update={"version": canary["version"], "percent": canary["percent"]}) if canary else None
    return model.model_copy(update={"version": entry["version"], "canary": new_canary})


def advance_effect(model: Any, action: str) -> list[str]:
    """What ``rollout advance`` (then ``pulumi up``) changes for ``action``, per serving track: the routing-group
    weights of the LLMInferenceServices, or the InferenceService's ``canaryTrafficPercent``."""
    if action == "hold":
        return ["nothing changes (hold)"]
    before, after = routing(model), routing(_after(model, action))
    if before["track"] == "llm":
        old = {v["llmInferenceService"]: v["weight"] for v in before["versions"]}
        new = {v["llmInferenceService"]: v["weight"] for v in after["versions"]}
        out = []
        for name in [*old, *(n for n in new if n not in old)]:
            if name not in new:
                out.append(f"{name}: deleted (weight {old[name]} -> none)")
            else:
                out.append(f"{name}: router.route.weight {old.get(name, 'none')} -> {new[name]}")
        return [f"routing group {before['routingGroup']}: " + "; ".join(out)]
    old_p, new_p = before["canaryTrafficPercent"], after["canaryTrafficPercent"]
    line = f"InferenceService {before['inferenceService']}: canaryTrafficPercent {old_p} -> {'removed' if new_p is None else new_p}"
    t = rollout.traffic(_after(model, action))
    if new_p is None:
        line += f" (v{t.stable} is the stable version and its revision takes all traffic)"
    elif new_p == 0:
        line += f" (all traffic back on v{t.stable}; v{t.canary} stays reachable at {before['tagRoutes']['latest']})"
    return [line]


def _print_decision(model: Any, window: str, decision: Any) -> None:
    obj = ", ".join(f"{k} {v:g}" for k, v in decision.objectives.items())
    print(f"{model.namespace}/{model.name} over {window} (objectives: {obj})")
    print(f"  compares {compared(model)}")
    print(_stats_line("stable", decision.stable))
    print(_stats_line("canary", decision.canary))
    print(f"decision: {decision.action}")
    for reason in decision.reasons:
        print(f"  - {reason}")
    for line in advance_effect(model, decision.action):
        print(f"advance: {line}")


def _analyze(args: argparse.Namespace) -> int:
    from inferstack.cli.common import fail
    from inferstack.serving.analysis import PrometheusError

    _, cfg, model = _analysis_target(args)
    try:
        window, decision = run_analysis(args, model)
    except PrometheusError as err:
        return fail(f"inferstack rollout analyze: {err}", 3)
    if args.format == "json":
        print(json.dumps({
            "stack": cfg.name, "model": f"{model.namespace}/{model.name}", "window": window, **decision.to_dict(),
            "routing": routing(model), "advance": advance_effect(model, decision.action),
        }, indent=2))
    else:
        _print_decision(model, window, decision)
    return 0


def _advance(args: argparse.Namespace) -> int:
    from inferstack.cli.common import fail
    from inferstack.serving.analysis import PrometheusError

    path, _, model = _analysis_target(args)
    try:
        window, decision = run_analysis(args, model)  # before the lock: no network wait while holding it
    except PrometheusError as err:
        return fail(f"inferstack rollout advance: {err}", 3)
    _print_decision(model, window, decision)
    if decision.action == "hold":
        print("hold: stack file unchanged")
        return 0
    analysed = rollout.traffic(model)

    def expect(cfg: StackConfig) -> None:
        now = rollout.traffic(cfg.settings.models[rollout.find_model(cfg.settings.models, args.model)])
        if now != analysed:
            raise UsageError(
                f"{path}: {model.namespace}/{model.name}'s traffic changed since the analysis "
                f"(v{analysed.canary} at {analysed.percent}% -> {now.canary and 'v' + now.canary} at {now.percent}%); nothing written"
            )

    def edit(entry: MutableMapping[str, Any]) -> None:
        rollout.advance(entry, decision.action)

    if args.dry_run:
        return _apply(args, path, edit, expect)
    with stack_lock(path, args.lock_timeout):
        _remove_stale_temp_files(path)
        return _apply(args, path, edit, expect)
