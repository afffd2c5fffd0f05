"""Scheduling per accelerator kind: device resources, node selectors, tolerations, scheduler (pure, no Pulumi)."""

from __future__ import annotations

import pytest

from inferstack.catalog.accelerators import ACCELERATOR_LABEL, POOL_LABEL
from inferstack.components.platform import PoolInfo
from inferstack.config.base import Cloud
from inferstack.config.platform import AcceleratorPoolConfig
from inferstack.config.serving import ModelConfig
from inferstack.serving.placement import NEURON_SCHEDULER, placement


def model(accelerators: int = 1, pool: str | None = "pool") -> ModelConfig:
    return ModelConfig.model_validate(
        {"name": "model", "namespace": "team", "format": "huggingface", "registryModel": "model", "version": "1",
         "pool": pool, "accelerators": accelerators, "cpu": "4", "memory": "16Gi"}
    )


def pool(kind: str, **extra) -> AcceleratorPoolConfig:
    return AcceleratorPoolConfig.model_validate({"name": "pool", "kind": kind, **extra})


@pytest.mark.parametrize(
    ("kind", "cloud", "resource"),
    [
        ("nvidia-l4", Cloud.AWS, "nvidia.com/gpu"),
        ("nvidia-l4", Cloud.GCP, "nvidia.com/gpu"),
        ("nvidia-l40s", Cloud.AWS, "nvidia.com/gpu"),
        ("aws-inferentia2", Cloud.AWS, "aws.amazon.com/neuron"),
        ("aws-trainium1", Cloud.AWS, "aws.amazon.com/neuron"),
        ("tpu-v5e", Cloud.GCP, "google.com/tpu"),
    ],
)
def test_device_resource_selector_and_toleration_per_kind(kind, cloud, resource):
    p = placement(model(), pool(kind), cloud)
    assert p.devices == {resource: 1}
    assert p.node_selector[ACCELERATOR_LABEL] == kind and p.node_selector[POOL_LABEL] == "pool"
    assert p.tolerations == [{"key": resource, "operator": "Exists", "effect": "NoSchedule"}]
    res = p.resources("4", "16Gi")
    assert res["requests"] == res["limits"] == {"cpu": "4", "memory": "16Gi", resource: 1}


def test_gke_tpu_selects_accelerator_type_and_topology():
    p = placement(model(8), pool("tpu-v5e", tpuTopology="2x4"), Cloud.GCP)
    assert p.node_selector["cloud.google.com/gke-tpu-accelerator"] == "tpu-v5-lite-podslice"
    assert p.node_selector["cloud.google.com/gke-tpu-topology"] == "2x4"
    assert p.devices == {"google.com/tpu": 8}
    # without a topology: the single-host shape of devicesPerNode (default the smallest)
    assert placement(model(4), pool("tpu-v5e", devicesPerNode=4), Cloud.GCP).node_selector["cloud.google.com/gke-tpu-topology"] == "2x2"


def test_gpu_models_have_no_tpu_selectors_and_default_scheduler():
    p = placement(model(), pool("nvidia-l4"), Cloud.GCP)
    assert not any(k.startswith("cloud.google.com/gke-tpu") for k in p.node_selector)
    assert p.scheduler_name is None


def test_neuron_multi_device_uses_neuron_scheduler():
    assert placement(model(1), pool("aws-inferentia2"), Cloud.AWS).scheduler_name is None
    assert placement(model(6), pool("aws-inferentia2"), Cloud.AWS).scheduler_name == NEURON_SCHEDULER


def test_cpu_only_model_has_no_placement():
    p = placement(model(0, pool=None), None, Cloud.AWS)
    assert (p.devices, p.node_selector, p.tolerations, p.scheduler_name) == ({}, {}, [], None)
    assert p.resources("1", "2Gi") == {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}}


def test_platform_pool_info_adds_and_overrides_labels():
    info = PoolInfo(
        name="pool", kind="nvidia-l4", max_nodes=4, devices_per_node=1,
        node_selector={POOL_LABEL: "pool", "cloud.google.com/gke-accelerator": "nvidia-l4"},
        taint_key="nvidia.com/gpu", device_resource="nvidia.com/gpu",
    )
    p = placement(model(), pool("nvidia-l4"), Cloud.GCP, info)
    assert p.node_selector == {
        ACCELERATOR_LABEL: "nvidia-l4", POOL_LABEL: "pool", "cloud.google.com/gke-accelerator": "nvidia-l4"
    }


def test_unknown_kind_on_cloud_is_an_error():
    with pytest.raises(ValueError, match="not offered on aws"):
        placement(model(), pool("tpu-v5e"), Cloud.AWS)
