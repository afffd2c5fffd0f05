"""Pure helpers for the AWS fidelity suite: what real AWS accepts, taken from botocore's shipped service models
(and a few documented sets botocore does not model), and walkers over offline-engine recordings."""

from __future__ import annotations

import copy
import difflib
import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.session

from inferstack.catalog.accelerators import kinds_for
from inferstack.catalog.clouds import Cloud
from inferstack.config import read_stack_file
from inferstack.engine import Recording, run_program, run_stack, unwrap_secrets
from inferstack.load import load_stack

REPO = Path(__file__).resolve().parents[2]
STACKS_DIR = REPO / "stacks"
EXAMPLES_DIR = REPO / "examples"

INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"
CAPACITY_TYPE_LABEL = "karpenter.sh/capacity-type"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"

# ------------------------------------------------------------------ botocore


@functools.cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@functools.cache
def service_model(service: str) -> Any:
    return _session().get_service_model(service)


@functools.cache
def enum_values(service: str, shape: str) -> frozenset[str]:
    values = service_model(service).shape_for(shape).enum
    if not values:
        raise LookupError(f"botocore {service}.{shape} is not an enum")
    return frozenset(values)


# ------------------------------------------------------------------ documented sets botocore does not model as enums

#: CloudWatch Logs PutRetentionPolicy retentionInDays (documented set; botocore types it as a plain integer).
LOG_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)
#: EKS CreateAccessEntry ``type`` (documented; botocore models a plain string).
EKS_ACCESS_ENTRY_TYPES = frozenset(
    {"STANDARD", "FARGATE_LINUX", "EC2_LINUX", "EC2_WINDOWS", "EC2", "HYBRID_LINUX", "HYPERPOD_LINUX"}
)
#: Karpenter ``karpenter.sh/capacity-type`` requirement values (Karpenter v1 docs).
KARPENTER_CAPACITY_TYPES = frozenset({"spot", "on-demand", "reserved"})


@dataclass(frozen=True)
class EnumRule:
    """Values at ``path`` of resources of ``type`` must be in ``allowed()``. ``[]`` in a path walks a list.

    ``source`` names where the allowed set comes from (``botocore ec2.InstanceType`` or a documented set);
    ``exercised`` rules must see at least one value across all recordings (a guard against a dead table row)."""

    type: str
    path: str
    source: str
    allowed: Callable[[], frozenset[Any]]
    exercised: bool = True


def _bc(service: str, shape: str) -> tuple[str, Callable[[], frozenset[Any]]]:
    return f"botocore {service}.{shape}", lambda: enum_values(service, shape)


def _doc(name: str, values: frozenset[Any]) -> tuple[str, Callable[[], frozenset[Any]]]:
    return f"documented {name}", lambda: values


LT = "aws:ec2/launchTemplate:LaunchTemplate"
NG = "aws:eks/nodeGroup:NodeGroup"
EKS = "aws:eks/cluster:Cluster"

ENUM_RULES: tuple[EnumRule, ...] = (
    # EC2 launch templates
    EnumRule(LT, "instanceType", *_bc("ec2", "InstanceType"), exercised=False),
    EnumRule(LT, "blockDeviceMappings[].ebs.volumeType", *_bc("ec2", "VolumeType")),
    EnumRule(LT, "metadataOptions.httpTokens", *_bc("ec2", "LaunchTemplateHttpTokensState")),
    EnumRule(LT, "metadataOptions.httpEndpoint", *_bc("ec2", "LaunchTemplateInstanceMetadataEndpointState")),
    EnumRule(
        LT, "metadataOptions.instanceMetadataTags", *_bc("ec2", "LaunchTemplateInstanceMetadataTagsState")
    ),
    EnumRule(
        LT,
        "metadataOptions.httpProtocolIpv6",
        *_bc("ec2", "LaunchTemplateInstanceMetadataProtocolIpv6"),
        exercised=False,
    ),
    EnumRule(LT, "tagSpecifications[].resourceType", *_bc("ec2", "ResourceType")),
    # EKS
    EnumRule(NG, "instanceTypes[]", *_bc("ec2", "InstanceType")),
    EnumRule(NG, "capacityType", *_bc("eks", "CapacityTypes")),
    EnumRule(NG, "amiType", *_bc("eks", "AMITypes")),
    EnumRule(EKS, "enabledClusterLogTypes[]", *_bc("eks", "LogType")),
    EnumRule(EKS, "accessConfig.authenticationMode", *_bc("eks", "AuthenticationMode")),
    EnumRule(EKS, "upgradePolicy.supportType", *_bc("eks", "SupportType")),
    EnumRule(
        "aws:eks/accessEntry:AccessEntry", "type", *_doc("EKS access entry types", EKS_ACCESS_ENTRY_TYPES)
    ),
    # DynamoDB
    EnumRule("aws:dynamodb/table:Table", "billingMode", *_bc("dynamodb", "BillingMode")),
    EnumRule("aws:dynamodb/table:Table", "attributes[].type", *_bc("dynamodb", "ScalarAttributeType")),
    # S3
    EnumRule(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "rules[].applyServerSideEncryptionByDefault.sseAlgorithm",
        *_bc("s3", "ServerSideEncryption"),
    ),
    EnumRule(
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "rule.objectOwnership",
        *_bc("s3", "ObjectOwnership"),
    ),
    EnumRule(
        "aws:s3/bucketVersioning:BucketVersioning",
        "versioningConfiguration.status",
        *_bc("s3", "BucketVersioningStatus"),
    ),
    EnumRule(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "rules[].status",
        *_bc("s3", "ExpirationStatus"),
    ),
    # KMS (defaults are SYMMETRIC_DEFAULT / ENCRYPT_DECRYPT; checked when set)
    EnumRule("aws:kms/key:Key", "keyUsage", *_bc("kms", "KeyUsageType"), exercised=False),
    EnumRule("aws:kms/key:Key", "customerMasterKeySpec", *_bc("kms", "KeySpec"), exercised=False),
    # VPC
    EnumRule("aws:ec2/flowLog:FlowLog", "trafficType", *_bc("ec2", "TrafficType")),
    EnumRule("aws:ec2/flowLog:FlowLog", "logDestinationType", *_bc("ec2", "LogDestinationType")),
    EnumRule("aws:ec2/eip:Eip", "domain", *_bc("ec2", "DomainType")),
    # CloudWatch Logs
    EnumRule(
        "aws:cloudwatch/logGroup:LogGroup",
        "retentionInDays",
        *_doc("CloudWatch Logs retention days", LOG_RETENTION_DAYS),
    ),
    # Karpenter EC2NodeClass (EC2 values passed through to RunInstances / CreateLaunchTemplate)
    EnumRule(NODE_CLASS, "spec.blockDeviceMappings[].ebs.volumeType", *_bc("ec2", "VolumeType")),
    EnumRule(NODE_CLASS, "spec.metadataOptions.httpTokens", *_bc("ec2", "HttpTokensState")),
    EnumRule(NODE_CLASS, "spec.metadataOptions.httpEndpoint", *_bc("ec2", "InstanceMetadataEndpointState")),
    EnumRule(
        NODE_CLASS, "spec.metadataOptions.httpProtocolIPv6", *_bc("ec2", "InstanceMetadataProtocolState")
    ),
    # Karpenter NodePool requirements (see requirement_values)
    EnumRule(
        NODE_POOL, f"spec.template.spec.requirements[{INSTANCE_TYPE_LABEL}]", *_bc("ec2", "InstanceType")
    ),
    EnumRule(
        NODE_POOL,
        f"spec.template.spec.requirements[{CAPACITY_TYPE_LABEL}]",
        *_doc("Karpenter capacity types", KARPENTER_CAPACITY_TYPES),
    ),
)

#: Documented numeric ranges (inclusive) for values botocore carries only as strings or plain integers.
RANGE_RULES: tuple[tuple[str, str, int, int, str], ...] = (
    ("aws:sqs/queue:Queue", "messageRetentionSeconds", 60, 1_209_600, "SQS MessageRetentionPeriod"),
    ("aws:sqs/queue:Queue", "kmsDataKeyReusePeriodSeconds", 60, 86_400, "SQS KmsDataKeyReusePeriodSeconds"),
    ("aws:sqs/queue:Queue", "visibilityTimeoutSeconds", 0, 43_200, "SQS VisibilityTimeout"),
    (
        "aws:kms/key:Key",
        "deletionWindowInDays",
        7,
        30,
        "KMS ScheduleKeyDeletion PendingWindowInDays (pulumi-aws 7-30)",
    ),
    (
        "aws:secretsmanager/secret:Secret",
        "recoveryWindowInDays",
        7,
        30,
        "Secrets Manager RecoveryWindowInDays",
    ),
    (
        "aws:ec2/flowLog:FlowLog",
        "maxAggregationInterval",
        60,
        600,
        "VPC flow log MaxAggregationInterval (60|600)",
    ),
)


def walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(concrete path, value) for each value at ``path``; ``[]`` walks lists, ``[label]`` picks the ``values`` of a
    Kubernetes node-selector requirement whose ``key`` is ``label``."""
    if not path:
        yield "", value
        return
    head, _, rest = path.partition(".")
    # a bracket in the head may hold dots (labels): re-join until brackets balance
    while head.count("[") != head.count("]") and rest:
        more, _, rest = rest.partition(".")
        head = f"{head}.{more}"
    name, bracket, sel = head.partition("[")
    sel = sel[:-1] if bracket else None
    if name:
        if not isinstance(value, dict) or name not in value:
            return
        value = value[name]
    if sel is None:
        for p, v in walk(value, rest):
            yield (f"{name}.{p}" if p else name), v
        return
    if not isinstance(value, list):
        return
    for i, item in enumerate(value):
        if sel == "":
            for p, v in walk(item, rest):
                yield (f"{name}[{i}].{p}" if p else f"{name}[{i}]"), v
        elif isinstance(item, dict) and item.get("key") == sel:
            for j, v in enumerate(item.get("values") or []):
                yield f"{name}[{i}].values[{j}]", v


def norm(value: Any) -> Any:
    """Numbers arrive as floats: compare whole floats as ints."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def nearest(value: Any, allowed: frozenset[Any], n: int = 5) -> list[Any]:
    if all(isinstance(a, int) for a in allowed) and isinstance(value, (int, float)):
        return sorted(allowed, key=lambda a: abs(a - value))[:n]
    return difflib.get_close_matches(str(value), sorted(map(str, allowed)), n=n, cutoff=0.3)


@dataclass(frozen=True)
class Finding:
    resource: str
    path: str
    value: Any
    source: str
    nearest: tuple[Any, ...] = ()

    def __str__(self) -> str:
        near = f"; nearest allowed: {list(self.nearest)}" if self.nearest else ""
        return f"{self.resource} {self.path} = {self.value!r} not in {self.source}{near}"


def check_enums(rec: Recording) -> tuple[int, list[Finding], set[int]]:
    """(values checked, findings, indexes of ENUM_RULES that saw a value)."""
    checked, findings, seen = 0, [], set()
    for r in rec.resources:
        inputs = unwrap_secrets(r.inputs)
        for i, rule in enumerate(ENUM_RULES):
            if r.type != rule.type:
                continue
            allowed = rule.allowed()
            for path, value in walk(inputs, rule.path):
                checked += 1
                seen.add(i)
                v = norm(value)
                if v not in allowed:
                    findings.append(
                        Finding(f"{r.type}::{r.name}", path, value, rule.source, tuple(nearest(v, allowed)))
                    )
        for type_, path, lo, hi, what in RANGE_RULES:
            if r.type != type_:
                continue
            for p, value in walk(inputs, path):
                checked += 1
                if not (isinstance(value, (int, float)) and lo <= value <= hi and norm(value) == value):
                    findings.append(Finding(f"{r.type}::{r.name}", p, value, f"{what} [{lo}, {hi}]"))
    return checked, findings, seen


# ------------------------------------------------------------------ IAM

#: Prefixes used in IAM that are not a botocore signing name / endpoint prefix.
EXTRA_IAM_PREFIXES = frozenset(
    {"sts", "iam", "ec2messages", "ssmmessages", "pricing", "execute-api", "eks-auth"}
)
#: Actions IAM defines that are not API operations of the service model (permission-only actions).
IAM_ONLY_ACTIONS = frozenset(
    {
        "s3:GetObjectVersion",
        "s3:ListBucket",
        "s3:PutObjectAcl",
        "s3:GetObjectTagging",
        "s3:ListBucketVersions",
        "s3:DeleteObjectVersion",
        "s3:ListBucketMultipartUploads",
        "iam:PassRole",
        "sts:TagSession",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
        "dynamodb:ConditionCheckItem",
    }
)
#: Service principals whose first label is not a botocore prefix.
EXTRA_SERVICE_PRINCIPALS = frozenset({"vpc-flow-logs.amazonaws.com", "delivery.logs.amazonaws.com"})

CONDITION_OPERATORS = frozenset(
    {
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
        "DateEquals",
        "DateNotEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
        "Bool",
        "BinaryEquals",
        "IpAddress",
        "NotIpAddress",
        "ArnEquals",
        "ArnLike",
        "ArnNotEquals",
        "ArnNotLike",
        "Null",
    }
)
STATEMENT_KEYS = frozenset(
    {
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    }
)
POLICY_INPUTS = frozenset({"policy", "assumeRolePolicy"})


@functools.cache
def iam_prefixes() -> dict[str, frozenset[str]]:
    """IAM service prefix -> operation names of every botocore service signing under it."""
    ops: dict[str, set[str]] = {}
    s = _session()
    for svc in s.get_available_services():
        model = s.get_service_model(svc)
        prefix = model.metadata.get("signingName") or model.metadata["endpointPrefix"]
        ops.setdefault(prefix, set()).update(model.operation_names)
    for p in EXTRA_IAM_PREFIXES:
        ops.setdefault(p, set())
    return {k: frozenset(v) for k, v in ops.items()}


def condition_operator_ok(op: str) -> bool:
    base = op
    for q in ("ForAllValues:", "ForAnyValue:"):
        if base.startswith(q):
            base = base[len(q) :]
            break
    if base.endswith("IfExists") and base != "Null":
        base = base[: -len("IfExists")]
        if base == "Null":
            return False
    return base in CONDITION_OPERATORS


def _as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def policy_documents(rec: Recording) -> Iterator[tuple[str, str, Any]]:
    """(resource, input path, raw value) for every input named policy/assumeRolePolicy, at any depth."""

    def rec_walk(v: Any, path: str) -> Iterator[tuple[str, Any]]:
        if isinstance(v, dict):
            for k, x in v.items():
                p = f"{path}.{k}" if path else k
                if k in POLICY_INPUTS and isinstance(x, str):
                    yield p, x
                else:
                    yield from rec_walk(x, p)
        elif isinstance(v, list):
            for i, x in enumerate(v):
                yield from rec_walk(x, f"{path}[{i}]")

    for r in rec.resources:
        if not r.type.startswith("aws:"):
            continue
        for path, raw in rec_walk(unwrap_secrets(r.inputs), ""):
            yield f"{r.type}::{r.name}", path, raw


@dataclass
class PolicyReport:
    documents: int = 0
    statements: int = 0
    actions: int = 0
    conditions: int = 0
    errors: list[str] = None  # type: ignore[assignment]
    warnings: list[str] = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        self.errors, self.warnings = [], []


def check_policy(where: str, raw: str, report: PolicyReport) -> None:
    report.documents += 1
    try:
        doc = json.loads(raw)
    except ValueError as e:
        report.errors.append(f"{where}: not JSON ({e}): {raw[:80]!r}")
        return
    if not isinstance(doc, dict):
        report.errors.append(f"{where}: policy is not a JSON object")
        return
    if doc.get("Version") != "2012-10-17":
        report.errors.append(f"{where}: Version {doc.get('Version')!r}, expected '2012-10-17'")
    extra = set(doc) - {"Version", "Id", "Statement"}
    if extra:
        report.errors.append(f"{where}: unknown top-level keys {sorted(extra)}")
    statements = _as_list(doc.get("Statement"))
    if not statements or statements == [None]:
        report.errors.append(f"{where}: no Statement")
        return
    prefixes = iam_prefixes()
    for n, st in enumerate(statements):
        report.statements += 1
        at = f"{where} Statement[{n}]{'(' + st['Sid'] + ')' if isinstance(st, dict) and 'Sid' in st else ''}"
        if not isinstance(st, dict):
            report.errors.append(f"{at}: not an object")
            continue
        if set(st) - STATEMENT_KEYS:
            report.errors.append(f"{at}: unknown keys {sorted(set(st) - STATEMENT_KEYS)}")
        if st.get("Effect") not in ("Allow", "Deny"):
            report.errors.append(f"{at}: Effect {st.get('Effect')!r} (Allow|Deny)")
        if ("Action" in st) == ("NotAction" in st):
            report.errors.append(f"{at}: exactly one of Action/NotAction")
        for action in _as_list(st.get("Action", st.get("NotAction", []))):
            report.actions += 1
            if action == "*":
                continue
            if not isinstance(action, str) or action.count(":") != 1:
                report.errors.append(f"{at}: action {action!r} is not 'service:Action'")
                continue
            prefix, name = action.split(":")
            if prefix not in prefixes:
                near = difflib.get_close_matches(prefix, sorted(prefixes), n=3)
                report.errors.append(
                    f"{at}: action {action!r}: unknown service prefix {prefix!r}; nearest {near}"
                )
                continue
            if "*" in name or "?" in name:
                import fnmatch

                if prefixes[prefix] and not fnmatch.filter(prefixes[prefix], name):
                    report.warnings.append(f"{at}: wildcard {action!r} matches no {prefix} operation")
            elif name not in prefixes[prefix] and action not in IAM_ONLY_ACTIONS:
                near = difflib.get_close_matches(name, sorted(prefixes[prefix]), n=3)
                report.warnings.append(
                    f"{at}: {action!r} is not a {prefix} API operation (IAM-only?); nearest {near}"
                )
        for principal_kind in ("Principal", "NotPrincipal"):
            principal = st.get(principal_kind)
            if isinstance(principal, dict):
                for svc in _as_list(principal.get("Service", [])):
                    if not (isinstance(svc, str) and svc.endswith(".amazonaws.com")):
                        report.errors.append(
                            f"{at}: service principal {svc!r} is not '<service>.amazonaws.com'"
                        )
                    elif svc.split(".")[0] not in prefixes and svc not in EXTRA_SERVICE_PRINCIPALS:
                        report.warnings.append(
                            f"{at}: service principal {svc!r}: {svc.split('.')[0]!r} not a botocore prefix"
                        )
                if set(principal) - {"AWS", "Service", "Federated", "CanonicalUser"}:
                    report.errors.append(f"{at}: unknown principal kinds {sorted(set(principal))}")
            elif principal is not None and principal != "*":
                report.errors.append(f"{at}: {principal_kind} {principal!r} (object or '*')")
        cond = st.get("Condition")
        if cond is not None:
            if not isinstance(cond, dict):
                report.errors.append(f"{at}: Condition is not an object")
                continue
            for op, body in cond.items():
                report.conditions += 1
                if not condition_operator_ok(op):
                    near = difflib.get_close_matches(op, sorted(CONDITION_OPERATORS), n=3)
                    report.errors.append(f"{at}: condition operator {op!r} unknown; nearest {near}")
                if not isinstance(body, dict) or not body:
                    report.errors.append(f"{at}: condition {op} body must be a non-empty object")


def check_policies(rec: Recording) -> PolicyReport:
    report = PolicyReport()
    for where, path, raw in policy_documents(rec):
        check_policy(f"{where} {path}", raw, report)
    return report


def check_event_patterns(rec: Recording) -> tuple[int, list[str]]:
    """EventBridge rule patterns: JSON objects whose ``source`` values are ``aws.<real service prefix>``."""
    checked, errors = 0, []
    prefixes = iam_prefixes()
    for r in rec.resources:
        if r.type != "aws:cloudwatch/eventRule:EventRule":
            continue
        raw = unwrap_secrets(r.inputs).get("eventPattern")
        if raw is None:
            continue
        checked += 1
        try:
            pattern = json.loads(raw)
        except ValueError as e:
            errors.append(f"{r.name}: eventPattern not JSON: {e}")
            continue
        for src in _as_list(pattern.get("source", [])):
            if not (
                isinstance(src, str)
                and src.startswith("aws.")
                and (src[4:] in prefixes or src[4:] == "health")
            ):
                errors.append(f"{r.name}: eventPattern source {src!r} is not aws.<service>")
    return checked, errors


# ------------------------------------------------------------------ recordings


def _stack(name: str) -> tuple[str, dict[str, Any], frozenset[str]]:
    f = read_stack_file(STACKS_DIR / f"Pulumi.{name}.yaml")
    return f.stack, copy.deepcopy(f.config), frozenset(f.secret_keys)


def _run(stack: str, config: dict[str, Any], secret_keys: frozenset[str]) -> Recording:
    return run_stack(load_stack(stack, config, secret_keys=secret_keys))


def _reference(name: str) -> Recording:
    return _run(*_stack(name))


def _example(name: str) -> Recording:
    d = EXAMPLES_DIR / name
    f = read_stack_file(d / "Pulumi.prod.yaml")
    return run_program(
        f.stack,
        dict(f.config),
        region=f.config["aws:region"],
        program=d / "__main__.py",
        secret_keys=f.secret_keys,
    )


def _region(base: str, region: str) -> Recording:
    stack, config, secrets = _stack(base)
    config["aws:region"] = region
    config["inferstack:residency"] = {**config.get("inferstack:residency", {}), "allowedRegions": [region]}
    for pool in config.get("inferstack:acceleratorPools", []):  # reservations are zonal: drop the reserved rungs
        ladder = [t for t in pool.get("ladder", []) if t.get("tier") != "reserved"]
        if ladder:
            pool["ladder"] = ladder
        else:
            pool.pop("ladder", None)
    return _run(stack, config, secrets)


def _every_aws_kind() -> Recording:
    stack, config, secrets = _stack("prod")
    config["inferstack:acceleratorPools"] = [
        {"name": f"p{i}", "kind": kind, "capacity": "spot-first", "onDemandBaseline": 1, "maxNodes": 4}
        for i, kind in enumerate(kinds_for(Cloud.AWS))
    ]
    config["inferstack:models"] = []
    config.pop("inferstack:secrets", None)
    return _run(stack, config, secrets)


#: The longest stack name the platform component accepts (``^[a-z][a-z0-9-]{0,30}[a-z0-9]$``: 32 characters).
LONG_STACK_NAME = "prod-eu-west-inference-platform1"


def _long_name() -> Recording:
    _, config, secrets = _stack("prod")
    return _run(LONG_STACK_NAME, config, secrets)


RECORDINGS: dict[str, Callable[[], Recording]] = {
    "stack-dev": lambda: _reference("dev"),
    "stack-staging": lambda: _reference("staging"),
    "stack-prod": lambda: _reference("prod"),
    "example-byo-eks": lambda: _example("byo-eks"),
    "example-team-serving": lambda: _example("team-serving"),
    "prod@eu-central-1": lambda: _region("prod", "eu-central-1"),
    "staging@us-east-1": lambda: _region("staging", "us-east-1"),
    "every-aws-accelerator-kind": _every_aws_kind,
    "long-stack-name": _long_name,
}


@functools.cache
def recording(key: str) -> Recording:
    return RECORDINGS[key]()
