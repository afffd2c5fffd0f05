"""Effective Kubernetes RBAC permissions: roles expanded to verb x resource x subresource, ClusterRole aggregation,
who holds each role, and the catalogue of dangerous grants. Pure functions over plain mappings (no Pulumi).

The catalogue (:data:`DANGEROUS_GRANTS`) follows the "privilege escalation risks" of the Kubernetes *Role Based
Access Control Good Practices* page (https://kubernetes.io/docs/concepts/security/rbac-good-practices/) and the
CIS Kubernetes Benchmark 5.1.x controls that name the same grants:

==========================  ==========================================================================  ==========
grant                       what it gives                                                               CIS
==========================  ==========================================================================  ==========
listing secrets             get/list/watch on secrets: the contents of every Secret in scope (a List    5.1.2
                            or watch response carries them), legacy service-account tokens included;
                            a ClusterRole's grant is judged by ``rbac-no-cluster-secret-read``, a
                            namespaced Role's here; a rule limited to ``resourceNames`` reads only the
                            Secrets named (get, and list/watch by a ``metadata.name`` field selector)
workload creation           create/update/patch of pods or of any kind that makes pods: every Secret,   5.1.4
                            ConfigMap, PersistentVolume and service-account token of the namespace,
                            and the node when PSS admits privileged pods
exec / attach               pods/exec, pods/attach (create, or get for the older streaming protocol),   5.1.4
                            pods/ephemeralcontainers (update/patch): code in running pods, their tokens
persistent volume creation  create persistentvolumes: hostPath volumes, i.e. node file systems         5.1.9
nodes/proxy                 any verb on nodes/proxy: the kubelet API, command execution in every pod    5.1.10
                            of the node, unaudited by the API server
CSR approval                update/patch certificatesigningrequests/approval (with signers approve):    5.1.11
                            client certificates for any user or group, system:masters included
admission webhooks          create/update/patch/delete of validating/mutating webhook configurations:  5.1.12
                            read or change every object admitted, or switch enforcement off
token request               create serviceaccounts/token: a token of any service account in scope       5.1.13
namespace modification      update/patch namespaces: the Pod Security admission labels, so privileged  5.2.1
                            pods in a namespace that refused them
escalate / bind /           (judged by ``rbac-no-escalation-verbs``)                                    5.1.8
impersonate
==========================  ==========================================================================  ==========

``pods/portforward`` is not in the catalogue: the page does not list it, and it reaches a pod's ports, not its
code or credentials (the team roles grant it for debugging). Neither is patch/update of ``nodes`` or
``nodes/status`` (node labels and taints): the page does not list it (its "namespace modification" is about
Namespace labels); kubelets relabelling their own Node are limited by the NodeRestriction admission plugin, and the
grant is left to a reviewer rather than judged from a hint.

Scope (:func:`judge`). A grant on a *namespaced* resource held through a namespaced Role, or through a ClusterRole
bound only by RoleBindings, stays inside one namespace. Workload creation is tolerated there (a namespace's deployers
create its workloads, and the pods pass Pod Security admission); exec, attach, ephemeral containers and token
requests are not: they reach running pods' and service accounts' credentials without pod admission, and neither
is reading Secrets in a namespaced Role (the page's "listing secrets": ``list`` or ``watch`` returns the contents of
every Secret of the namespace, ``get`` any one by name): it is reported for any holder but the allowed service
accounts, unless the rule names its Secrets in ``resourceNames``. A grant reaches
every namespace when the ClusterRole is bound by a ClusterRoleBinding, aggregated into a ClusterRole that is,
aggregated into the built-in ``view`` role, or not bound in the program at all (then the program cannot tell how it
will be bound). A grant on a *cluster-scoped* resource (nodes, persistent volumes, webhook configurations, CSRs,
namespaces) is effective only through a ClusterRoleBinding; an unbound ClusterRole holding one is reported too.
Holders allowed by the stack (``inferstack:policy.rbacAllowedServiceAccounts``: system controllers, each with a
reason) are not reported; a role held by an allowed account and by anyone else is reported naming the others.

Aggregation. An aggregating ClusterRole's effective rules are the union of the ClusterRoles its
``aggregationRule.clusterRoleSelectors`` select (the controller overwrites its own ``rules``): each ClusterRole of
the program it selects is judged with the aggregating role's holders added to its own (transitively), and the
finding names the chain. An aggregating role that selects no ClusterRole of the program gathers only roles declared
elsewhere (a chart's, rendered in the cluster): the program holds no grant of it to judge, so it is not reported; the
roles it would gather are judged where they are declared.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

RBAC_GROUP = "rbac.authorization.k8s.io"
#: Labels that aggregate a ClusterRole into the built-in user-facing roles.
BUILTIN_AGGREGATION = {f"{RBAC_GROUP}/aggregate-to-{r}": r for r in ("admin", "edit", "view")}
BUILTIN_LABEL = {r: label for label, r in BUILTIN_AGGREGATION.items()}
SERVICE_ACCOUNT_USER = "system:serviceaccount:"


def _seq(v: Any) -> list:
    return list(v) if isinstance(v, Sequence) and not isinstance(v, (str, bytes)) else []


def _map(v: Any) -> Mapping[str, Any]:
    return v if isinstance(v, Mapping) else {}


@dataclass(frozen=True)
class DangerousGrant:
    """One catalogue entry: verbs on ``(group, resource[/subresource])`` pairs; ``cluster_scoped`` resources are
    granted only through ClusterRoleBindings; ``builtin`` names the built-in roles that already hold it (a
    ClusterRole aggregated into them adds nothing)."""

    id: str
    title: str
    verbs: frozenset[str]
    resources: tuple[tuple[str, str], ...]
    cluster_scoped: bool
    control: str
    why: str
    builtin: frozenset[str] = frozenset()
    #: Verbs that need no object name (create on a top-level resource): a rule with resourceNames does not grant them.
    nameless: bool = False
    #: Tolerated inside one namespace (workload creation goes through pod admission); false for the grants that reach
    #: running pods' or service accounts' credentials directly.
    in_namespace: bool = True
    #: A rule limited to ``resourceNames`` grants it for the objects named only, which the catalogue tolerates (Secrets
    #: a workload reads by name): such a rule is not reported.
    names_limit: bool = False
    #: Judged on namespaced Roles only: ClusterRoles granting it are judged by another policy (``judged_by``).
    roles_only: bool = False


_WORKLOADS = (
    ("", "pods"), ("", "replicationcontrollers"),
    ("apps", "deployments"), ("apps", "statefulsets"), ("apps", "daemonsets"), ("apps", "replicasets"),
    ("batch", "jobs"), ("batch", "cronjobs"),
    ("serving.kserve.io", "inferenceservices"), ("serving.kserve.io", "llminferenceservices"),
    ("serving.kserve.io", "servingruntimes"), ("serving.kserve.io", "clusterservingruntimes"),
    ("leaderworkerset.x-k8s.io", "leaderworkersets"),
    ("serving.knative.dev", "services"), ("serving.knative.dev", "configurations"),
)
_WEBHOOKS = (("admissionregistration.k8s.io", "validatingwebhookconfigurations"),
             ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"))

#: The dangerous grants judged by ``rbac-dangerous-grants`` (the module docstring gives the table and sources).
DANGEROUS_GRANTS: tuple[DangerousGrant, ...] = (
    DangerousGrant("workload-creation", "creates or edits workloads", frozenset({"create", "update", "patch"}),
                   _WORKLOADS, False, "CIS Kubernetes 5.1.4",
                   "a pod can mount every Secret and service account of its namespace, and a privileged pod the node",
                   frozenset({"admin", "edit"}), nameless=True),
    DangerousGrant("pod-exec", "runs commands in running pods", frozenset({"create", "get"}),
                   (("", "pods/exec"), ("", "pods/attach")), False, "CIS Kubernetes 5.1.4",
                   "it runs code in the pods, with their service account tokens and cloud credentials",
                   frozenset({"admin", "edit"}), in_namespace=False),
    DangerousGrant("ephemeral-containers", "adds ephemeral containers to running pods", frozenset({"update", "patch"}),
                   (("", "pods/ephemeralcontainers"),), False, "CIS Kubernetes 5.1.4",
                   "it runs code in the pods, with their service account tokens and cloud credentials",
                   in_namespace=False),
    DangerousGrant("token-request", "creates service account tokens", frozenset({"create"}),
                   (("", "serviceaccounts/token"),), False, "CIS Kubernetes 5.1.13",
                   "it mints a token for any service account in scope, and holds that account's permissions",
                   in_namespace=False),
    DangerousGrant("persistent-volume-creation", "creates persistent volumes", frozenset({"create"}),
                   (("", "persistentvolumes"),), True, "CIS Kubernetes 5.1.9",
                   "a hostPath persistent volume mounts any directory of the node", nameless=True),
    DangerousGrant("nodes-proxy", "reaches the kubelet API (nodes/proxy)", frozenset(
        {"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}),
                   (("", "nodes/proxy"),), True, "CIS Kubernetes 5.1.10",
                   "the kubelet API runs commands in every pod of the node, outside the API server's audit log"),
    DangerousGrant("csr-approval", "approves certificate signing requests", frozenset({"update", "patch"}),
                   (("certificates.k8s.io", "certificatesigningrequests/approval"),), True, "CIS Kubernetes 5.1.11",
                   "it issues client certificates for any user or group, system:masters included"),
    DangerousGrant("admission-webhooks", "controls admission webhooks",
                   frozenset({"create", "update", "patch", "delete", "deletecollection"}),
                   _WEBHOOKS, True, "CIS Kubernetes 5.1.12",
                   "a webhook reads or rewrites every object admitted, or switches enforcement off"),
    DangerousGrant("namespace-modification", "modifies namespaces", frozenset({"update", "patch"}),
                   (("", "namespaces"),), True, "CIS Kubernetes 5.2.1",
                   "it can relabel a namespace's Pod Security admission level and admit privileged pods"),
    DangerousGrant("secret-read", "reads Secrets", frozenset({"get", "list", "watch"}),
                   (("", "secrets"),), False, "CIS Kubernetes 5.1.2",
                   "list and watch return the contents of every Secret of the namespace (get any one by name), "
                   "service-account tokens and cloud credentials included; name the Secrets in resourceNames",
                   frozenset({"admin", "edit"}), in_namespace=False, names_limit=True, roles_only=True),
)
#: Grants of the good-practices page judged by the older, dedicated policies (kept so the catalogue is complete).
JUDGED_ELSEWHERE = {
    "listing secrets (get/list/watch secrets) in a ClusterRole": "rbac-no-cluster-secret-read",
    "escalate verb": "rbac-no-escalation-verbs",
    "bind verb": "rbac-no-escalation-verbs",
    "impersonate verb": "rbac-no-escalation-verbs",
    "wildcards": "rbac-no-wildcards",
}


# ---------------------------------------------------------------- rule matching (Kubernetes RBAC semantics)


def _resource_matches(rule_resource: str, resource: str) -> bool:
    """RBAC's resource match: ``*`` is every resource and subresource, ``*/sub`` a subresource of any resource."""
    if rule_resource in ("*", resource):
        return True
    base, _, sub = resource.partition("/")
    return bool(sub) and rule_resource == f"*/{sub}"


def rule_grants(rule: Mapping[str, Any], verb: str, group: str, resource: str, nameless: bool = False) -> bool:
    """Whether one PolicyRule authorizes ``verb`` on ``group``/``resource`` (``pods/exec`` form)."""
    verbs = {str(v) for v in _seq(rule.get("verbs"))}
    groups = {str(g) for g in _seq(rule.get("apiGroups"))}
    resources = [str(r) for r in _seq(rule.get("resources"))]
    if not ({"*", verb} & verbs) or not ({"*", group} & groups):
        return False
    if nameless and _seq(rule.get("resourceNames")):
        return False  # a create request carries no name: rules limited to resourceNames never authorize it
    return any(_resource_matches(r, resource) for r in resources)


@dataclass(frozen=True)
class Hit:
    """A dangerous grant found in one rule of a role."""

    grant: DangerousGrant
    rule: int  # index in the role's own rules, or -1 for a rule it gathers by aggregation
    granted: tuple[str, ...]  # "create apps/deployments", ...
    names: tuple[str, ...] = ()  # the rule's resourceNames, when it is limited to some objects


def dangerous_hits(rules: Iterable[Any], catalogue: Sequence[DangerousGrant] = DANGEROUS_GRANTS) -> list[Hit]:
    """The catalogue's grants each rule gives: every (verb, group, resource) of a grant the rule authorizes."""
    out = []
    for i, rule in enumerate(rules):
        if not isinstance(rule, Mapping):
            continue
        for g in catalogue:
            granted = tuple(f"{v} {grp + '/' if grp else ''}{res}" for grp, res in g.resources for v in sorted(g.verbs)
                            if rule_grants(rule, v, grp, res, (g.nameless and "/" not in res) or g.names_limit))
            if granted:
                out.append(Hit(g, i, granted, tuple(str(n) for n in _seq(rule.get("resourceNames")))))
    return out


# ---------------------------------------------------------------- label selectors (aggregation)


def selector_matches(selector: Any, labels: Mapping[str, Any]) -> bool:
    """A metav1.LabelSelector against labels (an empty selector matches nothing in aggregation, as the controller)."""
    sel = _map(selector)
    match_labels = _map(sel.get("matchLabels"))
    exprs = [e for e in _seq(sel.get("matchExpressions")) if isinstance(e, Mapping)]
    if not match_labels and not exprs:
        return False
    if any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    for e in exprs:
        key, op, values = e.get("key"), e.get("operator"), {str(v) for v in _seq(e.get("values"))}
        has = key in labels
        if op == "In" and not (has and str(labels[key]) in values):
            return False
        if op == "NotIn" and has and str(labels[key]) in values:
            return False
        if op == "Exists" and not has:
            return False
        if op == "DoesNotExist" and has:
            return False
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return False
    return True


# ---------------------------------------------------------------- roles, bindings and holders


@dataclass
class Role:
    kind: str  # Role | ClusterRole
    name: str | None
    namespace: str | None
    labels: Mapping[str, Any]
    rules: list[Any]
    selectors: list[Any]  # aggregationRule.clusterRoleSelectors
    ref: Any = None  # where the role is declared (the caller's handle: a resource URN and label)

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        return (self.kind, self.namespace if self.kind == "Role" else None, self.name)


@dataclass
class Binding:
    kind: str  # RoleBinding | ClusterRoleBinding
    namespace: str | None
    role_kind: str
    role_name: str | None
    subjects: list[Mapping[str, Any]]
    label: str = ""

    @property
    def role_key(self) -> tuple[str, str | None, str | None]:
        return (self.role_kind, self.namespace if self.role_kind == "Role" else None, self.role_name)


def role_of(kind: str, props: Mapping[str, Any], default_namespace: str | None = None, ref: Any = None) -> Role:
    meta = _map(props.get("metadata"))
    agg = _map(props.get("aggregationRule"))
    return Role(kind, meta.get("name") if isinstance(meta.get("name"), str) else None,
                meta.get("namespace") if isinstance(meta.get("namespace"), str) else default_namespace,
                {str(k): v for k, v in _map(meta.get("labels")).items()}, _seq(props.get("rules")),
                _seq(agg.get("clusterRoleSelectors")), ref)


def binding_of(kind: str, props: Mapping[str, Any], label: str = "") -> Binding:
    meta = _map(props.get("metadata"))
    ref = _map(props.get("roleRef"))
    return Binding(kind, meta.get("namespace") if isinstance(meta.get("namespace"), str) else None,
                   str(ref.get("kind") or "ClusterRole"), ref.get("name") if isinstance(ref.get("name"), str) else None,
                   [s for s in _seq(props.get("subjects")) if isinstance(s, Mapping)], label)


def subject_name(s: Mapping[str, Any], binding_namespace: str | None) -> str:
    """``ServiceAccount ns/name`` as its user name ``system:serviceaccount:ns:name``; ``Group x``; ``User x``."""
    kind, name = s.get("kind"), s.get("name")
    if kind == "ServiceAccount":
        return f"{SERVICE_ACCOUNT_USER}{s.get('namespace') or binding_namespace or 'default'}:{name}"
    return f"{kind} {name}"


@dataclass
class Holders:
    """Who holds a role's grants: subject -> (how, whether through a ClusterRoleBinding); built-in roles it is
    aggregated into by label; whether any binding of the program reaches it."""

    subjects: dict[str, tuple[str, bool]] = field(default_factory=dict)
    #: built-in role -> the ClusterRole carrying its aggregation label (the role itself or one aggregating it).
    builtin: dict[str, str] = field(default_factory=dict)
    bound: bool = False

    def cluster_wide(self, allowed: Mapping[str, str] = {}) -> list[str]:
        """The holders through a ClusterRoleBinding that are not allowed, sorted."""
        return sorted(s for s, (_, cw) in self.subjects.items() if cw and s not in allowed)


def aggregators(roles: Sequence[Role]) -> dict[tuple, list[Role]]:
    """ClusterRole key -> the ClusterRoles of the program whose aggregationRule selects it."""
    out: dict[tuple, list[Role]] = {}
    aggs = [r for r in roles if r.kind == "ClusterRole" and r.selectors]
    for r in roles:
        if r.kind != "ClusterRole":
            continue
        for a in aggs:
            if a is not r and any(selector_matches(s, r.labels) for s in a.selectors):
                out.setdefault(r.key, []).append(a)
    return out


def holders(role: Role, bindings: Sequence[Binding], aggregated_into: Mapping[tuple, list[Role]]) -> Holders:
    """The holders of ``role``: its bindings, and (for a ClusterRole) the bindings of the ClusterRoles that aggregate
    it, transitively; the built-in roles it is aggregated into by label."""
    h = Holders()
    seen: set[tuple] = set()
    todo: list[tuple[Role, tuple[str, ...]]] = [(role, ())]
    while todo:
        r, chain = todo.pop()
        via = f" (through aggregation into ClusterRole {', then '.join(chain)})" if chain else ""
        if r.key in seen:
            continue
        seen.add(r.key)
        if r.kind == "ClusterRole":
            for label, builtin in BUILTIN_AGGREGATION.items():
                if str(r.labels.get(label, "")).lower() == "true":
                    h.builtin.setdefault(builtin, str(r.name))
        for b in bindings:
            if b.role_key != r.key or r.name is None:
                continue
            h.bound = True
            for s in b.subjects:
                name, cw = subject_name(s, b.namespace), b.kind == "ClusterRoleBinding"
                if name not in h.subjects or (cw and not h.subjects[name][1]):
                    h.subjects[name] = (f"{b.label or b.kind}{via}", cw)
        for a in aggregated_into.get(r.key, []):
            todo.append((a, (*chain, str(a.name))))
    return h


@dataclass(frozen=True)
class Verdict:
    """One role's dangerous grants that reach holders they should not: (hit, why it counts, the holders named)."""

    findings: tuple[tuple[Hit, str, tuple[str, ...]], ...]


def judge(role: Role, h: Holders, allowed: Mapping[str, str]) -> Verdict | None:
    """The verdict on one role, or None when its dangerous grants stay where they may or reach allowed accounts only.

    A grant is reported when it reaches a holder outside the allow-list:

    * beyond one namespace: a ClusterRole's grant through a ClusterRoleBinding, through aggregation into the
      built-in roles (their holders are unknown to the program; not for the grants ``admin`` and ``edit`` hold
      already), or from a ClusterRole the program binds nowhere (a ClusterRoleBinding elsewhere would grant it
      cluster-wide);
    * inside a namespace too, for the grants that reach running pods' or service accounts' credentials without pod
      admission (exec, attach, ephemeral containers, token requests, reading Secrets: ``in_namespace`` false),
      from a Role or a ClusterRole bound by a RoleBinding, or unbound. Reading Secrets (``roles_only``) is judged
      here on namespaced Roles only: ``rbac-no-cluster-secret-read`` reports every ClusterRole that reads them.

    Workload creation in one namespace is a namespace's deployers' job (its pods pass Pod Security admission), and a
    Role cannot grant cluster-scoped resources, nor can a ClusterRole through a RoleBinding.
    """
    hits = dangerous_hits(role.rules)
    if not hits:
        return None
    cluster = role.kind == "ClusterRole"
    wide = tuple(h.cluster_wide(allowed))
    anyone = tuple(sorted(s for s in h.subjects if s not in allowed))
    out: list[tuple[Hit, str, tuple[str, ...]]] = []
    for hit in hits:
        g = hit.grant
        if (not cluster and g.cluster_scoped) or (cluster and g.roles_only):
            continue
        extra = sorted(h.builtin.keys() - g.builtin) if cluster else []
        if extra:
            labels = ", ".join(f'{BUILTIN_LABEL[b]}: "true"'
                               + (f" (on ClusterRole {h.builtin[b]})" if h.builtin[b] != role.name else "")
                               for b in extra)
            out.append((hit, f"aggregated into the built-in {', '.join(extra)} role (every holder of it) by the "
                             f"label {labels}", ()))
        elif not h.bound and not h.builtin:  # a role aggregated into admin/edit is held through them
            where = "cluster-wide" if cluster else "to anyone"
            out.append((hit, f"not bound in this program (a binding elsewhere would grant it {where})", ()))
        elif cluster and wide:
            out.append((hit, "bound cluster-wide", wide))
        elif not g.in_namespace and anyone:
            out.append((hit, "bound in a namespace, where it reaches every pod's credentials", anyone))
    return Verdict(tuple(out)) if out else None


def describe(role: Role, v: Verdict, h: Holders) -> Iterator[str]:
    """One message per finding: what the role grants, why it is dangerous, and who holds it."""
    for hit, reason, subjects in v.findings:
        who = f"; held by {', '.join(f'{s} ({h.subjects[s][0]})' for s in subjects)}" if subjects else ""
        names = f" (resourceNames {list(hit.names)})" if hit.names else ""
        yield (f"{role.kind} {role.name or '(unnamed)'} rules[{hit.rule}] {hit.grant.title}: {', '.join(hit.granted)}"
               f"{names}; {hit.grant.why}. It is {reason}{who} ({hit.grant.control}).")
