"""Network exposure and workload isolation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from inferstack.config.policy import PolicySettings
from inferstack.policies import families
from inferstack.policies.entry import ADVISORY_IN_DEV, MANDATORY, PolicyEntry
from inferstack.policies.families.base import camel
from inferstack.policies.rules.cidrs import world_ranges
from inferstack.policies.rules.common import as_list, get, is_unknown, names_unknown, not_evaluated, refers_to
from inferstack.policies.rules.k8s_objects import CONTAINER_TYPES, objects
from inferstack.policies.rules.node_agents import is_pinned_node_agent

OPEN = ("0.0.0.0/0", "::/0")
INTERNAL_LB_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": ("true",),
    "service.beta.kubernetes.io/aws-load-balancer-scheme": ("internal",),
    "networking.gke.io/load-balancer-type": ("Internal",),
    "cloud.google.com/load-balancer-type": ("Internal",),
}
#: The annotation that makes a LoadBalancer Service internal, per cloud: the AWS Load Balancer Controller's scheme
#: (``aws-load-balancer-internal`` is deprecated in its favour) and GKE's internal passthrough load balancer.
INTERNAL_LB_FIX = ('metadata.annotations "service.beta.kubernetes.io/aws-load-balancer-scheme: internal" (EKS, AWS Load '
                   'Balancer Controller) or "networking.gke.io/load-balancer-type: Internal" (GKE)')
WORKLOAD_KINDS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet")
#: Every S3 bucket type, every S3 ACL-bearing type (bucket, split-out BucketAcl/BucketAclV2, object) and every
#: public access block type: families generated from the SDK (policies/families/aws.py).
BUCKETS = "aws-s3-bucket"
ACLS = "aws-s3-acl"
BLOCKS = "aws-s3-public-access-block"
#: Canned ACLs granting to everyone or to every AWS account (CIS AWS 2.1.4, FSBP S3.2/S3.3).
PUBLIC_CANNED_ACLS = ("public-read", "public-read-write", "authenticated-read")
#: Grantee groups meaning everyone (AllUsers) or any authenticated AWS account (AuthenticatedUsers).
PUBLIC_GRANTEE_GROUPS = ("http://acs.amazonaws.com/groups/global/AllUsers",
                         "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")
ACCOUNT_PAB = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
K8S_SECRET_TYPES = ("kubernetes:core/v1:Secret", "kubernetes:core/v1:SecretPatch")
EKS_CLUSTER = "aws:eks/cluster:Cluster"
GKE_CLUSTER = "gcp:container/cluster:Cluster"
GCS_BUCKET = "gcp:storage/bucket:Bucket"
SERVICE_TYPES = ("kubernetes:core/v1:Service", "kubernetes:core/v1:ServicePatch")
#: Every type that can carry a Service: itself, its list, a v1 List, yaml/v2 ConfigGroup / ConfigFile.
SERVICE_CARRIERS = (*SERVICE_TYPES, "kubernetes:core/v1:ServiceList", "kubernetes:core/v1:List", *CONTAINER_TYPES)
INFERENCE_SERVICE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
EC2_INSTANCE = "aws:ec2/instance:Instance"
EC2_NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"


def _eks_endpoint(args: ResourceValidationArgs, report) -> None:
    if args.resource_type != EKS_CLUSTER:
        return
    vpc = args.props.get("vpcConfig") or {}
    if vpc.get("endpointPublicAccess") is False:
        return
    cidrs = vpc.get("publicAccessCidrs")
    if not cidrs or any(c in OPEN for c in cidrs) or world_ranges(as_list(cidrs)):
        report("EKS public endpoint is open to 0.0.0.0/0 (or a range as wide); set endpointPublicAccess false or restrict publicAccessCidrs.")


def _gke_private(args: ResourceValidationArgs, report) -> None:
    if args.resource_type != GKE_CLUSTER:
        return
    if get(args.props, "privateClusterConfig", "enablePrivateNodes") is not True:
        report("GKE nodes must be private (privateClusterConfig.enablePrivateNodes: true).")
    blocks = get(args.props, "masterAuthorizedNetworksConfig", "cidrBlocks")
    if blocks is None and args.props.get("masterAuthorizedNetworksConfig") is None:
        report("GKE control plane needs masterAuthorizedNetworksConfig.")
    elif any(get(b, "cidrBlock") in OPEN for b in blocks or []):
        report("GKE authorized networks must not include 0.0.0.0/0.")


def _can_be_public(bucket_type: str) -> bool:
    """Whether a bucket type can be opened to the public: it takes an ACL or a policy in-line (Bucket, BucketV2).
    A bucket type with neither (S3 directory buckets) has its public access block always on: S3 rejects
    PutPublicAccessBlock for it, so it needs none."""
    return bool(set(families.fields(BUCKETS, bucket_type)) & {"acl", "grants", "policy"})


def _s3_public_block(args: StackValidationArgs, report) -> None:
    bucket_types, block_types = families.members(BUCKETS), families.members(BLOCKS)
    buckets = [r for r in args.resources if r.resource_type in bucket_types and _can_be_public(r.resource_type)]
    covered: set[str] = set()
    account_wide = False
    unknown = False
    for r in args.resources:
        if r.resource_type not in block_types:
            continue
        off = [k for k in PAB_FLAGS if r.props.get(k) is not True]
        if off:  # reported on the block itself, not again on its bucket
            report(f"{r.name}: S3 public access block must set {', '.join(off)} to true.", r.urn)
        if r.resource_type == ACCOUNT_PAB:
            account_wide = account_wide or not off
        else:
            unknown = unknown or names_unknown(r)
            covered.update(b.urn for b in buckets if refers_to(r, b))
    if account_wide:
        return
    if unknown and any(b.urn not in covered for b in buckets):
        not_evaluated("a BucketPublicAccessBlock's bucket")
    for b in buckets:
        if b.urn not in covered:
            report(f"S3 bucket {b.name} ({b.resource_type}) has no BucketPublicAccessBlock with all four flags true "
                   "(or an account-wide AccountPublicAccessBlock).", b.urn)


def _public_grantees(value: object) -> list[str]:
    """The AllUsers / AuthenticatedUsers group URIs granted in an ACL's grants (``grants[].uri`` of a bucket or an
    object, ``accessControlPolicy.grants[].grantee.uri`` of a BucketAcl)."""
    out = []
    for grant in [*as_list(get(value, "grants")), *([] if isinstance(value, Mapping) else as_list(value))]:
        uri = get(grant, "uri") or get(grant, "grantee", "uri")
        if isinstance(uri, str) and uri.rstrip("/") in PUBLIC_GRANTEE_GROUPS:
            out.append(uri.rstrip("/").rsplit("/", 1)[-1])
    return out


def _s3_acl(args: ResourceValidationArgs, report) -> None:
    fields = families.fields(ACLS, args.resource_type)
    for f in fields:
        value = args.props.get(camel(f))
        if value is None or is_unknown(value):
            continue
        if f == "acl":
            if value in PUBLIC_CANNED_ACLS:
                report(f"S3 ACL {value!r} grants {'any AWS account' if value == 'authenticated-read' else 'everyone'} "
                       "access; use private (or bucket-owner-full-control) and grant through IAM.")
        else:
            for group in _public_grantees(value):
                report(f"S3 ACL {camel(f)} grants to the {group} group (everyone or any AWS account); grant named "
                       "accounts or roles through IAM instead.")


def _gcs_public(args: ResourceValidationArgs, report) -> None:
    if args.resource_type != GCS_BUCKET:
        return
    if args.props.get("publicAccessPrevention") != "enforced":
        report("GCS bucket must set publicAccessPrevention: enforced.")
    if args.props.get("uniformBucketLevelAccess") is not True:
        report("GCS bucket must set uniformBucketLevelAccess: true.")


def _load_balancers(args: ResourceValidationArgs, report) -> None:
    """Every Service a resource carries (itself, a ServiceList's or List's items, a yaml/v2 ConfigGroup's objects)."""
    if args.resource_type not in SERVICE_CARRIERS or (args.get_config() or {}).get("allowPublicLoadBalancers"):
        return
    for obj in objects(args.resource_type, args.props):
        if obj.kind != "Service" or get(obj.props, "spec", "type") != "LoadBalancer":
            continue
        ann = get(obj.props, "metadata", "annotations") or {}
        if not any(str(ann.get(k)) in v for k, v in INTERNAL_LB_ANNOTATIONS.items()):
            where = f"{obj.label}: " if obj.where else ""
            report(f"{where}LoadBalancer Service without an internal annotation would be internet-facing; add "
                   f"{INTERNAL_LB_FIX}.")


def _inference_visibility(args: ResourceValidationArgs, report) -> None:
    if args.resource_type != INFERENCE_SERVICE:
        return
    if (args.get_config() or {}).get("allowPublicInference"):
        return
    labels = get(args.props, "metadata", "labels") or {}
    if labels.get("networking.knative.dev/visibility") != "cluster-local" and labels.get("networking.kserve.io/visibility") != "cluster-local":
        report("InferenceService must be cluster-local (label networking.knative.dev/visibility: cluster-local).")


def _imdsv2(args: ResourceValidationArgs, report) -> None:
    if args.resource_type == LAUNCH_TEMPLATE:
        if get(args.props, "metadataOptions", "httpTokens") != "required":
            report("launch template must require IMDSv2 (metadataOptions.httpTokens: required).")
    elif args.resource_type == EC2_INSTANCE:
        if get(args.props, "metadataOptions", "httpTokens") != "required":
            report("EC2 instance must require IMDSv2 (metadataOptions.httpTokens: required).")
    elif args.resource_type == EC2_NODE_CLASS:
        if get(args.props, "spec", "metadataOptions", "httpTokens") not in (None, "required"):
            report("EC2NodeClass must require IMDSv2 (spec.metadataOptions.httpTokens: required).")


def pod_spec(props: dict, kind: str) -> dict | None:
    if kind == "Pod":
        return props.get("spec")
    if kind == "CronJob":
        return get(props, "spec", "jobTemplate", "spec", "template", "spec")
    return get(props, "spec", "template", "spec")


def pod_problems(spec: dict, *, node_agent: bool = False) -> list[str]:
    """Host namespaces, hostPath volumes and privileged containers of a pod spec; a pinned node agent
    (``node_agent``, :mod:`~inferstack.policies.rules.node_agents`) may be privileged, nothing else."""
    out = [f for f in ("hostNetwork", "hostPID", "hostIPC") if spec.get(f) is True]
    out += [f"hostPath volume {v.get('name')}" for v in spec.get("volumes") or [] if v.get("hostPath")]
    # list(...) first: the props are pulumi-policy proxies, and _ListProxy + list raises TypeError
    for c in [*(spec.get("containers") or []), *(spec.get("initContainers") or []), *(spec.get("ephemeralContainers") or [])]:
        if get(c, "securityContext", "privileged") is True and not node_agent:
            out.append(f"privileged container {c.get('name')}")
    return out


def _workloads(args: ResourceValidationArgs, report) -> None:
    t = args.resource_type
    if not t.startswith("kubernetes:"):
        return
    kind = t.rsplit(":", 1)[-1].removesuffix("Patch")  # server-side-apply patches of workloads too
    if kind not in WORKLOAD_KINDS:
        return
    spec = pod_spec(args.props, kind)
    if isinstance(spec, Mapping):
        agent = is_pinned_node_agent(kind, args.props, spec, patch=t.endswith("Patch"))
        for p in pod_problems(spec, node_agent=agent):
            report(f"{kind} uses {p}; workloads must not escape their node sandbox.")


def _k8s_secret_values(args: ResourceValidationArgs, report) -> None:
    if args.resource_type not in K8S_SECRET_TYPES:
        return
    keys = sorted({*(args.props.get("stringData") or {}), *(args.props.get("data") or {})})
    if keys:
        report(f"Kubernetes Secret declares values {keys} in stringData/data: they sit in the program and the "
               "Pulumi state as plain values. Deliver them with an ExternalSecret from the cloud secret store.")


def _allow_public_load_balancers(settings: PolicySettings) -> dict[str, Any]:
    return {"allowPublicLoadBalancers": settings.policy.allow_public_load_balancers}


def _allow_public_inference(settings: PolicySettings) -> dict[str, Any]:
    return {"allowPublicInference": settings.policy.allow_public_inference}


ENTRIES = [
    PolicyEntry(ResourceValidationPolicy(
        name="eks-endpoint-not-public", description="No EKS endpoint open to 0.0.0.0/0.", validate=_eks_endpoint,
        remediation_steps="Use a private endpoint or list the CIDRs allowed.",
    ), MANDATORY, types=(EKS_CLUSTER,),
       controls=("CIS EKS 5.4.1", "FSBP EKS.1")),
    PolicyEntry(ResourceValidationPolicy(
        name="gke-private-cluster", description="GKE private nodes with authorized networks.", validate=_gke_private,
        remediation_steps="Set private_cluster_config.enable_private_nodes and master_authorized_networks_config.",
    ), MANDATORY, types=(GKE_CLUSTER,),
       controls=("CIS GKE 5.6.5", "CIS GKE 5.6.3")),
    PolicyEntry(StackValidationPolicy(
        name="s3-no-public-access",
        description="Every S3 bucket has a public access block with all four flags on.",
        validate=_s3_public_block,
        remediation_steps="Declare aws.s3.BucketPublicAccessBlock for the bucket (Bucket or BucketV2) with all four "
                          "flags True.",
    ), MANDATORY,
       controls=("FSBP S3.8", "FSBP S3.1", "CIS AWS 2.1.4"), clouds={"aws"}),
    PolicyEntry(ResourceValidationPolicy(
        name="s3-acl-not-public",
        description="No S3 ACL (a bucket's, a BucketAcl's or an object's) grants to everyone or to any AWS account.",
        validate=_s3_acl,
        remediation_steps="Use acl='private' (or no ACL with BucketOwnershipControls BucketOwnerEnforced); drop grants "
                          "to the AllUsers and AuthenticatedUsers groups; grant named principals through IAM.",
    ), MANDATORY, families=(ACLS,),
       controls=("CIS AWS 2.1.4", "FSBP S3.2", "FSBP S3.3")),
    PolicyEntry(ResourceValidationPolicy(
        name="gcs-no-public-access", description="GCS public access prevention and uniform access.", validate=_gcs_public,
        remediation_steps="Set public_access_prevention='enforced' and uniform_bucket_level_access=True.",
    ), MANDATORY, types=(GCS_BUCKET,),
       controls=("CIS GCP 5.1", "CIS GCP 5.2")),
    PolicyEntry(ResourceValidationPolicy(
        name="no-public-load-balancers", description="LoadBalancer Services are internal unless allowed.",
        validate=_load_balancers,
        config_schema=PolicyConfigSchema(properties={"allowPublicLoadBalancers": {"type": "boolean"}}),
        remediation_steps=f"Add {INTERNAL_LB_FIX}; or, for a Service meant to be public, set "
                          "inferstack:policy.allowPublicLoadBalancers.",
    ), ADVISORY_IN_DEV, _allow_public_load_balancers, types=SERVICE_CARRIERS,
       controls=("CIS EKS 5.4.5", "CIS GKE 5.6.8"), clouds={"aws", "gcp", "kubernetes"}),
    PolicyEntry(ResourceValidationPolicy(
        name="inference-cluster-local", description="InferenceServices are cluster-local unless allowed.",
        validate=_inference_visibility,
        config_schema=PolicyConfigSchema(properties={"allowPublicInference": {"type": "boolean"}}),
        remediation_steps="Label the InferenceService cluster-local, or set inferstack:policy.allowPublicInference.",
    ), ADVISORY_IN_DEV, _allow_public_inference, types=(INFERENCE_SERVICE,),
       controls=("NIST 800-53 SC-7",)),
    PolicyEntry(ResourceValidationPolicy(
        name="imdsv2-required", description="Instances require IMDSv2.", validate=_imdsv2,
        remediation_steps="Set metadata_options http_tokens='required'.",
    ), MANDATORY, types=(LAUNCH_TEMPLATE, EC2_INSTANCE, EC2_NODE_CLASS),
       controls=("FSBP EC2.8", "FSBP EC2.170")),
    PolicyEntry(ResourceValidationPolicy(
        name="no-privileged-workloads", description="No privileged containers, hostNetwork, hostPID or hostPath.",
        validate=_workloads, remediation_steps="Drop privileged, host namespaces and hostPath volumes.",
    ), MANDATORY, types=("kubernetes:",),
       controls=("PSS baseline: privileged", "PSS baseline: hostNamespaces", "PSS baseline: hostPath", "CIS EKS 4.2.1")),
    PolicyEntry(ResourceValidationPolicy(
        name="k8s-secrets-not-plaintext",
        description="No Kubernetes Secret carries plaintext values in stringData or data.",
        validate=_k8s_secret_values,
        remediation_steps="Create the Secret with an ExternalSecret (inferstack:secrets) from the cloud secret store.",
    ), MANDATORY, types=K8S_SECRET_TYPES,
       controls=("CIS Kubernetes 5.4.2", "CIS GKE 4.4.1")),
]
#: Stack policies and the families whose every member they judge (read by policies/families/coverage.py).
STACK_FAMILIES = {"s3-no-public-access": (BUCKETS, BLOCKS)}
