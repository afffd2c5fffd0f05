"""The fake provider side of the offline engine: outputs and invoke results shaped like the real providers'.

One table per cloud maps a type token (or token) to the function that fills in what the provider would return
(ids, ARNs, endpoints, OIDC issuers, kubeconfig material), so program code downstream of those outputs runs too:

- AWS: :data:`AWS_RESOURCES` (exact type tokens) and :data:`AWS_RESOURCE_PREFIXES` (``aws:ec2/`` ...);
- Google Cloud: :data:`GCP_RESOURCES` and :data:`GCP_RESOURCE_SUFFIXES`;
- Kubernetes: :func:`kubernetes_outputs` (metadata name and uid, Helm release status);
- invokes: :data:`INVOKES` (``getCallerIdentity``, ``getProject``, ...) and :data:`ARGUMENT_INVOKES` (answers the
  provider computes from the arguments alone: ``kubernetes:yaml:decode``, GCP's ``getIAMPolicy`` document, AWS's
  ``getPolicyDocument`` JSON).

Everything else a provider computes is left out of the outputs, so the SDK resolves it as unknown during the
preview (``apply`` and ``Output.concat`` over it are skipped, as in a real ``pulumi preview``). A table function
that reads an input which is itself unknown does not run (:class:`KnownInputs`): the resource's outputs are then its
inputs only, never an ARN or a name made up from an unknown.

:class:`OfflineMocks` dispatches a registration to its package's outputs, answers ``StackReference`` reads from
the stack config's :data:`STACK_OUTPUTS_KEY`, and answers data-source calls outside :data:`INVOKES` from the
function's declared result type (:mod:`inferstack.engine.results`): unknown in the ``*_output`` form, placeholders
in the plain form.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from pulumi.runtime import mocks as pmocks
from pulumi.runtime import rpc

from inferstack.catalog.zones_data import AWS_REGIONS
from inferstack.engine.errors import ProgramError
from inferstack.engine.iam_documents import PolicyDocumentError, policy_document
from inferstack.engine.recording import Lookup
from inferstack.engine.results import fields, placeholder_result, result_type

ACCOUNT_ID = "123456789012"

#: Config key (offline engine only) holding the outputs of stacks a program reads with ``pulumi.StackReference``:
#: ``{<org/project/stack>: {outputs: {...}, secretOutputNames: [...]}}``. ``pulumi up`` ignores it.
STACK_OUTPUTS_KEY = "inferstack-offline:stackOutputs"


def _h(*parts: str, n: int = 8) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:n]


def _fake_pem(seed: str) -> str:
    body = base64.b64encode(hashlib.sha512(seed.encode()).digest() * 4).decode()
    return "-----BEGIN CERTIFICATE-----\n" + body + "\n-----END CERTIFICATE-----\n"


class UnknownInput(Exception):
    """An output function read an input that is unknown at preview time."""


class KnownInputs(Mapping[str, Any]):
    """A resource's inputs as the output functions read them: reading one that is (or contains) an unknown raises
    :class:`UnknownInput`, so no output is derived from a value the preview does not know."""

    def __init__(self, data: Mapping[str, Any]):
        self._data = data

    def __getitem__(self, key: str) -> Any:
        value = self._data[key]
        if rpc.contains_unknowns(value):
            raise UnknownInput(key)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


@dataclass
class Registration:
    """One custom resource being registered: what an output function reads (inputs) and fills in (``out``)."""

    type: str
    name: str
    inputs: Mapping[str, Any]
    #: The outputs, starting as a copy of the inputs; output functions update it in place.
    out: dict[str, Any]
    #: The resource's region: its ``region`` input, else the stack's.
    region: str
    #: The Google Cloud project of the stack (GCP resources use their ``project`` input first).
    project: str

    @property
    def kind(self) -> str:
        """The resource class of the type token (``aws:iam/role:Role`` -> ``Role``)."""
        return self.type.rsplit(":", 1)[1]

    def input_name(self, default: str | None = None) -> str:
        """The ``name`` input, else ``default``, else the logical name with a hash suffix (a provider autoname)."""
        return self.inputs.get("name") or default or f"{self.name}-{_h(self.name, n=7)}"


#: An output function: fills ``reg.out`` and returns the resource id (None: the package's default id).
Outputs = Callable[[Registration], "str | None"]


# ---------------------------------------------------------------- AWS


def _aws_service(type_token: str) -> str:
    module = type_token.split(":")[1].split("/")[0]
    return {"cloudwatch": "logs"}.get(module, module)


def _aws_arn(reg: Registration, resource: str, service: str | None = None) -> str:
    return f"arn:aws:{service or _aws_service(reg.type)}:{reg.region}:{ACCOUNT_ID}:{resource}"


def _eks_cluster(reg: Registration) -> str:
    cname = reg.inputs.get("name") or reg.name
    oidc = _h("oidc", cname, n=32).upper()
    region = reg.region
    reg.out.update(
        name=cname,
        arn=_aws_arn(reg, f"cluster/{cname}"),
        endpoint=f"https://{oidc}.gr7.{region}.eks.amazonaws.com",
        certificateAuthority={"data": base64.b64encode(_fake_pem(cname).encode()).decode()},
        identities=[{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{oidc}"}]}],
        status="ACTIVE",
        version=reg.inputs.get("version", "1.33"),
        clusterSecurityGroupId=f"sg-{_h('csg', cname, n=17)}",
        vpcConfig={**(reg.inputs.get("vpcConfig") or {}), "clusterSecurityGroupId": f"sg-{_h('csg', cname, n=17)}"},
    )
    return cname


def _eks_node_group(reg: Registration) -> None:
    reg.out.update(arn=_aws_arn(reg, f"nodegroup/{reg.inputs.get('clusterName', 'cluster')}/{reg.name}"))


def _iam_role(reg: Registration) -> str:
    rname = reg.input_name()
    reg.out.update(name=rname, arn=f"arn:aws:iam::{ACCOUNT_ID}:role/{rname}", uniqueId=f"AROA{_h(rname, n=17).upper()}")
    return rname


def _iam_policy(reg: Registration) -> str:
    pname = reg.input_name()
    reg.out.update(name=pname, arn=f"arn:aws:iam::{ACCOUNT_ID}:policy/{pname}")
    return reg.out["arn"]


def _iam_instance_profile(reg: Registration) -> str:
    pname = reg.input_name()
    reg.out.update(name=pname, arn=f"arn:aws:iam::{ACCOUNT_ID}:instance-profile/{pname}")
    return pname


def _iam_oidc_provider(reg: Registration) -> str:
    url = str(reg.inputs.get("url", "")).replace("https://", "")
    reg.out.update(arn=f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{url}")
    return reg.out["arn"]


def _kms_key(reg: Registration) -> str:
    name = reg.name
    key_id = f"{_h('kms', name, n=8)}-{_h('k1', name, n=4)}-{_h('k2', name, n=4)}-{_h('k3', name, n=4)}-{_h('k4', name, n=12)}"
    reg.out.update(keyId=key_id, arn=_aws_arn(reg, f"key/{key_id}"))
    return key_id


def _kms_alias(reg: Registration) -> None:
    reg.out.update(arn=_aws_arn(reg, reg.inputs.get("name", "alias/" + reg.name)))


def _s3_bucket(reg: Registration) -> str:
    """A general purpose bucket (``Bucket``, ``BucketV2``): as in the provider, its id IS the bucket name."""
    b = reg.inputs.get("bucket") or f"{reg.name}-{_h(reg.name, n=7)}"
    reg.out.update(bucket=b, arn=f"arn:aws:s3:::{b}", bucketRegionalDomainName=f"{b}.s3.{reg.region}.amazonaws.com")
    return b


def _s3_directory_bucket(reg: Registration) -> str:
    """An S3 Express directory bucket: its id is the bucket name too (``<base>--<az-id>--x-s3``, a required input)."""
    b = reg.inputs.get("bucket") or f"{reg.name}-{_h(reg.name, n=7)}--euw1-az1--x-s3"
    reg.out.update(bucket=b, arn=_aws_arn(reg, f"bucket/{b}", service="s3express"))
    return b


def _dynamodb_table(reg: Registration) -> str:
    tn = reg.input_name(reg.name)
    reg.out.update(name=tn, arn=_aws_arn(reg, f"table/{tn}"))
    return tn


def _sqs_queue(reg: Registration) -> str:
    qn = reg.input_name()
    reg.out.update(name=qn, arn=_aws_arn(reg, qn), url=f"https://sqs.{reg.region}.amazonaws.com/{ACCOUNT_ID}/{qn}")
    return reg.out["url"]


def _secretsmanager_secret(reg: Registration) -> str:
    sn = reg.input_name(reg.name)
    reg.out.update(arn=_aws_arn(reg, f"secret:{sn}-{_h(sn, n=6)}"), name=sn)
    return reg.out["arn"]


def _log_group(reg: Registration) -> str:
    ln = reg.input_name(reg.name)
    reg.out.update(name=ln, arn=_aws_arn(reg, f"log-group:{ln}"))
    return ln


#: EC2 resource class -> the id prefix the EC2 API gives it (others: the lower-cased class).
EC2_ID_PREFIXES = {
    "Vpc": "vpc", "Subnet": "subnet", "SecurityGroup": "sg", "InternetGateway": "igw", "NatGateway": "nat",
    "Eip": "eipalloc", "Instance": "i", "RouteTable": "rtb", "LaunchTemplate": "lt", "FlowLog": "fl", "VpcEndpoint": "vpce",
    # adopted defaults carry the id of what they adopt
    "DefaultVpc": "vpc", "DefaultSubnet": "subnet", "DefaultSecurityGroup": "sg", "DefaultRouteTable": "rtb",
    "DefaultNetworkAcl": "acl",
}


def _ec2(reg: Registration) -> str:
    kind = reg.kind
    prefix = EC2_ID_PREFIXES.get(kind, kind.lower())
    rid = f"{prefix}-{_h(reg.type, reg.name, n=17)}"
    reg.out.setdefault("arn", _aws_arn(reg, f"{prefix}/{rid}"))
    if kind == "Eip":
        reg.out.setdefault("publicIp", "203.0.113." + str(int(_h(reg.name, n=2), 16) % 250 + 1))
    if kind == "LaunchTemplate":
        reg.out.setdefault("latestVersion", 1)
    return rid


AWS_RESOURCES: dict[str, Outputs] = {
    "aws:eks/cluster:Cluster": _eks_cluster,
    "aws:eks/nodeGroup:NodeGroup": _eks_node_group,
    "aws:iam/role:Role": _iam_role,
    "aws:iam/policy:Policy": _iam_policy,
    "aws:iam/instanceProfile:InstanceProfile": _iam_instance_profile,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _iam_oidc_provider,
    "aws:kms/key:Key": _kms_key,
    "aws:kms/alias:Alias": _kms_alias,
    "aws:s3/bucket:Bucket": _s3_bucket,
    "aws:s3/bucketV2:BucketV2": _s3_bucket,
    "aws:s3/directoryBucket:DirectoryBucket": _s3_directory_bucket,
    "aws:dynamodb/table:Table": _dynamodb_table,
    "aws:sqs/queue:Queue": _sqs_queue,
    "aws:secretsmanager/secret:Secret": _secretsmanager_secret,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
}
#: Type-token prefixes answered by one function, for types not in :data:`AWS_RESOURCES`.
AWS_RESOURCE_PREFIXES: dict[str, Outputs] = {"aws:ec2/": _ec2}


def aws_outputs(reg: Registration) -> str | None:
    """Outputs of an AWS resource; every one gets an ``arn`` (``arn:aws:<service>:<region>:<account>:<kind>/<name>``
    unless its function gave a better one)."""
    fn = AWS_RESOURCES.get(reg.type) or next((f for p, f in AWS_RESOURCE_PREFIXES.items() if reg.type.startswith(p)), None)
    rid = fn(reg) if fn else None
    reg.out.setdefault("arn", _aws_arn(reg, f"{reg.kind.lower()}/{reg.inputs.get('name', reg.name)}"))
    return rid


# ---------------------------------------------------------------- Google Cloud


@dataclass
class _GcpNames:
    project: str
    location: str
    name: str


def _gcp_names(reg: Registration) -> _GcpNames:
    return _GcpNames(
        project=reg.inputs.get("project") or reg.project,
        location=reg.inputs.get("location") or reg.inputs.get("region") or reg.region,
        name=reg.input_name(),
    )


def _gke_cluster(reg: Registration) -> None:
    g = _gcp_names(reg)
    reg.out.update(
        endpoint="10.128.0." + str(int(_h(g.name, n=2), 16) % 250 + 2),
        masterAuth={"clusterCaCertificate": base64.b64encode(_fake_pem(g.name).encode()).decode()},
        selfLink=f"https://container.googleapis.com/v1/projects/{g.project}/locations/{g.location}/clusters/{g.name}",
        location=g.location,
    )


def _kms_key_ring(reg: Registration) -> str:
    g = _gcp_names(reg)
    return f"projects/{g.project}/locations/{g.location}/keyRings/{g.name}"


def _kms_crypto_key(reg: Registration) -> str:
    return f"{reg.inputs.get('keyRing', 'keyring')}/cryptoKeys/{_gcp_names(reg).name}"


def _service_account(reg: Registration) -> str:
    g = _gcp_names(reg)
    acct = reg.inputs.get("accountId", g.name)
    email = f"{acct}@{g.project}.iam.gserviceaccount.com"
    reg.out.update(email=email, member=f"serviceAccount:{email}")
    return f"projects/{g.project}/serviceAccounts/{email}"


def _gcs_bucket(reg: Registration) -> str:
    name = _gcp_names(reg).name
    reg.out.update(url=f"gs://{name}", selfLink=f"https://www.googleapis.com/storage/v1/b/{name}")
    return name


def _network(reg: Registration) -> str:
    g = _gcp_names(reg)
    reg.out.setdefault("selfLink", f"https://www.googleapis.com/compute/v1/projects/{g.project}/global/networks/{g.name}")
    return f"projects/{g.project}/global/networks/{g.name}"


def _subnetwork(reg: Registration) -> str:
    g = _gcp_names(reg)
    path = f"projects/{g.project}/regions/{g.location}/subnetworks/{g.name}"
    reg.out.setdefault("selfLink", f"https://www.googleapis.com/compute/v1/{path}")
    return path


def _secret_manager_secret(reg: Registration) -> str:
    g = _gcp_names(reg)
    return f"projects/{g.project}/secrets/{reg.inputs.get('secretId', g.name)}"


def _service_identity(reg: Registration) -> None:
    project = _gcp_names(reg).project
    service = reg.inputs.get("service", "svc").split(".")[0]
    reg.out.setdefault("email", f"service-{_h(project, n=12)}@gcp-sa-{service}.iam.gserviceaccount.com")
    reg.out.setdefault("member", "serviceAccount:" + reg.out["email"])


GCP_RESOURCES: dict[str, Outputs] = {
    "gcp:container/cluster:Cluster": _gke_cluster,
    "gcp:kms/keyRing:KeyRing": _kms_key_ring,
    "gcp:kms/cryptoKey:CryptoKey": _kms_crypto_key,
    "gcp:serviceaccount/account:Account": _service_account,
    "gcp:storage/bucket:Bucket": _gcs_bucket,
    "gcp:compute/network:Network": _network,
    "gcp:compute/subnetwork:Subnetwork": _subnetwork,
    "gcp:secretmanager/secret:Secret": _secret_manager_secret,
    "gcp:projects/serviceIdentity:ServiceIdentity": _service_identity,
}
#: Type-token suffixes answered by one function, for types not in :data:`GCP_RESOURCES` (beta service identities).
GCP_RESOURCE_SUFFIXES: dict[str, Outputs] = {"ServiceIdentity": _service_identity}


def gcp_outputs(reg: Registration) -> str | None:
    """Outputs of a Google Cloud resource: every one gets ``name`` and ``project``, and by default the id
    ``projects/<project>/locations/<location>/<kind>s/<name>``."""
    g = _gcp_names(reg)
    reg.out.setdefault("name", g.name)
    reg.out.setdefault("project", g.project)
    rid = f"projects/{g.project}/locations/{g.location}/{reg.kind.lower()}s/{g.name}"
    fn = GCP_RESOURCES.get(reg.type) or next((f for s, f in GCP_RESOURCE_SUFFIXES.items() if reg.type.endswith(s)), None)
    return (fn(reg) if fn else None) or rid


# ---------------------------------------------------------------- Kubernetes


def kubernetes_outputs(reg: Registration) -> str:
    """Outputs of a Kubernetes object: ``metadata.name`` (autonamed when the program gave metadata without a name)
    and ``metadata.uid``. Nothing else (a Helm release's ``status``, an object's ``status``) is supplied: it is
    unknown, as in a real preview of a create. The id is ``<namespace>/<name>`` (or ``<name>``)."""
    t, name, inputs = reg.type, reg.name, reg.inputs
    meta = dict(inputs.get("metadata") or {})
    meta.setdefault("name", f"{name}-{_h(name, n=6)}" if "metadata" in inputs else name)
    meta.setdefault("uid", _h("uid", t, name, n=32))
    reg.out["metadata"] = meta
    ns = meta.get("namespace")
    return f"{ns}/{meta['name']}" if ns else meta["name"]


#: Provider package -> the function giving its resources' outputs (other packages: inputs echoed back).
PACKAGE_OUTPUTS: dict[str, Outputs] = {"aws": aws_outputs, "gcp": gcp_outputs, "kubernetes": kubernetes_outputs}


# ---------------------------------------------------------------- invokes


def _zones(m: OfflineMocks) -> dict[str, Any]:
    """The region's zones as ``getAvailabilityZones`` lists them (by name) with their zone ids, from the catalogue
    (``inferstack.catalog.zones_data``); a region it does not list gets ``<region>a``-``c``."""
    row = AWS_REGIONS.get(m.region)
    if row is None:
        short = "".join(p if p.isdigit() else p[0] for p in m.region.split("-"))
        pairs = [(f"{m.region}{s}", f"{short}-az{i}") for i, s in enumerate("abc", 1)]
    elif row["uniform_mapping"]:
        pairs = sorted(zip(row["zones"], row["zone_ids"], strict=False))
    else:  # mapped per account: the names and the ids exist, with no pairing between them
        pairs = list(zip(sorted(row["zones"]), row["zone_ids"], strict=False))
    return {"names": [n for n, _ in pairs], "zoneIds": [i for _, i in pairs], "id": m.region}


def _project_number(m: OfflineMocks) -> str:
    return str(int(_h(m.project, n=8), 16))


def _gcs_service_account(m: OfflineMocks) -> dict[str, Any]:
    email = f"service-{_project_number(m)}@gs-project-accounts.iam.gserviceaccount.com"
    return {"project": m.project, "emailAddress": email, "member": f"serviceAccount:{email}", "id": email}


#: Invoke token -> its result; the call's arguments answer the result fields of the same name the table leaves out
#: (other invokes: see :meth:`OfflineMocks.invoke`).
INVOKES: dict[str, Callable[[OfflineMocks], dict[str, Any]]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": lambda m: {
        "accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/offline", "userId": "AIDAOFFLINE", "id": ACCOUNT_ID,
    },
    "aws:index/getPartition:getPartition": lambda m: {
        "partition": "aws", "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws", "id": "aws",
    },
    "aws:index/getRegion:getRegion": lambda m: {
        "name": m.region, "region": m.region, "endpoint": f"ec2.{m.region}.amazonaws.com", "id": m.region,
        **({"description": AWS_REGIONS[m.region]["description"]} if m.region in AWS_REGIONS else {}),
    },
    "aws:index/getAvailabilityZones:getAvailabilityZones": _zones,
    "gcp:organizations/getProject:getProject": lambda m: {
        "projectId": m.project, "number": _project_number(m), "name": m.project, "id": f"projects/{m.project}",
    },
    "gcp:storage/getProjectServiceAccount:getProjectServiceAccount": _gcs_service_account,
    "gcp:organizations/getClientConfig:getClientConfig": lambda m: {
        "project": m.project, "region": m.region, "accessToken": "offline", "id": f"projects/{m.project}/regions/{m.region}",
    },
}

def _yaml_decode(args: Mapping[str, Any]) -> dict[str, Any]:
    """``kubernetes:yaml:decode`` (``kubernetes.yaml.ConfigFile`` / ``ConfigGroup``): the provider only parses the
    text, so the engine does the same: every non-empty document, as JSON values."""
    text = args.get("text")
    if not isinstance(text, str):
        return {"result": []}
    docs = [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]
    return {"result": json.loads(json.dumps(docs, default=str))}


def _arg(item: Mapping[str, Any], name: str, snake: str) -> Any:
    """An invoke argument's field, by its wire name or the Python name a plain dict may give it."""
    value = item.get(name)
    return item.get(snake) if value is None else value


def _gcp_iam_policy(args: Mapping[str, Any]) -> dict[str, Any] | None:
    """``gcp:organizations/getIAMPolicy:getIAMPolicy``: the provider builds the IAM policy document from the
    arguments alone (no API call): ``policyData`` is the JSON of ``{auditConfigs, bindings}`` as the provider writes
    it (members sorted, bindings sorted by role then condition, empty fields left out). None (unknown) when an
    argument is not a known value."""
    if rpc.contains_unknowns(args):
        return None
    bindings, audit = [], []
    for b in args.get("bindings") or []:
        if not isinstance(b, Mapping):
            return None
        binding: dict[str, Any] = {"members": sorted(str(m) for m in b.get("members") or []), "role": b.get("role")}
        cond = b.get("condition")
        if isinstance(cond, Mapping) and cond:
            binding["condition"] = {k: cond[k] for k in ("description", "expression", "title") if cond.get(k)}
        bindings.append(binding)
    bindings.sort(key=lambda b: (str(b["role"]), json.dumps(b.get("condition"), sort_keys=True)))
    for c in args.get("auditConfigs") or []:
        if not isinstance(c, Mapping):
            return None
        logs = []
        for lc in _arg(c, "auditLogConfigs", "audit_log_configs") or []:
            if not isinstance(lc, Mapping):
                return None
            entry = {"logType": _arg(lc, "logType", "log_type")}
            if exempted := _arg(lc, "exemptedMembers", "exempted_members"):
                entry["exemptedMembers"] = list(exempted)
            logs.append(entry)
        audit.append({"auditLogConfigs": logs, "service": c.get("service")})
    policy = {k: v for k, v in (("auditConfigs", audit), ("bindings", bindings)) if v}
    text = json.dumps(policy, sort_keys=True, separators=(",", ":"))
    return {"policyData": text, "bindings": list(args.get("bindings") or []),
            "auditConfigs": list(args.get("auditConfigs") or []), "id": str(int(_h(text), 16))}


def _aws_policy_document(args: Mapping[str, Any]) -> dict[str, Any] | None:
    """``aws:iam/getPolicyDocument:getPolicyDocument``: the provider builds the document from the arguments alone
    (:mod:`inferstack.engine.iam_documents`); arguments it refuses stop the run as they stop a real preview."""
    try:
        return policy_document(args)
    except PolicyDocumentError as err:
        raise ProgramError(f"aws:iam/getPolicyDocument: writing IAM Policy Document: {err}") from None


#: Invoke token -> its result computed from the call's arguments alone, as the provider computes it (None: the
#: arguments are not known, so neither is the result).
ARGUMENT_INVOKES: dict[str, Callable[[Mapping[str, Any]], dict[str, Any] | None]] = {
    "kubernetes:yaml:decode": _yaml_decode,
    "gcp:organizations/getIAMPolicy:getIAMPolicy": _gcp_iam_policy,
    "aws:iam/getPolicyDocument:getPolicyDocument": _aws_policy_document,
}


# ---------------------------------------------------------------- the mocks


class OfflineMocks(pmocks.Mocks):
    """Answers resource registrations and invokes with outputs shaped like the real providers'."""

    def __init__(
        self, region: str, project: str | None, stack: str, stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
        unknown_stack_references: bool = False,
    ):
        self.region = region
        self.project = project or "inferstack-offline"
        self.stack = stack
        #: Referenced stack name -> {"outputs": {...}, "secretOutputNames": [...]}, answered to StackReferences.
        self.stack_outputs = dict(stack_outputs or {})
        #: A StackReference to a stack not in :attr:`stack_outputs`: unknown outputs (True) or a ProgramError.
        self.unknown_stack_references = unknown_stack_references

    def _stack_reference(self, target: str) -> dict[str, Any]:
        if target not in self.stack_outputs and self.unknown_stack_references:
            return {"name": target}  # outputs left out: unknown, as everything the engine cannot read
        if target not in self.stack_outputs:
            known = ", ".join(sorted(self.stack_outputs)) or "none"
            raise ProgramError(
                f"StackReference {target!r}: the offline engine has no outputs for it; give them under "
                f"{STACK_OUTPUTS_KEY} in the stack config (known: {known})"
            )
        ref = self.stack_outputs[target]
        return {"name": target, "outputs": dict(ref.get("outputs") or {}), "secretOutputNames": list(ref.get("secretOutputNames") or [])}

    def new_resource(self, args: pmocks.MockResourceArgs) -> tuple[str, dict]:
        t, name, inputs = args.typ, args.name, dict(args.inputs)
        if t == "pulumi:pulumi:StackReference":
            target = inputs.get("name") or args.resource_id or name
            return target, self._stack_reference(target)
        if not args.custom:
            return "", inputs
        outputs: dict[str, Any] = dict(inputs)
        fn = PACKAGE_OUTPUTS.get(t.split(":", 1)[0])
        rid = None
        if fn is not None:
            known = KnownInputs(inputs)
            try:
                reg = Registration(t, name, known, outputs, known.get("region") or self.region, self.project)
                rid = fn(reg)
            except UnknownInput:
                # What the provider would compute from an unknown input is unknown: the inputs only.
                outputs, rid = dict(inputs), None
        return rid or f"{name}-{_h(t, name)}", outputs

    def call(self, args: pmocks.MockCallArgs) -> tuple[dict, list]:
        result, _ = self.invoke(args.token, dict(args.args), "plain")
        return result or {}, []

    def invoke(
        self, token: str, args: dict[str, Any], form: str, region: str | None = None
    ) -> tuple[dict[str, Any] | None, Lookup]:
        """The answer to a data-source call and what to record of it; a None answer means wholly unknown.

        Tokens in :data:`INVOKES` get their supplied values in either form. Others are answered from the declared
        result type: in the ``output`` form (``get_x_output``, which can carry unknowns) the result is unknown; in
        the ``plain`` form (``get_x``, whose result must be known to continue) every field is the call's argument of
        the same name or a deterministic placeholder of the field's type, each listed in the lookup. ``region`` is
        the region of the call's explicit provider (a ``region`` argument wins; default: the stack's)."""
        computed = ARGUMENT_INVOKES.get(token)
        if computed is not None:
            values = computed(args)
            if values is None:
                cls = result_type(token)
                return None, Lookup("invoke", token, form=form, args=args, unknown=sorted(fields(cls)) if cls else [])
            return values, Lookup("invoke", token, form=form, args=args, supplied=sorted(values))
        supplied = INVOKES.get(token)
        if supplied is not None:
            mocks = self
            if isinstance(args.get("region"), str):  # pulumi-aws v7: a data source's own region argument
                region = args["region"]
            if region and region != self.region:
                mocks = copy.copy(self)
                mocks.region = region
            values = supplied(mocks)
            cls = result_type(token)
            if cls is not None:  # arguments echoed, as the provider's result carries them (state, region, ...)
                values = {**{k: v for k, v in args.items() if k in fields(cls) and v is not None}, **values}
            return values, Lookup("invoke", token, form=form, args=args, supplied=sorted(values))
        cls = result_type(token)
        declared = sorted(fields(cls)) if cls is not None else []
        if form != "plain":
            return None, Lookup("invoke", token, form=form, args=args, unknown=declared)
        if cls is None:  # no SDK type to shape an answer from: an empty result, as the engine's mocks give
            return {}, Lookup("invoke", token, form=form, args=args)
        seed = token + json.dumps(args, sort_keys=True, default=str)
        made = placeholder_result(cls, args, seed)
        echoed = sorted(k for k in declared if args.get(k) is not None)
        return made.value, Lookup("invoke", token, form=form, args=args, supplied=echoed, placeholders=made.leaves)
