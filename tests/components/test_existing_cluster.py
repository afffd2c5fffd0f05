"""A stack with ``inferstack:existingCluster`` (bring your own cluster): the Kubernetes layer only, through the
kubeconfig and context it names; add-ons installed or assumed present per add-on; config errors for what it lacks."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from inferstack.config import ConfigError
from inferstack.engine import run_stack
from inferstack.load import load_stack

PRESENT = {
    "certManager": "present", "knative": "present", "kserve": "present", "llm": "present", "monitoring": "present", "keda": "present",
    "kueue": "present",
}
MODEL = {
    "name": "chat", "namespace": "team-nlp", "format": "huggingface", "registryModel": "llama-3-8b-instruct", "version": "3",
    "pool": "gpu-l4", "accelerators": 1, "cpu": "4", "memory": "24Gi", "minReplicas": 1, "maxReplicas": 2,
}
BYO: dict[str, Any] = {
    "aws:region": "eu-west-1",
    "inferstack:cloud": "aws",
    "inferstack:environment": "dev",
    "inferstack:residency": {"allowedRegions": ["eu-west-1"]},
    "inferstack:existingCluster": {
        "name": "made-elsewhere", "kubeconfig": "/etc/inferstack/kubeconfig", "context": "ops", "addons": PRESENT,
        "registry": {"bucket": "acme-models"},
    },
    "inferstack:acceleratorPools": [{"name": "gpu-l4", "kind": "nvidia-l4", "maxNodes": 2}],
    "inferstack:models": [MODEL],
}


def byo(**changes: Any) -> dict[str, Any]:
    cfg = copy.deepcopy(BYO)
    for key, value in changes.items():
        if value is None:
            cfg.pop(key)
        else:
            cfg[key] = value
    return cfg


def test_only_kubernetes_objects_through_the_named_kubeconfig_and_context() -> None:
    rec = run_stack(load_stack("byo", byo()))
    packages = {r.package for r in rec.resources if r.custom and not r.is_provider}
    assert packages == {"kubernetes"}
    (provider,) = [r for r in rec.resources if r.type == "pulumi:providers:kubernetes"]
    assert provider.plain_inputs["kubeconfig"] == "/etc/inferstack/kubeconfig" and provider.plain_inputs["context"] == "ops"
    # every Kubernetes object goes through that provider; present add-ons get no Helm release
    assert all(r.provider_urn == provider.urn for r in rec.resources if r.package == "kubernetes" and r.custom and not r.is_provider)
    assert not rec.of_type("kubernetes:helm.sh/v3:Release")
    (isvc,) = rec.of_type("kubernetes:serving.kserve.io/v1beta1:InferenceService")
    assert isvc.plain_inputs["spec"]["predictor"]["model"]["storageUri"] == "s3://acme-models/models/llama-3-8b-instruct/v3/"
    assert isvc.plain_inputs["spec"]["predictor"]["nodeSelector"] == {"inferstack.io/accelerator": "nvidia-l4", "inferstack.io/pool": "gpu-l4"}
    assert rec.outputs["cluster_name"] == "made-elsewhere"


def test_add_ons_marked_install_are_installed_from_their_pinned_charts() -> None:
    existing = {**BYO["inferstack:existingCluster"], "addons": {**PRESENT, "certManager": "install", "keda": "install"}}
    rec = run_stack(load_stack("byo", byo(**{"inferstack:existingCluster": existing})))
    charts = sorted(r.plain_inputs["name"] for r in rec.of_type("kubernetes:helm.sh/v3:Release"))
    assert charts == ["cert-manager", "keda"]


def test_kueue_is_installed_by_default_and_its_queues_declared_either_way() -> None:
    """Kueue follows the add-on rule: installed unless marked present; a present Kueue gets the stack's queues."""
    queues = "kubernetes:kueue.x-k8s.io/v1beta2:ClusterQueue"
    addons = {k: v for k, v in PRESENT.items() if k != "kueue"}
    installed = run_stack(load_stack("byo", byo(**{"inferstack:existingCluster": {**BYO["inferstack:existingCluster"], "addons": addons}})))
    (release,) = installed.of_type("kubernetes:helm.sh/v3:Release")
    assert release.plain_inputs["name"] == "kueue"
    present = run_stack(load_stack("byo", byo()))
    for rec in (installed, present):
        (provider,) = [r for r in rec.resources if r.type == "pulumi:providers:kubernetes"]
        names = sorted(r.plain_inputs["metadata"]["name"] for r in rec.of_type(queues))
        assert names == ["inferstack-ns-team-nlp", "inferstack-pool-gpu-l4"]
        assert all(r.provider_urn == provider.urn for r in rec.resources if "kueue.x-k8s.io" in r.type)
    # Scheduling off: neither the chart nor a queue, whatever the add-on says.
    off = run_stack(load_stack("byo", byo(**{
        "inferstack:existingCluster": {**BYO["inferstack:existingCluster"], "addons": addons}, "inferstack:scheduling": {"enabled": False},
    })))
    assert not off.of_type("kubernetes:helm.sh/v3:Release") and not off.of_type(queues)


def test_secrets_are_delivered_from_the_clusters_own_store() -> None:
    existing = {**BYO["inferstack:existingCluster"], "secretStore": "vault"}
    secrets = [{"name": "hf-token", "namespaces": ["team-nlp"], "key": "HF_TOKEN"}]
    rec = run_stack(load_stack("byo", byo(**{"inferstack:existingCluster": existing, "inferstack:secrets": secrets})))
    assert not rec.of_type("kubernetes:external-secrets.io/v1:ClusterSecretStore")
    (es,) = rec.of_type("kubernetes:external-secrets.io/v1:ExternalSecret")
    spec = es.plain_inputs["spec"]
    assert spec["secretStoreRef"] == {"name": "vault", "kind": "ClusterSecretStore"}
    assert spec["data"] == [{"secretKey": "HF_TOKEN", "remoteRef": {"key": "inferstack/byo/hf-token"}}]


@pytest.mark.parametrize(
    ("changes", "issue"),
    [
        ({"inferstack:network": {"cidr": "10.1.0.0/16"}},
         "inferstack:network: describes a cluster inferstack builds; a stack with existingCluster does not use it: remove it"),
        ({"inferstack:existingCluster": {**BYO["inferstack:existingCluster"], "registry": None}},
         "inferstack:existingCluster.registry: required with models (unless platformStack gives the platform's): the bucket "
         "they are served from, e.g. {bucket: my-models}"),
        ({"inferstack:secrets": [{"name": "hf-token", "namespaces": ["team-nlp"]}]},
         "inferstack:existingCluster.secretStore: required with inferstack:secrets: the cluster's ClusterSecretStore holding the entries inferstack/<stack>/<secret>"),
        ({"inferstack:existingCluster": {**BYO["inferstack:existingCluster"], "addons": {"kserve": "maybe"}}},
         "inferstack:existingCluster.addons.kserve: Input should be 'install' or 'present'"),
    ],
)
def test_what_an_existing_cluster_stack_lacks_is_a_config_error(changes: dict[str, Any], issue: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_stack("byo", byo(**changes))
    assert any(str(i).startswith(issue) for i in err.value.issues), err.value.issues


def test_value_from_is_required_on_a_cloud_stack_and_refused_on_an_existing_cluster() -> None:
    from tests.conftest import stack_config

    cloud = dict(stack_config("prod").values)
    cloud["inferstack:secrets"] = [{"name": "hf-token", "namespaces": ["team-nlp"]}]
    with pytest.raises(ConfigError, match=r"inferstack:secrets\[0\]\.valueFrom: required: the secure config key"):
        load_stack("prod", cloud)
    existing = {**BYO["inferstack:existingCluster"], "secretStore": "vault"}
    secrets = [{"name": "hf-token", "namespaces": ["team-nlp"], "valueFrom": "inferstack-secrets:hfToken"}]
    with pytest.raises(ConfigError, match=r"valueFrom: not used with existingCluster: the value is read from the cluster's store"):
        load_stack("byo", byo(**{"inferstack:existingCluster": existing, "inferstack:secrets": secrets}))
