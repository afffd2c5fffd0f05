"""The IAM policy-document readers both IAM rule modules share (policies/rules/common.py)."""

from __future__ import annotations

import json

from inferstack.policies.rules.common import IAM_ROLE, document_statements, identity_documents


def test_statements_are_numbered_or_named_and_non_objects_skipped():
    doc = {"Statement": [{"Sid": "Read", "Effect": "Allow"}, "junk", {"Effect": "Deny"}]}
    assert document_statements(json.dumps(doc)) == [("Read", {"Sid": "Read", "Effect": "Allow"}), ("2", {"Effect": "Deny"})]
    # a single statement object counts as a list of one
    assert document_statements({"Statement": {"Effect": "Allow"}}) == [("0", {"Effect": "Allow"})]


def test_unknown_or_non_json_documents_give_none():
    assert document_statements(None) is None
    assert document_statements("not json") is None
    assert document_statements("[1, 2]") is None


def test_identity_documents_of_roles_and_policy_resources():
    role = {"inlinePolicies": [{"name": "s3", "policy": "{}"}, {"name": "kms", "policy": "{}"}]}
    assert identity_documents(IAM_ROLE, role) == [("inline policy s3", "{}"), ("inline policy kms", "{}")]
    assert identity_documents(IAM_ROLE, {}) == []
    assert identity_documents("aws:iam/rolePolicy:RolePolicy", {"policy": "{}"}) == [("policy", "{}")]
    assert identity_documents("aws:kms/key:Key", {"policy": "{}"}) == []  # key policies are not identity policies
