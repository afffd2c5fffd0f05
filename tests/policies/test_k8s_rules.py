"""Kubernetes policies (Pod Security Standards, namespaces, RBAC, env secrets, lists, ConfigGroups, Helm values):
a compliant fixture passes and a one-field change fails, through the real policy objects and the offline evaluator
(the harness of ``tests/policies/test_rules.py``).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pulumi_policy import PolicyResourceOptions, ResourceValidationArgs

from inferstack.policies.pack import ENTRY_BY_NAME, POLICY_NAMES
from inferstack.policies.rules import kubernetes as k8s_rules
from inferstack.policies.rules import pod_security, rbac
from inferstack.policies.rules.k8s_objects import objects, pod_specs
from tests.conftest import recording as stack_recording
from tests.policies.test_rules import DELETE, Case, Res, _findings, case_tests, one

K8S_MODULES = (pod_security, k8s_rules, rbac)
K8S_POLICIES = [e.name for m in K8S_MODULES for e in m.ENTRIES]

# ---------------------------------------------------------------- fixtures

#: A pod spec compliant with PSS restricted (hence baseline).
RESTRICTED_POD: dict[str, Any] = {
    "securityContext": {"runAsNonRoot": True, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"},
                        "sysctls": [{"name": "net.ipv4.ip_local_port_range", "value": "1024 65535"}],
                        "seLinuxOptions": {"type": "container_t"}},
    "containers": [{
        "name": "app", "image": "registry.example/app:1",
        "ports": [{"containerPort": 8080}],
        "env": [{"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf", "key": "token"}}},
                {"name": "TOKEN_PATH", "value": "/var/run/token"}, {"name": "LOG_LEVEL", "value": "info"}],
        "securityContext": {"allowPrivilegeEscalation": False, "privileged": False, "procMount": "Default",
                            "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
                            "appArmorProfile": {"type": "RuntimeDefault"}},
    }],
    "initContainers": [{
        "name": "init", "image": "registry.example/init:1",
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    }],
    "volumes": [{"name": "cache", "emptyDir": {}}, {"name": "cfg", "configMap": {"name": "cfg"}},
                {"name": "models", "persistentVolumeClaim": {"claimName": "models"}}],
}
APPS = "kubernetes:apps/v1:"
BATCH = "kubernetes:batch/v1:"
CORE = "kubernetes:core/v1:"
KSERVE = "kubernetes:serving.kserve.io/"


def template(pod: dict) -> dict:
    return {"spec": {"template": {"metadata": {"annotations": {}}, "spec": copy.deepcopy(pod)}}}


#: Every pod-bearing kind: (type token, props, path to the pod spec inside props).
WORKLOADS: list[tuple[str, dict, tuple]] = [
    (CORE + "Pod", {"metadata": {"name": "p", "annotations": {}}, "spec": copy.deepcopy(RESTRICTED_POD)}, ("spec",)),
    (CORE + "PodTemplate", {"template": {"spec": copy.deepcopy(RESTRICTED_POD)}}, ("template", "spec")),
    *[(APPS + k, template(RESTRICTED_POD), ("spec", "template", "spec"))
      for k in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")],
    (CORE + "ReplicationController", template(RESTRICTED_POD), ("spec", "template", "spec")),
    (BATCH + "Job", template(RESTRICTED_POD), ("spec", "template", "spec")),
    (BATCH + "CronJob", {"spec": {"jobTemplate": template(RESTRICTED_POD)}}, ("spec", "jobTemplate", "spec", "template", "spec")),
    (APPS + "DeploymentPatch", template(RESTRICTED_POD), ("spec", "template", "spec")),
    (CORE + "PodList", {"items": [{"metadata": {"name": "p"}, "spec": copy.deepcopy(RESTRICTED_POD)}]}, ("items", 0, "spec")),
    (KSERVE + "v1beta1:InferenceService",
     {"metadata": {"name": "llm"}, "spec": {"predictor": {**copy.deepcopy(RESTRICTED_POD), "minReplicas": 1}}},
     ("spec", "predictor")),
    (KSERVE + "v1beta1:InferenceService",
     {"metadata": {"name": "llm"}, "spec": {"predictor": {"model": {"modelFormat": {"name": "huggingface"}}},
                                            "transformer": copy.deepcopy(RESTRICTED_POD)}},
     ("spec", "transformer")),
    (KSERVE + "v1alpha1:ClusterServingRuntime",
     {"metadata": {"name": "rt"}, "spec": {"supportedModelFormats": [{"name": "huggingface"}], **copy.deepcopy(RESTRICTED_POD)}},
     ("spec",)),
    (KSERVE + "v1alpha1:ServingRuntime",
     {"metadata": {"name": "rt"}, "spec": {"supportedModelFormats": [{"name": "huggingface"}], **copy.deepcopy(RESTRICTED_POD)}},
     ("spec",)),
]


def _wid(t: str, path: tuple) -> str:
    return f"{t.rsplit(':', 1)[-1]}{'-' + path[1] if path[:1] == ('spec',) and len(path) == 2 else ''}"


#: (id, policy, path inside the pod spec, violating value)
PSS_VIOLATIONS: list[tuple[str, str, tuple, Any]] = [
    ("host-process-pod", "pss-host-process", ("securityContext", "windowsOptions"), {"hostProcess": True}),
    ("host-process-container", "pss-host-process", ("containers", 0, "securityContext", "windowsOptions"), {"hostProcess": True}),
    ("host-network", "pss-host-namespaces", ("hostNetwork",), True),
    ("host-pid", "pss-host-namespaces", ("hostPID",), True),
    ("host-ipc", "pss-host-namespaces", ("hostIPC",), True),
    ("privileged", "pss-privileged", ("containers", 0, "securityContext", "privileged"), True),
    ("privileged-init", "pss-privileged", ("initContainers", 0, "securityContext", "privileged"), True),
    ("cap-sys-admin", "pss-capabilities", ("containers", 0, "securityContext", "capabilities", "add"), ["SYS_ADMIN"]),
    ("cap-net-raw", "pss-capabilities", ("containers", 0, "securityContext", "capabilities", "add"), ["CAP_NET_RAW"]),
    ("host-path", "pss-host-path", ("volumes", 0), {"name": "root", "hostPath": {"path": "/"}}),
    ("host-port", "pss-host-ports", ("containers", 0, "ports", 0, "hostPort"), 8080),
    ("apparmor-unconfined", "pss-apparmor", ("containers", 0, "securityContext", "appArmorProfile", "type"), "Unconfined"),
    ("apparmor-pod-unconfined", "pss-apparmor", ("securityContext", "appArmorProfile"), {"type": "Unconfined"}),
    ("selinux-type", "pss-selinux", ("securityContext", "seLinuxOptions", "type"), "spc_t"),
    ("selinux-user", "pss-selinux", ("containers", 0, "securityContext", "seLinuxOptions"), {"user": "system_u"}),
    ("selinux-role", "pss-selinux", ("securityContext", "seLinuxOptions", "role"), "sysadm_r"),
    ("proc-mount", "pss-proc-mount", ("containers", 0, "securityContext", "procMount"), "Unmasked"),
    ("seccomp-unconfined-pod", "pss-seccomp", ("securityContext", "seccompProfile", "type"), "Unconfined"),
    ("seccomp-unconfined-container", "pss-seccomp", ("containers", 0, "securityContext", "seccompProfile"), {"type": "Unconfined"}),
    ("sysctl-unsafe", "pss-sysctls", ("securityContext", "sysctls", 0, "name"), "kernel.msgmax"),
    ("volume-nfs", "pss-volume-types", ("volumes", 0), {"name": "nfs", "nfs": {"server": "n", "path": "/"}}),
    ("volume-ebs", "pss-volume-types", ("volumes", 2), {"name": "ebs", "awsElasticBlockStore": {"volumeID": "vol-1"}}),
    ("ape-true", "pss-privilege-escalation", ("containers", 0, "securityContext", "allowPrivilegeEscalation"), True),
    ("ape-unset", "pss-privilege-escalation", ("initContainers", 0, "securityContext", "allowPrivilegeEscalation"), DELETE),
    ("non-root-unset", "pss-run-as-non-root", ("securityContext", "runAsNonRoot"), DELETE),
    ("non-root-false-container", "pss-run-as-non-root", ("containers", 0, "securityContext", "runAsNonRoot"), False),
    ("run-as-root-pod", "pss-run-as-non-root-user", ("securityContext", "runAsUser"), 0),
    ("run-as-root-container", "pss-run-as-non-root-user", ("containers", 0, "securityContext", "runAsUser"), 0),
    ("seccomp-unset", "pss-seccomp-strict", ("securityContext", "seccompProfile"), DELETE),
    ("seccomp-unconfined-strict", "pss-seccomp-strict", ("securityContext", "seccompProfile", "type"), "Unconfined"),
    ("caps-no-drop", "pss-capabilities-strict", ("containers", 0, "securityContext", "capabilities", "drop"), ["NET_RAW"]),
    ("caps-drop-unset", "pss-capabilities-strict", ("initContainers", 0, "securityContext", "capabilities"), DELETE),
    ("caps-add-chown", "pss-capabilities-strict", ("containers", 0, "securityContext", "capabilities", "add"), ["CHOWN"]),
]
#: Checks a patch does not make: it leaves unset fields as the live object has them.
REQUIRES_SET = {"ape-unset", "non-root-unset", "seccomp-unset", "caps-drop-unset"}

CASES: list[Case] = [
    Case(f"{vid}-{_wid(t, path)}-{i}", policy_name, one(t, props), (0, "props", *path, *vpath), bad)
    for i, (t, props, path) in enumerate(WORKLOADS)
    for vid, policy_name, vpath, bad in PSS_VIOLATIONS
    if not (t.endswith("Patch") and vid in REQUIRES_SET)
]

# AppArmor annotations (pod metadata / template metadata)
CASES += [
    Case("apparmor-annotation-pod", "pss-apparmor", one(*WORKLOADS[0][:2]),
         (0, "props", "metadata", "annotations", "container.apparmor.security.beta.kubernetes.io/app"), "unconfined"),
    Case("apparmor-annotation-template", "pss-apparmor", one(*WORKLOADS[2][:2]),
         (0, "props", "spec", "template", "metadata", "annotations", "container.apparmor.security.beta.kubernetes.io/app"),
         "unconfined"),
]

# KServe model containers: merged with their runtime, so unset fields pass; explicit bad values fail.
ISVC_MODEL = {"metadata": {"name": "llm"}, "spec": {"predictor": {
    "model": {"modelFormat": {"name": "huggingface"}, "storageUri": "s3://models/llm/v1/",
              "env": [{"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf", "key": "token"}}}]}}}}
ISVC = KSERVE + "v1beta1:InferenceService"
MODEL = (0, "props", "spec", "predictor", "model")
CASES += [
    Case("isvc-model-privileged", "pss-privileged", one(ISVC, ISVC_MODEL), (*MODEL, "securityContext"), {"privileged": True}),
    Case("isvc-model-ape-true", "pss-privilege-escalation", one(ISVC, ISVC_MODEL), (*MODEL, "securityContext"),
         {"allowPrivilegeEscalation": True}),
    Case("isvc-model-root", "pss-run-as-non-root-user", one(ISVC, ISVC_MODEL), (*MODEL, "securityContext"), {"runAsUser": 0}),
    Case("isvc-model-non-root-false", "pss-run-as-non-root", one(ISVC, ISVC_MODEL), (*MODEL, "securityContext"),
         {"runAsNonRoot": False}),
    Case("isvc-model-caps-add", "pss-capabilities", one(ISVC, ISVC_MODEL), (*MODEL, "securityContext"),
         {"capabilities": {"add": ["SYS_ADMIN"]}}),
    Case("isvc-predictor-host-network", "pss-host-namespaces", one(ISVC, ISVC_MODEL), (0, "props", "spec", "predictor", "hostNetwork"), True),
    Case("isvc-model-literal-token", "k8s-no-literal-secret-env", one(ISVC, ISVC_MODEL), (*MODEL, "env", 0),
         {"name": "HF_TOKEN", "value": "hf_abc"}),
]

# Namespaces
NS = {"metadata": {"name": "team-a", "labels": {"pod-security.kubernetes.io/enforce": "baseline",
                                                 "pod-security.kubernetes.io/warn": "restricted"}}}
NS_LABEL = (0, "props", "metadata", "labels", "pod-security.kubernetes.io/enforce")
CASES += [
    Case("ns-no-psa", "k8s-namespace-pod-security", one(CORE + "Namespace", NS), NS_LABEL, DELETE),
    Case("ns-privileged", "k8s-namespace-pod-security", one(CORE + "Namespace", NS), NS_LABEL, "privileged"),
    Case("ns-restricted-to-privileged", "k8s-namespace-pod-security",
         one(CORE + "Namespace", {"metadata": {"name": "x", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}}),
         NS_LABEL, "privileged"),
    Case("ns-patch-privileged", "k8s-namespace-pod-security", one(CORE + "NamespacePatch", NS), NS_LABEL, "privileged"),
    Case("ns-list-no-psa", "k8s-namespace-pod-security", one(CORE + "NamespaceList", {"items": [NS]}),
         (0, "props", "items", 0, "metadata", "labels"), {}),
]

# Literal secrets in env
DEPLOY_ENV = (0, "props", "spec", "template", "spec", "containers", 0, "env")
CASES += [
    *[Case(f"env-literal-{name.lower()}", "k8s-no-literal-secret-env", one(APPS + "Deployment", template(RESTRICTED_POD)),
           (*DEPLOY_ENV, 0), {"name": name, "value": "s3cr3t"})
      for name in ("HF_TOKEN", "DB_PASSWORD", "API_KEY", "AWS_SECRET_ACCESS_KEY", "OPENAI_API_KEY", "apiKey", "GITHUB_PAT_TOKEN")],
    Case("env-literal-aws-key-id-shape", "k8s-no-literal-secret-env", one(APPS + "Deployment", template(RESTRICTED_POD)),
         (*DEPLOY_ENV, 2), {"name": "AWS_ACCESS_KEY_ID", "value": "AKIAIOSFODNN7EXAMPLE"}),
    Case("env-literal-init", "k8s-no-literal-secret-env", one(BATCH + "CronJob", {"spec": {"jobTemplate": template(RESTRICTED_POD)}}),
         (0, "props", "spec", "jobTemplate", "spec", "template", "spec", "initContainers", 0, "env"),
         [{"name": "REDIS_PASSWORD", "value": "x"}]),
    Case("env-literal-runtime", "k8s-no-literal-secret-env", one(*WORKLOADS[13][:2]),
         (0, "props", "spec", "containers", 0, "env", 0, "value"), "hf_abc"),
]

# Secrets in lists and ConfigGroups
SECRET_ITEM = {"metadata": {"name": "hf"}, "type": "Opaque"}
CG = "kubernetes:yaml/v2:ConfigGroup"
CASES += [
    Case("secretlist-string-data", "k8s-contained-secrets-not-plaintext", one(CORE + "SecretList", {"items": [SECRET_ITEM]}),
         (0, "props", "items", 0, "stringData"), {"token": "hunter2"}),
    Case("list-secret-data", "k8s-contained-secrets-not-plaintext",
         one(CORE + "List", {"items": [{"apiVersion": "v1", "kind": "Secret", **SECRET_ITEM}]}),
         (0, "props", "items", 0, "data"), {"token": "aHVudGVyMg=="}),
]

# RBAC
ROLE = "kubernetes:rbac.authorization.k8s.io/v1:"
READ = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}
SECRETS_READ_NS = {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": ["hf"]}
CLUSTER_VIEW = {"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                "subjects": [{"kind": "Group", "name": "team-a"}]}
NS_EDIT = {"metadata": {"namespace": "team-a"},
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
           "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": "team-a"}]}
CASES += [
    *[Case(f"rbac-{verb}-{kind}", "rbac-no-escalation-verbs", one(ROLE + kind, {"rules": [READ]}),
           (0, "props", "rules", 0, "verbs"), ["get", verb])
      for kind in ("Role", "ClusterRole", "ClusterRolePatch") for verb in ("escalate", "bind", "impersonate")],
    Case("rbac-escalate-in-list", "rbac-no-escalation-verbs", one(ROLE + "ClusterRoleList", {"items": [{"rules": [READ]}]}),
         (0, "props", "items", 0, "rules", 0, "verbs"), ["escalate"]),
    Case("rbac-wildcard-in-list", "rbac-no-wildcards", one(ROLE + "RoleList", {"items": [{"rules": [READ]}]}),
         (0, "props", "items", 0, "rules", 0, "resources"), ["*"]),
    Case("clusterrole-reads-secrets", "rbac-no-cluster-secret-read", one(ROLE + "ClusterRole", {"rules": [READ]}),
         (0, "props", "rules", 0, "resources"), ["pods", "secrets"]),
    Case("clusterrole-secrets-list", "rbac-no-cluster-secret-read",
         one(ROLE + "ClusterRole", {"rules": [{**READ, "resources": ["secrets"], "verbs": ["create"]}]}),
         (0, "props", "rules", 0, "verbs"), ["list"]),
    Case("clusterrole-secrets-all-names", "rbac-no-cluster-secret-read", one(ROLE + "ClusterRole", {"rules": [SECRETS_READ_NS]}),
         (0, "props", "rules", 0, "resourceNames"), DELETE),
    Case("crb-view-to-edit", "rbac-no-cluster-secret-read", one(ROLE + "ClusterRoleBinding", CLUSTER_VIEW),
         (0, "props", "roleRef", "name"), "edit"),
    Case("crb-view-to-admin", "rbac-no-cluster-secret-read", one(ROLE + "ClusterRoleBinding", CLUSTER_VIEW),
         (0, "props", "roleRef", "name"), "admin"),
    Case("edit-to-default-sa", "rbac-no-admin-to-service-accounts", one(ROLE + "RoleBinding", NS_EDIT),
         (0, "props", "subjects", 0, "name"), "default"),
    Case("edit-to-sa-group", "rbac-no-admin-to-service-accounts", one(ROLE + "RoleBinding", NS_EDIT),
         (0, "props", "subjects", 0), {"kind": "Group", "name": "system:serviceaccounts:team-a"}),
    Case("cluster-admin-to-all-sas", "rbac-no-admin-to-service-accounts",
         one(ROLE + "ClusterRoleBinding", {"roleRef": {"kind": "ClusterRole", "name": "cluster-admin"},
                                           "subjects": [{"kind": "Group", "name": "inferstack:platform-admins"}]}),
         (0, "props", "subjects", 0, "name"), "system:serviceaccounts"),
    Case("view-made-cluster-admin-for-default", "rbac-no-admin-to-service-accounts",
         one(ROLE + "RoleBinding", {**NS_EDIT, "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "team-a"}],
                                    "roleRef": {"kind": "ClusterRole", "name": "view"}}),
         (0, "props", "roleRef", "name"), "cluster-admin"),
    Case("admin-to-default-sa-user", "rbac-no-admin-to-service-accounts", one(ROLE + "RoleBinding", NS_EDIT),
         (0, "props", "subjects", 0), {"kind": "User", "name": "system:serviceaccount:team-a:default"}),
    Case("crb-list-anonymous", "rbac-bindings", one(ROLE + "ClusterRoleBindingList", {"items": [CLUSTER_VIEW]}),
         (0, "props", "items", 0, "subjects", 0, "name"), "system:anonymous"),
]

# Effective RBAC permissions (rbac-dangerous-grants): a ClusterRole's grants bound in one namespace pass; the same
# grants reaching every namespace (ClusterRoleBinding, aggregation, built-in view, unbound) are reported on the role.
RBAC_API = "rbac.authorization.k8s.io"
DEPLOYER = {"metadata": {"name": "team-deployer"}, "rules": [
    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "watch", "create", "update", "patch"]},
    {"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]}]}
DEPLOYER_NS = {"metadata": {"name": "team-deployer", "namespace": "team-a"},
               "roleRef": {"apiGroup": RBAC_API, "kind": "ClusterRole", "name": "team-deployer"},
               "subjects": [{"kind": "Group", "name": "inferstack:team:team-a:deployers", "apiGroup": RBAC_API}]}
NODE_READER = {"metadata": {"name": "node-reader"}, "rules": [
    {"apiGroups": [""], "resources": ["nodes", "nodes/metrics", "nodes/stats"], "verbs": ["get", "list", "watch"]}]}
NODE_READER_CRB = {"metadata": {"name": "node-reader"},
                   "roleRef": {"apiGroup": RBAC_API, "kind": "ClusterRole", "name": "node-reader"},
                   "subjects": [{"kind": "ServiceAccount", "name": "node-exporter", "namespace": "monitoring"}]}
GRANTS = (Res(ROLE + "ClusterRole", DEPLOYER, name="deployer"), Res(ROLE + "RoleBinding", DEPLOYER_NS, name="deployer-a"),
          Res(ROLE + "ClusterRole", NODE_READER, name="node-reader"),
          Res(ROLE + "ClusterRoleBinding", NODE_READER_CRB, name="node-reader"))
#: A namespaced Role for debugging: logs and port-forward, not exec.
NS_GRANTS = (
    Res(ROLE + "Role", {"metadata": {"name": "debug", "namespace": "team-a"}, "rules": [
        {"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["pods/portforward"], "verbs": ["create"]}]}, name="debug"),
    Res(ROLE + "RoleBinding", {"metadata": {"name": "debug", "namespace": "team-a"},
                               "roleRef": {"apiGroup": RBAC_API, "kind": "Role", "name": "debug"},
                               "subjects": [{"kind": "Group", "name": "inferstack:team:team-a", "apiGroup": RBAC_API}]},
        name="debug"))
#: An aggregating ClusterRole bound in one namespace, and the ClusterRole it gathers by label.
AGGREGATE = {"metadata": {"name": "team-aggregate"},
             "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"inferstack.io/aggregate-to-team": "true"}}]},
             "rules": []}
PART = {"metadata": {"name": "team-part", "labels": {"inferstack.io/aggregate-to-team": "true"}}, "rules": [
    {"apiGroups": ["serving.kserve.io"], "resources": ["inferenceservices"], "verbs": ["get", "list", "create", "patch"]}]}
AGG_BINDING = {**DEPLOYER_NS, "roleRef": {"apiGroup": RBAC_API, "kind": "ClusterRole", "name": "team-aggregate"}}
AGGREGATION = (Res(ROLE + "ClusterRole", AGGREGATE, name="aggregate"), Res(ROLE + "ClusterRole", PART, name="part"),
               Res(ROLE + "RoleBinding", AGG_BINDING, name="aggregate-a"))
#: Built-in aggregation: workload creation added to edit gives edit's holders nothing new.
TO_EDIT = {"metadata": {"name": "isvc-edit", "labels": {"rbac.authorization.k8s.io/aggregate-to-edit": "true"}},
           "rules": PART["rules"]}
#: A system controller's service account, allowed by the stack with a reason.
CONTROLLER = "system:serviceaccount:kube-system:csr-approver"
APPROVER = {"metadata": {"name": "csr-approver"}, "rules": [
    {"apiGroups": ["certificates.k8s.io"], "resources": ["certificatesigningrequests"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["certificates.k8s.io"], "resources": ["certificatesigningrequests/approval"], "verbs": ["update"]},
    {"apiGroups": ["certificates.k8s.io"], "resources": ["signers"], "verbs": ["approve"],
     "resourceNames": ["kubernetes.io/kubelet-serving"]}]}
APPROVER_CRB = {"metadata": {"name": "csr-approver"},
                "roleRef": {"apiGroup": RBAC_API, "kind": "ClusterRole", "name": "csr-approver"},
                "subjects": [{"kind": "ServiceAccount", "name": "csr-approver", "namespace": "kube-system"}]}
ALLOWED = {"allowedServiceAccounts": {CONTROLLER: "approves kubelet serving certificates (kubelet-csr-approver)"}}
NODE_RULE = (2, "props", "rules", 0)
CASES += [
    Case("grants-deployer-bound-cluster-wide", "rbac-dangerous-grants", GRANTS, (1, "type"), ROLE + "ClusterRoleBinding"),
    Case("grants-deployer-unbound", "rbac-dangerous-grants", GRANTS, (1,), DELETE),
    Case("grants-deployer-binding-moved", "rbac-dangerous-grants", GRANTS, (1, "props", "roleRef", "name"), "node-reader"),
    *[Case(f"grants-node-reader-{gid}", "rbac-dangerous-grants", GRANTS, NODE_RULE, rule, flagged=2)
      for gid, rule in (
          ("nodes-proxy", {"apiGroups": [""], "resources": ["nodes", "nodes/proxy"], "verbs": ["get"]}),
          ("any-subresource-proxy", {"apiGroups": [""], "resources": ["*/proxy"], "verbs": ["get"]}),
          ("pods-exec", {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}),
          ("pods-attach-get", {"apiGroups": [""], "resources": ["pods/attach"], "verbs": ["get"]}),
          ("ephemeral", {"apiGroups": [""], "resources": ["pods/ephemeralcontainers"], "verbs": ["patch"]}),
          ("token", {"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]}),
          ("pv-create", {"apiGroups": [""], "resources": ["persistentvolumes"], "verbs": ["create"]}),
          ("webhooks", {"apiGroups": ["admissionregistration.k8s.io"],
                        "resources": ["mutatingwebhookconfigurations"], "verbs": ["patch"]}),
          ("csr-approval", {"apiGroups": ["certificates.k8s.io"],
                            "resources": ["certificatesigningrequests/approval"], "verbs": ["update"]}),
          ("namespaces", {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["patch"]}),
          ("daemonsets", {"apiGroups": ["apps"], "resources": ["daemonsets"], "verbs": ["create"]}),
          ("isvc", {"apiGroups": ["serving.kserve.io"], "resources": ["inferenceservices"], "verbs": ["create"]}),
          ("verb-star", {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["*"]}),
          ("group-star", {"apiGroups": ["*"], "resources": ["pods"], "verbs": ["create"]}),
      )],
    Case("grants-role-exec-in-namespace", "rbac-dangerous-grants", NS_GRANTS, (0, "props", "rules", 0, "resources"),
         ["pods", "pods/log", "pods/exec"]),
    Case("grants-role-token-in-namespace", "rbac-dangerous-grants", NS_GRANTS, (0, "props", "rules", 1),
         {"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]}),
    Case("grants-clusterrole-attach-through-rolebinding", "rbac-dangerous-grants", GRANTS, (0, "props", "rules", 1),
         {"apiGroups": [""], "resources": ["pods/attach"], "verbs": ["create"]}),
    Case("grants-aggregated-then-bound-cluster-wide", "rbac-dangerous-grants", AGGREGATION, (2, "type"),
         ROLE + "ClusterRoleBinding", flagged=1),
    Case("grants-aggregator-unbound", "rbac-dangerous-grants", AGGREGATION, (2,), DELETE, flagged=1),
    Case("grants-aggregated-to-view", "rbac-dangerous-grants", one(ROLE + "ClusterRole", TO_EDIT),
         (0, "props", "metadata", "labels"), {"rbac.authorization.k8s.io/aggregate-to-view": "true"}),
    Case("grants-allowed-controller-other-subject", "rbac-dangerous-grants",
         (Res(ROLE + "ClusterRole", APPROVER, name="approver"), Res(ROLE + "ClusterRoleBinding", APPROVER_CRB, name="approver")),
         (1, "props", "subjects", 0, "name"), "default", config=ALLOWED),
    Case("grants-in-v1-list", "rbac-dangerous-grants",
         one(CORE + "List", {"items": [{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", **NODE_READER},
                                       {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                                        **NODE_READER_CRB}]}),
         (0, "props", "items", 0, "rules", 0, "resources"), ["nodes/proxy"]),
    Case("wildcard-in-v1-list", "rbac-no-wildcards",
         one(CORE + "List", {"items": [{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "rules": [READ]}]}),
         (0, "props", "items", 0, "rules", 0, "verbs"), ["*"]),
    Case("grants-in-config-group", "rbac-dangerous-grants",
         one(CG, {"objs": [{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", **NODE_READER},
                           {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", **NODE_READER_CRB}]}),
         (0, "props", "objs", 0, "rules", 0, "resources"), ["nodes/proxy"]),
]

# Reading Secrets in a namespaced Role (RBAC good practices, "listing secrets"): list and watch return every Secret
# of the namespace, get any one by name; a rule naming its Secrets in resourceNames reads those only.
APP_SECRETS = {"metadata": {"name": "app-secrets", "namespace": "team-a"}, "rules": [
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"], "resourceNames": ["app-db"]},
    {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}]}
APP_SECRETS_RB = {"metadata": {"name": "app-secrets", "namespace": "team-a"},
                  "roleRef": {"apiGroup": RBAC_API, "kind": "Role", "name": "app-secrets"},
                  "subjects": [{"kind": "ServiceAccount", "name": "app", "namespace": "team-a"}]}
SECRET_READER = (Res(ROLE + "Role", APP_SECRETS, name="app-secrets"),
                 Res(ROLE + "RoleBinding", APP_SECRETS_RB, name="app-secrets"))
#: A system controller allowed by the stack may list its namespace's Secrets (an operator that syncs them).
SYNCER = "system:serviceaccount:team-a:secret-syncer"
SYNCER_ROLE = {"metadata": {"name": "secret-syncer", "namespace": "team-a"}, "rules": [
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch", "create", "update"]}]}
SYNCER_RB = {**APP_SECRETS_RB, "metadata": {"name": "secret-syncer", "namespace": "team-a"},
             "roleRef": {"apiGroup": RBAC_API, "kind": "Role", "name": "secret-syncer"},
             "subjects": [{"kind": "ServiceAccount", "name": "secret-syncer", "namespace": "team-a"}]}
SYNCER_ALLOWED = {"allowedServiceAccounts": {SYNCER: "syncs the namespace's Secrets from the cloud secret store"}}
#: An aggregating ClusterRole bound cluster-wide to a monitoring service account, gathering a read-only role by label.
OPS = {"metadata": {"name": "ops"},
       "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"rbac.example.com/aggregate-to-ops": "true"}}]}}
OPS_PART = {"metadata": {"name": "ops-read", "labels": {"rbac.example.com/aggregate-to-ops": "true"}},
            "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]}]}
OPS_CRB = {"metadata": {"name": "ops"}, "roleRef": {"apiGroup": RBAC_API, "kind": "ClusterRole", "name": "ops"},
           "subjects": [{"kind": "ServiceAccount", "name": "ops-bot", "namespace": "monitoring"}]}
#: A deployer ClusterRole bound in one namespace, labelled for another aggregation the ops role does not select.
DEPLOY_PART = {"metadata": {"name": "deploy", "labels": {"rbac.example.com/aggregate-to-deploy": "true"}},
               "rules": DEPLOYER["rules"]}
DEPLOY_PART_RB = {**DEPLOYER_NS, "roleRef": {"apiGroup": RBAC_API, "kind": "ClusterRole", "name": "deploy"}}
OPS_AGG = (Res(ROLE + "ClusterRole", OPS, name="ops"), Res(ROLE + "ClusterRole", OPS_PART, name="ops-read"),
           Res(ROLE + "ClusterRoleBinding", OPS_CRB, name="ops"), Res(ROLE + "ClusterRole", DEPLOY_PART, name="deploy"),
           Res(ROLE + "RoleBinding", DEPLOY_PART_RB, name="deploy-a"))
CASES += [
    Case("grants-role-secrets-any-name", "rbac-dangerous-grants", SECRET_READER,
         (0, "props", "rules", 0, "resourceNames"), DELETE),
    Case("grants-role-secrets-watch", "rbac-dangerous-grants", SECRET_READER, (0, "props", "rules", 1),
         {"apiGroups": [""], "resources": ["secrets"], "verbs": ["watch"]}),
    Case("grants-role-secrets-wildcard-group", "rbac-dangerous-grants", SECRET_READER, (0, "props", "rules", 1),
         {"apiGroups": ["*"], "resources": ["secrets"], "verbs": ["list"]}),
    Case("grants-role-secrets-unbound", "rbac-dangerous-grants", SECRET_READER[:1],
         (0, "props", "rules", 0, "resourceNames"), DELETE),
    Case("grants-role-secrets-other-holder", "rbac-dangerous-grants",
         (Res(ROLE + "Role", SYNCER_ROLE, name="syncer"), Res(ROLE + "RoleBinding", SYNCER_RB, name="syncer")),
         (1, "props", "subjects", 0, "name"), "app", config=SYNCER_ALLOWED),
    # Aggregation: the gathered role's grants are held by the aggregating role's holders.
    Case("grants-aggregated-exec-cluster-wide", "rbac-dangerous-grants", OPS_AGG, (1, "props", "rules", 0, "resources"),
         ["pods", "pods/log", "pods/exec"], flagged=1),
    Case("grants-aggregated-by-selector-expression", "rbac-dangerous-grants", OPS_AGG,
         (0, "props", "aggregationRule", "clusterRoleSelectors"),
         [*OPS["aggregationRule"]["clusterRoleSelectors"],
          {"matchExpressions": [{"key": "rbac.example.com/aggregate-to-deploy", "operator": "Exists"}]}], flagged=3),
]

# Services: NodePort opens the port on every node (ClusterIP and internal load balancers pass).
CLUSTER_IP = {"metadata": {"name": "app", "namespace": "team-a"},
              "spec": {"type": "ClusterIP", "selector": {"app": "x"}, "ports": [{"port": 80, "targetPort": 8080}]}}
INTERNAL_LB = {"metadata": {"name": "app-lb", "namespace": "team-a",
                            "annotations": {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}},
               "spec": {"type": "LoadBalancer", "selector": {"app": "x"}, "ports": [{"port": 443}]}}
CASES += [
    Case("service-node-port", "k8s-no-node-port-services", one(CORE + "Service", CLUSTER_IP),
         (0, "props", "spec", "type"), "NodePort"),
    Case("service-node-port-patch", "k8s-no-node-port-services", one(CORE + "ServicePatch", CLUSTER_IP),
         (0, "props", "spec", "type"), "NodePort"),
    Case("service-node-port-in-list", "k8s-no-node-port-services",
         one(CORE + "ServiceList", {"items": [CLUSTER_IP, INTERNAL_LB]}), (0, "props", "items", 0, "spec", "type"),
         "NodePort"),
    Case("service-node-port-in-config-group", "k8s-no-node-port-services",
         one(CG, {"objs": [{"apiVersion": "v1", "kind": "Service", **CLUSTER_IP}]}),
         (0, "props", "objs", 0, "spec"), {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}),
]

# Helm values
RELEASE = "kubernetes:helm.sh/v3:Release"
VALUES = {"name": "ingress", "chart": "ingress-nginx", "values": {
    "controller": {"securityContext": {"privileged": False, "runAsNonRoot": True}, "hostNetwork": False,
                   "service": {"type": "LoadBalancer",
                               "annotations": {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}}},
    "podSecurityContext": {"runAsNonRoot": True},
    "service": {"type": "ClusterIP"},
}}
V = (0, "props", "values")
CASES += [
    Case("helm-privileged", "helm-values-no-privileged", one(RELEASE, VALUES), (*V, "controller", "securityContext", "privileged"), True),
    Case("helm-container-sc-privileged", "helm-values-no-privileged", one(RELEASE, VALUES),
         (*V, "containerSecurityContext"), {"privileged": True}),
    Case("helm-ape", "helm-values-no-privileged", one(RELEASE, VALUES),
         (*V, "controller", "securityContext", "allowPrivilegeEscalation"), True),
    Case("helm-host-network", "helm-values-no-privileged", one(RELEASE, VALUES), (*V, "controller", "hostNetwork"), True),
    Case("helm-host-pid-nested", "helm-values-no-privileged", one(RELEASE, VALUES), (*V, "daemonset"), {"hostPID": True}),
    Case("helm-v4-chart-privileged", "helm-values-no-privileged", one("kubernetes:helm.sh/v4:Chart", VALUES),
         (*V, "controller", "securityContext", "privileged"), True),
    Case("helm-service-lb", "helm-values-no-public-load-balancers", one(RELEASE, VALUES), (*V, "service", "type"), "LoadBalancer"),
    Case("helm-controller-lb-public", "helm-values-no-public-load-balancers", one(RELEASE, VALUES),
         (*V, "controller", "service", "annotations"), DELETE),
    Case("helm-service-type-key", "helm-values-no-public-load-balancers", one(RELEASE, VALUES), (*V, "serviceType"), "LoadBalancer"),
    Case("helm-proxy-service-lb", "helm-values-no-public-load-balancers", one(RELEASE, VALUES),
         (*V, "proxyService"), {"type": "LoadBalancer"}),
    Case("helm-service-node-port", "k8s-no-node-port-services", one(RELEASE, VALUES), (*V, "service", "type"), "NodePort"),
    Case("helm-v4-controller-node-port", "k8s-no-node-port-services", one("kubernetes:helm.sh/v4:Chart", VALUES),
         (*V, "controller", "service", "type"), "NodePort"),
]


# ---------------------------------------------------------------- the cases


test_compliant_fixture_passes, test_one_field_change_violates = case_tests(CASES)


def test_compliant_workloads_pass_every_k8s_policy() -> None:
    """The compliant fixtures pass the whole Kubernetes family at once (not only the policy each case is about)."""
    for t, props, _ in WORKLOADS:
        for name in K8S_POLICIES:
            assert _findings(one(t, props), name) == [], (t, name)


def test_every_k8s_policy_has_fixtures_controls_and_remediation() -> None:
    covered = {c.policy for c in CASES}
    assert set(K8S_POLICIES) - covered == set()
    assert set(K8S_POLICIES) <= set(POLICY_NAMES)
    assert len({c.id for c in CASES}) == len(CASES)
    for name in K8S_POLICIES:
        e = ENTRY_BY_NAME[name]
        assert e.policy.description and e.policy.remediation_steps, name
        assert e.controls and e.clouds == {"kubernetes"}, name


def test_levels_baseline_mandatory_restricted_advisory_in_dev() -> None:
    for name, profile, *_ in pod_security.PSS_CONTROLS:
        levels = {env.value: lvl for env, lvl in ENTRY_BY_NAME[name].levels.items()}
        dev = "mandatory" if profile == "baseline" else "advisory"
        assert levels == {"dev": dev, "staging": "mandatory", "prod": "mandatory"}, name
    assert len(pod_security.PSS_CONTROLS) == 17


# ---------------------------------------------------------------- edges


def test_kserve_model_container_leaves_restricted_fields_to_its_runtime() -> None:
    for name in ("pss-privilege-escalation", "pss-run-as-non-root", "pss-seccomp-strict", "pss-capabilities-strict"):
        assert _findings(one(ISVC, ISVC_MODEL), name) == [], name
    custom = {"spec": {"predictor": {"containers": [{"name": "c", "image": "x"}]}}}
    for name in ("pss-privilege-escalation", "pss-run-as-non-root", "pss-seccomp-strict", "pss-capabilities-strict"):
        assert _findings(one(ISVC, custom), name), name


def test_windows_pods_are_exempt_from_linux_only_restricted_controls() -> None:
    pod = {"spec": {"os": {"name": "windows"}, "securityContext": {"runAsNonRoot": True},
                    "containers": [{"name": "w", "image": "mcr.microsoft.com/windows/nanoserver"}]}}
    for name in ("pss-privilege-escalation", "pss-seccomp-strict", "pss-capabilities-strict", "pss-run-as-non-root"):
        assert _findings(one(CORE + "Pod", pod), name) == [], name


def test_non_secret_env_names_are_not_flagged() -> None:
    for name in ("TOKEN_PATH", "SSH_KEY_FILE", "KEYCLOAK_URL", "SECRET_NAME", "AWS_ACCESS_KEY_ID", "MONKEY", "KEYSPACE",
                 "HF_HUB_CACHE", "PUBLIC_KEY_URI", "LOG_LEVEL"):
        assert not k8s_rules.secret_like(name), name
    for name in ("HF_TOKEN", "hfToken", "DB_PASSWORD", "API_KEY", "SECRET", "client-secret", "PRIVATE_KEY", "AUTHTOKEN"):
        assert k8s_rules.secret_like(name), name


def test_pod_security_messages_name_the_object_and_field() -> None:
    bad = copy.deepcopy(WORKLOADS[10][1])
    bad["items"][0]["spec"]["containers"][0]["securityContext"]["privileged"] = True
    (finding,) = _findings(one(CORE + "PodList", bad), "pss-privileged")
    assert finding.problems == ["items[0] (Pod p): items[0].spec.containers[app] is privileged."]
    assert finding.message.startswith(finding.problems[0] + " Fix: Remove securityContext.privileged")


def test_cluster_admin_group_may_read_secrets_and_namespaced_secret_reads_are_judged_once() -> None:
    admins = {"roleRef": {"kind": "ClusterRole", "name": "admin"}, "subjects": [{"kind": "Group", "name": "corp:admins"}]}
    assert _findings(one(ROLE + "ClusterRoleBinding", admins), "rbac-no-cluster-secret-read",
                     platformAdminGroup="corp:admins") == []
    assert _findings(one(ROLE + "ClusterRoleBinding", admins), "rbac-no-cluster-secret-read")
    ns_role = {"rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}]}
    assert _findings(one(ROLE + "Role", ns_role), "rbac-no-cluster-secret-read") == []
    assert _findings(one(ROLE + "RoleBinding", NS_EDIT), "rbac-no-cluster-secret-read") == []
    # A namespaced Role's Secret reads are judged by rbac-dangerous-grants (RBAC good practices, "listing secrets")...
    (finding,) = _findings(one(ROLE + "Role", ns_role), "rbac-dangerous-grants")
    assert "reads Secrets: get secrets, list secrets" in finding.message and "CIS Kubernetes 5.1.2" in finding.message
    # ... and a ClusterRole's by rbac-no-cluster-secret-read only (one finding per grant, not two).
    cluster_role = {"metadata": {"name": "secret-reader"}, "rules": ns_role["rules"]}
    assert _findings(one(ROLE + "ClusterRole", cluster_role), "rbac-dangerous-grants") == []
    assert _findings(one(ROLE + "ClusterRole", cluster_role), "rbac-no-cluster-secret-read")
    # Get and list of Secrets named in resourceNames read those Secrets only.
    named = {"rules": [{**ns_role["rules"][0], "resourceNames": ["app-db"]}]}
    assert _findings(one(ROLE + "Role", named), "rbac-dangerous-grants") == []


def test_builtin_aggregation_label_is_named() -> None:
    """A ClusterRole labelled aggregate-to-view adds its grants to every holder of view; the finding names the label,
    and the ClusterRole carrying it when the grant reaches view through another role."""
    exec_role = {"metadata": {"name": "debug", "labels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}},
                 "rules": [{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}]}
    (finding,) = _findings(one(ROLE + "ClusterRole", exec_role), "rbac-dangerous-grants")
    assert 'aggregated into the built-in view role' in finding.message
    assert 'label rbac.authorization.k8s.io/aggregate-to-view: "true"' in finding.message
    part = {"metadata": {"name": "part", "labels": {"example.com/debug": "true"}}, "rules": exec_role["rules"]}
    gather = {"metadata": {"name": "debug", "labels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}},
              "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"example.com/debug": "true"}}]}}
    found = _findings((Res(ROLE + "ClusterRole", gather, name="debug"), Res(ROLE + "ClusterRole", part, name="part")),
                      "rbac-dangerous-grants")
    assert len(found) == 1
    assert 'aggregate-to-view: "true" (on ClusterRole debug)' in found[0].message, found[0].message
    # admin already holds exec: the same chain into admin adds nothing.
    gather["metadata"]["labels"] = {"rbac.authorization.k8s.io/aggregate-to-admin": "true"}
    assert _findings((Res(ROLE + "ClusterRole", gather, name="debug"), Res(ROLE + "ClusterRole", part, name="part")),
                     "rbac-dangerous-grants") == []


def test_helm_load_balancers_allowed_by_setting() -> None:
    public = {"values": {"service": {"type": "LoadBalancer"}}}
    assert _findings(one(RELEASE, public), "helm-values-no-public-load-balancers", allowPublicLoadBalancers=True) == []
    assert _findings(one(RELEASE, public), "helm-values-no-public-load-balancers")
    gke = {"values": {"service": {"type": "LoadBalancer", "annotations": {"networking.gke.io/load-balancer-type": "Internal"}}}}
    assert _findings(one(RELEASE, gke), "helm-values-no-public-load-balancers") == []


# ---------------------------------------------------------------- ConfigGroup / ConfigFile (remote components)

PRIV_POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bad"},
            "spec": {"containers": [{"name": "c", "image": "x", "securityContext": {"privileged": True}}]}}
PRIV_YAML = """apiVersion: v1
kind: Namespace
metadata: {name: open}
---
apiVersion: v1
kind: Pod
metadata: {name: bad}
spec: {containers: [{name: c, image: x, securityContext: {privileged: true}}]}
"""


def _validate(name: str, type_: str, props: dict, config: dict | None = None) -> list[str]:
    """A policy called the way the Pulumi CLI calls it for a component resource (the offline evaluator views custom
    resources only: remote components such as yaml/v2 ConfigGroup never reach it)."""
    out: list[str] = []
    opts = PolicyResourceOptions(False, [], None, [], None, [], None)
    args = ResourceValidationArgs(type_, props, f"urn:{type_}", "cg", opts, None, config or {})
    ENTRY_BY_NAME[name].policy.validate(args, lambda message, urn=None: out.append(message))
    return out


def test_config_group_objects_and_yaml_are_judged(tmp_path) -> None:
    assert _validate("pss-privileged", CG, {"objs": [PRIV_POD]}) == ["objs[0] (Pod bad): objs[0].spec.containers[c] is privileged."]
    assert len(_validate("pss-privileged", CG, {"yaml": [PRIV_YAML]})) == 1
    assert _validate("pss-privileged", CG, {"yaml": PRIV_YAML})
    assert _validate("k8s-namespace-pod-security", CG, {"yaml": [PRIV_YAML]}) == []  # Namespace types only
    f = tmp_path / "app.yaml"
    f.write_text(PRIV_YAML)
    assert _validate("pss-privileged", "kubernetes:yaml/v2:ConfigFile", {"file": str(f)})
    assert _validate("pss-privileged", CG, {"files": [str(f), "https://example.com/x.yaml"]})
    assert _validate("pss-privileged", CG, {"objs": [{**PRIV_POD, "spec": {"containers": [{"name": "c", "image": "x"}]}}]}) == []
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"k": "v"}}
    assert _validate("k8s-contained-secrets-not-plaintext", CG, {"objs": [secret]})
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", **CLUSTER_VIEW}
    binding["subjects"] = [{"kind": "Group", "name": "system:unauthenticated"}]
    assert _validate("rbac-bindings", CG, {"objs": [binding]}, {"platformAdminGroup": "g"})
    assert _validate("rbac-no-escalation-verbs", CG,
                     {"objs": [{"apiVersion": "v1", "kind": "List", "items": [{"kind": "Role", "rules": [{"verbs": ["bind"]}]}]}]})


def test_recorded_objects_expand_like_the_engine_records_them() -> None:
    """Shapes the mock runtime records (pulumi-kubernetes 4): list items without kind, ConfigGroup objs/yaml."""
    items = list(objects(CORE + "PodList", {"kind": "PodList", "items": [{"metadata": {"name": "q"}, "spec": {"containers": []}}]}))
    assert [(o.kind, o.where) for o in items] == [("Pod", "items[0]")]
    assert [len(pod_specs(o)) for o in items] == [1]
    assert list(objects("aws:s3/bucket:Bucket", {})) == []


# ---------------------------------------------------------------- the platform's own objects


def _recorded(stack: str, type_suffix: str) -> list[Res]:
    from inferstack.policies.evaluate import policy_props

    return [Res(r.type, policy_props(r.inputs), name=r.name) for r in stack_recording(stack).resources
            if r.type.endswith(type_suffix)]


@pytest.mark.parametrize("stack", ["prod", "gcp-prod"])
def test_platform_runtime_passes_restricted_with_the_recommended_security_context(stack: str) -> None:
    """The change recommended for serving/runtimes.py makes the platform's ClusterServingRuntime restricted-clean."""
    runtimes = _recorded(stack, ":ClusterServingRuntime")
    assert runtimes
    for rt in runtimes:
        props = copy.deepcopy(rt.props)
        for c in props["spec"]["containers"]:
            c["securityContext"].update({"runAsNonRoot": True, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}})
        for name in K8S_POLICIES:
            assert _findings((Res(rt.type, props),), name) == [], (stack, name)


@pytest.mark.parametrize("stack", ["dev", "prod", "gcp-prod"])
def test_platform_knative_namespace_passes_with_the_recommended_labels(stack: str) -> None:
    for ns in _recorded(stack, ":Namespace"):
        props = copy.deepcopy(ns.props)
        labels = props["metadata"].setdefault("labels", {})
        labels.setdefault("pod-security.kubernetes.io/enforce", "baseline")
        assert _findings((Res(ns.type, props),), "k8s-namespace-pod-security") == []


def test_config_group_of_a_program_is_judged_offline(tmp_path) -> None:
    """The offline evaluator judges a remote ConfigGroup by the objects it holds (the engine never registers its
    children): a privileged Pod inside one is a mandatory finding of ``policy check --program``."""
    import subprocess
    import sys

    program = tmp_path / "__main__.py"
    program.write_text(
        "import pulumi_kubernetes as k8s\n"
        f"k8s.yaml.v2.ConfigGroup('apps', objs=[{PRIV_POD!r}])\n"
    )
    config = tmp_path / "Pulumi.cg.yaml"
    config.write_text("config:\n  aws:region: eu-west-1\n  inferstack:cloud: aws\n  inferstack:environment: prod\n"
                      "  inferstack:residency:\n    allowedRegions: [eu-west-1]\n")
    proc = subprocess.run([sys.executable, "-m", "inferstack", "policy", "check", "--program", str(program), "--config",
                           str(config)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    # Grouped per resource: the ConfigGroup's line, then one line per policy.
    assert "kubernetes:yaml/v2:ConfigGroup apps (__main__.py:" in proc.stdout
    assert "  mandatory pss-privileged: objs[0] (Pod bad)" in proc.stdout
