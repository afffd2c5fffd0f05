"""The ``inferstack`` command line. Each subcommand lives in its own module and registers itself in COMMANDS.

Exit codes: 0 fine, 1 mandatory policy findings (or a failed check), 2 config and usage errors.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from inferstack.cli.common import UsageError, fail
from inferstack.config import ConfigError

#: Subcommand modules; each defines ``register(subparsers)`` which sets ``func`` on its parser.
COMMANDS = [
    "inferstack.cli.preview",
    "inferstack.cli.config_cmd",
    "inferstack.cli.render",
    "inferstack.cli.cost",
    "inferstack.cli.registry_cmd",
    "inferstack.cli.policy",
    "inferstack.cli.rollout",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inferstack",
        description="Offline preview, policy checks, manifests and cost of inferstack stacks; no cloud credentials needed.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except ConfigError as err:
        return fail(str(err))
    except UsageError as err:
        return fail(f"{parser.prog} {args.command}: {err}")
    return int(code or 0)


def entrypoint() -> None:
    code = main()
    # Event loops the mock runtime creates on worker threads (for invokes) can fail noisily in their finalizers at
    # interpreter shutdown; the work is done and flushed, so leave without running finalizers.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
