"""Kubernetes objects beyond pod specs: Pod Security admission on namespaces, secrets in container env and in
list/ConfigGroup objects, and what Helm release values ask charts to render.

Levels: everything here is mandatory in every environment except ``helm-values-no-public-load-balancers``, which
follows ``no-public-load-balancers`` (advisory in dev, off with ``inferstack:policy.allowPublicLoadBalancers``), and
``k8s-no-node-port-services`` (advisory in dev, mandatory in staging and prod).

* ``k8s-namespace-pod-security``: a Namespace enforces Pod Security admission at baseline or restricted. Without
  the ``pod-security.kubernetes.io/enforce`` label a namespace is as privileged as the cluster default (privileged
  on EKS and GKE). A ``NamespacePatch`` is judged on the label only when it sets it.
* ``k8s-no-literal-secret-env``: no container env var whose name looks like a secret (TOKEN, PASSWORD, SECRET,
  KEY, CREDENTIAL ...; names ending in _PATH, _FILE, _DIR, _URL, _URI, _NAME, _ID, _ARN, _REF are references,
  not secrets) carries a literal ``value``. A Pulumi secret does not help: the value is plaintext in the pod spec
  that anyone with read access to the workload sees. Messages name the variable, never its value.
* ``k8s-contained-secrets-not-plaintext``: the Secrets inside a ``SecretList``, a ``List`` or a yaml/v2
  ConfigGroup/ConfigFile carry no stringData/data (``k8s-secrets-not-plaintext`` judges a plain ``Secret``).
* ``helm-values-no-privileged`` / ``helm-values-no-public-load-balancers``: Helm charts are rendered in the cluster
  (opaque to the offline engine), but a release's ``values`` show what it asks for: ``securityContext.privileged``
  (or ``allowPrivilegeEscalation``) true under any ``*securityContext`` key, ``hostNetwork`` / ``hostPID`` /
  ``hostIPC`` true anywhere, a ``service.type`` (``controller.service.type``, ``*Service.type``, ``serviceType``)
  of LoadBalancer without an internal-load-balancer annotation next to it. A chart's defaults are not visible.
* ``k8s-no-node-port-services``: no Service of type NodePort (a Service, ServicePatch setting the type, the items
  of a ServiceList or List, objects of a yaml/v2 ConfigGroup or ConfigFile, and a Helm release's values asking
  for one: ``service.type``, ``controller.service.type``, ``*Service.type`` or ``serviceType``). A NodePort Service opens its port on
  every node of the cluster, outside the ingress and the internal load balancer that ``no-public-load-balancers``
  asks for, reachable by whatever reaches a node's address (NSA/CISA Kubernetes Hardening, "Network separation and
  hardening": keep services behind a load balancer or ingress; CIS EKS 5.4.5 / CIS GKE 5.6.8 for the load
  balancers). Expose a workload with ClusterIP behind the platform ingress, or an internal LoadBalancer.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyConfigSchema, ResourceValidationArgs, ResourceValidationPolicy

from inferstack.config.policy import PolicySettings
from inferstack.policies.entry import ADVISORY_IN_DEV, MANDATORY, PolicyEntry
from inferstack.policies.rules.k8s_credentials import credential_shapes, secret_like
from inferstack.policies.rules.k8s_objects import (
    CONTAINER_TYPES,
    POD_CARRIERS,
    WORKLOAD_FAMILY,
    containers_of,
    is_map,
    is_seq,
    objects,
    seq,
)

KUBERNETES = frozenset({"kubernetes"})
NAMESPACE_TYPES = ("kubernetes:core/v1:Namespace", "kubernetes:core/v1:NamespacePatch", "kubernetes:core/v1:NamespaceList")
PSA_ENFORCE = "pod-security.kubernetes.io/enforce"
PSA_LEVELS = ("baseline", "restricted")
LIST_TYPES = ("kubernetes:core/v1:SecretList", "kubernetes:core/v1:List")
HELM_TYPES = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart")
#: Internal load balancer annotations (as in ``no-public-load-balancers``).
INTERNAL_LB_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": ("true",),
    "service.beta.kubernetes.io/aws-load-balancer-scheme": ("internal",),
    "networking.gke.io/load-balancer-type": ("Internal",),
    "cloud.google.com/load-balancer-type": ("Internal",),
}
# ---------------------------------------------------------------- namespaces


def _namespaces(args: ResourceValidationArgs, report) -> None:
    if args.resource_type not in NAMESPACE_TYPES:
        return
    for obj in objects(args.resource_type, args.props):
        if obj.kind != "Namespace":
            continue
        meta = obj.props.get("metadata")
        labels = meta.get("labels") if is_map(meta) else None
        level = labels.get(PSA_ENFORCE) if is_map(labels) else None
        if level is None and obj.patch:
            continue
        if level not in PSA_LEVELS:
            found = "no" if level is None else repr(level)
            report(f"{obj.label}: {found} {PSA_ENFORCE} label; Pod Security admission must enforce baseline or "
                   "restricted.")


# ---------------------------------------------------------------- services

#: The Service types (Service, its Patch and List forms: family ``k8s-service-exposure``, generated from the SDK).
SERVICE_FAMILY = "k8s-service-exposure"
SERVICE_TYPES = ("kubernetes:core/v1:Service", "kubernetes:core/v1:ServicePatch", "kubernetes:core/v1:ServiceList")
CORE_LIST = "kubernetes:core/v1:List"


def _service_type_keys(values: Any) -> Iterator[tuple[str, str, Any, Mapping[str, Any]]]:
    """The service-type settings of Helm values: ``<x>service.type`` and ``serviceType`` keys."""
    for parent, key, v, node in _walk(values):
        last = parent.rsplit(".", 1)[-1]
        if (key == "type" and last.lower().endswith("service")) or key.lower() == "servicetype":
            yield parent, key, v, node


def _node_ports(args: ResourceValidationArgs, report) -> None:
    values = _helm_values(args)
    if values is not None:
        for parent, key, v, _ in _service_type_keys(values):
            if v == "NodePort":
                report(f"release {_release(args)}: {parent}.{key} is NodePort; the chart's Service would open its "
                       "port on every node.")
        return
    if args.resource_type not in (*SERVICE_TYPES, CORE_LIST, *CONTAINER_TYPES):
        return
    for obj in objects(args.resource_type, args.props):
        spec = obj.props.get("spec")
        if obj.kind != "Service" or not is_map(spec) or spec.get("type") != "NodePort":
            continue
        ports = [p.get("nodePort") for p in seq(spec.get("ports")) if is_map(p) and p.get("nodePort")]
        at = f" (nodePort {', '.join(str(p) for p in ports)})" if ports else ""
        report(f"{obj.label}: type NodePort opens the Service's port on every node{at}; use ClusterIP behind the "
               "ingress, or an internal LoadBalancer.")


# ---------------------------------------------------------------- env


def _env(args: ResourceValidationArgs, report) -> None:
    if not args.resource_type.startswith("kubernetes:"):
        return
    for obj in objects(args.resource_type, args.props):
        for _, c in containers_of(obj):
            for e in seq(c.container.get("env")):
                if not is_map(e) or e.get("value") in (None, ""):
                    continue
                value = e.get("value")
                shapes = list(credential_shapes(value)) if isinstance(value, str) else []
                if secret_like(e.get("name")) or shapes:
                    held = f" ({', '.join(shapes)})" if shapes else ""
                    report(f"{obj.label}: {obj.at(c.path)} sets env {e.get('name')} to a literal value{held}; use "
                           "valueFrom.secretKeyRef.")


# ---------------------------------------------------------------- secrets in lists and config groups


def _contained_secrets(args: ResourceValidationArgs, report) -> None:
    if args.resource_type not in (*LIST_TYPES, *CONTAINER_TYPES):
        return
    for obj in objects(args.resource_type, args.props):
        if obj.kind != "Secret":
            continue
        keys = sorted({*(obj.props.get("stringData") or {}), *(obj.props.get("data") or {})})
        if keys:
            report(f"{obj.label}: Secret declares values {keys} in stringData/data; they sit in the program and "
                   "the Pulumi state as plain values. Deliver them with an ExternalSecret from the cloud secret store.")


# ---------------------------------------------------------------- helm values


def _walk(value: Any, path: str = "values") -> Iterator[tuple[str, str, Any, Mapping[str, Any]]]:
    """(path of the parent, key, value, parent mapping) for every key of a values tree."""
    if is_map(value):
        for k, v in value.items():
            yield path, str(k), v, value
            yield from _walk(v, f"{path}.{k}")
    elif is_seq(value):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]")


def _helm_values(args: ResourceValidationArgs) -> Any:
    return args.props.get("values") if args.resource_type in HELM_TYPES else None


def _release(args: ResourceValidationArgs) -> str:
    return str(args.props.get("name") or args.props.get("chart") or args.name)


def _helm_privileged(args: ResourceValidationArgs, report) -> None:
    values = _helm_values(args)
    if values is None:
        return
    for parent, key, v, _ in _walk(values):
        last = parent.rsplit(".", 1)[-1].lower()
        if v is True and key in ("privileged", "allowPrivilegeEscalation") and "securitycontext" in last:
            report(f"release {_release(args)}: {parent}.{key} is true.")
        elif v is True and key in ("hostNetwork", "hostPID", "hostIPC"):
            report(f"release {_release(args)}: {parent}.{key} is true.")


def _internal(annotations: Any) -> bool:
    return is_map(annotations) and any(str(annotations.get(k)) in v for k, v in INTERNAL_LB_ANNOTATIONS.items())


def _helm_load_balancers(args: ResourceValidationArgs, report) -> None:
    values = _helm_values(args)
    if values is None or (args.get_config() or {}).get("allowPublicLoadBalancers"):
        return
    for parent, key, v, node in _service_type_keys(values):
        if v != "LoadBalancer":
            continue
        annotations = node.get("annotations") if key == "type" else node.get("serviceAnnotations")
        if not _internal(annotations) and not _internal(node.get("annotations")):
            report(f"release {_release(args)}: {parent}.{key} is LoadBalancer without an internal load balancer "
                   "annotation; the chart's Service would be internet-facing.")


def _allow_public_load_balancers(settings: PolicySettings) -> dict[str, Any]:
    return {"allowPublicLoadBalancers": settings.policy.allow_public_load_balancers}


ENTRIES = [
    PolicyEntry(ResourceValidationPolicy(
        name="k8s-namespace-pod-security",
        description="Namespaces enforce Pod Security admission at baseline or restricted "
                    "(label pod-security.kubernetes.io/enforce).",
        validate=_namespaces,
        remediation_steps="Label the Namespace pod-security.kubernetes.io/enforce: baseline (or restricted), plus "
                          "warn/audit: restricted; for a chart's namespace, declare the Namespace with the labels and "
                          "set createNamespace: false on the release.",
    ), MANDATORY, types=NAMESPACE_TYPES, controls=("CIS Kubernetes 5.2.1", "PSS: Pod Security Admission", "OWASP Kubernetes Top 10: K04",
                  "NSA-CISA Kubernetes Hardening: Pod security enforcement"),
        clouds=KUBERNETES, url="https://kubernetes.io/docs/concepts/security/pod-security-admission/"),
    PolicyEntry(ResourceValidationPolicy(
        name="k8s-no-node-port-services",
        description="No Service of type NodePort (declared, or asked of a chart in Helm values): it opens the "
                    "Service's port on every node of the cluster.",
        validate=_node_ports,
        remediation_steps="Use type ClusterIP behind the platform ingress, or a LoadBalancer Service with the "
                          "cloud's internal load balancer annotation (for a chart, in its release values).",
    ), ADVISORY_IN_DEV, types=(*SERVICE_TYPES, CORE_LIST, *CONTAINER_TYPES, *HELM_TYPES), families=(SERVICE_FAMILY,),
        controls=("NSA-CISA Kubernetes Hardening: Network separation and hardening", "OWASP Kubernetes Top 10: K07"),
        clouds=KUBERNETES, url="https://kubernetes.io/docs/concepts/services-networking/service/#type-nodeport"),
    PolicyEntry(ResourceValidationPolicy(
        name="k8s-no-literal-secret-env",
        description="No container env var named like a secret (*TOKEN*, *PASSWORD*, *SECRET*, *KEY*), or whose value "
                    "has a credential's shape (AWS access key id, private key, API token), has a literal value.",
        validate=_env,
        remediation_steps="Store the value in a Secret (delivered by an ExternalSecret) and reference it with "
                          "env[].valueFrom.secretKeyRef, or mount the Secret as a file.",
    ), MANDATORY, types=POD_CARRIERS, families=(WORKLOAD_FAMILY,), controls=("CIS Kubernetes 5.4.1", "OWASP Kubernetes Top 10: K08", "NSA-CISA Kubernetes Hardening: Secrets"),
        clouds=KUBERNETES),
    PolicyEntry(ResourceValidationPolicy(
        name="k8s-contained-secrets-not-plaintext",
        description="Secrets inside a SecretList, List or yaml/v2 ConfigGroup/ConfigFile carry no stringData or data.",
        validate=_contained_secrets,
        remediation_steps="Remove the Secret from the list or manifest and create it with an ExternalSecret "
                          "(inferstack:secrets) from the cloud secret store.",
    ), MANDATORY, types=(*LIST_TYPES, *CONTAINER_TYPES), controls=("CIS Kubernetes 5.4.2", "OWASP Kubernetes Top 10: K08", "NSA-CISA Kubernetes Hardening: Secrets"), clouds=KUBERNETES),
    PolicyEntry(ResourceValidationPolicy(
        name="helm-values-no-privileged",
        description="Helm release values do not ask for privileged containers, privilege escalation or host "
                    "namespaces (securityContext.privileged, hostNetwork, hostPID, hostIPC).",
        validate=_helm_privileged,
        remediation_steps="Remove the value (or set it false); if the chart needs node access (a CNI or device "
                          "plugin), deploy it into a dedicated namespace and set this policy advisory for the stack "
                          "in inferstack:policy.enforcement with a reason.",
    ), MANDATORY, types=HELM_TYPES,
        controls=("PSS baseline: Privileged Containers", "PSS baseline: Host Namespaces", "CIS Kubernetes 5.2.2",
                  "OWASP Kubernetes Top 10: K01"),
        clouds=KUBERNETES),
    PolicyEntry(ResourceValidationPolicy(
        name="helm-values-no-public-load-balancers",
        description="Helm release values set no LoadBalancer service type without an internal annotation, unless "
                    "public load balancers are allowed.",
        validate=_helm_load_balancers,
        config_schema=PolicyConfigSchema(properties={"allowPublicLoadBalancers": {"type": "boolean"}}),
        remediation_steps="Use ClusterIP behind the platform ingress, or add the cloud's internal load balancer "
                          "annotation in the same values block (service.annotations), or set "
                          "inferstack:policy.allowPublicLoadBalancers.",
    ), ADVISORY_IN_DEV, _allow_public_load_balancers, types=HELM_TYPES, controls=("NIST 800-53 SC-7",),
        clouds=KUBERNETES),
]
