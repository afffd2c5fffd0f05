"""PNG chart of cost per tier mix: each model's monthly share and USD per 1M requests under every mix.

matplotlib is imported only here, when a chart is asked for (``inferstack cost --chart``), so ``--help`` and the
other commands never load it. It is pinned in the ``all`` extra (``make install``).
"""

from __future__ import annotations

from pathlib import Path

from inferstack.cost.per_inference import PerInference
from inferstack.cost.tiers import MIXES


class ChartUnavailable(RuntimeError):
    """matplotlib is not installed."""


def write_chart(report: PerInference, path: str | Path) -> Path:
    """Two bar charts side by side, one bar per tier mix for each model: monthly USD, and USD per 1M requests (models
    with a requests measurement). Writes ``path`` (PNG) and returns it."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:  # pragma: no cover - matplotlib is in the all extra
        raise ChartUnavailable("--chart needs matplotlib: pip install 'inferstack[all]'") from err

    models = report.models
    labels = [f"{m.namespace}/{m.model}" for m in models]
    priced = [m for m in models if "requests" in m.mix(MIXES[1]).usd_per_million]
    fig, (left, right) = plt.subplots(1, 2, figsize=(max(8.0, 1.6 * len(models) + 4), 4.8), layout="constrained")
    width = 0.8 / len(MIXES)
    for i, mix in enumerate(MIXES):
        xs = [j + (i - (len(MIXES) - 1) / 2) * width for j in range(len(models))]
        left.bar(xs, [m.mix(mix).monthly_usd for m in models], width, label=mix)
        xr = [j + (i - (len(MIXES) - 1) / 2) * width for j in range(len(priced))]
        right.bar(xr, [m.mix(mix).usd_per_million["requests"] for m in priced], width, label=mix)
    left.set_xticks(range(len(models)), labels, rotation=30, ha="right")
    left.set_ylabel("USD per month (model's share)")
    left.set_title("Monthly cost per tier mix")
    left.legend()
    right.set_xticks(range(len(priced)), [f"{m.namespace}/{m.model}" for m in priced], rotation=30, ha="right")
    right.set_ylabel("USD per 1M requests (full measured throughput)")
    right.set_title("Cost per 1M requests per tier mix")
    fig.suptitle(f"inferstack cost: stack {report.stack} ({report.cloud}, {report.region})")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", dpi=100)
    plt.close(fig)
    return out
