"""`inferstack policy check --program`: any Pulumi program, policy settings from --config, JSON and SARIF reports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROGRAM = Path(__file__).resolve().parents[1] / "programs" / "secret_program.py"
CONFIG = """config:
  aws:region: eu-west-1
  app:token: {secure: v1:abc}
  inferstack:cloud: aws
  inferstack:environment: prod
  inferstack:residency: {allowedRegions: [eu-west-1]}
"""


def test_program_mode_reports_findings_with_source_lines(tmp_path: Path) -> None:
    cfg = tmp_path / "Pulumi.team.yaml"
    cfg.write_text(CONFIG)
    cmd = [sys.executable, "-m", "inferstack", "policy", "check", "--config", str(cfg), "--program", str(PROGRAM),
           "--json", str(tmp_path / "r.json"), "--sarif", str(tmp_path / "r.sarif")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    policies = sorted(f["policy"] for f in report["findings"] if f["enforcementLevel"] == "mandatory")
    # The bucket has no SSE-KMS resource; the SSM parameter sits on a provider in eu-central-1.
    assert "s3-bucket-sse-kms" in policies and "region-residency" in policies
    sarif = json.loads((tmp_path / "r.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    locations = [r["locations"][0]["physicalLocation"] for r in sarif["runs"][0]["results"] if r.get("locations")]
    assert {"artifactLocation": {"uri": "tests/programs/secret_program.py"}, "region": {"startLine": 10}} in locations
