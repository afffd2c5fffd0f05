"""Speed figures of the offline engine (``make benchmark``): prints seconds and resources/s, asserts nothing.

1. Every reference stack: offline preview wall time (config validation + the program under the mock engine),
   resources/s, cost-estimate time, and the policy check's time (the pack's offline evaluator) and finding count.
2. Synthetic stacks of 10, 100 and 1,000 model deployments (AWS, spread over four accelerator pools whose
   limits hold them, ten team namespaces): the same figures, to show how time grows with the model count.

Usage: ``python scripts/benchmark.py [--sizes 10,100,1000] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from inferstack.cost.estimate import estimate  # noqa: E402
from inferstack.engine import run_stack  # noqa: E402
from inferstack.load import load_stack_file  # noqa: E402
from inferstack.policies.evaluate import evaluate  # noqa: E402
from inferstack.policies.pack import pack_config  # noqa: E402

REFERENCE_STACKS = ["dev", "staging", "prod", "gcp-dev", "gcp-prod"]
POOLS = [("gpu-l4", "nvidia-l4"), ("gpu-l40s", "nvidia-l40s"), ("inf2", "aws-inferentia2"), ("gpu-t4", "nvidia-t4")]


def synthetic_stack(n_models: int, directory: Path) -> Path:
    """Write ``Pulumi.synth-<n>.yaml``: an AWS staging stack with ``n_models`` models over four pools."""
    per_pool = -(-n_models // len(POOLS))
    models = []
    for i in range(n_models):
        pool = POOLS[i % len(POOLS)][0]
        models.append(
            {
                "name": f"model-{i:04d}",
                "namespace": f"team-{i % 10}",
                "format": "huggingface",
                "registryModel": f"model-{i:04d}",
                "version": "1",
                "pool": pool,
                **({"runtime": "inferstack-vllm-neuron"} if pool == "inf2" else {}),
                "accelerators": 1,
                "cpu": "2",
                "memory": "8Gi",
                "minReplicas": 1,
                "maxReplicas": 1,
            }
        )
    config = {
        "aws:region": "eu-west-1",
        "inferstack:cloud": "aws",
        "inferstack:environment": "staging",
        "inferstack:residency": {"allowedRegions": ["eu-west-1"]},
        "inferstack:network": {"cidr": "10.60.0.0/16", "availabilityZones": 2, "natGateways": 2},
        "inferstack:acceleratorPools": [
            {"name": name, "kind": kind, "capacity": "spot-first", "maxNodes": max(per_pool, 1)} for name, kind in POOLS
        ],
        "inferstack:models": models,
    }
    path = directory / f"Pulumi.synth-{n_models}.yaml"
    path.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    return path


def measure(path: Path, repeat: int) -> dict[str, Any]:
    """Best-of-``repeat`` seconds of preview (validation + program), cost estimate and policy check of one stack."""
    best: dict[str, float] = {}
    resources = findings = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        cfg = load_stack_file(path)
        rec = run_stack(cfg)
        t1 = time.perf_counter()
        estimate(cfg)
        t2 = time.perf_counter()
        findings = len(evaluate(rec, pack_config(cfg.policy_settings())))
        t3 = time.perf_counter()
        for k, v in {"preview": t1 - t0, "cost": t2 - t1, "policy": t3 - t2}.items():
            best[k] = min(v, best.get(k, v))
        resources = sum(1 for r in rec.resources if not r.synthesized)
    return {"resources": resources, "findings": findings, **best}


def _row(label: str, models: int, m: dict[str, Any]) -> str:
    rate = m["resources"] / m["preview"] if m["preview"] else 0.0
    return (
        f"{label:<14} {models:>6} {m['resources']:>9} {m['preview']:>10.3f} {rate:>11.0f} {m['cost'] * 1000:>9.2f}"
        f" {m['policy']:>9.3f} {m['findings']:>8}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000", help="synthetic model counts (default 10,100,1000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per stack; the best time is shown (default 1)")
    args = parser.parse_args(argv)
    # The provider SDKs load their modules lazily on first use: one untimed run per cloud keeps that out of the figures.
    for warm in ("dev", "gcp-dev"):
        t0 = time.perf_counter()
        run_stack(load_stack_file(REPO / "stacks" / f"Pulumi.{warm}.yaml"))
        print(f"warm-up run of {warm} (loads the provider SDK, not in the figures below): {time.perf_counter() - t0:.2f} s")
    header = (
        f"{'stack':<14} {'models':>6} {'resources':>9} {'preview s':>10} {'resources/s':>11} {'cost ms':>9}"
        f" {'policy s':>9} {'findings':>8}"
    )
    print(header)
    for name in REFERENCE_STACKS:
        path = REPO / "stacks" / f"Pulumi.{name}.yaml"
        print(_row(name, len(load_stack_file(path).settings.models), measure(path, args.repeat)), flush=True)
    print()
    print(header)
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",") if s):
            m = measure(synthetic_stack(n, Path(tmp)), args.repeat)
            print(_row("synthetic", n, m) + f"   {m['preview'] / n * 1000:.1f} ms/model", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
