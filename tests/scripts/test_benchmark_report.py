"""scripts/benchmark.py's report logic (no timing): the synthetic stacks are valid stacks, and every target is
computed from the figures it names. The speed targets themselves are printed by the benchmark, never asserted."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from inferstack.load import load_stack_file
from tests.conftest import REPO


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("benchmark", REPO / "scripts" / "benchmark.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


benchmark = _load_benchmark()


def test_synthetic_stack_is_a_valid_stack(tmp_path: Path) -> None:
    cfg = load_stack_file(benchmark.synthetic_stack(12, tmp_path))
    assert cfg.name == "synth-12" and len(cfg.settings.models) == 12


def _preview(models: int, resources: int, seconds: float, policy: float) -> dict:
    return {"command": "preview", "models": models, "resources": resources, "seconds": seconds + 0.5,
            "cpuSeconds": seconds, "policySeconds": policy, "policyShare": policy / seconds}


def test_targets_are_computed_from_their_figures() -> None:
    result = {
        "reference": [{"stack": "prod", "ratio": 1.2}],
        "synthetic": [_preview(100, 400, 4.0, 0.2), _preview(1000, 2000, 21.0, 1.0)],
        "startup": {"help": 0.3, "configValidate": 0.6},
    }
    t = benchmark.targets(result)
    assert t["prodRawRatio"] == {"target": 1.15, "value": 1.2, "met": False}
    assert abs(t["previewPerResource1000vs100"]["value"] - 1.05) < 1e-9 and t["previewPerResource1000vs100"]["met"]
    assert abs(t["policyShareAt1000"]["value"] - 1.0 / 21.0) < 1e-9 and t["policyShareAt1000"]["met"]
    assert t["helpSeconds"]["met"] and not t["configValidateSeconds"]["met"]


def test_quick_run_leaves_the_size_targets_unmeasured() -> None:
    result = {"reference": [], "synthetic": [_preview(10, 190, 1.0, 0.1)], "startup": {"help": 0.1, "configValidate": 0.1}}
    t = benchmark.targets(result)
    assert t["prodRawRatio"]["met"] is None and t["previewPerResource1000vs100"]["value"] is None


def test_plot_writes_a_png(tmp_path: Path) -> None:
    result = {"date": "2026-12-01T00:00:00+00:00", "machine": {"cpus": 2},
              "synthetic": [{**_preview(10, 191, 1.0, 0.1)}, {**_preview(100, 371, 2.0, 0.2)}]}
    try:
        benchmark.plot(result, tmp_path / "b.png")
    except ImportError:  # matplotlib is the optional bench extra
        return
    assert (tmp_path / "b.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
