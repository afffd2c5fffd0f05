"""Speed figures of the offline engine (``make benchmark``): prints figures beside their targets, asserts nothing.

1. Every reference stack: the inferstack program's preview time under the mock engine against a raw Pulumi
   program declaring the same resources (``scripts/raw_program.py``: the SDK classes, same inputs, options and
   dependencies), run the same way (``inferstack.engine.run_program``); the ratio inferstack/raw.
2. Synthetic stacks of 10, 100, 300 and 1,000 model deployments (AWS, four accelerator pools whose limits hold them,
   ten team namespaces): ``preview``, ``policy check``, ``render`` and ``cost``, each in a fresh subprocess: time,
   resources, time per resource, peak RSS, and the policy evaluation's share of preview.
3. Start-up: ``inferstack --help`` and ``inferstack config validate`` as subprocesses, best of 5.

Times are the best of ``--repeat`` warm runs in one process, after one untimed run (which loads the provider SDKs;
its time is kept in the JSON as ``coldSeconds``): wall time and the process's CPU time. The targets' ratios use CPU
time, which other load on a shared machine barely moves (wall time is printed beside). The peak RSS is the worker
process's own (``ru_maxrss``), one process per command and size. Results go to ``out/benchmark/benchmark.json`` and ``benchmark.png``.

Usage: ``python scripts/benchmark.py [--quick] [--sizes 10,100,300,1000] [--repeat N] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import io
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from inferstack.config.stack import stack_key  # noqa: E402

REFERENCE_STACKS = ["dev", "staging", "prod", "gcp-dev", "gcp-prod"]
POOLS = [("gpu-l4", "nvidia-l4"), ("gpu-l40s", "nvidia-l40s"), ("inf2", "aws-inferentia2"), ("gpu-t4", "nvidia-t4")]
COMMANDS = ["preview", "policy", "render", "cost"]

#: The targets (issue "Performance: preview within 15% of a raw Pulumi program, policy evaluation linear").
TARGET_RAW_RATIO = 1.15  # prod: inferstack preview / raw program preview
TARGET_LINEARITY = 1.10  # preview s/resource at 1,000 models / at 100
TARGET_POLICY_SHARE = 0.10  # policy evaluation / preview at 1,000 models
TARGET_STARTUP = 0.5  # seconds: inferstack --help, inferstack config validate


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
    settings = {
        "cloud": "aws",
        "environment": "staging",
        "residency": {"allowedRegions": ["eu-west-1"]},
        "network": {"cidr": "10.60.0.0/16", "availabilityZones": 2, "natGateways": 2},
        "acceleratorPools": [
            {"name": name, "kind": kind, "capacity": "spot-first", "maxNodes": max(per_pool, 1)} for name, kind in POOLS
        ],
        "models": models,
    }
    config = {"aws:region": "eu-west-1", **{stack_key(k): v for k, v in settings.items()}}
    path = directory / f"Pulumi.synth-{n_models}.yaml"
    path.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    return path


# ---------------------------------------------------------------- workers (one fresh process each)


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def worker_command(command: str, config: Path, repeat: int) -> dict[str, Any]:
    """Run one CLI command (``preview``, ``policy``, ``render``, ``cost``) on a stack file: 1 untimed + ``repeat``
    timed runs in this process; the policy evaluation and the program run are timed inside each run."""
    import inferstack.cli as cli
    import inferstack.cli.target as target_mod

    out = Path(tempfile.mkdtemp(prefix="inferstack-bench-"))
    argv = {
        "preview": ["preview", "--config", str(config), "--format", "json", "--out", str(out / "preview.json")],
        "policy": ["policy", "check", "--config", str(config), "--json", str(out / "policy.json")],
        "render": ["render", "--config", str(config), "--out", str(out / "manifests")],
        "cost": ["cost", "--config", str(config), "--out", str(out / "cost.txt")],
    }[command]
    phases: dict[str, float] = {}
    counted: dict[str, int] = {}

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                phases[name] = phases.get(name, 0.0) + time.perf_counter() - t0
                phases[name + "Cpu"] = phases.get(name + "Cpu", 0.0) + time.process_time() - c0
        return wrapper

    module = {"preview": "inferstack.cli.preview", "policy": "inferstack.cli.policy"}.get(command)
    if module:
        mod = __import__(module, fromlist=["evaluate"])
        mod.evaluate = timed("policy", mod.evaluate)
    run_stack = target_mod.run_stack

    def counting_run_stack(*args: Any, **kwargs: Any) -> Any:
        rec = timed("program", run_stack)(*args, **kwargs)
        counted["resources"] = sum(1 for r in rec.resources if not r.synthesized)
        return rec

    target_mod.run_stack = counting_run_stack
    runs: list[dict[str, float]] = []
    for _ in range(repeat + 1):
        phases.clear()
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        with contextlib.redirect_stdout(io.StringIO()):
            code = cli.main(argv)
        runs.append({"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0, **phases})
        if code not in (0, 1):
            raise SystemExit(f"inferstack {' '.join(argv)} exited {code}")
    best = min(runs[1:], key=lambda r: r["seconds"])
    best_cpu = min(runs[1:], key=lambda r: r["cpu"])
    return {"command": command, "resources": counted.get("resources", 0), "seconds": best["seconds"],
            "programSeconds": best.get("program"), "policySeconds": best.get("policy"),
            "cpuSeconds": best_cpu["cpu"], "policyCpuSeconds": best_cpu.get("policyCpu"),
            "coldSeconds": runs[0]["seconds"], "runs": len(runs) - 1, "peakRssMiB": _peak_rss_mib()}


def worker_compare(stack: str, repeat: int) -> dict[str, Any]:
    """Preview time of the inferstack program and of the raw program generated from its recording, in turn."""
    sys.path.insert(0, str(REPO / "scripts"))
    import raw_program

    from inferstack.engine import run_program, run_stack
    from inferstack.load import load_stack_file

    cfg = load_stack_file(REPO / "stacks" / f"Pulumi.{stack}.yaml")
    rec = run_stack(cfg)  # untimed: loads the SDKs for both
    program = raw_program.write_program(rec, Path(tempfile.mkdtemp(prefix="inferstack-raw-")))

    def raw() -> Any:
        return run_program(cfg.name, dict(cfg.values), region=cfg.region, project=cfg.project, program=program,
                           secret_keys=cfg.secret_keys)

    raw()
    best = {"inferstack": float("inf"), "raw": float("inf")}
    cpu = dict(best)
    for _ in range(repeat):
        for name, fn in (("inferstack", lambda: run_stack(cfg)), ("raw", raw)):
            gc.collect()
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
            cpu[name] = min(cpu[name], time.process_time() - c0)
    resources = sum(1 for r in rec.resources if not r.synthesized)
    return {"stack": stack, "resources": resources, "inferstackSeconds": best["inferstack"],
            "rawSeconds": best["raw"], "wallRatio": best["inferstack"] / best["raw"],
            "inferstackCpuSeconds": cpu["inferstack"], "rawCpuSeconds": cpu["raw"],
            "ratio": cpu["inferstack"] / cpu["raw"], "runs": repeat}


def _spawn(args: list[str]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", *args],
                          capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0:
        raise SystemExit(f"worker {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def startup(argv: list[str], runs: int = 5) -> float:
    """Best wall time of ``inferstack ARGV`` as a subprocess (the venv's console script)."""
    exe = Path(sys.executable).parent / "inferstack"
    cmd = [str(exe), *argv] if exe.exists() else [sys.executable, "-m", "inferstack", *argv]
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=REPO, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - t0)
    return best


# ---------------------------------------------------------------- report


def _verdict(value: float, target: float, unit: str = "") -> str:
    if value <= target:
        return f"met ({value:.3g}{unit} <= {target:g}{unit}, {100 * (1 - value / target):.0f}% under)"
    return f"NOT met ({value:.3g}{unit} > {target:g}{unit}, {100 * (value / target - 1):.0f}% over)"


def targets(result: dict[str, Any]) -> dict[str, Any]:
    """Each target with its measured value (None when the run did not measure it) and whether it is met."""
    out: dict[str, Any] = {}
    prod = next((c for c in result["reference"] if c["stack"] == "prod"), None)
    out["prodRawRatio"] = {"target": TARGET_RAW_RATIO, "value": prod and prod["ratio"]}
    pre = {r["models"]: r for r in result["synthetic"] if r["command"] == "preview"}
    if 100 in pre and 1000 in pre:
        lin = (pre[1000]["cpuSeconds"] / pre[1000]["resources"]) / (pre[100]["cpuSeconds"] / pre[100]["resources"])
        share = pre[1000]["policyShare"]
    else:
        lin = share = None
    out["previewPerResource1000vs100"] = {"target": TARGET_LINEARITY, "value": lin}
    out["policyShareAt1000"] = {"target": TARGET_POLICY_SHARE, "value": share}
    out["helpSeconds"] = {"target": TARGET_STARTUP, "value": result["startup"]["help"]}
    out["configValidateSeconds"] = {"target": TARGET_STARTUP, "value": result["startup"]["configValidate"]}
    for t in out.values():
        t["met"] = None if t["value"] is None else t["value"] <= t["target"]
    return out


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4), dpi=100)
    for command in COMMANDS:
        rows = sorted((r for r in result["synthetic"] if r["command"] == command), key=lambda r: r["resources"])
        if not rows:
            continue
        xs = [r["resources"] for r in rows]
        ax1.plot(xs, [r["seconds"] for r in rows], marker="o", label=command)
        ax2.plot(xs, [1000 * r["cpuSeconds"] / r["resources"] for r in rows], marker="o", label=command)
        for r in rows if command == "cost" else ():  # one label per size, on the line apart from the others
            ax1.annotate(f"{r['models']}", (r["resources"], r["seconds"]), textcoords="offset points",
                         xytext=(0, 6), fontsize=7, color="grey", ha="center")
    ax1.set(xscale="log", yscale="log", xlabel="resources", ylabel="seconds (best warm run)",
            title="Time against resources (labels: models)")
    ax2.set(xscale="log", yscale="log", xlabel="resources", ylabel="CPU ms per resource",
            title="CPU time per resource (flat = linear)")
    ticks = sorted({r["resources"] for r in result["synthetic"]})
    for ax in (ax1, ax2):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xticks(ticks, [str(x) for x in ticks])
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}"))
    fig.suptitle(f"inferstack offline commands, synthetic stacks ({result['date'][:10]}, {result['machine']['cpus']} CPUs)",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,300,1000", help="synthetic model counts (default 10,100,300,1000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement, best shown (default 3)")
    parser.add_argument("--quick", action="store_true", help="10 and 100 models, one timed run: a fast check")
    parser.add_argument("--out", default=str(REPO / "out" / "benchmark"), help="directory of benchmark.json/.png")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        kind, *rest = args.worker
        res = worker_compare(rest[0], args.repeat) if kind == "compare" else worker_command(kind, Path(rest[0]), args.repeat)
        print(json.dumps(res))
        return 0
    if args.quick:
        args.sizes, args.repeat = "10,100", 1
    sizes = [int(s) for s in args.sizes.split(",") if s]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    result: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": commit or None,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "repeat": args.repeat, "sizes": sizes, "reference": [], "synthetic": [],
        "loadAverageAtStart": os.getloadavg()[0],
    }
    print(f"inferstack benchmark {result['date']} commit {commit} ({os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}); best of {args.repeat} warm run(s), one process per measurement\n")

    compare_runs = max(args.repeat, 2) if args.quick else max(args.repeat, 5)
    print(f"1. Preview: inferstack program vs. a raw Pulumi program of the same resources (best of {compare_runs})")
    print(f"{'stack':<10} {'resources':>9} {'inferstack s':>12} {'raw s':>8} {'ratio':>6}   {'inferstack cpu':>14}"
          f" {'raw cpu':>8} {'cpu ratio':>9}")
    for stack in REFERENCE_STACKS:
        c = _spawn(["compare", stack, "--repeat", str(compare_runs)])
        result["reference"].append(c)
        print(f"{stack:<10} {c['resources']:>9} {c['inferstackSeconds']:>12.3f} {c['rawSeconds']:>8.3f}"
              f" {c['wallRatio']:>6.2f}   {c['inferstackCpuSeconds']:>14.3f} {c['rawCpuSeconds']:>8.3f} {c['ratio']:>9.2f}",
              flush=True)
    print()

    print("2. Synthetic stacks: each command in a fresh process")
    print(f"{'command':<8} {'models':>6} {'resources':>9} {'seconds':>8} {'cpu s':>7} {'cpu ms/res':>10} {'peak MiB':>8}"
          f" {'policy s':>8} {'policy %':>8} {'cold s':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = synthetic_stack(n, Path(tmp))
            for command in COMMANDS:
                m = _spawn([command, str(path), "--repeat", str(args.repeat)])
                m["models"] = n
                if command == "cost":  # the estimate runs no program: the resources the stack's preview counted
                    m["resources"] = next((r["resources"] for r in result["synthetic"]
                                           if r["models"] == n and r["resources"]), 0)
                m["msPerResource"] = 1000 * m["seconds"] / m["resources"] if m["resources"] else None
                m["cpuMsPerResource"] = 1000 * m["cpuSeconds"] / m["resources"] if m["resources"] else None
                # The policy share in CPU time (the phase and its run both measured as the process's CPU time).
                m["policyShare"] = (m["policyCpuSeconds"] / m["cpuSeconds"]) if m["policyCpuSeconds"] is not None else None
                result["synthetic"].append(m)
                pol = (f"{m['policyCpuSeconds']:>8.3f} {100 * m['policyShare']:>7.1f}%" if m["policyShare"] is not None
                       else f"{'-':>8} {'-':>8}")
                print(f"{command:<8} {n:>6} {m['resources']:>9} {m['seconds']:>8.3f} {m['cpuSeconds']:>7.3f}"
                      f" {m['cpuMsPerResource']:>10.2f} {m['peakRssMiB']:>8.0f} {pol} {m['coldSeconds']:>7.2f}", flush=True)
    print()

    result["startup"] = {"help": startup(["--help"]), "configValidate": startup(["config", "validate", "--stack", "dev"])}
    print(f"3. Start-up (subprocess, best of 5): inferstack --help {result['startup']['help']:.3f} s,"
          f" inferstack config validate --stack dev {result['startup']['configValidate']:.3f} s\n")

    result["loadAverageAtEnd"] = os.getloadavg()[0]
    result["targets"] = t = targets(result)
    labels = {
        "prodRawRatio": ("prod preview CPU, inferstack / raw program", ""),
        "previewPerResource1000vs100": ("preview CPU/resource, 1,000 models / 100", ""),
        "policyShareAt1000": ("policy evaluation / preview (CPU) at 1,000", ""),
        "helpSeconds": ("inferstack --help", " s"),
        "configValidateSeconds": ("inferstack config validate", " s"),
    }
    print(f"Targets (ratios on CPU time: the machine may be shared; load average {result['loadAverageAtStart']:.1f}"
          f" at start, {result['loadAverageAtEnd']:.1f} at end):")
    for key, (label, unit) in labels.items():
        v = t[key]
        text = "not measured in this run" if v["value"] is None else _verdict(v["value"], v["target"], unit)
        print(f"  {label:<48} target <= {v['target']:g}{unit}: {text}")

    (out / "benchmark.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {out / 'benchmark.json'}")
    try:
        plot(result, out / "benchmark.png")
        print(f"wrote {out / 'benchmark.png'}")
    except ImportError:
        print("no plot: matplotlib is not installed (pip install -e '.[bench]')")
    return 0


if __name__ == "__main__":
    sys.exit(main())
