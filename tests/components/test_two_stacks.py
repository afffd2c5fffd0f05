"""The two-stack deployment (docs/deploy.md): a platform stack (``cluster.workloadsStack``: network, cluster, pools,
identities, registry; no add-on, model or secret) and its workloads stack (``existingCluster.platformStack``: add-ons,
teams, models), which reads the platform through a ``pulumi.StackReference`` (answered offline from
``inferstack-offline:stackOutputs``)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from inferstack.components.existing_cluster import platform_mismatches, platform_pool_info
from inferstack.components.platform import PoolInfo
from inferstack.config import Cloud, ConfigError
from inferstack.engine import STACK_OUTPUTS_KEY, ProgramError, Recording, run_stack, unwrap_secrets
from inferstack.load import load_stack
from tests.conftest import stack_config

ORG = "acme/inferstack"
ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"


def platform_values(stack: str) -> dict[str, Any]:
    """The reference stack as a platform stack: its models' namespaces prepared, models and secrets moved out."""
    values = copy.deepcopy(dict(stack_config(stack).values))
    cfg = stack_config(stack)
    values["inferstack:cluster"] = {**(values.get("inferstack:cluster") or {}), "workloadsStack": f"{ORG}/{stack}-workloads"}
    values["inferstack:teamNamespaces"] = cfg.team_namespaces
    for key in ("inferstack:models", "inferstack:secrets", "inferstack-secrets:hfToken"):
        values.pop(key, None)
    values.pop("encryptionsalt", None)
    return values


def workloads_values(stack: str, platform: Recording, **changes: Any) -> dict[str, Any]:
    """The reference stack's models as the workloads stack of ``stack``'s platform (whose recorded outputs answer the
    StackReference)."""
    src = stack_config(stack).values
    values: dict[str, Any] = {k: v for k, v in src.items() if k.split(":")[0] in ("aws", "gcp")}
    values |= {
        "inferstack:cloud": src["inferstack:cloud"],
        "inferstack:environment": src["inferstack:environment"],
        "inferstack:residency": src["inferstack:residency"],
        "inferstack:existingCluster": {"platformStack": f"{ORG}/{stack}"},
        "inferstack:acceleratorPools": src["inferstack:acceleratorPools"],
        "inferstack:models": src["inferstack:models"],
        STACK_OUTPUTS_KEY: {
            f"{ORG}/{stack}": {"outputs": unwrap_secrets(platform.outputs), "secretOutputNames": ["kubeconfig"]}
        },
    }
    values.update(changes)
    return values


@pytest.fixture(scope="module", params=["prod", "gcp-prod"])
def split(request: pytest.FixtureRequest) -> tuple[str, Recording, Recording]:
    stack = request.param
    platform = run_stack(load_stack(stack, platform_values(stack)))
    workloads = run_stack(load_stack(f"{stack}-workloads", workloads_values(stack, platform)))
    return stack, platform, workloads


def test_the_platform_stack_declares_no_workload_and_exports_what_the_workloads_stack_reads(split) -> None:
    stack, platform, _ = split
    full = run_stack(stack_config(stack))
    assert not platform.of_type(ISVC) and not platform.of_type("kubernetes:core/v1:Namespace")
    releases = {r.plain_inputs["name"] for r in platform.of_type("kubernetes:helm.sh/v3:Release")}
    assert not releases & {"kserve", "kserve-crd", "knative-operator", "kube-prometheus-stack", "keda", "cert-manager"}
    # Every cloud resource of the one-stack form is still the platform's, with the same URN, but the secret store's
    # (secrets are the workloads stack's, from the cluster's own store).
    cloud = {r.urn for r in full.resources if r.package in ("aws", "gcp")}
    assert cloud - {r.urn for r in platform.resources} == {u for u in cloud if f"::{stack}-secrets-" in u}
    out = unwrap_secrets(platform.outputs)
    assert {"cluster_name", "kubeconfig", "pools", "team_namespaces", "registry_bucket", "registry_reader_identity"} <= set(out)
    assert out["team_namespaces"] == stack_config(stack).team_namespaces


def test_the_workloads_stack_reads_the_platform_and_declares_only_kubernetes_objects(split) -> None:
    stack, platform, workloads = split
    out = unwrap_secrets(platform.outputs)
    (ref,) = [read for read in workloads.lookups if read.token == "pulumi:pulumi:StackReference"]
    assert ref.id == f"{ORG}/{stack}" and ref.name == f"{stack}-workloads-platform"
    assert {r.package for r in workloads.resources if r.custom and not r.is_provider} == {"kubernetes"}
    (provider,) = [r for r in workloads.resources if r.type == "pulumi:providers:kubernetes"]
    assert unwrap_secrets(provider.plain_inputs["kubeconfig"]) == out["kubeconfig"]
    assert workloads.outputs["cluster_name"] == out["cluster_name"]
    assert workloads.outputs["registry_bucket"] == out["registry_bucket"]
    # The models land on the platform's pools exactly as the one-stack form places them.
    full = run_stack(stack_config(stack))
    placed = {r.name: r.plain_inputs["spec"]["predictor"] for r in full.of_type(ISVC)}
    for isvc in workloads.of_type(ISVC):
        mine, theirs = isvc.plain_inputs["spec"]["predictor"], placed[isvc.name.replace(f"{stack}-workloads", stack, 1)]
        assert mine.get("nodeSelector") == theirs.get("nodeSelector")
        assert mine.get("tolerations") == theirs.get("tolerations")
        uri = mine.get("model", {}).get("storageUri") or mine.get("storageUri") or ""
        assert not uri or f"://{out['registry_bucket']}/" in uri


@pytest.mark.parametrize("cloud", [Cloud.AWS, Cloud.GCP])
def test_platform_pool_info_equals_what_the_platform_exports(cloud: Cloud) -> None:
    stack = "prod" if cloud is Cloud.AWS else "gcp-prod"
    exported = unwrap_secrets(run_stack(load_stack(stack, platform_values(stack))).outputs)["pools"]
    for pool in stack_config(stack).settings.accelerator_pools:
        assert platform_pool_info(cloud, pool).to_output() == exported[pool.name]


def test_mismatches_name_each_pool_and_namespace() -> None:
    info = PoolInfo("gpu", "nvidia-l4", 4, 1, {"a": "b"}, "nvidia.com/gpu", "nvidia.com/gpu")
    theirs = {"gpu": {**info.to_output(), "maxNodes": 8}}
    problems = platform_mismatches({"gpu": info, "tpu": info}, ["team-a", "team-b"], theirs, ["team-a"])
    assert problems[0].startswith("acceleratorPools: gpu differs from the platform stack's pool")
    assert problems[1] == "acceleratorPools: tpu is not a pool of the platform stack (it has: gpu)"
    assert problems[2].startswith("namespaces team-b are not in the platform stack's teamNamespaces")
    assert platform_mismatches({"gpu": info}, ["team-a"], {"gpu": info.to_output()}, ["team-a"]) == []


def test_a_workloads_stack_that_does_not_match_its_platform_fails_naming_the_difference() -> None:
    platform = run_stack(load_stack("prod", platform_values("prod")))
    pools = copy.deepcopy(stack_config("prod").values["inferstack:acceleratorPools"])
    pools[0]["maxNodes"] = 11
    model = {**stack_config("prod").values["inferstack:models"][-1], "namespace": "team-other"}
    values = workloads_values("prod", platform, **{"inferstack:acceleratorPools": pools, "inferstack:models": [model]})
    with pytest.raises(Exception) as err:  # noqa: PT011 - the SDK wraps the program's RunError while serializing outputs
        run_stack(load_stack("prod-workloads", values))
    text = str(err.value)
    assert f"inferstack:existingCluster.platformStack {ORG}/prod" in text
    assert "acceleratorPools: gpu-l4 differs" in text and "namespaces team-other are not in the platform stack's teamNamespaces" in text


def test_the_platform_outputs_are_required_offline_too() -> None:
    platform = run_stack(load_stack("prod", platform_values("prod")))
    values = workloads_values("prod", platform, **{STACK_OUTPUTS_KEY: {}})
    with pytest.raises(ProgramError, match=rf"StackReference '{ORG}/prod'.*inferstack-offline:stackOutputs"):
        run_stack(load_stack("prod-workloads", values))


@pytest.mark.parametrize(
    ("key", "value", "path", "message"),
    [
        ("inferstack:existingCluster", {"platformStack": f"{ORG}/prod", "kubeconfig": "/k"}, "inferstack:existingCluster.kubeconfig",
         "not used with platformStack"),
        ("inferstack:existingCluster", {"platformStack": f"{ORG}/prod", "name": "x"}, "inferstack:existingCluster.name",
         "not used with platformStack"),
        ("inferstack:existingCluster", {"platformStack": "prod"}, "inferstack:existingCluster.platformStack", ""),
        ("inferstack:existingCluster", {"addons": {}}, "inferstack:existingCluster", "give name"),
    ],
)
def test_bad_workloads_stack_settings_are_config_errors(key: str, value: Any, path: str, message: str) -> None:
    platform = run_stack(load_stack("prod", platform_values("prod")))
    with pytest.raises(ConfigError) as err:
        load_stack("prod-workloads", workloads_values("prod", platform, **{key: value}))
    found = {i.path: i.message for i in err.value.issues}
    assert path in found and message in found[path], found


@pytest.mark.parametrize("key", ["inferstack:models", "inferstack:secrets"])
def test_a_platform_stack_declares_no_models_or_secrets(key: str) -> None:
    values = platform_values("prod")
    values[key] = stack_config("prod").values[key]
    values["inferstack-secrets:hfToken"] = stack_config("prod").values["inferstack-secrets:hfToken"]
    with pytest.raises(ConfigError) as err:
        load_stack("prod", values, secret_keys=stack_config("prod").secret_keys)
    found = {i.path: i.message for i in err.value.issues}
    assert key in found and f"move them to the workloads stack {ORG}/prod-workloads" in found[key], found
