"""`inferstack preview` end to end on every reference stack: JSON report shape, text tree, exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inferstack.cli import main
from tests.conftest import REFERENCE_STACKS


@pytest.mark.parametrize("name", REFERENCE_STACKS)
def test_preview_json(name: str, tmp_path: Path) -> None:
    out = tmp_path / "preview.json"
    code = main(["preview", "--stack", name, "--format", "json", "--out", str(out)])
    report = json.loads(out.read_text())
    assert code == 0, report["findings"]
    assert report["stack"] == name
    assert report["resources"], "the program declared resources"
    for r in report["resources"]:
        assert {"urn", "type", "name", "parent", "provider", "protect", "inputs"} <= set(r)
        assert r["urn"].endswith(f"::{r['name']}")
    mandatory = [f for f in report["findings"] if f["enforcementLevel"] == "mandatory"]
    assert mandatory == []
    assert report["summary"]["resources"] == len(report["resources"])
    assert sum(report["summary"]["byType"].values()) == len(report["resources"])
    cluster_type = "aws:eks/cluster:Cluster" if report["cloud"] == "aws" else "gcp:container/cluster:Cluster"
    assert report["summary"]["byType"][cluster_type] == 1


def test_preview_text_tree_via_config_file(capsys: pytest.CaptureFixture[str]) -> None:
    stack_file = Path(__file__).resolve().parents[2] / "stacks" / "Pulumi.gcp-dev.yaml"
    assert main(["preview", "--config", str(stack_file)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Previewing stack gcp-dev (gcp, dev, europe-west4) offline")
    assert " +   pulumi:pulumi:Stack" in text and "inferstack-gcp-dev" in text  # <project>-<stack>
    assert "└─ " in text and "gcp:container/cluster:Cluster" in text
    assert "Resources:\n    + " in text and "By type:" in text and "Policy findings:" in text


def test_preview_reports_policy_findings_and_exits_1(tmp_path: Path) -> None:
    import yaml

    stack_file = Path(__file__).resolve().parents[2] / "stacks" / "Pulumi.prod.yaml"
    doc = yaml.safe_load(stack_file.read_text())
    # Config allows a spot-only pool; the policy pack forbids it in prod (mandatory). inf2 is prod's pool without a
    # capacity ladder (a ladder replaces capacity).
    (inf2,) = [p for p in doc["config"]["inferstack:acceleratorPools"] if p["name"] == "inf2"]
    inf2["capacity"] = "spot-only"
    inf2["onDemandBaseline"] = 0
    bad = tmp_path / "Pulumi.prod.yaml"
    bad.write_text(yaml.safe_dump(doc))
    out = tmp_path / "r.json"
    assert main(["preview", "--config", str(bad), "--format", "json", "--out", str(out)]) == 1
    report = json.loads(out.read_text())
    mandatory = [f for f in report["findings"] if f["enforcementLevel"] == "mandatory"]
    assert [f["policy"] for f in mandatory] == ["prod-accelerators-not-spot-only"]
    assert report["summary"]["findings"]["mandatory"] == 1
    assert all(f["resource"] is None or f["resource"]["urn"] for f in mandatory)


def test_a_warning_is_printed_once_and_a_programs_own_warnings_are_shown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from inferstack.cli import main
    from tests.conftest import stack_path

    # a region newer than the catalogue: the config warning (printed by the CLI, logged by the program) shows once
    text = stack_path("dev").read_text().replace("eu-central-1", "ap-east-9").replace("    availabilityZones: 2\n", "    zones: [ap-east-9a, ap-east-9b]\n")
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(text)
    assert main(["preview", "--config", str(path), "--format", "json"]) == 0
    err = capsys.readouterr().err
    assert err.count("region ap-east-9 is not in the zone catalogue") == 1 and err.startswith("warning: aws:region: "), err
    # a program's own pulumi.log.warn reaches stderr as `pulumi preview` shows it
    program = tmp_path / "__main__.py"
    program.write_text("import pulumi\npulumi.log.warn('rotate the demo key')\n")
    config = tmp_path / "Pulumi.own.yaml"
    config.write_text("config:\n  aws:region: eu-central-1\n  inferstack:cloud: aws\n  inferstack:environment: dev\n"
                      "  inferstack:residency:\n    allowedRegions: [eu-central-1]\n")
    assert main(["preview", "--program", str(program), "--config", str(config), "--format", "json"]) == 0
    assert "warning: rotate the demo key\n" in capsys.readouterr().err
