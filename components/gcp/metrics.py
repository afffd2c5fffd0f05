"""Long-term metrics on Google Cloud: Google Cloud Managed Service for Prometheus (GMP), self-deployed collection.

The cluster's Prometheus (run by prometheus-operator, the same as on EKS) runs Google's drop-in Prometheus binary,
which keeps its local TSDB (rules, KEDA queries) and also exports every scraped sample to Monarch, the Cloud
Monitoring store. It acts as a dedicated Google service account, through Workload Identity, holding only
``roles/monitoring.metricWriter``.

Why self-deployed and not GKE's managed collection: managed collection is configured with GMP's own resources
(``PodMonitoring``), has no local query endpoint for KEDA and evaluates rules in a separate rule evaluator; with the
drop-in binary both clouds share one vocabulary (ServiceMonitor, PodMonitor, PrometheusRule) and one query address.
The cluster keeps managed collection on for GKE's own system metrics and the managed DCGM exporter.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_gcp as gcp

from inferstack.catalog.versions import PROMETHEUS_GMP_IMAGE, PROMETHEUS_GMP_VERSION
from inferstack.components.gcp.identity import account_id, bind_workload_identity
from inferstack.components.platform import MONITORING_NAMESPACE, PROMETHEUS_SERVICE_ACCOUNT, MetricsOutputs

#: The only role of the Prometheus service account: write time series.
METRIC_WRITER_ROLE = "roles/monitoring.metricWriter"


def gmp_image(ref: str | None = None) -> dict[str, str]:
    """The drop-in image as kube-prometheus-stack's ``prometheusSpec.image`` (registry, repository, tag)."""
    ref = ref or PROMETHEUS_GMP_IMAGE
    registry, rest = ref.split("/", 1)
    repository, tag = rest.rsplit(":", 1)
    return {"registry": registry, "repository": repository, "tag": tag}


def prometheus_values(account_email: str) -> dict[str, Any]:
    """kube-prometheus-stack ``prometheus`` values: the service account acts as ``account_email`` (Workload Identity)
    and the Prometheus is GMP's drop-in binary (it finds project, location and cluster on the metadata server)."""
    return {
        "serviceAccount": {"name": PROMETHEUS_SERVICE_ACCOUNT, "annotations": {"iam.gke.io/gcp-service-account": account_email}},
        "prometheusSpec": {"image": gmp_image(), "version": PROMETHEUS_GMP_VERSION},
    }


class GcpMetrics(pulumi.ComponentResource):
    """The Google service account the cluster's Prometheus exports to Google Managed Prometheus with.

    Provisions a service account ``<stack>-prometheus`` in ``project``, ``roles/monitoring.metricWriter`` on the project
    for it, and a Workload Identity binding letting only ``monitoring/inferstack-prometheus`` act as it.

    Args:
        name (str): component name; children are ``<name>-writer``, ``<name>-writer-role``, ``<name>-writer-wi``.
        stack (str): stack name (service account id).
        project (str): Google Cloud project the metrics are written to.
        workload_pool (pulumi.Input[str]): the cluster's workload pool (``<project>.svc.id.goog``).
        opts (pulumi.ResourceOptions | None, default None): options of the component.

    Outputs:
        writer (gcp.serviceaccount.Account), outputs (MetricsOutputs: store ``gmp``, the chart values).
        Registered outputs: ``writerEmail``.

    Secure choices:
        - one role, metric writing only (no read, no admin); one Kubernetes service account may use it;
        - no key file: Workload Identity only.
    """

    def __init__(
        self,
        name: str,
        stack: str,
        project: str,
        workload_pool: str,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("inferstack:gcp:Metrics", name, None, opts)
        self.writer = gcp.serviceaccount.Account(
            f"{name}-writer",
            account_id=account_id(stack, "prometheus"),
            display_name="inferstack Prometheus (Google Managed Prometheus export)",
            project=project,
            opts=pulumi.ResourceOptions(parent=self),
        )
        gcp.projects.IAMMember(
            f"{name}-writer-role",
            project=project,
            role=METRIC_WRITER_ROLE,
            member=self.writer.member,
            opts=pulumi.ResourceOptions(parent=self.writer),
        )
        bind_workload_identity(f"{name}-writer-wi", self.writer, workload_pool, MONITORING_NAMESPACE, PROMETHEUS_SERVICE_ACCOUNT)
        self.outputs = MetricsOutputs(
            store="gmp", prometheus_values=self.writer.email.apply(prometheus_values), store_id=pulumi.Output.from_input(f"projects/{project}")
        )
        self.register_outputs({"writerEmail": self.writer.email})
