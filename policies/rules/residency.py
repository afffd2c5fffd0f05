"""Region residency, failing closed: every regional resource must be inside allowedRegions.

A resource of a type the rules cannot see inside (a dynamic provider's, a type of a provider package no rule knows:
:mod:`~inferstack.policies.rules.opaque`) that names no region is left to ``opaque-resources-reviewed``, which fails
closed on it (mandatory in staging and prod) and accepts a review with a reason; a region it does name is judged here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyConfigSchema, PolicyResource, StackValidationArgs, StackValidationPolicy

from inferstack.config.policy import PolicySettings
from inferstack.policies import families
from inferstack.policies.entry import MANDATORY, PolicyEntry
from inferstack.policies.rules.common import get, is_unknown
from inferstack.policies.rules.opaque import is_opaque

#: Type prefixes of services without a region (global control planes) or of no cloud at all.
GLOBAL_TYPE_PREFIXES = (
    "kubernetes:",
    "pulumi:",
    "random:",
    "tls:",
    "inferstack:",
    "aws:iam/",
    "aws:route53/",
    "aws:cloudfront/",
    "aws:organizations/",
    "gcp:projects/",
    "gcp:serviceaccount/",
    "gcp:organizations/",
)
ZONE = re.compile(r"^([a-z]+-[a-z]+\d+)-[a-z]$")
AWS_AZ = re.compile(r"^([a-z]{2}(-gov)?-[a-z]+-\d)[a-z]$")


def normalize(location: str) -> str:
    """Zone -> region (europe-west4-a -> europe-west4, eu-west-1a -> eu-west-1); lower case."""
    loc = location.lower()
    for rx in (ZONE, AWS_AZ):
        m = rx.match(loc)
        if m:
            return m.group(1)
    return loc


def locations_of(res: PolicyResource) -> list[object]:
    """Every region/location the resource names, or its provider's region when it names none."""
    p = res.props
    found: list[object] = []
    if res.resource_type == "gcp:secretmanager/secret:Secret" and get(p, "replication", "auto") is not None:
        return ["automatic (Google-chosen regions)"]  # Secret Manager auto replication: any region
    for key in ("region", "location", "zone", "availabilityZone"):
        # a structured location (an S3 directory bucket's {name: <AZ id>, type: AvailabilityZone}) names no region:
        # the resource's region input or its provider's region does
        if key in p and p[key] is not None and not isinstance(p[key], Mapping):
            found.append(p[key])
    for key in ("nodeLocations", "availabilityZones"):
        found.extend(p.get(key) or [])
    found.extend(get(r, "location") for r in get(p, "replication", "userManaged", "replicas") or [])
    if found:
        return found
    if res.provider is not None:
        region = res.provider.props.get("region")
        return [region] if region is not None else [None]
    return [None]


def _residency(args: StackValidationArgs, report) -> None:
    cfg = args.get_config() or {}
    allowed = {r.lower() for r in cfg.get("allowedRegions") or []}
    exempt = GLOBAL_TYPE_PREFIXES + tuple(cfg.get("exemptTypes") or ())
    for res in args.resources:
        if res.resource_type.startswith(exempt):
            continue
        for loc in locations_of(res):
            if loc is None or is_unknown(loc):
                if is_opaque(res.resource_type, "residency"):
                    # A type whose location the rules cannot know (a dynamic provider's, an unknown package's):
                    # opaque-resources-reviewed reports it, and a review with a reason acknowledges it.
                    continue
                report(f"{res.name} ({res.resource_type}): region unknown; residency fails closed. Set region/location explicitly.", res.urn)
            elif normalize(str(loc)) not in allowed:
                report(f"{res.name} ({res.resource_type}): location {loc!r} is outside allowedRegions {sorted(allowed)}.", res.urn)




S3_REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
#: Every S3 bucket type (Bucket, BucketV2, DirectoryBucket ...): a family generated from the SDK.
S3_BUCKETS = "aws-s3-bucket"
DYNAMODB_TABLE = "aws:dynamodb/table:Table"
AWS_SECRET = "aws:secretsmanager/secret:Secret"
GCS_BUCKET = "gcp:storage/bucket:Bucket"


def _region_of(res: PolicyResource) -> object:
    region = res.props.get("region")
    if region is None and res.provider is not None:
        region = res.provider.props.get("region")
    return region


def _replicas(args: StackValidationArgs) -> list[tuple[PolicyResource, str, object]]:
    """(resource, what, location) of every replica the stack declares; an unresolvable location is None."""
    buckets: dict[str, PolicyResource] = {}
    bucket_types = families.members(S3_BUCKETS)
    for r in args.resources:
        if r.resource_type in bucket_types:
            for key in ("bucket", "arn"):
                v = r.props.get(key)
                if isinstance(v, str) and not is_unknown(v):
                    buckets[v] = buckets[f"arn:aws:s3:::{v}" if key == "bucket" else v] = r
    out: list[tuple[PolicyResource, str, object]] = []
    for r in args.resources:
        p = r.props
        if r.resource_type == S3_REPLICATION:
            for rule in p.get("rules") or []:
                dest = get(rule, "destination", "bucket")
                target = buckets.get(dest) if isinstance(dest, str) else None
                out.append((r, f"replication destination {dest}", _region_of(target) if target is not None else None))
        elif r.resource_type == DYNAMODB_TABLE:
            out += [(r, "global table replica", get(x, "regionName")) for x in p.get("replicas") or []]
        elif r.resource_type == AWS_SECRET:
            out += [(r, "secret replica", get(x, "region")) for x in p.get("replicas") or []]
        elif r.resource_type == GCS_BUCKET:
            out += [(r, "dual-region data location", x) for x in get(p, "customPlacementConfig", "dataLocations") or []]
    return out


def _replica_residency(args: StackValidationArgs, report) -> None:
    allowed = {r.lower() for r in (args.get_config() or {}).get("allowedRegions") or []}
    for res, what, loc in _replicas(args):
        if loc is None or is_unknown(loc):
            report(f"{res.name}: {what}: region unknown (not a bucket of this stack, or not known); residency fails closed.", res.urn)
        elif normalize(str(loc)) not in allowed:
            report(f"{res.name}: {what} in {loc!r} is outside allowedRegions {sorted(allowed)}.", res.urn)


def _allowed_regions(settings: PolicySettings) -> dict[str, Any]:
    return {"allowedRegions": list(settings.allowed_regions)}


ENTRIES = [
    PolicyEntry(StackValidationPolicy(
        name="region-residency",
        description="Every regional resource is in an allowed region; unknown regions are violations.",
        validate=_residency,
        config_schema=PolicyConfigSchema(
            properties={
                "allowedRegions": {"type": "array", "items": {"type": "string"}},
                "exemptTypes": {"type": "array", "items": {"type": "string"}},  # added to GLOBAL_TYPE_PREFIXES
            }
        ),
        remediation_steps="Use a provider/region/location from inferstack:residency.allowedRegions.",
    ), MANDATORY, _allowed_regions,
       controls=("NIST 800-53 SA-9(5)",), clouds={"aws", "gcp"}),
]
ENTRIES.append(PolicyEntry(StackValidationPolicy(
    name="replica-residency",
    description="Replicas stay in allowed regions: S3 replication destinations, DynamoDB global table replicas, "
                "Secrets Manager replicas, GCS dual-region locations; an unresolvable destination fails closed.",
    validate=_replica_residency,
    config_schema=PolicyConfigSchema(properties={"allowedRegions": {"type": "array", "items": {"type": "string"}}}),
    remediation_steps="Replicate only to regions of inferstack:residency.allowedRegions, to buckets declared in the stack.",
), MANDATORY, _allowed_regions, clouds={"aws", "gcp"}, controls=("NIST 800-53 SA-9(5)", "NIST 800-53 CP-6")))
