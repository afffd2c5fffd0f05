"""Cluster lifecycle: EKS versions inside standard support."""

from __future__ import annotations

import datetime as dt

from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy

from inferstack.catalog.versions import EKS_STANDARD_SUPPORT_END
from inferstack.policies.entry import ADVISORY_IN_DEV, PolicyEntry

EKS_CLUSTER = "aws:eks/cluster:Cluster"


def today() -> dt.date:
    return dt.date.today()


def _version(args: ResourceValidationArgs, report) -> None:
    version = args.props.get("version")
    if version is None:
        report("EKS cluster must pin version (an unpinned version follows EKS's default and can leave standard support).")
        return
    version = ".".join(str(version).split(".")[:2])
    end = EKS_STANDARD_SUPPORT_END.get(version)
    if end is None:
        known = sorted(EKS_STANDARD_SUPPORT_END, key=lambda v: tuple(int(x) for x in v.split(".")))
        if known and tuple(int(x) for x in version.split(".")) < tuple(int(x) for x in known[0].split(".")):
            report(f"EKS {version} is older than every version in the support catalogue ({known[0]}+): past standard support.")
        elif not known or tuple(int(x) for x in version.split(".")) <= tuple(int(x) for x in known[-1].split(".")):
            report(f"EKS {version} is not in the support catalogue (inferstack.catalog.versions).")
        return
    if dt.date.fromisoformat(end) < today():
        report(f"EKS {version} left standard support on {end} (extended support is billed and time-limited); upgrade.")


ENTRIES = [
    PolicyEntry(ResourceValidationPolicy(
        name="cluster-version-supported", description="EKS clusters run a Kubernetes version in standard support.",
        validate=_version, remediation_steps="Upgrade the cluster (inferstack:cluster version) to a version in standard support.",
    ), ADVISORY_IN_DEV, types=(EKS_CLUSTER,), controls=("FSBP EKS.2", "CIS EKS 5.5.1")),
]
