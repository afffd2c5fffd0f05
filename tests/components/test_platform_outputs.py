"""The platform stack's outputs, as team stacks read them through a StackReference (examples/team-serving)."""

from __future__ import annotations

import json

import pytest
import yaml

from inferstack.components.platform import PoolInfo
from inferstack.config.platform import AcceleratorPoolConfig
from inferstack.engine import Secret
from tests.conftest import REFERENCE_STACKS, REPO, recording, stack_config


@pytest.mark.parametrize("stack", REFERENCE_STACKS)
def test_platform_exports_cluster_kubeconfig_and_pools(stack: str) -> None:
    out = recording(stack).outputs
    assert set(out) == {"cluster_name", "kubeconfig", "pools", "registry_bucket", "registry_reader_identity", "team_namespaces"}
    reader = out["registry_reader_identity"]
    assert reader.startswith("arn:aws:iam::") if stack_config(stack).cloud.value == "aws" else reader.endswith(".iam.gserviceaccount.com")
    assert out["team_namespaces"] == stack_config(stack).team_namespaces
    assert out["cluster_name"] == f"inferstack-{stack}"
    # The kubeconfig is a secret output and holds no credential: the user runs the cloud's exec plugin.
    assert isinstance(out["kubeconfig"], Secret)
    kubeconfig = json.loads(out["kubeconfig"].value)
    (user,) = kubeconfig["users"]
    assert set(user["user"]) == {"exec"}
    assert user["user"]["exec"]["command"] in {"aws", "gke-gcloud-auth-plugin"}
    cfg = stack_config(stack)
    assert sorted(out["pools"]) == sorted(p.name for p in cfg.settings.accelerator_pools)
    for name, entry in out["pools"].items():
        info = PoolInfo.from_output(name, entry)
        assert info.to_output() == entry
        assert info.kind == cfg.pool(name).kind and info.max_nodes == cfg.pool(name).max_nodes
        # A team stack rebuilds the pool's GPU allocation and sharing from gpuAccess (absent: whole GPUs, device plugin).
        rebuilt = AcceleratorPoolConfig.model_validate({"name": name, "kind": entry["kind"], **entry.get("gpuAccess", {})})
        assert (rebuilt.allocation, rebuilt.sharing) == (cfg.pool(name).allocation, cfg.pool(name).sharing)
        assert ("gpuAccess" in entry) == (cfg.pool(name).allocation.value == "dra" or cfg.pool(name).sharing is not None)
        if cfg.cloud.value == "gcp":
            assert entry["tolerations"] == [
                {"key": "cloud.google.com/compute-class", "operator": "Equal", "value": f"inferstack-{name}", "effect": "NoSchedule"}
            ]


def test_team_serving_sample_matches_the_prod_platform_outputs() -> None:
    sample = yaml.safe_load((REPO / "examples" / "team-serving" / "Pulumi.prod.yaml").read_text())["config"]
    platform = sample["inferstack-offline:stackOutputs"][sample["team-serving:platformStack"]]["outputs"]
    prod = recording("prod").outputs
    assert platform["pools"] == prod["pools"]
    assert platform["team_namespaces"] == prod["team_namespaces"]
