"""AWS data services beside inference: encryption at rest and in transit, public IPs, deletion protection.

Each policy judges every member of an AWS family (policies/families/aws.py: the SDK types whose inputs carry the
control, found by predicate, listed in the generated data_aws.py) through the inputs the family records for that
member, so a type an SDK upgrade adds is judged without a change here. On top of "never declared off", a few
services whose API default is off (RDS, DocumentDB, Neptune, ElastiCache, OpenSearch, Kinesis, EFS at rest;
ElastiCache, OpenSearch, RDS Proxy, load-balancer listeners in transit) must declare the control on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyConfigSchema, ResourceValidationArgs, ResourceValidationPolicy
from pulumi_policy.proxy import UnknownValueError

from inferstack.policies import families
from inferstack.policies.entry import ADVISORY_IN_DEV, PolicyEntry, environment_setting
from inferstack.policies.families.base import camel
from inferstack.policies.rules.common import as_list, get, is_aws_managed_key, is_unknown, not_evaluated

AT_REST = "aws-encryption-at-rest"
KMS_KEY = "aws-kms-key"
RETENTION = "aws-backup-retention"
IN_TRANSIT = "aws-encryption-in-transit"
PUBLIC_IP = "aws-public-ip"
DELETION = "aws-deletion-protection"
#: Notebook instances whose users can be given root (SageMaker NotebookInstance root_access): a generated family.
NOTEBOOK_ROOT = "aws-notebook-root-access"

#: Boolean inputs that turn encryption at rest on (a KMS key input set means encrypted whatever the flag).
_ENABLE_FLAG = re.compile(r"(.+_)?encrypted|(.+_)?encryption_enabled|sqs_managed_sse_enabled")
#: Types always encrypted at rest whatever their flags say: DynamoDB's serverSideEncryption.enabled=false selects
#: the AWS-owned key (dynamodb-cmk judges the key), not plaintext.
ALWAYS_ENCRYPTED_AT_REST = frozenset({"aws:dynamodb/table:Table", "aws:dynamodb/tableReplica:TableReplica"})
#: Data stores whose API default is unencrypted: the input (path) that must declare encryption at rest.
REQUIRED_AT_REST: Mapping[str, tuple[str, ...]] = {
    "aws:rds/instance:Instance": ("storageEncrypted",),
    "aws:rds/cluster:Cluster": ("storageEncrypted",),
    "aws:docdb/cluster:Cluster": ("storageEncrypted",),
    "aws:neptune/cluster:Cluster": ("storageEncrypted",),
    "aws:elasticache/replicationGroup:ReplicationGroup": ("atRestEncryptionEnabled",),
    "aws:opensearch/domain:Domain": ("encryptAtRest", "enabled"),
    "aws:elasticsearch/domain:Domain": ("encryptAtRest", "enabled"),
    "aws:efs/fileSystem:FileSystem": ("encrypted",),
}
#: TLS policies of load-balancer listeners allowing TLS 1.0/1.1 (the ALB default ELBSecurityPolicy-2016-08 does).
_WEAK_SSL_POLICY = re.compile(r"^ELBSecurityPolicy-(2015-05|2016-08|TLS-1-0-2015-04|TLS-1-1-2017-01|FS-2018-06|FS-1-1-2019-08)$")
_PLAINTEXT_VIEWER = "allow-all"
_OFF = {"false", "disabled", "inactive", "none"}


def _value(props: Mapping, name: str) -> Any:
    v = props.get(name)
    if is_unknown(v):
        not_evaluated(name)
    return v


def _at(props: Mapping, *path: str) -> Any:
    """The nested input at ``path``; not evaluated when unknown at preview time."""
    v = get(props, *path)
    if is_unknown(v) or any(is_unknown(get(props, *path[:i])) for i in range(1, len(path))):
        not_evaluated(".".join(path))
    return v


def _set(props: Mapping, name: str) -> bool:
    """Whether an input holds a value; a value unknown at preview time (a key the program creates) is one."""
    try:
        return bool(props.get(name))
    except UnknownValueError:
        return True


def _is_off(v: Any) -> bool:
    return v is False or (isinstance(v, str) and v.strip().lower() in _OFF)


def _at_rest(args: ResourceValidationArgs, report) -> None:
    t, props = args.resource_type, args.props
    fields = families.fields(AT_REST, t)
    keyed = any(_set(props, camel(f)) for f in families.fields(KMS_KEY, t))
    for f in fields:
        name = camel(f)
        v = _value(props, name)
        if v is None:
            continue
        if _ENABLE_FLAG.fullmatch(f) and _is_off(v) and not keyed:
            report(f"{name} is {v!r} and no KMS key is set: data at rest is unencrypted.")
        elif f == "encryption_type" and isinstance(v, str) and v.upper() == "NONE":
            report(f"{name} is NONE: data at rest is unencrypted; use KMS.")
        elif isinstance(v, Mapping) and t not in ALWAYS_ENCRYPTED_AT_REST and _is_off(v.get("enabled")):
            report(f"{name}.enabled is false: data at rest is unencrypted.")
    path = REQUIRED_AT_REST.get(t)
    if path is not None:
        if _at(props, *path) is not True:
            report(f"{'.'.join(path)} is not true (the API's default is unencrypted): declare encryption at rest.")
    if t == "aws:kinesis/stream:Stream" and _value(props, "encryptionType") in (None, ""):
        report("encryptionType is unset (the API's default is NONE): set it to KMS.")


def _kms_key(args: ResourceValidationArgs, report) -> None:
    """An AWS-managed key is named by a known alias (alias/aws/<service>, or its ARN); a key ARN unknown at preview
    time is an output of a key the program creates (customer-managed), so it is not "not evaluated" here."""
    for f in families.fields(KMS_KEY, args.resource_type):
        name = camel(f)
        try:
            v = args.props.get(name)
        except UnknownValueError:
            continue
        if is_aws_managed_key(v):
            report(f"{name} {v!r} is an AWS-managed key: its policy cannot be scoped, its use cannot be disabled or "
                   "audited per workload; use a customer-managed key.")


def _listener(props: Mapping, report) -> None:
    protocol = _value(props, "protocol") or "HTTP"
    if protocol == "HTTP":
        actions = as_list(_value(props, "defaultActions"))
        redirects = actions and all(a.get("type") == "redirect" and get(a, "redirect", "protocol") == "HTTPS"
                                    for a in actions if isinstance(a, Mapping))
        if not redirects:
            report("HTTP listener without a redirect to HTTPS: traffic is served in plaintext.")
    elif protocol in ("HTTPS", "TLS"):
        policy = _value(props, "sslPolicy")
        if policy is None or _WEAK_SSL_POLICY.match(str(policy)):
            report(f"{protocol} listener with sslPolicy {policy or 'unset (ELBSecurityPolicy-2016-08)'} allows TLS 1.0/1.1: "
                   "use ELBSecurityPolicy-TLS13-1-2-2021-06 or another TLS 1.2+ policy.")


#: Front-end protocols of a classic load balancer's listeners that carry plaintext (FSBP ELB.3).
_PLAINTEXT_LB_PROTOCOLS = frozenset({"http", "tcp"})
ELASTICACHE_CLUSTER = "aws:elasticache/cluster:Cluster"


def _classic_listeners(props: Mapping, report) -> None:
    """A classic ELB's listeners: HTTP or TCP toward clients is plaintext. A classic listener cannot redirect to
    HTTPS (only the ALB can), so a port-80 listener forwards plaintext traffic too."""
    for i, listener in enumerate(as_list(_value(props, "listeners"))):
        if not isinstance(listener, Mapping):
            continue
        protocol = listener.get("lbProtocol")
        if is_unknown(protocol):
            not_evaluated(f"listeners[{i}].lbProtocol")
        if str(protocol).lower() in _PLAINTEXT_LB_PROTOCOLS:
            report(f"classic load balancer listener {i} (port {listener.get('lbPort')}) uses lb_protocol {protocol}: "
                   "clients connect in plaintext; use HTTPS or SSL with a certificate (a classic ELB cannot redirect "
                   "HTTP to HTTPS).")


def _cache_cluster(props: Mapping, report) -> None:
    """An ElastiCache cache cluster: a Redis/Valkey node outside a replication group cannot encrypt in transit
    (CreateCacheCluster offers TLS to Memcached 1.6.12+ only; Redis/Valkey TLS is a replication group setting);
    a Memcached cluster must turn it on. A node joining a replication group follows the group's setting (judged on
    the ReplicationGroup)."""
    engine = _value(props, "engine")
    if _value(props, "replicationGroupId") is not None:
        return
    if is_unknown(engine):
        not_evaluated("engine")
    engine = str(engine or "").lower()
    if engine in ("redis", "valkey"):
        report(f"a standalone {engine} cache cluster cannot encrypt in transit (ElastiCache offers TLS for "
               f"{engine} only in replication groups): declare an aws.elasticache.ReplicationGroup with "
               "transit_encryption_enabled.")
    elif engine == "memcached" and _value(props, "transitEncryptionEnabled") is not True:
        report("transitEncryptionEnabled is not true (the API's default is off): enable TLS for the Memcached "
               "cluster (engine 1.6.12 or later).")


def _in_transit(args: ResourceValidationArgs, report) -> None:
    t, props = args.resource_type, args.props
    fields = {camel(f) for f in families.fields(IN_TRANSIT, t)}
    if t.endswith("/listener:Listener") and "sslPolicy" in fields:
        _listener(props, report)
    for name in sorted(fields & {"transitEncryptionEnabled", "tlsEnabled", "requireTls"}):
        v = _value(props, name)
        if _is_off(v):
            report(f"{name} is false: connections are not encrypted in transit.")
    if _value(props, "transitEncryptionMode") == "preferred":
        report("transitEncryptionMode is preferred: clients may still connect in plaintext; set required.")
    if "inTransitEncryption" in fields and _is_off(_value(props, "inTransitEncryption")):
        report("inTransitEncryption is NONE: use TLS1_2.")
    if "tlsPolicy" in fields and str(_value(props, "tlsPolicy") or "").lower() == "optional":
        report("tlsPolicy is optional: peers may deliver in plaintext; require TLS.")
    if "nodeToNodeEncryption" in fields and _at(props, "nodeToNodeEncryption", "enabled") is not True:
        report("nodeToNodeEncryption.enabled is not true: traffic between the domain's nodes is plaintext.")
    if "domainEndpointOptions" in fields:
        if _at(props, "domainEndpointOptions", "enforceHttps") is not True:
            report("domainEndpointOptions.enforceHttps is not true: the endpoint accepts plain HTTP.")
        tls = _at(props, "domainEndpointOptions", "tlsSecurityPolicy")
        if isinstance(tls, str) and "TLS-1-0" in tls:
            report(f"domainEndpointOptions.tlsSecurityPolicy {tls} allows TLS 1.0: use Policy-Min-TLS-1-2-PFS-2023-10.")
    if "encryptionInfo" in fields:
        client = _at(props, "encryptionInfo", "encryptionInTransit", "clientBroker")
        if client in ("PLAINTEXT", "TLS_PLAINTEXT"):
            report(f"encryptionInfo.encryptionInTransit.clientBroker is {client}: clients may connect in plaintext; use TLS.")
        if _at(props, "encryptionInfo", "encryptionInTransit", "inCluster") is False:
            report("encryptionInfo.encryptionInTransit.inCluster is false: traffic between brokers is plaintext.")
    for name in ("defaultCacheBehavior", "orderedCacheBehaviors"):
        if name in fields:
            for b in as_list(_value(props, name)):
                if isinstance(b, Mapping) and b.get("viewerProtocolPolicy") == _PLAINTEXT_VIEWER:
                    report(f"{name} viewerProtocolPolicy allow-all: viewers may use plain HTTP; use redirect-to-https "
                           "or https-only.")
    if "listeners" in fields:
        _classic_listeners(props, report)
    if t == ELASTICACHE_CLUSTER:
        _cache_cluster(props, report)
    if t == "aws:elasticache/replicationGroup:ReplicationGroup" and _value(props, "transitEncryptionEnabled") is not True:
        report("transitEncryptionEnabled is not true (the API's default is off): enable TLS for the replication group.")
    if t == "aws:rds/proxy:Proxy" and _value(props, "requireTls") is not True:
        report("requireTls is not true: the proxy accepts plaintext connections.")


def _public_ip(args: ResourceValidationArgs, report) -> None:
    props = args.props
    for f in families.fields(PUBLIC_IP, args.resource_type):
        name = camel(f)
        v = _value(props, name)
        if name == "networkInterfaces":
            for i, nic in enumerate(as_list(v)):
                flag = nic.get("associatePublicIpAddress") if isinstance(nic, Mapping) else None
                if is_unknown(flag):
                    not_evaluated(f"networkInterfaces[{i}].associatePublicIpAddress")
                if flag is True or (isinstance(flag, str) and flag.lower() == "true"):
                    report(f"networkInterfaces[{i}].associatePublicIpAddress is true: instances get a public IP.")
        elif name == "directInternetAccess":
            if v is None or str(v) == "Enabled":
                report(f"directInternetAccess is {v or 'unset (Enabled)'}: the notebook reaches and is reachable from the "
                       "internet outside the VPC; set Disabled.")
        elif name == "appNetworkAccessType":
            if v is None or str(v) == "PublicInternetOnly":
                report(f"appNetworkAccessType is {v or 'unset (PublicInternetOnly)'}: the domain's apps reach the "
                       "internet outside the VPC; set VpcOnly.")
        elif v is True or (isinstance(v, str) and v.lower() == "true"):
            report(f"{name} is true: the resource gets a public IP address or endpoint; keep it private behind a load "
                   "balancer, NAT gateway or VPC endpoint.")


def _notebook_root(args: ResourceValidationArgs, report) -> None:
    for f in families.fields(NOTEBOOK_ROOT, args.resource_type):
        v = _value(args.props, camel(f))
        if v is None or str(v) != "Disabled":
            report(f"{camel(f)} is {v or 'unset (Enabled: the API default)'}: notebook users get root on the instance "
                   "(they can change its system software and settings: least privilege); set Disabled.")


#: Data stores whose API default leaves deletion protection off: in prod it must be declared on.
REQUIRED_DELETION_PROTECTION: Mapping[str, str] = {
    "aws:rds/instance:Instance": "deletionProtection",
    "aws:rds/cluster:Cluster": "deletionProtection",
    "aws:docdb/cluster:Cluster": "deletionProtection",
    "aws:neptune/cluster:Cluster": "deletionProtection",
    "aws:dynamodb/table:Table": "deletionProtectionEnabled",
}


def _deletion(args: ResourceValidationArgs, report) -> None:
    if (args.get_config() or {}).get("environment", "prod") != "prod":
        return
    t, props = args.resource_type, args.props
    for f in families.fields(DELETION, t):
        name = camel(f)
        v = _value(props, name)
        if name == "skipFinalSnapshot":
            if v is True:
                report("skipFinalSnapshot is true in prod: deleting the resource loses its data; take a final snapshot.")
        elif _is_off(v):
            report(f"{name} is {v!r} in prod: enable deletion protection.")
    for f in families.fields(RETENTION, t):
        name = camel(f)
        v = _value(props, name)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v == 0:
            report(f"{name} is 0 in prod: automated backups are off.")
    required = REQUIRED_DELETION_PROTECTION.get(t)
    if required is not None and _value(props, required) is None:
        report(f"{required} is unset in prod (the API's default is off): enable deletion protection.")


_ENV_SCHEMA = PolicyConfigSchema(properties={"environment": {"type": "string"}})
ENTRIES = [
    PolicyEntry(ResourceValidationPolicy(
        name="aws-encryption-at-rest",
        description="No AWS data store declares encryption at rest off (every type with an encryption or KMS key "
                    "input); RDS, DocumentDB, Neptune, ElastiCache, OpenSearch, Kinesis and EFS declare it on.",
        validate=_at_rest,
        remediation_steps="Set storageEncrypted / atRestEncryptionEnabled / encryptAtRest.enabled / encrypted: true "
                          "(encryptionType KMS for Kinesis), with a customer-managed kmsKeyId.",
    ), ADVISORY_IN_DEV, families=(AT_REST,),
       controls=("CIS AWS 2.3.1", "FSBP RDS.3", "FSBP RDS.27", "FSBP DocumentDB.1", "FSBP Neptune.1",
                 "FSBP ElastiCache.4", "FSBP Opensearch.1", "FSBP ES.1", "FSBP Kinesis.1", "FSBP EFS.8",
                 "FSBP Redshift.10", "FSBP SQS.1", "FSBP DynamoDB.3")),
    PolicyEntry(ResourceValidationPolicy(
        name="aws-kms-key-customer-managed",
        description="No KMS key input of an AWS resource (kmsKeyId, kmsKeyArn, kmsMasterKeyId, ...) names an "
                    "AWS-managed key (alias/aws/...).",
        validate=_kms_key,
        remediation_steps="Create a customer-managed key (aws.kms.Key with rotation) and pass its ARN.",
    ), ADVISORY_IN_DEV, families=(KMS_KEY,), controls=("NIST 800-53 SC-12", "NIST 800-53 SC-28")),
    PolicyEntry(ResourceValidationPolicy(
        name="aws-encryption-in-transit",
        description="No AWS endpoint accepts plaintext: TLS flags not off; ElastiCache replication groups, "
                    "OpenSearch domains and RDS proxies require TLS; HTTP listeners redirect to HTTPS and HTTPS/TLS "
                    "listeners use a TLS 1.2+ policy; CloudFront viewers are not allowed plain HTTP; MSK clients "
                    "and brokers use TLS.",
        validate=_in_transit,
        remediation_steps="Enable transit encryption / TLS, redirect HTTP to HTTPS, use ELBSecurityPolicy-TLS13-1-2-2021-06, "
                          "set viewerProtocolPolicy redirect-to-https.",
    ), ADVISORY_IN_DEV, families=(IN_TRANSIT,),
       controls=("FSBP ElastiCache.5", "FSBP Opensearch.3", "FSBP Opensearch.8", "FSBP ES.3", "FSBP ES.8",
                 "FSBP ELB.1", "FSBP ELB.17", "FSBP CloudFront.3", "FSBP MSK.1", "FSBP RDS.43")),
    PolicyEntry(ResourceValidationPolicy(
        name="aws-no-public-ip",
        description="No AWS resource gets a public IP address or a publicly accessible endpoint (subnets mapping "
                    "public IPs on launch, instances and launch templates associating them, publicly accessible "
                    "databases, brokers and replication instances); SageMaker notebooks and domains reach the "
                    "internet only through the VPC.",
        validate=_public_ip,
        remediation_steps="Set mapPublicIpOnLaunch / associatePublicIpAddress / publiclyAccessible false (SageMaker: "
                          "directInternetAccess Disabled, appNetworkAccessType VpcOnly); reach the resource through a "
                          "load balancer, NAT gateway or VPC endpoint.",
    ), ADVISORY_IN_DEV, families=(PUBLIC_IP,),
       controls=("FSBP EC2.9", "FSBP EC2.15", "FSBP EC2.25", "FSBP RDS.2", "FSBP Redshift.1", "FSBP DMS.1",
                 "FSBP SageMaker.1")),
    PolicyEntry(ResourceValidationPolicy(
        name="aws-notebook-no-root-access",
        description="No notebook instance gives its users root access (SageMaker rootAccess Disabled; the API "
                    "default is Enabled).",
        validate=_notebook_root,
        remediation_steps="Set rootAccess (root_access) Disabled on the notebook instance; install software through "
                          "a lifecycle configuration (it runs as root) instead.",
    ), ADVISORY_IN_DEV, families=(NOTEBOOK_ROOT,), controls=("FSBP SageMaker.3",)),
    PolicyEntry(ResourceValidationPolicy(
        name="aws-deletion-protection",
        description="In prod, no AWS resource declares deletion protection off, skips its final snapshot or keeps "
                    "no automated backups (retention 0); RDS, DocumentDB, Neptune and DynamoDB declare deletion "
                    "protection on.",
        validate=_deletion, config_schema=_ENV_SCHEMA,
        remediation_steps="Set deletionProtection / deletionProtectionEnabled / enableDeletionProtection: true and "
                          "skipFinalSnapshot: false in prod; keep backupRetentionPeriod / snapshotRetentionLimit above 0.",
    ), ADVISORY_IN_DEV, environment_setting, families=(DELETION, RETENTION),
       controls=("FSBP RDS.7", "FSBP RDS.8", "FSBP DocumentDB.5", "FSBP Neptune.4", "FSBP DynamoDB.6", "FSBP ELB.6",
                 "FSBP RDS.11", "FSBP ElastiCache.1", "FSBP Redshift.3", "FSBP Neptune.5")),
]
