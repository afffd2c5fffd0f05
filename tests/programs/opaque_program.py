"""A Pulumi program with resources the policy pack cannot see inside: a dynamic provider's resource and a type of a
provider package no rule knows (Cloudflare), beside a bucket the pack does judge."""

import pulumi
import pulumi_aws as aws
from pulumi.dynamic import CreateResult, Resource, ResourceProvider


class SeedProvider(ResourceProvider):
    """Seeds the model registry's table (its code runs in the program; the pack sees only its inputs)."""

    def create(self, props):
        return CreateResult(id_="seed", outs=props)


class RegistrySeed(Resource, module="registry", name="Seed"):
    def __init__(self, name, props, opts=None):
        super().__init__(SeedProvider(), name, props, opts)


config = pulumi.Config("app")
RegistrySeed("registry-seed", {"table": "inferstack-models", **({"region": config.get("seedRegion")} if config.get("seedRegion") else {})})
pulumi.CustomResource("cloudflare:index/record:Record", "api-dns",
                      {"zoneId": "0123456789abcdef", "name": "api", "type": "CNAME", "content": "lb.example.com"})
key = aws.kms.Key("data", enable_key_rotation=True, opts=pulumi.ResourceOptions(protect=True))
