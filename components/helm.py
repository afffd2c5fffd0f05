"""Helm releases of the pinned charts: one builder for every add-on inferstack installs.

The chart's source, version and namespace come from ``inferstack.catalog.versions.CHARTS``; an ``oci://``
repository is addressed as ``<repo>/<chart>``, an HTTPS one through ``repository_opts``. Every release is atomic
(a failed install or upgrade rolls back).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_kubernetes as k8s

from inferstack.catalog.versions import CHARTS

if TYPE_CHECKING:
    from inferstack.components.platform import PlatformOutputs

#: The add-on (``ExistingAddons`` key) each chart that serving installs belongs to: an existing cluster that has the
#: add-on (``present``) gets no release of its charts.
CHART_ADDONS: dict[str, str] = {
    "cert-manager": "certManager",
    "knative-operator": "knative",
    "kserve-crd": "kserve",
    "kserve": "kserve",
    "kserve-runtime-configs": "kserve",
    "gateway-api-crds": "llm",
    "istio-base": "llm",
    "istiod": "llm",
    "lws": "llm",
    "kserve-llmisvc-crd": "llm",
    "kserve-llmisvc": "llm",
    "kube-prometheus-stack": "monitoring",
    "keda": "keda",
    "kueue": "kueue",
    "external-secrets": "externalSecrets",
}


def chart_release(
    name: str,
    key: str,
    values: dict[str, Any],
    opts: pulumi.ResourceOptions,
    *,
    release_name: str | None = None,
    create_namespace: bool = False,
    timeout: int | None = None,
) -> k8s.helm.v3.Release:
    """A ``helm.sh/v3:Release`` named ``name`` of the pinned chart ``CHARTS[key]``.

    Args:
        name: Pulumi resource name.
        key: entry of ``CHARTS``; also the Helm release name unless ``release_name`` is given.
        values: chart values.
        opts: resource options (parent, Kubernetes provider, dependencies).
        release_name: Helm release name (default ``key``).
        create_namespace: create the chart's namespace when missing (default False).
        timeout: seconds Helm waits for the release (default: Helm's, 300).
    """
    chart = CHARTS[key]
    oci = chart.repo.startswith("oci://")
    return k8s.helm.v3.Release(
        name,
        name=release_name or key,
        chart=f"{chart.repo}/{chart.chart}" if oci else chart.chart,
        repository_opts=None if oci else k8s.helm.v3.RepositoryOptsArgs(repo=chart.repo),
        version=chart.version,
        namespace=chart.namespace,
        create_namespace=create_namespace or None,
        atomic=True,
        timeout=timeout,
        values=values,
        opts=opts,
    )


def addon_release(
    platform: PlatformOutputs, name: str, key: str, values: Any, opts: pulumi.ResourceOptions, **kwargs: Any
) -> k8s.helm.v3.Release | None:
    """:func:`chart_release` of ``CHARTS[key]``, or None when ``platform`` already has the chart's add-on
    (``CHART_ADDONS``; an existing cluster's ``present`` add-ons): its objects are then declared without a release."""
    if not platform.installs(CHART_ADDONS[key]):
        return None
    return chart_release(name, key, values, opts, **kwargs)
