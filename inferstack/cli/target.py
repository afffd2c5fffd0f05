"""What a command runs: a stack of this project (``--stack`` / ``--config``) or any Pulumi Python program
(``--program FILE.py --config Pulumi.<stack>.yaml``), under the offline engine.

A program's stack file needs only the policy keys of the ``inferstack:`` namespace (cloud, environment, residency,
policy) and the cloud's region; its URNs carry the project name of the ``Pulumi.yaml`` beside the program. When the
file is also a complete inferstack stack, the commands that read settings (the cost estimate) use it too.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import pulumi

from inferstack.catalog.clouds import CLOUDS, Cloud
from inferstack.cli.common import UsageError, add_stack_args, load_stack
from inferstack.config import ConfigError, PolicySettings, StackConfig, file_issue, read_stack_file
from inferstack.config.files import read_yaml_file
from inferstack.config.stack import parse_policy_settings
from inferstack.config.yaml_data import YamlDataError
from inferstack.engine import DEFAULT_PROGRAM, PROJECT, ProgramError, Recording, run_program, run_stack
from inferstack.load import load_stack as load_stack_values


@dataclass(frozen=True)
class Target:
    """A stack run offline: its identity, the policy settings, what it declared, and the file that declared it."""

    stack: str
    cloud: Cloud
    region: str
    settings: PolicySettings
    recording: Recording
    program: Path
    #: The full inferstack stack, when the stack file is one (always for ``--stack``).
    config: StackConfig | None
    #: True when a ``--program`` was run rather than this project's own program.
    external: bool = False

    def describe(self) -> str:
        """``stack S (aws, dev, eu-west-1)``, plus the program when it is not the project's own."""
        text = f"stack {self.stack} ({self.cloud.value}, {self.settings.environment.value}, {self.region})"
        return f"{text}, program {self.program}" if self.external else text


def add_target_args(parser: argparse.ArgumentParser) -> None:
    """``--stack NAME`` | ``--config FILE``, and ``--program FILE.py`` (with ``--config``)."""
    add_stack_args(parser)
    parser.add_argument("--program", metavar="FILE.py", help="any Pulumi Python program (its stack file from --config)")


def project_name(program: Path) -> str:
    """The ``name`` of the ``Pulumi.yaml`` beside ``program`` (the project its URNs carry), else ``inferstack``."""
    for candidate in (program.parent / "Pulumi.yaml", program.parent / "Pulumi.yml"):
        if candidate.is_file():
            try:
                doc = read_yaml_file(candidate)
            except YamlDataError as err:
                raise ConfigError(str(candidate), [file_issue("file", str(err))]) from None
            name = doc.get("name") if isinstance(doc, dict) else None
            if not isinstance(name, str) or not name:
                raise ConfigError(str(candidate), [file_issue("name", "required: the Pulumi project name")])
            return name
    return PROJECT


def load_target(args: argparse.Namespace) -> Target:
    """Run what ``args`` select; ConfigError or UsageError (exit 2) when the selection or its config is wrong."""
    if not getattr(args, "program", None):
        cfg = load_stack(args)  # prints the config's warnings
        rec = run_stack(cfg)
        _print_logs(rec, already={str(w) for w in cfg.warnings})
        return Target(cfg.name, cfg.cloud, cfg.region, cfg.policy_settings(), rec, Path(DEFAULT_PROGRAM), cfg)
    if not args.config:
        raise UsageError("--program needs --config FILE (the program's stack config)")
    program = Path(args.program)
    if not program.is_file():
        raise UsageError(f"--program {args.program}: no such file")
    f = read_stack_file(args.config)
    cloud, settings = parse_policy_settings(f.config, str(f.path))
    info = CLOUDS[cloud]
    region = f.config.get(info.region_key)
    if not region:
        raise ConfigError(str(f.path), [file_issue(info.region_key, "required: the region the program deploys to")])
    project = f.config.get(info.project_key) if info.project_key else None
    try:
        full: StackConfig | None = load_stack_values(f.stack, f.config, source=str(f.path), secret_keys=f.secret_keys)
    except ConfigError:
        full = None  # a program's own settings: only the policy keys are inferstack's
    try:
        # An absolute path: the SDK drops the source position of a frame whose file name is relative.
        rec = run_program(f.stack, f.config, region=str(region), project=project, program=program.resolve(),
                          secret_keys=f.secret_keys, pulumi_project=project_name(program.resolve()))
    except (pulumi.RunError, pulumi.ConfigMissingError, pulumi.ConfigTypeError) as err:
        # The program rejected its config (missing or invalid keys): a usage error, reported without a traceback.
        raise UsageError(f"--program {args.program}: {err}") from None
    except ProgramError as err:
        raise ProgramError(f"--program {args.program}: {err}") from None
    _print_logs(rec)
    return Target(f.stack, cloud, str(region), settings, rec, program.resolve(), full, external=True)


def _print_logs(rec: Recording, already: frozenset[str] | set[str] = frozenset()) -> None:
    """The program's warnings and errors (``pulumi.log``) on stderr, as ``pulumi preview`` shows them; those the CLI
    printed already (the stack config's warnings) once."""
    for level, message in rec.logs:
        if level in ("warning", "error") and message not in already:
            print(f"{level}: {message}", file=sys.stderr)
