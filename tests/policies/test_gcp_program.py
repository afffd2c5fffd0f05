"""End to end: `inferstack policy check --program` over a GCP data-platform program (tests/programs/gcp_data_platform.py).

Each violating resource sits on a line marked ``# violation: <policy>``; the report must name exactly those policies
on exactly those lines (SARIF locations), mandatory in prod, and nothing on the compliant resources.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

PROGRAM = Path(__file__).resolve().parents[1] / "programs" / "gcp_data_platform.py"
CONFIG = """config:
  gcp:project: p
  gcp:region: europe-west4
  inferstack:cloud: gcp
  inferstack:environment: prod
  inferstack:residency: {allowedRegions: [europe-west4]}
"""


def markers() -> set[tuple[str, int]]:
    out = set()
    for n, line in enumerate(PROGRAM.read_text().splitlines(), 1):
        m = re.search(r"# violation: ([\w-]+)", line)
        if m:
            out.add((m.group(1), n))
    return out


def test_gcp_program_violations_are_found_on_their_lines_and_nothing_else(tmp_path: Path) -> None:
    cfg = tmp_path / "Pulumi.team.yaml"
    cfg.write_text(CONFIG)
    cmd = [sys.executable, "-m", "inferstack", "policy", "check", "--config", str(cfg), "--program", str(PROGRAM),
           "--json", str(tmp_path / "r.json"), "--sarif", str(tmp_path / "r.sarif")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    findings = json.loads((tmp_path / "r.json").read_text())["findings"]
    assert {f["enforcementLevel"] for f in findings} == {"mandatory"}, findings
    sarif = json.loads((tmp_path / "r.sarif").read_text())
    found = {(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
             for r in sarif["runs"][0]["results"] if r.get("locations")}
    expected = markers()
    assert len(expected) == 8
    assert found == expected, (sorted(found - expected), sorted(expected - found))
