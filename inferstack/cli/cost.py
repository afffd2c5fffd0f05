"""``inferstack cost``: monthly cost estimate of a stack per pool, per model and for the platform, beside all-on-demand."""

from __future__ import annotations

import argparse
import json

from inferstack.catalog.prices import PriceNotFound
from inferstack.cli.common import UsageError, add_stack_args, load_stack, write_output
from inferstack.cost.estimate import estimate, render_text


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cost", help="monthly cost estimate: pools, models, platform, spot vs. all on-demand")
    add_stack_args(p)
    p.add_argument("--format", choices=["text", "json"], default="text", help="output format (default text)")
    p.add_argument("--out", metavar="FILE", help="write the estimate to FILE instead of stdout")
    p.set_defaults(func=_cost)


def _cost(args: argparse.Namespace) -> int:
    cfg = load_stack(args)
    try:
        est = estimate(cfg)
    except PriceNotFound as err:
        raise UsageError(str(err)) from None
    text = json.dumps(est.to_json(), indent=2) + "\n" if args.format == "json" else render_text(est)
    write_output(text, args.out)
    return 0
