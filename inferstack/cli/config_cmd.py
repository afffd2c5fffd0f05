"""``inferstack config schema|validate``: the JSON Schema of stack config files, and validation of one."""

from __future__ import annotations

import argparse
import json

from inferstack.cli.common import add_stack_args, load_stack
from inferstack.config.schema import stack_file_schema


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="stack config: print the JSON Schema, or validate a stack")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION")
    csub.required = True
    s = csub.add_parser("schema", help="print the JSON Schema of Pulumi.<stack>.yaml files (for editors)")
    s.set_defaults(func=_schema)
    v = csub.add_parser("validate", help="validate a stack config; exit 2 naming every bad key")
    add_stack_args(v)
    v.set_defaults(func=_validate)


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(stack_file_schema(), indent=2))
    return 0


def _validate(args: argparse.Namespace) -> int:
    cfg = load_stack(args)
    print(f"stack {cfg.name}: valid ({cfg.cloud.value}, {cfg.environment.value}, {cfg.region})")
    return 0
