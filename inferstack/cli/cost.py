"""``inferstack cost``: monthly cost estimate of a stack per pool, per model and for the platform, beside all-on-demand.

The estimate reads the stack's settings (pools, models, pricing), so with ``--program FILE.py --config F`` the
program's stack file must be a complete inferstack stack; the program itself is not needed to price it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from inferstack.catalog.prices import PriceNotFound
from inferstack.cli.common import UsageError, add_stack_args, load_stack, write_output
from inferstack.cost.estimate import estimate, render_text
from inferstack.load import load_stack_file


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cost", help="monthly cost estimate: pools, models, platform, spot vs. all on-demand")
    add_stack_args(p)
    p.add_argument("--program", metavar="FILE.py", help="a Pulumi Python program whose --config is an inferstack stack")
    p.add_argument("--format", choices=["text", "json"], default="text", help="output format (default text)")
    p.add_argument("--out", metavar="FILE", help="write the estimate to FILE instead of stdout")
    p.set_defaults(func=_cost)


def _cost(args: argparse.Namespace) -> int:
    if args.program:
        if not args.config:
            raise UsageError("--program needs --config FILE (the program's stack config)")
        if not Path(args.program).is_file():
            raise UsageError(f"--program {args.program}: no such file")
        cfg = load_stack_file(args.config)
    else:
        cfg = load_stack(args)
    try:
        est = estimate(cfg)
    except PriceNotFound as err:
        raise UsageError(str(err)) from None
    text = json.dumps(est.to_json(), indent=2) + "\n" if args.format == "json" else render_text(est)
    write_output(text, args.out)
    return 0
