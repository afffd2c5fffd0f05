"""``gcp.organizations.get_iam_policy`` is computed by the provider from its arguments alone (no API call): the offline
engine answers its ``policy_data`` with the same JSON document, so an ``IAMPolicy`` built from it is judged on the
bindings it really grants (a basic role is a mandatory finding, a predefined role none), never on a placeholder."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from inferstack.engine import run_program
from inferstack.policies.evaluate import evaluate

CONFIG = {"gcp:project": "acme-ml", "gcp:region": "europe-west4"}
TOKEN = "gcp:organizations/getIAMPolicy:getIAMPolicy"
PROGRAM = """
import pulumi
import pulumi_gcp as gcp

editor = gcp.organizations.get_iam_policy(
    bindings=[{"role": "roles/editor", "members": ["user:bob@example.com", "group:a@example.com"]},
              {"role": "roles/browser", "members": ["user:c@example.com"],
               "condition": {"title": "t", "expression": "request.time < timestamp('2030-01-01T00:00:00Z')"}}],
    audit_configs=[{"service": "allServices", "audit_log_configs": [{"log_type": "DATA_READ",
                                                                    "exempted_members": ["user:bob@example.com"]}]}])
gcp.projects.IAMPolicy("editor", project="acme-ml", policy_data=editor.policy_data)
viewer = gcp.organizations.get_iam_policy(bindings=[gcp.organizations.GetIAMPolicyBindingArgs(
    role="roles/logging.viewer", members=["group:sre@example.com"])])
gcp.projects.IAMPolicy("viewer", project="acme-ml", policy_data=viewer.policy_data)
pulumi.export("viewerId", viewer.id)
"""


def _run(tmp_path: Path):
    program = tmp_path / "__main__.py"
    program.write_text(textwrap.dedent(PROGRAM))
    return run_program("dev", CONFIG, region="europe-west4", project="acme-ml", program=program, pulumi_project="iam")


def test_policy_data_is_the_document_of_the_arguments(tmp_path: Path) -> None:
    rec = _run(tmp_path)
    doc = json.loads(rec.find("gcp:projects/iAMPolicy:IAMPolicy", "editor").inputs["policyData"])
    assert doc == {
        "auditConfigs": [{"auditLogConfigs": [{"exemptedMembers": ["user:bob@example.com"], "logType": "DATA_READ"}],
                          "service": "allServices"}],
        "bindings": [
            {"condition": {"expression": "request.time < timestamp('2030-01-01T00:00:00Z')", "title": "t"},
             "members": ["user:c@example.com"], "role": "roles/browser"},
            {"members": ["group:a@example.com", "user:bob@example.com"], "role": "roles/editor"},
        ],
    }
    viewer = rec.find("gcp:projects/iAMPolicy:IAMPolicy", "viewer").inputs["policyData"]
    assert json.loads(viewer) == {"bindings": [{"members": ["group:sre@example.com"], "role": "roles/logging.viewer"}]}
    lookups = [x for x in rec.lookups if x.token == TOKEN]
    assert len(lookups) == 2 and all(not x.placeholders and "policyData" in x.supplied for x in lookups)
    assert rec.placeholder_count == 0
    assert rec.outputs["viewerId"].isdigit()


def test_iam_policy_from_the_lookup_is_judged_on_its_bindings(tmp_path: Path) -> None:
    rec = _run(tmp_path)
    findings = evaluate(rec, {})
    by_name = {}
    for f in findings:
        by_name.setdefault(f.name, []).append(f)
    editor = {(f.policy, f.enforcement_level, f.not_evaluated) for f in by_name.get("editor", [])}
    assert ("gcp-iam-no-basic-roles", "mandatory", False) in editor, editor
    assert ("gcp-audit-config-complete", "mandatory", False) in editor, editor  # the exempted member
    assert by_name.get("viewer", []) == [], [f.message for f in by_name["viewer"]]
