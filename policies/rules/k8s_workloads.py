"""Workload hygiene on every pod spec a stack declares: service-account tokens, image pinning and provenance,
container requests and limits.

Judged on every pod-bearing kind (Pod, PodTemplate, Deployment, StatefulSet, DaemonSet, ReplicaSet,
ReplicationController, Job, CronJob, their ``*Patch`` and ``*List`` forms, objects of a yaml/v2 ConfigGroup or
ConfigFile, KServe InferenceService / ServingRuntime / LLMInferenceService templates: see
:mod:`inferstack.policies.rules.k8s_objects`).

* ``k8s-service-account-token-automount`` (stack policy: it reads the pod's ServiceAccount): a pod mounts the
  API token of its service account only where needed. Compliant: ``automountServiceAccountToken: false`` on the
  pod, or unset on a pod whose ServiceAccount (declared in the program, same namespace) sets it false, or ``true``
  set explicitly with a dedicated (non-default) service account (the workload talks to the API server). A KServe
  ServingRuntime's pod spec is merged into each InferenceService's predictor, which decides; a ``*Patch`` leaves
  the field as it is; an LLMInferenceServiceConfig preset is merged into each LLMInferenceService, which decides
  likewise. IRSA (EKS) and Workload Identity (GKE) credentials do not need the API token.
  Advisory in dev, mandatory in staging and prod (CIS Kubernetes 5.1.6, NSA/CISA "Protecting Pod service account
  tokens").
* ``k8s-image-pinned``: every container image names a tag other than ``latest`` or a digest; an untagged image is
  ``latest``. Helm release values too: an ``image`` string, or an ``image`` map whose ``tag`` is ``latest`` (a map
  without ``tag`` takes the chart's appVersion, pinned by the chart version). Advisory in dev (iterating on a moving tag), mandatory in staging and prod.
* ``k8s-image-provenance``: images come from the registries or repository prefixes of
  ``inferstack:policy.trustedRegistries`` (empty: any), pinned by digest when ``requireImageDigests`` is set.
  Both settings are opt-in per stack: digests cannot be resolved offline, so the reference stacks pin tags (checked
  by ``k8s-image-pinned``) and a team turns digests on where its release process writes them. Advisory in dev,
  mandatory in staging and prod once configured.
* ``k8s-container-resources``: every container and init container sets requests and limits for cpu and memory
  (NSA/CISA "Resource policies"; OWASP K01). Advisory in dev, mandatory in staging and prod. A KServe
  ServingRuntime's containers and an InferenceService's model container are merged field by field by KServe (the
  runtimes of the KServe chart set both), so neither must hold them all, and an LLMInferenceServiceConfig preset's
  containers are merged with its LLMInferenceService's; a ``*Patch`` keeps the live values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from inferstack.config.policy import PolicySettings
from inferstack.policies.entry import ADVISORY_IN_DEV, PolicyEntry
from inferstack.policies.rules.common import is_unknown, not_evaluated
from inferstack.policies.rules.k8s_objects import (
    CONTAINER_TYPES,
    POD_BEARING_KINDS,
    POD_CARRIERS,
    SERVING_RUNTIME_KINDS,
    WORKLOAD_FAMILY,
    Container,
    K8sObject,
    PodSpec,
    is_map,
    objects,
    pod_specs,
    seq,
)
from inferstack.policies.rules.kubernetes import HELM_TYPES, _walk

KUBERNETES = frozenset({"kubernetes"})
SERVICE_ACCOUNT_TYPES = ("kubernetes:core/v1:ServiceAccount", "kubernetes:core/v1:ServiceAccountList",
                         "kubernetes:core/v1:ServiceAccountPatch", "kubernetes:core/v1:List")
DIGEST = re.compile(r"@sha(256|384|512):[0-9a-f]{64,128}$")
RESOURCE_KEYS = ("cpu", "memory")
DOCKER_HUB = "docker.io"
#: Kinds whose pod specs are templates KServe merges into another object's pods, which decide the token mount and
#: the resources: serving runtimes (into each InferenceService's predictor) and LLMInferenceServiceConfig presets
#: (into each LLMInferenceService).
MERGED_TEMPLATE_KINDS = (*SERVING_RUNTIME_KINDS, "LLMInferenceServiceConfig")


# ---------------------------------------------------------------- image references


@dataclass(frozen=True)
class ImageRef:
    """A container image reference, normalized the way the container runtime resolves it."""

    registry: str
    repository: str  # registry/path, e.g. docker.io/library/nginx
    tag: str | None
    digest: str | None


def parse_image(image: str) -> ImageRef:
    """``nginx`` -> docker.io/library/nginx, no tag; ``ghcr.io/x/y:1@sha256:...`` -> ghcr.io, tag 1, digest."""
    rest, _, digest = image.partition("@")
    first, sep, after = rest.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, after
    else:
        registry, path = DOCKER_HUB, rest if "/" in rest else f"library/{rest}"
    name, colon, tag = path.rpartition(":") if ":" in path.rsplit("/", 1)[-1] else (path, "", "")
    return ImageRef(registry, f"{registry}/{name}", tag if colon else None, f"@{digest}" if digest else None)


def trusted(ref: ImageRef, prefixes: tuple[str, ...]) -> bool:
    """Whether the image comes from one of ``prefixes`` (a registry host, or a repository prefix)."""
    for p in prefixes:
        p = p.rstrip("/")
        if "/" not in p:
            if ref.registry == p:
                return True
        elif ref.repository == p or ref.repository.startswith(p + "/"):
            return True
    return False


def pinning_problem(image: str) -> str | None:
    ref = parse_image(image)
    if ref.digest:
        return None if DIGEST.search(image) else f"image {image!r} has a malformed digest"
    if ref.tag is None:
        return f"image {image!r} has no tag (it resolves to latest)"
    if ref.tag == "latest":
        return f"image {image!r} uses the latest tag"
    return None


def _containers(args: ResourceValidationArgs) -> Iterator[tuple[K8sObject, PodSpec, Container]]:
    for obj in objects(args.resource_type, args.props):
        if obj.kind not in POD_BEARING_KINDS:
            continue
        for spec in pod_specs(obj):
            for c in spec.containers:
                yield obj, spec, c


def _where(obj: K8sObject, c: Container) -> str:
    return f"{obj.label}: {obj.at(c.path)}"


def _images(args: ResourceValidationArgs, check) -> None:
    unknown: list[str] = []
    for obj, _, c in _containers(args):
        image = c.container.get("image")
        if is_unknown(image):
            unknown.append(obj.at(c.path))
        elif isinstance(image, str) and image:
            check(obj, c, image)
    if unknown:
        not_evaluated(f"image of {', '.join(unknown)}")


def helm_image_problems(values: Any) -> Iterator[str]:
    """Images a Helm release's values ask for with a moving tag: ``image: repo:latest``, ``image: repo`` (no tag),
    ``image: {repository, tag: latest}``. A map without ``tag`` takes the chart's default (its appVersion): pinned
    by the chart version."""
    for parent, key, value, _ in _walk(values):
        if key != "image":
            continue
        if isinstance(value, str) and value:
            problem = pinning_problem(value)
            if problem:
                yield f"{parent}.image: {problem}"
        elif is_map(value):
            repo, tag = value.get("repository"), value.get("tag")
            if tag == "latest" or (isinstance(repo, str) and repo.endswith(":latest")):
                yield f"{parent}.image: {repo}:{tag or ''} uses the latest tag".replace(":latest:", ":")


def _pinned(args: ResourceValidationArgs, report) -> None:
    if args.resource_type in HELM_TYPES:
        release = str(args.props.get("name") or args.props.get("chart") or args.name)
        for problem in helm_image_problems(args.props.get("values")):
            report(f"release {release}: {problem}; pin a version tag or a digest.")
        return

    def check(obj: K8sObject, c: Container, image: str) -> None:
        problem = pinning_problem(image)
        if problem:
            report(f"{_where(obj, c)}: {problem}; pin a version tag or a digest.")
    _images(args, check)


def _provenance(args: ResourceValidationArgs, report) -> None:
    config = args.get_config() or {}
    registries = tuple(str(r) for r in seq(config.get("trustedRegistries")))
    digests = bool(config.get("requireImageDigests"))
    if not registries and not digests:
        return

    def check(obj: K8sObject, c: Container, image: str) -> None:
        ref = parse_image(image)
        if registries and not trusted(ref, registries):
            report(f"{_where(obj, c)}: image {image!r} comes from {ref.repository}, outside the trusted registries "
                   f"{list(registries)}.")
        if digests and not (ref.digest and DIGEST.search(image)):
            report(f"{_where(obj, c)}: image {image!r} is not pinned by digest (image@sha256:...).")
    _images(args, check)


def _lenient(obj: K8sObject, c: Container) -> bool:
    return obj.patch or c.merged or obj.kind in MERGED_TEMPLATE_KINDS


def _resources(args: ResourceValidationArgs, report) -> None:
    for obj, _, c in _containers(args):
        if ".ephemeralContainers[" in c.path:
            continue  # ephemeral containers take no resources
        res = c.container.get("resources")
        res = res if is_map(res) else {}
        missing = [f"{part}.{k}" for part in ("requests", "limits") for k in RESOURCE_KEYS
                   if not (is_map(res.get(part)) and res[part].get(k) not in (None, ""))]
        if missing and not _lenient(obj, c):
            report(f"{_where(obj, c)} sets no resources {', '.join(missing)}; set cpu and memory requests and "
                   "limits.")


# ---------------------------------------------------------------- service account tokens


def _service_accounts(args: StackValidationArgs) -> dict[tuple[str | None, str], Any]:
    """(namespace, name) -> automountServiceAccountToken of every ServiceAccount the program declares."""
    out: dict[tuple[str | None, str], Any] = {}
    for r in args.resources:
        if r.resource_type not in SERVICE_ACCOUNT_TYPES and r.resource_type not in CONTAINER_TYPES:
            continue
        try:
            for obj in objects(r.resource_type, r.props):
                meta = obj.props.get("metadata")
                if obj.kind != "ServiceAccount" or not is_map(meta) or not isinstance(meta.get("name"), str):
                    continue
                ns = meta.get("namespace") if isinstance(meta.get("namespace"), str) else None
                out[(ns, meta["name"])] = obj.props.get("automountServiceAccountToken")
        except UnknownValueError:
            continue
    return out


def _namespace(obj: K8sObject) -> str | None:
    meta = obj.props.get("metadata")
    ns = meta.get("namespace") if is_map(meta) else None
    return ns if isinstance(ns, str) and not is_unknown(ns) else None


class _UnknownMount(Exception):
    """The pod's token mount or service account is unknown at preview time."""


def automount_problem(obj: K8sObject, spec: PodSpec, accounts: Mapping[tuple[str | None, str], Any]) -> str | None:
    if obj.kind in MERGED_TEMPLATE_KINDS:
        return None
    mount = spec.spec.get("automountServiceAccountToken")
    sa = spec.spec.get("serviceAccountName") or spec.spec.get("serviceAccount")
    sa = sa if isinstance(sa, str) and not is_unknown(sa) else None
    if mount is False:
        return None
    if mount is True:
        if sa in (None, "default"):
            return (f"{obj.at(spec.path)} mounts the token of the default service account "
                    "(automountServiceAccountToken: true); a workload that calls the API server gets its own account")
        return None
    if obj.patch:
        return None
    if is_unknown(mount) or (sa is None and is_unknown(spec.spec.get("serviceAccountName"))):
        raise _UnknownMount
    if accounts.get((_namespace(obj), sa or "default")) is False:
        return None
    who = f"service account {sa!r}" if sa else "the default service account"
    return (f"{obj.at(spec.path)} mounts the API token of {who}: automountServiceAccountToken is unset and the "
            "program's ServiceAccount does not set it false")


def _automount(args: StackValidationArgs, report) -> None:
    accounts = _service_accounts(args)
    unknown: list[str] = []
    for r in args.resources:
        if not r.resource_type.startswith("kubernetes:"):
            continue
        try:
            for obj in objects(r.resource_type, r.props):
                if obj.kind not in POD_BEARING_KINDS:
                    continue
                for spec in pod_specs(obj):
                    try:
                        problem = automount_problem(obj, spec, accounts)
                    except _UnknownMount:
                        unknown.append(f"{obj.label} ({r.name})")
                        continue
                    if problem:
                        report(f"{obj.label}: {problem}.", r.urn)
        except UnknownValueError:
            unknown.append(r.name)
    if unknown:
        not_evaluated(f"pod specs of {', '.join(unknown)}")


def _registries(settings: PolicySettings) -> dict[str, Any]:
    return {"trustedRegistries": list(settings.policy.trusted_registries),
            "requireImageDigests": settings.policy.require_image_digests}


_CONTROLS_WORKLOAD = ("OWASP Kubernetes Top 10: K01", "NSA-CISA Kubernetes Hardening: Kubernetes Pod security")

ENTRIES = [
    PolicyEntry(StackValidationPolicy(
        name="k8s-service-account-token-automount",
        description="Pods mount their service account's API token only where needed: automountServiceAccountToken "
                    "false on the pod or its ServiceAccount, or true with a dedicated service account.",
        validate=_automount,
        remediation_steps="Set automountServiceAccountToken: false on the pod spec (or on its ServiceAccount); a "
                          "workload that calls the API server uses a dedicated ServiceAccount with a narrow Role and "
                          "sets it true explicitly.",
    ), ADVISORY_IN_DEV,
        controls=("CIS Kubernetes 5.1.6", "NSA-CISA Kubernetes Hardening: Protecting Pod service account tokens",
                  "OWASP Kubernetes Top 10: K01"),
        clouds=KUBERNETES,
        url="https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/"),
    PolicyEntry(ResourceValidationPolicy(
        name="k8s-image-pinned",
        description="Container images (pod specs and Helm values) name a version tag or a digest, never latest or no "
                    "tag.",
        validate=_pinned,
        remediation_steps="Pin the image to a release tag (vllm/vllm-openai:v0.11.1) or a digest "
                          "(image@sha256:...).",
    ), ADVISORY_IN_DEV, types=(*POD_CARRIERS, *HELM_TYPES), families=(WORKLOAD_FAMILY,),
        controls=("OWASP Kubernetes Top 10: K02", *_CONTROLS_WORKLOAD), clouds=KUBERNETES),
    PolicyEntry(ResourceValidationPolicy(
        name="k8s-image-provenance",
        description="Container images come from the stack's trusted registries and are pinned by digest when the "
                    "stack requires it (inferstack:policy.trustedRegistries, requireImageDigests).",
        validate=_provenance,
        config_schema=PolicyConfigSchema(properties={"trustedRegistries": {"type": "array"},
                                                      "requireImageDigests": {"type": "boolean"}}),
        remediation_steps="Mirror the image into a trusted registry (or add its registry to "
                          "inferstack:policy.trustedRegistries) and reference it by digest (image@sha256:...).",
    ), ADVISORY_IN_DEV, _registries, types=POD_CARRIERS, families=(WORKLOAD_FAMILY,),
        controls=("OWASP Kubernetes Top 10: K02", "CIS Kubernetes 5.5.1", "NSA-CISA Kubernetes Hardening: Building secure container images"),
        clouds=KUBERNETES),
    PolicyEntry(ResourceValidationPolicy(
        name="k8s-container-resources",
        description="Every container and init container sets cpu and memory requests and limits.",
        validate=_resources,
        remediation_steps="Set resources.requests and resources.limits for cpu and memory on each container (a "
                          "LimitRange default does not show in the program).",
    ), ADVISORY_IN_DEV, types=POD_CARRIERS, families=(WORKLOAD_FAMILY,),
        controls=("NSA-CISA Kubernetes Hardening: Resource policies", "OWASP Kubernetes Top 10: K01"), clouds=KUBERNETES),
]
