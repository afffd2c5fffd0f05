"""``inferstack cost``: monthly cost estimate of a stack per pool, per model and for the platform, beside
all-on-demand; cost per inference (USD per 1M requests / tokens per tier mix, capacity lost to interruptions);
with ``--compare-kinds`` the accelerator kinds that could serve each model, ranked; ``--chart`` a PNG of cost per
tier mix.

``--stack`` / ``--config``: the capacity plan of the stack's settings (pools sized for the models, NAT, control
plane, system nodes). ``--program FILE.py --config F``: the resources the program declares, priced from the offline
recording (:mod:`inferstack.cost.declared`), with the stack file's ``inferstack:pricing`` overrides.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from inferstack.catalog.prices import PriceNotFound
from inferstack.cli.common import UsageError, add_stack_args, load_stack, write_output
from inferstack.cli.target import Target, load_target
from inferstack.config import read_stack_file
from inferstack.config.pricing import PricingConfig
from inferstack.cost import declared as declared_mod
from inferstack.cost import estimate as estimate_mod
from inferstack.cost import per_inference as per_inference_mod

#: What the declared estimate of a stack on an existing cluster leaves out.
EXISTING_CLUSTER_NOTE = ("the stack deploys to an existing cluster (inferstack:existingCluster): the cluster, its nodes "
                         "(where the models' pods run) and its platform are billed to the stack that declares them")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cost", help="monthly cost estimate: pools, models, platform, spot vs. all on-demand")
    add_stack_args(p)
    p.add_argument("--program", metavar="FILE.py",
                   help="a Pulumi Python program: price the resources it declares (its stack file from --config)")
    p.add_argument("--format", choices=["text", "json"], default="text", help="output format (default text)")
    p.add_argument("--out", metavar="FILE", help="write the estimate to FILE instead of stdout")
    p.add_argument("--compare-kinds", action="store_true",
                   help="rank the catalogue's accelerator kinds that could serve each measured model by USD per 1M")
    p.add_argument("--chart", metavar="PATH.png", help="also write a PNG chart of cost per tier mix (needs matplotlib)")
    p.set_defaults(func=_cost)


def program_pricing(target: Target, config_path: str | None) -> tuple[PricingConfig, frozenset[str]]:
    """The pricing overrides and explicit usage keys of the stack file (the full stack's when it is one; else the
    ``inferstack:pricing`` of ``config_path``, ConfigError: exit 2)."""
    if target.config is not None:
        pricing = target.config.settings.pricing
        return pricing, frozenset(pricing.model_fields_set)
    if config_path is None:
        return PricingConfig(), frozenset()
    f = read_stack_file(config_path)
    return declared_mod.stack_file_pricing(f.config, str(f.path))


def declared_estimate(target: Target, config_path: str | None = None) -> declared_mod.DeclaredCost:
    """The declared-resources estimate of what ``target`` ran; PriceNotFound names every missing price key."""
    pricing, usage = program_pricing(target, config_path)
    return declared_mod.price_declared(target.recording.resources, stack=target.stack, cloud=target.cloud,
                                       region=target.region, pricing=pricing, usage_keys=usage)


def prices_declared(target: Target) -> bool:
    """True when ``target``'s cost is what it declares: a ``--program``, or a stack on an existing cluster (its nodes
    and platform are billed elsewhere, so there is no capacity plan to price)."""
    return target.external or (target.config is not None and target.config.settings.existing_cluster is not None)


def _cost(args: argparse.Namespace) -> int:
    if args.chart is not None and not args.chart.lower().endswith(".png"):
        raise UsageError(f"--chart {args.chart}: give a .png path")
    if args.program:
        return _program_cost(args)
    cfg = load_stack(args)
    if cfg.settings.existing_cluster is not None:
        return _program_cost(args)
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


def _program_cost(args: argparse.Namespace) -> int:
    """The declared-resources estimate: of a ``--program``, or of a stack on an existing cluster."""
    what = "--program" if args.program else "a stack on an existing cluster (inferstack:existingCluster)"
    for flag, value in (("--compare-kinds", args.compare_kinds), ("--chart", args.chart)):
        if value:
            raise UsageError(f"{flag} reads a stack's capacity plan: use it with --stack or --config, not {what}")
    target = load_target(args, policy=False)
    try:
        est = declared_estimate(target, args.config)
    except PriceNotFound as err:
        raise UsageError(str(err)) from None
    if not target.external:
        est.assumptions["note"] = EXISTING_CLUSTER_NOTE
    if args.format == "json":
        doc: dict[str, Any] = {**est.to_json(), **({"program": str(target.program)} if target.external else {})}
        text = json.dumps(doc, indent=2) + "\n"
    else:
        text = declared_mod.render_text(est, args.program or None)
    write_output(text, args.out)
    return 0
