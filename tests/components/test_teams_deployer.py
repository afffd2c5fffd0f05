"""The team deployer Role (``inferstack-team-deployer``): what a team serving stack's identity may manage in its
namespace. DRA pools need the model's ResourceClaimTemplate declared by that stack, so the Role grants
``resource.k8s.io`` ``resourceclaimtemplates`` and nothing else of that API (no ResourceClaims, no DeviceClasses)."""

from __future__ import annotations

from inferstack.components.teams import DEPLOYER_ROLE, DEPLOYER_RULES, DEPLOYER_VERBS
from inferstack.policies.evaluate import evaluate
from inferstack.policies.pack import POLICIES, pack_config
from inferstack.policies.rules import k8s_permissions as perms
from tests.conftest import recording, stack_config

ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
DRA_GROUP = "resource.k8s.io"


def _grants(verb: str, group: str, resource: str) -> bool:
    return any(perms.rule_grants(rule, verb, group, resource) for rule in DEPLOYER_RULES)


def test_deployer_manages_claim_templates_only_in_the_dra_api() -> None:
    (rule,) = [r for r in DEPLOYER_RULES if DRA_GROUP in r["apiGroups"]]
    assert rule == {"apiGroups": [DRA_GROUP], "resources": ["resourceclaimtemplates"], "verbs": DEPLOYER_VERBS}
    for verb in ("get", "list", "watch", "create", "update", "patch", "delete"):
        assert _grants(verb, DRA_GROUP, "resourceclaimtemplates"), verb
    # No claims (the scheduler makes each pod's from the template), no device classes or slices (the platform's),
    # not the claims' status (written by the driver and scheduler).
    for resource in ("resourceclaims", "resourceclaims/status", "deviceclasses", "resourceslices", "devicetaintrules"):
        for verb in ("get", "create", "update", "patch", "delete"):
            assert not _grants(verb, DRA_GROUP, resource), (verb, resource)


def test_deployer_verbs_are_least_privilege() -> None:
    assert DEPLOYER_VERBS == ["get", "list", "watch", "create", "update", "patch", "delete"]
    for rule in DEPLOYER_RULES:
        for key in ("apiGroups", "resources", "verbs"):
            assert "*" not in rule[key], rule
        assert not {"deletecollection", "escalate", "bind", "impersonate"} & set(rule["verbs"]), rule
    # The catalogue of dangerous grants finds only the in-namespace InferenceService writes it always had.
    hits = perms.dangerous_hits(DEPLOYER_RULES)
    assert [(h.grant.id, DEPLOYER_RULES[h.rule]["resources"]) for h in hits] == [("workload-creation", ["inferenceservices"])]


def test_reference_stack_deployer_roles_pass_the_rbac_policies() -> None:
    """The staging stack's team namespaces, with the deployer Role as declared, through the pack's RBAC policies."""
    rec = recording("staging")
    roles = [r for r in rec.by_type(ROLE) if r.inputs["metadata"]["name"] == DEPLOYER_ROLE]
    assert sorted(r.inputs["metadata"]["namespace"] for r in roles) == stack_config("staging").team_namespaces
    assert all(r.inputs["rules"] == DEPLOYER_RULES for r in roles)
    config = pack_config(stack_config("staging").policy_settings())
    rbac = [p for p in POLICIES if p.name.startswith("rbac-")]
    assert "rbac-dangerous-grants" in {p.name for p in rbac}
    findings = evaluate(rec, {p.name: {**config[p.name], "enforcementLevel": "mandatory"} for p in rbac}, policies=rbac)
    assert findings == [], [f.message for f in findings]
