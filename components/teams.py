"""Team namespaces and their RBAC; cluster-admin for the platform-admin group only.

:class:`TeamNamespace` declares a team's namespace (Pod Security ``baseline`` enforced, ``restricted`` warned),
a Role listing explicit API groups, resources and verbs (never ``*``; no Secrets, no writes to workloads: changes
go through Pulumi), and a RoleBinding of that Role to the team's group. :class:`PlatformAdmins` binds
``cluster-admin`` to ``inferstack:policy.platformAdminGroup`` and nothing else. Groups come from the cluster's
identity mapping (EKS access entries / Google Groups for RBAC; ``inferstack:cluster.accessEntries``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_kubernetes as k8s

from inferstack.catalog.labels import POD_SECURITY_LABELS
from inferstack.config.platform import GOOGLE_PRINCIPAL_KINDS, AccessEntry, deployer_group, team_group

TEAM_ROLE = "inferstack-team"
MANAGED = {"app.kubernetes.io/managed-by": "inferstack"}

#: What a team may do in its namespace: read its models and their pods, logs and events, and port-forward to a
#: predictor to test a cluster-local endpoint. apiGroups, resources and verbs are listed explicitly.
TEAM_RULES: list[dict[str, list[str]]] = [
    {"apiGroups": [""], "resources": ["pods", "pods/log", "services", "endpoints", "events", "configmaps", "serviceaccounts"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["pods/portforward"], "verbs": ["create"]},
    {"apiGroups": ["serving.kserve.io"], "resources": ["inferenceservices", "inferenceservices/status", "servingruntimes"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["serving.knative.dev"], "resources": ["services", "configurations", "revisions", "routes"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["apps"], "resources": ["deployments", "replicasets"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["autoscaling.internal.knative.dev"], "resources": ["podautoscalers"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["external-secrets.io"], "resources": ["externalsecrets"], "verbs": ["get", "list", "watch"]},
]


#: What a team's deployer (the identity running the team's serving stack, e.g. its CI) may do in the namespace:
#: manage InferenceServices, PodDisruptionBudgets and the ResourceClaimTemplates a model on an ``allocation: dra``
#: pool claims its GPUs through (``<model>-gpu``), nothing else: no Secrets, no RBAC, no pods, no ResourceClaims
#: (the scheduler creates a pod's claim from the template) and no DeviceClasses (cluster-scoped, the platform's).
DEPLOYER_ROLE = "inferstack-team-deployer"
DEPLOYER_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"]
DEPLOYER_RULES: list[dict[str, list[str]]] = [
    {"apiGroups": ["serving.kserve.io"], "resources": ["inferenceservices"], "verbs": list(DEPLOYER_VERBS)},
    {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": list(DEPLOYER_VERBS)},
    {"apiGroups": ["resource.k8s.io"], "resources": ["resourceclaimtemplates"], "verbs": list(DEPLOYER_VERBS)},
]


def google_subjects(entries: Sequence[AccessEntry], group: str) -> list[dict[str, str]]:
    """GKE: the Google principals of ``entries`` that join ``group``, as RBAC subjects (groups as ``Group``, users and
    service accounts as ``User``, by email). GKE has no principal-to-group mapping, so they are bound directly."""
    out = []
    for entry in entries:
        kind, _, email = entry.principal.partition(":")
        if group in entry.groups and kind in GOOGLE_PRINCIPAL_KINDS:
            out.append({"kind": GOOGLE_PRINCIPAL_KINDS[kind], "name": email, "apiGroup": "rbac.authorization.k8s.io"})
    return out


def namespace_labels(namespace: str) -> dict[str, str]:
    return {
        **MANAGED,
        "inferstack.io/team": namespace,
        **POD_SECURITY_LABELS,
    }


class TeamNamespace(pulumi.ComponentResource):
    """A team's namespace, its read-only Role and the RoleBinding of that Role to the team's group.

    Provisions the Namespace ``namespace`` (Pod Security ``baseline`` enforced, ``restricted`` warned and audited),
    the Role ``inferstack-team`` (the explicit rules of ``TEAM_RULES``: read models, Knative revisions, pods, logs,
    events, PDBs and ExternalSecrets; port-forward to pods) and a RoleBinding of it to ``group``, and the Role
    ``inferstack-team-deployer`` (``DEPLOYER_RULES``: manage InferenceServices, PDBs and DRA ResourceClaimTemplates) bound to
    ``inferstack:team:<namespace>:deployers``, the identity a team serving stack runs as.

    Args:
        name (str): component name; children are ``<name>-ns``, ``<name>-role``, ``<name>-rolebinding``,
            ``<name>-deployer-role``, ``<name>-deployer-rolebinding``.
        namespace (str): the namespace to create.
        provider (k8s.Provider): provider of the cluster.
        group (str | None, default None): Kubernetes group of the team; default ``inferstack:team:<namespace>``.
        depends_on (list[pulumi.Resource] | None, default None): what the namespace waits for (the platform's ready).
        opts (pulumi.ResourceOptions | None, default None): options of the component.
        google_principals (Sequence[AccessEntry], default ()): GKE access entries; those joining the team or deployer
            group are added to that RoleBinding as Google Group / User subjects (GKE cannot map them to groups).

    Outputs:
        group (str), namespace (k8s.core.v1.Namespace), role (k8s.rbac.v1.Role), role_binding (k8s.rbac.v1.RoleBinding),
        deployer_group (str), deployer_role, deployer_binding.
        Registered outputs: ``namespace``, ``group``, ``deployerGroup``.

    Secure choices:
        - no ``*`` in API groups, resources or verbs; no access to Secrets; the team group cannot write workloads
          (changes go through Pulumi); the deployer group may write InferenceServices, PDBs and ResourceClaimTemplates
          only (not ResourceClaims, not DeviceClasses);
        - Pod Security admission labels on the namespace.
    """

    def __init__(
        self,
        name: str,
        namespace: str,
        provider: k8s.Provider,
        group: str | None = None,
        depends_on: list[pulumi.Resource] | None = None,
        opts: pulumi.ResourceOptions | None = None,
        google_principals: Sequence[AccessEntry] = (),
    ):
        super().__init__("inferstack:teams:TeamNamespace", name, None, opts)
        self.group = group or team_group(namespace)
        child = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=depends_on or [])
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-ns", metadata=k8s.meta.v1.ObjectMetaArgs(name=namespace, labels=namespace_labels(namespace)), opts=child
        )
        in_ns = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[self.namespace])
        self.role = self._role(name, "role", TEAM_ROLE, namespace, TEAM_RULES, in_ns)
        self.role_binding = self._bind(
            name, "rolebinding", TEAM_ROLE, namespace, self.group, self.role, provider,
            google_subjects(google_principals, self.group),
        )
        self.deployer_group = deployer_group(namespace)
        self.deployer_role = self._role(name, "deployer-role", DEPLOYER_ROLE, namespace, DEPLOYER_RULES, in_ns)
        self.deployer_binding = self._bind(
            name, "deployer-rolebinding", DEPLOYER_ROLE, namespace, self.deployer_group, self.deployer_role, provider,
            google_subjects(google_principals, self.deployer_group),
        )
        self.register_outputs({"namespace": namespace, "group": self.group, "deployerGroup": self.deployer_group})

    def _role(
        self, name: str, suffix: str, role: str, namespace: str, rules: list[dict[str, list[str]]], opts: pulumi.ResourceOptions
    ) -> k8s.rbac.v1.Role:
        return k8s.rbac.v1.Role(
            f"{name}-{suffix}",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=role, namespace=namespace, labels=MANAGED),
            rules=[k8s.rbac.v1.PolicyRuleArgs(api_groups=r["apiGroups"], resources=r["resources"], verbs=r["verbs"]) for r in rules],
            opts=opts,
        )

    def _bind(
        self, name: str, suffix: str, role: str, namespace: str, group: str, after: pulumi.Resource, provider: k8s.Provider,
        extra: Sequence[dict[str, str]] = (),
    ) -> k8s.rbac.v1.RoleBinding:
        subjects = [{"kind": "Group", "name": group, "apiGroup": "rbac.authorization.k8s.io"}, *extra]
        return k8s.rbac.v1.RoleBinding(
            f"{name}-{suffix}",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=role, namespace=namespace, labels=MANAGED),
            role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role", name=role),
            subjects=[k8s.rbac.v1.SubjectArgs(kind=x["kind"], name=x["name"], api_group=x["apiGroup"]) for x in subjects],
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[after]),
        )


class PlatformAdmins(pulumi.ComponentResource):
    """``cluster-admin`` bound to the platform-admin group, and to no one else.

    Provisions one ClusterRoleBinding ``inferstack-platform-admins`` of the ``cluster-admin`` ClusterRole to
    ``group``: the only ``cluster-admin`` binding the platform declares (the policy pack refuses others).

    Args:
        name (str): component name; the child is ``<name>-cluster-admin``.
        group (str): the Kubernetes group, ``inferstack:policy.platformAdminGroup`` (default
            ``inferstack:platform-admins``).
        provider (k8s.Provider): provider of the cluster.
        opts (pulumi.ResourceOptions | None, default None): options of the component.

    Outputs:
        binding (k8s.rbac.v1.ClusterRoleBinding). Registered outputs: ``group``.

    Secure choices:
        - a group, never users or service accounts; membership comes from the cloud identity mapping (EKS access
          entries, Google Groups for RBAC).
    """

    def __init__(self, name: str, group: str, provider: k8s.Provider, opts: pulumi.ResourceOptions | None = None):
        super().__init__("inferstack:teams:PlatformAdmins", name, None, opts)
        self.binding = k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-cluster-admin",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="inferstack-platform-admins", labels=MANAGED),
            role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="ClusterRole", name="cluster-admin"),
            subjects=[k8s.rbac.v1.SubjectArgs(kind="Group", name=group, api_group="rbac.authorization.k8s.io")],
            opts=pulumi.ResourceOptions(parent=self, provider=provider),
        )
        self.register_outputs({"group": group})
