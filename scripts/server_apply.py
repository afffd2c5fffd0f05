#!/usr/bin/env python3
"""Server-side conformance: apply rendered manifests to a real Kubernetes API server with server-side apply.

Usage: server_apply.py --kubeconfig FILE [--context NAME] [--schemas DIR] [--json OUT]
                       (--all | --stack S ... | --example E ... | DIR ...)

1. CRDs: every upstream CRD schema in ``--schemas`` (``../shared/schemas``: one file per group/version/kind, an
   ``openAPIV3Schema`` with its CEL ``x-kubernetes-validations``) is built into a CustomResourceDefinition (the
   versions of one kind in one CRD; the storage version is the newest by Kubernetes' version order) and applied;
   each must become Established.
2. For each target (a reference stack or example rendered with ``inferstack render``, or a directory of rendered
   manifests): namespaces and CRDs first, then every other object, each group first with ``dryRun=All`` and then for
   real. Server-side apply: ``PATCH`` with ``application/apply-patch+yaml``, field manager ``inferstack``,
   ``force=true``, ``fieldValidation=Strict`` (an unknown or duplicate field is a rejection, not silently pruned).
   Rejections carry the server's message; every ``Warning`` response header is collected (Pod Security warnings:
   ``would violate PodSecurity``, at the namespace's enforce level).
3. A second apply of the same objects must change nothing: resourceVersion and generation equal before and after
   (an object whose only change is in ``metadata.managedFields`` counts as unchanged).
4. PodSecurity judges Pods and the templates of built-in workloads (on those: warnings at the namespace's warn
   level), never the pod specs inside custom resources. Those (InferenceService components, with the model merged
   onto our ServingRuntime/ClusterServingRuntime when it names one; LLMInferenceService(Config) template/worker and
   prefill; LeaderWorkerSet templates) are dry-run as Pods in the object's namespace: a refusal at the enforce level
   or a warning at the warn level is a Pod Security finding. Fields that are not PodSpec/Container fields (per the
   server's OpenAPI) are dropped; a container without an image (the controller fills it in) gets a probe image.

Objects whose kind the server does not serve (neither built in nor one of the CRDs) are listed by kind as
``not applied (no CRD)``, never dropped silently. A namespaced object without a namespace goes to ``default`` (what
the Pulumi Kubernetes provider does).

Client: plain HTTPS with ``requests`` (client certificate and CA from the kubeconfig), no Kubernetes client library.
Prints one block per target; exits 1 when a CRD is refused or any target has a rejection, a warning or a changed
second apply, 2 on bad arguments. Needs requests and PyYAML (and the ``inferstack`` CLI for ``--stack``/``--example``/``--all``).
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml

REPO = Path(__file__).resolve().parent.parent
FIELD_MANAGER = "inferstack"
REFERENCE_STACKS = ("dev", "staging", "prod", "gcp-dev", "gcp-prod")

#: CRD scopes (the schema files carry group, version, kind and the schema, not the scope), from the upstream CRD
#: files each schema names in its ``source``. Every other kind of ../shared/schemas is Namespaced.
CLUSTER_SCOPED_KINDS = frozenset({
    ("external-secrets.io", "ClusterSecretStore"),
    ("karpenter.k8s.aws", "EC2NodeClass"),
    ("karpenter.sh", "NodePool"),
    ("serving.kserve.io", "ClusterServingRuntime"),
    ("serving.kserve.io", "LocalModelCache"),
    ("kueue.x-k8s.io", "AdmissionCheck"),
    ("kueue.x-k8s.io", "ClusterQueue"),
    ("kueue.x-k8s.io", "Cohort"),
    ("kueue.x-k8s.io", "ProvisioningRequestConfig"),
    ("kueue.x-k8s.io", "ResourceFlavor"),
    ("kueue.x-k8s.io", "Topology"),
    ("kueue.x-k8s.io", "WorkloadPriorityClass"),
})

PSA_MARKER = "would violate PodSecurity"


class UsageError(Exception):
    """Bad command-line input (exit 2)."""


# ------------------------------------------------------------------ CRDs from the schema files


_VERSION_RE = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version: str) -> tuple[int, int, int]:
    """Kubernetes' version order (v2 > v1 > v1beta2 > v1beta1 > v1alpha1): a sortable key."""
    m = _VERSION_RE.match(version)
    if not m:
        return (-1, 0, 0)
    major, stage, minor = int(m.group(1)), m.group(2), int(m.group(3) or 0)
    return ({"alpha": 0, "beta": 1, None: 2}[stage], major, minor)


def plural_of(source: str, group: str, kind: str) -> str:
    """The resource's plural, from the upstream CRD file name the schema's ``source`` names
    (``.../<group>_<plural>.yaml``), else the lowercased kind plus ``s``."""
    m = re.search(re.escape(group) + r"_([a-z0-9]+)\.yaml", source)
    return m.group(1) if m else kind.lower() + "s"


def approval(group: str, source: str) -> dict[str, Any]:
    """The ``api-approved.kubernetes.io`` annotation the API server requires of CRDs in the protected groups
    (``*.k8s.io``, ``*.kubernetes.io``; KEP-1111). The schema files do not carry the upstream CRD's metadata, so the
    value says "unapproved" (accepted; the CRD's KubernetesAPIApprovalPolicyConformant condition is then False)."""
    if not group.endswith((".k8s.io", ".kubernetes.io")) and group not in ("k8s.io", "kubernetes.io"):
        return {}
    return {"annotations": {"api-approved.kubernetes.io": f"unapproved, schema from {source or 'unknown source'}"}}


def load_schema_files(schema_dir: Path) -> list[dict[str, Any]]:
    docs = []
    for path in sorted(schema_dir.glob("*.json")):
        doc = json.loads(path.read_text())
        missing = [k for k in ("group", "version", "kind", "openAPIV3Schema") if k not in doc]
        if missing:
            raise UsageError(f"--schemas {path}: lacks {', '.join(missing)} (want group, version, kind, openAPIV3Schema)")
        doc["_file"] = path.name
        docs.append(doc)
    return docs


def build_crds(schema_docs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One CustomResourceDefinition per group/kind, every version of it served, the newest stored."""
    by_kind: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for doc in schema_docs:
        by_kind[(doc["group"], doc["kind"])].append(doc)
    crds = []
    for (group, kind), docs in sorted(by_kind.items()):
        docs = sorted(docs, key=lambda d: version_priority(d["version"]))
        storage = docs[-1]["version"]
        plural = plural_of(docs[-1].get("source", ""), group, kind)
        crds.append({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}", **approval(group, docs[-1].get("source", ""))},
            "spec": {
                "group": group,
                "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower()},
                "scope": "Cluster" if (group, kind) in CLUSTER_SCOPED_KINDS else "Namespaced",
                "versions": [
                    {
                        "name": d["version"],
                        "served": True,
                        "storage": d["version"] == storage,
                        "schema": {"openAPIV3Schema": d["openAPIV3Schema"]},
                        # The schema files carry no subresources; the status subresource is what the operators'
                        # CRDs declare, so a `status` in an applied object is ignored as on a real cluster.
                        "subresources": {"status": {}},
                    }
                    for d in docs
                ],
            },
        })
    return crds


# ------------------------------------------------------------------ a minimal API client


@dataclass
class Kubeconfig:
    server: str
    ca_file: str | None
    cert_file: str | None
    key_file: str | None
    token: str | None = None


def read_kubeconfig(path: Path, context: str | None, workdir: Path) -> Kubeconfig:
    """The server and credentials of ``context`` (default: current-context); inline data written to ``workdir``."""
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise UsageError(f"--kubeconfig {path}: {err}") from None
    name = context or doc.get("current-context")
    contexts = {c["name"]: c["context"] for c in doc.get("contexts") or []}
    if name not in contexts:
        raise UsageError(f"--context {name!r}: not in {path} (have: {', '.join(sorted(contexts)) or 'none'})")
    ctx = contexts[name]
    cluster = next(c["cluster"] for c in doc["clusters"] if c["name"] == ctx["cluster"])
    user = next((u["user"] for u in doc.get("users") or [] if u["name"] == ctx.get("user")), {})

    def material(obj: dict[str, Any], key: str) -> str | None:
        if obj.get(f"{key}-data"):
            out = workdir / key
            out.write_bytes(base64.b64decode(obj[f"{key}-data"]))
            return str(out)
        return obj.get(key)

    return Kubeconfig(cluster["server"].rstrip("/"), material(cluster, "certificate-authority"),
                      material(user, "client-certificate"), material(user, "client-key"), user.get("token"))


@dataclass(frozen=True)
class Resource:
    plural: str
    namespaced: bool


class Client:
    def __init__(self, cfg: Kubeconfig) -> None:
        self.base = cfg.server
        self.s = requests.Session()
        # Not the environment's CA bundle or proxies: REQUESTS_CA_BUNDLE would override `verify` (psf/requests#3829).
        self.s.trust_env = False
        self.s.verify = cfg.ca_file or True
        if cfg.cert_file and cfg.key_file:
            self.s.cert = (cfg.cert_file, cfg.key_file)
        if cfg.token:
            self.s.headers["Authorization"] = f"Bearer {cfg.token}"
        self._discovery: dict[str, dict[str, Resource]] = {}

    def get(self, path: str) -> requests.Response:
        return self.s.get(self.base + path, timeout=30)

    def resource(self, api_version: str, kind: str) -> Resource | None:
        """How ``kind`` of ``api_version`` is served (None when it is not)."""
        if api_version not in self._discovery:
            path = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
            r = self.get(path)
            table = {}
            if r.status_code == 200:
                for res in r.json().get("resources", []):
                    if "/" not in res["name"]:
                        table[res["kind"]] = Resource(res["name"], res["namespaced"])
            self._discovery[api_version] = table
        return self._discovery[api_version].get(kind)

    def forget(self, api_version: str) -> None:
        self._discovery.pop(api_version, None)

    def object_path(self, obj: dict[str, Any], res: Resource) -> str:
        api = obj["apiVersion"]
        prefix = f"/api/{api}" if "/" not in api else f"/apis/{api}"
        meta = obj.get("metadata") or {}
        if res.namespaced:
            prefix += f"/namespaces/{meta.get('namespace') or 'default'}"
        return f"{prefix}/{res.plural}/{meta['name']}"

    def apply(self, obj: dict[str, Any], res: Resource, dry_run: bool) -> tuple[requests.Response, list[str]]:
        params = {"fieldManager": FIELD_MANAGER, "force": "true", "fieldValidation": "Strict"}
        if dry_run:
            params["dryRun"] = "All"
        r = self.s.patch(self.base + self.object_path(obj, res), params=params, data=json.dumps(obj),
                         headers={"Content-Type": "application/apply-patch+yaml"}, timeout=60)
        return r, warnings_of(r)


def warnings_of(r: requests.Response) -> list[str]:
    """The texts of every ``Warning: 299 - "text"`` header of a response (each header kept apart)."""
    raw = r.raw.headers.getlist("Warning") if r.raw is not None and hasattr(r.raw.headers, "getlist") else []
    out = []
    for h in raw:
        m = re.match(r'^\s*\d{3}\s+\S+\s+"((?:[^"\\]|\\.)*)"', h)
        out.append(m.group(1).replace('\\"', '"') if m else h)
    return out


def server_message(r: requests.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return f"HTTP {r.status_code}: {r.text[:500]}"
    return f"HTTP {r.status_code} {body.get('reason', '')}: {body.get('message', r.text[:500])}"


# ------------------------------------------------------------------ applying a stack


def describe(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    ns = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{obj.get('kind')} {ns}{meta.get('name')} ({obj.get('apiVersion')})"


@dataclass
class StackReport:
    target: str
    objects: int = 0
    applied: int = 0
    rejected: list[str] = field(default_factory=list)
    pod_security_warnings: list[str] = field(default_factory=list)
    other_warnings: list[str] = field(default_factory=list)
    not_applied: dict[str, int] = field(default_factory=dict)
    changed_on_second_apply: list[str] = field(default_factory=list)
    #: pod specs declared inside custom resources, dry-run as Pods (see probe_pods)
    pods_probed: int = 0
    #: objects of REPLACED_ON_CHANGE kinds whose immutable spec differed from the stored one: deleted and created
    replaced: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.rejected or self.pod_security_warnings or self.other_warnings or self.changed_on_second_apply)

    def lines(self) -> list[str]:
        out = [f"== {self.target}: {self.objects} objects, applied {self.applied}, rejected {len(self.rejected)}, "
               f"Pod Security warnings {len(self.pod_security_warnings)}, other warnings {len(self.other_warnings)}, "
               f"second apply unchanged {'no' if self.changed_on_second_apply else 'yes'}, "
               f"pod specs of custom resources probed {self.pods_probed}"]
        out += [f"  REJECTED {m}" for m in self.rejected]
        out += [f"  POD SECURITY {m}" for m in self.pod_security_warnings]
        out += [f"  WARNING {m}" for m in self.other_warnings]
        out += [f"  CHANGED ON SECOND APPLY {m}" for m in self.changed_on_second_apply]
        out += [f"  REPLACED (immutable spec changed) {m}" for m in self.replaced]
        out += [f"  not applied (no CRD): {kind} x{n}" for kind, n in sorted(self.not_applied.items())]
        return out


def load_manifests(directory: Path) -> list[dict[str, Any]]:
    objs = []
    for path in sorted(directory.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind"):
                objs.append(doc)
    return objs


def phases(objs: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Namespaces and CRDs first (what the other objects need to exist), then the rest, in file order."""
    first = [o for o in objs if o.get("kind") in ("Namespace", "CustomResourceDefinition")]
    rest = [o for o in objs if o.get("kind") not in ("Namespace", "CustomResourceDefinition")]
    return [g for g in (first, rest) if g]


def _stripped(obj: dict[str, Any]) -> dict[str, Any]:
    out = json.loads(json.dumps(obj))
    meta = out.get("metadata") or {}
    for k in ("managedFields", "resourceVersion"):
        meta.pop(k, None)
    return out


# ------------------------------------------------------------------ pod specs inside custom resources

#: Pod Security admission evaluates Pods and the pod templates of built-in workloads only. Custom resources carry
#: pod specs the operators turn into pods (KServe, LeaderWorkerSet): each is dry-run as a Pod in the object's
#: namespace, so PodSecurity judges it at the namespace's enforce level (a refusal) and warn level (a warning).
PROBE_IMAGE = "registry.invalid/inferstack-probe:0"
KSERVE_COMPONENTS = ("predictor", "transformer", "explainer")
#: The KServe model field of a component, merged into the runtime's `kserve-container` by the controller.
KSERVE_MODEL_CONTAINER = "kserve-container"


@dataclass(frozen=True)
class ProbePod:
    source: str  # "<object> <path>"
    namespace: str
    spec: dict[str, Any]


def _fields(client: Client, definition: str) -> frozenset[str]:
    """The properties of a core/v1 definition (PodSpec, Container), from the server's OpenAPI v3 document."""
    if not hasattr(client, "_core_openapi"):
        r = client.get("/openapi/v3/api/v1")
        r.raise_for_status()
        client._core_openapi = r.json()["components"]["schemas"]  # type: ignore[attr-defined]
    return frozenset(client._core_openapi[f"io.k8s.api.core.v1.{definition}"]["properties"])  # type: ignore[attr-defined]


def _merge_container(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over``'s fields on ``base`` (what KServe does with the model field on the runtime's container)."""
    return {**base, **{k: v for k, v in over.items() if v is not None}}


def pod_specs_of(obj: dict[str, Any], objs: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(path, pod spec) of every pod spec a custom resource declares; KServe components merged with their runtime
    when the runtime is one of ``objs`` (ServingRuntime in the namespace, or ClusterServingRuntime)."""
    kind, spec = obj.get("kind"), obj.get("spec") or {}
    out: list[tuple[str, dict[str, Any]]] = []
    if kind in ("ServingRuntime", "ClusterServingRuntime"):
        return []  # probed through the InferenceServices that run them (their pods live in those namespaces)
    if kind == "InferenceService":
        ns = (obj.get("metadata") or {}).get("namespace")
        runtimes = {(o["kind"], o["metadata"]["name"]): o for o in objs
                    if o.get("kind") == "ClusterServingRuntime"
                    or (o.get("kind") == "ServingRuntime" and o["metadata"].get("namespace") == ns)}
        for comp in KSERVE_COMPONENTS:
            c = spec.get(comp)
            if not isinstance(c, dict):
                continue
            pod = {k: v for k, v in c.items() if k not in ("model", "workerSpec")}
            model = c.get("model")
            if isinstance(model, dict):
                name = model.get("runtime")
                runtime = runtimes.get(("ServingRuntime", name)) or runtimes.get(("ClusterServingRuntime", name))
                rspec = dict((runtime or {}).get("spec") or {})
                base = next((x for x in rspec.get("containers") or [] if x.get("name") == KSERVE_MODEL_CONTAINER),
                            {"name": KSERVE_MODEL_CONTAINER})
                container = _merge_container(base, model)
                others = [x for x in rspec.get("containers") or [] if x.get("name") != KSERVE_MODEL_CONTAINER]
                pod = {**{k: v for k, v in rspec.items() if k != "containers"}, **pod,
                       "containers": [container, *others, *(pod.get("containers") or [])]}
            out.append((f"spec.{comp}", pod))
            if isinstance(c.get("workerSpec"), dict):
                out.append((f"spec.{comp}.workerSpec", c["workerSpec"]))
    elif kind in ("LLMInferenceService", "LLMInferenceServiceConfig"):
        for base, part in (("spec", spec), ("spec.prefill", spec.get("prefill"))):
            if isinstance(part, dict):
                for f in ("template", "worker"):
                    if isinstance(part.get(f), dict):
                        out.append((f"{base}.{f}", part[f]))
    elif kind == "LeaderWorkerSet":
        lwt = spec.get("leaderWorkerTemplate") or {}
        for f in ("leaderTemplate", "workerTemplate"):
            t = lwt.get(f)
            if isinstance(t, dict) and isinstance(t.get("spec"), dict):
                out.append((f"spec.leaderWorkerTemplate.{f}.spec", t["spec"]))
    return out


def probe_pod(client: Client, spec: dict[str, Any]) -> dict[str, Any]:
    """The pod spec cut to PodSpec and Container fields; a container without an image (the controller fills it in
    from a preset or runtime) gets ``PROBE_IMAGE``: PodSecurity does not judge images."""
    pod_fields, container_fields = _fields(client, "PodSpec"), _fields(client, "Container")
    out = {k: v for k, v in spec.items() if k in pod_fields}
    for key in ("initContainers", "containers"):
        if key in out:
            out[key] = [{**{k: v for k, v in c.items() if k in container_fields},
                         "image": c.get("image") or PROBE_IMAGE} for c in out[key] if isinstance(c, dict)]
    out.setdefault("containers", [])
    if not out["containers"]:
        out["containers"] = [{"name": "probe", "image": PROBE_IMAGE}]
    return out


#: ``{{ if .X }}A{{ else }}B{{ end }}`` of KServe's LLMInferenceServiceConfig presets (Go text/template, which the
#: controller executes before merging a preset into a workload).
_GO_IF_ELSE = re.compile(r"\{\{-?\s*if\s+[^}]*?-?\}\}(.*?)\{\{-?\s*else\s*-?\}\}(.*?)\{\{-?\s*end\s*-?\}\}", re.S)
#: Kinds whose pod templates are Go templates the KServe controller renders first.
TEMPLATED_PRESET_KINDS = frozenset({"LLMInferenceServiceConfig"})


def render_go_if_else(value: Any, branch: int = 1) -> Any:
    """``value`` with every ``{{ if }}A{{ else }}B{{ end }}`` of its strings replaced by one branch (1: A, 2: B), as
    the controller's template execution leaves one of them; other template actions are left as they are."""
    if isinstance(value, str):
        return _GO_IF_ELSE.sub(lambda m: m.group(branch), value)
    if isinstance(value, dict):
        return {k: render_go_if_else(v, branch) for k, v in value.items()}
    if isinstance(value, list):
        return [render_go_if_else(v, branch) for v in value]
    return value


def probe_pods(client: Client, applied: list[dict[str, Any]], objs: list[dict[str, Any]], report: StackReport) -> None:
    """Dry-run every pod spec of the applied custom resources as a Pod (dryRun=All, fieldValidation=Strict). The pod
    templates of KServe presets are probed once per branch of their ``{{ if }}`` actions (TLS on and off)."""
    for obj in applied:
        ns = (obj.get("metadata") or {}).get("namespace")
        if not ns:
            continue
        specs = list(pod_specs_of(obj, objs))
        if obj.get("kind") in TEMPLATED_PRESET_KINDS:
            branches = [(f"{path} [if-branch]", render_go_if_else(spec, 1)) for path, spec in specs]
            branches += [(f"{path} [else-branch]", render_go_if_else(spec, 2)) for path, spec in specs]
            specs = branches
        for path, spec in specs:
            pod = {"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": f"probe-{obj['metadata']['name']}"[:63].rstrip("-"), "namespace": ns},
                   "spec": probe_pod(client, spec)}
            r = client.s.post(f"{client.base}/api/v1/namespaces/{ns}/pods",
                              params={"dryRun": "All", "fieldValidation": "Strict"}, data=json.dumps(pod),
                              headers={"Content-Type": "application/json"}, timeout=60)
            report.pods_probed += 1
            where = f"{describe(obj)} {path} (as a Pod)"
            for w in warnings_of(r):
                bucket = report.pod_security_warnings if PSA_MARKER in w else report.other_warnings
                bucket.append(f"{where}: {w}")
            if r.status_code not in (200, 201):
                message = server_message(r)
                bucket = report.pod_security_warnings if "violates PodSecurity" in message else report.rejected
                bucket.append(f"{where}: {message}")


def changed(first: dict[str, Any], second: dict[str, Any]) -> str | None:
    """What a second apply changed in the stored object (None: nothing, or only ``metadata.managedFields``)."""
    m1, m2 = first.get("metadata", {}), second.get("metadata", {})
    if m1.get("resourceVersion") == m2.get("resourceVersion"):
        return None
    if m1.get("generation") == m2.get("generation") and _stripped(first) == _stripped(second):
        return None
    return (f"resourceVersion {m1.get('resourceVersion')} -> {m2.get('resourceVersion')}, "
            f"generation {m1.get('generation')} -> {m2.get('generation')}")


#: Kinds whose spec the API server keeps immutable and that the program declares with replace_on_changes ["spec"]
#: and delete_before_replace (components/dra.py): a changed spec is a replacement, as `pulumi up` would do it.
REPLACED_ON_CHANGE = frozenset({"ResourceClaimTemplate"})


def apply_objects(client: Client, target: str, objs: list[dict[str, Any]]) -> StackReport:
    report = StackReport(target, objects=len(objs))
    applied: list[tuple[dict[str, Any], Resource, dict[str, Any]]] = []

    def note(obj: dict[str, Any], warnings: list[str]) -> None:
        for w in warnings:
            bucket = report.pod_security_warnings if PSA_MARKER in w else report.other_warnings
            if f"{describe(obj)}: {w}" not in bucket:  # the dry run and both applies warn alike: once
                bucket.append(f"{describe(obj)}: {w}")

    for group in phases(objs):
        ready: list[tuple[dict[str, Any], Resource]] = []
        for obj in group:
            res = client.resource(obj.get("apiVersion", ""), obj.get("kind", ""))
            if res is None:
                key = f"{obj.get('kind')} ({obj.get('apiVersion')})"
                report.not_applied[key] = report.not_applied.get(key, 0) + 1
                continue
            r, w = client.apply(obj, res, dry_run=True)
            note(obj, w)
            if r.status_code == 422 and obj.get("kind") in REPLACED_ON_CHANGE and "field is immutable" in r.text:
                # What `pulumi up` does for these kinds (replace_on_changes + delete_before_replace): delete, create.
                client.s.delete(client.base + client.object_path(obj, res), timeout=60)
                report.replaced.append(describe(obj))
                r, w = client.apply(obj, res, dry_run=True)
                note(obj, w)
            if r.status_code not in (200, 201):
                report.rejected.append(f"{describe(obj)} [dryRun=All]: {server_message(r)}")
                continue
            ready.append((obj, res))
        for obj, res in ready:
            r, _ = client.apply(obj, res, dry_run=False)  # the dry run's warnings are this apply's warnings
            if r.status_code not in (200, 201):
                report.rejected.append(f"{describe(obj)}: {server_message(r)}")
                continue
            report.applied += 1
            applied.append((obj, res, r.json()))
            if obj.get("kind") == "CustomResourceDefinition":
                report.rejected += wait_established(client, [obj["metadata"]["name"]])
                for v in obj["spec"].get("versions") or ():
                    client.forget(f"{obj['spec']['group']}/{v['name']}")

    probe_pods(client, [obj for obj, _, _ in applied], objs, report)

    # A second apply of the same objects must change nothing.
    for obj, res, first in applied:
        r, w = client.apply(obj, res, dry_run=False)
        note(obj, w)
        if r.status_code not in (200, 201):
            report.changed_on_second_apply.append(f"{describe(obj)}: second apply refused: {server_message(r)}")
            continue
        change = changed(first, r.json())
        if change:
            report.changed_on_second_apply.append(f"{describe(obj)}: {change}")
    return report


def wait_established(client: Client, names: Iterable[str], timeout: float = 60.0) -> list[str]:
    """Wait until every CRD of ``names`` is Established; the problems of those that are not."""
    problems = []
    deadline = time.monotonic() + timeout
    pending = set(names)
    while pending and time.monotonic() < deadline:
        for name in sorted(pending):
            r = client.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
            conds = {c["type"]: c for c in (r.json().get("status", {}).get("conditions") or [])}
            if conds.get("Established", {}).get("status") == "True":
                pending.discard(name)
            elif conds.get("NamesAccepted", {}).get("status") == "False":
                problems.append(f"CRD {name}: names not accepted: {conds['NamesAccepted'].get('message')}")
                pending.discard(name)
        if pending:
            time.sleep(0.2)
    return problems + [f"CRD {n}: not Established after {timeout:.0f} s" for n in sorted(pending)]


def install_crds(client: Client, crds: list[dict[str, Any]], timeout: float = 60.0) -> StackReport:
    """Apply the CRDs (dry run, then for real) and wait until every one is Established."""
    res = client.resource("apiextensions.k8s.io/v1", "CustomResourceDefinition")
    assert res is not None
    report = StackReport("CRDs from the schema files", objects=len(crds))
    names = []
    for crd in crds:
        for dry in (True, False):
            r, w = client.apply(crd, res, dry_run=dry)
            report.other_warnings += [f"{describe(crd)}: {x}" for x in w if not dry]
            if r.status_code not in (200, 201):
                report.rejected.append(f"{describe(crd)}{' [dryRun=All]' if dry else ''}: {server_message(r)}")
                break
        else:
            report.applied += 1
            names.append(crd["metadata"]["name"])
    report.rejected += wait_established(client, names, timeout)
    for crd in crds:
        for v in crd["spec"]["versions"]:
            client.forget(f"{crd['spec']['group']}/{v['name']}")
    return report


# ------------------------------------------------------------------ rendering the targets


def example_config(example: str) -> Path:
    d = REPO / "examples" / example
    files = sorted(d.glob("Pulumi.*.yaml"))
    files = [f for f in files if f.name != "Pulumi.yaml"]
    if not (d / "__main__.py").is_file() or len(files) != 1:
        raise UsageError(f"--example {example}: want examples/{example}/__main__.py and one Pulumi.<stack>.yaml")
    return files[0]


def examples() -> list[str]:
    return sorted(p.parent.name for p in (REPO / "examples").glob("*/__main__.py"))


def render(target: str, out: Path) -> Path:
    """``inferstack render`` of ``stack:S`` or ``example:E`` into ``out``; the directory written."""
    kind, _, name = target.partition(":")
    cmd = [sys.executable, "-m", "inferstack", "render", "--out", str(out)]
    if kind == "stack":
        cmd += ["--stack", name]
    else:
        cmd += ["--program", str(REPO / "examples" / name / "__main__.py"), "--config", str(example_config(name))]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return out


def targets_of(args: argparse.Namespace) -> list[str]:
    out = [f"stack:{s}" for s in args.stack or ()] + [f"example:{e}" for e in args.example or ()]
    if args.all:
        out = [f"stack:{s}" for s in REFERENCE_STACKS] + [f"example:{e}" for e in examples()]
    for t in out:
        kind, _, name = t.partition(":")
        if kind == "stack" and not (REPO / "stacks" / f"Pulumi.{name}.yaml").is_file():
            raise UsageError(f"--stack {name}: no stacks/Pulumi.{name}.yaml (have: {', '.join(REFERENCE_STACKS)})")
        if kind == "example":
            example_config(name)
    for d in args.dirs:
        if not Path(d).is_dir():
            raise UsageError(f"DIR {d}: not a directory of rendered manifests")
        out.append(f"dir:{d}")
    if not out:
        raise UsageError("nothing to apply: give --all, --stack S, --example E or DIR")
    return out


def run(kubeconfig: Path, context: str | None, schemas: Path | None, targets: list[str],
        workdir: Path) -> tuple[StackReport | None, list[StackReport]]:
    client = Client(read_kubeconfig(kubeconfig, context, workdir))
    crd_report = install_crds(client, build_crds(load_schema_files(schemas))) if schemas else None
    reports = []
    for t in targets:
        kind, _, name = t.partition(":")
        directory = Path(name) if kind == "dir" else render(t, workdir / "manifests" / f"{kind}-{name}")
        reports.append(apply_objects(client, t, load_manifests(directory)))
    return crd_report, reports


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kubeconfig", required=True, type=Path)
    p.add_argument("--context")
    p.add_argument("--schemas", type=Path, help="directory of upstream CRD schema files (../shared/schemas)")
    p.add_argument("--all", action="store_true", help="every reference stack and every example")
    p.add_argument("--stack", action="append", metavar="S")
    p.add_argument("--example", action="append", metavar="E")
    p.add_argument("--json", type=Path, metavar="OUT", help="write the reports as JSON")
    p.add_argument("dirs", nargs="*", metavar="DIR", help="directories of rendered manifests")
    args = p.parse_args(argv)
    try:
        if not args.kubeconfig.is_file():
            raise UsageError(f"--kubeconfig {args.kubeconfig}: no such file")
        if args.schemas is not None and not args.schemas.is_dir():
            raise UsageError(f"--schemas {args.schemas}: not a directory")
        targets = targets_of(args)
        with tempfile.TemporaryDirectory(prefix="server-apply-") as tmp:
            crd_report, reports = run(args.kubeconfig, args.context, args.schemas, targets, Path(tmp))
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    all_reports = ([crd_report] if crd_report else []) + reports
    for rep in all_reports:
        print("\n".join(rep.lines()))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in all_reports], indent=2))
    # Warnings while installing the CRDs are the upstream schemas' (printed), not the stacks'.
    ok = (crd_report is None or not crd_report.rejected) and all(r.ok for r in reports)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
