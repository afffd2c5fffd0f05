"""The policy catalogue: benchmark metadata on every entry, pulumi-policy's own metadata, ``policy list``, the docs table."""

from __future__ import annotations

import json
import re

import pytest
from pulumi_policy import ResourceValidationPolicy, Severity, StackValidationPolicy

from inferstack.cli import main
from inferstack.config import Environment
from inferstack.engine import REPO_ROOT
from inferstack.policies import pack
from inferstack.policies.entry import CLOUDS, MANDATORY, PolicyEntry, framework_of

DOCS = REPO_ROOT / "docs" / "policies.md"
MODULE_OF = {e.name: m.__name__.rsplit(".", 1)[-1] for m in pack.RULE_MODULES for e in m.ENTRIES}
#: Rule modules another engineer is rewriting: their controls arrive with that change.
CONTROLS_PENDING = {"rbac"}
CONTROL = re.compile(r"^(CIS (EKS|GKE|AWS|GCP|Kubernetes) [\d.]+|FSBP [A-Za-z0-9]+\.\d+|PSS( baseline| restricted)?: [\w ./()-]+"
                     r"|NIST 800-53 [A-Z]{2}-\d+(\(\d+\))?|OWASP Kubernetes Top 10: K(0[1-9]|10)"
                     r"|NSA-CISA Kubernetes Hardening: [\w ./()-]+|Kubernetes AI Conformance: [a-z_]+)$")


@pytest.mark.parametrize("entry", pack.ENTRIES, ids=lambda e: e.name)
def test_every_entry_carries_benchmark_metadata(entry: PolicyEntry) -> None:
    assert entry.clouds and entry.clouds <= CLOUDS
    if not entry.controls and MODULE_OF[entry.name] in CONTROLS_PENDING:
        pytest.skip(f"{entry.name}: controls pending in policies/rules/{MODULE_OF[entry.name]}.py")
    assert entry.controls, f"{entry.name}: name the benchmark controls it enforces"
    assert all(CONTROL.match(c) for c in entry.controls), entry.controls
    p = entry.policy
    assert isinstance(p.severity, Severity)
    assert p.framework is not None and p.framework.name and p.framework.reference
    assert set(p.tags) >= set(entry.clouds) | set(entry.controls)
    assert p.description and p.remediation_steps


def test_framework_and_clouds_inference() -> None:
    assert (framework_of("CIS EKS 5.4.2").name, framework_of("CIS EKS 5.4.2").reference) == ("CIS EKS", "5.4.2")
    assert (framework_of("PSS baseline: hostPath").name, framework_of("PSS baseline: hostPath").reference) == (
        "PSS baseline", "hostPath")
    rp = ResourceValidationPolicy(name="x", description="x", validate=lambda a, r: None)
    e = PolicyEntry(rp, MANDATORY, types=("aws:s3/bucket:Bucket", "kubernetes:"), controls=("FSBP S3.2",), severity="critical")
    assert e.clouds == {"aws", "kubernetes"} and rp.severity is Severity.CRITICAL and rp.framework.name == "FSBP"
    sp = StackValidationPolicy(name="y", description="y", validate=lambda a, r: None)
    with pytest.raises(ValueError, match="clouds"):
        PolicyEntry(sp, MANDATORY)
    with pytest.raises(ValueError, match="unknown clouds"):
        PolicyEntry(sp, MANDATORY, clouds=frozenset({"azure"}))


def test_policy_list_formats(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "list", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == pack.POLICY_NAMES
    for r in rows:
        assert set(r) >= {"id", "description", "clouds", "controls", "severity", "levels", "remediation"}
        assert r["levels"] == {env.value: pack.default_level(r["id"], env) for env in Environment}
    assert main(["policy", "list"]) == 0
    text = capsys.readouterr().out
    assert all(name in text for name in pack.POLICY_NAMES) and f"{len(rows)} policies" in text
    assert main(["policy", "list", "--format", "markdown"]) == 0
    assert capsys.readouterr().out == pack.catalogue_markdown()


def test_docs_rule_table_is_generated_from_the_catalogue() -> None:
    text = DOCS.read_text()
    m = re.search(r"<!-- policy-table:start -->\n(.*?)<!-- policy-table:end -->", text, re.S)
    assert m, "docs/policies.md lost its generated table markers"
    assert m.group(1) == pack.catalogue_markdown(), (
        "docs/policies.md drifted: regenerate the table with `inferstack policy list --format markdown`")
