"""Monthly cost of what a program declares: the resources of its offline recording, priced the way Infracost prices
a Terraform plan (each billable resource from its own arguments, at catalogue prices), not from the stack config.

What is priced (730 h/month, prices from :mod:`inferstack.catalog.prices` with the stack file's
``inferstack:pricing`` overrides):

- EKS clusters and GKE clusters: the cluster fee per cluster-hour (``platform.controlPlaneHourlyUsd``);
- EKS managed node groups: ``scalingConfig.desiredSize`` x the instance type (``instanceTypes[0]``, else the launch
  template's ``instanceType``), at the spot rate when ``capacityType`` is ``SPOT``;
- GKE node pools (and a cluster's default pool when it is not removed): the node count (``nodeCount`` per zone, else
  the autoscaler's minimum: ``totalMinNodeCount`` or ``minNodeCount`` per zone, else ``initialNodeCount`` per zone)
  x the machine type with its accelerators, at the spot rate for ``spot`` / ``preemptible`` pools;
- Karpenter NodePools with ``spec.replicas`` (static capacity): replicas x the lowest-priced allowed instance type at
  the lowest-priced allowed capacity type. A NodePool without ``replicas`` declares no nodes (Karpenter launches
  them for pending pods, up to its ``limits``): listed unpriced with that reason;
- EC2 instances and GCE instances: one node each;
- AWS NAT gateways per gateway-hour; GCP Cloud NAT per VM-hour of the nodes priced above (at most 32 VMs); the data
  they process only when the stack file sets ``inferstack:pricing.natProcessedGbPerMonth`` (usage, never assumed).

Listed unpriced, each with why: usage-billed resources (buckets, tables, queues, logs, ...), resources with a fixed
fee the catalogue has no price for (load balancers, forwarding rules, disks and volumes, public IPs, KMS keys,
secrets), and node pools whose size or accelerators the catalogue cannot price. Everything else (IAM, networks,
Kubernetes objects, components, providers) is free and only counted. A node type without a catalogue price stops the
estimate with :class:`PriceNotFound` naming every ``inferstack:pricing`` key to set, as the stack estimate does.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from inferstack.catalog import accelerators
from inferstack.catalog.clouds import Cloud
from inferstack.catalog.prices import AS_OF as CATALOG_AS_OF
from inferstack.catalog.prices import (
    NodePrice,
    PlatformPrices,
    PriceNotFound,
    missing_platform_keys,
    node_price,
    platform_prices,
)
from inferstack.config.pricing import PricingConfig
from inferstack.config.stack import POLICY_KEYS, _settings
from inferstack.cost.estimate import HOURS_PER_MONTH
from inferstack.engine.recording import ResourceRecord
from inferstack.engine.wire import is_unknown, unwrap_secrets

# ---------------------------------------------------------------- rows


@dataclass
class PricedItem:
    """One priced line: a resource (by URN) and what of it is billed."""

    urn: str
    type: str
    name: str
    item: str
    detail: str
    quantity: float
    unit: str
    unit_usd: float
    monthly_usd: float
    all_on_demand_monthly_usd: float
    source: str


@dataclass
class UnpricedItem:
    """A billable resource (or part of one) the estimate does not price, and why."""

    urn: str
    type: str
    name: str
    item: str
    reason: str


@dataclass
class DeclaredCost:
    stack: str
    cloud: str
    region: str
    priced: list[PricedItem] = field(default_factory=list)
    unpriced: list[UnpricedItem] = field(default_factory=list)
    #: Resources that cost nothing by themselves, by type token.
    free: Counter[str] = field(default_factory=Counter)
    assumptions: dict[str, Any] = field(default_factory=dict)

    @property
    def monthly_usd(self) -> float:
        return sum(p.monthly_usd for p in self.priced)

    @property
    def all_on_demand_monthly_usd(self) -> float:
        return sum(p.all_on_demand_monthly_usd for p in self.priced)

    def to_json(self) -> dict[str, Any]:
        def rounded(row: dict[str, Any]) -> dict[str, Any]:
            return {k: (round(v, 4) if k == "unit_usd" else round(v, 2)) if isinstance(v, float) else v for k, v in row.items()}

        return {
            "stack": self.stack,
            "cloud": self.cloud,
            "region": self.region,
            "basis": "declared",
            "currency": "USD",
            "hours_per_month": HOURS_PER_MONTH,
            "monthly_usd": round(self.monthly_usd + 0.0, 2),
            "all_on_demand_monthly_usd": round(self.all_on_demand_monthly_usd + 0.0, 2),
            "priced": [rounded(asdict(p)) for p in self.priced],
            "unpriced": [asdict(u) for u in self.unpriced],
            "free_resources": sum(self.free.values()),
            "free_by_type": dict(sorted(self.free.items())),
            "assumptions": self.assumptions,
        }


# ---------------------------------------------------------------- what is billed how

#: Resources billed by use (storage, requests, messages, data); the program declares none of that use.
USAGE_BASED: dict[str, str] = {
    "aws:s3/bucket:Bucket": "storage per GB-month and requests",
    "aws:s3/bucketV2:BucketV2": "storage per GB-month and requests",
    "aws:dynamodb/table:Table": "reads, writes and storage (on-demand capacity)",
    "aws:sqs/queue:Queue": "requests",
    "aws:cloudwatch/logGroup:LogGroup": "ingested and stored GB",
    "aws:cloudwatch/eventRule:EventRule": "events",
    "aws:ec2/flowLog:FlowLog": "delivered log GB",
    "aws:amp/workspace:Workspace": "ingested samples, storage and queries",
    "aws:ecr/repository:Repository": "storage per GB-month",
    "aws:eks/fargateProfile:FargateProfile": "vCPU and memory of the pods Fargate runs",
    "gcp:storage/bucket:Bucket": "storage per GB-month and operations",
    "gcp:secretmanager/secret:Secret": "secret versions and access operations",
    "gcp:artifactregistry/repository:Repository": "storage per GB-month",
    "gcp:logging/projectSink:ProjectSink": "routed log GB",
}

#: Resources with a fixed fee the catalogue has no price for.
NO_CATALOGUE_PRICE: dict[str, str] = {
    "aws:lb/loadBalancer:LoadBalancer": "load balancer-hours and capacity units",
    "aws:alb/loadBalancer:LoadBalancer": "load balancer-hours and capacity units",
    "aws:elb/loadBalancer:LoadBalancer": "load balancer-hours and data processed",
    "aws:ebs/volume:Volume": "volume GB-month by type (and provisioned IOPS / throughput)",
    "aws:ec2/eip:Eip": "public IPv4 address-hours",
    "aws:kms/key:Key": "a monthly fee per key, plus requests",
    "aws:secretsmanager/secret:Secret": "a monthly fee per secret, plus API calls",
    "gcp:compute/forwardingRule:ForwardingRule": "forwarding rule-hours and data processed",
    "gcp:compute/globalForwardingRule:GlobalForwardingRule": "forwarding rule-hours and data processed",
    "gcp:compute/disk:Disk": "disk GB-month by type",
    "gcp:compute/regionDisk:RegionDisk": "disk GB-month by type (replicated)",
    "gcp:compute/address:Address": "IP address-hours",
    "gcp:compute/globalAddress:GlobalAddress": "IP address-hours",
    "gcp:kms/cryptoKey:CryptoKey": "a monthly fee per active key version, plus operations",
}

CATALOGUE_NOTE = "the catalogue (inferstack/catalog/prices.py) has no price for it"
KARPENTER_NODEPOOL = "kubernetes:karpenter.sh/v1:NodePool"
K8S_SERVICE = "kubernetes:core/v1:Service"
K8S_PVC = "kubernetes:core/v1:PersistentVolumeClaim"
_ZONE = re.compile(r"^[a-z]+-[a-z]+\d+-[a-z]$")


def override_key(node_type: str) -> str:
    return f"inferstack:pricing.onDemandHourlyUsd.{node_type}"


@dataclass
class _Context:
    """What one pricing run reads: the region, the stack's pricing settings, and the records by URN / name."""

    cloud: Cloud
    region: str
    pricing: PricingConfig
    usage_keys: frozenset[str]
    records: Sequence[ResourceRecord]
    missing: list[str] = field(default_factory=list)

    def node(self, node_type: str) -> NodePrice | None:
        """The price of ``node_type`` with the stack's overrides, or None (its override key noted as missing)."""
        try:
            return node_price(self.region, node_type, self.pricing.on_demand_hourly_usd.get(node_type),
                              self.pricing.spot_discount.get(node_type))
        except PriceNotFound:
            key = override_key(node_type)
            if key not in self.missing:
                self.missing.append(key)
            return None

    def platform(self, cloud: Cloud) -> PlatformPrices | None:
        overrides = self.pricing.platform.model_dump()
        keys = missing_platform_keys(self.region, cloud.value, overrides)
        if keys:
            self.missing.extend(k for k in keys if k not in self.missing)
            return None
        return platform_prices(self.region, cloud.value, overrides)


def _plain(r: ResourceRecord) -> dict[str, Any]:
    return unwrap_secrets(r.inputs)


def _num(value: Any) -> float | None:
    if value is None or is_unknown(value) or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _count(value: Any) -> str:
    n = _num(value)
    return "?" if n is None else f"{n:g}"


def _line(r: ResourceRecord, item: str, detail: str, quantity: float, unit: str, unit_usd: float, hours: float,
          od_unit_usd: float | None, source: str) -> PricedItem:
    od = unit_usd if od_unit_usd is None else od_unit_usd
    return PricedItem(r.urn, r.type, r.name, item, detail, quantity, unit, unit_usd, quantity * unit_usd * hours,
                      quantity * od * hours, source)


def _unpriced(r: ResourceRecord, item: str, reason: str) -> UnpricedItem:
    return UnpricedItem(r.urn, r.type, r.name, item, reason)


# ---------------------------------------------------------------- AWS


def _eks_cluster(r: ResourceRecord, ctx: _Context, out: DeclaredCost) -> None:
    plat = ctx.platform(Cloud.AWS)
    if plat is None:
        return
    support = (_plain(r).get("upgradePolicy") or {}).get("supportType")
    detail = "EKS control plane" + (" (extended support is billed above this standard-support rate)" if support == "EXTENDED" else "")
    out.priced.append(_line(r, "control plane", detail, 1, "cluster-hour", plat.control_plane_hourly_usd, HOURS_PER_MONTH, None,
                            plat.control_plane_source))


def _launch_template(ctx: _Context, ref: Mapping[str, Any]) -> ResourceRecord | None:
    for lt in ctx.records:
        if lt.type != "aws:ec2/launchTemplate:LaunchTemplate":
            continue
        if ref.get("id") and ref.get("id") in (lt.id, lt.outputs.get("id")):
            return lt
        if ref.get("name") and ref.get("name") in (lt.inputs.get("name"), lt.outputs.get("name")):
            return lt
    return None


def _eks_node_group(r: ResourceRecord, ctx: _Context, out: DeclaredCost) -> None:
    inputs = _plain(r)
    scaling = inputs.get("scalingConfig") or {}
    nodes = _num(scaling.get("desiredSize"))
    if nodes is None:
        out.unpriced.append(_unpriced(r, "nodes", "scalingConfig.desiredSize is not known before the run"))
        return
    types = [t for t in inputs.get("instanceTypes") or [] if isinstance(t, str)]
    lt = _launch_template(ctx, inputs.get("launchTemplate") or {})
    if not types and lt is not None and isinstance(lt.inputs.get("instanceType"), str):
        types = [lt.inputs["instanceType"]]
    if not types:
        out.unpriced.append(_unpriced(r, "nodes", "no instance type declared (neither instanceTypes nor the launch template's "
                                                  "instanceType): EKS picks its default, which is not priced"))
        return
    spot = inputs.get("capacityType") == "SPOT"
    price = ctx.node(types[0])
    if price is None:
        return
    unit = price.spot_hourly_usd if spot else price.on_demand_hourly_usd
    more = f" (first of {', '.join(types)})" if len(types) > 1 else ""
    out.priced.append(_line(r, "nodes", f"{nodes:g} x {types[0]}{more} {'spot' if spot else 'on-demand'}", nodes, "node-hour",
                            unit, HOURS_PER_MONTH, price.on_demand_hourly_usd, price.source))
    if lt is not None:
        for bdm in lt.plain_inputs.get("blockDeviceMappings") or []:
            ebs = bdm.get("ebs") or {}
            size = _num(ebs.get("volumeSize"))
            if size:
                out.unpriced.append(_unpriced(lt, "root volumes", f"{nodes:g} x {size:g} GB {ebs.get('volumeType', 'gp3')} EBS for "
                                                                  f"node group {r.name}: {CATALOGUE_NOTE}"))


def _nat_gateway(r: ResourceRecord, ctx: _Context, out: DeclaredCost) -> None:
    plat = ctx.platform(Cloud.AWS)
    if plat is None:
        return
    out.priced.append(_line(r, "NAT gateway", "NAT gateway-hours", 1, "gateway-hour", plat.nat_hourly_usd, HOURS_PER_MONTH, None,
                            plat.nat_source))


def _instance(r: ResourceRecord, ctx: _Context, out: DeclaredCost) -> None:
    inputs = _plain(r)
    node_type = inputs.get("instanceType") or inputs.get("machineType")
    if not isinstance(node_type, str):
        out.unpriced.append(_unpriced(r, "instance", "no instance or machine type declared"))
        return
    price = ctx.node(node_type)
    if price is None:
        return
    spot = bool(inputs.get("instanceMarketOptions")) or (inputs.get("scheduling") or {}).get("provisioningModel") == "SPOT"
    unit = price.spot_hourly_usd if spot else price.on_demand_hourly_usd
    out.priced.append(_line(r, "instance", f"1 x {node_type} {'spot' if spot else 'on-demand'}", 1, "node-hour", unit,
                            HOURS_PER_MONTH, price.on_demand_hourly_usd, price.source))


# ---------------------------------------------------------------- Kubernetes


def _requirement(spec: Mapping[str, Any], key: str) -> list[str]:
    for req in (spec.get("requirements") or []):
        if req.get("key") == key and req.get("operator") == "In":
            return [v for v in req.get("values") or [] if isinstance(v, str)]
    return []


def _karpenter_nodepool(r: ResourceRecord, ctx: _Context, out: DeclaredCost) -> None:
    spec = _plain(r).get("spec") or {}
    template = (spec.get("template") or {}).get("spec") or {}
    replicas = _num(spec.get("replicas"))
    if replicas is None:
        limits = ", ".join(f"{k} {v}" for k, v in (spec.get("limits") or {}).items()) or "none"
        reserved = ("; the capacity reservation it launches into is bought outside the program and billed whether used "
                    "or not" if "reserved" in _requirement(template, "karpenter.sh/capacity-type") else "")
        out.unpriced.append(_unpriced(r, "nodes", "Karpenter launches this NodePool's nodes for pending pods; it declares no "
                                                  f"minimum (spec.replicas unset; limits: {limits}), so its cost follows the pods it "
                                                  f"serves (a reference stack's capacity plan prices them: cost --stack){reserved}"))
        return
    types = _requirement(template, "node.kubernetes.io/instance-type")
    capacity = _requirement(template, "karpenter.sh/capacity-type") or ["on-demand"]
    if not types:
        out.unpriced.append(_unpriced(r, "nodes", f"{replicas:g} static node(s) of no declared instance type "
                                                  "(node.kubernetes.io/instance-type): Karpenter's choice is not priced"))
        return
    prices = [(p, t) for t in types if (p := ctx.node(t)) is not None]
    if len(prices) < len(types):
        return
    spot = "spot" in capacity
    (price, node_type) = min(prices, key=lambda pt: pt[0].spot_hourly_usd if spot else pt[0].on_demand_hourly_usd)
    unit = price.spot_hourly_usd if spot else price.on_demand_hourly_usd
    out.priced.append(_line(r, "nodes", f"{replicas:g} x {node_type} {'spot' if spot else capacity[0]} (static NodePool; the "
                                        "lowest-priced allowed type)", replicas, "node-hour", unit, HOURS_PER_MONTH,
                            price.on_demand_hourly_usd, price.source))


def _k8s_service(r: ResourceRecord, ctx: _Context, out: DeclaredCost) -> bool:
    if (_plain(r).get("spec") or {}).get("type") != "LoadBalancer":
        return False
    out.unpriced.append(_unpriced(r, "load balancer", "a Service of type LoadBalancer: the cloud's load balancer "
                                                      f"(hours and capacity units); {CATALOGUE_NOTE}"))
    return True


def _k8s_pvc(r: ResourceRecord, ctx: _Context, out: DeclaredCost) -> bool:
    spec = _plain(r).get("spec") or {}
    size = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "?")
    out.unpriced.append(_unpriced(r, "volume", f"{size} of storage class {spec.get('storageClassName') or '(default)'}: "
                                               f"{CATALOGUE_NOTE}"))
    return True


# ---------------------------------------------------------------- GCP


def _gcp_shapes() -> dict[str, tuple[str, int]]:
    """GCE machine type -> (accelerator type, devices) for the catalogue's accelerator shapes: their catalogue price
    includes those devices (n1 hosts with their GPUs, G2/A2/A3 with theirs, TPU hosts with their chips)."""
    out: dict[str, tuple[str, int]] = {}
    for acc in accelerators.CATALOG.values():
        for shape in acc.offerings.get(Cloud.GCP, ()):
            out[shape.name] = (acc.gcp_accelerator_type or acc.kind, shape.devices)
    return out


def _gke_cluster_record(ctx: _Context, name: Any) -> ResourceRecord | None:
    for c in ctx.records:
        if c.type == "gcp:container/cluster:Cluster" and name in (c.inputs.get("name"), c.outputs.get("name"), c.outputs.get("id")):
            return c
    return None


def _zones(inputs: Mapping[str, Any], cluster: ResourceRecord | None) -> int | None:
    """Zones a GKE pool's per-zone counts multiply by: its nodeLocations, else its cluster's, else 1 for a zonal
    location; None when unknown (a regional location without node locations)."""
    for locs in (inputs.get("nodeLocations"), cluster.plain_inputs.get("nodeLocations") if cluster else None):
        if isinstance(locs, list) and locs:
            return len(locs)
    location = inputs.get("location") or (cluster.plain_inputs.get("location") if cluster else None)
    return 1 if isinstance(location, str) and _ZONE.match(location) else None


def _gke_nodes(inputs: Mapping[str, Any], zones: int | None) -> tuple[float | None, str]:
    """(nodes, how they were counted) of a GKE pool; nodes None when a per-zone count meets unknown zones."""
    count = _num(inputs.get("nodeCount"))
    auto = inputs.get("autoscaling") or {}
    if count is None and auto:
        total = _num(auto.get("totalMinNodeCount"))
        if total is not None:
            return total, f"autoscaler minimum (totalMinNodeCount {total:g}, max {_count(auto.get('totalMaxNodeCount'))})"
        count = _num(auto.get("minNodeCount"))
        how = f"autoscaler minimum ({count:g} per zone, max {_count(auto.get('maxNodeCount'))} per zone)" if count is not None else ""
    else:
        how = f"nodeCount {count:g} per zone" if count is not None else ""
    if count is None:
        count = _num(inputs.get("initialNodeCount"))
        how = f"initialNodeCount {count:g} per zone" if count is not None else ""
    if count is None:
        return 0.0, "no node count declared"
    if zones is None:
        return None, how
    return count * zones, f"{how} x {zones} zone(s)"


def _gke_pool_nodes(r: ResourceRecord, ctx: _Context, out: DeclaredCost, inputs: Mapping[str, Any], cluster: ResourceRecord | None,
                    item: str) -> float:
    """Price one GKE pool's nodes; returns the node count priced (for Cloud NAT's VM count)."""
    node_config = inputs.get("nodeConfig") or {}
    machine = node_config.get("machineType")
    nodes, how = _gke_nodes(inputs, _zones(inputs, cluster))
    if nodes is None:
        out.unpriced.append(_unpriced(r, item, f"{how} in a regional location without nodeLocations: the zone count is not "
                                               "declared"))
        return 0.0
    if not isinstance(machine, str):
        out.unpriced.append(_unpriced(r, item, f"{nodes:g} node(s) of no declared machine type (nodeConfig.machineType): GKE's "
                                               "default is not priced"))
        return 0.0
    declared = [(g.get("type"), _num(g.get("count")) or 0) for g in node_config.get("guestAccelerators") or []]
    shape = _gcp_shapes().get(machine)
    overridden = machine in ctx.pricing.on_demand_hourly_usd
    if not overridden and declared:
        devices = sum(n for _, n in declared)
        if shape is None or devices != shape[1] or any(t != shape[0] for t, _ in declared):
            has = f"includes {shape[1]} x {shape[0]}" if shape else "is the machine alone"
            out.unpriced.append(_unpriced(r, item, f"{nodes:g} x {machine} with {', '.join(f'{n:g} x {t}' for t, n in declared)}: "
                                                   f"the catalogue's price of {machine} {has}; set {override_key(machine)} "
                                                   "(the node's whole price)"))
            return 0.0
    price = ctx.node(machine)
    if price is None:
        return 0.0
    spot = bool(node_config.get("spot")) or bool(node_config.get("preemptible"))
    reserved = (node_config.get("reservationAffinity") or {}).get("consumeReservationType") == "SPECIFIC_RESERVATION"
    unit = price.spot_hourly_usd if spot else price.on_demand_hourly_usd
    kind = "spot" if spot else ("on-demand (a reservation bills at the on-demand rate)" if reserved else "on-demand")
    out.priced.append(_line(r, item, f"{nodes:g} x {machine} {kind}: {how}", nodes, "node-hour", unit, HOURS_PER_MONTH,
                            price.on_demand_hourly_usd, price.source))
    disk = _num(node_config.get("diskSizeGb"))
    if disk and nodes:
        out.unpriced.append(_unpriced(r, "boot disks", f"{nodes:g} x {disk:g} GB {node_config.get('diskType', 'pd-balanced')}: "
                                                       f"{CATALOGUE_NOTE}"))
    return nodes


def _gke_cluster(r: ResourceRecord, ctx: _Context, out: DeclaredCost) -> float:
    inputs = _plain(r)
    plat = ctx.platform(Cloud.GCP)
    if plat is not None:
        autopilot = " (Autopilot: the pods' requests are billed on top, by use)" if inputs.get("enableAutopilot") else ""
        out.priced.append(_line(r, "control plane", f"GKE cluster management fee{autopilot}", 1, "cluster-hour",
                                plat.control_plane_hourly_usd, HOURS_PER_MONTH, None, plat.control_plane_source))
    if inputs.get("enableAutopilot") or inputs.get("removeDefaultNodePool"):
        return 0.0
    return _gke_pool_nodes(r, ctx, out, {**inputs, "nodeCount": None, "autoscaling": None}, r, "default node pool")


def _gke_node_pool(r: ResourceRecord, ctx: _Context, out: DeclaredCost) -> float:
    inputs = _plain(r)
    return _gke_pool_nodes(r, ctx, out, inputs, _gke_cluster_record(ctx, inputs.get("cluster")), "nodes")


# ---------------------------------------------------------------- the estimate


def price_declared(
    resources: Iterable[ResourceRecord],
    *,
    stack: str,
    cloud: Cloud,
    region: str,
    pricing: PricingConfig | None = None,
    usage_keys: Iterable[str] = (),
) -> DeclaredCost:
    """Price the resources a program recorded. ``pricing`` carries the stack file's overrides; ``usage_keys`` the
    ``inferstack:pricing`` usage keys the file sets explicitly (``natProcessedGbPerMonth``): usage is priced only when
    the stack says how much. Raises :class:`PriceNotFound` naming every missing price key at once."""
    records = [r for r in resources if not r.synthesized]
    ctx = _Context(cloud, region, pricing or PricingConfig(), frozenset(usage_keys), records)
    out = DeclaredCost(stack, cloud.value, region, assumptions={
        "hours_per_month": HOURS_PER_MONTH,
        "catalog_as_of": CATALOG_AS_OF,
        "overrides": sorted(set(ctx.pricing.on_demand_hourly_usd) | set(ctx.pricing.spot_discount)),
    })
    gcp_nodes = 0.0
    nats: list[ResourceRecord] = []
    for r in records:
        t = r.type
        if t == "aws:eks/cluster:Cluster":
            _eks_cluster(r, ctx, out)
        elif t == "aws:eks/nodeGroup:NodeGroup":
            _eks_node_group(r, ctx, out)
        elif t == "aws:ec2/natGateway:NatGateway":
            _nat_gateway(r, ctx, out)
            nats.append(r)
        elif t in ("aws:ec2/instance:Instance", "gcp:compute/instance:Instance"):
            _instance(r, ctx, out)
        elif t == "gcp:container/cluster:Cluster":
            gcp_nodes += _gke_cluster(r, ctx, out)
        elif t == "gcp:container/nodePool:NodePool":
            gcp_nodes += _gke_node_pool(r, ctx, out)
        elif t == "gcp:compute/routerNat:RouterNat":
            nats.append(r)
        elif t == KARPENTER_NODEPOOL:
            _karpenter_nodepool(r, ctx, out)
        elif t == "aws:dynamodb/table:Table" and r.plain_inputs.get("billingMode") == "PROVISIONED":
            out.unpriced.append(_unpriced(r, "fee", f"provisioned read / write capacity-hours: {CATALOGUE_NOTE}"))
        elif t in USAGE_BASED:
            out.unpriced.append(_unpriced(r, "usage", f"usage-based: not priced ({USAGE_BASED[t]})"))
        elif t in NO_CATALOGUE_PRICE:
            out.unpriced.append(_unpriced(r, "fee", f"{NO_CATALOGUE_PRICE[t]}: {CATALOGUE_NOTE}"))
        elif not ((t == K8S_SERVICE and _k8s_service(r, ctx, out)) or (t == K8S_PVC and _k8s_pvc(r, ctx, out))):
            out.free[t] += 1
    for r in nats:
        if r.type == "gcp:compute/routerNat:RouterNat":
            plat = ctx.platform(Cloud.GCP)
            if plat is not None:
                vms = min(gcp_nodes, plat.nat_vm_cap)
                out.priced.append(_line(r, "Cloud NAT", f"{vms:g} VM(s): the GKE nodes priced above (at most {plat.nat_vm_cap})",
                                        vms, "VM-hour", plat.nat_per_vm_hourly_usd, HOURS_PER_MONTH, None, plat.nat_source))
    if nats:
        _nat_data(nats[0], ctx, out, Cloud.GCP if nats[0].type.startswith("gcp:") else Cloud.AWS)
    if ctx.missing:
        raise PriceNotFound(f"no catalog price for {len(ctx.missing)} item(s) in {region} (catalog as of {CATALOG_AS_OF}); "
                            f"set: {', '.join(ctx.missing)}")
    return out


def _nat_data(r: ResourceRecord, ctx: _Context, out: DeclaredCost, cloud: Cloud) -> None:
    if "nat_processed_gb_per_month" not in ctx.usage_keys:
        out.unpriced.append(_unpriced(r, "NAT data processed", "usage-based: not priced (per GB processed); set "
                                                               "inferstack:pricing.natProcessedGbPerMonth to price it"))
        return
    plat = ctx.platform(cloud)
    if plat is None:
        return
    gb = ctx.pricing.nat_processed_gb_per_month
    out.priced.append(_line(r, "NAT data processed", f"{gb:g} GB (inferstack:pricing.natProcessedGbPerMonth)", gb, "GB",
                            plat.nat_per_gb_usd, 1, None, plat.nat_source))


def render_text(est: DeclaredCost, program: str | None = None) -> str:
    """The declared estimate as two tables: priced resources, then the unpriced ones with why."""
    what = f", program {program}" if program else ""
    out = [f"Monthly cost of the resources stack {est.stack} declares ({est.cloud}, {est.region}{what}), USD, "
           f"{HOURS_PER_MONTH} h/month", ""]
    if est.priced:
        out.append(f"{'resource':<44} {'item':<14} {'quantity':>10} {'unit':<13} {'unit USD':>9} {'monthly':>10} {'all on-demand':>14}")
        for p in est.priced:
            out.append(f"{p.type.rsplit(':', 1)[-1] + ' ' + p.name:<44} {p.item:<14} {p.quantity:>10g} {p.unit:<13} {p.unit_usd:>9.4f} "
                       f"{p.monthly_usd:>10,.2f} {p.all_on_demand_monthly_usd:>14,.2f}")
            out.append(f"    {p.detail}; {p.urn}")
    else:
        out.append("no priced resources")
    out += ["", f"{'total':<94} {est.monthly_usd:>10,.2f} {est.all_on_demand_monthly_usd:>14,.2f}", ""]
    if est.unpriced:
        out.append(f"not priced ({len(est.unpriced)}):")
        for u in est.unpriced:
            out.append(f"    {u.type.rsplit(':', 1)[-1]} {u.name} ({u.item}): {u.reason}")
        out.append("")
    out.append(f"free: {sum(est.free.values())} resource(s) of {len(est.free)} type(s) cost nothing by themselves")
    if est.assumptions.get("note"):
        out.append(f"note: {est.assumptions['note']}")
    out.append(f"prices: catalogue as of {CATALOG_AS_OF} (inferstack/catalog/prices.py); overrides: "
               f"{', '.join(est.assumptions['overrides']) or 'none'}")
    return "\n".join(out) + "\n"


def stack_file_pricing(config: Mapping[str, Any], source: str) -> tuple[PricingConfig, frozenset[str]]:
    """The ``inferstack:pricing`` of a program's stack file (overrides and usage), validated like a reference stack's
    (:class:`ConfigError` names a bad key), and the fields it sets explicitly. A file without any ``inferstack:`` key
    (a program's own config) has the catalogue's prices and no overrides."""
    if not any(str(k).startswith("inferstack:") for k in config):
        return PricingConfig(), frozenset()
    settings = _settings(config, source, (*POLICY_KEYS, "pricing"))
    return settings.pricing, frozenset(settings.pricing.model_fields_set)
