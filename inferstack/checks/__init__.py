"""Cross-field checks of a stack config that pydantic's per-field validation cannot express.

Each check is a plain function ``check_*(cfg: StackConfig) -> Iterable[ConfigIssue]``; :data:`CHECKS` lists every
one, in report order, and :func:`run_checks` runs them all. ``inferstack.load.load_stack`` calls it after parsing
and deriving; nothing registers itself at import time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from inferstack.checks.access import check_gke_access_entries
from inferstack.checks.capacity import check_capacity_plans, check_pricing_overrides, check_replicas_fit_pools
from inferstack.checks.cluster import check_cluster_version, check_existing_cluster
from inferstack.checks.gpu_sharing import check_gpu_sharing
from inferstack.checks.llm import check_llm_models, check_predictive_settings
from inferstack.checks.models import (
    check_model_autoscaling,
    check_model_canaries,
    check_model_exposure,
    check_model_references,
    check_model_throughput,
)
from inferstack.checks.names import check_names
from inferstack.checks.pools import check_accelerator_pools, check_tpu_topology, notice_accelerator_regions
from inferstack.checks.principals import check_principals
from inferstack.checks.residency import check_region, notice_allowed_regions
from inferstack.checks.runtimes import check_runtimes
from inferstack.checks.scheduling import check_scheduling
from inferstack.checks.secrets import check_secrets
from inferstack.checks.zones import check_capacity_ladders, check_zones, notice_zones
from inferstack.config.stack import ConfigIssue, StackConfig

Check = Callable[[StackConfig], Iterable[ConfigIssue]]

#: Every cross-field check, in the order its issues are reported.
CHECKS: tuple[Check, ...] = (
    check_region,
    check_cluster_version,
    check_existing_cluster,
    check_accelerator_pools,
    check_model_references,
    check_tpu_topology,
    check_zones,
    check_capacity_ladders,
    check_gke_access_entries,
    check_principals,
    check_capacity_plans,
    check_replicas_fit_pools,
    check_pricing_overrides,
    check_secrets,
    check_model_autoscaling,
    check_model_canaries,
    check_model_exposure,
    check_model_throughput,
    check_gpu_sharing,
    check_runtimes,
    check_llm_models,
    check_predictive_settings,
    check_scheduling,
    check_names,
)


#: Checks whose findings are warnings: the stack is used, and the finding is printed (CLI) or logged (``pulumi up``).
NOTICES: tuple[Check, ...] = (notice_zones, notice_accelerator_regions, notice_allowed_regions)


def run_checks(cfg: StackConfig) -> list[ConfigIssue]:
    """Every issue :data:`CHECKS` find in ``cfg``."""
    return [issue for check in CHECKS for issue in check(cfg)]


def run_notices(cfg: StackConfig) -> list[ConfigIssue]:
    """Every warning :data:`NOTICES` find in ``cfg`` (run on a stack that passed :func:`run_checks`)."""
    return [issue for check in NOTICES for issue in check(cfg)]
