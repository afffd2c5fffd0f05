"""A Kubernetes program for the effective-permission, workload-hygiene and stored-data rules.

``app:variant`` selects it: ``compliant`` follows PSS restricted, CIS Kubernetes 5.1 and the RBAC good practices in
full; ``violating`` changes one thing per rule, each on a line marked with the policy it breaks.
"""

import pulumi
import pulumi_kubernetes as k8s

bad = pulumi.Config("app").get("variant") == "violating"
RBAC = "rbac.authorization.k8s.io"
NS = "team-a"

k8s.core.v1.Namespace("team-a", metadata={"name": NS, "labels": {
    "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/warn": "restricted"}})
k8s.core.v1.ServiceAccount("app", metadata={"name": "app", "namespace": NS}, automount_service_account_token=False)

container = {
    "name": "app",
    "image": "ghcr.io/example/app:latest" if bad else "ghcr.io/example/app:1.4.2",  # violation: k8s-image-pinned
    "ports": [{"container_port": 8080}],
    "security_context": {"allow_privilege_escalation": False, "run_as_non_root": True, "run_as_user": 10001,
                         "capabilities": {"drop": ["ALL"]}, "seccomp_profile": {"type": "RuntimeDefault"}},
}
if not bad:
    container["resources"] = {"requests": {"cpu": "500m", "memory": "512Mi"},  # violation: k8s-container-resources
                              "limits": {"cpu": "1", "memory": "512Mi"}}
pod_spec = {
    "containers": [container],
    "security_context": {"run_as_non_root": True, "seccomp_profile": {"type": "RuntimeDefault"}},
}
if bad:
    pod_spec["service_account_name"] = "default"  # violation: k8s-service-account-token-automount
else:
    pod_spec["service_account_name"] = "app"
k8s.apps.v1.Deployment("app", metadata={"name": "app", "namespace": NS}, spec={
    "selector": {"match_labels": {"app": "app"}},
    "template": {"metadata": {"labels": {"app": "app"}}, "spec": pod_spec},
})

# A ClusterRole for the team's deployers, bound in their namespace only; a node reader bound cluster-wide.
k8s.rbac.v1.ClusterRole("deployer", metadata={"name": "team-deployer"}, rules=[
    {"api_groups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "watch", "create", "update", "patch"]},
    {"api_groups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]},
])
k8s.rbac.v1.RoleBinding("deployer", metadata={"name": "team-deployer", "namespace": NS},
                        role_ref={"api_group": RBAC, "kind": "ClusterRole", "name": "team-deployer"},
                        subjects=[{"kind": "Group", "name": "inferstack:team:team-a:deployers", "api_group": RBAC}])
k8s.rbac.v1.ClusterRole("node-reader", metadata={"name": "node-reader"}, rules=[
    {"api_groups": [""], "resources": ["nodes", "nodes/proxy" if bad else "nodes/metrics"],  # violation: rbac-dangerous-grants
     "verbs": ["get", "list", "watch"]},
])
k8s.rbac.v1.ClusterRoleBinding("node-reader", metadata={"name": "node-reader"},
                               role_ref={"api_group": RBAC, "kind": "ClusterRole", "name": "node-reader"},
                               subjects=[{"kind": "ServiceAccount", "name": "node-exporter", "namespace": "monitoring"}])

k8s.core.v1.ConfigMap("app-config", metadata={"name": "app-config", "namespace": NS}, data={
    "LOG_LEVEL": "info",
    "MODEL_URI": "s3://models/llm/v1/",
    "config.ini": "[aws]\nregion = eu-west-1\n" + (
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n" if bad else ""),  # violation: k8s-configmap-credentials
})
k8s.core.v1.PersistentVolume("cache", metadata={"name": "cache"}, spec={
    "capacity": {"storage": "100Gi"}, "access_modes": ["ReadWriteOnce"], "storage_class_name": "local-nvme",
    "local": {"path": "/var/lib/kubelet" if bad else "/mnt/disks/nvme0"},  # violation: k8s-persistent-volume-host-path
    "node_affinity": {"required": {"node_selector_terms": [{"match_expressions": [
        {"key": "kubernetes.io/hostname", "operator": "In", "values": ["node-1"]}]}]}},
})
