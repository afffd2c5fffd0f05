"""GPU allocation and sharing config: pool keys (allocation, sharing), a model's slice (gpu), the slice in the capacity
plan and the memory-fit check; every bad input is one error naming the key and what is allowed."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from inferstack import sizing
from inferstack.catalog import accelerators, gpu_sharing
from inferstack.config import ConfigError
from inferstack.config.platform import AcceleratorPoolConfig, GpuAllocation
from inferstack.load import load_stack
from tests.sizing.test_capacity_planner import MODEL, aws_config
from tests.sizing.test_capacity_planner import gcp_config as _gcp_config

A100_MIG = {"name": "gpu", "kind": "nvidia-a100", "maxNodes": 2, "devicesPerNode": 1, "sharing": {"mig": "1g.10gb"}}
L4_SLICED = {"name": "gpu", "kind": "nvidia-l4", "maxNodes": 2, "sharing": {"timeSlicingReplicas": 4}}


def gcp_config(pools: list[dict[str, Any]], models: list[dict[str, Any]]) -> dict[str, Any]:
    """The planner tests' GCP config with a project id GCP accepts (gcp:project is checked against its rule)."""
    return {**_gcp_config(pools, models), "gcp:project": "acme-ml"}


def problems(config: dict[str, Any], key: str) -> list[str]:
    """The config errors of ``config`` at ``key`` (other checks' findings are ignored)."""
    try:
        load_stack("t", config)
    except ConfigError as err:
        return [line for line in str(err).splitlines() if key in line]
    return []


def pool(**kw: Any) -> AcceleratorPoolConfig:
    return AcceleratorPoolConfig.model_validate({"name": "gpu", "kind": "nvidia-a100", **kw})


def test_pool_defaults_to_device_plugin_whole_gpus():
    p = pool()
    assert p.allocation is GpuAllocation.DEVICE_PLUGIN and p.sharing is None and p.slices_per_device() == 1


def test_mig_profile_gives_its_instances_per_gpu():
    assert pool(sharing={"mig": "1g.10gb"}).slices_per_device() == 4
    assert pool(sharing={"mig": "1g.5gb"}).slices_per_device() == 7
    assert pool(kind="nvidia-h100", sharing={"mig": "3g.40gb"}).slices_per_device() == 2


def test_time_slicing_gives_its_replicas():
    assert pool(kind="nvidia-l4", sharing={"timeSlicingReplicas": 4}).slices_per_device() == 4


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"sharing": {"mig": "1g.9gb"}}, "'1g.9gb' is not a MIG profile of nvidia-a100; allowed: 1g.5gb, 1g.10gb, 2g.10gb"),
        ({"kind": "nvidia-l4", "sharing": {"mig": "1g.10gb"}}, "nvidia-l4 has no MIG profiles; MIG-capable kinds: nvidia-a100, nvidia-h100"),
        ({"kind": "tpu-v5e", "allocation": "dra"}, "allocation: dra is for NVIDIA GPU pools; tpu-v5e is a tpu kind"),
        ({"kind": "aws-inferentia2", "sharing": {"timeSlicingReplicas": 2}}, "sharing is for NVIDIA GPU pools"),
        ({"allocation": "dra", "sharing": {"mig": "1g.10gb"}}, "a dra pool allocates whole GPUs"),
        ({"sharing": {}}, "give exactly one of mig"),
        ({"sharing": {"mig": "1g.10gb", "timeSlicingReplicas": 2}}, "give exactly one of mig"),
        ({"sharing": {"timeSlicingReplicas": 49}}, "less than or equal to 48"),
        ({"allocation": "shared"}, "'device-plugin' or 'dra'"),
    ],
)
def test_bad_pool_settings_are_refused_with_what_is_allowed(kw, message):
    with pytest.raises(ValidationError) as err:
        pool(**kw)
    assert message in str(err.value)


def test_model_on_a_mig_pool_fits_the_slice_in_capacity():
    # 2 nodes x 1 A100 x 4 slices of 1g.10gb hold 8 replicas of one slice each.
    m = {**MODEL, "gpu": "1g.10gb", "maxReplicas": 8, "cpu": "2", "memory": "16Gi"}
    assert problems(gcp_config([A100_MIG], [m]), "models[0]") == []
    over = problems(gcp_config([A100_MIG], [{**m, "maxReplicas": 9}]), "models[0].maxReplicas")
    assert len(over) == 1 and "need 9 nvidia-a100 devices" in over[0] and "the pool holds 8" in over[0]


def test_model_on_a_shared_pool_must_name_the_slice():
    [line] = problems(aws_config(pools=[L4_SLICED]), "models[0].gpu")
    assert "pool gpu shares its GPUs (shared slices); set gpu: shared" in line


def test_model_slice_must_be_the_pools():
    [line] = problems(gcp_config([A100_MIG], [{**MODEL, "gpu": "3g.20gb"}]), "models[0].gpu")
    assert "pool gpu offers '1g.10gb' slices; got '3g.20gb'" in line


def test_slice_on_a_whole_gpu_pool_is_refused():
    [line] = problems(aws_config(models=[{**MODEL, "gpu": "shared"}]), "models[0].gpu")
    assert "pool gpu does not share its GPUs; drop gpu" in line


def test_slice_is_one_per_replica():
    lines = problems(aws_config(pools=[L4_SLICED], models=[{**MODEL, "gpu": "shared", "accelerators": 2}]), "models[0].accelerators")
    [line] = [x for x in lines if "slice" in x]
    assert "requests exactly one slice; got accelerators: 2" in line


def test_malformed_slice_names_the_pattern():
    [line] = problems(aws_config(models=[{**MODEL, "gpu": "half"}]), "models[0].gpu")
    assert "half" in line


def test_mig_is_refused_on_eks():
    pools = [{**A100_MIG, "kind": "nvidia-a100", "devicesPerNode": 8}]
    [line] = problems(aws_config(pools=pools, models=[{**MODEL, "gpu": "1g.10gb"}]), "acceleratorPools[0].sharing.mig")
    assert "MIG partitions on EKS need NVIDIA's MIG manager" in line and "timeSlicingReplicas" in line


def test_measurement_slice_must_exist_for_its_kind():
    m = {**MODEL, "throughput": [{"kind": "nvidia-a100", "gpu": "1g.7gb", "requestsPerSecond": 3}]}
    [line] = problems(aws_config(models=[m]), "models[0].throughput[0].gpu")
    assert "'1g.7gb' is not a MIG profile of nvidia-a100" in line


def test_a_kind_may_be_measured_whole_and_on_a_slice():
    m = {**MODEL, "throughput": [{"kind": "nvidia-l4", "requestsPerSecond": 6}, {"kind": "nvidia-l4", "gpu": "shared", "requestsPerSecond": 2}]}
    assert problems(aws_config(models=[m]), "throughput") == []


def test_slice_memory_mig_time_slice_and_whole():
    a100 = accelerators.CATALOG["nvidia-a100"]
    l4 = accelerators.CATALOG["nvidia-l4"]
    assert sizing.slice_memory_gib(pool(sharing={"mig": "1g.10gb"}), a100) == 10
    assert sizing.slice_memory_gib(pool(kind="nvidia-l4", sharing={"timeSlicingReplicas": 4}), l4) == 6
    assert sizing.slice_memory_gib(pool(), a100) == 40
    assert sizing.sliced(pool(), a100) is a100


def test_llm_memory_fit_uses_the_slice():
    # An 8B model in bf16 (16 GB of weights) fits a whole A100 (40 GB) but not a 1g.10gb slice.
    llm = {"shape": {"parametersB": 8, "layers": 32, "kvHeads": 8, "headDim": 128}, "vllm": {"maxModelLen": 4096}}
    whole = {**A100_MIG, "sharing": None}
    whole.pop("sharing")
    assert problems(gcp_config([whole], [{**MODEL, "llm": llm}]), "models[0].llm") == []
    lines = problems(gcp_config([A100_MIG], [{**MODEL, "gpu": "1g.10gb", "llm": llm}]), "models[0].llm")
    assert len(lines) == 1 and "exceed 10.0 GiB x gpuMemoryUtilization 0.9 = 9.0 GiB" in lines[0]


def test_cel_selectors_match_product_and_memory():
    assert gpu_sharing.product_selector("nvidia-l40s") == (
        "device.driver == 'gpu.nvidia.com' && device.attributes['gpu.nvidia.com'].productName.lowerAscii().matches('^.*l40s.*$')"
    )
    assert gpu_sharing.memory_selector(45.6) == "device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('45Gi')) >= 0"


def test_cli_bad_allocation_is_one_error_line_exit_2(tmp_path, capsys):
    from inferstack.cli import main
    from tests.conftest import stack_path

    text = stack_path("prod").read_text().replace("      allocation: dra", "      allocation: shared", 1)
    assert "allocation: shared" in text
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text(text)
    assert main(["config", "validate", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "allocation: Input should be 'device-plugin' or 'dra' (got \"shared\")" in err
    assert err.startswith("error:") and "Traceback" not in err


def test_dra_prefill_takes_the_models_claim():
    llm = {"shape": {"parametersB": 8, "layers": 32, "kvHeads": 8, "headDim": 128}, "vllm": {"maxModelLen": 4096},
           "prefillDecode": {"prefillReplicas": 1, "prefillAccelerators": 2}}
    pools = [{"name": "gpu", "kind": "nvidia-l4", "maxNodes": 4, "devicesPerNode": 4, "allocation": "dra"}]
    lines = problems(aws_config(pools=pools, models=[{**MODEL, "llm": llm}]), "prefillAccelerators")
    assert len(lines) == 1 and "claim the model's ResourceClaimTemplate (1 GPU(s))" in lines[0]
