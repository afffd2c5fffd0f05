"""What a command runs: a stack of this project (``--stack`` / ``--config``) or any Pulumi Python program
(``--program FILE.py --config Pulumi.<stack>.yaml``), under the offline engine.

A program's stack file needs only the policy keys of the ``inferstack:`` namespace (cloud, environment, residency,
policy) and the cloud's region; its URNs carry the project name of the ``Pulumi.yaml`` beside the program. When the
file is also a complete inferstack stack, the commands that read settings (the cost estimate) use it too.

With ``--policy-config FILE [--environment E]`` (``policy check`` and ``preview``) the stack file is only the program's config, as in a real
``pulumi preview --policy-pack-config FILE``: the pack's settings and levels come from FILE and ``--environment``
(:mod:`inferstack.policies.pack_file`), no ``inferstack:`` key is read; the cloud is the one whose provider keys the
file sets (``aws:*`` / ``gcp:*``), else the form of the region; the region is the file's ``aws:region`` /
``gcp:region``, else the first of FILE's ``region-residency.allowedRegions`` (said on stderr).
The program runs with its own environment's packages too (:mod:`inferstack.cli.program_env`).

A ``--program`` that reads another stack (``pulumi.StackReference``) not listed under the stack file's
``inferstack-offline:stackOutputs`` gets unknown outputs, as the values a real preview could read but the offline engine
cannot (rules meeting them report "not evaluated"); ``--stack`` keeps the engine's default (such a reference stops
the run). :func:`report_notes` gives the lines a report prints about what the run could not know: each stack
reference answered unknown and how to supply its outputs, and how many values are placeholders from data-source
lookups; :func:`placeholder_inputs` names the inputs of a resource that hold one.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pulumi

from inferstack.catalog.clouds import CLOUDS, Cloud
from inferstack.cli.common import UsageError, add_stack_args, load_stack
from inferstack.cli.program_env import RuntimeOptionsError, program_environment
from inferstack.config import ConfigError, PolicySettings, StackConfig, file_issue, read_stack_file
from inferstack.config.files import read_yaml_file
from inferstack.config.stack import parse_policy_settings
from inferstack.config.yaml_data import YamlDataError
from inferstack.engine import (
    DEFAULT_PROGRAM,
    PROJECT,
    STACK_OUTPUTS_KEY,
    ProgramError,
    Recording,
    ResourceRecord,
    run_program,
    run_stack,
)
from inferstack.load import load_stack as load_stack_values

if TYPE_CHECKING:
    from inferstack.policies.pack_file import PackFile


@dataclass(frozen=True)
class Target:
    """A stack run offline: its identity, the policy settings, what it declared, and the file that declared it."""

    stack: str
    cloud: Cloud
    region: str
    #: The policy settings; None for a ``--program`` run that reads none (``cost --program`` of a stack file without
    #: ``inferstack:`` keys).
    settings: PolicySettings | None
    recording: Recording
    program: Path
    #: The full inferstack stack, when the stack file is one (always for ``--stack``).
    config: StackConfig | None
    #: True when a ``--program`` was run rather than this project's own program.
    external: bool = False
    #: The complete pack config when it came from ``--policy-config FILE`` (else built from ``settings``).
    pack_config: dict[str, Any] | None = None

    def describe(self) -> str:
        """``stack S (aws, dev, eu-west-1)``, plus the program when it is not the project's own."""
        env = f"{self.settings.environment.value}, " if self.settings is not None else ""
        text = f"stack {self.stack} ({self.cloud.value}, {env}{self.region})"
        return f"{text}, program {self.program}" if self.external else text


def add_target_args(parser: argparse.ArgumentParser) -> None:
    """``--stack NAME`` | ``--config FILE``, and ``--program FILE.py`` (with ``--config``)."""
    add_stack_args(parser)
    parser.add_argument("--program", metavar="FILE.py", help="any Pulumi Python program (its stack file from --config)")


def add_policy_config_args(parser: argparse.ArgumentParser) -> None:
    """``--policy-config FILE`` and ``--environment dev|staging|prod`` (with ``--program``), as ``policy check`` and
    ``preview`` take them."""
    parser.add_argument("--policy-config", metavar="FILE",
                        help="with --program: the pack's settings and levels from FILE (the JSON pulumi preview "
                             "--policy-pack-config takes; `inferstack policy config` writes one); the stack file is "
                             "then only the program's config")
    parser.add_argument("--environment", choices=("dev", "staging", "prod"),
                        help="with --policy-config: the levels of this environment for the policies FILE gives no level")


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


def load_target(args: argparse.Namespace, policy: bool = True) -> Target:
    """Run what ``args`` select; ConfigError or UsageError (exit 2) when the selection or its config is wrong.

    ``policy=False`` (``cost``, ``render``, ``conformance``): a ``--program``'s stack file needs no ``inferstack:``
    key; without any, its cloud and region are its provider's (``aws:region`` / ``gcp:region``) and the target has no
    policy settings. With ``policy=True`` such a file needs ``--policy-config`` (UsageError saying so)."""
    if getattr(args, "policy_config", None) and not getattr(args, "program", None):
        raise UsageError("--policy-config needs --program FILE.py (a stack of this project takes its settings from "
                         "its own inferstack: keys)")
    if getattr(args, "environment", None) and not getattr(args, "policy_config", None):
        raise UsageError("--environment needs --policy-config FILE (without it, the stack file's "
                         "inferstack:environment sets the levels)")
    if not getattr(args, "program", None):
        cfg = load_stack(args)  # prints the config's warnings
        rec = run_stack(cfg)
        _print_logs(rec, already={str(w) for w in cfg.warnings})
        return Target(cfg.name, cfg.cloud, cfg.region, cfg.policy_settings(), rec, Path(DEFAULT_PROGRAM), cfg)
    policy_file = getattr(args, "policy_config", None)
    if not args.config:
        raise UsageError("--program needs --config FILE (the program's stack config)")
    program = Path(args.program)
    if not program.is_file():
        raise UsageError(f"--program {args.program}: no such file")
    packfile = _pack_file(policy_file, getattr(args, "environment", None)) if policy_file else None
    f = read_stack_file(args.config)
    if packfile is not None:
        cloud, region = _cloud_and_region(f.config, packfile.allowed_regions, str(f.path))
        settings = PolicySettings(environment=packfile.environment, allowed_regions=packfile.allowed_regions)
        info = CLOUDS[cloud]
    elif not any(str(k).startswith("inferstack:") for k in f.config):
        if policy:
            raise UsageError(f"--config {args.config} has no inferstack: key: give the pack's settings with "
                             "--policy-config FILE [--environment dev|staging|prod] (`inferstack policy config "
                             "--environment E --allowed-region R --out FILE` writes one), or set inferstack:cloud, "
                             "inferstack:environment and inferstack:residency in the stack file")
        cloud, region, settings = *_provider_cloud_and_region(f.config, str(f.path)), None
        info = CLOUDS[cloud]
    else:
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
        env = program_environment(program.resolve())
    except RuntimeOptionsError as err:
        raise UsageError(f"--program {args.program}: {err}") from None
    except YamlDataError as err:
        raise UsageError(f"--program {args.program}: Pulumi.yaml: {err}") from None
    try:
        # An absolute path: the SDK drops the source position of a frame whose file name is relative.
        with env.on_path():
            rec = run_program(f.stack, f.config, region=str(region), project=project, program=program.resolve(),
                              secret_keys=f.secret_keys, pulumi_project=project_name(program.resolve()),
                              unknown_stack_references=True)
    except (pulumi.RunError, pulumi.ConfigMissingError, pulumi.ConfigTypeError) as err:
        # The program rejected its config (missing or invalid keys): a usage error, reported without a traceback.
        raise UsageError(f"--program {args.program}: {err}") from None
    except ModuleNotFoundError as err:
        missing = env.missing_module(err)
        if missing is None:
            raise
        raise ProgramError(f"--program {args.program}: {missing}") from None
    except ProgramError as err:
        raise ProgramError(f"--program {args.program}: {err}") from None
    _print_logs(rec)
    return Target(f.stack, cloud, str(region), settings, rec, program.resolve(), full, external=True,
                  pack_config=packfile.config if packfile is not None else None)


def _pack_file(path: str, environment: str | None) -> PackFile:
    """``--policy-config FILE`` read and completed for ``--environment``; UsageError (exit 2) naming the bad key."""
    from inferstack.policies.pack_file import PackFileError, effective_pack_config, read_pack_file

    try:
        packfile = effective_pack_config(read_pack_file(path), environment)
    except PackFileError as err:
        raise UsageError(f"--policy-config {path}: {err}") from None
    for name in packfile.unlevelled:
        print(f"warning: --policy-config {path}: {name} has settings but no enforcementLevel: pulumi preview takes it "
              f"as advisory; the offline check uses the {packfile.environment.value} level "
              f"({packfile.config[name]['enforcementLevel']}); write the level to make both agree", file=sys.stderr)
    return packfile


#: An AWS region name (``eu-west-1``, ``us-gov-west-1``); GCP's have no dash before the number (``europe-west1``).
_AWS_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")


def _cloud_and_region(config: dict[str, Any], allowed: tuple[str, ...], source: str) -> tuple[Cloud, str]:
    """The cloud and region of a program's stack file that has no ``inferstack:`` keys (see the module docstring)."""
    clouds = [c for c, info in CLOUDS.items() if any(str(k).startswith(f"{info.namespace}:") for k in config)]
    region: str | None = None
    for c in clouds:
        region = region or config.get(CLOUDS[c].region_key)
    if region is None:
        region = allowed[0]
        keys = " / ".join(CLOUDS[c].region_key for c in (clouds or list(CLOUDS)))
        print(f"inferstack: {source} sets no {keys}; running the program in {region} (the first of the policy "
              "config's region-residency.allowedRegions)", file=sys.stderr)
    if len(clouds) != 1:
        clouds = [Cloud.AWS if _AWS_REGION.fullmatch(str(region)) else Cloud.GCP]
    return clouds[0], str(region)


def _provider_cloud_and_region(config: dict[str, Any], source: str) -> tuple[Cloud, str]:
    """The cloud and region of a stack file with neither ``inferstack:`` keys nor a policy config: its provider's
    region key, exactly one of them (ConfigError naming the keys otherwise)."""
    found = [(c, config[info.region_key]) for c, info in CLOUDS.items() if config.get(info.region_key)]
    if len(found) != 1:
        keys = " or ".join(info.region_key for info in CLOUDS.values())
        what = "sets both" if found else "sets neither"
        raise ConfigError(source, [file_issue(keys, f"{what}: set exactly one, the region the program deploys to "
                                                    "(or give inferstack:cloud)")])
    return found[0][0], str(found[0][1])


def _print_logs(rec: Recording, already: frozenset[str] | set[str] = frozenset()) -> None:
    """The program's warnings and errors (``pulumi.log``) on stderr, as ``pulumi preview`` shows them; those the CLI
    printed already (the stack config's warnings) once."""
    for level, message in rec.logs:
        if level in ("warning", "error") and message not in already:
            print(f"{level}: {message}", file=sys.stderr)


#: The type token of a stack reference (a read in :attr:`Recording.lookups`).
STACK_REFERENCE = "pulumi:pulumi:StackReference"


def unknown_stack_references(rec: Recording) -> list[str]:
    """The stacks the program referenced whose outputs the run answered unknown (none listed under
    :data:`STACK_OUTPUTS_KEY`), in call order, each once."""
    names = [str(x.id or x.name) for x in rec.lookups if x.token == STACK_REFERENCE and "outputs" in x.unknown]
    return list(dict.fromkeys(names))


def stack_reference_note(rec: Recording) -> str | None:
    """One line naming each stack reference answered unknown and how to give its outputs (None when there is none)."""
    names = unknown_stack_references(rec)
    if not names:
        return None
    which = ", ".join(repr(n) for n in names)
    return (f"{len(names)} StackReference{'s' if len(names) != 1 else ''} ({which}) answered with unknown outputs "
            "(the offline engine cannot read another stack): the values that depend on them are unknown and the rules "
            f"meeting them report not evaluated; give the outputs under {STACK_OUTPUTS_KEY} in the stack file "
            "({stack: {outputs: {...}, secretOutputNames: [...]}}) to judge them")


def report_notes(rec: Recording) -> list[str]:
    """What a report says about values the offline run could not know: unknown stack references, placeholders."""
    return [n for n in (stack_reference_note(rec), rec.placeholder_note()) if n]


def placeholder_values(rec: Recording) -> frozenset[str]:
    """The placeholder strings the run's data-source lookups were answered with (numbers and booleans made up for a
    lookup cannot be told from a program's own, so only strings are traced into resource inputs)."""
    return frozenset(v for _, _, v in rec.placeholders if isinstance(v, str) and v)


def placeholder_inputs(record: ResourceRecord | None, values: frozenset[str]) -> list[str]:
    """The input paths of ``record`` (``spec.zoneId``, ``tags.zone``, ``names[0]``) whose value holds a placeholder of
    ``values`` (equal to one, or built from one: an ARN or a name concatenated from a looked-up id)."""
    if record is None or not values:
        return []
    found: list[str] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, str):
            if "placeholder-" in value and any(v in value for v in values):
                found.append(path)
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{path}.{k}" if path else str(k))
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]")

    walk(record.plain_inputs, "")
    return found
