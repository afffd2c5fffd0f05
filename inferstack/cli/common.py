"""Helpers every subcommand shares: choosing the stack (``--stack`` or ``--config``), output, errors."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inferstack.config import StackConfig

# The config package (pydantic models) is imported by the functions that read a stack, not here: `inferstack --help`
# and argument errors import no model (tests/cli/test_contract.py checks the modules `--help` loads).

#: The stack a command runs when given neither ``--stack`` nor ``--config`` (it says so on stderr).
DEFAULT_STACK = "dev"


class UsageError(Exception):
    """Bad command-line usage; exit 2."""


def fail(message: str, code: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def stacks_dir() -> Path:
    """Where ``--stack NAME`` looks: ``$INFERSTACK_STACKS_DIR``, else ``./stacks`` of the current project."""
    env = os.environ.get("INFERSTACK_STACKS_DIR")
    return Path(env) if env else Path.cwd() / "stacks"


def available_stacks() -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in stacks_dir().glob("Pulumi.*.yaml"))


def add_stack_args(parser: argparse.ArgumentParser, required: bool = False) -> None:
    """``--stack NAME`` or ``--config FILE`` (mutually exclusive); default stack dev when not required."""
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument("--stack", metavar="NAME", help="stack name: reads stacks/Pulumi.NAME.yaml")
    group.add_argument("--config", metavar="FILE", help="any stack config file Pulumi.<name>.yaml")


def stack_file(args: argparse.Namespace) -> Path:
    """The stack file ``--config`` names, or ``<stacks dir>/Pulumi.<--stack>.yaml``. Without either, the default
    stack, announced on stderr (never a silent choice); never another project's or the package's own stacks."""
    from inferstack.config import ConfigError, file_issue

    if getattr(args, "config", None):
        return Path(args.config)
    name = getattr(args, "stack", None)
    if name is None:
        name = DEFAULT_STACK
        print(f"inferstack: no --stack or --config given; using stack {name} ({stacks_dir() / f'Pulumi.{name}.yaml'})",
              file=sys.stderr)
    from inferstack.config.args import STACK_NAME_PATTERN
    from inferstack.config.bounded import fullmatch, shown

    if not fullmatch(STACK_NAME_PATTERN, name):  # checked before it becomes part of a path
        raise ConfigError("command line", [file_issue(
            "--stack", f"{shown(name)} is not a stack name: 1-32 lower-case letters, digits and dashes, starting with a "
                       "letter (the stack file is stacks/Pulumi.<name>.yaml; --config FILE reads any file)")])
    directory = stacks_dir()
    path = directory / f"Pulumi.{name}.yaml"
    if not directory.is_dir():
        raise ConfigError(
            f"stack {name}",
            [file_issue("--stack", f"no stacks directory {directory} here; run from a project with stacks/, set "
                                   "INFERSTACK_STACKS_DIR, or name the file with --config Pulumi.<stack>.yaml")],
        )
    if not path.exists():
        raise ConfigError(
            f"stack {name}", [file_issue("--stack", f"no stack {name!r} in {directory}; available: {', '.join(available_stacks()) or 'none'}")]
        )
    return path


def load_stack(args: argparse.Namespace) -> StackConfig:
    """The validated stack config named by ``--stack`` / ``--config``; ConfigError (exit 2) otherwise."""
    from inferstack.load import load_stack_file

    return warn(load_stack_file(stack_file(args)))


def warn(cfg: StackConfig) -> StackConfig:
    """``cfg``, after printing each of its warnings (``inferstack.checks.NOTICES``) to stderr as ``warning: ...``."""
    for warning in cfg.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return cfg


def write_output(text: str, out: str | None) -> None:
    """``text`` to ``--out`` (parent directories created), or to stdout. An unwritable ``--out`` raises the
    ``OSError``, which the CLI reports in one line (exit 3)."""
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text)
    else:
        sys.stdout.write(text)
