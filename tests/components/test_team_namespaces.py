"""Team namespaces: those of the stack's models plus ``teamNamespaces``, each with RBAC, a deployer role, the
serving service account and registry read access (for team serving stacks)."""

from __future__ import annotations

import pytest

from inferstack.components.teams import DEPLOYER_ROLE, DEPLOYER_RULES, deployer_group
from inferstack.config import ConfigError
from inferstack.load import load_stack
from tests.conftest import recording, stack_config

ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"


def test_team_namespaces_join_model_namespaces_and_the_setting() -> None:
    cfg = stack_config("staging")
    assert cfg.settings.team_namespaces == ["team-vision"]
    assert cfg.team_namespaces == ["team-nlp", "team-search", "team-vision"]
    assert "team-vision" not in {m.namespace for m in cfg.settings.models}


def test_a_team_namespace_without_models_is_prepared_for_a_team_stack() -> None:
    rec = recording("staging")
    namespaces = {r.inputs["metadata"]["name"] for r in rec.by_type("kubernetes:core/v1:Namespace")}
    assert "team-vision" in namespaces
    sas = {r.inputs["metadata"]["namespace"] for r in rec.by_type("kubernetes:core/v1:ServiceAccount") if "-serving-" in r.name}
    assert "team-vision" in sas
    # The registry reader role trusts the namespace's serving service account.
    (reader,) = [r for r in rec.by_type("aws:iam/role:Role") if r.name.endswith("model-reader")]
    assert "system:serviceaccount:team-vision:inferstack-serving" in reader.inputs["assumeRolePolicy"]


@pytest.mark.parametrize("stack", ["staging", "gcp-prod"])
def test_every_team_namespace_has_a_deployer_role_limited_to_models_and_pdbs(stack: str) -> None:
    rec = recording(stack)
    roles = {r.inputs["metadata"]["namespace"]: r.inputs for r in rec.by_type(ROLE) if r.inputs["metadata"]["name"] == DEPLOYER_ROLE}
    assert sorted(roles) == stack_config(stack).team_namespaces
    for role in roles.values():
        assert role["rules"] == DEPLOYER_RULES
        assert all("*" not in v for rule in role["rules"] for v in rule.values())
    bindings = [r.inputs for r in rec.by_type(BINDING) if r.inputs["roleRef"]["name"] == DEPLOYER_ROLE]
    assert sorted((b["metadata"]["namespace"], b["subjects"][0]["name"]) for b in bindings) == [
        (ns, deployer_group(ns)) for ns in sorted(roles)
    ]


def test_a_bad_team_namespace_is_a_config_error() -> None:
    config = {
        "aws:region": "eu-west-1",
        "inferstack:cloud": "aws",
        "inferstack:environment": "dev",
        "inferstack:residency": {"allowedRegions": ["eu-west-1"]},
        "inferstack:teamNamespaces": ["Team_Vision"],
    }
    with pytest.raises(ConfigError) as err:
        load_stack("t", config)
    assert str(err.value.issues[0]).startswith("inferstack:teamNamespaces[0]: String should match pattern")
