"""GCP IAM grants at every level, public ACLs, user-managed keys, audit configs and API keys: a compliant fixture
passes and one changed field violates (harness of tests/policies/test_rules.py; ``policyData`` is sent as JSON text,
as a program sends it)."""

from __future__ import annotations

import json
from typing import Any

from inferstack.engine import UNKNOWN
from inferstack.policies import families
from inferstack.policies.evaluate import evaluate
from inferstack.policies.rules import gcp_iam
from tests.policies import test_rules as harness
from tests.policies.test_rules import DELETE, Case, case_tests, one

GROUP = "group:ml-platform@example.com"
SA = "serviceAccount:inference@p.iam.gserviceaccount.com"
PM = "gcp:projects/iAMMember:IAMMember"
PB = "gcp:projects/iAMBinding:IAMBinding"
PP = "gcp:projects/iAMPolicy:IAMPolicy"
FOLDER_B = "gcp:folder/iAMBinding:IAMBinding"
ORG_M = "gcp:organizations/iAMMember:IAMMember"
ORG_P = "gcp:organizations/iAMPolicy:IAMPolicy"
CONDITION = {"title": "office-hours", "expression": "request.time.getHours('Europe/Berlin') < 18"}
MEMBER = {"project": "p", "role": "roles/container.developer", "member": GROUP}
BINDING = {"project": "p", "role": "roles/container.developer", "members": [GROUP, SA]}
AUDIT = [{"logType": "ADMIN_READ"}, {"logType": "DATA_READ"}, {"logType": "DATA_WRITE"}]
POLICY = {"bindings": [{"role": "roles/container.developer", "members": [GROUP]},
                       {"role": "roles/storage.objectViewer", "members": [SA]}],
          "auditConfigs": [{"service": "allServices", "auditLogConfigs": AUDIT}]}
M = (0, "props", "member")
ROLE = (0, "props", "role")
MEMBERS = (0, "props", "members")
PD = (0, "props", "policyData")

#: Resource-level member types the public-member rule must judge (buckets, KMS, secrets, repositories, service
#: accounts, topics, Cloud Run, datasets) with the input naming their resource.
RESOURCE_MEMBERS = {
    "gcp:storage/bucketIAMMember:BucketIAMMember": {"bucket": "models"},
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": {"cryptoKeyId": "projects/p/locations/europe-west4/keyRings/k/cryptoKeys/d"},
    "gcp:kms/keyRingIAMBinding:KeyRingIAMBinding": {"keyRingId": "projects/p/locations/europe-west4/keyRings/k"},
    "gcp:secretmanager/secretIamMember:SecretIamMember": {"secretId": "hf-token"},
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": {"repository": "images", "location": "europe-west4"},
    "gcp:serviceaccount/iAMMember:IAMMember": {"serviceAccountId": "projects/p/serviceAccounts/inference@p.iam.gserviceaccount.com"},
    "gcp:pubsub/topicIAMMember:TopicIAMMember": {"topic": "events"},
    "gcp:cloudrunv2/serviceIamMember:ServiceIamMember": {"name": "api", "location": "europe-west4"},
    "gcp:bigquery/datasetIamMember:DatasetIamMember": {"datasetId": "features"},
}


def _grant(token: str, **extra: Any) -> dict[str, Any]:
    kind = gcp_iam.grant_kind(token)
    base = {"role": "roles/secretmanager.secretAccessor"}
    base.update({"members": [GROUP]} if kind == "binding" else {"member": GROUP})
    return {**base, **extra}


CASES = [
    # ------------------------------------------------------------ public members, any level, any grant type
    Case("gcp-public-project-member", "gcp-iam-no-public-members", one(PM, MEMBER), M, "allUsers"),
    Case("gcp-public-project-binding", "gcp-iam-no-public-members", one(PB, BINDING), MEMBERS, [GROUP, "allAuthenticatedUsers"]),
    Case("gcp-public-conditioned-binding", "gcp-iam-no-public-members", one(PB, {**BINDING, "condition": CONDITION}),
         MEMBERS, ["allUsers"]),
    Case("gcp-public-folder-binding", "gcp-iam-no-public-members", one(FOLDER_B, {**BINDING, "folder": "folders/1"}),
         (0, "props", "members", 1), "allUsers"),
    Case("gcp-public-org-member", "gcp-iam-no-public-members", one(ORG_M, {**MEMBER, "orgId": "123"}), M, "allAuthenticatedUsers"),
    Case("gcp-public-policy-document", "gcp-iam-no-public-members", one(PP, {"project": "p", "policyData": POLICY}),
         (0, "props", "policyData", "bindings", 1, "members", 0), "allUsers"),
    *[Case(f"gcp-public-{t.split(':')[1].replace('/', '-')}", "gcp-iam-no-public-members", one(t, _grant(t, **ref)),
           MEMBERS if gcp_iam.grant_kind(t) == "binding" else M,
           ["allUsers"] if gcp_iam.grant_kind(t) == "binding" else "allUsers")
      for t, ref in RESOURCE_MEMBERS.items()],
    Case("gcp-public-bucket-acl", "gcp-iam-no-public-members",
         one("gcp:storage/bucketAccessControl:BucketAccessControl", {"bucket": "models", "entity": GROUP.replace(":", "-"), "role": "READER"}),
         (0, "props", "entity"), "allUsers"),
    Case("gcp-public-object-acl-list", "gcp-iam-no-public-members",
         one("gcp:storage/objectACL:ObjectACL", {"bucket": "models", "object": "m.bin", "roleEntities": ["READER:group-ml@example.com"]}),
         (0, "props", "roleEntities", 0), "READER:allUsers"),
    Case("gcp-public-default-object-acl", "gcp-iam-no-public-members",
         one("gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl", {"bucket": "models", "entity": "project-owners-1", "role": "OWNER"}),
         (0, "props", "entity"), "allAuthenticatedUsers"),
    Case("gcp-public-dataset-access", "gcp-iam-no-public-members",
         one("gcp:bigquery/datasetAccess:DatasetAccess", {"datasetId": "features", "role": "READER", "groupByEmail": "ml@example.com"}),
         (0, "props", "specialGroup"), "allAuthenticatedUsers"),
    Case("gcp-public-dataset-accesses", "gcp-iam-no-public-members",
         one("gcp:bigquery/dataset:Dataset", {"datasetId": "features", "accesses": [{"role": "OWNER", "groupByEmail": "ml@example.com"}]}),
         (0, "props", "accesses", 0, "iamMember"), "allUsers"),
    # ------------------------------------------------------------ basic roles at any level
    Case("gcp-basic-owner-project", "gcp-iam-no-basic-roles", one(PM, MEMBER), ROLE, "roles/owner"),
    Case("gcp-basic-editor-folder", "gcp-iam-no-basic-roles", one(FOLDER_B, {**BINDING, "folder": "folders/1"}), ROLE, "roles/editor"),
    Case("gcp-basic-viewer-org", "gcp-iam-no-basic-roles", one(ORG_M, {**MEMBER, "orgId": "123"}), ROLE, "roles/viewer"),
    Case("gcp-basic-editor-secret", "gcp-iam-no-basic-roles",
         one("gcp:secretmanager/secretIamMember:SecretIamMember", _grant("gcp:secretmanager/secretIamMember:SecretIamMember", secretId="s")),
         ROLE, "roles/editor"),
    Case("gcp-basic-owner-policy", "gcp-iam-no-basic-roles", one(ORG_P, {"orgId": "123", "policyData": POLICY}),
         (0, "props", "policyData", "bindings", 0, "role"), "roles/owner"),
    # ------------------------------------------------------------ impersonation at project, folder, organization
    Case("gcp-sa-user-project", "gcp-iam-no-project-sa-impersonation", one(PM, MEMBER), ROLE, "roles/iam.serviceAccountUser"),
    Case("gcp-sa-token-folder", "gcp-iam-no-project-sa-impersonation", one(FOLDER_B, {**BINDING, "folder": "folders/1"}),
         ROLE, "roles/iam.serviceAccountTokenCreator"),
    Case("gcp-sa-user-org-policy", "gcp-iam-no-project-sa-impersonation", one(ORG_P, {"orgId": "123", "policyData": POLICY}),
         (0, "props", "policyData", "bindings", 1, "role"), "roles/iam.serviceAccountUser"),
    # ------------------------------------------------------------ admin roles to service accounts (hierarchy levels)
    Case("gcp-sa-admin-project", "gcp-iam-no-sa-admin", one(PB, BINDING), ROLE, "roles/storage.admin"),
    Case("gcp-sa-admin-org-member", "gcp-iam-no-sa-admin", one(ORG_M, {**MEMBER, "orgId": "123", "role": "roles/iam.securityAdmin"}),
         M, SA),
    Case("gcp-sa-admin-folder-policy", "gcp-iam-no-sa-admin",
         one("gcp:folder/iAMPolicy:IAMPolicy", {"folder": "folders/1", "policyData": POLICY}),
         (0, "props", "policyData", "bindings", 1, "role"), "roles/container.admin"),
    # ------------------------------------------------------------ user-managed keys
    Case("gcp-sa-key", "gcp-no-user-managed-sa-keys",
         one("gcp:serviceaccount/account:Account", {"accountId": "inference", "serviceAccountId": "inference@p.iam.gserviceaccount.com"}),
         (0, "type"), "gcp:serviceaccount/key:Key"),
    Case("gcp-hmac-key", "gcp-no-user-managed-sa-keys",
         one("gcp:serviceaccount/account:Account", {"accountId": "inference", "serviceAccountEmail": "inference@p.iam.gserviceaccount.com"}),
         (0, "type"), "gcp:storage/hmacKey:HmacKey"),
    # ------------------------------------------------------------ audit configs at every level
    *[Case(f"gcp-audit-exempted-{t.split(':')[1].split('/')[0]}", "gcp-audit-config-complete",
           one(t, {"service": "allServices", "auditLogConfigs": AUDIT}),
           (0, "props", "auditLogConfigs", 1, "exemptedMembers"), ["user:ops@example.com"])
      for t in families.members("gcp-audit-config")],
    Case("gcp-audit-no-data-read", "gcp-audit-config-complete",
         one("gcp:projects/iAMAuditConfig:IAMAuditConfig", {"project": "p", "service": "allServices", "auditLogConfigs": AUDIT}),
         (0, "props", "auditLogConfigs", 1, "logType"), "ADMIN_READ"),
    Case("gcp-audit-no-data-write", "gcp-audit-config-complete",
         one("gcp:folder/iamAuditConfig:IamAuditConfig", {"folder": "folders/1", "service": "storage.googleapis.com", "auditLogConfigs": AUDIT}),
         (0, "props", "auditLogConfigs"), AUDIT[:2]),
    Case("gcp-audit-policy-exempted", "gcp-audit-config-complete", one(PP, {"project": "p", "policyData": POLICY}),
         (0, "props", "policyData", "auditConfigs", 0, "auditLogConfigs", 2, "exemptedMembers"), [GROUP]),
    # ------------------------------------------------------------ API keys
    Case("gcp-api-key-any-api", "gcp-api-keys-restricted",
         one("gcp:projects/apiKey:ApiKey", {"restrictions": {"apiTargets": [{"service": "translate.googleapis.com"}],
                                                              "serverKeyRestrictions": {"allowedIps": ["203.0.113.10"]}}}),
         (0, "props", "restrictions", "apiTargets"), DELETE),
    Case("gcp-api-key-any-client", "gcp-api-keys-restricted",
         one("gcp:projects/apiKey:ApiKey", {"restrictions": {"apiTargets": [{"service": "translate.googleapis.com"}],
                                                              "serverKeyRestrictions": {"allowedIps": ["203.0.113.10"]}}}),
         (0, "props", "restrictions", "serverKeyRestrictions"), DELETE),
]


def run(case: Case, path: tuple[Any, ...] | None, value: Any = None):
    """The harness's run, with ``policyData`` sent as JSON text."""
    resources = harness.mutate(case.resources, path, value)
    for r in resources:
        if r is not None and isinstance(r["props"].get("policyData"), dict):
            r["props"]["policyData"] = json.dumps(r["props"]["policyData"])
    rec, urns = harness.recording(resources)
    config = {case.policy: {"enforcementLevel": "mandatory", **harness.SETTINGS.get(case.policy, {}), **case.config}}
    return evaluate(rec, config, policies=[harness.policy(case.policy)]), urns


test_compliant_fixture_passes, test_one_field_change_violates = case_tests(CASES, run)


def test_every_grant_type_has_a_kind_and_hierarchy_levels_come_from_the_token() -> None:
    grants = families.members("gcp-iam-grant")
    assert len(grants) > 400
    assert all(gcp_iam.grant_kind(t) in ("member", "binding", "policy") for t in grants)
    levels = {t: gcp_iam.grant_level(t) for t in grants if gcp_iam.grant_level(t) != "resource"}
    assert levels == {
        "gcp:organizations/iAMBinding:IAMBinding": "organization", "gcp:organizations/iAMMember:IAMMember": "organization",
        "gcp:organizations/iAMPolicy:IAMPolicy": "organization", "gcp:folder/iAMBinding:IAMBinding": "folder",
        "gcp:folder/iAMMember:IAMMember": "folder", "gcp:folder/iAMPolicy:IAMPolicy": "folder",
        "gcp:projects/iAMBinding:IAMBinding": "project", "gcp:projects/iAMMember:IAMMember": "project",
        "gcp:projects/iAMPolicy:IAMPolicy": "project",
    }


def test_impersonation_roles_on_one_service_account_are_allowed() -> None:
    sa = Case("x", "gcp-iam-no-project-sa-impersonation",
              one("gcp:serviceaccount/iAMMember:IAMMember", {"serviceAccountId": "projects/p/serviceAccounts/a@p.iam.gserviceaccount.com",
                                                             "role": "roles/iam.serviceAccountTokenCreator", "member": GROUP}), M, None)
    assert run(sa, None)[0] == []


def test_unknown_or_malformed_policy_documents_are_not_passed() -> None:
    unknown = Case("x", "gcp-iam-no-public-members", one(PP, {"project": "p", "policyData": UNKNOWN}), PD, None)
    found = run(unknown, None)[0]
    assert [(f.enforcement_level, f.not_evaluated) for f in found] == [("advisory", True)]
    bad = Case("x", "gcp-iam-no-basic-roles", one(PP, {"project": "p", "policyData": "{not json"}), PD, None)
    found = run(bad, None)[0]
    assert len(found) == 1 and "not a JSON IAM policy" in found[0].message


def test_unknown_member_is_not_evaluated() -> None:
    found = run(Case("x", "gcp-iam-no-public-members", one(PM, {**MEMBER, "member": UNKNOWN}), M, None), None)[0]
    assert [(f.enforcement_level, f.not_evaluated) for f in found] == [("advisory", True)]


def test_conditioned_public_member_message_says_conditions_do_not_excuse() -> None:
    case = next(c for c in CASES if c.id == "gcp-public-conditioned-binding")
    found = run(case, case.path, case.bad)[0]
    assert "does not excuse" in found[0].message


def test_iam_rules_are_mandatory_in_every_environment() -> None:
    from inferstack.policies.pack import ENTRY_BY_NAME

    for name in ("gcp-iam-no-public-members", "gcp-iam-no-basic-roles", "gcp-iam-no-project-sa-impersonation", "gcp-iam-no-sa-admin",
                 "gcp-no-user-managed-sa-keys", "gcp-audit-config-complete"):
        assert ENTRY_BY_NAME[name].level("dev") == "mandatory"

