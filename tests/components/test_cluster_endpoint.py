"""``inferstack:cluster.endpoint``: where the Kubernetes API is reachable from (docs/deploy.md).

Bad input is one ``error:`` line naming the key, exit 2, nothing written; the components pass the real SDK
arguments (EKS ``vpc_config`` and security group rules, GKE master authorized networks and private endpoint).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from inferstack.components.aws.cluster import endpoint_access
from inferstack.components.gcp.cluster import authorized_networks
from inferstack.config import ConfigError
from inferstack.config.platform import ClusterConfig, NetworkConfig
from inferstack.engine import run_stack
from inferstack.load import load_stack
from tests.conftest import stack_config

EKS = "aws:eks/cluster:Cluster"
GKE = "gcp:container/cluster:Cluster"
SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def _load(stack: str, values: dict[str, Any]):
    return load_stack(stack, values, secret_keys=stack_config(stack).secret_keys)


def _with_endpoint(stack: str, endpoint: dict[str, Any], environment: str | None = None) -> dict[str, Any]:
    values = dict(stack_config(stack).values)
    values["inferstack:cluster"] = {**(values.get("inferstack:cluster") or {}), "endpoint": endpoint}
    if environment:
        values["inferstack:environment"] = environment
    return values


BAD = [
    ({"access": "public", "publicAccessCidrs": ["0.0.0.0/0"]}, "prod", "inferstack:cluster.endpoint.publicAccessCidrs",
     "0.0.0.0/0 opens the Kubernetes API to the whole internet"),
    ({"access": "public", "publicAccessCidrs": ["0.0.0.0/0"]}, "dev", "inferstack:cluster.endpoint.publicAccessCidrs",
     "0.0.0.0/0 opens the Kubernetes API to the whole internet"),
    ({"access": "public", "publicAccessCidrs": ["198.51.100.7/24"]}, "dev", "inferstack:cluster.endpoint.publicAccessCidrs",
     "has host bits set"),
    ({"access": "public", "publicAccessCidrs": ["office"]}, "dev", "inferstack:cluster.endpoint.publicAccessCidrs",
     "not an IPv4 network CIDR"),
    ({"access": "public", "publicAccessCidrs": ["2001:db8::/32"]}, "dev", "inferstack:cluster.endpoint.publicAccessCidrs",
     "not an IPv4 network CIDR"),
    ({"publicAccessCidrs": ["198.51.100.0/24"]}, "prod", "inferstack:cluster.endpoint.publicAccessCidrs",
     "publicAccessCidrs is for access: public"),
    ({"access": "public"}, "dev", "inferstack:cluster.endpoint", "access: public needs publicAccessCidrs"),
    ({"access": "open"}, "dev", "inferstack:cluster.endpoint.access", "private"),
    ({"privateAccessCidrs": ["8.8.8.0/24"]}, "prod", "inferstack:cluster.endpoint.privateAccessCidrs", "not a private range"),
]


@pytest.mark.parametrize(("endpoint", "environment", "key", "message"), BAD)
@pytest.mark.parametrize("stack", ["prod", "gcp-prod"])
def test_bad_endpoint_settings_are_config_errors_naming_the_key(
    stack: str, endpoint: dict[str, Any], environment: str, key: str, message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        _load(stack, _with_endpoint(stack, endpoint, environment))
    paths = {i.path: i.message for i in err.value.issues}
    assert key in paths and message in paths[key], paths


def test_the_old_flat_keys_are_refused_by_name() -> None:
    values = dict(stack_config("dev").values)
    values["inferstack:cluster"] = {"publicEndpoint": True, "publicAccessCidrs": ["198.51.100.0/24"]}
    with pytest.raises(ConfigError) as err:
        load_stack("dev", values)
    assert {"inferstack:cluster.publicEndpoint", "inferstack:cluster.publicAccessCidrs"} <= {i.path for i in err.value.issues}


def test_cli_refuses_an_open_endpoint_in_prod_with_one_error_line_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(yaml.safe_dump({"config": _with_endpoint("prod", {"access": "public", "publicAccessCidrs": ["0.0.0.0/0"]})}))
    out = tmp_path / "preview.json"
    proc = subprocess.run(
        [sys.executable, "-m", "inferstack", "preview", "--config", str(path), "--format", "json", "--out", str(out)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "inferstack:cluster.endpoint.publicAccessCidrs" in lines[0] and "0.0.0.0/0" in lines[0]
    assert "Traceback" not in proc.stderr and not out.exists()


def test_endpoint_defaults_to_private_and_keeps_the_private_endpoint_on() -> None:
    cfg = ClusterConfig()
    assert cfg.endpoint.access.value == "private" and not cfg.endpoint.public
    assert endpoint_access(cfg) == (False, None)
    net = NetworkConfig(cidr="10.50.0.0/20")
    assert authorized_networks(net, cfg) == ["10.50.0.0/20"]
    runners = ClusterConfig.model_validate({"endpoint": {"privateAccessCidrs": ["10.99.0.0/24", "10.50.0.0/20"]}})
    assert authorized_networks(net, runners) == ["10.50.0.0/20", "10.99.0.0/24"]  # listed once each


def test_eks_restricted_public_endpoint_and_in_network_runner_rules() -> None:
    endpoint = {"access": "public", "publicAccessCidrs": ["198.51.100.0/24", "192.0.2.10/32"], "privateAccessCidrs": ["10.30.240.0/24"]}
    rec = run_stack(_load("prod", _with_endpoint("prod", endpoint)))
    (cluster,) = rec.by_type(EKS)
    vpc = cluster.inputs["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True and vpc["endpointPublicAccess"] is True
    assert vpc["publicAccessCidrs"] == ["198.51.100.0/24", "192.0.2.10/32"]
    (rule,) = [r for r in rec.by_type(SG_INGRESS) if r.name.startswith("prod-cluster-api-from-")]
    assert rule.inputs == {
        "securityGroupId": rule.inputs["securityGroupId"], "cidrIpv4": "10.30.240.0/24", "ipProtocol": "tcp",
        "fromPort": 443, "toPort": 443,
        "description": "Kubernetes API from an in-network runner (cluster.endpoint.privateAccessCidrs)",
    }  # fmt: skip
    assert rule.inputs["securityGroupId"] == cluster.outputs["vpcConfig"]["clusterSecurityGroupId"]


def test_eks_private_endpoint_has_no_public_cidrs() -> None:
    rec = run_stack(_load("prod", _with_endpoint("prod", {"privateAccessCidrs": ["10.30.240.0/24"]})))
    (cluster,) = rec.by_type(EKS)
    vpc = cluster.inputs["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True and vpc["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in vpc


@pytest.mark.parametrize(
    ("endpoint", "private_endpoint", "blocks"),
    [
        ({}, True, ["10.50.0.0/20"]),
        ({"privateAccessCidrs": ["10.60.0.0/24"]}, True, ["10.50.0.0/20", "10.60.0.0/24"]),
        ({"access": "public", "publicAccessCidrs": ["198.51.100.0/24"]}, False, ["10.50.0.0/20", "198.51.100.0/24"]),
    ],
)
def test_gke_private_endpoint_and_master_authorized_networks(endpoint: dict, private_endpoint: bool, blocks: list[str]) -> None:
    rec = run_stack(_load("gcp-prod", _with_endpoint("gcp-prod", endpoint)))
    (cluster,) = rec.by_type(GKE)
    i = cluster.inputs
    assert i["privateClusterConfig"]["enablePrivateNodes"] is True
    assert i["privateClusterConfig"]["enablePrivateEndpoint"] is private_endpoint
    assert [b["cidrBlock"] for b in i["masterAuthorizedNetworksConfig"]["cidrBlocks"]] == blocks
    assert i["masterAuthorizedNetworksConfig"]["gcpPublicCidrsAccessEnabled"] is False
