"""The ``inferstack`` command line. Each subcommand lives in its own module, imported only when it runs.

Exit codes (the CLI contract, docs/engine.md):

- 0: done; 1: mandatory policy findings (only that);
- 2: usage or config error (one ``error:`` line naming the bad key, option or file; nothing written);
- 3: a user program or an I/O operation failed (one line; the program's file:line when it is a program);
- 130: interrupted.

No Python traceback unless ``--debug``. A closed pipe (``inferstack preview | head``) ends the command quietly.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
from collections.abc import Sequence
from importlib import metadata
from typing import NoReturn

from inferstack.cli.common import UsageError, fail
from inferstack.errors import ProgramError

#: Subcommand -> (module that registers and runs it, its one-line help). Only the chosen module is imported, so
#: ``inferstack --help`` and ``inferstack config validate`` load no Pulumi SDK.
COMMANDS: dict[str, tuple[str, str]] = {
    "preview": ("inferstack.cli.preview", "offline preview of a stack: resource tree, counts, policy findings"),
    "config": ("inferstack.cli.config_cmd", "stack config: print the JSON Schema, or validate a stack"),
    "render": ("inferstack.cli.render", "write every Kubernetes object of a stack as YAML (one file per object)"),
    "cost": ("inferstack.cli.cost", "monthly cost estimate: pools, models, platform, spot vs. all on-demand"),
    "registry": ("inferstack.cli.registry_cmd", "model registry: init, push, pull, list, promote, resolve, gc"),
    "policy": ("inferstack.cli.policy", "policy pack: offline check, generated pack config"),
    "init": ("inferstack.cli.init_cmd", "write your own stack file from a reference stack, with your principals, reservations, region and domains"),
    "conformance": ("inferstack.cli.conformance", "Kubernetes AI Conformance checklist of a stack, status computed offline"),
    "rollout": ("inferstack.cli.rollout", "canary routes: status, set, promote, rollback, drop, SLO-gated analyze / advance (edits the stack config file)"),
}

#: Exit codes.
OK, FINDINGS, USAGE, FAILED, INTERRUPTED = 0, 1, 2, 3, 130
#: Commands that handle Ctrl-C themselves (a push marks its version failed, a rollout releases its lock): they get
#: Python's KeyboardInterrupt; every other command stops at once with exit 130 (``inferstack.console``).
GRACEFUL = frozenset({"registry", "rollout"})


def version() -> str:
    """The installed distribution's version (``0+unknown`` from a source tree that was never installed)."""
    try:
        return metadata.version("inferstack")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _chosen(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` (the first word that is one), without importing anything."""
    return next((a for a in argv if a in COMMANDS), None)


class _Parser(argparse.ArgumentParser):
    """A parser whose usage errors are one line, like every other bad input: ``error: <command>: <message>`` (the
    argument and what it allows), exit 2; ``--help`` shows the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser; only the subcommand named in ``argv`` is imported and registered in full."""
    parser = _Parser(
        prog="inferstack",
        description="Offline preview, policy checks, manifests and cost of inferstack stacks; no cloud credentials needed.",
    )
    parser.add_argument("--version", action="version", version=f"inferstack {version()}")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks of failures")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    chosen = _chosen(argv)
    for name, (module, help_text) in COMMANDS.items():
        if name == chosen:
            importlib.import_module(module).register(sub)
        else:
            sub.add_parser(name, help=help_text)
    return parser


def _located(err: BaseException) -> str:
    """``Type: message`` of an exception, with the innermost frame of the user's program when there is one."""
    tb, where = err.__traceback__, ""
    while tb is not None:
        path = tb.tb_frame.f_code.co_filename
        if "site-packages" not in path and "/inferstack/" not in path and not path.startswith("<"):
            where = f" ({path}:{tb.tb_lineno})"
        tb = tb.tb_next
    return f"{type(err).__name__}: {err}{where}"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    # After parsing: `--help` and usage errors exit above without importing the config models (pydantic).
    from inferstack.config import ConfigError

    if args.command in GRACEFUL and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        code = args.func(args)
    except ConfigError as err:
        return fail(str(err), USAGE)
    except UsageError as err:
        return fail(f"{parser.prog} {args.command}: {err}", USAGE)
    except BrokenPipeError:
        # The reader went away (| head): nothing left to say, and nothing more to write to it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return OK
    except KeyboardInterrupt:
        return fail("interrupted", INTERRUPTED)
    except ProgramError as err:
        if args.debug:
            raise
        return fail(f"the program failed: {err}", FAILED)
    except OSError as err:
        if args.debug:
            raise
        target = f" {err.filename}" if getattr(err, "filename", None) else ""
        return fail(f"{parser.prog} {args.command}: cannot access{target}: {err.strerror or err}", FAILED)
    except Exception as err:  # an internal error: one line, the traceback only with --debug
        if args.debug:
            raise
        return fail(f"{parser.prog} {args.command} failed: {_located(err)} (run with --debug for the traceback)", FAILED)
    return int(code or 0)


def entrypoint() -> None:
    code = main()
    # Event loops the mock runtime creates on worker threads (for invokes) can fail noisily in their finalizers at
    # interpreter shutdown; the work is done and flushed, so leave without running finalizers.
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    sys.stderr.flush()
    os._exit(code)
