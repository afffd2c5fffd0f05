"""Data sources a team program looks up before it declares anything: a hosted zone, the latest Amazon Linux AMI,
the caller's account, the region's availability zones and the GKE versions of a location."""

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp

config = pulumi.Config()
domain = config.require("domain")

# Plain forms: the program needs the values now.
zone = aws.route53.get_zone(name=domain, private_zone=False)
identity = aws.get_caller_identity()
azs = aws.get_availability_zones(state="available")

# Output forms: the values flow into resources as outputs.
ami = aws.ec2.get_ami_output(
    most_recent=True,
    owners=["amazon"],
    filters=[aws.ec2.GetAmiFilterArgs(name="name", values=["al2023-ami-2023.*-x86_64"])],
)
versions = gcp.container.get_engine_versions_output(location="us-central1", version_prefix="1.33.")

vpc = aws.ec2.Vpc("main", cidr_block="10.20.0.0/16", tags={"Owner": identity.account_id})
subnets = [
    aws.ec2.Subnet(f"public-{i}", vpc_id=vpc.id, cidr_block=f"10.20.{i}.0/24", availability_zone=az)
    for i, az in enumerate(azs.names[:2])
]

web = aws.ec2.Instance(
    "web",
    ami=ami.id,
    instance_type="t3.micro",
    subnet_id=subnets[0].id,
    tags={"Name": "web", "Zone": zone.name},
)

aws.route53.Record(
    "www",
    zone_id=zone.zone_id,
    name=f"www.{zone.name}",
    type="A",
    ttl=300,
    records=[web.private_ip],
)

cluster = gcp.container.Cluster(
    "gke",
    location="us-central1",
    initial_node_count=1,
    min_master_version=versions.latest_master_version,
    deletion_protection=False,
)

pulumi.export("account", identity.account_id)
pulumi.export("zoneId", zone.zone_id)
pulumi.export("amiId", ami.id)
pulumi.export("gkeVersion", versions.latest_master_version)
