"""``inferstack cost``: monthly cost estimate of a stack per pool, per model and for the platform, beside
all-on-demand; cost per inference (USD per 1M requests / tokens per tier mix, capacity lost to interruptions);
with ``--compare-kinds`` the accelerator kinds that could serve each model, ranked; ``--chart`` a PNG of cost per
tier mix.

The estimate reads the stack's settings (pools, models, pricing), so with ``--program FILE.py --config F`` the
program's stack file must be a complete inferstack stack; the program itself is not needed to price it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from inferstack.catalog.prices import PriceNotFound
from inferstack.cli.common import UsageError, add_stack_args, load_stack, warn, write_output
from inferstack.cost import estimate as estimate_mod
from inferstack.cost import per_inference as per_inference_mod
from inferstack.load import load_stack_file


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cost", help="monthly cost estimate: pools, models, platform, spot vs. all on-demand")
    add_stack_args(p)
    p.add_argument("--program", metavar="FILE.py", help="a Pulumi Python program whose --config is an inferstack stack")
    p.add_argument("--format", choices=["text", "json"], default="text", help="output format (default text)")
    p.add_argument("--out", metavar="FILE", help="write the estimate to FILE instead of stdout")
    p.add_argument("--compare-kinds", action="store_true",
                   help="rank the catalogue's accelerator kinds that could serve each measured model by USD per 1M")
    p.add_argument("--chart", metavar="PATH.png", help="also write a PNG chart of cost per tier mix (needs matplotlib)")
    p.set_defaults(func=_cost)


def _cost(args: argparse.Namespace) -> int:
    if args.chart is not None and not args.chart.lower().endswith(".png"):
        raise UsageError(f"--chart {args.chart}: give a .png path")
    if args.program:
        if not args.config:
            raise UsageError("--program needs --config FILE (the program's stack config)")
        if not Path(args.program).is_file():
            raise UsageError(f"--program {args.program}: no such file")
        cfg = warn(load_stack_file(args.config))
    else:
        cfg = load_stack(args)
    try:
        est = estimate_mod.estimate(cfg)
        report = per_inference_mod.per_inference(cfg, kinds=args.compare_kinds)
    except PriceNotFound as err:
        raise UsageError(str(err)) from None
    if args.chart is not None:
        from inferstack.cost.chart import ChartUnavailable, write_chart

        try:
            write_chart(report, args.chart)
        except ChartUnavailable as err:
            raise UsageError(str(err)) from None
    if args.format == "json":
        text = json.dumps(per_inference_mod.merge_into_estimate(est.to_json(), report), indent=2) + "\n"
    else:
        text = estimate_mod.render_text(est) + "\n" + per_inference_mod.render_text(report)
    write_output(text, args.out)
    return 0
