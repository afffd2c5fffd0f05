"""GPU sharing and allocation data: NVIDIA MIG profiles per GPU product, time-slicing bounds, and the DRA driver's
device vocabulary.

MIG profiles: NVIDIA Multi-Instance GPU User Guide, "Supported MIG Profiles"
(https://docs.nvidia.com/datacenter/tesla/mig-user-guide/supported-mig-profiles.html), checked 2026-12-06. Per
product, each profile's memory (GB, as NVIDIA names it) and the number of instances of that profile one GPU holds.
Only the catalogue's MIG-capable kinds are listed (A100 40 GB: the catalogue's ``nvidia-a100``; H100 80 GB); the
``+me`` (media extension) variants are left out: one per GPU, not a unit to plan capacity with. T4, A10G, L4 and
L40S have no MIG.

DRA vocabulary: NVIDIA DRA Driver for GPUs v25.12.0 (github.com/NVIDIA/k8s-dra-driver-gpu,
``cmd/gpu-kubelet-plugin/deviceinfo.go``, ``deployments/helm/nvidia-dra-driver-gpu/templates/deviceclass-*.yaml``):
driver ``gpu.nvidia.com``; attributes ``type`` (``gpu`` | ``mig``), ``productName`` (e.g. ``NVIDIA A100-SXM4-40GB``),
``profile`` (MIG), capacity ``memory``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MigProfile:
    """One MIG profile of a GPU product: ``1g.10gb`` is 1 compute slice with 10 GB."""

    name: str
    memory_gb: int
    #: Instances of this profile one GPU holds (all the same profile).
    per_gpu: int


#: MIG profiles per accelerator kind (see the module docstring for the source).
MIG_PROFILES: dict[str, tuple[MigProfile, ...]] = {
    "nvidia-a100": (
        MigProfile("1g.5gb", 5, 7),
        MigProfile("1g.10gb", 10, 4),
        MigProfile("2g.10gb", 10, 3),
        MigProfile("3g.20gb", 20, 2),
        MigProfile("4g.20gb", 20, 1),
        MigProfile("7g.40gb", 40, 1),
    ),
    "nvidia-h100": (
        MigProfile("1g.10gb", 10, 7),
        MigProfile("1g.20gb", 20, 4),
        MigProfile("2g.20gb", 20, 3),
        MigProfile("3g.40gb", 40, 2),
        MigProfile("4g.40gb", 40, 1),
        MigProfile("7g.80gb", 80, 1),
    ),
}

#: Time-slicing: replicas per GPU the NVIDIA device plugin and GKE accept (GKE ``max_shared_clients_per_gpu`` is at
#: most 48).
TIME_SLICING_MAX_REPLICAS = 48

#: What a model names in ``gpu`` for a time-slice of a time-sliced pool.
TIME_SLICE = "shared"

#: DRA driver name of the NVIDIA DRA Driver for GPUs (``device.driver``; its attribute and capacity domain).
NVIDIA_DRA_DRIVER = "gpu.nvidia.com"
#: The DeviceClasses the driver's chart ships (whole GPUs, MIG devices).
NVIDIA_GPU_DEVICE_CLASS = "gpu.nvidia.com"
NVIDIA_MIG_DEVICE_CLASS = "mig.nvidia.com"

#: ``productName`` substring (lower case) of each NVIDIA kind, for CEL selectors (``nvidia-smi`` names: ``Tesla T4``,
#: ``NVIDIA A10G``, ``NVIDIA L4``, ``NVIDIA L40S``, ``NVIDIA A100-SXM4-40GB``, ``NVIDIA H100 80GB HBM3``).
NVIDIA_PRODUCT_MATCH: dict[str, str] = {
    "nvidia-t4": "t4",
    "nvidia-a10g": "a10g",
    "nvidia-l4": "l4",
    "nvidia-l40s": "l40s",
    "nvidia-a100": "a100",
    "nvidia-h100": "h100",
}


def mig_profiles(kind: str) -> tuple[MigProfile, ...]:
    """The MIG profiles of ``kind`` (empty: no MIG)."""
    return MIG_PROFILES.get(kind, ())


def mig_profile(kind: str, name: str) -> MigProfile:
    """Profile ``name`` of ``kind``; ValueError naming the allowed ones (or saying the kind has no MIG)."""
    profiles = mig_profiles(kind)
    if not profiles:
        with_mig = ", ".join(sorted(MIG_PROFILES))
        raise ValueError(f"{kind} has no MIG profiles; MIG-capable kinds: {with_mig}")
    for p in profiles:
        if p.name == name:
            return p
    raise ValueError(f"{name!r} is not a MIG profile of {kind}; allowed: {', '.join(p.name for p in profiles)}")


def product_selector(kind: str) -> str:
    """CEL expression matching a device of the NVIDIA DRA driver whose product is ``kind``."""
    match = NVIDIA_PRODUCT_MATCH[kind]
    return (
        f"device.driver == '{NVIDIA_DRA_DRIVER}' && "
        f"device.attributes['{NVIDIA_DRA_DRIVER}'].productName.lowerAscii().matches('^.*{match}.*$')"
    )


def memory_selector(gib: float) -> str:
    """CEL expression matching a device with at least ``gib`` GiB of memory (the driver's ``memory`` capacity)."""
    return f"device.capacity['{NVIDIA_DRA_DRIVER}'].memory.compareTo(quantity('{int(gib)}Gi')) >= 0"
