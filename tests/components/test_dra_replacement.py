"""A ResourceClaimTemplate's spec is immutable on the API server (its e2e apply says "field is immutable"): the
program declares each with replace_on_changes ["spec"] and delete_before_replace, so a changed claim (another pool,
kind or memory) is a replacement of the same-named object, as tests/e2e's server-side apply does it."""

from __future__ import annotations

import pytest

from tests.conftest import recording

CLAIM_TEMPLATE = "kubernetes:resource.k8s.io/v1:ResourceClaimTemplate"


@pytest.mark.parametrize("stack", ["prod", "gcp-prod"])
def test_claim_templates_are_replaced_not_updated(stack: str) -> None:
    templates = [r for r in recording(stack).resources if r.type == CLAIM_TEMPLATE]
    assert templates, f"{stack} declares DRA claim templates"
    for r in templates:
        assert r.replace_on_changes == ["spec"] and r.delete_before_replace, r.name
