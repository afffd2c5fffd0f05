"""Expected accelerator drivers and container runtimes per cloud, accelerator family and node image.

What the nodes of each accelerator pool are expected to run, so that a policy (``accelerator-drivers-declared``) and
the conformance report (``driver_runtime_management``) can check the declared pools, and a live check (KAR-0001) can
compare a node's actual versions with what its labels declare. Every accelerator node carries three labels:

- ``inferstack.io/node-image``: the node image the driver comes with;
- ``inferstack.io/driver``: the expected kernel driver (NVIDIA driver branch, Neuron DKMS driver, GKE-managed);
- ``inferstack.io/runtime``: the expected container-side runtime (NVIDIA Container Toolkit, Neuron SDK, libtpu).

Sources, checked 2026-12-06:

- EKS: ``github.com/awslabs/amazon-eks-ami`` CHANGELOG, release v20260714 (the newest release of the snapshot read),
  Kubernetes 1.35 AL2023 packages: ``kmod-nvidia-latest-dkms`` 580.159.03 and ``nvidia-container-toolkit`` 1.19.1
  (AL2023_x86_64_NVIDIA), ``aws-neuronx-dkms`` 2.29.0.0 (AL2023_x86_64_NEURON), containerd 2.2.4. The stack pins
  :data:`~inferstack.catalog.versions.EKS_AL2023_AMI_ALIAS` (v20260903), whose release notes were not in that
  snapshot: the NVIDIA expectation is therefore the driver *branch* (R580: runs CUDA up to 13.0, whose toolkit
  needs driver >= 580.65.06), which the AMI's ``kmod-nvidia-latest-dkms`` has shipped in the 21 most recent releases read (to v20260714), and the exact versions seen are kept in
  :attr:`DriverExpectation.observed`. A live check (docs/conformance.md) reads the node's actual version.
- Neuron SDK: the ``neuron-helm-chart`` 1.9.0 release is Neuron SDK 2.31.0, the vLLM-Neuron image is SDK 2.31.1
  (:data:`~inferstack.catalog.versions.CHARTS`, :data:`~inferstack.catalog.versions.IMAGES`): SDK line 2.31.
- GKE NVIDIA: GKE installs the driver (``gpu_driver_installation_config.gpu_driver_version``,
  :data:`~inferstack.catalog.versions.GKE_GPU_DRIVER_VERSION` = ``LATEST``: the newest driver GKE qualifies for the
  node's COS version), with its own container runtime configuration and device plugin.
- GKE TPU: GKE's TPU node image carries the TPU driver; the TPU runtime (libtpu) ships in the model-server image
  (``vllm-tpu``, :data:`~inferstack.catalog.versions.IMAGES`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from inferstack.catalog.accelerators import CATALOG, Family
from inferstack.catalog.clouds import Cloud
from inferstack.catalog.versions import EKS_AL2023_AMI_ALIAS, GKE_GPU_DRIVER_VERSION, IMAGES

#: Node labels every accelerator node carries (see the module docstring).
NODE_IMAGE_LABEL = "inferstack.io/node-image"
DRIVER_LABEL = "inferstack.io/driver"
RUNTIME_LABEL = "inferstack.io/runtime"
DRIVER_LABELS = (NODE_IMAGE_LABEL, DRIVER_LABEL, RUNTIME_LABEL)

#: When the expectations were last checked against their sources.
CHECKED = "2026-12-06"


@dataclass(frozen=True)
class DriverExpectation:
    """What the nodes of one (cloud, accelerator family) run: node image, driver and runtime, and who installs them."""

    cloud: Cloud
    family: Family
    #: The node image (EKS AMI alias, GKE node image).
    node_image: str
    #: The kernel driver and its expected version (a branch where the image tracks one).
    driver: str
    driver_version: str
    #: The container-side runtime and its expected version.
    runtime: str
    runtime_version: str
    #: Who installs and upgrades the driver.
    installed_by: str
    #: Newest CUDA version the driver branch runs (NVIDIA; None where GKE picks the driver).
    cuda: str | None
    #: Exact versions seen in the source release (component -> version), for the live comparison.
    observed: tuple[tuple[str, str], ...]
    source: str

    def labels(self) -> dict[str, str]:
        """The node labels declaring this expectation (label values: at most 63 of ``[A-Za-z0-9._-]``)."""
        return {
            NODE_IMAGE_LABEL: label_value(self.node_image),
            DRIVER_LABEL: label_value(f"{self.driver}-{self.driver_version}"),
            RUNTIME_LABEL: label_value(f"{self.runtime}-{self.runtime_version}"),
        }


def label_value(text: str) -> str:
    """``text`` as a Kubernetes label value: other characters become ``-``, trimmed to 63, alphanumeric at both ends."""
    value = re.sub(r"[^A-Za-z0-9._-]+", "-", text)[:63]
    return value.strip("-_.")


_EKS_AMI_SOURCE = "github.com/awslabs/amazon-eks-ami CHANGELOG (release v20260714, Kubernetes 1.35, AL2023)"
_VLLM_TPU_TAG = IMAGES["vllm-tpu"].rsplit(":", 1)[1]

EXPECTATIONS: dict[tuple[Cloud, Family], DriverExpectation] = {
    (e.cloud, e.family): e
    for e in (
        DriverExpectation(
            Cloud.AWS, Family.NVIDIA, node_image=EKS_AL2023_AMI_ALIAS, driver="nvidia", driver_version="580",
            runtime="nvidia-ctk", runtime_version="1.19", installed_by="EKS AL2023 NVIDIA AMI (Karpenter alias)", cuda="13.0",
            observed=(("kmod-nvidia-latest-dkms", "580.159.03"), ("nvidia-container-toolkit", "1.19.1"),
                      ("containerd", "2.2.4")),
            source=_EKS_AMI_SOURCE,
        ),
        DriverExpectation(
            Cloud.AWS, Family.NEURON, node_image=EKS_AL2023_AMI_ALIAS, driver="neuronx-dkms", driver_version="2.29",
            runtime="neuron-sdk", runtime_version="2.31", installed_by="EKS AL2023 Neuron AMI (Karpenter alias)", cuda=None,
            observed=(("aws-neuronx-dkms", "2.29.0.0"), ("containerd", "2.2.4")),
            source=_EKS_AMI_SOURCE + "; Neuron SDK of neuron-helm-chart 1.9.0 and the vLLM-Neuron image",
        ),
        DriverExpectation(
            Cloud.GCP, Family.NVIDIA, node_image="gke-cos", driver="gke-nvidia",
            driver_version=GKE_GPU_DRIVER_VERSION.lower(), runtime="gke-nvidia", runtime_version="managed",
            installed_by="GKE (gpu_driver_installation_config)", cuda=None,
            observed=(("gpu_driver_version", GKE_GPU_DRIVER_VERSION),),
            source="GKE node pool gpu_driver_installation_config (pulumi-gcp guest_accelerators)",
        ),
        DriverExpectation(
            Cloud.GCP, Family.TPU, node_image="gke-cos", driver="gke-tpu", driver_version="managed",
            runtime="libtpu-vllm-tpu", runtime_version=_VLLM_TPU_TAG, installed_by="GKE (TPU node image)",
            cuda=None,
            observed=(("vllm-tpu image", IMAGES["vllm-tpu"]),),
            source="GKE TPU node image; libtpu in the vllm-tpu model-server image",
        ),
    )
}


def expectation(cloud: Cloud, kind: str) -> DriverExpectation | None:
    """The expectation for nodes of accelerator ``kind`` on ``cloud`` (None: unknown kind or a family not offered)."""
    acc = CATALOG.get(kind)
    return EXPECTATIONS.get((cloud, acc.family)) if acc is not None else None


def driver_labels(cloud: Cloud, kind: str) -> dict[str, str]:
    """The driver labels of a node of ``kind`` on ``cloud`` ({} when the catalogue has no expectation for it)."""
    exp = expectation(cloud, kind)
    return exp.labels() if exp is not None else {}
