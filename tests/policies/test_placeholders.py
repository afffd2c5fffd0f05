"""A value the offline engine made up for a data-source lookup (a placeholder) is a value the offline run could not
know: every rule sees it as unknown (``policy_props``), so it reports "not evaluated" (advisory; mandatory only with
``--strict``), never a violation of, or compliance with, the made-up value."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from inferstack.engine import run_program
from inferstack.engine.wire import UNKNOWN_SENTINEL
from inferstack.policies.evaluate import evaluate, placeholder_strings, policy_props, strict

CONFIG = {"gcp:project": "acme-ml", "gcp:region": "europe-west4"}
OWNER = json.dumps({"bindings": [{"role": "roles/owner", "members": ["serviceAccount:app@acme-ml.iam.gserviceaccount.com"]}]})
PROGRAM = f"""
import pulumi_gcp as gcp

doc = gcp.secretmanager.get_secret_version(secret="iam-doc")
gcp.projects.IAMPolicy("from-lookup", project="acme-ml", policy_data=doc.secret_data)
gcp.projects.IAMMember("derived-member", project="acme-ml", role="roles/logging.viewer",
                       member="user:" + doc.secret_data + "@example.com")
gcp.projects.IAMPolicy("literal-owner", project="acme-ml", policy_data={OWNER!r})
"""


def _findings(tmp_path: Path):
    program = tmp_path / "__main__.py"
    program.write_text(textwrap.dedent(PROGRAM))
    rec = run_program("dev", CONFIG, region="europe-west4", project="acme-ml", program=program, pulumi_project="ph")
    assert placeholder_strings(rec), "the lookup must be answered with placeholders for this test to mean anything"
    return rec, evaluate(rec, {})


def test_a_placeholder_policy_document_is_not_evaluated_never_a_violation(tmp_path: Path) -> None:
    _, findings = _findings(tmp_path)
    looked_up = [f for f in findings if f.name == "from-lookup"]
    assert looked_up, "the IAM rules must say they could not evaluate the looked-up document"
    assert {(f.enforcement_level, f.not_evaluated) for f in looked_up} == {("advisory", True)}, \
        [(f.policy, f.enforcement_level, f.message) for f in looked_up]
    assert not any("not a JSON IAM policy document" in f.message for f in findings)
    # a value built from a placeholder is unknown too (not a known, harmless user:placeholder-... member)
    derived = [f for f in findings if f.name == "derived-member"]
    assert derived and {(f.enforcement_level, f.not_evaluated) for f in derived} == {("advisory", True)}
    # a literal document with a basic role is still a mandatory finding
    literal = {(f.policy, f.enforcement_level) for f in findings if f.name == "literal-owner"}
    assert ("gcp-iam-no-basic-roles", "mandatory") in literal, literal


def test_strict_makes_the_placeholder_findings_mandatory(tmp_path: Path) -> None:
    _, findings = _findings(tmp_path)
    looked_up = [f for f in strict(findings) if f.name == "from-lookup"]
    assert looked_up and {f.enforcement_level for f in looked_up} == {"mandatory"}


def test_policy_props_turns_placeholders_and_strings_built_from_them_into_unknowns() -> None:
    ph = frozenset({"placeholder-secret-data-1234abcd"})
    value = {"a": "placeholder-secret-data-1234abcd", "b": ["arn:x:placeholder-secret-data-1234abcd/y"],
             "c": "placeholder-of-the-program-itself", "d": 0, "e": "plain"}
    assert policy_props(value, ph) == {"a": UNKNOWN_SENTINEL, "b": [UNKNOWN_SENTINEL],
                                       "c": "placeholder-of-the-program-itself", "d": 0, "e": "plain"}
    assert policy_props(value) == value  # no lookup answered with placeholders: nothing changes
