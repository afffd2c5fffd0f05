"""Provider limits on the names inferstack derives, and the values enum-like settings accept (pure data, with sources).

:mod:`inferstack.checks.names` checks every derived name against these at config time; the components derive the
names with the same functions, so what is checked is what is created.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class NameLimit:
    """A provider's rule for one kind of name: length bounds, an allowed pattern, and where it is documented."""

    what: str
    max_len: int
    min_len: int = 1
    pattern: str | None = None
    source: str = ""

    def problem(self, name: str) -> str | None:
        """Why ``name`` breaks this rule, or None."""
        if not self.min_len <= len(name) <= self.max_len:
            return f"{self.what} {name!r} has {len(name)} characters; allowed {self.min_len}-{self.max_len} ({self.source})"
        if self.pattern and not re.fullmatch(self.pattern, name):
            return f"{self.what} {name!r} does not match {self.pattern} ({self.source})"
        return None


_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"

#: S3 ``bucketPrefix``: the provider appends a 26-character unique suffix to a 63-character bucket name.
S3_BUCKET_PREFIX = NameLimit(
    "S3 bucketPrefix", 37, 1, r"[a-z0-9][a-z0-9.-]*",
    "registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/s3_bucket#bucket_prefix",
)
IAM_ROLE = NameLimit(
    "IAM role name", 64, 1, r"[\w+=,.@-]+",
    "docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html",
)
DYNAMODB_TABLE = NameLimit(
    "DynamoDB table name", 255, 3, r"[a-zA-Z0-9_.-]+",
    "docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html",
)
KMS_ALIAS = NameLimit(
    "KMS alias", 256, 1, r"alias/[a-zA-Z0-9/_-]+",
    "docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html",
)
SECRETS_MANAGER_NAME = NameLimit(
    "Secrets Manager secret name", 512, 1, r"[a-zA-Z0-9/_+=.@-]+",
    "docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html",
)
SQS_QUEUE = NameLimit(
    "SQS queue name", 80, 1, r"[a-zA-Z0-9_-]+",
    "docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html",
)
GKE_NODE_POOL = NameLimit(
    "GKE node pool name", 40, 1, r"[a-z]([-a-z0-9]*[a-z0-9])?",
    "cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters.nodePools",
)
GKE_CLUSTER = NameLimit(
    "GKE cluster name", 40, 1, r"[a-z]([-a-z0-9]*[a-z0-9])?",
    "cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters#Cluster",
)
GCP_SERVICE_ACCOUNT_ID = NameLimit(
    "GCP service account id", 30, 6, r"[a-z](?:[-a-z0-9]{4,28}[a-z0-9])",
    "cloud.google.com/iam/docs/reference/rest/v1/projects.serviceAccounts/create",
)
GCS_BUCKET = NameLimit(
    "GCS bucket name", 63, 3, r"[a-z0-9][a-z0-9_.-]*[a-z0-9]",
    "cloud.google.com/storage/docs/buckets#naming",
)
CLOUD_KMS_NAME = NameLimit(
    "Cloud KMS key ring / key name", 63, 1, r"[a-zA-Z0-9_-]+",
    "cloud.google.com/kms/docs/reference/rest/v1/projects.locations.keyRings/create",
)
GCP_SECRET_ID = NameLimit(
    "Secret Manager secret id", 255, 1, r"[a-zA-Z0-9_-]+",
    "cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets/create",
)
#: Compute Engine resource names (networks, subnetworks, routers, NATs, firewalls, network tags, secondary ranges):
#: RFC 1035, ``[a-z]([-a-z0-9]{0,61}[a-z0-9])?``.
GCE_RESOURCE_NAME = NameLimit(
    "Compute Engine resource name", 63, 1, r"[a-z]([-a-z0-9]*[a-z0-9])?",
    "cloud.google.com/compute/docs/naming-resources#resource-name-format",
)
#: Google Cloud resource labels (ASCII subset: inferstack derives no international characters).
GCP_LABEL_KEY = NameLimit(
    "GCP label key", 63, 1, r"[a-z][a-z0-9_-]*", "cloud.google.com/resource-manager/docs/labels-overview#requirements"
)
GCP_LABEL_VALUE = NameLimit(
    "GCP label value", 63, 0, r"[a-z0-9_-]*", "cloud.google.com/resource-manager/docs/labels-overview#requirements"
)
#: At most 64 labels per resource (same source).
GCP_MAX_LABELS = 64

K8S_SUBDOMAIN = NameLimit(
    "Kubernetes object name", 253, 1, r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?",
    "kubernetes.io/docs/concepts/overview/working-with-objects/names/#dns-subdomain-names",
)
#: A DNS-1123 label: namespace names, and the stricter form inferstack keeps the label values it derives in.
K8S_LABEL_VALUE = NameLimit(
    "Kubernetes label value / DNS-1123 label", 63, 1, _DNS_LABEL,
    "kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set",
)

#: RFC 1035 label: a DNS-1123 label that starts with a letter. Service names (and so KServe's InferenceService
#: names, ``IsvcNameFmt`` ``[a-z]([-a-z0-9]*[a-z0-9])?`` in kserve pkg/apis/serving/v1beta1).
K8S_DNS1035_LABEL = NameLimit(
    "Kubernetes DNS-1035 label", 63, 1, r"[a-z]([-a-z0-9]*[a-z0-9])?",
    "kubernetes.io/docs/concepts/overview/working-with-objects/names/#rfc-1035-label-names",
)
#: Names the API server checks only as path segments (RBAC objects): anything but ``.``, ``..``, ``/`` and ``%``.
K8S_PATH_SEGMENT = NameLimit(
    "Kubernetes path segment name", 253, 1, r"(?!\.{1,2}$)[^/%]+",
    "kubernetes.io/docs/concepts/overview/working-with-objects/names/#path-segment-names",
)
#: A label value proper: empty, or up to 63 alphanumerics, ``-``, ``_`` and ``.``, beginning and ending alphanumeric.
K8S_LABEL_VALUE_SYNTAX = NameLimit(
    "Kubernetes label value", 63, 0, r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?",
    "kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set",
)
#: The name part of a label or annotation key (``[prefix/]name``); the prefix is a DNS-1123 subdomain.
K8S_QUALIFIED_NAME = NameLimit(
    "Kubernetes label/annotation key name", 63, 1, r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]",
    "kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set",
)
#: Total size of an object's annotations (keys and values), in bytes (apimachinery ValidateAnnotations).
K8S_ANNOTATIONS_MAX_BYTES = 256 * 1024

#: metadata.name rule per kind; every other kind (custom resources included) is a DNS-1123 subdomain
#: (apimachinery ValidateObjectMeta; the API server validates custom resource names as subdomains).
K8S_NAME_RULE_BY_KIND: dict[str, NameLimit] = {
    "Namespace": K8S_LABEL_VALUE,
    "Service": K8S_DNS1035_LABEL,
    "InferenceService": K8S_DNS1035_LABEL,
    "Role": K8S_PATH_SEGMENT,
    "ClusterRole": K8S_PATH_SEGMENT,
    "RoleBinding": K8S_PATH_SEGMENT,
    "ClusterRoleBinding": K8S_PATH_SEGMENT,
}

#: The first DNS label of a predictor's host: KServe's default ``domainTemplate`` ``{{ .Name }}-{{ .Namespace }}``
#: with Name ``<model>-predictor`` (kserve.github.io/website/docs/admin-guide/configurations, ingress domainTemplate).
KSERVE_HOST_LABEL = NameLimit(
    "KServe predictor host label <model>-predictor-<namespace>", 63, 1, _DNS_LABEL,
    "RFC 1123 DNS label; KServe ingress domainTemplate",
)

#: Suffix KServe appends to an InferenceService's name for its predictor (Deployment / Knative Service).
KSERVE_PREDICTOR_SUFFIX = "-predictor"

#: Retention periods CloudWatch Logs accepts, in days
#: (docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html).
CLOUDWATCH_RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)

#: Shape of an instance / machine type name per cloud: EC2 ``<family>.<size>`` (``m6i.large``,
#: docs.aws.amazon.com/ec2/latest/instancetypes/instance-type-names.html); GCE ``<series>-<type>[-<n>]`` without dots
#: (``e2-standard-4``, cloud.google.com/compute/docs/machine-resource). Catches the other cloud's type and typos of form.
NODE_TYPE_PATTERN: dict[str, str] = {
    "aws": r"[a-z][a-z0-9-]*\.[0-9]*[a-z][a-z0-9-]*",
    "gcp": r"[a-z][a-z0-9]*(-[a-z0-9]+)+",
}

#: GKE release channels (cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters#channel).
GKE_RELEASE_CHANNELS: tuple[str, ...] = ("RAPID", "REGULAR", "STABLE", "EXTENDED")
