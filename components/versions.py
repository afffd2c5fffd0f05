"""Every pinned chart version and container image, in one place. Bump here, nowhere else.

Each entry: chart repository (OCI or HTTPS), chart name, version; images with tags. Sources are noted beside them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chart:
    """A pinned Helm chart."""

    repo: str
    chart: str
    version: str
    namespace: str


#: Kubernetes version of EKS clusters (AWS); GKE follows its release channel.
EKS_VERSION = "1.33"

CHARTS: dict[str, Chart] = {
    # Filled by the components that install each add-on (Karpenter, device plugins, cert-manager, Knative, KServe, ESO).
}
