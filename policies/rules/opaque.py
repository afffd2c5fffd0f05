"""Fail closed where the pack cannot see inside: dynamic-provider resources and types of unknown provider packages.

The encryption, exposure and residency rules judge a resource from its type token and its inputs, and they know
which types of which provider packages can express their control (``aws:s3/bucket:Bucket`` has a
``BucketServerSideEncryptionConfiguration``, ``kubernetes:core/v1:Service`` a ``type: LoadBalancer``, ...). A type
no rule of a family knows is not "compliant": nothing was evaluated. Two kinds, decided from the type token's
package and module (never from a name):

- a **dynamic provider**'s resource (module ``dynamic`` or ``dynamic/<module>``: ``pulumi-python:dynamic:Resource``,
  ``pulumi-nodejs:dynamic:Resource``, ``pulumi-python:dynamic/registry:Seed``): its create/update code runs in the
  program and does whatever it does; the pack sees only the inputs handed to it;
- a type of a provider **package none of the family's rules knows** (``cloudflare:...``, ``command:local:Command``,
  ``azure-native:...``, a third-party or in-house package): its schema is unknown, so whether it stores data
  unencrypted, listens on the internet or lives outside the allowed regions cannot be told.

``opaque-resources-reviewed`` reports each such custom resource once (a component, e.g. a program's own
``mycorp:app:Service``, creates nothing itself: its children are judged), naming it (type, name, URN) and the families that
could not evaluate it: advisory in dev, mandatory in staging and prod, and mandatory with ``policy check --strict``
(a "not evaluated" finding). A reviewed resource is acknowledged per resource with a reason in the stack's
``inferstack:policy.reviewedResources`` (``<type>::<name>`` or its URN -> reason); the pack config carries it to
the policy, which then marks the resource not applicable with that reason. Nothing else is waived: every other rule
still judges the resource's inputs (``region-residency`` a region it declares outside ``allowedRegions``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import PolicyConfigSchema, ResourceValidationArgs, ResourceValidationPolicy

from inferstack.config.policy import PolicySettings
from inferstack.policies.entry import ADVISORY_IN_DEV, PolicyEntry

POLICY = "opaque-resources-reviewed"
#: The type-token module of dynamic providers (``pulumi-<language>:dynamic[/<module>]:<Name>``).
DYNAMIC_MODULE = "dynamic"


@dataclass(frozen=True)
class Family:
    """A family of rules and the provider packages whose types its rules can see into."""

    name: str
    #: Type-token packages whose resource types the family's rules know: a type either carries the control and a
    #: rule judges it, or is known to carry none (an IAM role holds no data at rest).
    packages: frozenset[str]
    #: What the family checks, for the finding's message.
    control: str


#: Packages with no control of these families at all: Pulumi's own (providers, stack references), ``random`` and
#: ``tls`` (values computed into the state), and this project's components (their children are judged).
_NO_CLOUD = frozenset({"pulumi", "random", "tls", "inferstack"})
FAMILIES: tuple[Family, ...] = (
    # policies/rules/encryption.py and the CMK rules of logging.py judge AWS and GCP stores; Kubernetes objects rest
    # in etcd, covered by the clusters' secrets encryption (eks-secrets-encryption, gke-database-encryption).
    Family("encryption", frozenset({"aws", "gcp", "kubernetes"}) | _NO_CLOUD, "encryption at rest with customer-managed keys"),
    # exposure.py and network.py: AWS and GCP endpoints, security groups, firewalls, buckets; Kubernetes Services,
    # Ingresses, InferenceServices, Helm values.
    Family("exposure", frozenset({"aws", "gcp", "kubernetes"}) | _NO_CLOUD, "network exposure"),
    # residency.py: AWS and GCP resources name their region (or inherit their provider's); Kubernetes objects live
    # in their cluster (GLOBAL_TYPE_PREFIXES).
    Family("residency", frozenset({"aws", "gcp", "kubernetes"}) | _NO_CLOUD, "region residency"),
)


def _split(type_token: str) -> tuple[str, str]:
    package, _, rest = type_token.partition(":")
    module = rest.rpartition(":")[0] if ":" in rest else ""
    return package, module


def is_dynamic(type_token: str) -> bool:
    """A dynamic provider's resource: module ``dynamic`` or ``dynamic/<module>``, whatever the language's package."""
    module = _split(type_token)[1]
    return module == DYNAMIC_MODULE or module.startswith(DYNAMIC_MODULE + "/")


def blind_families(type_token: str) -> list[Family]:
    """The families whose rules cannot see inside resources of ``type_token`` (empty: every family knows it)."""
    if is_dynamic(type_token):
        return list(FAMILIES)
    package = _split(type_token)[0]
    return [f for f in FAMILIES if package not in f.packages]


def is_opaque(type_token: str, family: str) -> bool:
    """True when ``family``'s rules cannot see inside resources of ``type_token``."""
    return any(f.name == family for f in blind_families(type_token))


def why_opaque(type_token: str) -> str:
    """Why the pack cannot see inside a resource of ``type_token`` (for an opaque type)."""
    if is_dynamic(type_token):
        return ("a dynamic provider's resource: its create/update code runs in the program and the pack sees only "
                "the inputs handed to it")
    package = _split(type_token)[0]
    known = sorted(set().union(*(f.packages for f in FAMILIES)) - _NO_CLOUD)
    return f"provider package {package!r} is not one the rules know (they know {', '.join(known)})"


def review_key(type_token: str, name: str) -> str:
    """The ``inferstack:policy.reviewedResources`` key of a resource: ``<type token>::<logical name>``."""
    return f"{type_token}::{name}"


def reviewed_reason(reviewed: Mapping[str, Any], type_token: str, name: str, urn: str) -> str | None:
    """The reason a resource was reviewed: the entry named ``<type>::<name>`` or by its URN; None when none is."""
    for key in (review_key(type_token, name), urn):
        reason = reviewed.get(key)
        if isinstance(reason, str) and reason.strip():
            return reason
    return None


def _opaque(args: ResourceValidationArgs, report) -> None:
    if args.provider is None:
        # A component resource (Pulumi hands policies components too; only custom resources carry a provider, the
        # package's default one when none is given): it creates nothing itself, the rules judge its children.
        return
    blind = blind_families(args.resource_type)
    if not blind:
        return
    reason = reviewed_reason((args.get_config() or {}).get("reviewedResources") or {}, args.resource_type, args.name, args.urn)
    if reason is not None:
        args.not_applicable(f"reviewed: {reason}")
    families = ", ".join(f.name for f in blind)
    report(
        f"{args.name} ({args.resource_type}, {args.urn}): not evaluated for {families}: "
        f"{why_opaque(args.resource_type)}. Review what it creates ({'; '.join(f.control for f in blind)}), then "
        f"acknowledge it in inferstack:policy.reviewedResources: {review_key(args.resource_type, args.name)!r}: <reason>."
    )


def _reviewed_resources(settings: PolicySettings) -> dict[str, Any]:
    return {"reviewedResources": dict(sorted(settings.policy.reviewed_resources.items()))}


ENTRIES = [
    PolicyEntry(ResourceValidationPolicy(
        name=POLICY,
        description="Resources the encryption, exposure and residency rules cannot see inside (dynamic providers, "
                    "types of provider packages no rule knows) are reviewed: acknowledged per resource with a reason.",
        validate=_opaque,
        config_schema=PolicyConfigSchema(properties={
            "reviewedResources": {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}},
        }),
        remediation_steps="Review what the resource creates (encryption, exposure, region), then add it to "
                          "inferstack:policy.reviewedResources ('<type>::<name>': reason) and regenerate the pack config; "
                          "or replace it with resources of a provider the pack knows.",
    ), ADVISORY_IN_DEV, _reviewed_resources,
       controls=("NIST 800-53 CM-8", "NIST 800-53 SC-28", "NIST 800-53 SC-7", "NIST 800-53 SA-9(5)"),
       clouds={"aws", "gcp", "kubernetes"}, not_evaluated=True),
]
