"""`inferstack policy check --program`: any Pulumi program, policy settings from --config, JSON and SARIF reports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

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


# --- settings from a policy-pack config file (`--policy-config`), no inferstack keys in the program's stack file ---

TEAM_CONFIG = """config:
  aws:region: eu-west-1
  app:token: {secure: v1:abc}
"""
PACK_CONFIG = {"region-residency": {"enforcementLevel": "mandatory", "allowedRegions": ["eu-west-1"]}}


def run_check(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inferstack", "policy", "check", *args], capture_output=True, text=True,
                          cwd=cwd)


def team_files(tmp_path: Path, pack: object = PACK_CONFIG, config: str = TEAM_CONFIG) -> tuple[Path, Path]:
    cfg, pack_file = tmp_path / "Pulumi.team.yaml", tmp_path / "policy.json"
    cfg.write_text(config)
    pack_file.write_text(pack if isinstance(pack, str) else json.dumps(pack))
    return cfg, pack_file


@pytest.mark.parametrize(("pack", "extra", "says"), [
    ("{\"region-residency\": ", [], "policy.json: not JSON (line 1"),
    ({"region-residensy": {}}, [], "region-residensy: not a policy of the inferstack pack; did you mean region-residency"),
    ({"s3-tls-only": "mandatory"}, ["--environment", "dev"], "region-residency.allowedRegions: required"),
    (PACK_CONFIG, [], "--environment: required when the policy config names no environment"),
    ({**PACK_CONFIG, "cloudwatch-logs-retention": {"environment": "prod"}}, ["--environment", "dev"],
     "cloudwatch-logs-retention.environment: 'prod' here but --environment dev"),
    ({**PACK_CONFIG, "no-public-load-balancers": {"allowPublicLoadBalancers": "yes"}}, ["--environment", "dev"],
     "no-public-load-balancers.allowPublicLoadBalancers: expected a boolean"),
])
def test_bad_policy_config_is_one_error_line(tmp_path: Path, pack: object, extra: list[str], says: str) -> None:
    cfg, pack_file = team_files(tmp_path, pack)
    out = tmp_path / "out"
    proc = run_check("--program", str(PROGRAM), "--config", str(cfg), "--policy-config", str(pack_file), *extra,
                     "--json", str(out / "r.json"), "--sarif", str(out / "r.sarif"))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], proc.stderr
    assert not out.exists()  # nothing written


@pytest.mark.parametrize(("args", "says"), [
    (["--stack", "dev", "--policy-config", "x.json"], "--policy-config needs --program"),
    (["--program", str(PROGRAM), "--config", "F", "--environment", "dev"], "--environment needs --policy-config"),
    (["--stack", "dev", "--environment", "prod"], "--environment needs --policy-config"),
])
def test_policy_config_flags_need_program_mode(tmp_path: Path, args: list[str], says: str) -> None:
    proc = run_check(*args, cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 2 and says in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_settings_from_the_policy_config_not_the_stack_file(tmp_path: Path) -> None:
    """A stack file with no inferstack key is judged with the pack config's residency and the environment's levels."""
    cfg, pack_file = team_files(tmp_path)
    proc = run_check("--program", str(PROGRAM), "--config", str(cfg), "--policy-config", str(pack_file),
                     "--environment", "prod", "--json", str(tmp_path / "r.json"), "--sarif", str(tmp_path / "r.sarif"))
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "inferstack:" not in proc.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    mandatory = {f["policy"] for f in report["findings"] if f["enforcementLevel"] == "mandatory"}
    # The SSM parameter's provider is in eu-central-1, outside the file's allowed regions.
    assert {"s3-bucket-sse-kms", "region-residency"} <= mandatory
    assert json.loads((tmp_path / "r.sarif").read_text())["version"] == "2.1.0"
    # The same file with eu-central-1 allowed: no residency finding; dev levels make the encryption rules no softer.
    allowed = {"region-residency": {"enforcementLevel": "mandatory", "allowedRegions": ["eu-west-1", "eu-central-1"]}}
    cfg, pack_file = team_files(tmp_path, allowed)
    proc = run_check("--program", str(PROGRAM), "--config", str(cfg), "--policy-config", str(pack_file),
                     "--environment", "dev", "--json", str(tmp_path / "r2.json"))
    report = json.loads((tmp_path / "r2.json").read_text())
    assert "region-residency" not in {f["policy"] for f in report["findings"]}
    assert "s3-bucket-sse-kms" in {f["policy"] for f in report["findings"] if f["enforcementLevel"] == "mandatory"}


def test_region_from_the_policy_config_when_the_stack_file_has_none(tmp_path: Path) -> None:
    cfg, pack_file = team_files(tmp_path, config="config:\n  app:token: {secure: v1:abc}\n")
    proc = run_check("--program", str(PROGRAM), "--config", str(cfg), "--policy-config", str(pack_file),
                     "--environment", "dev")
    assert proc.returncode == 1, proc.stderr
    assert "sets no aws:region / gcp:region; running the program in eu-west-1" in proc.stderr


def test_settings_without_a_level_are_warned(tmp_path: Path) -> None:
    cfg, pack_file = team_files(tmp_path, {"region-residency": {"allowedRegions": ["eu-west-1", "eu-central-1"]}})
    proc = run_check("--program", str(PROGRAM), "--config", str(cfg), "--policy-config", str(pack_file),
                     "--environment", "prod")
    assert "warning: --policy-config" in proc.stderr and "region-residency has settings but no enforcementLevel" in proc.stderr


def test_generated_pack_config_judges_a_program_like_its_stack(tmp_path: Path) -> None:
    """policies/config/prod.json (what `pulumi preview --policy-pack-config` gets) gives the program the same findings
    as the stack file carrying prod's inferstack keys."""
    repo = Path(__file__).resolve().parents[2]
    cfg = tmp_path / "Pulumi.team.yaml"
    cfg.write_text(CONFIG)
    proc = run_check("--program", str(PROGRAM), "--config", str(cfg), "--json", str(tmp_path / "a.json"))
    plain = json.loads((tmp_path / "a.json").read_text())
    team, _ = team_files(tmp_path)
    prod = json.loads((repo / "policies" / "config" / "prod.json").read_text())
    prod["region-residency"]["allowedRegions"] = prod["replica-residency"]["allowedRegions"] = ["eu-west-1"]
    (tmp_path / "prod.json").write_text(json.dumps(prod))
    proc = run_check("--program", str(PROGRAM), "--config", str(team), "--policy-config", str(tmp_path / "prod.json"),
                     "--json", str(tmp_path / "b.json"))
    assert proc.returncode == 1, proc.stderr
    assert json.loads((tmp_path / "b.json").read_text())["findings"] == plain["findings"]
