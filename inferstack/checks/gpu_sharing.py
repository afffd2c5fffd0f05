"""Checks of GPU allocation and sharing: a model on a shared pool asks for the pool's slice (``gpu``), and only
there; a measurement names a slice its kind has; MIG on EKS is refused (it needs NVIDIA's MIG manager, which
inferstack does not install: time-slicing works through the device plugin's config alone)."""

from __future__ import annotations

from collections.abc import Iterable

from inferstack.catalog import gpu_sharing
from inferstack.config.base import Cloud
from inferstack.config.platform import AcceleratorPoolConfig, GpuAllocation
from inferstack.config.stack import ConfigIssue, StackConfig


def pool_slice(pool: AcceleratorPoolConfig) -> str | None:
    """What a model on ``pool`` names in ``gpu``: the MIG profile, ``shared`` for time-slicing, None (whole GPUs)."""
    if pool.sharing is None:
        return None
    return pool.sharing.mig or gpu_sharing.TIME_SLICE


def check_gpu_sharing(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """Shared pools' models ask for the pool's slice, one per replica; ``gpu`` only on shared pools; MIG on GKE only;
    a throughput measurement's ``gpu`` is a slice its kind offers."""
    pools = {p.name: p for p in cfg.settings.accelerator_pools}
    for i, pool in enumerate(cfg.settings.accelerator_pools):
        if pool.sharing is not None and pool.sharing.mig is not None and cfg.cloud is Cloud.AWS:
            yield ConfigIssue(
                ("acceleratorPools", i, "sharing", "mig"),
                "MIG partitions on EKS need NVIDIA's MIG manager, which inferstack does not install; use "
                "timeSlicingReplicas on AWS (MIG is supported on GKE, where the node pool partitions the GPUs)",
            )
    for i, model in enumerate(cfg.settings.models):
        loc = ("models", i)
        pool = pools.get(model.pool or "")
        want = pool_slice(pool) if pool else None
        if model.gpu is not None:
            if pool is None:
                yield ConfigIssue((*loc, "gpu"), "gpu (a GPU slice) needs a pool whose sharing is set")
            elif want is None:
                yield ConfigIssue(
                    (*loc, "gpu"),
                    f"pool {pool.name} does not share its GPUs; drop gpu, or run the model on a pool with sharing "
                    "(mig: <profile> or timeSlicingReplicas)",
                )
            elif model.gpu != want:
                yield ConfigIssue((*loc, "gpu"), f"pool {pool.name} offers {want!r} slices; got {model.gpu!r}")
            elif model.accelerators != 1:
                yield ConfigIssue(
                    (*loc, "accelerators"), f"a replica on a GPU slice requests exactly one slice; got accelerators: {model.accelerators}"
                )
            elif model.llm is not None and (
                model.llm.vllm.tensor_parallel_size > 1 or model.llm.nodes_per_replica > 1 or model.llm.prefill_decode is not None
            ):
                yield ConfigIssue(
                    (*loc, "gpu"),
                    "a model on a GPU slice runs on one slice: no tensor parallelism, multi-node replicas or prefill/decode",
                )
        elif want is not None and model.accelerators > 0:
            yield ConfigIssue(
                (*loc, "gpu"),
                f"pool {pool.name} shares its GPUs ({want} slices); set gpu: {want} (one slice per replica), or use "
                "a pool without sharing",
            )
        if (
            pool is not None and pool.allocation is GpuAllocation.DRA and model.llm is not None
            and model.llm.prefill_decode is not None and model.llm.prefill_decode.prefill_accelerators not in (None, model.accelerators)
        ):
            yield ConfigIssue(
                (*loc, "llm", "prefillDecode", "prefillAccelerators"),
                f"on a dra pool the prefill pods claim the model's ResourceClaimTemplate ({model.accelerators} GPU(s)); "
                "drop prefillAccelerators or set it to the model's accelerators",
            )
        for j, t in enumerate(model.throughput):
            if t.gpu is None or t.gpu == gpu_sharing.TIME_SLICE:
                continue
            try:
                gpu_sharing.mig_profile(t.kind, t.gpu)
            except ValueError as err:
                yield ConfigIssue((*loc, "throughput", j, "gpu"), str(err))
