"""gcp-firewall-no-world-ingress over the whole firewall family (CIS GCP 3.6/3.7): VPC firewalls and every
firewall-policy rule type (global, hierarchical, regional, and the ``*WithRules`` policies' ``rules[]``), found by
predicate; sources as wide as the world (``0.0.0.0/1`` + ``128.0.0.0/1``) count as the world."""

from __future__ import annotations

from inferstack.policies import families
from tests.policies.test_rules import DELETE, Case, case_tests, one, run

POLICY = "gcp-firewall-no-world-ingress"
FW = "gcp:compute/firewall:Firewall"
RULE_TYPES = ("gcp:compute/firewallPolicyRule:FirewallPolicyRule",
              "gcp:compute/networkFirewallPolicyRule:NetworkFirewallPolicyRule",
              "gcp:compute/regionNetworkFirewallPolicyRule:RegionNetworkFirewallPolicyRule")
WITH_RULES = ("gcp:compute/firewallPolicyWithRules:FirewallPolicyWithRules",
              "gcp:compute/networkFirewallPolicyWithRules:NetworkFirewallPolicyWithRules",
              "gcp:compute/regionNetworkFirewallPolicyWithRules:RegionNetworkFirewallPolicyWithRules")
IAP = "35.235.240.0/20"
#: An ingress allow rule from Identity-Aware Proxy's range to SSH: compliant (CIS GCP 3.6 allows a known source).
RULE = {"firewallPolicy": "fp", "priority": 1000, "direction": "INGRESS", "action": "allow",
        "match": {"srcIpRanges": [IAP], "layer4Configs": [{"ipProtocol": "tcp", "ports": ["22"]}]}}
VPC_FW = {"network": "vpc", "direction": "INGRESS", "sourceRanges": [IAP], "allows": [{"protocol": "tcp", "ports": ["22"]}]}


def _with_rules() -> dict:
    rule = {k: v for k, v in RULE.items() if k != "firewallPolicy"}
    return {"rules": [{**rule, "priority": 900, "action": "deny", "match": {**RULE["match"], "srcIpRanges": ["0.0.0.0/0"]}},
                      rule]}


CASES = [
    *[Case(f"fwrule-world-ssh-{t.rsplit(':', 1)[1]}", POLICY, one(t, RULE), (0, "props", "match", "srcIpRanges"),
           ["0.0.0.0/0"]) for t in RULE_TYPES],
    *[Case(f"fwrule-with-rules-world-ssh-{t.rsplit(':', 1)[1]}", POLICY, one(t, _with_rules()),
           (0, "props", "rules", 1, "match", "srcIpRanges"), ["::/0"]) for t in WITH_RULES],
    Case("fwrule-half-world", POLICY, one(RULE_TYPES[1], RULE), (0, "props", "match", "srcIpRanges"),
         ["0.0.0.0/1", "128.0.0.0/1"]),
    Case("fwrule-internet-scope", POLICY, one(RULE_TYPES[1], {**RULE, "match": {**RULE["match"], "srcNetworkScope": "INTERNET"}}),
         (0, "props", "match", "srcIpRanges"), DELETE),
    Case("fwrule-deny-becomes-allow", POLICY,
         one(RULE_TYPES[0], {**RULE, "action": "deny", "match": {"srcIpRanges": ["0.0.0.0/0"], "layer4Configs": [{"ipProtocol": "all"}]}}),
         (0, "props", "action"), "allow"),
    Case("fwrule-goto-next-becomes-inspected-allow", POLICY,
         one(RULE_TYPES[2], {**RULE, "action": "goto_next", "match": {**RULE["match"], "srcIpRanges": ["0.0.0.0/0"]}}),
         (0, "props", "action"), "apply_security_profile_group"),
    Case("fwrule-egress-becomes-ingress", POLICY,
         one(RULE_TYPES[1], {**RULE, "direction": "EGRESS", "match": {"destIpRanges": ["0.0.0.0/0"], "srcIpRanges": ["0.0.0.0/0"],
                                                                     "layer4Configs": [{"ipProtocol": "tcp", "ports": ["3389"]}]}}),
         (0, "props", "direction"), "INGRESS"),
    Case("fwrule-disabled-enabled", POLICY,
         one(RULE_TYPES[1], {**RULE, "disabled": True, "match": {**RULE["match"], "srcIpRanges": ["0.0.0.0/0"]}}),
         (0, "props", "disabled"), False),
    Case("fwrule-https-only-then-ssh", POLICY,
         one(RULE_TYPES[1], {**RULE, "match": {"srcIpRanges": ["0.0.0.0/0"], "layer4Configs": [{"ipProtocol": "tcp", "ports": ["443"]}]}}),
         (0, "props", "match", "layer4Configs", 0, "ports"), ["22"]),
    Case("fw-half-world", POLICY, one(FW, VPC_FW), (0, "props", "sourceRanges"), ["0.0.0.0/1", "128.0.0.0/1"]),
    Case("fw-ipv6-global-unicast", POLICY, one(FW, VPC_FW), (0, "props", "sourceRanges"), ["2000::/3"]),
]


test_compliant_fixture_passes, test_one_field_change_violates = case_tests(CASES)


def test_the_family_holds_every_firewall_rule_type_by_predicate() -> None:
    members = families.members("gcp-firewall-ingress")
    assert {FW, *RULE_TYPES, *WITH_RULES} <= set(members)
    assert families.fields("gcp-firewall-ingress", RULE_TYPES[0]) == ("action", "direction", "disabled", "match.src_ip_ranges[]")
    assert "rules[].match.src_ip_ranges[]" in families.fields("gcp-firewall-ingress", WITH_RULES[1])
    # a firewall *policy* (rules attached separately) and an association carry no rule of their own
    assert "gcp:compute/networkFirewallPolicy:NetworkFirewallPolicy" not in members
    assert "gcp:compute/firewallPolicyAssociation:FirewallPolicyAssociation" not in members


def test_with_rules_findings_name_the_rule() -> None:
    case = next(c for c in CASES if c.id.startswith("fwrule-with-rules-world-ssh-Network"))
    findings, _ = run(case, case.path, case.bad)
    assert any("rules[1] " in p for f in findings for p in f.problems), [f.message for f in findings]


def test_private_and_narrow_sources_are_not_the_world() -> None:
    for ranges in (["10.0.0.0/8"], ["0.0.0.0/9"], ["fc00::/7"], [IAP, "130.211.0.0/22"]):
        case = Case("x", POLICY, one(RULE_TYPES[1], {**RULE, "match": {**RULE["match"], "srcIpRanges": ranges}}), (), None)
        findings, _ = run(case, None)
        assert findings == [], (ranges, [f.message for f in findings])
