"""The serving stack on the cluster: cert-manager, Knative Serving with Kourier, KServe (CRDs, controller, runtimes).

Every add-on is a ``helm.v3.Release`` of a chart pinned in ``inferstack/catalog/versions.py`` (``CHARTS``), installed in
dependency order: cert-manager -> Knative operator -> ``KnativeServing`` (Serving ``KNATIVE_SERVING_VERSION``,
Kourier as the networking layer) -> KServe CRDs -> KServe controller -> ClusterServingRuntimes.

Choices:

- KServe's deployment mode is ``Knative`` in the chart values (and on every InferenceService): canary routes and
  scale to zero work only there.
- Kourier's gateway Service is ``ClusterIP`` unless a model is public (then ``LoadBalancer``, which the policy pack
  gates with ``allowPublicInference``); KServe does not create Istio virtual services.
- Knative features the predictors need are enabled: node selectors, tolerations, affinity and scheduler names
  (accelerator scheduling), and revision timeouts up to 3,600 s (large models).
- Scale to zero is enabled cluster-wide only in dev.
- On private GKE clusters the control plane must reach the webhooks on :data:`WEBHOOK_PORTS` (GKE opens only 443
  and 10250 by default): the GCP platform opens them with a firewall rule.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from inferstack.catalog.labels import POD_SECURITY_LABELS
from inferstack.catalog.versions import CHARTS, KNATIVE_SERVING_VERSION
from inferstack.components.helm import chart_release
from inferstack.components.platform import PlatformOutputs
from inferstack.config import Environment, ServingArgs
from inferstack.serving.inference import DEPLOYMENT_MODE
from inferstack.serving.runtimes import API_VERSION as RUNTIME_API_VERSION
from inferstack.serving.runtimes import KIND as RUNTIME_KIND
from inferstack.serving.runtimes import runtime_spec, runtimes_used

KNATIVE_NAMESPACE = "knative-serving"
KOURIER_INGRESS_CLASS = "kourier.ingress.networking.knative.dev"
#: Kourier's cluster-local gateway (the operator installs Kourier in the KnativeServing namespace).
KOURIER_INTERNAL_SERVICE = f"kourier-internal.{KNATIVE_NAMESPACE}.svc.cluster.local"
#: Longest request timeout a model may set (``ModelConfig.timeoutSeconds`` allows up to this).
MAX_REVISION_TIMEOUT_SECONDS = 3600


def knative_serving_spec(args: ServingArgs) -> dict[str, Any]:
    """The ``KnativeServing`` spec for ``args``: version, Kourier, feature flags, timeouts, scale to zero."""
    public = any(m.public for m in args.models)
    return {
        "version": KNATIVE_SERVING_VERSION,
        "ingress": {"kourier": {"enabled": True, "service-type": "LoadBalancer" if public else "ClusterIP"}},
        "config": {
            "network": {"ingress-class": KOURIER_INGRESS_CLASS},
            "features": {
                "kubernetes.podspec-nodeselector": "enabled",
                "kubernetes.podspec-tolerations": "enabled",
                "kubernetes.podspec-affinity": "enabled",
                "kubernetes.podspec-schedulername": "enabled",
            },
            "defaults": {"max-revision-timeout-seconds": str(MAX_REVISION_TIMEOUT_SECONDS)},
            "autoscaler": {"enable-scale-to-zero": "true" if args.environment is Environment.DEV else "false"},
        },
    }


def kserve_values() -> dict[str, Any]:
    """Values of the ``kserve-resources`` chart: Knative mode, Kourier networking (no Istio virtual hosts)."""
    return {
        "kserve": {
            "controller": {
                "deploymentMode": DEPLOYMENT_MODE,
                "gateway": {
                    "disableIstioVirtualHost": True,
                    "localGateway": {
                        "gatewayService": KOURIER_INTERNAL_SERVICE,
                        "knativeGatewayService": KOURIER_INTERNAL_SERVICE,
                    },
                },
            },
        }
    }


class ServingStack(pulumi.ComponentResource):
    """cert-manager, Knative Serving with Kourier, and KServe, from pinned charts, in dependency order.

    Provisions Helm releases of the charts pinned in ``CHARTS``: cert-manager (CRDs on and kept) -> Knative operator
    -> the ``knative-serving`` namespace and a ``KnativeServing`` (:func:`knative_serving_spec`: Serving
    ``KNATIVE_SERVING_VERSION``, Kourier, pod-spec features for accelerator scheduling, revision timeouts up to
    3,600 s, scale to zero only in dev) -> ``kserve-crd`` -> ``kserve`` (:func:`kserve_values`: Knative deployment
    mode, Kourier gateways) -> ``kserve-runtime-configs`` (ClusterServingRuntimes) -> the inferstack runtimes the
    stack's models name (:mod:`~inferstack.serving.runtimes`: vLLM for TPU and for Neuron). Every object waits for
    the platform's ``ready`` resources.

    Args:
        name (str): component name; children are ``<name>-cert-manager``, ``<name>-knative-operator``,
            ``<name>-knative-serving``, ``<name>-kserve-crd``, ``<name>-kserve``, ``<name>-kserve-runtimes``, ...
        args (ServingArgs): the environment (scale to zero), the models (whether any is public, the runtimes they name).
        platform (PlatformOutputs): provider and ``ready`` resources of the cluster.
        opts (pulumi.ResourceOptions | None, default None): options of the component.

    Outputs:
        ready (list[pulumi.Resource]): what InferenceServices must wait for (KServe controller and runtimes).
        cert_manager, knative_operator, knative_namespace, knative_serving, kserve_crd, kserve, runtimes,
        extra_runtimes: the children.
        Registered outputs: ``knativeServingVersion``, ``kserveVersion``.

    Secure choices:
        - pinned chart versions, atomic releases;
        - Kourier's gateway is ``ClusterIP`` unless a model is public (then ``LoadBalancer``, gated by the policy
          pack); no Istio virtual hosts;
        - on private GKE only the webhook ports in ``WEBHOOK_PORTS`` need opening, by the GCP platform's firewall rule.
    """

    def __init__(self, name: str, args: ServingArgs, platform: PlatformOutputs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("inferstack:serving:ServingStack", name, None, opts)
        provider = platform.k8s_provider

        def after(*deps: pulumi.Resource) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[*platform.ready, *deps])

        def release(key: str, suffix: str, values: dict[str, Any], deps: list[pulumi.Resource]) -> k8s.helm.v3.Release:
            return chart_release(f"{name}-{suffix}", key, values, after(*deps), create_namespace=True, timeout=900)

        self.cert_manager = release("cert-manager", "cert-manager", {"crds": {"enabled": True, "keep": True}}, [])
        self.knative_operator = release("knative-operator", "knative-operator", {}, [])
        self.knative_namespace = k8s.core.v1.Namespace(
            f"{name}-knative-ns",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=KNATIVE_NAMESPACE, labels={"app.kubernetes.io/managed-by": "inferstack", **POD_SECURITY_LABELS}),
            opts=after(),
        )
        self.knative_serving = k8s.apiextensions.CustomResource(
            f"{name}-knative-serving",
            api_version="operator.knative.dev/v1beta1",
            kind="KnativeServing",
            metadata={"name": "knative-serving", "namespace": KNATIVE_NAMESPACE},
            spec=knative_serving_spec(args),
            opts=after(self.knative_operator, self.knative_namespace),
        )
        self.kserve_crd = release("kserve-crd", "kserve-crd", {}, [self.cert_manager])
        self.kserve = release("kserve", "kserve", kserve_values(), [self.kserve_crd, self.knative_serving])
        self.runtimes = release(
            "kserve-runtime-configs", "kserve-runtimes", {"kserve": {"servingruntime": {"enabled": True}}}, [self.kserve]
        )
        #: inferstack's own ClusterServingRuntimes (TPU, Neuron), only those the stack's models use.
        self.extra_runtimes = [
            k8s.apiextensions.CustomResource(
                f"{name}-runtime-{rt.name}",
                api_version=RUNTIME_API_VERSION,
                kind=RUNTIME_KIND,
                metadata=k8s.meta.v1.ObjectMetaArgs(name=rt.name, labels={"app.kubernetes.io/managed-by": "inferstack"}),
                spec=runtime_spec(rt),
                opts=after(self.kserve),
            )
            for rt in runtimes_used(args.models)
        ]
        #: What InferenceServices must wait for (CRDs, webhook, runtimes).
        self.ready: list[pulumi.Resource] = [self.kserve, self.runtimes, *self.extra_runtimes]
        self.register_outputs({"knativeServingVersion": KNATIVE_SERVING_VERSION, "kserveVersion": CHARTS["kserve"].version})
