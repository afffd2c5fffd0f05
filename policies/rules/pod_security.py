"""Pod Security Standards, baseline and restricted, on every pod spec a stack declares.

One policy per PSS control (names follow the controls of https://kubernetes.io/docs/concepts/security/pod-security-standards/),
judged on every pod-bearing kind: Pod, PodTemplate, Deployment, StatefulSet, DaemonSet, ReplicaSet,
ReplicationController, Job, CronJob, their ``*Patch`` and ``*List`` forms, the objects of a yaml/v2 ConfigGroup or
ConfigFile, and the pod templates inside KServe InferenceService predictors/transformers/explainers,
ServingRuntime / ClusterServingRuntime specs and LLMInferenceService templates (see
:mod:`inferstack.policies.rules.k8s_objects`).

Levels:

* **baseline** controls are mandatory in every environment: they stop known privilege escalations (privileged
  containers, host namespaces, hostPath, host ports, added capabilities beyond the baseline set, unsafe sysctls,
  unconfined seccomp/AppArmor, custom SELinux users/roles/types, unmasked /proc). The team namespaces enforce
  baseline already (``pod-security.kubernetes.io/enforce: baseline``): a stack violating it would be rejected by the
  cluster at deploy time, so the policy fails the preview instead.
* **restricted** controls (volume types, allowPrivilegeEscalation false, runAsNonRoot, runAsUser not 0, seccomp
  RuntimeDefault/Localhost set, capabilities drop ALL) are advisory in dev and mandatory in staging and prod: the
  team namespaces warn and audit at restricted; dev may iterate on images that still run as root.

A restricted control that requires a field to be *set* accepts it unset where another object supplies it: a
KServe model container (``spec.predictor.model``) is merged with its serving runtime's container, which is judged
on its own; a ``*Patch`` leaves unset fields as they are. Explicitly wrong values are reported everywhere. Windows
pods (``spec.os.name: windows``) are exempt from the Linux-only restricted controls, as in PSS.

Admission and the offline engine see the same pod templates only for objects the program declares: Helm charts and
operators render theirs inside the cluster (Helm values are judged by ``helm-values-no-privileged``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy

from inferstack.policies.entry import ADVISORY_IN_DEV, MANDATORY, PolicyEntry
from inferstack.policies.rules.k8s_objects import (
    POD_CARRIERS,
    WORKLOAD_FAMILY,
    Container,
    K8sObject,
    PodSpec,
    is_map,
    objects,
    pod_specs,
    seq,
)
from inferstack.policies.rules.node_agents import is_pinned_node_agent

#: Capabilities baseline allows to add (PSS baseline, "Capabilities").
BASELINE_CAPABILITIES = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP",
    "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
})
#: Sysctls baseline allows (PSS baseline, "Sysctls", up to Kubernetes 1.32).
SAFE_SYSCTLS = frozenset({
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
})
#: SELinux types baseline allows ("" is unset).
SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
#: Volume types restricted allows.
RESTRICTED_VOLUMES = frozenset({"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                                "projected", "secret"})
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"

Check = Callable[[K8sObject, PodSpec], Iterable[str]]


def _caps(c: Container, key: str) -> list[str]:
    caps = c.security.get("capabilities")
    return [str(x) for x in seq(caps.get(key))] if is_map(caps) else []


def _norm_cap(cap: str) -> str:
    return cap.upper().removeprefix("CAP_")


def _lenient(obj: K8sObject, c: Container | None = None) -> bool:
    """Unset fields are supplied elsewhere: a KServe model container (its runtime) or a patch (the live object)."""
    return obj.patch or (c is not None and c.merged)


# ---------------------------------------------------------------- baseline


def host_process(obj: K8sObject, spec: PodSpec) -> Iterable[str]:
    if is_map(spec.security.get("windowsOptions")) and spec.security["windowsOptions"].get("hostProcess") is True:
        yield f"{spec.path}.securityContext.windowsOptions.hostProcess is true"
    for c in spec.containers:
        if is_map(c.security.get("windowsOptions")) and c.security["windowsOptions"].get("hostProcess") is True:
            yield f"{c.path}.securityContext.windowsOptions.hostProcess is true"


def host_namespaces(obj: K8sObject, spec: PodSpec) -> Iterable[str]:
    for f in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.spec.get(f) is True:
            yield f"{spec.path}.{f} is true"


def privileged(obj: K8sObject, spec: PodSpec) -> Iterable[str]:
    for c in spec.containers:
        if c.security.get("privileged") is True:
            yield f"{c.path} is privileged"


def capabilities(obj: K8sObject, spec: PodSpec) -> Iterable[str]:
    for c in spec.containers:
        extra = sorted({_norm_cap(x) for x in _caps(c, "add")} - BASELINE_CAPABILITIES)
        if extra:
            yield f"{c.path} adds capabilities {', '.join(extra)} beyond the baseline set"


def host_path(obj: K8sObject, spec: PodSpec) -> Iterable[str]:
    for v in seq(spec.spec.get("volumes")):
        if is_map(v) and v.get("hostPath") is not None:
            yield f"{spec.path}.volumes[{v.get('name')}] is a hostPath volume"


def host_ports(obj: K8sObject, spec: PodSpec) -> Iterable[str]:
    for c in spec.containers:
        for p in seq(c.container.get("ports")):
            if is_map(p) and p.get("hostPort") not in (None, 0, 0.0):
                yield f"{c.path} binds hostPort {int(p['hostPort']) if isinstance(p['hostPort'], float) else p['hostPort']}"


def _apparmor_type_bad(profile: Any) -> bool:
    return is_map(profile) and profile.get("type") not in (None, "RuntimeDefault", "Localhost")


def apparmor(obj: K8sObject, spec: PodSpec) -> Iterable[str]:
    if _apparmor_type_bad(spec.security.get("appArmorProfile")):
        yield f"{spec.path}.securityContext.appArmorProfile.type is {spec.security['appArmorProfile'].get('type')}"
    for c in spec.containers:
        if _apparmor_type_bad(c.security.get("appArmorProfile")):
            yield f"{c.path}.securityContext.appArmorProfile.type is {c.security['appArmorProfile'].get('type')}"
    meta = obj.props.get("metadata")
    anns = {**(spec.annotations or {}), **((meta.get("annotations") or {}) if obj.kind == "Pod" and is_map(meta) else {})}
    for k, v in anns.items():
        if str(k).startswith(APPARMOR_ANNOTATION) and not (v == "runtime/default" or str(v).startswith("localhost/")):
            yield f"annotation {k} is {v!r}"


def _selinux_bad(opts: Any) -> list[str]:
    if not is_map(opts):
        return []
    bad = [f"type {opts.get('type')!r}"] if opts.get("type") not in (None, *SELINUX_TYPES) else []
    bad += [f"{f} {opts.get(f)!r}" for f in ("user", "role") if opts.get(f) not in (None, "")]
    return bad


def selinux(obj: K8sObject, spec: PodSpec) -> Iterable[str]:
    bad = _selinux_bad(spec.security.get("seLinuxOptions"))
    if bad:
        yield f"{spec.path}.securityContext.seLinuxOptions sets {', '.join(bad)}"
    for c in spec.containers:
        bad = _selinux_bad(c.security.get("seLinuxOptions"))
        if bad:
            yield f"{c.path}.securityContext.seLinuxOptions sets {', '.join(bad)}"


def proc_mount(obj: K8sObject, spec: PodSpec) -> Iterable[str]:
    for c in spec.containers:
        if c.security.get("procMount") not in (None, "Default"):
            yield f"{c.path}.securityContext.procMount is {c.security.get('procMount')}"


def _seccomp_type(sc: Mapping[str, Any]) -> Any:
    prof = sc.get("seccompProfile")
    return prof.get("type") if is_map(prof) else None


def seccomp(obj: K8sObject, spec: PodSpec) -> Iterable[str]:
    if _seccomp_type(spec.security) == "Unconfined":
        yield f"{spec.path}.securityContext.seccompProfile.type is Unconfined"
    for c in spec.containers:
        if _seccomp_type(c.security) == "Unconfined":
            yield f"{c.path}.securityContext.seccompProfile.type is Unconfined"


def sysctls(obj: K8sObject, spec: PodSpec) -> Iterable[str]:
    for s in seq(spec.security.get("sysctls")):
        if is_map(s) and s.get("name") not in SAFE_SYSCTLS:
            yield f"{spec.path}.securityContext.sysctls sets {s.get('name')}"


# ---------------------------------------------------------------- restricted


def volume_types(obj: K8sObject, spec: PodSpec) -> Iterable[str]:
    for v in seq(spec.spec.get("volumes")):
        if not is_map(v):
            continue
        kinds = sorted(k for k, val in v.items() if k != "name" and val is not None)
        bad = [k for k in kinds if k not in RESTRICTED_VOLUMES]
        if bad:
            yield f"{spec.path}.volumes[{v.get('name')}] is of type {', '.join(bad)}"


def privilege_escalation(obj: K8sObject, spec: PodSpec) -> Iterable[str]:
    if spec.windows:
        return
    for c in spec.containers:
        ape = c.security.get("allowPrivilegeEscalation")
        if ape is True or (ape is None and not _lenient(obj, c)):
            yield f"{c.path} does not set securityContext.allowPrivilegeEscalation: false"


def run_as_non_root(obj: K8sObject, spec: PodSpec) -> Iterable[str]:
    pod = spec.security.get("runAsNonRoot")
    if pod is False:
        yield f"{spec.path}.securityContext.runAsNonRoot is false"
    for c in spec.containers:
        own = c.security.get("runAsNonRoot")
        if own is False:
            yield f"{c.path}.securityContext.runAsNonRoot is false"
        elif own is None and pod is not True and not _lenient(obj, c):
            yield f"{c.path}: runAsNonRoot is set neither on the container nor on the pod"


def _root(uid: Any) -> bool:
    return isinstance(uid, (int, float)) and not isinstance(uid, bool) and uid == 0


def run_as_user(obj: K8sObject, spec: PodSpec) -> Iterable[str]:
    if _root(spec.security.get("runAsUser")):
        yield f"{spec.path}.securityContext.runAsUser is 0"
    for c in spec.containers:
        if _root(c.security.get("runAsUser")):
            yield f"{c.path}.securityContext.runAsUser is 0"


def seccomp_strict(obj: K8sObject, spec: PodSpec) -> Iterable[str]:
    if spec.windows:
        return
    pod = _seccomp_type(spec.security)
    for c in spec.containers:
        own = _seccomp_type(c.security)
        effective = own if own is not None else pod
        if effective is None:
            if not _lenient(obj, c):
                yield f"{c.path}: seccompProfile is set neither on the container nor on the pod"
        elif effective not in ("RuntimeDefault", "Localhost"):
            yield f"{c.path}: seccompProfile.type is {effective}"


def capabilities_strict(obj: K8sObject, spec: PodSpec) -> Iterable[str]:
    if spec.windows:
        return
    for c in spec.containers:
        drops = {_norm_cap(x) for x in _caps(c, "drop")}
        if "ALL" not in drops and (drops or not _lenient(obj, c)):
            yield f"{c.path} does not drop ALL capabilities"
        extra = sorted({_norm_cap(x) for x in _caps(c, "add")} - {"NET_BIND_SERVICE"})
        if extra:
            yield f"{c.path} adds capabilities {', '.join(extra)} (restricted allows NET_BIND_SERVICE only)"


# ---------------------------------------------------------------- policies


#: The pod specs of a resource's properties, shared by the PSS policies (17 of them read the same specs). Keyed by the
#: properties object's id; the entry holds the object itself, so the id cannot be reused while it is cached.
_SPECS: dict[int, tuple[Any, list[tuple[Any, list[Any]]]]] = {}
_SPECS_MAX = 20_000


def _specs_of(resource_type: str, props: Any) -> list[tuple[Any, list[Any]]]:
    hit = _SPECS.get(id(props))
    if hit is not None and hit[0] is props:
        return hit[1]
    specs = [(obj, pod_specs(obj)) for obj in objects(resource_type, props)]
    if len(_SPECS) >= _SPECS_MAX:
        _SPECS.clear()
    _SPECS[id(props)] = (props, specs)
    return specs


#: The controls a pinned platform node agent (:mod:`~inferstack.policies.rules.node_agents`: a DaemonSet in
#: kube-system whose every container runs exactly a ``NODE_AGENT_IMAGES`` image) is exempt from: being privileged,
#: and the restricted controls a privileged container cannot meet or that privileged overrides:
#: allowPrivilegeEscalation false (the API rejects it beside ``privileged: true``), seccomp and dropped
#: capabilities (a privileged container runs Unconfined with every capability whatever they say), and runAsNonRoot
#: (the vendor's manifest runs the agent as its image's user, and it reads the node's device files). Every other
#: control (host namespaces, hostPath, host ports, added capabilities, runAsUser 0, AppArmor, SELinux, sysctls,
#: volume types, ...) still applies to it.
NODE_AGENT_EXEMPT = frozenset({
    "pss-privileged", "pss-privilege-escalation", "pss-seccomp-strict", "pss-capabilities-strict", "pss-run-as-non-root",
})


def pss_validate(check: Check, name: str = "") -> Callable[[ResourceValidationArgs, Any], None]:
    exempt_agents = name in NODE_AGENT_EXEMPT

    def validate(args: ResourceValidationArgs, report) -> None:
        if not args.resource_type.startswith("kubernetes:"):
            return
        for obj, specs in _specs_of(args.resource_type, args.props):
            for spec in specs:
                if exempt_agents and is_pinned_node_agent(obj.kind, obj.props, spec.spec, patch=obj.patch):
                    continue
                for problem in check(obj, spec):
                    report(f"{obj.label}: {obj.at(problem) if obj.where else problem}.")
    return validate


#: (name, profile, check, description, remediation, controls)
PSS_CONTROLS: tuple[tuple[str, str, Check, str, str, tuple[str, ...]], ...] = (
    ("pss-host-process", "baseline", host_process,
     "No Windows HostProcess pods or containers.",
     "Remove securityContext.windowsOptions.hostProcess (or set it false) on the pod and its containers.",
     ("PSS baseline: HostProcess", "CIS Kubernetes 5.2.11")),
    ("pss-host-namespaces", "baseline", host_namespaces,
     "Pods do not share the node's network, PID or IPC namespace (hostNetwork, hostPID, hostIPC).",
     "Remove hostNetwork, hostPID and hostIPC from the pod spec (or set them false); expose ports through a Service.",
     ("PSS baseline: Host Namespaces", "CIS Kubernetes 5.2.3", "CIS Kubernetes 5.2.4", "CIS Kubernetes 5.2.5")),
    ("pss-privileged", "baseline", privileged,
     "No privileged containers.",
     "Remove securityContext.privileged (or set it false); grant the one capability or device the container needs.",
     ("PSS baseline: Privileged Containers", "CIS Kubernetes 5.2.2")),
    ("pss-capabilities", "baseline", capabilities,
     "Containers add no Linux capabilities beyond the PSS baseline set (AUDIT_WRITE, CHOWN, ... SYS_CHROOT).",
     "Remove the extra entries of securityContext.capabilities.add (NET_RAW, SYS_ADMIN, ...).",
     ("PSS baseline: Capabilities", "CIS Kubernetes 5.2.8", "CIS Kubernetes 5.2.9")),
    ("pss-host-path", "baseline", host_path,
     "No hostPath volumes.",
     "Replace hostPath volumes with emptyDir, a PersistentVolumeClaim, a CSI volume or a projected volume.",
     ("PSS baseline: HostPath Volumes", "CIS Kubernetes 5.2.12")),
    ("pss-host-ports", "baseline", host_ports,
     "Containers bind no host ports.",
     "Remove ports[].hostPort (or set it 0) and reach the container through a Service.",
     ("PSS baseline: Host Ports", "CIS Kubernetes 5.2.13")),
    ("pss-apparmor", "baseline", apparmor,
     "AppArmor is not disabled: profiles are RuntimeDefault or Localhost (field or annotation).",
     "Set securityContext.appArmorProfile.type to RuntimeDefault (or Localhost with a profile), or drop the "
     "Unconfined annotation container.apparmor.security.beta.kubernetes.io/<container>.",
     ("PSS baseline: AppArmor",)),
    ("pss-selinux", "baseline", selinux,
     "SELinux options set no custom user or role, and only the container_t / container_init_t / container_kvm_t / "
     "container_engine_t types.",
     "Remove seLinuxOptions.user and .role and use an allowed seLinuxOptions.type (or leave it unset).",
     ("PSS baseline: SELinux",)),
    ("pss-proc-mount", "baseline", proc_mount,
     "Containers keep the default masked /proc (procMount Default).",
     "Remove securityContext.procMount (or set it Default).",
     ("PSS baseline: /proc Mount Type",)),
    ("pss-seccomp", "baseline", seccomp,
     "Seccomp is not disabled (no seccompProfile.type Unconfined).",
     "Set securityContext.seccompProfile.type to RuntimeDefault (or Localhost with a profile).",
     ("PSS baseline: Seccomp", "CIS Kubernetes 5.7.2")),
    ("pss-sysctls", "baseline", sysctls,
     "Pods set only the namespaced sysctls PSS baseline deems safe.",
     "Remove unsafe entries of securityContext.sysctls; tune the node (node pool / NodeClass user data) instead.",
     ("PSS baseline: Sysctls",)),
    ("pss-volume-types", "restricted", volume_types,
     "Pods use only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected and secret "
     "volumes.",
     "Replace other volume types (nfs, awsElasticBlockStore, gcePersistentDisk, ...) with a PersistentVolumeClaim "
     "or a CSI volume.",
     ("PSS restricted: Volume Types",)),
    ("pss-privilege-escalation", "restricted", privilege_escalation,
     "Every container sets allowPrivilegeEscalation: false.",
     "Set securityContext.allowPrivilegeEscalation: false on every container (and init container).",
     ("PSS restricted: Privilege Escalation", "CIS Kubernetes 5.2.6")),
    ("pss-run-as-non-root", "restricted", run_as_non_root,
     "Containers must run as non-root: runAsNonRoot true on the pod or on every container.",
     "Set securityContext.runAsNonRoot: true on the pod (and runAsUser to a non-zero UID if the image's user is "
     "root); remove runAsNonRoot: false from containers.",
     ("PSS restricted: Running as Non-root", "CIS Kubernetes 5.2.7")),
    ("pss-run-as-non-root-user", "restricted", run_as_user,
     "No pod or container sets runAsUser 0.",
     "Set runAsUser to a non-zero UID (or remove it and let the image's non-root user apply).",
     ("PSS restricted: Running as Non-root user", "CIS Kubernetes 5.2.7")),
    ("pss-seccomp-strict", "restricted", seccomp_strict,
     "Every container runs with a seccomp profile of type RuntimeDefault or Localhost (set on the pod or container).",
     "Set securityContext.seccompProfile.type: RuntimeDefault on the pod.",
     ("PSS restricted: Seccomp", "CIS Kubernetes 5.7.2")),
    ("pss-capabilities-strict", "restricted", capabilities_strict,
     "Every container drops ALL capabilities and adds back at most NET_BIND_SERVICE.",
     "Set securityContext.capabilities.drop: [ALL] on every container; add only NET_BIND_SERVICE if it binds a "
     "port below 1024.",
     ("PSS restricted: Capabilities", "CIS Kubernetes 5.2.9", "CIS Kubernetes 5.2.10")),
)

KUBERNETES = frozenset({"kubernetes"})

ENTRIES = [
    PolicyEntry(
        ResourceValidationPolicy(name=name, description=description, validate=pss_validate(check, name),
                                 remediation_steps=remediation),
        MANDATORY if profile == "baseline" else ADVISORY_IN_DEV,
        types=POD_CARRIERS,
        families=(WORKLOAD_FAMILY,),
        controls=(*controls, "OWASP Kubernetes Top 10: K01", "NSA-CISA Kubernetes Hardening: Kubernetes Pod security"),
        clouds=KUBERNETES,
        url="https://kubernetes.io/docs/concepts/security/pod-security-standards/",
    )
    for name, profile, check, description, remediation, controls in PSS_CONTROLS
]
