"""Policy registration in one place: each rule module's ENTRIES (level per environment, settings, types)."""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from pulumi_policy import (
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationPolicy,
)

from inferstack.config import Environment, PolicySettings
from inferstack.config.policy import PolicyConfig
from inferstack.policies import pack
from inferstack.policies.entry import ADVISORY_IN_DEV, MANDATORY, PolicyEntry
from tests.conftest import REFERENCE_STACKS, recording, stack_config

#: The policies that were advisory in dev before levels moved into the entries (mandatory everywhere else).
ADVISORY_IN_DEV_NAMES = {
    "prod-stateful-protected",
    "prod-accelerators-not-spot-only",
    "no-public-load-balancers",
    "inference-cluster-local",
    "accelerator-pools-tainted",
    "ingress-not-public",
    "cluster-version-supported",
    # added since: a resource the pack cannot see inside (dynamic provider, unknown provider package) is "not evaluated"
    "opaque-resources-reviewed",
    # GCP data services (#25): dev may keep Google-managed keys, plaintext to its own caches, unprotected resources
    "gcp-cmek-at-rest", "gcp-cmek-inherited", "gcp-tls-in-transit", "gcp-deletion-protection", "gcp-sql-hardening",
    "gcp-http-redirects-to-https",
    # AWS data services and account hygiene (#25): dev may keep AWS-managed keys, plaintext to its own caches, public
    # test subnets, unprotected databases and a CI user's access key
    "iam-no-user-access-keys", "aws-encryption-at-rest", "aws-kms-key-customer-managed", "aws-encryption-in-transit",
    "aws-no-public-ip", "aws-deletion-protection",
    # S3 versioning and SageMaker notebook root access (#25): a dev bucket may drop old versions, a dev notebook be
    # administered by its user
    "s3-bucket-versioning", "aws-notebook-no-root-access",
    # Kueue (#26): a dev stack may try a hand-written multi-node object outside the queues
    "kueue-gang-admission",
    # accelerators (#26): a dev stack may try a DRA claim across namespaces or an unlabelled accelerator pool
    "dra-claims-not-shared", "accelerator-drivers-declared",
    # Kubernetes exposure (#25): a dev cluster may reach a test Service through a node port
    "k8s-no-node-port-services",
}


def test_every_policy_is_registered_by_exactly_one_rule_module() -> None:
    owners: dict[str, list[str]] = {}
    for module in pack.RULE_MODULES:
        for entry in module.ENTRIES:
            assert isinstance(entry, PolicyEntry), module.__name__
            owners.setdefault(entry.name, []).append(module.__name__)
    assert {name: mods for name, mods in owners.items() if len(mods) > 1} == {}
    assert list(owners) == pack.POLICY_NAMES == [p.name for p in pack.POLICIES]
    assert len(pack.POLICY_NAMES) >= 60


def test_levels_per_environment() -> None:
    k8s_owned = {"pod_security", "kubernetes", "k8s_workloads", "k8s_data"}  # levels chosen by tests/policies/test_k8s_*.py
    for entry in [e for m in pack.RULE_MODULES if m.__name__.rsplit(".", 1)[-1] not in k8s_owned for e in m.ENTRIES]:
        dev = "advisory" if entry.name in ADVISORY_IN_DEV_NAMES else "mandatory"
        assert dict(entry.levels) == {Environment.DEV: dev, Environment.STAGING: "mandatory", Environment.PROD: "mandatory"}
        assert pack.default_level(entry.name, "dev") == dev and pack.default_level(entry.name, Environment.PROD) == "mandatory"


def test_pack_config_from_policy_settings() -> None:
    settings = PolicySettings(
        environment=Environment.DEV,
        allowed_regions=("eu-west-1", "eu-central-1"),
        policy=PolicyConfig(platform_admin_group="g:admins", allow_public_inference=True,
                            enforcement={"kms-key-rotation": "disabled"}),
    )
    cfg = pack.pack_config(settings)
    assert list(cfg) == pack.POLICY_NAMES
    assert cfg["rbac-bindings"] == {"enforcementLevel": "mandatory", "platformAdminGroup": "g:admins"}
    assert cfg["region-residency"] == {"enforcementLevel": "mandatory", "allowedRegions": ["eu-west-1", "eu-central-1"]}
    assert cfg["no-public-load-balancers"] == {"enforcementLevel": "advisory", "allowPublicLoadBalancers": False}
    assert cfg["inference-cluster-local"] == {"enforcementLevel": "advisory", "allowPublicInference": True}
    assert cfg["prod-stateful-protected"] == {"enforcementLevel": "advisory", "environment": "dev"}
    assert cfg["prod-accelerators-not-spot-only"] == {"enforcementLevel": "advisory", "environment": "dev"}
    assert cfg["kms-key-rotation"] == {"enforcementLevel": "disabled"}
    assert cfg["s3-bucket-sse-kms"] == {"enforcementLevel": "mandatory"}
    with pytest.raises(ValueError, match="no-such-policy"):
        pack.pack_config(settings.model_copy(update={"policy": PolicyConfig(enforcement={"no-such-policy": "advisory"})}))


@pytest.mark.parametrize("name", REFERENCE_STACKS)
def test_a_stack_config_stands_for_its_policy_settings(name: str) -> None:
    cfg = stack_config(name)
    assert pack.pack_config(cfg) == pack.pack_config(cfg.policy_settings())


def test_an_entry_needs_every_environment_and_types_only_on_resource_policies() -> None:
    rp = ResourceValidationPolicy(name="x", description="x", validate=lambda args, report: None)
    sp = StackValidationPolicy(name="y", description="y", validate=lambda args, report: None)
    with pytest.raises(ValueError, match="staging"):
        PolicyEntry(rp, {Environment.DEV: "advisory", Environment.PROD: "mandatory"})
    with pytest.raises(ValueError, match="resource policies"):
        PolicyEntry(sp, MANDATORY, types=("aws:",))
    e = PolicyEntry(rp, ADVISORY_IN_DEV, types=("aws:s3/bucket:Bucket", "kubernetes:", "gcp:kms/"))
    assert e.applies_to("aws:s3/bucket:Bucket") and e.applies_to("kubernetes:core/v1:Secret")
    assert e.applies_to("gcp:kms/keyRing:KeyRing") and not e.applies_to("aws:s3/bucketV2:BucketV2")
    assert not e.applies_to("gcp:storage/bucket:Bucket") and PolicyEntry(rp, MANDATORY, clouds=frozenset({"aws"})).applies_to("anything:x:Y")


# ---------------------------------------------------------------- declared types are complete


class Untouchable(Mapping):
    """Props that fail the test when a rule reads them."""

    def __init__(self, where: str):
        self.where = where

    def _fail(self, *args: Any) -> Any:
        raise AssertionError(f"{self.where} read the props")

    __getitem__ = __len__ = __contains__ = get = keys = items = values = _fail  # type: ignore[assignment]

    def __iter__(self) -> Iterator[str]:
        return self._fail()


TOKEN = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9./-]*:[A-Z][A-Za-z0-9]*$")


def type_tokens() -> set[str]:
    """Every type token a rule module names, every type of the reference stacks, and their Patch variants."""
    found = set()
    for module in pack.RULE_MODULES:
        for node in ast.walk(ast.parse(inspect.getsource(module))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and TOKEN.match(node.value):
                found.add(node.value)
    for name in REFERENCE_STACKS:
        found |= set(recording(name).types())
    found |= {t + "Patch" for t in found if t.startswith("kubernetes:")}
    return found


@pytest.mark.parametrize("entry", [e for e in pack.ENTRIES if e.types is not None], ids=lambda e: e.name)
def test_a_resource_policy_reads_nothing_outside_its_declared_types(entry: PolicyEntry) -> None:
    """The evaluator skips a policy on other types: that is safe only if the rule would not look at them."""
    reports: list[str] = []
    skipped = sorted(t for t in type_tokens() if not entry.applies_to(t))
    assert skipped, entry.name
    opts = PolicyResourceOptions(False, [], None, [], None, [], None)
    for t in skipped:
        args = ResourceValidationArgs(t, Untouchable(f"{entry.name} on {t}"), f"urn:{t}", "x", opts, None, {})
        entry.policy.validate(args, lambda message, urn=None, t=t: reports.append(f"{t}: {message}"))
    assert reports == []
    assert all(entry.applies_to(t) for t in entry.types if not t.endswith((":", "/")))
