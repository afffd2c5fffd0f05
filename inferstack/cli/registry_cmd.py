"""``inferstack registry``: push, pull, list, promote, resolve and gc model versions (S3 + DynamoDB via boto3).

Configured by INFERSTACK_REGISTRY_BUCKET, INFERSTACK_REGISTRY_TABLE and the standard AWS environment
(AWS_REGION or AWS_DEFAULT_REGION, credentials, AWS_ENDPOINT_URL). Exit codes: 0 done; 2 usage, configuration
and user errors (missing bucket, model, version, alias or path; digest mismatch; refused files; an alias moved
by a concurrent promote) with one ``error:`` line naming what is wrong; 3 when an I/O or cloud operation fails;
130 on SIGINT and 143 on SIGTERM (a push in flight is marked failed first, best effort).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any, TextIO

from inferstack.cli.common import fail
from inferstack.registry.client import Progress


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread so a push in flight unwinds (and marks its version failed)."""


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


class TerminalProgress(Progress):
    """One self-overwriting status line on a terminal: bytes, files and rate (redrawn at most 10 times a second)."""

    def __init__(self, stream: TextIO, interval: float = 0.1):
        self._stream = stream
        self._interval = interval
        self._active = False
        self._action = ""
        self._total_bytes = self._total_files = self._bytes = self._files = 0
        self._t0 = self._drawn = 0.0

    def start(self, action: str, total_bytes: int, total_files: int) -> None:
        self._action, self._total_bytes, self._total_files = action, total_bytes, total_files
        self._bytes = self._files = 0
        self._t0 = time.monotonic()
        self._active = True
        self._draw(force=True)

    def update(self, nbytes: int = 0, files: int = 0) -> None:
        self._bytes += nbytes
        self._files += files
        self._draw()

    def done(self) -> None:
        if self._active:
            self._draw(force=True)
            self._stream.write("\n")
            self._stream.flush()
            self._active = False

    def close(self) -> None:
        """Clear an unfinished line (so an error message starts on a clean line)."""
        if self._active:
            self._stream.write("\r\x1b[K")
            self._stream.flush()
            self._active = False

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._drawn < self._interval:
            return
        self._drawn = now
        elapsed = max(now - self._t0, 1e-6)
        self._stream.write(
            f"\r{self._action}: {_size(self._bytes)} / {_size(self._total_bytes)}, "
            f"{self._files}/{self._total_files} files, {_size(self._bytes / elapsed)}/s\x1b[K"
        )
        self._stream.flush()


def _progress(args: argparse.Namespace) -> Progress:
    """A terminal progress line on stderr, unless stderr is not a terminal or the output is JSON."""
    if args.format == "json" or not sys.stderr.isatty():
        return Progress()
    return TerminalProgress(sys.stderr)


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    if args.format == "json":
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(text + ("\n" if text and not text.endswith("\n") else ""))


def _abandoned_note(reg: Any) -> str:
    if reg is None or not getattr(reg, "abandoned", None):
        return ""
    model, version, marked = reg.abandoned
    state = "marked failed" if marked else "left pending (gc marks it failed after the grace period)"
    return f"; {model}:{version} {state}, `inferstack registry gc` deletes its objects"


def _run(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from inferstack.registry.client import Registry, RegistryError

    what = f"registry {args.registry_command}"
    reg = None
    args.progress = _progress(args)
    try:
        with _sigterm_unwinds():
            try:
                _check_arguments(args)  # before the registry is even reached: a refused command writes nothing
                reg = Registry.from_env()
                return int(args.action(args, reg) or 0)
            finally:
                if isinstance(args.progress, TerminalProgress):
                    args.progress.close()
    except KeyboardInterrupt:
        return fail(f"{what}: interrupted{_abandoned_note(reg)}", 130)
    except _Terminated:
        return fail(f"{what}: terminated{_abandoned_note(reg)}", 143)
    except RegistryError as err:
        return fail(f"registry: {err}{_abandoned_note(reg)}", err.exit_code)
    except (ClientError, BotoCoreError, OSError) as err:
        if getattr(args, "debug", False):
            raise
        return _cloud_or_io_failure(err, reg)
    except ValueError as err:  # invalid model name or version from the layout rules
        return fail(f"registry: {err}")


def _check_arguments(args: argparse.Namespace) -> None:
    """Model names, versions, aliases and the grace period, spelt as the stack config spells them
    (inferstack.config.patterns); RegistryError (exit 2) naming the argument otherwise."""
    from inferstack.registry.client import check_alias, check_model, check_version, parse_duration, parse_ref

    if getattr(args, "model", None) is not None:
        check_model(args.model)
    if getattr(args, "ref", None) is not None:
        parse_ref(args.ref)
    if getattr(args, "version", None) is not None:
        check_version(args.version)
    if getattr(args, "alias", None) is not None:
        check_alias(args.alias)
    if getattr(args, "grace", None) is not None:
        parse_duration(args.grace)


def _cloud_or_io_failure(err: Exception, reg: Any) -> int:
    """One line, exit 3: a cloud call or local I/O failed."""
    from botocore.exceptions import ClientError

    if isinstance(err, ClientError):
        e = err.response.get("Error", {})
        return fail(f"registry: {e.get('Code', 'error')}: {e.get('Message', err)}{_abandoned_note(reg)}", 3)
    if isinstance(err, OSError):  # local I/O
        name = f" {err.filename!r}" if err.filename else ""
        return fail(f"registry: {err.strerror or err}{name}{_abandoned_note(reg)}", 3)
    return fail(f"registry: {err}{_abandoned_note(reg)}", 3)


def _init(args: argparse.Namespace, reg: Any) -> int:
    created = reg.init()
    _emit(args, {"bucket": reg.bucket, "table": reg.table, "created": created},
          "created " + ", ".join(created) if created else f"bucket {reg.bucket} and table {reg.table} exist")
    return 0


def _push(args: argparse.Namespace, reg: Any) -> int:
    from inferstack.registry.client import parse_meta

    v = reg.push(args.model, args.path, meta=parse_meta(args.meta or []), source_commit=args.source_commit,
                 progress=args.progress)
    _emit(args, {**v.to_json(), "uri": reg.uri(v)}, str(v.version))
    return 0


def _pull(args: argparse.Namespace, reg: Any) -> int:
    v = reg.resolve_version(args.ref)
    dest = reg.pull(v, args.dest, progress=args.progress)
    _emit(args, {"model": v.model, "version": v.version, "digest": v.digest, "dest": str(dest),
                 "files": len(v.files), "bytes": sum(f.size for f in v.files)}, str(dest))
    return 0


def _list(args: argparse.Namespace, reg: Any) -> int:
    versions = reg.list(args.model, all_states=args.all)
    rows = [{"version": v.version, "state": v.state, "created_at": v.created_at, "digest": v.digest,
             "aliases": sorted(v.aliases), "created_by": v.created_by, "source_commit": v.source_commit} for v in versions]
    if args.all:
        header = "VERSION  STATE      CREATED_AT  DIGEST  ALIASES\n"
        text = "\n".join(
            f"{r['version']:>6}  {r['state']:<9}  {r['created_at']}  {r['digest'][:19]}  {','.join(r['aliases'])}" for r in rows
        )
    else:
        header = "VERSION  CREATED_AT  DIGEST  ALIASES\n"
        text = "\n".join(f"{r['version']:>6}  {r['created_at']}  {r['digest'][:19]}  {','.join(r['aliases'])}" for r in rows)
    _emit(args, rows, header + text)
    return 0


def _promote(args: argparse.Namespace, reg: Any) -> int:
    from inferstack.registry.client import check_version

    entry = reg.promote(args.model, check_version(args.version), args.alias)
    prev = entry["from_version"]
    _emit(args, entry, f"{args.model}@{args.alias}: {prev if prev is not None else '-'} -> {entry['version']}")
    return 0


def _resolve(args: argparse.Namespace, reg: Any) -> int:
    v = reg.resolve_version(args.ref)
    if args.verify:
        reg.verify(v)
    uri = reg.uri(v)
    _emit(args, {"model": v.model, "version": v.version, "uri": uri, "digest": v.digest, "verified": bool(args.verify)}, uri)
    return 0


def _gc(args: argparse.Namespace, reg: Any) -> int:
    from inferstack.registry.client import format_duration, parse_duration

    grace = parse_duration(args.grace)
    report = reg.gc(grace_seconds=grace, dry_run=args.dry_run, model=args.model)
    would = "would " if args.dry_run else ""
    lines = []
    for e in report["marked_failed"]:
        lines.append(f"{would}mark failed  {e['model']}:{e['version']}  (pending, idle {format_duration(e['idle_seconds'])})")
    for e in report["deleted"]:
        lines.append(f"{would}delete  {e['model']}:{e['version']}  ({e['reason']}) {len(e['objects'])} objects, "
                     f"{e['object_versions']} object versions, {_size(e['bytes'])} under {e['prefix']}")
        lines.extend(f"    {k}" for k in e["objects"])
    for e in report["in_progress"]:
        lines.append(f"keep  {e['model']}:{e['version']}  (pending, idle {format_duration(e['idle_seconds'])} "
                     f"< grace {format_duration(grace)})")
    _emit(args, report, "\n".join(lines) if lines else "nothing to collect")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "registry",
        help="model registry: init, push, pull, list, promote, resolve, gc",
        description="Model registry client (S3 + DynamoDB). Needs INFERSTACK_REGISTRY_BUCKET, INFERSTACK_REGISTRY_TABLE, "
        "AWS_REGION or AWS_DEFAULT_REGION and the standard AWS environment (AWS_ENDPOINT_URL for a local endpoint). "
        "Exit codes: 0 done, 2 usage/config/user error, 3 I/O or cloud failure, 130 interrupted.",
    )
    sub = p.add_subparsers(dest="registry_command", metavar="ACTION")
    sub.required = True

    def add(name: str, help_: str, action: Any) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.add_argument("--format", choices=["text", "json"], default="text",
                        help="output format (default text; json also turns the progress line off)")
        sp.set_defaults(func=_run, action=action)
        return sp

    add("init", "create the registry bucket and metadata table when missing (local use and tests)", _init)
    sp = add("push", "upload a model version; prints the new version number (progress on stderr when a terminal)", _push)
    sp.add_argument("model", metavar="MODEL")
    sp.add_argument("path", metavar="PATH", help="artifact file or directory (regular files only: no symlinks or special files)")
    sp.add_argument("--meta", action="append", metavar="K=V", help="metadata recorded with the version (repeatable)")
    sp.add_argument("--source-commit", metavar="SHA", help="source commit (default: CI variables or git rev-parse HEAD)")
    sp = add("pull", "download a version's files into DEST, checking every sha256 (progress on stderr when a terminal)", _pull)
    sp.add_argument("ref", metavar="MODEL[:VERSION|@ALIAS]")
    sp.add_argument("dest", metavar="DEST", help="directory to create (absent or empty); filled only when complete")
    sp = add("list", "list the committed versions of a model", _list)
    sp.add_argument("model", metavar="MODEL")
    sp.add_argument("--all", action="store_true", help="also pending and failed versions, with a STATE column")
    sp = add("promote", "move an alias to a version (compare-and-swap; audited: who, when, from which version)", _promote)
    sp.add_argument("model", metavar="MODEL")
    sp.add_argument("version", metavar="VERSION")
    sp.add_argument("--alias", required=True, metavar="NAME")
    sp = add("resolve", "print the storage URI of MODEL[:VERSION|@ALIAS] (latest when neither)", _resolve)
    sp.add_argument("ref", metavar="MODEL[:VERSION|@ALIAS]")
    sp.add_argument("--verify", action="store_true",
                    help="re-check every file's sha256 and size, and that the prefix holds no unlisted object")
    sp = add("gc", "mark abandoned pending versions failed and delete the objects of failed versions", _gc)
    sp.add_argument("model", metavar="MODEL", nargs="?", help="one model (default: every model)")
    sp.add_argument("--grace", default="1h", metavar="DURATION",
                    help="how long a pending version may go without a heartbeat before it is abandoned (default 1h; 30m, 2h, 0s)")
    sp.add_argument("--dry-run", action="store_true", help="list what would be marked and deleted; change nothing")
