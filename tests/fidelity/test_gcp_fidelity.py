"""Fidelity to real clouds (GCP): every name a GCP recording declares (service account ids, cluster and node pools,
buckets, KMS key rings and keys, Secret Manager ids, networks, subnetworks, routers, NATs, firewalls, network tags),
every GCP label and every GKE node label and taint follows the provider's rules, and every enum-like value is one
GCP documents.

Recordings: gcp-dev, gcp-prod, the GCP example, gcp-prod in every other GCP region of the catalogue, one pool of every
GCP accelerator kind, and the longest stack, pool, namespace, model and secret names the config accepts
(``variations.GCP_RECORDINGS``)."""

from __future__ import annotations

import pytest

from inferstack.catalog import limits
from inferstack.catalog.accelerators import kinds_for
from inferstack.catalog.clouds import Cloud
from tests.fidelity import gcp_fidelity as gx
from tests.fidelity import variations as v

KEYS = sorted(v.GCP_RECORDINGS)


@pytest.mark.parametrize("key", KEYS)
def test_gcp_names_follow_the_provider_rules(key: str) -> None:
    checked, problems, _ = gx.check_names(v.gcp_recording(key))
    print(f"{key}: {checked} names and labels checked")
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.parametrize("key", KEYS)
def test_every_gcp_name_has_a_rule(key: str) -> None:
    """A GCP resource type created with a name no NAME_RULES row checks is a gap: add the rule."""
    assert not gx.unchecked_name_types(v.gcp_recording(key))


@pytest.mark.parametrize("key", KEYS)
def test_gke_node_labels_and_taints_are_kubernetes_labels(key: str) -> None:
    problems = gx.node_label_problems(v.gcp_recording(key))
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.parametrize("key", KEYS)
def test_gcp_enum_values_are_documented_ones(key: str) -> None:
    checked, problems, _ = gx.check_enums(v.gcp_recording(key))
    print(f"{key}: {checked} enum/range values checked")
    assert not problems, "\n".join(map(str, problems))


def test_every_rule_sees_a_value() -> None:
    """A row no recording reaches is a dead check (renamed input, moved resource): fail rather than pass vacuously."""
    names, enums = set(), set()
    for key in KEYS:
        names |= gx.check_names(v.gcp_recording(key))[2]
        enums |= gx.check_enums(v.gcp_recording(key))[2]
    assert not [gx.NAME_RULES[i][:2] for i in range(len(gx.NAME_RULES)) if i not in names]
    assert not [r[:2] for i, r in enumerate(gx.ENUM_RULES) if r[4] and i not in enums]


def test_every_gcp_accelerator_kind_reaches_a_node_pool() -> None:
    assert v.kinds_in(v.gcp_recording("every-gcp-accelerator-kind")) == set(kinds_for(Cloud.GCP))


def test_region_variations_really_vary() -> None:
    regions = [k.split("@")[1] for k in KEYS if "@" in k]
    assert regions, "the catalogue offers GCP kinds in more than one region"
    for region in regions:
        rec = v.gcp_recording(f"gcp-prod@{region}")
        seen = {r.inputs.get("region") or r.inputs.get("location") for r in rec.resources if r.type.startswith("gcp:")}
        assert seen - {None} == {region}, seen


def test_long_names_are_the_longest_the_config_accepts() -> None:
    """The variation is at the edge: one more character is refused, with the key named (exit 2, never a cut)."""
    stack, config, _, refusals = v.longest_names("gcp-prod")
    assert len(f"inferstack-{stack}") == limits.GKE_CLUSTER.max_len
    keys = {"stack": "stack:", "pool": "acceleratorPools[", "namespace": "namespace", "model": "models[", "secret": "secrets["}
    assert {what for what, *_ in refusals} == set(keys)
    for what, accepted, refused, err in refusals:
        assert len(refused) == len(accepted) + 1
        assert keys[what] in str(err), (what, str(err))


# ------------------------------------------------------------------ the checkers catch what they claim


class _R:
    def __init__(self, type_: str, inputs: dict) -> None:
        self.type, self.name, self.inputs = type_, "r", inputs


class _Rec:
    def __init__(self, *resources: _R) -> None:
        self.resources = list(resources)


@pytest.mark.parametrize(
    "type_,inputs,needle",
    [
        ("gcp:serviceaccount/account:Account", {"accountId": "ab"}, "6-30"),
        ("gcp:serviceaccount/account:Account", {"accountId": "a" * 31}, "6-30"),
        ("gcp:serviceaccount/account:Account", {"accountId": "1abcdef"}, "does not match"),
        ("gcp:container/nodePool:NodePool", {"name": "p" * 41}, "1-40"),
        ("gcp:storage/bucket:Bucket", {"name": "google-models"}, "google"),
        ("gcp:storage/bucket:Bucket", {"name": "Models"}, "does not match"),
        ("gcp:kms/keyRing:KeyRing", {"name": "a.b"}, "does not match"),
        ("gcp:secretmanager/secret:Secret", {"secretId": "a/b"}, "does not match"),
        ("gcp:compute/firewall:Firewall", {"name": "1fw"}, "does not match"),
        ("gcp:compute/network:Network", {"name": "n" * 64}, "1-63"),
        ("gcp:storage/bucket:Bucket", {"name": "ok-bucket", "labels": {"Stack": "x"}}, "GCP label key"),
        ("gcp:storage/bucket:Bucket", {"name": "ok-bucket", "labels": {"stack": "A.B"}}, "GCP label value"),
    ],
)
def test_name_checker_rejects(type_: str, inputs: dict, needle: str) -> None:
    _, problems, _ = gx.check_names(_Rec(_R(type_, inputs)))  # type: ignore[arg-type]
    assert any(needle in p.message for p in problems), problems


def test_enum_checker_rejects() -> None:
    rec = _Rec(
        _R("gcp:container/nodePool:NodePool", {"autoscaling": {"locationPolicy": "BALANCE"}, "nodeConfig": {"taints": [{"effect": "NoSchedule"}]}}),
        _R("gcp:kms/cryptoKey:CryptoKey", {"rotationPeriod": "3600s"}),
    )
    _, problems, _ = gx.check_enums(rec)  # type: ignore[arg-type]
    assert {p.path for p in problems} == {"autoscaling.locationPolicy", "nodeConfig.taints[0].effect", "rotationPeriod"}


def test_unchecked_name_types_are_reported() -> None:
    rec = _Rec(_R("gcp:compute/globalAddress:GlobalAddress", {"name": "x"}))
    assert gx.unchecked_name_types(rec) == {"gcp:compute/globalAddress:GlobalAddress.name"}  # type: ignore[arg-type]
