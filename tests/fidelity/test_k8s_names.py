"""Every rendered Kubernetes object, of any kind (the walker lists no kinds), has a name, namespace, labels and
annotations the API server accepts: metadata.name by kind (DNS-1123 subdomain; labels for namespaces, RFC 1035 labels
for Services and InferenceServices, path segments for RBAC), namespaces as DNS-1123 labels, label keys and values and
annotation keys with their syntax and lengths, at any depth (pod templates, selectors, node selectors).

Recordings: every reference stack, every example, the AWS and GCP variations, and the longest names the config
accepts on both clouds. Decision: names people type (model, namespace, pool, secret) are refused at config time
(exit 2, naming the key) when a name derived from them would be invalid, never shortened: they are read back in
URLs, kubectl and dashboards (inferstack/checks/names.py)."""

from __future__ import annotations

import pytest

from inferstack.checks.names import kubernetes_object_problems
from inferstack.cli.render import kubernetes_objects
from inferstack.config import ConfigError
from inferstack.load import load_stack
from tests.fidelity import aws_fidelity as ax
from tests.fidelity import variations as v

SOURCES = {
    **{k: ("aws", k) for k in ax.RECORDINGS},
    **{k: ("gcp", k) for k in v.GCP_RECORDINGS},
    **{k: ("extra", k) for k in v.AWS_EXTRA_RECORDINGS},
}


def _recording(key: str):
    return ax.recording(key) if SOURCES[key][0] == "aws" else v.gcp_recording(key)


@pytest.mark.parametrize("key", sorted(SOURCES))
def test_every_rendered_object_has_valid_names_and_labels(key: str) -> None:
    objs = kubernetes_objects(_recording(key))
    assert objs
    problems = [p for o in objs for p in kubernetes_object_problems(o)]
    print(f"{key}: {len(objs)} objects, kinds {sorted({o['kind'] for o in objs})}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("base", ["prod", "gcp-prod"])
@pytest.mark.parametrize("models_first", [False, True])
def test_one_more_character_is_refused_naming_the_key(base: str, models_first: bool) -> None:
    _, _, _, refusals = v.longest_names(base, models_first)
    keys = {"stack": "stack", "pool": "acceleratorPools[", "namespace": "namespace", "model": "models[", "secret": "secrets["}
    for what, _accepted, refused, err in refusals:
        assert isinstance(err, ConfigError)
        assert any(keys[what] in str(issue) for issue in err.issues), (what, refused, str(err))


def test_a_model_name_deriving_too_long_a_host_label_is_refused() -> None:
    stack, config, secrets = v.stack_values("prod")
    v.rename_namespace(config, config["inferstack:models"][0]["namespace"], "team-natural-language-processing")
    config["inferstack:models"][0]["name"] = "chat-assistant-large"  # 20 + 11 + 32 = 63 would fit; 64 does not
    config["inferstack:models"][0]["name"] += "x"
    with pytest.raises(ConfigError, match=r"inferstack:models\[0\]\.name: KServe predictor host label"):
        load_stack(stack, config, secret_keys=secrets)


# ------------------------------------------------------------------ the checker catches what it claims


@pytest.mark.parametrize(
    "obj,needle",
    [
        ({"kind": "Namespace", "metadata": {"name": "Team"}}, "metadata.name"),
        ({"kind": "Service", "metadata": {"name": "1svc", "namespace": "a"}}, "DNS-1035"),
        ({"kind": "InferenceService", "metadata": {"name": "m" * 64, "namespace": "a"}}, "1-63"),
        ({"kind": "ConfigMap", "metadata": {"name": "a_b"}}, "Kubernetes object name"),
        ({"kind": "ConfigMap", "metadata": {"name": "a", "namespace": "a.b"}}, "metadata.namespace"),
        ({"kind": "Role", "metadata": {"name": "a/b", "namespace": "a"}}, "path segment"),
        ({"kind": "X", "metadata": {"name": "a", "labels": {"inferstack.io/pool": "-bad"}}}, "label value"),
        ({"kind": "X", "metadata": {"name": "a", "labels": {"a/b/c": "x"}}}, "key 'a/b/c'"),
        ({"kind": "X", "metadata": {"name": "a", "labels": {"k": "v" * 64}}}, "0-63"),
        ({"kind": "X", "metadata": {"name": "a", "annotations": {"Bad_Prefix.io/x": "y"}}}, "prefix"),
        ({"kind": "X", "metadata": {"name": "a", "annotations": {"x": "y" * 300_000}}}, "bytes"),
        (
            {"kind": "Deployment", "metadata": {"name": "a"}, "spec": {"template": {"metadata": {"labels": {"k": "a b"}}}}},
            "spec.template.metadata.labels",
        ),
        ({"kind": "Deployment", "metadata": {"name": "a"}, "spec": {"selector": {"matchLabels": {"k": "a b"}}}}, "matchLabels"),
        ({"kind": "Pod", "metadata": {"name": "a"}, "spec": {"nodeSelector": {"k": "a/b"}}}, "nodeSelector"),
    ],
)
def test_checker_rejects(obj: dict, needle: str) -> None:
    problems = kubernetes_object_problems(obj)
    assert any(needle in p for p in problems), problems


def test_checker_accepts_valid_and_ignores_non_kubernetes_labels() -> None:
    rule = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "slo.rules", "namespace": "team-nlp", "labels": {"app.kubernetes.io/part-of": "inferstack", "empty": ""}},
        "spec": {"groups": [{"rules": [{"labels": {"severity": "page me"}, "annotations": {"summary": "x y"}}]}]},
    }
    assert kubernetes_object_problems(rule) == []
