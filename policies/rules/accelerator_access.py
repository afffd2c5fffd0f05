"""Secure accelerator access (Kubernetes AI Conformance ``secure_accelerator_access``): no pod sees a device it did
not claim.

What a workload pod spec (every kind :func:`~inferstack.policies.rules.k8s_objects.pod_specs` knows) must not do:

- set ``NVIDIA_VISIBLE_DEVICES`` (to ``all`` or a device list) in a container's ``env``: the NVIDIA container
  runtime then mounts those GPUs whatever the pod requested (the device plugin or DRA driver sets it for the
  devices they allocate; ``void`` and ``none`` expose no device and are accepted);
- mount a ``hostPath`` of ``/dev`` or ``/dev/nvidia*`` (every GPU of the node, unallocated);
- run a privileged container while requesting accelerators (``nvidia.com/gpu``, ``aws.amazon.com/neuron*``,
  ``google.com/tpu``) or claiming devices (``resources.claims``): a privileged container sees every device node;
- share one ResourceClaim (``resourceClaimName``) from a workload that runs several pods: all of them use the same
  devices; each pod claims its own through ``resourceClaimTemplateName``.

And across the stack: a ResourceClaim is used only from its own namespace (a workload in another namespace naming
it names a claim it does not own), and no ResourceClaim or ResourceClaimTemplate asks for ``adminAccess`` (access to
devices allocated to others).

Device plugins and DRA drivers themselves are privileged by design; they come from pinned Helm releases, which the
rule does not judge.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import (
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from inferstack.policies.entry import ADVISORY_IN_DEV, MANDATORY, PolicyEntry
from inferstack.policies.rules.k8s_objects import (
    POD_CARRIERS,
    WORKLOAD_FAMILY,
    K8sObject,
    PodSpec,
    is_map,
    objects,
    pod_specs,
    seq,
)

#: Extended resources of accelerators (device plugins).
ACCELERATOR_RESOURCES = ("nvidia.com/gpu", "aws.amazon.com/neuron", "aws.amazon.com/neuroncore", "aws.amazon.com/neurondevice", "google.com/tpu")
#: ``NVIDIA_VISIBLE_DEVICES`` values that expose no device.
NO_DEVICE = ("void", "none", "")
#: Pod-bearing kinds that run one pod (a shared claim there is the pod's own).
SINGLE_POD_KINDS = ("Pod",)
RESOURCE_CLAIM = "kubernetes:resource.k8s.io/v1:ResourceClaim"
RESOURCE_CLAIM_TEMPLATE = "kubernetes:resource.k8s.io/v1:ResourceClaimTemplate"
CLAIM_TYPES = (RESOURCE_CLAIM, RESOURCE_CLAIM_TEMPLATE,
               "kubernetes:resource.k8s.io/v1beta1:ResourceClaim", "kubernetes:resource.k8s.io/v1beta1:ResourceClaimTemplate",
               "kubernetes:resource.k8s.io/v1beta2:ResourceClaim", "kubernetes:resource.k8s.io/v1beta2:ResourceClaimTemplate")
FIX = ("request accelerators through the device plugin's extended resource (resources.limits nvidia.com/gpu) or a DRA "
       "ResourceClaimTemplate (spec.resourceClaims[].resourceClaimTemplateName, resources.claims), and let the plugin "
       "or driver expose exactly those devices: no NVIDIA_VISIBLE_DEVICES env, no privileged accelerator container, "
       "no hostPath of /dev or /dev/nvidia*")


def _requests_devices(c: Mapping[str, Any]) -> bool:
    res = c.get("resources") if is_map(c.get("resources")) else {}
    for part in ("limits", "requests"):
        amounts = res.get(part) if is_map(res.get(part)) else {}
        if any(str(k).startswith(ACCELERATOR_RESOURCES) for k in amounts):
            return True
    return bool(seq(res.get("claims")))


def device_problems(obj: K8sObject, spec: PodSpec) -> Iterable[str]:
    """What in ``spec`` gives a container devices it did not claim."""
    for c in spec.containers:
        for e in seq(c.container.get("env")):
            if is_map(e) and e.get("name") == "NVIDIA_VISIBLE_DEVICES":
                value = e.get("value")
                if not (isinstance(value, str) and value.strip().lower() in NO_DEVICE):
                    shown = value if isinstance(value, str) else "(from a reference)"
                    yield f"{c.path} sets NVIDIA_VISIBLE_DEVICES={shown}: the container runtime exposes those GPUs whatever the pod claimed"
        if c.security.get("privileged") is True and _requests_devices(c.container):
            yield f"{c.path} is privileged and requests accelerators: a privileged container sees every device of the node"
    for v in seq(spec.spec.get("volumes")):
        hp = v.get("hostPath") if is_map(v) else None
        path = hp.get("path") if is_map(hp) else None
        norm = path.rstrip("/") if isinstance(path, str) else None
        if norm is not None and (norm == "/dev" or norm.startswith("/dev/nvidia")):
            yield f"{spec.path}.volumes[{v.get('name')}] mounts hostPath {path}: every GPU of the node, allocated or not"
    if obj.kind not in SINGLE_POD_KINDS:
        for rc in seq(spec.spec.get("resourceClaims")):
            if is_map(rc) and rc.get("resourceClaimName"):
                yield (f"{spec.path}.resourceClaims[{rc.get('name')}] names the ResourceClaim {rc.get('resourceClaimName')}: "
                       "every pod of the workload shares its devices; use resourceClaimTemplateName (a claim per pod)")


def _validate(args: ResourceValidationArgs, report) -> None:
    if not args.resource_type.startswith("kubernetes:"):
        return
    for obj in objects(args.resource_type, args.props):
        for spec in pod_specs(obj):
            for problem in device_problems(obj, spec):
                report(f"{obj.label}: {obj.at(problem) if obj.where else problem}; {FIX}.")


def _namespace(props: Mapping[str, Any]) -> str:
    md = props.get("metadata") if is_map(props.get("metadata")) else {}
    ns = md.get("namespace")
    return ns if isinstance(ns, str) and ns else "default"


def _admin_access(props: Mapping[str, Any], template: bool) -> bool:
    spec = props.get("spec") if is_map(props.get("spec")) else {}
    if template:
        spec = spec.get("spec") if is_map(spec.get("spec")) else {}
    devices = spec.get("devices") if is_map(spec.get("devices")) else {}
    for r in seq(devices.get("requests")):
        if not is_map(r):
            continue
        for exact in [r.get("exactly"), *seq(r.get("firstAvailable"))]:
            if is_map(exact) and exact.get("adminAccess") is True:
                return True
        if r.get("adminAccess") is True:  # v1beta1 shape
            return True
    return False


def _claims(args: StackValidationArgs, report) -> None:
    owned: dict[str, set[str]] = {}  # claim name -> namespaces that declare it
    for r in args.resources:
        if r.resource_type in CLAIM_TYPES:
            template = r.resource_type.endswith("Template")
            if _admin_access(r.props, template):
                report(f"{'ResourceClaimTemplate' if template else 'ResourceClaim'} requests adminAccess: access to devices "
                       "allocated to other pods; remove adminAccess (monitoring belongs to the driver's own tools)", r.urn)
            if not template:
                md = r.props.get("metadata") if is_map(r.props.get("metadata")) else {}
                if isinstance(md.get("name"), str):
                    owned.setdefault(md["name"], set()).add(_namespace(r.props))
    for r in args.resources:
        if not r.resource_type.startswith("kubernetes:"):
            continue
        for obj in objects(r.resource_type, r.props):
            ns = _namespace(obj.props)
            for spec in pod_specs(obj):
                for rc in seq(spec.spec.get("resourceClaims")):
                    name = rc.get("resourceClaimName") if is_map(rc) else None
                    if isinstance(name, str) and name in owned and ns not in owned[name]:
                        report(f"{obj.label} in namespace {ns} names ResourceClaim {name}, declared in "
                               f"{', '.join(sorted(owned[name]))}: a claim is used in its own namespace only", r.urn)


ENTRIES = [
    PolicyEntry(
        ResourceValidationPolicy(
            name="secure-accelerator-access",
            description="No pod sees an accelerator it did not claim: no NVIDIA_VISIBLE_DEVICES env, no privileged "
                        "container requesting accelerators, no hostPath of /dev or /dev/nvidia*, no ResourceClaim shared "
                        "by a workload's pods.",
            validate=_validate,
            remediation_steps=FIX[0].upper() + FIX[1:] + ".",
        ),
        MANDATORY,
        types=POD_CARRIERS,
        families=(WORKLOAD_FAMILY,),
        controls=("Kubernetes AI Conformance: secure_accelerator_access", "NIST 800-53 AC-6", "OWASP Kubernetes Top 10: K01"),
        clouds=frozenset({"kubernetes"}),
        url="https://kubernetes.io/docs/concepts/scheduling-eviction/dynamic-resource-allocation/",
    ),
    PolicyEntry(
        StackValidationPolicy(
            name="dra-claims-not-shared",
            description="DRA claims stay in their namespace and ask for no adminAccess (no access to devices allocated "
                        "to others).",
            validate=_claims,
            remediation_steps="Declare each ResourceClaim in the namespace of the pods that use it (better: a "
                              "ResourceClaimTemplate per workload) and remove adminAccess from device requests.",
        ),
        ADVISORY_IN_DEV,
        controls=("Kubernetes AI Conformance: secure_accelerator_access", "NIST 800-53 AC-6"),
        clouds=frozenset({"kubernetes"}),
    ),
]
