"""The inference Gateway of the LLM track: one Gateway API ``Gateway`` per cluster, per-cloud implementation.

Pure builders (no Pulumi). Every LLMInferenceService attaches its HTTPRoute (KServe-managed) to this Gateway; the
Gateway's implementation runs the Gateway API Inference Extension: it asks each version's endpoint picker (EPP)
which pod should serve a request (prefix-cache and load aware) through the ``InferencePool`` backends.

- **GCP**: GKE's Gateway controller (the cluster's Gateway API on the standard channel), class ``gke-l7-rilb``: a
  regional *internal* Application Load Balancer (its proxies use the network's proxy-only subnet). A public model,
  when the policy allows it, switches the class to ``gke-l7-regional-external-managed``.
- **AWS**: Istio (``istiod`` with the inference extension enabled), class ``istio``; Istio deploys the gateway's
  Envoy and a ``ClusterIP`` Service (annotation ``networking.istio.io/service-type``) unless a model is public,
  then an internet-facing ``LoadBalancer``.

Routes are admitted only from team namespaces (label ``inferstack.io/team``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inferstack.catalog.labels import POD_SECURITY_LABELS
from inferstack.config.base import Cloud

API_VERSION = "gateway.networking.k8s.io/v1"
KIND = "Gateway"
#: Namespace and name of the inference Gateway.
GATEWAY_NAMESPACE = "inferstack-gateway"
GATEWAY_NAME = "inference"
#: Label of team namespaces (components/teams.py); the Gateway admits routes from those namespaces only.
TEAM_LABEL = "inferstack.io/team"
#: Istio's annotation choosing the Service type of an auto-deployed gateway.
ISTIO_SERVICE_TYPE_ANNOTATION = "networking.istio.io/service-type"
HTTP_PORT = 80


@dataclass(frozen=True)
class GatewayRef:
    """Where LLMInferenceServices attach their routes."""

    name: str = GATEWAY_NAME
    namespace: str = GATEWAY_NAMESPACE

    def ref(self) -> dict[str, str]:
        return {"name": self.name, "namespace": self.namespace}


#: The inference Gateway the serving stack declares.
DEFAULT_GATEWAY = GatewayRef()


def gateway_class(cloud: Cloud, public: bool = False) -> str:
    """The GatewayClass implementing the Inference Extension on ``cloud``."""
    if cloud is Cloud.GCP:
        return "gke-l7-regional-external-managed" if public else "gke-l7-rilb"
    return "istio"


def namespace_labels() -> dict[str, str]:
    return {"app.kubernetes.io/managed-by": "inferstack", **POD_SECURITY_LABELS}


def gateway_object(cloud: Cloud, public: bool = False, ref: GatewayRef | None = None) -> dict[str, Any]:
    """The ``Gateway``: one HTTP listener admitting routes from team namespaces, internal unless ``public``."""
    ref = ref or DEFAULT_GATEWAY
    annotations: dict[str, str] = {}
    if cloud is Cloud.AWS:
        annotations[ISTIO_SERVICE_TYPE_ANNOTATION] = "LoadBalancer" if public else "ClusterIP"
    metadata: dict[str, Any] = {
        "name": ref.name,
        "namespace": ref.namespace,
        "labels": {"app.kubernetes.io/managed-by": "inferstack", "app.kubernetes.io/part-of": "inferstack-serving"},
    }
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": metadata,
        "spec": {
            "gatewayClassName": gateway_class(cloud, public),
            "listeners": [
                {
                    "name": "http",
                    "protocol": "HTTP",
                    "port": HTTP_PORT,
                    "allowedRoutes": {
                        "namespaces": {
                            "from": "Selector",
                            "selector": {"matchExpressions": [{"key": TEAM_LABEL, "operator": "Exists"}]},
                        },
                        "kinds": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}],
                    },
                }
            ],
        },
    }
