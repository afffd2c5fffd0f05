"""Every policy of the pack: a compliant fixture passes and a violating fixture that changes one field fails.

Fixtures are small resource lists (type token, props, options) turned into an engine ``Recording`` and evaluated by
``inferstack.policies.evaluate.evaluate``: the same path ``inferstack policy check`` uses, with the real policy objects
(resource policies get type, props, options and provider; stack policies get the list of resources).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from inferstack.config import Environment, PolicySettings
from inferstack.config.policy import PolicyConfig
from inferstack.engine import UNKNOWN, Recording, ResourceRecord
from inferstack.policies.evaluate import Finding, evaluate
from inferstack.policies.pack import POLICIES, POLICY_NAMES, pack_config

STACK = "fixture"
REGIONS = {"aws": "eu-west-1", "gcp": "europe-west4"}
KEY = "arn:aws:kms:eu-west-1:111122223333:key/0f7e2a4b-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
GCP_KEY = "projects/p/locations/europe-west4/keyRings/inferstack/cryptoKeys/data"
ADMINS = "inferstack:platform-admins"
#: Settings each policy reads from its pack config: what ``pack_config`` writes for a prod stack.
SETTINGS: dict[str, dict[str, Any]] = {
    name: {k: v for k, v in entry.items() if k != "enforcementLevel"}
    for name, entry in pack_config(
        PolicySettings(environment=Environment.PROD, allowed_regions=("eu-west-1", "europe-west4"),
                       policy=PolicyConfig(platform_admin_group=ADMINS))
    ).items()
}
#: Props that Pulumi programs pass as JSON strings (policy documents).
JSON_FIELDS = ("policy", "assumeRolePolicy")
DELETE = object()  # a violating "value" that removes the field (or, at path (i,), resource i)


@dataclass(frozen=True)
class Res:
    """One fixture resource: type token, props and the options a policy can see."""

    type: str
    props: dict[str, Any]
    name: str = "subject"
    opts: dict[str, Any] = field(default_factory=dict)  # protect, retainOnDelete
    provider: dict[str, Any] | None = None  # explicit provider props; default: the cloud's region
    depends_on: tuple[int, ...] = ()


@dataclass(frozen=True)
class Case:
    """A compliant fixture and the one change that makes it violate ``policy``.

    ``path`` starts with the resource index, then ``props`` / ``opts`` / ``provider`` and the keys inside, or
    ``type`` / ``name`` alone (the resource's type token or logical name).
    ``flagged`` is the index of the resource the finding must name (None for a stack-level finding).
    """

    id: str
    policy: str
    resources: tuple[Res, ...]
    path: tuple[Any, ...]
    bad: Any
    flagged: int | None = 0
    config: dict[str, Any] = field(default_factory=dict)


def one(type_: str, props: dict[str, Any], **kw: Any) -> tuple[Res, ...]:
    return (Res(type_, props, **kw),)


def stmt(effect: str = "Allow", action: Any = ("s3:GetObject",), resource: Any = "arn:aws:s3:::models/*", **extra) -> dict:
    return {"Effect": effect, "Action": list(action) if isinstance(action, tuple) else action, "Resource": resource, **extra}


def doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


SSE_RULE = {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY}, "bucketKeyEnabled": True}
BUCKET = Res("aws:s3/bucket:Bucket", {"bucket": "inferstack-models-1a2b", "region": "eu-west-1"}, name="models")
SSE = Res("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
          {"bucket": "inferstack-models-1a2b", "region": "eu-west-1", "rules": [SSE_RULE]}, name="models-sse")
PAB = Res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
          {"bucket": "inferstack-models-1a2b", "region": "eu-west-1", "blockPublicAcls": True, "blockPublicPolicy": True,
           "ignorePublicAcls": True, "restrictPublicBuckets": True}, name="models-public-access")
ROLE = "kubernetes:rbac.authorization.k8s.io/v1:"
READ_RULE = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}
ADMIN_BINDING = {"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
                 "subjects": [{"kind": "Group", "name": ADMINS, "apiGroup": "rbac.authorization.k8s.io"}]}
VIEW_BINDING = {"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                "subjects": [{"kind": "Group", "name": "team-a", "apiGroup": "rbac.authorization.k8s.io"}]}
TRUST = doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})
GKE_CLUSTER = {
    "location": "europe-west4",
    "enableLegacyAbac": False,
    "workloadIdentityConfig": {"workloadPool": "p.svc.id.goog"},
    "databaseEncryption": {"state": "ENCRYPTED", "keyName": GCP_KEY},
    "privateClusterConfig": {"enablePrivateNodes": True, "masterIpv4CidrBlock": "172.16.0.0/28"},
    "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "10.0.0.0/16", "displayName": "vpc"}]},
}
GCS = {"location": "EUROPE-WEST4", "encryption": {"defaultKmsKeyName": GCP_KEY},
       "publicAccessPrevention": "enforced", "uniformBucketLevelAccess": True}
SM_SECRET = {"secretId": "hf-token", "replication": {"userManaged": {"replicas": [
    {"location": "europe-west4", "customerManagedEncryption": {"kmsKeyName": GCP_KEY}}]}}}
LB = {"metadata": {"annotations": {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}},
      "spec": {"type": "LoadBalancer", "ports": [{"port": 443}]}}
GKE_LB = {"metadata": {"annotations": {"networking.gke.io/load-balancer-type": "Internal"}},
          "spec": {"type": "LoadBalancer", "ports": [{"port": 443}]}}
ISVC = {"metadata": {"name": "llm", "labels": {"networking.knative.dev/visibility": "cluster-local"}},
        "spec": {"predictor": {"model": {"modelFormat": {"name": "huggingface"}}}}}
POD = {"containers": [{"name": "app", "image": "registry.example/app:1"}], "volumes": [{"name": "cache", "emptyDir": {}}]}
DEPLOYMENT = {"spec": {"template": {"spec": POD}}}
CRONJOB = {"spec": {"jobTemplate": {"spec": {"template": {"spec": POD}}}}}
GPU_TAINT = [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]


def karpenter_pool(capacity: list[str], labels: dict | None = None, **spec: Any) -> dict:
    reqs = [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": capacity},
            {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["g6e"]}]
    return {"spec": {"template": {"metadata": {"labels": labels or {"inferstack.io/accelerator": "gpu", "inferstack.io/pool": "l40s"}},
                                  "spec": {"requirements": reqs, "taints": GPU_TAINT, **spec}}}}


def gke_pool(machine: str = "g2-standard-8", spot: bool = False, accel: bool = True, pool: str = "l4", **extra) -> dict:
    nc: dict[str, Any] = {"machineType": machine, "spot": spot, "labels": {"inferstack.io/pool": pool},
                          "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]}
    if accel:
        nc["guestAccelerators"] = [{"type": "nvidia-l4", "count": 1}]
    return {"location": "europe-west4", "nodeConfig": nc, **extra}


NODEPOOL = "kubernetes:karpenter.sh/v1:NodePool"
GKE_POOL = "gcp:container/nodePool:NodePool"
TAINTS = (0, "props", "spec", "template", "spec", "taints")
SPOT = (0, "props", "nodeConfig", "spot")

CASES = [
    # ---------------------------------------------------------------- encryption
    Case("s3-no-sse-resource", "s3-bucket-sse-kms", (BUCKET, SSE), (1,), DELETE),
    Case("s3-sse-aes256", "s3-bucket-sse-kms", (BUCKET, SSE),
         (1, "props", "rules", 0, "applyServerSideEncryptionByDefault", "sseAlgorithm"), "AES256", flagged=1),
    Case("s3-sse-no-cmk", "s3-bucket-sse-kms", (BUCKET, SSE),
         (1, "props", "rules", 0, "applyServerSideEncryptionByDefault", "kmsMasterKeyId"), DELETE, flagged=1),
    Case("s3-sse-aws-managed-key", "s3-bucket-sse-kms", (BUCKET, SSE),
         (1, "props", "rules", 0, "applyServerSideEncryptionByDefault", "kmsMasterKeyId"), "alias/aws/s3", flagged=1),
    Case("s3-sse-other-bucket", "s3-bucket-sse-kms", (BUCKET, SSE), (1, "props", "bucket"), "logs"),
    Case("aws-kms-rotation-off", "kms-key-rotation", one("aws:kms/key:Key", {"enableKeyRotation": True}),
         (0, "props", "enableKeyRotation"), False),
    Case("aws-kms-rotation-unset", "kms-key-rotation", one("aws:kms/key:Key", {"enableKeyRotation": True}),
         (0, "props", "enableKeyRotation"), DELETE),
    Case("gcp-kms-rotation", "kms-key-rotation",
         one("gcp:kms/cryptoKey:CryptoKey", {"keyRing": "projects/p/locations/europe-west4/keyRings/k", "rotationPeriod": "7776000s"}),
         (0, "props", "rotationPeriod"), DELETE),
    Case("eks-secrets-not-listed", "eks-secrets-encryption",
         one("aws:eks/cluster:Cluster", {"encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": KEY}}}),
         (0, "props", "encryptionConfig", "resources"), []),
    Case("eks-secrets-no-key", "eks-secrets-encryption",
         one("aws:eks/cluster:Cluster", {"encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": KEY}}}),
         (0, "props", "encryptionConfig", "provider", "keyArn"), DELETE),
    Case("launch-template-unencrypted", "ebs-encryption",
         one("aws:ec2/launchTemplate:LaunchTemplate",
             {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "kmsKeyId": KEY}}]}),
         (0, "props", "blockDeviceMappings", 0, "ebs", "encrypted"), "false"),
    Case("ebs-volume-unencrypted", "ebs-encryption",
         one("aws:ebs/volume:Volume", {"availabilityZone": "eu-west-1a", "size": 100, "encrypted": True, "kmsKeyId": KEY}),
         (0, "props", "encrypted"), False),
    Case("dynamodb-sse-off", "dynamodb-cmk",
         one("aws:dynamodb/table:Table", {"serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY}}),
         (0, "props", "serverSideEncryption", "enabled"), False),
    Case("dynamodb-aws-owned-key", "dynamodb-cmk",
         one("aws:dynamodb/table:Table", {"serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY}}),
         (0, "props", "serverSideEncryption", "kmsKeyArn"), DELETE),
    Case("secretsmanager-default-key", "secretsmanager-cmk", one("aws:secretsmanager/secret:Secret", {"kmsKeyId": KEY}),
         (0, "props", "kmsKeyId"), DELETE),
    Case("secretsmanager-aws-managed-key", "secretsmanager-cmk", one("aws:secretsmanager/secret:Secret", {"kmsKeyId": KEY}),
         (0, "props", "kmsKeyId"), "alias/aws/secretsmanager"),
    Case("gcs-no-cmek", "gcs-cmek", one("gcp:storage/bucket:Bucket", GCS), (0, "props", "encryption"), DELETE),
    Case("gke-db-decrypted", "gke-database-encryption", one("gcp:container/cluster:Cluster", GKE_CLUSTER),
         (0, "props", "databaseEncryption", "state"), "DECRYPTED"),
    Case("gke-db-no-key", "gke-database-encryption", one("gcp:container/cluster:Cluster", GKE_CLUSTER),
         (0, "props", "databaseEncryption", "keyName"), DELETE),
    Case("secret-manager-google-key", "secret-manager-cmek", one("gcp:secretmanager/secret:Secret", SM_SECRET),
         (0, "props", "replication", "userManaged", "replicas", 0, "customerManagedEncryption"), DELETE),
    # ---------------------------------------------------------------- IAM
    Case("iam-action-star", "iam-least-privilege", one("aws:iam/policy:Policy", {"policy": doc(stmt())}),
         (0, "props", "policy", "Statement", 0, "Action"), "*"),
    Case("iam-service-star", "iam-least-privilege", one("aws:iam/policy:Policy", {"policy": doc(stmt())}),
         (0, "props", "policy", "Statement", 0, "Action"), ["s3:*"]),
    Case("iam-write-on-star", "iam-least-privilege",
         one("aws:iam/rolePolicy:RolePolicy", {"role": "r", "policy": doc(stmt(action=("s3:PutObject",)))}),
         (0, "props", "policy", "Statement", 0, "Resource"), "*"),
    Case("iam-read-to-write-on-star", "iam-least-privilege",
         one("aws:iam/policy:Policy", {"policy": doc(stmt(action=("ec2:DescribeInstances",), resource="*"))}),
         (0, "props", "policy", "Statement", 0, "Action"), ["ec2:TerminateInstances"]),
    Case("iam-deny-becomes-allow", "iam-least-privilege",
         one("aws:iam/policy:Policy", {"policy": doc(stmt(effect="Deny", action="*", resource="*"))}),
         (0, "props", "policy", "Statement", 0, "Effect"), "Allow"),
    Case("iam-not-action", "iam-least-privilege", one("aws:iam/policy:Policy", {"policy": doc(stmt())}),
         (0, "props", "policy", "Statement", 0, "NotAction"), ["iam:*"]),
    Case("iam-role-inline-policy", "iam-least-privilege",
         one("aws:iam/role:Role", {"assumeRolePolicy": TRUST, "inlinePolicies": [{"name": "s3", "policy": doc(stmt())}]}),
         (0, "props", "inlinePolicies", 0, "policy", "Statement", 0, "Action"), "*"),
    Case("trust-principal-star", "iam-trust-not-public", one("aws:iam/role:Role", {"assumeRolePolicy": TRUST}),
         (0, "props", "assumeRolePolicy", "Statement", 0, "Principal"), "*"),
    Case("trust-aws-star", "iam-trust-not-public", one("aws:iam/role:Role", {"assumeRolePolicy": TRUST}),
         (0, "props", "assumeRolePolicy", "Statement", 0, "Principal"), {"AWS": "*"}),
    Case("trust-federated-star", "iam-trust-not-public", one("aws:iam/role:Role", {"assumeRolePolicy": TRUST}),
         (0, "props", "assumeRolePolicy", "Statement", 0, "Principal"), {"Federated": ["*"]}),
    Case("gke-legacy-abac", "gke-access-control", one("gcp:container/cluster:Cluster", GKE_CLUSTER),
         (0, "props", "enableLegacyAbac"), True),
    Case("gke-no-workload-identity", "gke-access-control", one("gcp:container/cluster:Cluster", GKE_CLUSTER),
         (0, "props", "workloadIdentityConfig"), DELETE),
    # ---------------------------------------------------------------- RBAC
    *[Case(f"rbac-star-{f}-{kind}", "rbac-no-wildcards", one(ROLE + kind, {"rules": [READ_RULE]}),
           (0, "props", "rules", 0, f), [*READ_RULE[f], "*"])
      for kind in ("Role", "ClusterRole", "RolePatch", "ClusterRolePatch") for f in ("verbs", "resources", "apiGroups")],
    Case("cluster-admin-other-group", "rbac-bindings", one(ROLE + "ClusterRoleBinding", ADMIN_BINDING),
         (0, "props", "subjects", 0, "name"), "developers"),
    Case("cluster-admin-to-user", "rbac-bindings", one(ROLE + "ClusterRoleBinding", ADMIN_BINDING),
         (0, "props", "subjects", 0, "kind"), "User"),
    Case("cluster-admin-configured-group", "rbac-bindings",
         one(ROLE + "ClusterRoleBinding", {**ADMIN_BINDING, "subjects": [{"kind": "Group", "name": "corp:admins"}]}),
         (0, "props", "subjects", 0, "name"), ADMINS, config={"platformAdminGroup": "corp:admins"}),
    Case("view-to-cluster-admin", "rbac-bindings", one(ROLE + "ClusterRoleBinding", VIEW_BINDING),
         (0, "props", "roleRef", "name"), "cluster-admin"),
    *[Case(f"bind-{subject.split(':')[1]}-{kind}", "rbac-bindings", one(ROLE + kind, VIEW_BINDING),
           (0, "props", "subjects", 0, "name"), subject)
      for kind in ("RoleBinding", "ClusterRoleBinding", "RoleBindingPatch", "ClusterRoleBindingPatch")
      for subject in ("system:anonymous", "system:unauthenticated", "system:authenticated")],
    # ---------------------------------------------------------------- residency
    Case("aws-region-outside", "region-residency", one("aws:s3/bucket:Bucket", {"region": "eu-west-1"}),
         (0, "props", "region"), "us-east-1"),
    Case("aws-provider-region-outside", "region-residency", one("aws:dynamodb/table:Table", {"name": "t"}),
         (0, "provider", "region"), "us-east-1"),
    Case("aws-provider-region-unknown", "region-residency", one("aws:dynamodb/table:Table", {"name": "t"}),
         (0, "provider", "region"), DELETE),
    Case("aws-region-unknown-value", "region-residency", one("aws:s3/bucket:Bucket", {"region": "eu-west-1"}),
         (0, "props", "region"), UNKNOWN),
    Case("aws-az-outside", "region-residency", one("aws:ebs/volume:Volume", {"availabilityZone": "eu-west-1b", "size": 10}),
         (0, "props", "availabilityZone"), "us-east-1b"),
    Case("gcs-multi-region", "region-residency", one("gcp:storage/bucket:Bucket", {"location": "EUROPE-WEST4"}),
         (0, "props", "location"), "EU"),
    Case("gke-zone-outside", "region-residency", one("gcp:container/nodePool:NodePool", {"location": "europe-west4-a"}),
         (0, "props", "location"), "us-central1-a"),
    Case("gke-node-locations-outside", "region-residency",
         one("gcp:container/nodePool:NodePool", {"location": "europe-west4", "nodeLocations": ["europe-west4-b"]}),
         (0, "props", "nodeLocations", 0), "us-east4-b"),
    Case("keyring-global", "region-residency", one("gcp:kms/keyRing:KeyRing", {"location": "europe-west4"}),
         (0, "props", "location"), "global"),
    Case("secret-replica-outside", "region-residency", one("gcp:secretmanager/secret:Secret", SM_SECRET),
         (0, "props", "replication", "userManaged", "replicas", 0, "location"), "us-east1"),
    Case("secret-auto-replication", "region-residency", one("gcp:secretmanager/secret:Secret", SM_SECRET),
         (0, "props", "replication"), {"auto": {}}),
    Case("gcp-provider-region-outside", "region-residency", one("gcp:compute/network:Network", {"autoCreateSubnetworks": False}),
         (0, "provider", "region"), "us-central1"),
    # ---------------------------------------------------------------- exposure
    Case("eks-endpoint-open", "eks-endpoint-not-public",
         one("aws:eks/cluster:Cluster", {"vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}}),
         (0, "props", "vpcConfig", "publicAccessCidrs"), ["0.0.0.0/0"]),
    Case("eks-endpoint-default-cidrs", "eks-endpoint-not-public",
         one("aws:eks/cluster:Cluster", {"vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}}),
         (0, "props", "vpcConfig", "publicAccessCidrs"), DELETE),
    Case("eks-private-endpoint-made-public", "eks-endpoint-not-public",
         one("aws:eks/cluster:Cluster", {"vpcConfig": {"endpointPublicAccess": False}}),
         (0, "props", "vpcConfig", "endpointPublicAccess"), True),
    Case("gke-public-nodes", "gke-private-cluster", one("gcp:container/cluster:Cluster", GKE_CLUSTER),
         (0, "props", "privateClusterConfig", "enablePrivateNodes"), False),
    Case("gke-no-authorized-networks", "gke-private-cluster", one("gcp:container/cluster:Cluster", GKE_CLUSTER),
         (0, "props", "masterAuthorizedNetworksConfig"), DELETE),
    Case("gke-authorized-anywhere", "gke-private-cluster", one("gcp:container/cluster:Cluster", GKE_CLUSTER),
         (0, "props", "masterAuthorizedNetworksConfig", "cidrBlocks", 0, "cidrBlock"), "0.0.0.0/0"),
    *[Case(f"s3-pab-{flag}", "s3-no-public-access", (BUCKET, PAB), (1, "props", flag), False, flagged=1)
      for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")],
    Case("s3-no-pab", "s3-no-public-access", (BUCKET, PAB), (1,), DELETE),
    Case("gcs-public-prevention-inherited", "gcs-no-public-access", one("gcp:storage/bucket:Bucket", GCS),
         (0, "props", "publicAccessPrevention"), "inherited"),
    Case("gcs-fine-grained-acls", "gcs-no-public-access", one("gcp:storage/bucket:Bucket", GCS),
         (0, "props", "uniformBucketLevelAccess"), False),
    Case("aws-lb-internet-facing", "no-public-load-balancers", one("kubernetes:core/v1:Service", LB),
         (0, "props", "metadata", "annotations", "service.beta.kubernetes.io/aws-load-balancer-scheme"), "internet-facing"),
    Case("gke-lb-external", "no-public-load-balancers", one("kubernetes:core/v1:ServicePatch", GKE_LB),
         (0, "props", "metadata", "annotations", "networking.gke.io/load-balancer-type"), "External"),
    Case("service-list-item-public-lb", "no-public-load-balancers",
         one("kubernetes:core/v1:ServiceList", {"items": [{"apiVersion": "v1", "kind": "Service", **copy.deepcopy(LB)}]}),
         (0, "props", "items", 0, "metadata", "annotations"), {}),
    Case("configgroup-public-lb", "no-public-load-balancers",
         one("kubernetes:yaml/v2:ConfigGroup", {"objs": [{"apiVersion": "v1", "kind": "Service", **copy.deepcopy(GKE_LB)}]}),
         (0, "props", "objs", 0, "metadata", "annotations"), {}),
    Case("clusterip-made-lb", "no-public-load-balancers",
         one("kubernetes:core/v1:Service", {"spec": {"type": "ClusterIP", "ports": [{"port": 80}]}}),
         (0, "props", "spec", "type"), "LoadBalancer"),
    Case("isvc-public", "inference-cluster-local", one("kubernetes:serving.kserve.io/v1beta1:InferenceService", ISVC),
         (0, "props", "metadata", "labels", "networking.knative.dev/visibility"), DELETE),
    Case("launch-template-imdsv1", "imdsv2-required",
         one("aws:ec2/launchTemplate:LaunchTemplate", {"metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 2}}),
         (0, "props", "metadataOptions", "httpTokens"), "optional"),
    Case("instance-imdsv1", "imdsv2-required", one("aws:ec2/instance:Instance", {"metadataOptions": {"httpTokens": "required"}}),
         (0, "props", "metadataOptions"), DELETE),
    Case("nodeclass-imdsv1", "imdsv2-required",
         one("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass", {"spec": {"metadataOptions": {"httpTokens": "required"}}}),
         (0, "props", "spec", "metadataOptions", "httpTokens"), "optional"),
    Case("privileged-container", "no-privileged-workloads", one("kubernetes:apps/v1:Deployment", DEPLOYMENT),
         (0, "props", "spec", "template", "spec", "containers", 0, "securityContext"), {"privileged": True}),
    Case("host-network", "no-privileged-workloads", one("kubernetes:apps/v1:DaemonSet", DEPLOYMENT),
         (0, "props", "spec", "template", "spec", "hostNetwork"), True),
    Case("host-pid", "no-privileged-workloads", one("kubernetes:core/v1:Pod", {"spec": POD}), (0, "props", "spec", "hostPID"), True),
    Case("host-path", "no-privileged-workloads", one("kubernetes:batch/v1:CronJob", CRONJOB),
         (0, "props", "spec", "jobTemplate", "spec", "template", "spec", "volumes", 0), {"name": "root", "hostPath": {"path": "/"}}),
    Case("patch-privileged", "no-privileged-workloads", one("kubernetes:apps/v1:StatefulSetPatch", DEPLOYMENT),
         (0, "props", "spec", "template", "spec", "containers", 0, "securityContext"), {"privileged": True}),
    Case("secret-string-data", "k8s-secrets-not-plaintext",
         one("kubernetes:core/v1:Secret", {"metadata": {"name": "token"}, "type": "Opaque"}),
         (0, "props", "stringData"), {"token": "hunter2"}),
    Case("secret-data", "k8s-secrets-not-plaintext",
         one("kubernetes:core/v1:SecretPatch", {"metadata": {"name": "token"}, "type": "Opaque"}),
         (0, "props", "data"), {"token": "aHVudGVyMg=="}),
    # ---------------------------------------------------------------- protection
    *[Case(f"prod-unprotected-{t.split(':')[1].replace('/', '-')}", "prod-stateful-protected",
           one(t, {}, opts={"protect": True}), (0, "opts", "protect"), False)
      for t in ("aws:kms/key:Key", "aws:s3/bucket:Bucket", "aws:dynamodb/table:Table", "aws:secretsmanager/secret:Secret",
                "aws:eks/cluster:Cluster", "aws:rds/cluster:Cluster", "gcp:kms/cryptoKey:CryptoKey", "gcp:storage/bucket:Bucket",
                "gcp:secretmanager/secret:Secret", "gcp:container/cluster:Cluster", "gcp:sql/databaseInstance:DatabaseInstance")],
    Case("prod-retain-dropped", "prod-stateful-protected", one("aws:s3/bucket:Bucket", {}, opts={"retainOnDelete": True}),
         (0, "opts", "retainOnDelete"), False),
    # ---------------------------------------------------------------- accelerators
    Case("karpenter-gpu-untainted", "accelerator-pools-tainted", one(NODEPOOL, karpenter_pool(["spot", "on-demand"])),
         TAINTS, DELETE),
    Case("karpenter-neuron-untainted", "accelerator-pools-tainted",
         one(NODEPOOL, {"spec": {"template": {"spec": {"taints": [{"key": "aws.amazon.com/neuron", "effect": "NoSchedule"}],
                                                       "requirements": [{"key": "karpenter.k8s.aws/instance-accelerator-count",
                                                                         "operator": "Gt", "values": ["0"]}]}}}}),
         TAINTS, []),
    Case("gke-gpu-untainted", "accelerator-pools-tainted", one(GKE_POOL, gke_pool()), (0, "props", "nodeConfig", "taints"), []),
    Case("gke-a3-untainted", "accelerator-pools-tainted", one(GKE_POOL, gke_pool("a3-highgpu-8g", accel=False)),
         (0, "props", "nodeConfig", "taints"), DELETE),
    Case("gke-tpu-untainted", "accelerator-pools-tainted",
         one(GKE_POOL, gke_pool("ct5lp-hightpu-4t", accel=False, placementPolicy={"type": "COMPACT", "tpuTopology": "2x4"})),
         (0, "props", "nodeConfig", "taints"), DELETE),
    Case("karpenter-spot-only", "prod-accelerators-not-spot-only", one(NODEPOOL, karpenter_pool(["spot", "on-demand"])),
         (0, "props", "spec", "template", "spec", "requirements", 0, "values"), ["spot"]),
    Case("karpenter-fallback-pool-removed", "prod-accelerators-not-spot-only",
         (Res(NODEPOOL, karpenter_pool(["spot"]), name="l40s-spot"), Res(NODEPOOL, karpenter_pool(["on-demand"]), name="l40s")),
         (1,), DELETE),
    Case("gke-spot-only", "prod-accelerators-not-spot-only", one(GKE_POOL, gke_pool()), SPOT, True),
    Case("gke-fallback-other-model", "prod-accelerators-not-spot-only",
         (Res(GKE_POOL, gke_pool(spot=True), name="l4-spot"), Res(GKE_POOL, gke_pool(), name="l4")),
         (1, "props", "nodeConfig", "labels", "inferstack.io/pool"), "a100"),
]


# ---------------------------------------------------------------- harness


def _set(obj: Any, path: tuple[Any, ...], value: Any) -> None:
    *head, last = path
    for k in head:
        obj = obj[k]
    if value is DELETE:
        del obj[last]
    else:
        obj[last] = copy.deepcopy(value)


def mutate(resources: tuple[Res, ...], path: tuple[Any, ...], value: Any) -> list[dict[str, Any]]:
    """Plain, editable copies of the fixture with the one change applied."""
    out = [{"type": r.type, "name": r.name, "props": copy.deepcopy(r.props), "opts": dict(r.opts),
            "provider": None if r.provider is None else dict(r.provider), "depends_on": r.depends_on} for r in resources]
    for r in out:
        if r["provider"] is None and r["type"].split(":", 1)[0] in REGIONS:
            r["provider"] = {"region": REGIONS[r["type"].split(":", 1)[0]]}
    if path is None:
        return out
    index, *rest = path
    if not rest:
        assert value is DELETE
        out[index] = None  # removed, keeps the other indices stable
        return out
    section, *keys = rest
    if not keys:  # a field of the resource itself: its type token or its name
        out[index][section] = value
        return out
    _set(out[index][section], tuple(keys), value)
    return out


def recording(resources: list[dict[str, Any] | None]) -> tuple[Recording, list[str | None]]:
    """An engine Recording of the fixture: one explicit provider per resource that has provider props."""
    records: list[ResourceRecord] = []
    urns: list[str | None] = []
    for i, r in enumerate(resources):
        if r is None:
            urns.append(None)
            continue
        urn = f"urn:pulumi:{STACK}::inferstack::{r['type']}::{r['name']}-{i}"
        provider = None
        if r["provider"] is not None:
            pkg = r["type"].split(":", 1)[0]
            purn = f"urn:pulumi:{STACK}::inferstack::pulumi:providers:{pkg}::p{i}"
            records.append(ResourceRecord(purn, f"pulumi:providers:{pkg}", f"p{i}", True, None, None, False, False, [], {},
                                          dict(r["provider"]), id=f"p{i}"))
            provider = f"{purn}::p{i}"
        props = {k: json.dumps(v) if k in JSON_FIELDS and isinstance(v, dict) else v for k, v in r["props"].items()}
        for p in props.get("inlinePolicies") or []:
            p["policy"] = json.dumps(p["policy"]) if isinstance(p["policy"], dict) else p["policy"]
        records.append(ResourceRecord(
            urn, r["type"], r["name"], True, None, provider, bool(r["opts"].get("protect")),
            bool(r["opts"].get("retainOnDelete")), [urns[d] for d in r["depends_on"] if urns[d]], {}, props,
        ))
        urns.append(urn)
    return Recording(STACK, records), urns


def policy(name: str):
    return next(p for p in POLICIES if p.name == name)


def run(case: Case, path: tuple[Any, ...] | None, value: Any = None) -> tuple[list[Finding], list[str | None]]:
    rec, urns = recording(mutate(case.resources, path, value))
    config = {case.policy: {"enforcementLevel": "mandatory", **SETTINGS.get(case.policy, {}), **case.config}}
    return evaluate(rec, config, policies=[policy(case.policy)]), urns


def check_compliant(case: Case, runner: Callable[..., tuple[list[Finding], list[str | None]]] = run) -> None:
    """The case's compliant fixture draws no finding from its policy."""
    findings, _ = runner(case, None)
    assert findings == [], [f.message for f in findings]


def check_violates(case: Case, runner: Callable[..., tuple[list[Finding], list[str | None]]] = run) -> None:
    """The case's one change is reported by its policy alone, mandatory, with a message, on the flagged resource."""
    findings, urns = runner(case, case.path, case.bad)
    assert findings, f"{case.id}: changing {case.path} to {case.bad!r} was not reported"
    assert {f.policy for f in findings} == {case.policy}
    assert {f.enforcement_level for f in findings} == {"mandatory"}
    assert not any(f.message.startswith(("can't run policy", "policy raised")) for f in findings), findings
    assert all(f.message.strip() for f in findings)
    if case.flagged is not None:
        assert urns[case.flagged] in {f.urn for f in findings}, [(f.urn, f.message) for f in findings]


def case_tests(cases: list[Case], runner: Callable[..., tuple[list[Finding], list[str | None]]] = run
               ) -> tuple[Callable[[Case], None], Callable[[Case], None]]:
    """The two tests of a module's ``CASES``, parametrized: assign them to ``test_compliant_fixture_passes,
    test_one_field_change_violates`` at module level so pytest collects them."""
    ids = [c.id for c in cases]

    @pytest.mark.parametrize("case", cases, ids=ids)
    def compliant(case: Case) -> None:
        check_compliant(case, runner)

    @pytest.mark.parametrize("case", cases, ids=ids)
    def violates(case: Case) -> None:
        check_violates(case, runner)

    return compliant, violates


test_compliant_fixture_passes, test_one_field_change_violates = case_tests(CASES)


#: Rule modules whose policies are covered by tests/policies/test_k8s_*.py.
K8S_OWNED_MODULES = {"pod_security", "kubernetes"}


def all_cases() -> list[Case]:
    """The cases of every tests/policies/test_*.py module that builds them with this harness."""
    import importlib
    import pkgutil

    import tests.policies

    out = list(CASES)
    for info in pkgutil.iter_modules(tests.policies.__path__):
        if info.name.startswith("test_") and info.name != "test_rules":
            module = importlib.import_module(f"tests.policies.{info.name}")
            out += [c for c in getattr(module, "CASES", []) if isinstance(c, Case)]
    return out


def test_every_policy_has_fixtures() -> None:
    cases = all_cases()
    covered = {c.policy for c in cases}
    from inferstack.policies.pack import RULE_MODULES

    # the Kubernetes rule modules' own tests (tests/policies/test_k8s_*.py) cover them with their own harness
    required = {e.name for m in RULE_MODULES if m.__name__.rsplit(".", 1)[-1] not in K8S_OWNED_MODULES for e in m.ENTRIES}
    assert required - covered == set(), "add compliant/violating fixtures for these policies"
    assert covered <= set(POLICY_NAMES)
    assert len({c.id for c in cases}) == len(cases)


def test_every_policy_has_message_and_remediation() -> None:
    for p in POLICIES:
        assert p.description and p.remediation_steps, p.name


# ---------------------------------------------------------------- exemptions and settings


def _findings(resources: tuple[Res, ...], name: str, **config: Any) -> list[Finding]:
    rec, _ = recording(mutate(resources, None, None))
    cfg = {name: {"enforcementLevel": "mandatory", **SETTINGS.get(name, {}), **config}}
    return evaluate(rec, cfg, policies=[policy(name)])


def test_kms_key_policies_are_exempt_from_iam_least_privilege() -> None:
    key_policy = doc({"Sid": "root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                      "Action": "kms:*", "Resource": "*"})
    assert _findings(one("aws:kms/key:Key", {"policy": key_policy, "enableKeyRotation": True}), "iam-least-privilege") == []
    assert _findings(one("aws:iam/policy:Policy", {"policy": key_policy}), "iam-least-privilege")


def test_read_actions_on_star_and_conditioned_writes_are_allowed() -> None:
    reads = doc(stmt(action=("ec2:DescribeInstances", "ec2:DescribeSubnets"), resource="*"))
    conditioned = doc(stmt(action=("ec2:RunInstances",), resource="*",
                           Condition={"StringEquals": {"aws:RequestTag/karpenter.sh/nodepool": "gpu"}}))
    assert _findings(one("aws:iam/policy:Policy", {"policy": reads}), "iam-least-privilege") == []
    assert _findings(one("aws:iam/policy:Policy", {"policy": conditioned}), "iam-least-privilege") == []


def test_unparseable_policy_document_is_reported() -> None:
    found = _findings(one("aws:iam/policy:Policy", {"policy": "{not json"}), "iam-least-privilege")
    assert len(found) == 1 and "not JSON" in found[0].message


def test_asymmetric_kms_keys_cannot_rotate_and_are_exempt() -> None:
    assert _findings(one("aws:kms/key:Key", {"keySpec": "RSA_2048", "keyUsage": "SIGN_VERIFY"}), "kms-key-rotation") == []
    assert _findings(one("aws:kms/key:Key", {"keySpec": "SYMMETRIC_DEFAULT"}), "kms-key-rotation")


def test_global_services_are_exempt_from_residency_but_unknown_regions_fail_closed() -> None:
    no_region = {"region": None}
    for t in ("aws:iam/role:Role", "kubernetes:core/v1:Namespace", "gcp:serviceaccount/account:Account",
              "aws:route53/zone:Zone", "random:index/randomPassword:RandomPassword"):
        assert _findings(one(t, {}, provider=no_region), "region-residency") == [], t
    found = _findings(one("aws:sqs/queue:Queue", {}, provider=no_region), "region-residency")
    assert len(found) == 1 and "unknown" in found[0].message
    assert _findings(one("aws:sqs/queue:Queue", {}, provider=no_region), "region-residency",
                     exemptTypes=["aws:sqs/"]) == []


def test_s3_encryption_must_name_the_bucket_a_dependency_does_not_count() -> None:
    """Evasion: an SSE config that depends on the bucket but names another one (or its logical name) covers nothing;
    one whose bucket is unknown at preview is "not evaluated" (advisory), never passed."""
    other = Res(SSE.type, {**SSE.props, "bucket": "some-other-bucket"}, name="models-sse", depends_on=(0,))
    assert [(f.name, f.enforcement_level) for f in _findings((BUCKET, other), "s3-bucket-sse-kms")] == [("models", "mandatory")]
    logical = Res(SSE.type, {**SSE.props, "bucket": "models"}, name="models-sse", depends_on=(0,))
    assert [f.name for f in _findings((BUCKET, logical), "s3-bucket-sse-kms")] == ["models"]
    unknown = Res(SSE.type, {**SSE.props, "bucket": UNKNOWN}, name="models-sse", depends_on=(0,))
    found = _findings((BUCKET, unknown), "s3-bucket-sse-kms")
    assert [(f.enforcement_level, f.not_evaluated) for f in found] == [("advisory", True)], found
    pab = Res(PAB.type, {**PAB.props, "bucket": "models"}, name="pab", depends_on=(0,))
    assert [f.name for f in _findings((BUCKET, pab), "s3-no-public-access")] == ["models"]


def test_account_public_access_block_covers_every_bucket() -> None:
    account = Res("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
                  {k: True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")})
    assert _findings((BUCKET, account), "s3-no-public-access") == []
    assert len(_findings((BUCKET,), "s3-no-public-access")) == 1


def test_settings_allow_public_endpoints_when_configured() -> None:
    public_lb = one("kubernetes:core/v1:Service", {"spec": {"type": "LoadBalancer"}})
    assert _findings(public_lb, "no-public-load-balancers", allowPublicLoadBalancers=True) == []
    assert _findings(public_lb, "no-public-load-balancers")
    public_isvc = one("kubernetes:serving.kserve.io/v1beta1:InferenceService", {"metadata": {"name": "llm"}})
    assert _findings(public_isvc, "inference-cluster-local", allowPublicInference=True) == []
    assert _findings(public_isvc, "inference-cluster-local")


def test_prod_only_rules_do_not_fire_outside_prod() -> None:
    bucket = one("aws:s3/bucket:Bucket", {})
    assert _findings(bucket, "prod-stateful-protected", environment="staging") == []
    assert _findings(bucket, "prod-stateful-protected")
    spot = one(NODEPOOL, karpenter_pool(["spot"]))
    assert _findings(spot, "prod-accelerators-not-spot-only", environment="dev") == []
    assert _findings(spot, "prod-accelerators-not-spot-only")


def test_cpu_pools_need_no_taint() -> None:
    cpu = gke_pool("n2-standard-8", accel=False)
    cpu["nodeConfig"].pop("taints")
    assert _findings(one(GKE_POOL, cpu), "accelerator-pools-tainted") == []
    general = {"spec": {"template": {"metadata": {"labels": {"inferstack.io/pool": "general"}},
                                     "spec": {"requirements": [{"key": "karpenter.sh/capacity-type", "operator": "In",
                                                                "values": ["spot"]}]}}}}
    assert _findings(one(NODEPOOL, general), "accelerator-pools-tainted") == []
    assert _findings(one(NODEPOOL, general), "prod-accelerators-not-spot-only") == []


def test_enforcement_levels_follow_the_pack_config() -> None:
    """Advisory config reports advisory; disabled skips the policy; config without a level is advisory."""
    rec, _ = recording(mutate(one("aws:kms/key:Key", {}), None, None))
    p = [policy("kms-key-rotation")]
    assert {f.enforcement_level for f in evaluate(rec, {"kms-key-rotation": "advisory"}, policies=p)} == {"advisory"}
    assert evaluate(rec, {"kms-key-rotation": {"enforcementLevel": "disabled"}}, policies=p) == []
    assert {f.enforcement_level for f in evaluate(rec, {"kms-key-rotation": {}}, policies=p)} == {"advisory"}
    assert {f.enforcement_level for f in evaluate(rec, {"kms-key-rotation": {"x": 1}}, policies=p)} == {"advisory"}
    assert {f.enforcement_level for f in evaluate(rec, {}, policies=p)} == {"mandatory"}
