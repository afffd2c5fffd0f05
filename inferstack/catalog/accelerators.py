"""The accelerator catalog: the one vocabulary both clouds and serving share.

Stack config names accelerator *kinds* (``nvidia-l4``, ``aws-inferentia2``, ``tpu-v5e``), never instance or
machine types. Each kind maps, per cloud, to the node shapes that carry it, the Kubernetes extended resource
that exposes it, the taint that keeps other pods off it, and its memory per device. Nodes of every accelerator
pool carry the label ``inferstack.io/accelerator=<kind>`` so serving selects nodes without asking which cloud
it runs on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from inferstack.catalog import zones_data
from inferstack.catalog.clouds import Cloud

#: Node label set on every accelerator node, on both clouds; serving's nodeSelector uses it.
ACCELERATOR_LABEL = "inferstack.io/accelerator"
#: Node label naming the inferstack pool a node belongs to.
POOL_LABEL = "inferstack.io/pool"
#: GKE node labels TPU pods must select (GKE schedules TPU pods only with both).
GKE_TPU_ACCELERATOR_LABEL = "cloud.google.com/gke-tpu-accelerator"
GKE_TPU_TOPOLOGY_LABEL = "cloud.google.com/gke-tpu-topology"


class Family(str, Enum):
    """Device family: decides the device plugin, the extended resource and the taint."""

    NVIDIA = "nvidia"
    NEURON = "neuron"
    TPU = "tpu"


#: Extended resource name per family (what a pod requests in ``resources.limits``).
DEVICE_RESOURCE: dict[Family, str] = {
    Family.NVIDIA: "nvidia.com/gpu",
    Family.NEURON: "aws.amazon.com/neuron",
    Family.TPU: "google.com/tpu",
}

#: Taint key per family; accelerator nodes carry ``<key>=true:NoSchedule``.
TAINT_KEY: dict[Family, str] = dict(DEVICE_RESOURCE)


@dataclass(frozen=True)
class Shape:
    """One node shape carrying an accelerator: an EC2 instance type or a GCE machine type."""

    name: str
    devices: int
    vcpu: int
    memory_gib: int
    #: TPU slice topology served by this shape alone (single host), e.g. ``2x4``.
    tpu_topology: str | None = None


@dataclass(frozen=True)
class Accelerator:
    """One accelerator kind and where it is offered."""

    kind: str
    family: Family
    description: str
    device_memory_gib: int
    offerings: dict[Cloud, tuple[Shape, ...]]
    #: GCE accelerator type (``guest_accelerators[].type`` for GPUs, ``cloud.google.com/gke-tpu-accelerator`` for TPUs).
    gcp_accelerator_type: str | None = None
    #: Multi-host TPU slice topologies (GKE, placement policy COMPACT), beyond the single-host shapes.
    tpu_multi_host_topologies: tuple[str, ...] = ()
    #: GCP regions in which the kind is offered (empty: not offered on GCP).
    gcp_regions: frozenset[str] = field(default_factory=frozenset)
    #: TPU kinds: the zones offering them, per region (TPU slices are zonal); GPU kinds use the cluster's zones.
    gcp_zones: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: Compute cores per device that a model server shards over (NeuronCores per Neuron device); 1 for GPUs and TPU chips.
    cores_per_device: int = 1

    @property
    def device_resource(self) -> str:
        return DEVICE_RESOURCE[self.family]

    @property
    def taint_key(self) -> str:
        return TAINT_KEY[self.family]

    def shapes(self, cloud: Cloud) -> tuple[Shape, ...]:
        return self.offerings.get(cloud, ())

    def shape(self, cloud: Cloud, name: str | None = None) -> Shape:
        """The named shape, or the smallest one, on ``cloud``."""
        shapes = self.shapes(cloud)
        if not shapes:
            raise KeyError(f"{self.kind} is not offered on {cloud.value}")
        if name is None:
            return shapes[0]
        for s in shapes:
            if s.name == name:
                return s
        raise KeyError(f"{name} does not carry {self.kind}; allowed: {', '.join(s.name for s in shapes)}")


def _gcp_regions(kind: str) -> frozenset[str]:
    """Regions offering ``kind`` on GCP (generated ``zones_data``: with a zone list, or known without one)."""
    return frozenset(zones_data.GCP_ACCELERATOR_ZONES.get(kind, {})) | frozenset(
        zones_data.GCP_ACCELERATOR_REGIONS_WITHOUT_ZONES.get(kind, ())
    )


def _gcp_zones(kind: str) -> dict[str, tuple[str, ...]]:
    """Region -> zones offering ``kind`` on GCP (generated ``zones_data``)."""
    return dict(zones_data.GCP_ACCELERATOR_ZONES.get(kind, {}))

CATALOG: dict[str, Accelerator] = {
    a.kind: a
    for a in [
        Accelerator(
            kind="nvidia-t4",
            family=Family.NVIDIA,
            description="NVIDIA T4, 16 GiB: small models, cheap batch inference",
            device_memory_gib=16,
            offerings={
                Cloud.AWS: (Shape("g4dn.xlarge", 1, 4, 16), Shape("g4dn.2xlarge", 1, 8, 32), Shape("g4dn.12xlarge", 4, 48, 192)),
                Cloud.GCP: (Shape("n1-standard-8", 1, 8, 30), Shape("n1-standard-32", 4, 32, 120)),
            },
            gcp_accelerator_type="nvidia-tesla-t4",
            gcp_regions=_gcp_regions("nvidia-t4"),
        ),
        Accelerator(
            kind="nvidia-a10g",
            family=Family.NVIDIA,
            description="NVIDIA A10G, 24 GiB (AWS G5)",
            device_memory_gib=24,
            offerings={
                Cloud.AWS: (
                    Shape("g5.xlarge", 1, 4, 16),
                    Shape("g5.2xlarge", 1, 8, 32),
                    Shape("g5.12xlarge", 4, 48, 192),
                    Shape("g5.48xlarge", 8, 192, 768),
                ),
            },
        ),
        Accelerator(
            kind="nvidia-l4",
            family=Family.NVIDIA,
            description="NVIDIA L4, 24 GiB: efficient mid-size inference",
            device_memory_gib=24,
            offerings={
                Cloud.AWS: (Shape("g6.xlarge", 1, 4, 16), Shape("g6.2xlarge", 1, 8, 32), Shape("g6.12xlarge", 4, 48, 192)),
                Cloud.GCP: (Shape("g2-standard-8", 1, 8, 32), Shape("g2-standard-24", 2, 24, 96), Shape("g2-standard-48", 4, 48, 192)),
            },
            gcp_accelerator_type="nvidia-l4",
            gcp_regions=_gcp_regions("nvidia-l4"),
        ),
        Accelerator(
            kind="nvidia-l40s",
            family=Family.NVIDIA,
            description="NVIDIA L40S, 48 GiB (AWS G6e)",
            device_memory_gib=48,
            offerings={
                Cloud.AWS: (Shape("g6e.xlarge", 1, 4, 32), Shape("g6e.2xlarge", 1, 8, 64), Shape("g6e.12xlarge", 4, 48, 384)),
            },
        ),
        Accelerator(
            kind="nvidia-a100",
            family=Family.NVIDIA,
            description="NVIDIA A100, 40 GiB",
            device_memory_gib=40,
            offerings={
                Cloud.AWS: (Shape("p4d.24xlarge", 8, 96, 1152),),
                Cloud.GCP: (Shape("a2-highgpu-1g", 1, 12, 85), Shape("a2-highgpu-2g", 2, 24, 170), Shape("a2-highgpu-8g", 8, 96, 680)),
            },
            gcp_accelerator_type="nvidia-tesla-a100",
            gcp_regions=_gcp_regions("nvidia-a100"),
        ),
        Accelerator(
            kind="nvidia-h100",
            family=Family.NVIDIA,
            description="NVIDIA H100, 80 GiB: large language models",
            device_memory_gib=80,
            offerings={
                Cloud.AWS: (Shape("p5.48xlarge", 8, 192, 2048),),
                Cloud.GCP: (Shape("a3-highgpu-8g", 8, 208, 1872),),
            },
            gcp_accelerator_type="nvidia-h100-80gb",
            gcp_regions=_gcp_regions("nvidia-h100"),
        ),
        Accelerator(
            kind="aws-inferentia2",
            family=Family.NEURON,
            description="AWS Inferentia2, 32 GiB per device (2 NeuronCores)",
            device_memory_gib=32,
            offerings={
                Cloud.AWS: (
                    Shape("inf2.xlarge", 1, 4, 16),
                    Shape("inf2.8xlarge", 1, 32, 128),
                    Shape("inf2.24xlarge", 6, 96, 384),
                    Shape("inf2.48xlarge", 12, 192, 768),
                ),
            },
            cores_per_device=2,
        ),
        Accelerator(
            kind="aws-trainium1",
            family=Family.NEURON,
            description="AWS Trainium1, 32 GiB per device (2 NeuronCores)",
            device_memory_gib=32,
            offerings={Cloud.AWS: (Shape("trn1.2xlarge", 1, 8, 32), Shape("trn1.32xlarge", 16, 128, 512))},
            cores_per_device=2,
        ),
        Accelerator(
            kind="tpu-v5e",
            family=Family.TPU,
            description="Google TPU v5e (v5 lite), 16 GiB HBM per chip",
            device_memory_gib=16,
            offerings={
                Cloud.GCP: (
                    Shape("ct5lp-hightpu-1t", 1, 24, 48, "1x1"),
                    Shape("ct5lp-hightpu-4t", 4, 112, 192, "2x2"),
                    Shape("ct5lp-hightpu-8t", 8, 224, 384, "2x4"),
                ),
            },
            gcp_accelerator_type="tpu-v5-lite-podslice",
            tpu_multi_host_topologies=("4x4", "4x8", "8x8", "8x16", "16x16"),
            gcp_regions=_gcp_regions("tpu-v5e"),
            gcp_zones=_gcp_zones("tpu-v5e"),
        ),
        Accelerator(
            kind="tpu-v5p",
            family=Family.TPU,
            description="Google TPU v5p, 95 GiB HBM per chip",
            device_memory_gib=95,
            offerings={Cloud.GCP: (Shape("ct5p-hightpu-4t", 4, 208, 448, "2x2x1"),)},
            gcp_accelerator_type="tpu-v5p-slice",
            tpu_multi_host_topologies=("2x2x2", "2x2x4", "2x4x4", "4x4x4"),
            gcp_regions=_gcp_regions("tpu-v5p"),
            gcp_zones=_gcp_zones("tpu-v5p"),
        ),
        Accelerator(
            kind="tpu-v6e",
            family=Family.TPU,
            description="Google TPU v6e (Trillium), 32 GiB HBM per chip",
            device_memory_gib=32,
            offerings={
                Cloud.GCP: (
                    Shape("ct6e-standard-1t", 1, 44, 448, "1x1"),
                    Shape("ct6e-standard-4t", 4, 180, 720, "2x2"),
                    Shape("ct6e-standard-8t", 8, 180, 1440, "2x4"),
                ),
            },
            gcp_accelerator_type="tpu-v6e-slice",
            tpu_multi_host_topologies=("4x4", "4x8", "8x8", "8x16", "16x16"),
            gcp_regions=_gcp_regions("tpu-v6e"),
            gcp_zones=_gcp_zones("tpu-v6e"),
        ),
    ]
}


def topology_chips(topology: str) -> int:
    """Chips of a TPU topology: the product of its dimensions (``2x4`` -> 8, ``2x2x4`` -> 16)."""
    chips = 1
    for dim in topology.lower().split("x"):
        chips *= int(dim)
    return chips


def tpu_topologies(acc: Accelerator) -> tuple[str, ...]:
    """Every slice topology a TPU kind offers on GKE: its single-host shapes' topologies, then multi-host ones."""
    single = tuple(s.tpu_topology for s in acc.shapes(Cloud.GCP) if s.tpu_topology)
    return single + acc.tpu_multi_host_topologies


def tpu_host_shape(acc: Accelerator, topology: str) -> Shape:
    """The machine shape of each host of a ``topology`` slice: the single-host shape of that topology, or, for a
    multi-host slice, the 4-chip host shape. KeyError when the kind does not offer ``topology``."""
    shapes = acc.shapes(Cloud.GCP)
    for s in shapes:
        if s.tpu_topology == topology:
            return s
    if topology in acc.tpu_multi_host_topologies:
        return next(s for s in shapes if s.devices == 4)
    raise KeyError(f"{acc.kind} does not offer topology {topology}; allowed: {', '.join(tpu_topologies(acc))}")


def gke_tpu_labels(acc: Accelerator, topology: str) -> dict[str, str]:
    """The GKE node labels of a ``topology`` slice of TPU kind ``acc`` (what a TPU pod must select)."""
    return {GKE_TPU_ACCELERATOR_LABEL: acc.gcp_accelerator_type or "", GKE_TPU_TOPOLOGY_LABEL: topology}


def tpu_hosts(acc: Accelerator, topology: str) -> int:
    """Hosts (nodes) of one ``topology`` slice: 1 for single-host slices."""
    return max(1, topology_chips(topology) // tpu_host_shape(acc, topology).devices)


def kinds_for(cloud: Cloud) -> list[str]:
    """Kinds offered on ``cloud``, in catalog order."""
    return [k for k, a in CATALOG.items() if a.shapes(cloud)]


def lookup(kind: str, cloud: Cloud) -> Accelerator:
    """The catalog entry for ``kind``; ValueError naming the allowed kinds when it is unknown or not on ``cloud``."""
    acc = CATALOG.get(kind)
    if acc is None:
        raise ValueError(f"unknown accelerator kind {kind!r}; allowed on {cloud.value}: {', '.join(kinds_for(cloud))}")
    if not acc.shapes(cloud):
        raise ValueError(
            f"accelerator kind {kind!r} is not offered on {cloud.value}; allowed on {cloud.value}: {', '.join(kinds_for(cloud))}"
        )
    return acc
