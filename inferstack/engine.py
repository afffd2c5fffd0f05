"""The offline engine: runs the real Pulumi program under Pulumi's mock runtime and records every resource.

Nothing is stubbed: the program, the components and the provider SDKs are the ones ``pulumi up`` runs. Only the
engine is replaced: a recording monitor (a :class:`pulumi.runtime.mocks.MockMonitor`) sees every
``RegisterResource`` request (type, name, parent, provider, protect, retainOnDelete, dependencies, inputs with
secrets still marked, source position) and answers with realistic outputs (ids, ARNs, endpoints, kubeconfigs)
so that code downstream of those outputs runs too. Resources on default providers get a provider synthesized
from the stack config, so every resource's region is known.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import gc
import hashlib
import json
import runpy
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pmocks
from pulumi.runtime import settings as psettings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

PROJECT = "inferstack"
ACCOUNT_ID = "123456789012"
REPO_ROOT = Path(__file__).resolve().parent.parent
#: The program ``pulumi up`` runs: the project's ``__main__.py`` in a checkout; from an installed wheel (no project
#: files), ``inferstack/program.py`` run as a script, which calls the same :func:`inferstack.program.main`.
DEFAULT_PROGRAM = (
    REPO_ROOT / "__main__.py" if (REPO_ROOT / "Pulumi.yaml").is_file() else Path(__file__).resolve().with_name("program.py")
)

_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

#: Config key (offline engine only) holding the outputs of stacks a program reads with ``pulumi.StackReference``:
#: ``{<org/project/stack>: {outputs: {...}, secretOutputNames: [...]}}``. ``pulumi up`` ignores it.
STACK_OUTPUTS_KEY = "inferstack-offline:stackOutputs"


@dataclass(frozen=True)
class Secret:
    """A value Pulumi keeps secret; the engine records it wrapped so nothing prints it by accident."""

    value: Any

    def __repr__(self) -> str:
        return "Secret([secret])"


class Unknown:
    """A value not known at preview time."""

    def __repr__(self) -> str:
        return "Unknown"


UNKNOWN = Unknown()


def _from_wire(value: Any) -> Any:
    """Turn a JSON-decoded protobuf Struct value into Python, keeping secrets wrapped and resource refs as URNs."""
    if isinstance(value, dict):
        sig = value.get(_SIG_KEY)
        if sig == _SECRET_SIG:
            return Secret(_from_wire(value.get("value")))
        if sig == _RESOURCE_SIG:
            return value.get("urn")
        if sig == _OUTPUT_SIG:
            inner = _from_wire(value.get("value", UNKNOWN)) if "value" in value else UNKNOWN
            return Secret(inner) if value.get("secret") else inner
        return {k: _from_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_wire(v) for v in value]
    if value == _UNKNOWN:
        return UNKNOWN
    return value


def unwrap_secrets(value: Any) -> Any:
    """The value with every :class:`Secret` replaced by its plaintext (what a policy sees)."""
    if isinstance(value, Secret):
        return unwrap_secrets(value.value)
    if isinstance(value, dict):
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    return value


def redact(value: Any) -> Any:
    """The value made JSON-safe with secrets shown as ``[secret]`` and unknowns as ``[unknown]``."""
    if isinstance(value, Secret):
        return "[secret]"
    if isinstance(value, Unknown):
        return "[unknown]"
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@dataclass
class SourcePosition:
    file: str
    line: int


@dataclass
class ResourceRecord:
    """One registered resource as the engine saw it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    provider: str | None
    protect: bool
    retain_on_delete: bool
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    inputs: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    source: SourcePosition | None = None
    additional_secret_outputs: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    synthesized: bool = False

    @property
    def package(self) -> str:
        return self.type.split(":", 1)[0]

    @property
    def is_provider(self) -> bool:
        return self.type.startswith("pulumi:providers:")

    @property
    def plain_inputs(self) -> dict[str, Any]:
        return unwrap_secrets(self.inputs)

    def to_json(self) -> dict[str, Any]:
        out = {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "provider": self.provider,
            "protect": self.protect,
            "retainOnDelete": self.retain_on_delete,
            "dependencies": self.dependencies,
            "inputs": redact(self.inputs),
        }
        if self.source:
            out["source"] = {"file": self.source.file, "line": self.source.line}
        return out


@dataclass
class Recording:
    """Everything one offline run declared, in registration order."""

    stack: str
    resources: list[ResourceRecord]
    #: The program's stack outputs (``pulumi.export``), secret values marked as in resource inputs.
    outputs: dict[str, Any] = field(default_factory=dict)

    def by_type(self, type_token: str) -> list[ResourceRecord]:
        return [r for r in self.resources if r.type == type_token]

    def get(self, urn: str) -> ResourceRecord:
        for r in self.resources:
            if r.urn == urn:
                return r
        raise KeyError(urn)

    def find(self, type_token: str, name: str) -> ResourceRecord:
        for r in self.resources:
            if r.type == type_token and r.name == name:
                return r
        raise KeyError(f"{type_token} {name}")

    def children(self, urn: str | None) -> list[ResourceRecord]:
        return [r for r in self.resources if r.parent == urn]

    def provider_of(self, record: ResourceRecord) -> ResourceRecord | None:
        if not record.provider:
            return None
        urn = record.provider.rsplit("::", 1)[0] if record.provider.count("::") > 3 else record.provider
        try:
            return self.get(urn)
        except KeyError:
            return None


# ---------------------------------------------------------------- realistic outputs


def _h(*parts: str, n: int = 8) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:n]


def _service(type_token: str) -> str:
    module = type_token.split(":")[1].split("/")[0]
    return {"cloudwatch": "logs", "eks": "eks", "sqs": "sqs"}.get(module, module)


def _fake_pem(seed: str) -> str:
    body = base64.b64encode(hashlib.sha512(seed.encode()).digest() * 4).decode()
    return "-----BEGIN CERTIFICATE-----\n" + body + "\n-----END CERTIFICATE-----\n"


class OfflineMocks(pmocks.Mocks):
    """Answers resource registrations and invokes with outputs shaped like the real providers'."""

    def __init__(
        self, region: str, project: str | None, stack: str, stack_outputs: Mapping[str, Mapping[str, Any]] | None = None
    ):
        self.region = region
        self.project = project or "inferstack-offline"
        self.stack = stack
        #: Referenced stack name -> {"outputs": {...}, "secretOutputNames": [...]}, answered to StackReferences.
        self.stack_outputs = dict(stack_outputs or {})

    def _stack_reference(self, target: str) -> dict[str, Any]:
        if target not in self.stack_outputs:
            known = ", ".join(sorted(self.stack_outputs)) or "none"
            raise ProgramError(
                f"StackReference {target!r}: the offline engine has no outputs for it; give them under "
                f"{STACK_OUTPUTS_KEY} in the stack config (known: {known})"
            )
        ref = self.stack_outputs[target]
        return {"name": target, "outputs": dict(ref.get("outputs") or {}), "secretOutputNames": list(ref.get("secretOutputNames") or [])}

    # Resources --------------------------------------------------------
    def new_resource(self, args: pmocks.MockResourceArgs) -> tuple[str, dict]:
        t, name, inputs = args.typ, args.name, dict(args.inputs)
        if t == "pulumi:pulumi:StackReference":
            target = inputs.get("name") or args.resource_id or name
            return target, self._stack_reference(target)
        if not args.custom:
            return "", inputs
        pkg = t.split(":", 1)[0]
        region = inputs.get("region") or self.region
        outputs: dict[str, Any] = dict(inputs)
        rid = f"{name}-{_h(t, name)}"
        if pkg == "aws":
            rid = self._aws(t, name, inputs, outputs, region) or rid
        elif pkg == "gcp":
            rid = self._gcp(t, name, inputs, outputs, region) or rid
        elif pkg == "kubernetes":
            meta = dict(inputs.get("metadata") or {})
            meta.setdefault("name", f"{name}-{_h(name, n=6)}" if "metadata" in inputs else name)
            meta.setdefault("uid", _h("uid", t, name, n=32))
            outputs["metadata"] = meta
            ns = meta.get("namespace")
            rid = f"{ns}/{meta['name']}" if ns else meta["name"]
            if t == "kubernetes:helm.sh/v3:Release":
                outputs.setdefault("status", {"status": "deployed", "name": inputs.get("name", name)})
        return rid, outputs

    def _aws(self, t: str, name: str, inputs: dict, out: dict, region: str) -> str | None:
        svc = _service(t)
        kind = t.rsplit(":", 1)[1]
        arn = f"arn:aws:{svc}:{region}:{ACCOUNT_ID}:{kind.lower()}/{inputs.get('name', name)}"
        rid = None
        if t == "aws:eks/cluster:Cluster":
            cname = inputs.get("name") or name
            oidc = _h("oidc", cname, n=32).upper()
            out.update(
                name=cname,
                arn=f"arn:aws:eks:{region}:{ACCOUNT_ID}:cluster/{cname}",
                endpoint=f"https://{oidc}.gr7.{region}.eks.amazonaws.com",
                certificateAuthority={"data": base64.b64encode(_fake_pem(cname).encode()).decode()},
                identities=[{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{oidc}"}]}],
                status="ACTIVE",
                version=inputs.get("version", "1.33"),
                clusterSecurityGroupId=f"sg-{_h('csg', cname, n=17)}",
                vpcConfig={**(inputs.get("vpcConfig") or {}), "clusterSecurityGroupId": f"sg-{_h('csg', cname, n=17)}"},
            )
            rid = cname
        elif t == "aws:iam/role:Role":
            rname = inputs.get("name") or f"{name}-{_h(name, n=7)}"
            out.update(name=rname, arn=f"arn:aws:iam::{ACCOUNT_ID}:role/{rname}", uniqueId=f"AROA{_h(rname, n=17).upper()}")
            rid = rname
        elif t in ("aws:iam/policy:Policy",):
            pname = inputs.get("name") or f"{name}-{_h(name, n=7)}"
            out.update(name=pname, arn=f"arn:aws:iam::{ACCOUNT_ID}:policy/{pname}")
            rid = out["arn"]
        elif t == "aws:iam/instanceProfile:InstanceProfile":
            pname = inputs.get("name") or f"{name}-{_h(name, n=7)}"
            out.update(name=pname, arn=f"arn:aws:iam::{ACCOUNT_ID}:instance-profile/{pname}")
            rid = pname
        elif t == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            url = str(inputs.get("url", "")).replace("https://", "")
            out.update(arn=f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{url}")
            rid = out["arn"]
        elif t == "aws:kms/key:Key":
            key_id = f"{_h('kms', name, n=8)}-{_h('k1', name, n=4)}-{_h('k2', name, n=4)}-{_h('k3', name, n=4)}-{_h('k4', name, n=12)}"
            out.update(keyId=key_id, arn=f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{key_id}")
            rid = key_id
        elif t == "aws:kms/alias:Alias":
            out.update(arn=f"arn:aws:kms:{region}:{ACCOUNT_ID}:{inputs.get('name', 'alias/' + name)}")
        elif t == "aws:s3/bucket:Bucket":
            b = inputs.get("bucket") or f"{name}-{_h(name, n=7)}"
            out.update(bucket=b, arn=f"arn:aws:s3:::{b}", bucketRegionalDomainName=f"{b}.s3.{region}.amazonaws.com")
            rid = b
        elif t == "aws:dynamodb/table:Table":
            tn = inputs.get("name") or name
            out.update(name=tn, arn=f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{tn}")
            rid = tn
        elif t == "aws:sqs/queue:Queue":
            qn = inputs.get("name") or f"{name}-{_h(name, n=7)}"
            out.update(name=qn, arn=f"arn:aws:sqs:{region}:{ACCOUNT_ID}:{qn}", url=f"https://sqs.{region}.amazonaws.com/{ACCOUNT_ID}/{qn}")
            rid = out["url"]
        elif t == "aws:secretsmanager/secret:Secret":
            sn = inputs.get("name") or name
            out.update(arn=f"arn:aws:secretsmanager:{region}:{ACCOUNT_ID}:secret:{sn}-{_h(sn, n=6)}", name=sn)
            rid = out["arn"]
        elif t == "aws:cloudwatch/logGroup:LogGroup":
            ln = inputs.get("name") or name
            out.update(name=ln, arn=f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:{ln}")
            rid = ln
        elif t.startswith("aws:ec2/"):
            prefix = {
                "Vpc": "vpc", "Subnet": "subnet", "SecurityGroup": "sg", "InternetGateway": "igw", "NatGateway": "nat",
                "Eip": "eipalloc", "RouteTable": "rtb", "LaunchTemplate": "lt", "FlowLog": "fl", "VpcEndpoint": "vpce",
            }.get(kind, kind.lower())
            rid = f"{prefix}-{_h(t, name, n=17)}"
            out.setdefault("arn", f"arn:aws:ec2:{region}:{ACCOUNT_ID}:{prefix}/{rid}")
            if kind == "Eip":
                out.setdefault("publicIp", "203.0.113." + str(int(_h(name, n=2), 16) % 250 + 1))
            if kind == "LaunchTemplate":
                out.setdefault("latestVersion", 1)
        elif t == "aws:eks/nodeGroup:NodeGroup":
            out.update(arn=f"arn:aws:eks:{region}:{ACCOUNT_ID}:nodegroup/{inputs.get('clusterName', 'cluster')}/{name}")
        else:
            out.setdefault("arn", arn)
        out.setdefault("arn", arn)
        return rid

    def _gcp(self, t: str, name: str, inputs: dict, out: dict, region: str) -> str | None:
        project = inputs.get("project") or self.project
        location = inputs.get("location") or inputs.get("region") or self.region
        rname = inputs.get("name") or f"{name}-{_h(name, n=7)}"
        out.setdefault("name", rname)
        out.setdefault("project", project)
        rid = f"projects/{project}/locations/{location}/{t.rsplit(':', 1)[1].lower()}s/{rname}"
        if t == "gcp:container/cluster:Cluster":
            out.update(
                endpoint="10.128.0." + str(int(_h(rname, n=2), 16) % 250 + 2),
                masterAuth={"clusterCaCertificate": base64.b64encode(_fake_pem(rname).encode()).decode()},
                selfLink=f"https://container.googleapis.com/v1/projects/{project}/locations/{location}/clusters/{rname}",
                location=location,
            )
        elif t == "gcp:kms/keyRing:KeyRing":
            rid = f"projects/{project}/locations/{location}/keyRings/{rname}"
        elif t == "gcp:kms/cryptoKey:CryptoKey":
            rid = f"{inputs.get('keyRing', 'keyring')}/cryptoKeys/{rname}"
        elif t == "gcp:serviceaccount/account:Account":
            acct = inputs.get("accountId", rname)
            out.update(email=f"{acct}@{project}.iam.gserviceaccount.com", member=f"serviceAccount:{acct}@{project}.iam.gserviceaccount.com")
            rid = f"projects/{project}/serviceAccounts/{out['email']}"
        elif t == "gcp:storage/bucket:Bucket":
            out.update(url=f"gs://{rname}", selfLink=f"https://www.googleapis.com/storage/v1/b/{rname}")
            rid = rname
        elif t == "gcp:compute/network:Network":
            out.setdefault("selfLink", f"https://www.googleapis.com/compute/v1/projects/{project}/global/networks/{rname}")
            rid = f"projects/{project}/global/networks/{rname}"
        elif t == "gcp:compute/subnetwork:Subnetwork":
            out.setdefault("selfLink", f"https://www.googleapis.com/compute/v1/projects/{project}/regions/{location}/subnetworks/{rname}")
            rid = f"projects/{project}/regions/{location}/subnetworks/{rname}"
        elif t == "gcp:secretmanager/secret:Secret":
            rid = f"projects/{project}/secrets/{inputs.get('secretId', rname)}"
        elif t == "gcp:projects/serviceIdentity:ServiceIdentity" or t.endswith("ServiceIdentity"):
            out.setdefault("email", f"service-{_h(project, n=12)}@gcp-sa-{inputs.get('service', 'svc').split('.')[0]}.iam.gserviceaccount.com")
            out.setdefault("member", "serviceAccount:" + out["email"])
        return rid

    # Invokes ------------------------------------------------------------
    def call(self, args: pmocks.MockCallArgs) -> tuple[dict, list]:
        tok = args.token
        if tok == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/offline", "userId": "AIDAOFFLINE", "id": ACCOUNT_ID}, []
        if tok == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}, []
        if tok == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}, []
        if tok == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{self.region}{s}" for s in "abc"]
            return {"names": names, "zoneIds": [f"{self.region[:3]}-az{i}" for i in (1, 2, 3)], "id": self.region}, []
        if tok == "gcp:organizations/getProject:getProject":
            return {"projectId": self.project, "number": str(int(_h(self.project, n=8), 16)), "name": self.project}, []
        if tok == "gcp:storage/getProjectServiceAccount:getProjectServiceAccount":
            number = str(int(_h(self.project, n=8), 16))
            email = f"service-{number}@gs-project-accounts.iam.gserviceaccount.com"
            return {"project": self.project, "emailAddress": email, "member": f"serviceAccount:{email}", "id": email}, []
        if tok == "gcp:organizations/getClientConfig:getClientConfig":
            return {"project": self.project, "region": self.region, "accessToken": "offline"}, []
        return {}, []


# ---------------------------------------------------------------- the recording monitor


def _source_of(request: Any) -> SourcePosition | None:
    """The first frame of the user's code that declared the resource (SDK frames skipped)."""
    positions = [f.pc for f in request.stackTrace.frames if f.pc.uri] if request.HasField("stackTrace") else []
    if request.HasField("sourcePosition") and request.sourcePosition.uri:
        positions.insert(0, request.sourcePosition)
    for pos in positions:
        path = unquote(urlparse(pos.uri).path)
        if "site-packages" in path or "/pulumi/" in path:
            continue
        try:
            path = str(Path(path).resolve().relative_to(REPO_ROOT))
        except ValueError:
            pass
        return SourcePosition(file=path, line=pos.line)
    return None


class RecordingMonitor(pmocks.MockMonitor):
    """A MockMonitor that keeps the whole RegisterResource request of every resource."""

    def __init__(self, mocks: OfflineMocks):
        super().__init__(mocks)
        self.records: list[ResourceRecord] = []

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # Like the real engine: children of the root stack carry no parent type in their URN.
        if parent and parent.split("::")[2] == "pulumi:pulumi:Stack":
            parent = ""
        return super().make_urn(parent, type_, name)

    def RegisterResource(self, request: Any) -> Any:
        resp = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return resp
        inputs = _from_wire(json_format.MessageToDict(request.object))
        outputs = _from_wire(json_format.MessageToDict(resp.object)) if resp.object else {}
        self.records.append(
            ResourceRecord(
                urn=resp.urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=request.parent or None,
                provider=request.provider or None,
                protect=bool(request.protect) if request.HasField("protect") else False,
                retain_on_delete=bool(request.retainOnDelete) if request.HasField("retainOnDelete") else False,
                dependencies=list(request.dependencies),
                property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
                inputs=inputs,
                outputs=outputs,
                id=resp.id or None,
                source=_source_of(request),
                additional_secret_outputs=list(request.additionalSecretOutputs),
                aliases=[a.urn for a in request.aliases if a.urn] if hasattr(request, "aliases") else [],
            )
        )
        return resp


def _config_strings(config: Mapping[str, Any], secrets: Mapping[str, str]) -> tuple[dict[str, str], set[str]]:
    """Stack config as Pulumi passes it to a program: strings, JSON for objects, secure values substituted."""
    out: dict[str, str] = {}
    secret_keys: set[str] = set()
    for key, value in config.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            secret_keys.add(key)
            # Ciphertext cannot be decrypted offline: the value is given by the caller or a marked placeholder.
            value = secrets.get(key, f"offline-secret-{_h(key, n=12)}")
        out[key] = value if isinstance(value, str) else json.dumps(value)
    return out, secret_keys


def _synthesize_default_providers(stack: str, region: str, project: str | None, records: list[ResourceRecord]) -> None:
    """Give every resource on a default provider a provider record carrying the stack's region."""
    defaults: dict[str, ResourceRecord] = {}
    for r in list(records):
        if not r.custom or r.provider or r.is_provider or r.package not in ("aws", "gcp", "kubernetes"):
            continue
        prov = defaults.get(r.package)
        if prov is None:
            urn = f"urn:pulumi:{stack}::{PROJECT}::pulumi:providers:{r.package}::default"
            inputs: dict[str, Any] = {}
            if r.package == "aws":
                inputs = {"region": region}
            elif r.package == "gcp":
                inputs = {"region": region, "project": project}
            prov = ResourceRecord(
                urn=urn, type=f"pulumi:providers:{r.package}", name="default", custom=True, parent=None, provider=None,
                protect=False, retain_on_delete=False, dependencies=[], property_dependencies={}, inputs=inputs,
                id="default", synthesized=True,
            )
            defaults[r.package] = prov
            records.insert(0, prov)
        r.provider = f"{prov.urn}::default"


def _cancel_leftover_tasks() -> None:
    """Drop what a failed program left behind (registrations waiting on a failed output, such as a StackReference
    without outputs): Pulumi keeps pending outputs in a process-wide set that the next program run would await."""
    loop = asyncio.get_event_loop()
    with psettings.SETTINGS.lock:
        leftover = [t for t in psettings.SETTINGS.outputs if isinstance(t, asyncio.Future)]
        psettings.SETTINGS.outputs.clear()
    pending = {t for t in asyncio.all_tasks(loop) if not t.done()} | set(leftover)
    for task in pending:
        task.cancel()
    if pending and not loop.is_running():
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    # Mark the failed program's finished futures as retrieved: otherwise asyncio logs "exception was never
    # retrieved" from their finalizers at a random later point (inside another test's ast.parse on CPython 3.11,
    # which then fails with "AST constructor recursion depth mismatch").
    for obj in gc.get_objects():
        if isinstance(obj, asyncio.Future) and obj.done() and not obj.cancelled():
            obj.exception()


async def _resolve_export(value: Any) -> Any:
    """A stack output's value, wrapped in :class:`Secret` when Pulumi keeps it secret; :class:`Unknown` if unknown."""
    out = pulumi.Output.from_input(value)
    if not await out.is_known():
        return Unknown()
    resolved = await out.future()
    return Secret(resolved) if await out.is_secret() else resolved


class ProgramError(Exception):
    """The program failed under the offline engine."""


def run_program(
    stack: str,
    config: Mapping[str, Any],
    *,
    region: str,
    project: str | None = None,
    program: str | Path = DEFAULT_PROGRAM,
    secrets: Mapping[str, str] | None = None,
    secret_keys: Iterable[str] = (),
) -> Recording:
    """Run ``program`` (a Pulumi Python program) for ``stack`` with ``config`` and return what it declared.

    ``config`` maps ``namespace:key`` to values as in ``Pulumi.<stack>.yaml``; ``{secure: ...}`` values are
    replaced by ``secrets[key]`` or a placeholder, and passed to the program as secrets. ``StackReference``s are
    answered from the config's :data:`STACK_OUTPUTS_KEY`.
    """
    cfg, secure = _config_strings(config, secrets or {})
    secure |= set(secret_keys)
    refs = config.get(STACK_OUTPUTS_KEY) or {}
    if isinstance(refs, str):
        refs = json.loads(refs)
    ctx = contextvars.copy_context()
    return ctx.run(_run, stack, cfg, secure, region, project, Path(program), refs)


def _run(
    stack: str, cfg: dict[str, str], secure: set[str], region: str, project: str | None, program: Path,
    stack_outputs: Mapping[str, Mapping[str, Any]],
) -> Recording:
    psettings.ROOT.set(None)
    pulumi.runtime.set_all_config(cfg, sorted(secure))
    monitor = RecordingMonitor(OfflineMocks(region, project, stack, stack_outputs))
    pmocks.set_mocks(monitor.mocks, project=PROJECT, stack=stack, preview=True, monitor=monitor)
    program_dir = str(program.resolve().parent)
    added = program_dir not in sys.path
    if added:
        sys.path.insert(0, program_dir)
    exports: dict[str, Any] = {}

    def run() -> None:
        runpy.run_path(str(program), run_name="__main__")
        # The mock runtime registers the root stack's outputs before the program runs; read the exports from it.
        exports.update(getattr(psettings.get_root_resource(), "outputs", None) or {})

    try:
        _sync_await(run_pulumi_func(run))
        outputs = {name: _sync_await(_resolve_export(value)) for name, value in exports.items()}
    except BaseException:
        _cancel_leftover_tasks()
        raise
    finally:
        if added:
            sys.path.remove(program_dir)
    records = monitor.records
    _synthesize_default_providers(stack, region, project, records)
    return Recording(stack=stack, resources=records, outputs=outputs)


def run_stack(stack_config: Any, program: str | Path = DEFAULT_PROGRAM, secrets: Mapping[str, str] | None = None) -> Recording:
    """Run the program for a validated :class:`inferstack.config.StackConfig`."""
    return run_program(
        stack_config.name,
        dict(stack_config.values),
        region=stack_config.region,
        project=stack_config.project,
        program=program,
        secrets=secrets,
        secret_keys=stack_config.secret_keys,
    )
