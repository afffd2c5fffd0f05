"""The first ``pulumi up`` of a stack with a private endpoint (docs/deploy.md), in two runs:

1. from anywhere with cloud credentials: ``pulumi up --exclude '**kubernetes:**' --exclude-dependents`` creates every
   cloud resource (network, cluster, node groups, identities, registry) and no Kubernetes object;
2. from inside the network (a CI runner in the VPC, or through a tunnel): ``pulumi up`` creates the Kubernetes layer.

This checks run 1 on every reference stack's recording with the engine's own rules: a ``--exclude`` glob is matched
as Pulumi's ``UrnTargets`` does (``**`` any text, ``*`` any text without ``:``; pkg/resource/deploy), and
``--exclude-dependents`` also excludes what has an excluded resource as parent, dependency, property dependency or
provider; providers themselves are never excluded (the Kubernetes provider is configured; with the API out of reach
it marks the cluster unreachable and sends nothing, which is all run 1 needs).
"""

from __future__ import annotations

import re

import pytest

from inferstack.engine import Recording, run_stack
from inferstack.load import load_stack
from tests.components.test_two_stacks import platform_values
from tests.conftest import REFERENCE_STACKS, recording

#: The glob of run 1, as docs/deploy.md gives it.
EXCLUDE = "**kubernetes:**"


def urn_glob(glob: str) -> re.Pattern[str]:
    """Pulumi's matcher of a ``--target`` / ``--exclude`` glob (``UrnTargets.getMatcher``)."""
    segments = ["[^:]*".join(re.escape(part) for part in segment.split("*")) for segment in glob.split("**")]
    return re.compile("^" + ".*".join(segments) + "$")


def excluded(rec: Recording, glob: str) -> set[str]:
    """The URNs ``pulumi up --exclude <glob> --exclude-dependents`` leaves alone, in registration (topological) order."""
    matcher = urn_glob(glob)
    out: set[str] = set()
    for r in rec.resources:
        if r.is_provider:
            continue  # implicitly targeted
        deps = {r.parent, *r.dependencies, *(u for us in r.property_dependencies.values() for u in us)}
        provider = r.provider.rsplit("::", 1)[0] if r.provider else None
        if matcher.match(r.urn) or (deps | {provider}) & out:
            out.add(r.urn)
    return out


def test_the_glob_matches_as_pulumi_does() -> None:
    m = urn_glob(EXCLUDE)
    assert m.match("urn:pulumi:prod::inferstack::inferstack:aws:Platform$kubernetes:helm.sh/v3:Release::prod-karpenter-chart")
    assert m.match("urn:pulumi:prod::inferstack::kubernetes:core/v1:Namespace::team-nlp")
    assert not m.match("urn:pulumi:prod::inferstack::inferstack:aws:Platform$aws:eks/cluster:Cluster::prod-cluster-eks")
    assert urn_glob("urn:pulumi:prod::*::aws:s3/bucket:*").match("urn:pulumi:prod::inferstack::aws:s3/bucket:Bucket")
    assert not urn_glob("urn:pulumi:prod::*::aws:s3/bucket:*").match("urn:pulumi:prod::inferstack::aws:s3/bucket:Bucket::b")


def _cloud_and_kubernetes(rec: Recording) -> tuple[set[str], set[str]]:
    custom = [r for r in rec.resources if r.custom and not r.is_provider]
    return {r.urn for r in custom if r.package in ("aws", "gcp")}, {r.urn for r in custom if r.package == "kubernetes"}


@pytest.mark.parametrize("stack", REFERENCE_STACKS)
def test_run_1_creates_every_cloud_resource_and_no_kubernetes_object(stack: str) -> None:
    rec = recording(stack)
    cloud, kubernetes = _cloud_and_kubernetes(rec)
    skipped = excluded(rec, EXCLUDE)
    assert cloud and kubernetes
    assert skipped & cloud == set(), "run 1 would leave these cloud resources for run 2"
    assert {u for u in skipped if u in cloud or u in kubernetes} == kubernetes


@pytest.mark.parametrize("stack", ["prod", "gcp-prod"])
def test_a_platform_stack_bootstraps_the_same_way(stack: str) -> None:
    rec = run_stack(load_stack(stack, platform_values(stack)))
    cloud, kubernetes = _cloud_and_kubernetes(rec)
    assert not excluded(rec, EXCLUDE) & cloud
    assert kubernetes <= excluded(rec, EXCLUDE)
