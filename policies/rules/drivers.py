"""Accelerator drivers and runtimes: every accelerator node group declares the catalogue's expected node image,
driver and container runtime (``inferstack.catalog.drivers``), so a live check can compare them with what the nodes
run (Kubernetes AI Conformance ``driver_runtime_management``, KAR-0001); GKE GPU pools let GKE install the
catalogue's driver."""

from __future__ import annotations

from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy

from inferstack.catalog.accelerators import ACCELERATOR_LABEL, CATALOG, Family
from inferstack.catalog.clouds import Cloud
from inferstack.catalog.drivers import DRIVER_LABELS, expectation
from inferstack.catalog.versions import GKE_GPU_DRIVER_VERSION
from inferstack.policies.entry import ADVISORY_IN_DEV, PolicyEntry
from inferstack.policies.rules.common import get

NODEPOOL = "kubernetes:karpenter.sh/v1:NodePool"
GKE_POOL = "gcp:container/nodePool:NodePool"


def _labels(args: ResourceValidationArgs) -> dict:
    if args.resource_type == NODEPOOL:
        return get(args.props, "spec", "template", "metadata", "labels") or {}
    return get(args.props, "nodeConfig", "labels") or {}


def _drivers_declared(args: ResourceValidationArgs, report) -> None:
    if args.resource_type not in (NODEPOOL, GKE_POOL):
        return
    labels = _labels(args)
    kind = labels.get(ACCELERATOR_LABEL)
    if not isinstance(kind, str) or kind not in CATALOG:
        return  # not an accelerator node group of a catalogue kind
    cloud = Cloud.AWS if args.resource_type == NODEPOOL else Cloud.GCP
    exp = expectation(cloud, kind)
    if exp is None:
        return  # the kind's family is not offered on this cloud: the pool checks refuse it
    want = exp.labels()
    wrong = [f"{k}={labels.get(k)!s} (expected {want[k]})" for k in DRIVER_LABELS if labels.get(k) != want[k]]
    if wrong:
        report(f"{kind} nodes do not declare the catalogue's driver and runtime: {'; '.join(wrong)}. Label them as "
               f"inferstack.catalog.drivers expects for {cloud.value} ({exp.installed_by}).")
    if cloud is Cloud.GCP and CATALOG[kind].family is Family.NVIDIA:
        for acc in get(args.props, "nodeConfig", "guestAccelerators") or []:
            version = get(acc, "gpuDriverInstallationConfig", "gpuDriverVersion")
            if version != GKE_GPU_DRIVER_VERSION:
                report(f"guestAccelerators {acc.get('type')}: gpuDriverInstallationConfig.gpuDriverVersion is "
                       f"{version or 'unset'}; GKE must install the catalogue's driver ({GKE_GPU_DRIVER_VERSION}), or "
                       "the nodes have none the labels can vouch for.")


ENTRIES = [
    PolicyEntry(ResourceValidationPolicy(
        name="accelerator-drivers-declared",
        description="Accelerator node groups declare the catalogue's node image, driver and runtime (node labels); "
                    "GKE installs the GPU driver.",
        validate=_drivers_declared,
        remediation_steps="Label accelerator nodes with inferstack.io/node-image, inferstack.io/driver and "
                          "inferstack.io/runtime as inferstack.catalog.drivers gives them (inferstack's node pools "
                          "do); on GKE set guest_accelerators[].gpu_driver_installation_config.gpu_driver_version to "
                          "the catalogue's version.",
    ), ADVISORY_IN_DEV, types=(NODEPOOL, GKE_POOL),
       controls=("NIST 800-53 CM-2", "NIST 800-53 CM-8")),
]
