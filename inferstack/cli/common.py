"""Helpers every subcommand shares: choosing the stack (``--stack`` or ``--config``), output, errors."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from inferstack.config import ConfigError, StackConfig, file_issue
from inferstack.engine import REPO_ROOT
from inferstack.load import load_stack_file


class UsageError(Exception):
    """Bad command-line usage; exit 2."""


def fail(message: str, code: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def stacks_dir() -> Path:
    """``./stacks`` when run from a project, else the repository's own ``stacks/``."""
    env = os.environ.get("INFERSTACK_STACKS_DIR")
    if env:
        return Path(env)
    local = Path.cwd() / "stacks"
    return local if local.is_dir() else REPO_ROOT / "stacks"


def available_stacks() -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in stacks_dir().glob("Pulumi.*.yaml"))


def add_stack_args(parser: argparse.ArgumentParser, required: bool = False) -> None:
    """``--stack NAME`` or ``--config FILE`` (mutually exclusive); default stack dev when not required."""
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument("--stack", metavar="NAME", help="stack name: reads stacks/Pulumi.NAME.yaml")
    group.add_argument("--config", metavar="FILE", help="any stack config file Pulumi.<name>.yaml")


def stack_file(args: argparse.Namespace) -> Path:
    if getattr(args, "config", None):
        return Path(args.config)
    name = getattr(args, "stack", None) or "dev"
    path = stacks_dir() / f"Pulumi.{name}.yaml"
    if not path.exists():
        raise ConfigError(
            f"stack {name}", [file_issue("--stack", f"no stack {name!r}; available: {', '.join(available_stacks())}")]
        )
    return path


def load_stack(args: argparse.Namespace) -> StackConfig:
    """The validated stack config named by ``--stack`` / ``--config``; ConfigError (exit 2) otherwise."""
    return load_stack_file(stack_file(args))


def write_output(text: str, out: str | None) -> None:
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text)
    else:
        sys.stdout.write(text)
