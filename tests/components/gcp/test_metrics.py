"""GCP metrics: the Prometheus's Google service account (metric writer only, Workload Identity) and the GMP image."""

from __future__ import annotations

import pytest

from inferstack.catalog.versions import PROMETHEUS_GMP_IMAGE, PROMETHEUS_GMP_VERSION
from inferstack.components.gcp.metrics import METRIC_WRITER_ROLE, gmp_image, prometheus_values
from inferstack.components.platform import MONITORING_NAMESPACE, PROMETHEUS_SERVICE_ACCOUNT
from tests.conftest import GCP_STACKS, recording


def test_gmp_image_split_and_values() -> None:
    img = gmp_image()
    assert f"{img['registry']}/{img['repository']}:{img['tag']}" == PROMETHEUS_GMP_IMAGE
    v = prometheus_values("p@x.iam.gserviceaccount.com")
    assert v["prometheusSpec"]["version"] == PROMETHEUS_GMP_VERSION
    assert v["serviceAccount"]["annotations"] == {"iam.gke.io/gcp-service-account": "p@x.iam.gserviceaccount.com"}


@pytest.mark.parametrize("stack", GCP_STACKS)
def test_writer_has_only_metric_writer_and_one_workload_identity(stack: str) -> None:
    rec = recording(stack)
    (sa,) = [a for a in rec.by_type("gcp:serviceaccount/account:Account") if a.inputs["accountId"].endswith("-prometheus")]
    roles = [m.inputs["role"] for m in rec.by_type("gcp:projects/iAMMember:IAMMember") if m.inputs["member"] == sa.outputs.get("member")]
    assert roles == [METRIC_WRITER_ROLE]
    wi = [b for b in rec.by_type("gcp:serviceaccount/iAMMember:IAMMember") if b.parent == sa.urn]
    assert [b.inputs["member"] for b in wi] == [f"serviceAccount:{sa.inputs['project']}.svc.id.goog[{MONITORING_NAMESPACE}/{PROMETHEUS_SERVICE_ACCOUNT}]"]
    assert [b.inputs["role"] for b in wi] == ["roles/iam.workloadIdentityUser"]


@pytest.mark.parametrize("stack", GCP_STACKS)
def test_cluster_keeps_managed_collection_with_gke_dcgm(stack: str) -> None:
    (cluster,) = recording(stack).by_type("gcp:container/cluster:Cluster")
    mon = cluster.inputs["monitoringConfig"]
    assert mon["managedPrometheus"]["enabled"] is True
    assert "DCGM" in mon["enableComponents"]
