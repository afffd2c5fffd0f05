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

LLM track, only when a model sets ``llm`` (:func:`llm_releases` lists the charts per cloud):

- Gateway API CRDs: GKE manages them (the cluster's Gateway API on the standard channel); on EKS the pinned
  ``gateway-crds-helm`` chart installs the standard-channel v1.5.1 CRDs only (no Envoy Gateway CRDs).
- Inference Extension CRDs (``InferencePool``): ``kserve-llmisvc-resources`` installs them (``createGIECRDs``).
- The Gateway's implementation: GKE's Gateway controller on GCP; Istio (``base``, ``istiod`` with
  ``ENABLE_GATEWAY_API_INFERENCE_EXTENSION``) on EKS. Then the ``inferstack-gateway`` namespace and the inference
  ``Gateway`` (:mod:`~inferstack.serving.gateway`; internal unless a public LLM is allowed).
- LeaderWorkerSet controller (multi-node replicas), KServe's LLMInferenceService CRDs and controller (shared
  resources left to ``kserve-resources``), and the well-known ``LLMInferenceServiceConfig`` presets
  (``kserve-runtime-configs`` with ``llmisvcConfigs.enabled``).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from inferstack.catalog.labels import POD_SECURITY_LABELS
from inferstack.catalog.versions import CHARTS, KNATIVE_SERVING_VERSION
from inferstack.components.custom_resource import custom_resource
from inferstack.components.helm import addon_release
from inferstack.components.platform import PlatformOutputs
from inferstack.config import Cloud, Environment, ServingArgs
from inferstack.serving import gateway as gw
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
            # The queue-proxy's request metrics as Prometheus on its ``http-usermetric`` port (default ``none``: none
            # exported), which the models' PodMonitors scrape (serving/monitoring.py).
            "observability": {"request-metrics-protocol": "prometheus"},
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


#: istiod environment turning on the Gateway API Inference Extension (InferencePool backends, EPP ext_proc).
ISTIOD_INFERENCE_ENV = {"ENABLE_GATEWAY_API_INFERENCE_EXTENSION": "true", "SUPPORT_GATEWAY_API_INFERENCE_EXTENSION": "true"}


def has_llm(args: ServingArgs) -> bool:
    return any(m.llm is not None for m in args.models)


def public_llm(args: ServingArgs) -> bool:
    """A public LLM the policy allows: the inference Gateway gets an external address."""
    return args.policy.allow_public_inference and any(m.llm is not None and m.public for m in args.models)


def llm_releases(cloud: Cloud) -> list[tuple[str, str, dict[str, Any]]]:
    """``(CHARTS key, child suffix, values)`` of the LLM track's charts on ``cloud``, in install order."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    if cloud is Cloud.AWS:
        out += [
            (
                "gateway-api-crds",
                "gateway-api-crds",
                {"crds": {"gatewayAPI": {"enabled": True, "channel": "standard"}, "envoyGateway": {"enabled": False}}},
            ),
            ("istio-base", "istio-base", {"defaultRevision": "default"}),
            ("istiod", "istiod", {"env": dict(ISTIOD_INFERENCE_ENV)}),
        ]
    out += [
        ("lws", "lws", {}),
        ("kserve-llmisvc-crd", "kserve-llmisvc-crd", {}),
        ("kserve-llmisvc", "kserve-llmisvc", {"kserve": {"createSharedResources": False, "llmisvc": {"createGIECRDs": True}}}),
    ]
    return out


def runtime_config_values(args: ServingArgs) -> dict[str, Any]:
    """``kserve-runtime-configs``: ClusterServingRuntimes, and the LLMInferenceServiceConfig presets for the LLM track."""
    return {"kserve": {"servingruntime": {"enabled": True}, "llmisvcConfigs": {"enabled": has_llm(args)}}}


class ServingStack(pulumi.ComponentResource):
    """cert-manager, Knative Serving with Kourier, and KServe, from pinned charts, in dependency order.

    Provisions Helm releases of the charts pinned in ``CHARTS``: cert-manager (CRDs on and kept) -> Knative operator
    -> the ``knative-serving`` namespace and a ``KnativeServing`` (:func:`knative_serving_spec`: Serving
    ``KNATIVE_SERVING_VERSION``, Kourier, pod-spec features for accelerator scheduling, revision timeouts up to
    3,600 s, scale to zero only in dev) -> ``kserve-crd`` -> ``kserve`` (:func:`kserve_values`: Knative deployment
    mode, Kourier gateways) -> with an LLM model, the LLM track (:func:`llm_releases`: Gateway API CRDs and Istio
    on EKS, LeaderWorkerSet, KServe's LLMInferenceService CRDs and controller; the ``inferstack-gateway``
    namespace and inference ``Gateway``) -> ``kserve-runtime-configs`` (ClusterServingRuntimes, LLM presets) -> the
    inferstack runtimes the stack's models name (:mod:`~inferstack.serving.runtimes`: vLLM for TPU and for Neuron). Every object waits for
    the platform's ``ready`` resources.

    Args:
        name (str): component name; children are ``<name>-cert-manager``, ``<name>-knative-operator``,
            ``<name>-knative-serving``, ``<name>-kserve-crd``, ``<name>-kserve``, ``<name>-kserve-runtimes``, ...
        args (ServingArgs): the environment (scale to zero), the models (whether any is public, the runtimes they name).
        platform (PlatformOutputs): provider and ``ready`` resources of the cluster.
        opts (pulumi.ResourceOptions | None, default None): options of the component.

    Outputs:
        ready (list[pulumi.Resource]): what InferenceServices must wait for (KServe controller and runtimes).
        llm_ready (list[pulumi.Resource]): what LLMInferenceServices must wait for (LLM controller, presets, Gateway).
        cert_manager, knative_operator, knative_namespace, knative_serving, kserve_crd, kserve, runtimes,
        extra_runtimes, llm_releases (dict by CHARTS key), gateway_namespace, gateway: the children.
        Registered outputs: ``knativeServingVersion``, ``kserveVersion``.

    Secure choices:
        - pinned chart versions, atomic releases;
        - Kourier's gateway is ``ClusterIP`` unless a model is public (then ``LoadBalancer``, gated by the policy
          pack); no Istio virtual hosts;
        - on private GKE only the webhook ports in ``WEBHOOK_PORTS`` need opening, by the GCP platform's firewall rule;
        - the inference Gateway is internal (GKE ``gke-l7-rilb``, Istio ``ClusterIP``) unless a public LLM is allowed
          and admits routes from team namespaces only.
    """

    def __init__(self, name: str, args: ServingArgs, platform: PlatformOutputs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("inferstack:serving:ServingStack", name, None, opts)
        provider = platform.k8s_provider

        def after(*deps: pulumi.Resource | None) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[*platform.ready, *(d for d in deps if d is not None)])

        def release(key: str, suffix: str, values: dict[str, Any], deps: list[pulumi.Resource | None]) -> k8s.helm.v3.Release | None:
            return addon_release(platform, f"{name}-{suffix}", key, values, after(*deps), create_namespace=True, timeout=900)

        self.cert_manager = release("cert-manager", "cert-manager", {"crds": {"enabled": True, "keep": True}}, [])
        self.knative_operator = release("knative-operator", "knative-operator", {}, [])
        self.knative_namespace: k8s.core.v1.Namespace | None = None
        self.knative_serving: k8s.apiextensions.CustomResource | None = None
        if platform.installs("knative"):
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
        self.llm_releases: dict[str, k8s.helm.v3.Release] = {}
        self.gateway_namespace: k8s.core.v1.Namespace | None = None
        self.gateway: k8s.apiextensions.CustomResource | None = None
        if has_llm(args):
            previous: list[pulumi.Resource | None] = [self.cert_manager]
            for key, suffix, values in llm_releases(platform.cloud):
                rel = release(key, suffix, values, [*previous, self.kserve])
                if rel is not None:
                    self.llm_releases[key] = rel
                    previous = [rel]
            self.gateway_namespace = k8s.core.v1.Namespace(
                f"{name}-gateway-ns",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=gw.GATEWAY_NAMESPACE, labels=gw.namespace_labels()),
                opts=after(),
            )
            obj = gw.gateway_object(platform.cloud, public=public_llm(args))
            self.gateway: k8s.apiextensions.CustomResource = custom_resource(f"{name}-gateway", obj, after(self.gateway_namespace, *self.llm_releases.values()))
        self.runtimes = release(
            "kserve-runtime-configs", "kserve-runtimes", runtime_config_values(args), [self.kserve, *self.llm_releases.values()]
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
        self.ready: list[pulumi.Resource] = [r for r in (self.kserve, self.runtimes) if r is not None] + self.extra_runtimes
        #: What LLMInferenceServices must wait for (LLM controller, presets, the Gateway).
        self.llm_ready: list[pulumi.Resource] = [
            *self.llm_releases.values(), *([self.runtimes] if self.runtimes is not None else []),
            *([self.gateway] if self.gateway is not None else []),
        ]
        self.register_outputs({"knativeServingVersion": KNATIVE_SERVING_VERSION, "kserveVersion": CHARTS["kserve"].version})
