"""Workload hygiene (token automount, image pinning and provenance, requests and limits), stored data (hostPath
PersistentVolumes, credentials in ConfigMaps) and the effective-permission logic of ``rbac-dangerous-grants``.

Resource and stack policies run through the real policy objects and the offline evaluator (the harness of
``tests/policies/test_rules.py``); the pure functions without Pulumi; one program end to end through
``inferstack policy check --program`` (``tests/programs/k8s_hygiene.py``).
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from inferstack.policies.pack import ENTRY_BY_NAME
from inferstack.policies.rules import k8s_data, k8s_permissions, k8s_workloads
from inferstack.policies.rules.k8s_credentials import credential_problems, entropy, high_entropy, secret_key
from inferstack.policies.rules.k8s_workloads import parse_image, pinning_problem, trusted
from tests.conftest import REFERENCE_STACKS
from tests.conftest import recording as stack_recording
from tests.policies.test_k8s_rules import RESTRICTED_POD, WORKLOADS
from tests.policies.test_rules import DELETE, Case, Res, _findings, case_tests, one

POLICIES = [e.name for m in (k8s_workloads, k8s_data) for e in m.ENTRIES]
CORE = "kubernetes:core/v1:"
APPS = "kubernetes:apps/v1:"
PROGRAM = Path(__file__).resolve().parents[1] / "programs" / "k8s_hygiene.py"

#: RESTRICTED_POD with the hygiene this module checks: requests and limits, token not mounted.
RESOURCES = {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
HYGIENIC_POD: dict[str, Any] = copy.deepcopy(RESTRICTED_POD)
HYGIENIC_POD["automountServiceAccountToken"] = False
HYGIENIC_POD["serviceAccountName"] = "app"
for _c in (*HYGIENIC_POD["containers"], *HYGIENIC_POD["initContainers"]):
    _c["resources"] = copy.deepcopy(RESOURCES)


def with_pod(props: dict, path: tuple, pod: dict) -> dict:
    out = copy.deepcopy(props)
    node = out
    for k in path[:-1]:
        node = node[k]
    merged = {**node[path[-1]], **copy.deepcopy(pod)} if path[-1] == "spec" and "supportedModelFormats" in node[path[-1]] \
        else copy.deepcopy(pod)
    node[path[-1]] = merged
    return out


#: Every pod-bearing kind (as in test_k8s_rules), with the hygienic pod.
HYGIENIC = [(t, with_pod(props, path, HYGIENIC_POD), path) for t, props, path in WORKLOADS]
for _t, _props, _ in HYGIENIC:
    if _t.endswith(":InferenceService"):  # the predictor beside a transformer is a pod too
        _props["spec"]["predictor"]["automountServiceAccountToken"] = False
#: Kinds whose pod spec decides the token mount and must set resources (a ServingRuntime's are merged into the
#: InferenceService's predictor; a patch keeps live values).
RUNTIME = ("ServingRuntime", "ClusterServingRuntime")


def _deploy(**pod: Any) -> tuple[Res, ...]:
    p = copy.deepcopy(HYGIENIC_POD)
    p.update(pod)
    p = {k: v for k, v in p.items() if v is not DELETE}
    return one(APPS + "Deployment", {"metadata": {"name": "app", "namespace": "team-a"},
                                     "spec": {"template": {"spec": p}}})


SA = Res(CORE + "ServiceAccount", {"metadata": {"name": "app", "namespace": "team-a"},
                                   "automountServiceAccountToken": False}, name="app-sa")
DEPLOY_TOKEN_UNSET = (*_deploy(automountServiceAccountToken=DELETE), SA)
POD = (0, "props", "spec", "template", "spec")
CONTAINER = (*POD, "containers", 0)

CASES: list[Case] = []
for i, (t, props, path) in enumerate(HYGIENIC):
    kind = t.rsplit(":", 1)[-1]
    base = (0, "props", *path)
    CASES.append(Case(f"latest-{kind}-{i}", "k8s-image-pinned", one(t, props), (*base, "containers", 0, "image"),
                      "registry.example/app:latest"))
    CASES.append(Case(f"untagged-init-{kind}-{i}", "k8s-image-pinned", one(t, props),
                      (*base, "initContainers", 0, "image"), "registry.example/init"))
    if kind not in RUNTIME and not kind.endswith("Patch"):
        CASES.append(Case(f"token-unset-{kind}-{i}", "k8s-service-account-token-automount", one(t, props),
                          (*base, "automountServiceAccountToken"), DELETE))
        CASES.append(Case(f"no-limits-{kind}-{i}", "k8s-container-resources", one(t, props),
                          (*base, "containers", 0, "resources", "limits"), DELETE))
    if kind.endswith("Patch") or kind in RUNTIME:
        continue  # a patch keeps the live values; KServe merges a runtime's containers with the predictor's
    CASES.append(Case(f"no-memory-limit-{kind}-{i}", "k8s-container-resources", one(t, props),
                      (*base, "initContainers", 0, "resources", "limits", "memory"), DELETE))

CASES += [
    # Token: unset on the pod, decided by the program's ServiceAccount; true only with a dedicated account.
    Case("token-sa-mounts", "k8s-service-account-token-automount", DEPLOY_TOKEN_UNSET,
         (1, "props", "automountServiceAccountToken"), True),
    # A ServiceAccount leaving automountServiceAccountToken unset mounts the token (the default): the pod using it
    # that leaves it unset too is reported (the pod decides; a ServiceAccount alone is not judged).
    Case("token-sa-automount-unset", "k8s-service-account-token-automount", DEPLOY_TOKEN_UNSET,
         (1, "props", "automountServiceAccountToken"), DELETE),
    Case("token-sa-other-namespace", "k8s-service-account-token-automount", DEPLOY_TOKEN_UNSET,
         (1, "props", "metadata", "namespace"), "team-b"),
    Case("token-true-default-sa", "k8s-service-account-token-automount", _deploy(automountServiceAccountToken=True),
         (*POD, "serviceAccountName"), DELETE),
    Case("token-in-config-group", "k8s-service-account-token-automount",
         one("kubernetes:yaml/v2:ConfigGroup", {"objs": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                                          "metadata": {"name": "app"},
                                                          "spec": {"template": {"spec": HYGIENIC_POD}}}]}),
         (0, "props", "objs", 0, "spec", "template", "spec", "automountServiceAccountToken"), DELETE),
    # Images: digests, provenance settings.
    Case("digest-malformed", "k8s-image-pinned", _deploy(), (*CONTAINER, "image"), "registry.example/app@sha256:abc"),
    Case("registry-untrusted", "k8s-image-provenance",
         _deploy(containers=[{**HYGIENIC_POD["containers"][0], "image": f"ghcr.io/example/app:1@sha256:{'a' * 64}"}],
                 initContainers=[]),
         (*CONTAINER, "image"), f"docker.io/example/app:1@sha256:{'a' * 64}",
         config={"trustedRegistries": ["ghcr.io"], "requireImageDigests": True}),
    Case("digest-required", "k8s-image-provenance",
         _deploy(containers=[{**HYGIENIC_POD["containers"][0], "image": f"ghcr.io/example/app:1@sha256:{'a' * 64}"}],
                 initContainers=[]),
         (*CONTAINER, "image"), "ghcr.io/example/app:1", config={"trustedRegistries": ["ghcr.io"], "requireImageDigests": True}),
    Case("repository-prefix", "k8s-image-provenance", _deploy(initContainers=[]),
         (*CONTAINER, "image"), "registry.example/other/app:1", config={"trustedRegistries": ["registry.example/app"]}),
]

# Pod-bearing custom resources: LeaderWorkerSet templates and Knative Services (judged by the PSS rules too).
LWS = {"apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet", "metadata": {"name": "llm"},
       "spec": {"leaderWorkerTemplate": {"size": 2, "leaderTemplate": {"spec": copy.deepcopy(HYGIENIC_POD)},
                                         "workerTemplate": {"spec": copy.deepcopy(HYGIENIC_POD)}}}}
KSVC = {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "metadata": {"name": "api"},
        "spec": {"template": {"spec": copy.deepcopy(HYGIENIC_POD)}}}
LWS_T, KSVC_T = "kubernetes:leaderworkerset.x-k8s.io/v1:LeaderWorkerSet", "kubernetes:serving.knative.dev/v1:Service"
WORKER = (0, "props", "spec", "leaderWorkerTemplate", "workerTemplate", "spec")
KPOD = (0, "props", "spec", "template", "spec")
CASES += [
    Case("lws-worker-latest", "k8s-image-pinned", one(LWS_T, LWS), (*WORKER, "containers", 0, "image"), "vllm/vllm-openai"),
    Case("lws-worker-privileged", "pss-privileged", one(LWS_T, LWS), (*WORKER, "containers", 0, "securityContext", "privileged"),
         True),
    Case("lws-leader-token", "k8s-service-account-token-automount", one(LWS_T, LWS),
         (0, "props", "spec", "leaderWorkerTemplate", "leaderTemplate", "spec", "automountServiceAccountToken"), DELETE),
    Case("knative-service-no-limits", "k8s-container-resources", one(KSVC_T, KSVC), (*KPOD, "containers", 0, "resources"),
         {"requests": {"cpu": "1", "memory": "1Gi"}}),
    Case("knative-service-host-network", "pss-host-namespaces", one(KSVC_T, KSVC), (*KPOD, "hostNetwork"), True),
]

# Helm values: an image string or an image map with tag latest; a map without tag is the chart's appVersion.
RELEASE = {"name": "exporter", "chart": "dcgm-exporter", "version": "4.7.0", "values": {
    "image": {"repository": "nvcr.io/nvidia/k8s/dcgm-exporter", "tag": "4.4.1-4.6.0-ubuntu22.04"},
    "sidecar": {"image": "registry.example/sidecar:2.1.0"}, "initImage": {"repository": "registry.example/init"}}}
CASES += [
    Case("helm-image-tag-latest", "k8s-image-pinned", one("kubernetes:helm.sh/v3:Release", RELEASE),
         (0, "props", "values", "image", "tag"), "latest"),
    Case("helm-image-string-untagged", "k8s-image-pinned", one("kubernetes:helm.sh/v4:Chart", RELEASE),
         (0, "props", "values", "sidecar", "image"), "registry.example/sidecar"),
]

# PersistentVolumes
PV = {"metadata": {"name": "models"}, "spec": {
    "capacity": {"storage": "500Gi"}, "accessModes": ["ReadOnlyMany"], "storageClassName": "efs",
    "csi": {"driver": "efs.csi.aws.com", "volumeHandle": "fs-0123456789abcdef0"}}}
LOCAL_PV = {"metadata": {"name": "nvme"}, "spec": {
    "capacity": {"storage": "1Ti"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "local-nvme",
    "local": {"path": "/mnt/disks/nvme0"},
    "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
        {"key": "kubernetes.io/hostname", "operator": "In", "values": ["node-1"]}]}]}}}}
CASES += [
    Case("pv-host-path", "k8s-persistent-volume-host-path", one(CORE + "PersistentVolume", PV),
         (0, "props", "spec", "hostPath"), {"path": "/var/lib/models", "type": "Directory"}),
    Case("pv-list-host-path", "k8s-persistent-volume-host-path", one(CORE + "PersistentVolumeList", {"items": [PV]}),
         (0, "props", "items", 0, "spec", "hostPath"), {"path": "/"}),
    *[Case(f"pv-local-{p.strip('/').replace('/', '-') or 'root'}", "k8s-persistent-volume-host-path",
           one(CORE + "PersistentVolume", LOCAL_PV), (0, "props", "spec", "local", "path"), p)
      for p in ("/", "/etc", "/var/lib/kubelet/pods", "/proc", "/root/.ssh")],
    Case("pv-in-config-group", "k8s-persistent-volume-host-path",
         one("kubernetes:yaml/v2:ConfigGroup", {"objs": [{"apiVersion": "v1", "kind": "PersistentVolume", **PV}]}),
         (0, "props", "objs", 0, "spec", "hostPath"), {"path": "/data"}),
]

# ConfigMaps: the compliant one holds ordinary configuration, including secret-like names that hold references.
CONFIG = {"metadata": {"name": "app", "namespace": "team-a"}, "data": {
    "LOG_LEVEL": "info", "MODEL_URI": "s3://models/llm/v1/", "HF_TOKEN_PATH": "/var/run/secrets/hf/token",
    "API_KEY_SECRET_NAME": "openai-api-key", "jwks_public_key": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEexample0123",
    "app.yaml": "server:\n  port: 8080\n  token_file: /var/run/secrets/app/token\ndb:\n  host: db.internal\n",
    "dashboard.json": json.dumps({"uid": "a1b2c3d4e5f6g7h8i9j0", "title": "latency"}, indent=1),
}}
DATA = (0, "props", "data")
CREDENTIALS = {
    "aws-key-id": ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
    "aws-session-key-id": ("id", "ASIAY34FZKBOKMUTVV7A"),
    "aws-secret-key": ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    "pem": ("tls.pem", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n"),
    "openssh": ("id", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----"),
    "github": ("notes", "clone with ghp_16C7e42F292c6912E7710c838347Ae178B4a"),
    "slack": ("webhook", "xoxb-2048-4096-8192-abcdefghijklmnopqrstuvwx"),
    "hugging-face": ("HF_TOKEN", "hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345"),
    "high-entropy-password": ("DB_PASSWORD", "q7#Vz!p2L9x@R4m$"),
    "ini-line": ("config.ini", "[default]\nregion = eu-west-1\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"),
    "yaml-line": ("app.yaml", "db:\n  host: db.internal\n  password: 'Zm9vYmFyYmF6cXV4MTIzNDU2'\n"),
    "json-one-line": ("app.json", '{"db": {"host": "db.internal", "password": "q7Vz9p2L9xR4mT3k"}}'),
}
CASES += [
    *[Case(f"configmap-{cid}", "k8s-configmap-credentials", one(CORE + "ConfigMap", CONFIG), (*DATA, key), value)
      for cid, (key, value) in CREDENTIALS.items()],
    Case("configmap-binary-data", "k8s-configmap-credentials", one(CORE + "ConfigMap", CONFIG),
         (0, "props", "binaryData"), {"key.pem": "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUUKLS0tLS1FTkQgUFJJVkFURSBLRVktLS0tLQo="}),
    Case("configmap-list", "k8s-configmap-credentials", one(CORE + "ConfigMapList", {"items": [CONFIG]}),
         (0, "props", "items", 0, "data", "API_KEY"), "sk-proj-8fJ2kL9qX3mN7vB1cZ5tR0wY"),
    Case("configmap-patch", "k8s-configmap-credentials", one(CORE + "ConfigMapPatch", CONFIG), (*DATA, "GITLAB"),
         "glpat-xYz12345678901234567"),
]


test_compliant_fixture_passes, test_one_field_change_violates = case_tests(CASES)


def test_every_policy_has_cases_controls_remediation_and_levels() -> None:
    assert set(POLICIES) <= {c.policy for c in CASES}
    for name in POLICIES:
        e = ENTRY_BY_NAME[name]
        assert e.policy.description and e.policy.remediation_steps and e.controls and e.clouds == {"kubernetes"}, name
    dev = {name: ENTRY_BY_NAME[name].levels for name in POLICIES}
    # what a dev stack may tolerate (a moving tag, no limits, a mounted token) is advisory there
    for name in ("k8s-service-account-token-automount", "k8s-image-pinned", "k8s-image-provenance",
                 "k8s-container-resources"):
        assert {k.value: v for k, v in dev[name].items()} == {"dev": "advisory", "staging": "mandatory", "prod": "mandatory"}
    for name in ("k8s-persistent-volume-host-path", "k8s-configmap-credentials", "rbac-dangerous-grants"):
        assert set(ENTRY_BY_NAME[name].levels.values()) == {"mandatory"}


def test_hygienic_workloads_pass_every_new_policy() -> None:
    for t, props, _ in HYGIENIC:
        for name in (*POLICIES, "rbac-dangerous-grants"):
            assert _findings(one(t, props), name, trustedRegistries=["registry.example"]) == [], (t, name)


def test_provenance_is_opt_in_and_settings_reach_the_pack_config() -> None:
    assert _findings(_deploy(), "k8s-image-provenance") == []  # reference stacks: no registry list, no digests
    from inferstack.config import Environment, PolicySettings
    from inferstack.config.policy import PolicyConfig
    from inferstack.policies.pack import pack_config
    cfg = pack_config(PolicySettings(environment=Environment.PROD, allowed_regions=("eu-west-1",), policy=PolicyConfig(
        trusted_registries=("ghcr.io",), require_image_digests=True,
        rbac_allowed_service_accounts={"system:serviceaccount:kube-system:x": "reason"})))
    assert cfg["k8s-image-provenance"] == {"enforcementLevel": "mandatory", "trustedRegistries": ["ghcr.io"],
                                           "requireImageDigests": True}
    assert cfg["rbac-dangerous-grants"]["allowedServiceAccounts"] == {"system:serviceaccount:kube-system:x": "reason"}


# ---------------------------------------------------------------- pure functions


@pytest.mark.parametrize(("image", "registry", "repository", "tag", "problem"), [
    ("nginx", "docker.io", "docker.io/library/nginx", None, "no tag"),
    ("nginx:latest", "docker.io", "docker.io/library/nginx", "latest", "latest"),
    ("vllm/vllm-openai:v0.11.1", "docker.io", "docker.io/vllm/vllm-openai", "v0.11.1", None),
    ("registry.example:5000/team/app", "registry.example:5000", "registry.example:5000/team/app", None, "no tag"),
    ("localhost/app:1", "localhost", "localhost/app", "1", None),
    (f"ghcr.io/x/y@sha256:{'0' * 64}", "ghcr.io", "ghcr.io/x/y", None, None),
    (f"ghcr.io/x/y:latest@sha256:{'0' * 64}", "ghcr.io", "ghcr.io/x/y", "latest", None),
])
def test_image_references_parse_like_the_runtime(image, registry, repository, tag, problem) -> None:
    ref = parse_image(image)
    assert (ref.registry, ref.repository, ref.tag) == (registry, repository, tag)
    found = pinning_problem(image)
    assert (found is None) if problem is None else (problem in found)


def test_trusted_registries_match_hosts_and_repository_prefixes() -> None:
    assert trusted(parse_image("public.ecr.aws/neuron/x:1"), ("public.ecr.aws/neuron/",))
    assert not trusted(parse_image("public.ecr.aws/neuronx/x:1"), ("public.ecr.aws/neuron",))
    assert trusted(parse_image("nginx:1"), ("docker.io",))
    assert not trusted(parse_image("ghcr.io.evil.example/x:1"), ("ghcr.io",))


def test_entropy_threshold_separates_tokens_from_words() -> None:
    assert entropy("aaaa") == 0 and round(entropy("ab"), 3) == 1.0
    assert high_entropy("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY") and high_entropy("9f86d081884c7d659a2feaa0c55ad015")
    for word in ("changeme-changeme", "/var/run/secrets/hf/token", "s3://models/llm/v1/", "passwordpassword"):
        assert not high_entropy(word), word
    assert secret_key("DB_PASSWORD") and secret_key("tls.key") and not secret_key("jwks_public_key")
    assert not secret_key("HF_TOKEN_PATH") and not secret_key("team-nlp-chat.json")


def test_reference_stack_configmaps_hold_no_credentials_and_no_secret_like_keys() -> None:
    """The measurement behind the entropy threshold: every ConfigMap value of the reference stacks."""
    from inferstack.policies.evaluate import policy_props
    from inferstack.policies.rules.k8s_objects import objects
    seen = 0
    for stack in REFERENCE_STACKS:
        for r in stack_recording(stack).resources:
            for obj in objects(r.type, policy_props(r.inputs)) if r.type.startswith("kubernetes:") else ():
                if obj.kind != "ConfigMap":
                    continue
                for key, value in (obj.props.get("data") or {}).items():
                    seen += 1
                    assert not secret_key(key), (stack, key)
                    assert list(credential_problems(key, value)) == [], (stack, key)
    assert seen > 0


RBAC = "rbac.authorization.k8s.io"


def test_rule_expansion_follows_kubernetes_rbac_matching() -> None:
    grants = k8s_permissions.rule_grants
    assert grants({"apiGroups": [""], "resources": ["*"], "verbs": ["create"]}, "create", "", "pods/exec")
    assert grants({"apiGroups": [""], "resources": ["*/exec"], "verbs": ["*"]}, "create", "", "pods/exec")
    assert not grants({"apiGroups": [""], "resources": ["pods"], "verbs": ["create"]}, "create", "", "pods/exec")
    assert not grants({"apiGroups": ["apps"], "resources": ["pods"], "verbs": ["create"]}, "create", "", "pods")
    # create carries no object name: resourceNames never authorize it
    assert not grants({"apiGroups": [""], "resources": ["persistentvolumes"], "verbs": ["create"],
                       "resourceNames": ["pv-1"]}, "create", "", "persistentvolumes", nameless=True)
    hits = k8s_permissions.dangerous_hits([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}])
    assert {h.grant.id for h in hits} == {g.id for g in k8s_permissions.DANGEROUS_GRANTS}


def test_label_selectors_of_aggregation_rules() -> None:
    match = k8s_permissions.selector_matches
    labels = {"team": "a", "tier": "gpu"}
    assert match({"matchLabels": {"team": "a"}}, labels)
    assert match({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["gpu", "tpu"]}]}, labels)
    assert not match({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["gpu"]}]}, labels)
    assert match({"matchExpressions": [{"key": "x", "operator": "DoesNotExist"}]}, labels)
    assert not match({}, labels)


def _role(kind: str, name: str, rules: list, labels: dict | None = None, selectors: list | None = None) -> Any:
    props: dict[str, Any] = {"metadata": {"name": name, "labels": labels or {}}, "rules": rules}
    if selectors:
        props["aggregationRule"] = {"clusterRoleSelectors": selectors}
    return k8s_permissions.role_of(kind, props)


def test_holders_follow_aggregation_transitively_and_allow_listed_controllers_pass() -> None:
    token = [{"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]}]
    leaf = _role("ClusterRole", "leaf", token, {"agg": "mid"})
    mid = _role("ClusterRole", "mid", [], {"agg": "top"}, [{"matchLabels": {"agg": "mid"}}])
    top = _role("ClusterRole", "top", [], None, [{"matchLabels": {"agg": "top"}}])
    crb = k8s_permissions.binding_of("ClusterRoleBinding", {
        "roleRef": {"kind": "ClusterRole", "name": "top"},
        "subjects": [{"kind": "ServiceAccount", "name": "ctl", "namespace": "kube-system"}]}, "ClusterRoleBinding top")
    agg = k8s_permissions.aggregators([leaf, mid, top])
    h = k8s_permissions.holders(leaf, [crb], agg)
    assert set(h.subjects) == {"system:serviceaccount:kube-system:ctl"} and h.cluster_wide() == sorted(h.subjects)
    verdict = k8s_permissions.judge(leaf, h, {})
    assert verdict is not None and "aggregation into ClusterRole mid" in next(k8s_permissions.describe(leaf, verdict, h))
    assert k8s_permissions.judge(leaf, h, {"system:serviceaccount:kube-system:ctl": "token broker"}) is None
    # a namespaced Role: workload creation stays in its namespace, a token request reaches every service account there
    create = [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["create"]}]
    rb = k8s_permissions.binding_of("RoleBinding", {"metadata": {"namespace": "a"}, "roleRef": {"kind": "Role", "name": "r"},
                                                    "subjects": [{"kind": "Group", "name": "deployers"}]}, "RoleBinding r")
    for rules, reported in ((create, False), (token, True)):
        role = k8s_permissions.role_of("Role", {"metadata": {"name": "r", "namespace": "a"}, "rules": rules})
        h = k8s_permissions.holders(role, [rb], {})
        assert (k8s_permissions.judge(role, h, {}) is not None) is reported, rules


def test_unknown_token_mount_is_not_evaluated() -> None:
    from inferstack.engine import UNKNOWN
    found = _findings(_deploy(automountServiceAccountToken=UNKNOWN), "k8s-service-account-token-automount")
    assert len(found) == 1 and found[0].not_evaluated and found[0].enforcement_level == "advisory", found
    found = _findings(_deploy(containers=[{**HYGIENIC_POD["containers"][0], "image": UNKNOWN}]), "k8s-image-pinned")
    assert len(found) == 1 and found[0].not_evaluated, found


def test_unknown_rules_are_not_evaluated() -> None:
    from inferstack.engine import UNKNOWN
    role = Res("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", {"metadata": {"name": "x"}, "rules": UNKNOWN})
    found = _findings((role,), "rbac-dangerous-grants")
    assert len(found) == 1 and found[0].not_evaluated and found[0].enforcement_level == "advisory"


# ---------------------------------------------------------------- end to end and bad input


def _check(tmp_path: Path, variant: str, policy: dict | None = None) -> tuple[subprocess.CompletedProcess, dict | None]:
    config: dict[str, Any] = {"aws:region": "eu-west-1", "inferstack:cloud": "aws", "inferstack:environment": "prod",
                              "inferstack:residency": {"allowedRegions": ["eu-west-1"]}, "app:variant": variant}
    if policy is not None:
        config["inferstack:policy"] = policy
    cfg = tmp_path / "Pulumi.team.yaml"
    cfg.write_text(yaml.safe_dump({"config": config}))
    report = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-m", "inferstack", "policy", "check", "--config", str(cfg), "--program",
                           str(PROGRAM), "--json", str(report)], capture_output=True, text=True, timeout=300)
    return proc, (json.loads(report.read_text()) if report.exists() else None)


def test_program_compliant_passes_and_violating_reports_each_marked_line(tmp_path: Path) -> None:
    proc, doc = _check(tmp_path, "compliant")
    assert proc.returncode == 0 and doc["findings"] == [], proc.stdout + proc.stderr
    proc, doc = _check(tmp_path, "violating")
    assert proc.returncode == 1, proc.stderr
    marked = {line.split("# violation: ")[1].strip() for line in PROGRAM.read_text().splitlines() if "# violation: " in line}
    assert {f["policy"] for f in doc["findings"]} == marked
    assert all(f["enforcementLevel"] == "mandatory" for f in doc["findings"])


@pytest.mark.parametrize(("policy", "key"), [
    ({"rbacAllowedServiceAccounts": {"node-exporter": "reads node metrics"}}, "rbacAllowedServiceAccounts"),
    ({"rbacAllowedServiceAccounts": {"system:serviceaccount:monitoring:node-exporter": " "}}, "rbacAllowedServiceAccounts"),
    ({"trustedRegistries": ["https://ghcr.io"]}, "trustedRegistries"),
    ({"requireImageDigests": "sometimes"}, "requireImageDigests"),
])
def test_bad_policy_settings_are_refused_with_exit_2(tmp_path: Path, policy: dict, key: str) -> None:
    proc, doc = _check(tmp_path, "compliant", policy)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in proc.stderr, proc.stderr
    assert key in lines[0]
    assert doc is None and proc.stdout == ""
