"""Config of the platform itself: network, cluster and accelerator pools (the same keys on AWS and GCP)."""

from __future__ import annotations

import ipaddress
import re
from enum import Enum

from pydantic import Field, ValidationInfo, field_validator, model_validator

from inferstack.catalog import gpu_sharing
from inferstack.catalog.accelerators import CATALOG, Family
from inferstack.catalog.limits import CLOUDWATCH_RETENTION_DAYS, GKE_RELEASE_CHANNELS
from inferstack.catalog.versions import EKS_VERSION
from inferstack.config.base import StrictModel
from inferstack.config.patterns import KARPENTER_DURATION_PATTERN, KARPENTER_EXPIRY_PATTERN, UTC_TIME_PATTERN

_NAME = r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$"
#: A fully qualified Pulumi stack name, ``<organization>/<project>/<stack>`` (what ``pulumi.StackReference`` reads).
STACK_REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}/[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$"
#: A zone name of either cloud: ``us-east-1a`` (AWS), ``us-central1-a`` (GCP).
ZONE_NAME_PATTERN = r"[a-z]{2,}(?:-[a-z0-9]+)+-?[a-z]"


def cloudwatch_retention(days: int) -> int:
    """``days`` if CloudWatch Logs accepts it as a retention period, else a ValueError listing the allowed values."""
    if days not in CLOUDWATCH_RETENTION_DAYS:
        allowed = ", ".join(map(str, CLOUDWATCH_RETENTION_DAYS))
        raise ValueError(f"CloudWatch Logs does not accept a retention of {days} days; allowed: {allowed}")
    return days


def ipv4_network(value: str, example: str) -> ipaddress.IPv4Network:
    """``value`` as an IPv4 network (host bits zero), or a ValueError that shows ``example``."""
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError as err:
        raise ValueError(f"not an IPv4 network CIDR such as {example} ({err})") from None


class NetworkConfig(StrictModel):
    """VPC layout. On AWS: public subnets only for load balancers, private subnets for nodes, NAT; on GCP: one regional subnet."""

    cidr: str = Field("10.0.0.0/16", description="Primary CIDR block of the VPC (AWS) or node subnet (GCP).")
    availability_zones: int = Field(2, ge=2, le=3, description="Number of zones the nodes span (at least 2; 3 in prod).")
    zones: list[str] | None = Field(
        None,
        min_length=2,
        max_length=3,
        description=(
            "Zone names to use, in placement order (e.g. [ap-northeast-1a, ap-northeast-1c]); default: the first "
            "availabilityZones zones of the region in the zone catalogue. Required for a region the catalogue lacks."
        ),
    )
    nat_gateways: int = Field(1, ge=1, le=3, description="NAT gateways (AWS): 1 for dev, one per zone for prod.")
    flow_log_retention_days: int = Field(
        30, ge=1, le=3653, description="Retention of VPC flow logs, in days: a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ..., 3653)."
    )
    pods_cidr: str = Field("10.16.0.0/14", description="GKE secondary range for pods.")
    services_cidr: str = Field("10.20.0.0/20", description="GKE secondary range for services.")
    proxy_only_cidr: str = Field(
        "10.24.0.0/23", description="GCP proxy-only subnet of regional Envoy load balancers (the internal inference Gateway); /23 or larger."
    )

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        net = ipv4_network(v, "10.0.0.0/16")
        if net.prefixlen > 21:
            raise ValueError(f"{v} is too small: use a /21 or larger (a /16 is recommended)")
        return v

    @field_validator("zones")
    @classmethod
    def _zones(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        for z in v:
            if not re.fullmatch(ZONE_NAME_PATTERN, z):
                raise ValueError(f"{z!r} is not a zone name: lower-case ASCII letters, digits and dashes ending in a zone letter, e.g. us-east-1a or us-central1-a")
        dupes = sorted({z for z in v if v.count(z) > 1})
        if dupes:
            raise ValueError(f"zones must be distinct; listed more than once: {', '.join(dupes)}")
        return v

    @model_validator(mode="before")
    @classmethod
    def _zone_count_default(cls, data: object) -> object:
        # Listed zones set the zone count unless availabilityZones is given too (then the two must agree, below).
        if isinstance(data, dict) and isinstance(data.get("zones"), list) and len(data["zones"]) in (2, 3):
            if "availabilityZones" not in data and "availability_zones" not in data:
                return {**data, "availabilityZones": len(data["zones"])}
        return data

    @model_validator(mode="after")
    def _zone_count(self) -> NetworkConfig:
        if self.zones is not None and self.availability_zones != len(self.zones):
            raise ValueError(
                f"availabilityZones is {self.availability_zones} but zones lists {len(self.zones)}; drop availabilityZones "
                "(zones sets the count) or make them agree"
            )
        return self

    @field_validator("flow_log_retention_days")
    @classmethod
    def _flow_log_retention(cls, v: int) -> int:
        return cloudwatch_retention(v)


def team_group(namespace: str) -> str:
    """The Kubernetes group of a namespace's team: ``inferstack:team:<namespace>`` (bound by the team RBAC)."""
    return f"inferstack:team:{namespace}"


def deployer_group(namespace: str) -> str:
    """The Kubernetes group of a namespace's deployers: ``inferstack:team:<namespace>:deployers``."""
    return f"{team_group(namespace)}:deployers"


#: GKE access entries: Google principal prefix -> the RBAC subject kind it is bound as (by email).
GOOGLE_PRINCIPAL_KINDS = {"group": "Group", "user": "User", "serviceAccount": "User"}


class AccessEntry(StrictModel):
    """An IAM role (AWS) or Google group/user (GCP) mapped to Kubernetes groups."""

    principal: str = Field(
        description="IAM role ARN (AWS), or a Google principal group:<email>, user:<email> or serviceAccount:<email> (GCP)."
    )
    groups: list[str] = Field(
        description="Kubernetes groups the principal joins, bound by the team RBAC (GKE: team groups inferstack:team:<ns>[:deployers] only).",
        min_length=1,
    )


class EndpointAccess(str, Enum):
    """Where the cluster's Kubernetes API endpoint is reachable from."""

    PRIVATE = "private"  # from inside the VPC (and privateAccessCidrs) only
    PUBLIC = "public"  # also from the internet, restricted to publicAccessCidrs (the private endpoint stays on)


def endpoint_cidrs(values: list[str], key: str, *, private: bool) -> list[str]:
    """``values`` if each is an IPv4 network CIDR (host bits zero) that does not open the endpoint to the whole
    internet (``/0``) and, for ``private``, lies in a private range; else a ValueError naming the first bad one."""
    for c in values:
        net = ipv4_network(c, "198.51.100.0/24" if not private else "10.0.0.0/16")
        if net.prefixlen == 0:
            raise ValueError(
                f"{c} opens the Kubernetes API to the whole internet, which is never allowed; list the CIDRs of the "
                "networks that run pulumi and kubectl (an office or VPN egress range, a CI runner's address /32)"
            )
        if private and not net.is_private:
            raise ValueError(f"{c} is not a private range; {key} lists networks inside the VPC or peered with it")
    dupes = sorted({c for c in values if values.count(c) > 1})
    if dupes:
        raise ValueError(f"listed more than once: {', '.join(dupes)}")
    return values


class EndpointConfig(StrictModel):
    """Reachability of the Kubernetes API endpoint (``inferstack:cluster.endpoint``).

    ``private``: only from inside the VPC; ``pulumi up`` (which talks to the API for the Kubernetes layer) runs from
    there: a CI runner in the VPC, or through a tunnel (docs/deploy.md). ``public``: the private endpoint stays on
    for the nodes, and the public one admits ``publicAccessCidrs`` only (EKS ``publicAccessCidrs``; GKE master
    authorized networks); ``0.0.0.0/0`` is refused.
    """

    access: EndpointAccess = Field(
        EndpointAccess.PRIVATE,
        description="private (default: reachable from inside the VPC only) or public (also from publicAccessCidrs).",
    )
    public_access_cidrs: list[str] = Field(
        default_factory=list,
        max_length=40,
        description=(
            "With access: public, the IPv4 CIDRs allowed to reach the public endpoint (the egress ranges of the "
            "machines that run pulumi and kubectl); 0.0.0.0/0 is refused."
        ),
    )
    private_access_cidrs: list[str] = Field(
        default_factory=list,
        max_length=40,
        description=(
            "Private IPv4 CIDRs (in the VPC or peered with it: a CI runner's or bastion's subnet) allowed to reach "
            "the private endpoint (EKS: tcp/443 on the cluster security group; GKE: master authorized networks)."
        ),
    )

    @field_validator("public_access_cidrs")
    @classmethod
    def _public_cidrs(cls, v: list[str], info: ValidationInfo) -> list[str]:
        if v and info.data.get("access") is EndpointAccess.PRIVATE:
            raise ValueError(
                "publicAccessCidrs is for access: public; with a private endpoint list in-network ranges under "
                "privateAccessCidrs, or set access: public"
            )
        return endpoint_cidrs(v, "publicAccessCidrs", private=False)

    @field_validator("private_access_cidrs")
    @classmethod
    def _private_cidrs(cls, v: list[str]) -> list[str]:
        return endpoint_cidrs(v, "privateAccessCidrs", private=True)

    @model_validator(mode="after")
    def _public_needs_cidrs(self) -> EndpointConfig:
        if self.access is EndpointAccess.PUBLIC and not self.public_access_cidrs:
            raise ValueError(
                "access: public needs publicAccessCidrs, the networks allowed to reach the API (e.g. [198.51.100.7/32])"
            )
        return self

    @property
    def public(self) -> bool:
        return self.access is EndpointAccess.PUBLIC


class ClusterConfig(StrictModel):
    """The Kubernetes control plane and its small on-demand system node pool."""

    version: str = Field(EKS_VERSION, description="Kubernetes minor version of EKS (pinned in inferstack/catalog/versions.py); GKE follows the release channel.")
    release_channel: str = Field(
        "REGULAR", description="GKE release channel: RAPID, REGULAR, STABLE or EXTENDED.", pattern=f"^({'|'.join(GKE_RELEASE_CHANNELS)})$"
    )
    endpoint: EndpointConfig = Field(
        default_factory=EndpointConfig,
        description="Where the Kubernetes API endpoint is reachable from: private (default) or public restricted to listed CIDRs.",
    )
    log_retention_days: int = Field(
        90, ge=1, le=3653, description="Retention of control-plane logs, in days: a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ..., 3653)."
    )
    access_entries: list[AccessEntry] = Field(default_factory=list, description="Principals mapped to Kubernetes groups.")
    system_node_type: str = Field("", description="Instance / machine type of the system pool; empty: m6i.large or e2-standard-4.")
    system_nodes_min: int = Field(2, ge=1, le=10, description="Minimum size of the on-demand system pool.")
    system_nodes_max: int = Field(4, ge=1, le=20, description="Maximum size of the on-demand system pool.")
    deletion_protection: bool | None = Field(None, description="Protect the cluster from deletion; default on in prod.")
    control_plane_cidr: str = Field(
        "172.16.0.0/28", description="GKE: the /28 the private control plane uses (firewalled to the webhook ports of the nodes)."
    )
    workloads_stack: str | None = Field(
        None,
        description=(
            "The stack (organization/project/stack) that deploys this cluster's workloads: an existingCluster stack "
            "whose platformStack names this one. This stack then declares the platform only (network, cluster, "
            "pools, identities, registry) and no add-on, model or secret; list the workloads' namespaces in "
            "teamNamespaces (their registry read access is granted here)."
        ),
        pattern=STACK_REFERENCE_PATTERN,
        max_length=302,
    )
    google_groups_security_group: str | None = Field(
        None,
        description="GKE: the gke-security-groups@<domain> Google Group enabling Google Groups for RBAC; needed for group: access entries.",
        pattern=r"^gke-security-groups@[A-Za-z0-9.-]+$",
    )

    @field_validator("log_retention_days")
    @classmethod
    def _log_retention(cls, v: int) -> int:
        return cloudwatch_retention(v)

    @field_validator("control_plane_cidr")
    @classmethod
    def _control_plane_cidr(cls, v: str) -> str:
        net = ipv4_network(v, "172.16.0.0/28")
        if net.prefixlen != 28 or not net.is_private:
            raise ValueError(f"{v}: GKE needs a private /28 for the control plane, e.g. 172.16.0.0/28")
        return v


class Capacity(str, Enum):
    """How an accelerator pool buys capacity."""

    SPOT_FIRST = "spot-first"  # spot, falling back to on-demand when spot is unavailable
    ON_DEMAND = "on-demand"  # on-demand only
    SPOT_ONLY = "spot-only"  # spot only: no fallback (never allowed in prod by policy)


class LadderTierKind(str, Enum):
    """A way of buying accelerator nodes, one rung of a capacity ladder."""

    RESERVED = "reserved"  # capacity already paid for: EC2 On-Demand Capacity Reservations / Capacity Blocks, GCE reservations
    ON_DEMAND = "on-demand"
    FLEX_START = "flex-start"  # GKE flex-start (Dynamic Workload Scheduler): queued on-demand capacity, up to 7 days a node
    SPOT = "spot"


class WorkloadClass(str, Enum):
    """How a pool's models tolerate waiting and interruption; it decides which ladders the policy pack accepts."""

    LATENCY_CRITICAL = "latency-critical"  # user-facing: never starts on spot in prod
    STANDARD = "standard"
    BATCH = "batch"  # batch or offline: spot first is the point


class ReservationConfig(StrictModel):
    """Reserved capacity a ``reserved`` tier consumes."""

    id: str = Field(
        description="AWS: a capacity reservation id (cr-0123456789abcdef0); GCP: a GCE reservation name.",
        pattern=r"^(cr-[0-9a-f]{8,17}|[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)$",
    )
    zone: str | None = Field(None, description="Zone the reservation is in, e.g. eu-west-1a or europe-west4-b; checked against the pool's zones.")
    capacity_block: bool = Field(False, description="AWS Capacity Block for ML: a fixed term; nodes are drained before it ends.")
    ends_at: str | None = Field(
        None, description="End of the reservation's term (UTC, YYYY-MM-DDTHH:MM:SSZ); required for capacity blocks.",
        pattern=UTC_TIME_PATTERN,
    )

    @model_validator(mode="after")
    def _block(self) -> ReservationConfig:
        if self.capacity_block and self.ends_at is None:
            raise ValueError("capacityBlock: true needs endsAt, the end of the block's term (e.g. 2027-01-15T11:30:00Z)")
        return self


class LadderTierConfig(StrictModel):
    """One rung of a pool's capacity ladder: how its nodes are bought and how many at most."""

    tier: LadderTierKind = Field(description="reserved, on-demand, flex-start (GKE) or spot.")
    max_nodes: int = Field(ge=1, le=1000, description="Nodes this tier may hold at most.")
    min_nodes: int = Field(0, ge=0, description="Nodes this tier always keeps (reserved and on-demand tiers).")
    reservations: list[ReservationConfig] = Field(default_factory=list, description="The reservations a reserved tier consumes.")

    @model_validator(mode="after")
    def _tier(self) -> LadderTierConfig:
        if self.min_nodes > self.max_nodes:
            raise ValueError(f"minNodes {self.min_nodes} exceeds maxNodes {self.max_nodes}")
        if self.tier is LadderTierKind.RESERVED and not self.reservations:
            raise ValueError("a reserved tier lists its reservations (ids, zones, capacity blocks)")
        if self.tier is not LadderTierKind.RESERVED and self.reservations:
            raise ValueError(f"reservations belong to a reserved tier, not {self.tier.value}")
        if self.tier in (LadderTierKind.SPOT, LadderTierKind.FLEX_START) and self.min_nodes:
            raise ValueError(f"a {self.tier.value} tier cannot keep minNodes: its capacity is never guaranteed")
        return self


class GpuAllocation(str, Enum):
    """How pods get a pool's NVIDIA GPUs."""

    DEVICE_PLUGIN = "device-plugin"  # the extended resource nvidia.com/gpu of the NVIDIA (or GKE's) device plugin
    DRA = "dra"  # Dynamic Resource Allocation: the NVIDIA DRA driver, ResourceClaims (resource.k8s.io/v1)


class GpuSharingConfig(StrictModel):
    """How a pool's GPUs are shared: MIG partitions of one profile, or time-slicing with a replica count."""

    mig: str | None = Field(None, description="MIG profile every GPU of the pool is split into, e.g. 1g.10gb (A100, H100).")
    time_slicing_replicas: int | None = Field(
        None, ge=2, le=gpu_sharing.TIME_SLICING_MAX_REPLICAS,
        description="Time-slicing: pods sharing each GPU (2-48); no memory or fault isolation between them.",
    )

    @model_validator(mode="after")
    def _one(self) -> GpuSharingConfig:
        if (self.mig is None) == (self.time_slicing_replicas is None):
            raise ValueError("give exactly one of mig (a MIG profile, e.g. 1g.10gb) or timeSlicingReplicas (2-48)")
        return self


class AcceleratorPoolConfig(StrictModel):
    """A pool of accelerator nodes of one kind (Karpenter NodePools on AWS, GKE node pools + ComputeClass on GCP)."""

    name: str = Field(description="Pool name, unique in the stack; lower-case letters, digits and dashes.", pattern=_NAME)
    kind: str = Field(description="Accelerator kind from the catalog, e.g. nvidia-l4, aws-inferentia2, tpu-v5e.")
    devices_per_node: int | None = Field(None, ge=1, description="Devices per node; picks the shape; default the smallest.")
    capacity: Capacity = Field(Capacity.SPOT_FIRST, description="spot-first (with on-demand fallback), on-demand or spot-only.")
    on_demand_baseline: int = Field(0, ge=0, description="Nodes always kept on-demand (prod baseline), beside the spot-first capacity.")
    min_nodes: int = Field(0, ge=0, description="Minimum nodes kept running (0 lets the pool scale to zero).")
    max_nodes: int = Field(4, ge=1, le=1000, description="Maximum nodes of the pool; bounds cost and the models' max replicas.")
    tpu_topology: str | None = Field(None, description="TPU slice topology, e.g. 2x4 or 4x4 (multi-host); TPU kinds only.")
    consolidate_after: str = Field("30m", description="How long a node stays empty before Karpenter removes it.", pattern=KARPENTER_DURATION_PATTERN)
    expire_after: str = Field("720h", description="Maximum node lifetime before Karpenter replaces it (drift, patches).", pattern=KARPENTER_EXPIRY_PATTERN)
    ladder: list[LadderTierConfig] | None = Field(
        None,
        min_length=1,
        description="Capacity ladder, in preference order (e.g. reserved, on-demand, spot); replaces capacity and onDemandBaseline.",
    )
    workload: WorkloadClass = Field(
        WorkloadClass.STANDARD, description="latency-critical, standard or batch: the policy pack refuses spot first for latency-critical pools in prod."
    )
    spot_interruptions_per_node_day: float | None = Field(
        None, ge=0, le=48, description="Expected spot interruptions per node per day; default the accelerator family's (cost estimate)."
    )
    allocation: GpuAllocation = Field(
        GpuAllocation.DEVICE_PLUGIN,
        description="NVIDIA pools: device-plugin (nvidia.com/gpu) or dra (NVIDIA DRA driver, ResourceClaimTemplates).",
    )
    sharing: GpuSharingConfig | None = Field(
        None, description="NVIDIA pools with allocation device-plugin: MIG profile or time-slicing replicas; models ask for a slice with gpu."
    )

    @field_validator("ladder")
    @classmethod
    def _ladder(cls, v: list[LadderTierConfig] | None) -> list[LadderTierConfig] | None:
        if v is not None:
            kinds = [t.tier.value for t in v]
            dup = sorted({k for k in kinds if kinds.count(k) > 1})
            if dup:
                raise ValueError(f"tier {', '.join(dup)} appears more than once; each tier is one rung of the ladder")
        return v

    @model_validator(mode="after")
    def _gpu_access(self) -> AcceleratorPoolConfig:
        acc = CATALOG.get(self.kind)
        if acc is None:
            return self  # unknown kind: reported with the allowed kinds by the pool checks
        if acc.family is not Family.NVIDIA and (self.allocation is GpuAllocation.DRA or self.sharing is not None):
            key = "allocation: dra" if self.allocation is GpuAllocation.DRA else "sharing"
            raise ValueError(f"{key} is for NVIDIA GPU pools; {self.kind} is a {acc.family.value} kind")
        if self.sharing is not None and self.allocation is GpuAllocation.DRA:
            raise ValueError(
                "sharing is set through the device plugin or GKE; a dra pool allocates whole GPUs: use allocation: "
                "device-plugin for a shared pool"
            )
        if self.sharing is not None and self.sharing.mig is not None:
            gpu_sharing.mig_profile(self.kind, self.sharing.mig)
        return self

    def slices_per_device(self) -> int:
        """Units a model can request per GPU: MIG instances of the profile, time-slicing replicas, or 1."""
        if self.sharing is None:
            return 1
        if self.sharing.mig is not None:
            return gpu_sharing.mig_profile(self.kind, self.sharing.mig).per_gpu
        return self.sharing.time_slicing_replicas or 1

    @model_validator(mode="after")
    def _ladder_totals(self) -> AcceleratorPoolConfig:
        if self.ladder is None:
            return self
        clash = sorted({"capacity", "on_demand_baseline"} & self.model_fields_set)
        if clash:
            keys = " and ".join({"capacity": "capacity", "on_demand_baseline": "onDemandBaseline"}[k] for k in clash)
            raise ValueError(f"ladder replaces {keys}: give the tiers (e.g. on-demand with minNodes) instead")
        floor = sum(t.min_nodes for t in self.ladder)
        if floor > self.max_nodes:
            raise ValueError(f"the ladder's minNodes add up to {floor}, above the pool's maxNodes {self.max_nodes}")
        return self
