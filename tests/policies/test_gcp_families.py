"""GCP families (policies/families/gcp.py): the generated members are current, and every member is judged by a rule
that checks the family's control, or explained (policies/families/gcp.py EXPLAINED). An SDK upgrade that adds a
member makes ``gen_families --check`` fail; once regenerated, a member no rule reaches makes this test fail."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from inferstack.policies import families
from inferstack.policies.families import coverage
from inferstack.policies.families.gcp import EXPLAINED, SPECS
from inferstack.policies.pack import ENTRY_BY_NAME

ROOT = Path(__file__).resolve().parents[2]
#: Family -> the policies that judge its control (not merely any rule naming the type).
CONTROL_POLICIES = {
    "gcp-iam-grant": ("gcp-iam-no-public-members", "gcp-iam-no-basic-roles", "gcp-iam-no-project-sa-impersonation",
                      "gcp-iam-no-sa-admin"),
    "gcp-public-acl": ("gcp-iam-no-public-members",),
    "gcp-audit-config": ("gcp-audit-config-complete",),
    "gcp-service-account-key": ("gcp-no-user-managed-sa-keys", "gcp-api-keys-restricted"),
    "gcp-encryption-at-rest": ("gcp-cmek-at-rest", "gcs-cmek", "secret-manager-cmek", "gke-database-encryption",
                               "artifact-registry-cmek"),
    "gcp-encryption-in-transit": ("gcp-tls-in-transit",),
    "gcp-deletion-protection": ("gcp-deletion-protection",),
    "gcp-vm-hardening": ("gcp-vm-hardening",),
    "gcp-firewall-ingress": ("gcp-firewall-no-world-ingress",),
}


def test_generated_gcp_families_are_current() -> None:
    proc = subprocess.run([sys.executable, "scripts/gen_families.py", "--cloud", "gcp", "--check"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_every_gcp_family_is_mapped_to_its_control_policies() -> None:
    assert {s.name for s in SPECS} == set(CONTROL_POLICIES)


@pytest.mark.parametrize("family", sorted(CONTROL_POLICIES))
def test_every_member_is_judged_for_its_control_or_explained(family: str) -> None:
    policies = [ENTRY_BY_NAME[p] for p in CONTROL_POLICIES[family]]
    gaps = [t for t in families.members(family)
            if not any(e.applies_to(t) for e in policies) and coverage.explanation(t, EXPLAINED) is None]
    assert gaps == [], f"{family}: judge these types or explain them in policies/families/gcp.py EXPLAINED"


def test_explanations_name_real_members_that_some_family_needs_explained() -> None:
    for token in EXPLAINED:
        fams = [f for f in CONTROL_POLICIES if token in families.members(f)]
        assert fams, f"stale explanation {token}"
        needed = [f for f in fams if not any(ENTRY_BY_NAME[p].applies_to(token) for p in CONTROL_POLICIES[f])]
        assert needed, f"{token} is judged in every family it belongs to ({fams}): drop its explanation"


def test_pack_coverage_has_no_gcp_gap() -> None:
    rows = [c for c in coverage.coverage() if c.cloud == "gcp"]
    assert {c.name for c in rows} == set(CONTROL_POLICIES)
    assert [(c.name, c.gaps) for c in rows if c.gaps] == []


def test_each_at_rest_member_is_judged_by_one_cmek_rule_only() -> None:
    """No member reported twice for the same missing key (the older per-type rules keep theirs)."""
    rules = [ENTRY_BY_NAME[p] for p in CONTROL_POLICIES["gcp-encryption-at-rest"]]
    twice = {t: [e.name for e in rules if e.applies_to(t)] for t in families.members("gcp-encryption-at-rest")}
    assert {t: names for t, names in twice.items() if len(names) > 1} == {}
