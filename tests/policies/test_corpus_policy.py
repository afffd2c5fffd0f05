"""Every program shape of the corpus (tests/programs/corpus/<shape>) is judged with the pack's settings from a policy
config file, as a team's CI would run it: `policy check --program --config --policy-config --environment`, no
inferstack: key in the stack files; exit 0 or 1 (findings), never 2 or 3, with a valid JSON report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

CORPUS = Path(__file__).resolve().parents[1] / "programs" / "corpus"
SHAPES = sorted(p.name for p in CORPUS.iterdir() if (p / "Pulumi.yaml").is_file()) if CORPUS.is_dir() else []
REPO = Path(__file__).resolve().parents[2]


def test_there_is_a_corpus() -> None:
    assert len(SHAPES) >= 10, SHAPES


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("environment", ["prod"])
def test_shape_is_judged_with_the_policy_config(shape: str, environment: str, tmp_path: Path) -> None:
    d = CORPUS / shape
    config = yaml.safe_load((d / "Pulumi.dev.yaml").read_text())["config"]
    assert not [k for k in config if str(k).startswith("inferstack:")], "a team's stack file has no inferstack: keys"
    # The generated prod pack config (what `pulumi preview --policy-pack-config` would get), residency widened to
    # the regions the program names so the verdicts are about the rest.
    pack = json.loads((REPO / "policies" / "config" / "prod.json").read_text())
    regions = [v for k, v in config.items() if k in ("aws:region", "gcp:region")] or ["eu-west-1"]
    pack["region-residency"]["allowedRegions"] = pack["replica-residency"]["allowedRegions"] = regions
    (tmp_path / "policy.json").write_text(json.dumps(pack))
    proc = subprocess.run(
        [sys.executable, "-m", "inferstack", "policy", "check", "--program", str(d / "__main__.py"),
         "--config", str(d / "Pulumi.dev.yaml"), "--policy-config", str(tmp_path / "policy.json"),
         "--environment", environment, "--json", str(tmp_path / "r.json"), "--sarif", str(tmp_path / "r.sarif")],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode in (0, 1), f"exit {proc.returncode}: {proc.stderr}"
    assert "Traceback" not in proc.stderr and "error:" not in proc.stderr, proc.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    mandatory = report["summary"]["findings"]["mandatory"]
    assert proc.returncode == (1 if mandatory else 0)
    assert json.loads((tmp_path / "r.sarif").read_text())["version"] == "2.1.0"
    for f in report["findings"]:  # grouped: one per policy and resource
        assert f["message"] and (f.get("problems") or f.get("notEvaluated") or f["resource"] is None), f
