"""SageMaker notebook instances give their users no root access (FSBP SageMaker.3; #25): every type with a
``root_access`` input (family aws-notebook-root-access, by predicate over the SDK) is judged; unset is the API's
default, Enabled. Fixtures both ways through the harness of tests/policies/test_rules.py."""

from __future__ import annotations

from inferstack.engine import UNKNOWN
from inferstack.policies.families import members
from tests.policies.test_rules import DELETE, KEY, Case, _findings, case_tests, one

NOTEBOOK = "aws:sagemaker/notebookInstance:NotebookInstance"
#: A notebook following FSBP SageMaker.1-3 in full: no direct internet access, in a VPC subnet, a CMK, no root.
PROPS = {"name": "ml-notebook", "instanceType": "ml.t3.medium", "region": "eu-west-1",
         "roleArn": "arn:aws:iam::111122223333:role/notebook", "subnetId": "subnet-0123456789abcdef0",
         "securityGroups": ["sg-0123456789abcdef0"], "directInternetAccess": "Disabled", "kmsKeyId": KEY,
         "rootAccess": "Disabled"}

CASES = [
    Case("notebook-root-access-enabled", "aws-notebook-no-root-access", one(NOTEBOOK, PROPS), (0, "props", "rootAccess"),
         "Enabled"),
    Case("notebook-root-access-unset", "aws-notebook-no-root-access", one(NOTEBOOK, PROPS), (0, "props", "rootAccess"),
         DELETE),
]

test_compliant_fixture_passes, test_one_field_change_violates = case_tests(CASES)


def test_root_access_family_is_found_by_predicate() -> None:
    assert members("aws-notebook-root-access")[NOTEBOOK] == ("root_access",)


def test_root_access_unknown_at_preview_is_not_evaluated() -> None:
    found = _findings(one(NOTEBOOK, {**PROPS, "rootAccess": UNKNOWN}), "aws-notebook-no-root-access")
    assert [(f.enforcement_level, f.not_evaluated) for f in found] == [("advisory", True)], found
