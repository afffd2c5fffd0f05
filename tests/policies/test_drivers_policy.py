"""accelerator-drivers-declared: accelerator node groups labelled with the catalogue's driver and runtime pass; a
missing or stale label, or a GKE GPU pool without GKE's driver, is a finding naming the fix."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from inferstack.catalog.clouds import Cloud
from inferstack.catalog.drivers import DRIVER_LABEL, driver_labels
from inferstack.catalog.versions import GKE_GPU_DRIVER_VERSION
from inferstack.policies.pack import ENTRY_BY_NAME
from tests.policies.test_rules import Case, Res, _findings, case_tests, one

NODEPOOL = "kubernetes:karpenter.sh/v1:NodePool"
GKE_POOL = "gcp:container/nodePool:NodePool"
NAME = "accelerator-drivers-declared"


def karpenter(kind: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"spec": {"template": {"metadata": {"labels": {"inferstack.io/accelerator": kind, **labels}},
                                  "spec": {"taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]}}}}


def gke(kind: str, labels: dict[str, str], driver: str | None = GKE_GPU_DRIVER_VERSION) -> dict[str, Any]:
    acc: dict[str, Any] = {"type": kind, "count": 1}
    if driver is not None:
        acc["gpuDriverInstallationConfig"] = {"gpuDriverVersion": driver}
    return {"cluster": "c", "location": "europe-west4",
            "nodeConfig": {"machineType": "g2-standard-8", "labels": {"inferstack.io/accelerator": kind, **labels},
                           "guestAccelerators": [acc]}}


def messages(type_: str, props: dict[str, Any]) -> list[str]:
    return [f.message for f in _findings(one(type_, props), NAME)]


def test_registered_advisory_in_dev_mandatory_elsewhere() -> None:
    entry = ENTRY_BY_NAME[NAME]
    assert entry.level("dev") == "advisory" and entry.level("prod") == "mandatory"


@pytest.mark.parametrize("kind", ["nvidia-l4", "aws-inferentia2"])
def test_labelled_karpenter_pool_passes(kind: str) -> None:
    assert messages(NODEPOOL, karpenter(kind, driver_labels(Cloud.AWS, kind))) == []


def test_gke_gpu_and_tpu_pools_pass() -> None:
    assert messages(GKE_POOL, gke("nvidia-l4", driver_labels(Cloud.GCP, "nvidia-l4"))) == []
    tpu = gke("tpu-v5e", driver_labels(Cloud.GCP, "tpu-v5e"))
    del tpu["nodeConfig"]["guestAccelerators"]
    assert messages(GKE_POOL, tpu) == []


def test_missing_or_stale_labels_are_findings() -> None:
    bare = messages(NODEPOOL, karpenter("nvidia-l4", {}))
    assert len(bare) == 1 and "inferstack.io/node-image=None" in bare[0] and "inferstack.io/driver" in bare[0]
    stale = copy.deepcopy(driver_labels(Cloud.AWS, "nvidia-l4"))
    stale[DRIVER_LABEL] = "nvidia-535"
    (msg,) = messages(NODEPOOL, karpenter("nvidia-l4", stale))
    assert "inferstack.io/driver=nvidia-535 (expected nvidia-580)" in msg


@pytest.mark.parametrize("driver", [None, "INSTALLATION_DISABLED", "DEFAULT"])
def test_gke_gpu_pool_without_the_catalogue_driver_is_a_finding(driver: str | None) -> None:
    (msg,) = messages(GKE_POOL, gke("nvidia-l4", driver_labels(Cloud.GCP, "nvidia-l4"), driver=driver))
    assert "gpuDriverVersion" in msg and GKE_GPU_DRIVER_VERSION in msg


def test_general_purpose_pools_are_not_judged() -> None:
    assert messages(NODEPOOL, {"spec": {"template": {"metadata": {"labels": {"inferstack.io/pool": "system"}}}}}) == []
    assert messages(GKE_POOL, {"nodeConfig": {"machineType": "e2-standard-4", "labels": {}}}) == []


#: The harness's cases (tests/policies/test_rules.py: every policy has a compliant fixture and a one-field violation).
CASES = [
    Case("karpenter-stale-driver-label", NAME, (Res(NODEPOOL, karpenter("nvidia-l4", driver_labels(Cloud.AWS, "nvidia-l4"))),),
         (0, "props", "spec", "template", "metadata", "labels", DRIVER_LABEL), "nvidia-535"),
    Case("gke-gpu-driver-disabled", NAME, (Res(GKE_POOL, gke("nvidia-l4", driver_labels(Cloud.GCP, "nvidia-l4"))),),
         (0, "props", "nodeConfig", "guestAccelerators", 0, "gpuDriverInstallationConfig", "gpuDriverVersion"),
         "INSTALLATION_DISABLED"),
]


test_case_compliant_fixture_passes, test_case_one_field_change_violates = case_tests(CASES)
