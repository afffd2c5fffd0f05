"""The VPC: private subnets for nodes, public subnets for load balancers only, NAT, and flow logs to CloudWatch."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from inferstack.catalog.clouds import Cloud
from inferstack.catalog.zones import zones_for
from inferstack.config.platform import NetworkConfig


@dataclass(frozen=True)
class SubnetPlan:
    """CIDR blocks per zone: a large private block for nodes and pods, a small public block for load balancers."""

    zones: list[str]
    private: list[str]
    public: list[str]


def plan_subnets(cidr: str, region: str, zones: int, listed: Sequence[str] | None = None) -> SubnetPlan:
    """Split ``cidr`` in eight: one eighth per zone for private subnets; the last eighth cut in eight for public ones.
    The zones are ``listed`` (``network.zones``) or else the first ``zones`` default zones of the region in the zone
    catalogue (``inferstack.catalog.zones``).

    A /16 gives /19 private subnets (8,190 addresses: VPC CNI gives pods VPC addresses) and /22 public subnets.
    """
    net = ipaddress.ip_network(cidr, strict=True)
    if net.prefixlen > 21:
        raise ValueError(f"network.cidr {cidr} is too small; use a /21 or larger (a /16 is recommended)")
    eighths = list(net.subnets(prefixlen_diff=3))
    public = list(eighths[-1].subnets(prefixlen_diff=3))
    return SubnetPlan(
        zones=zones_for(Cloud.AWS, region, zones, listed),
        private=[str(eighths[i]) for i in range(zones)],
        public=[str(public[i]) for i in range(zones)],
    )


class Network(pulumi.ComponentResource):
    """VPC for an EKS cluster: private node subnets, public load-balancer subnets, NAT gateways and flow logs.

    Provisions a VPC on ``cfg.cidr`` (DNS on) over the first ``cfg.availabilityZones`` zones of ``region`` in the zone catalogue: per zone
    a private subnet of one eighth of the CIDR (a /19 of a /16; default route through a NAT gateway) and a public
    subnet of one sixty-fourth (a /22; through the internet gateway); ``cfg.natGateways`` NAT gateways with Elastic IPs (at most one per zone; private route tables share
    them in turn); the default security group emptied; a flow log of ALL traffic (60 s aggregation) into the log
    group ``/inferstack/<cluster_name>/vpc-flow-logs`` with an IAM role that may write to that group only.

    Args:
        name (str): component name; children are ``<name>-vpc``, ``<name>-private-<zone>``, ``<name>-public-<zone>``, ...
        cfg (NetworkConfig): ``cidr`` (default ``10.0.0.0/16``, /21 or larger), ``availabilityZones`` (default 2),
            ``natGateways`` (default 1), ``flowLogRetentionDays`` (default 30).
        region (str): AWS region; its zones come from the zone catalogue (``inferstack.catalog.zones``, e.g.
            ``eu-west-1a``, ``eu-west-1b``, ``eu-west-1c``).
        cluster_name (str): EKS cluster name for the ``karpenter.sh/discovery`` and ``kubernetes.io/cluster/<name>``
            subnet tags.
        kms_key_arn (pulumi.Input[str]): CMK that encrypts the flow log group.
        opts (pulumi.ResourceOptions | None, default None): options of the component.

    Outputs:
        plan (SubnetPlan): zones and subnet CIDRs (pure function :func:`plan_subnets`).
        vpc, public_subnets, private_subnets, flow_log_group, flow_log: the children.
        Registered outputs: ``vpcId``, ``privateSubnetIds``, ``publicSubnetIds``.

    Secure choices:
        - nodes only in private subnets (``kubernetes.io/role/internal-elb``); public subnets
          (``kubernetes.io/role/elb``) are for load balancers and never map public IPs on launch;
        - the default security group allows nothing;
        - every flow, accepted and rejected, logged to a CMK-encrypted log group with bounded retention.
    """

    def __init__(
        self,
        name: str,
        cfg: NetworkConfig,
        region: str,
        cluster_name: str,
        kms_key_arn: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("inferstack:aws:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.plan = plan_subnets(cfg.cidr, region, cfg.availability_zones, cfg.zones)
        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc", cidr_block=cfg.cidr, enable_dns_hostnames=True, enable_dns_support=True, tags={"Name": name}, opts=child
        )
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=self.vpc.id, ingress=[], egress=[], opts=child)
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=self.vpc.id, tags={"Name": name}, opts=child)
        public_rt = aws.ec2.RouteTable(
            f"{name}-public",
            vpc_id=self.vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
            tags={"Name": f"{name}-public"},
            opts=child,
        )
        cluster_tag = {f"kubernetes.io/cluster/{cluster_name}": "shared"}
        self.public_subnets: list[aws.ec2.Subnet] = []
        self.private_subnets: list[aws.ec2.Subnet] = []
        nats: list[aws.ec2.NatGateway] = []
        for i, zone in enumerate(self.plan.zones):
            pub = aws.ec2.Subnet(
                f"{name}-public-{zone}",
                vpc_id=self.vpc.id,
                availability_zone=zone,
                cidr_block=self.plan.public[i],
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-public-{zone}", "kubernetes.io/role/elb": "1", **cluster_tag},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(f"{name}-public-{zone}", subnet_id=pub.id, route_table_id=public_rt.id, opts=child)
            self.public_subnets.append(pub)
            if i < min(cfg.nat_gateways, cfg.availability_zones):
                eip = aws.ec2.Eip(f"{name}-nat-{zone}", domain="vpc", tags={"Name": f"{name}-nat-{zone}"}, opts=child)
                nats.append(
                    aws.ec2.NatGateway(
                        f"{name}-nat-{zone}",
                        allocation_id=eip.id,
                        subnet_id=pub.id,
                        tags={"Name": f"{name}-nat-{zone}"},
                        opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                    )
                )
        for i, zone in enumerate(self.plan.zones):
            nat = nats[i % len(nats)]
            rt = aws.ec2.RouteTable(
                f"{name}-private-{zone}",
                vpc_id=self.vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)],
                tags={"Name": f"{name}-private-{zone}"},
                opts=child,
            )
            sub = aws.ec2.Subnet(
                f"{name}-private-{zone}",
                vpc_id=self.vpc.id,
                availability_zone=zone,
                cidr_block=self.plan.private[i],
                tags={
                    "Name": f"{name}-private-{zone}",
                    "kubernetes.io/role/internal-elb": "1",
                    "karpenter.sh/discovery": cluster_name,
                    **cluster_tag,
                },
                opts=child,
            )
            aws.ec2.RouteTableAssociation(f"{name}-private-{zone}", subnet_id=sub.id, route_table_id=rt.id, opts=child)
            self.private_subnets.append(sub)

        self.flow_log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=f"/inferstack/{cluster_name}/vpc-flow-logs",
            retention_in_days=cfg.flow_log_retention_days,
            kms_key_id=kms_key_arn,
            opts=child,
        )
        flow_role = aws.iam.Role(
            f"{name}-flow-logs",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Principal": {"Service": "vpc-flow-logs.amazonaws.com"}, "Action": "sts:AssumeRole"}
                    ],
                }
            ),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs",
            role=flow_role.id,
            policy=self.flow_log_group.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                                "Resource": [arn, f"{arn}:*"],
                            }
                        ],
                    }
                )
            ),
            opts=child,
        )
        self.flow_log = aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=self.flow_log_group.arn,
            iam_role_arn=flow_role.arn,
            max_aggregation_interval=60,
            opts=child,
        )
        self.register_outputs(
            {"vpcId": self.vpc.id, "privateSubnetIds": [s.id for s in self.private_subnets], "publicSubnetIds": [s.id for s in self.public_subnets]}
        )
