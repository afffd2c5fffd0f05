"""Ports other layers agree on: the model server's, and the admission webhooks' the control plane must reach."""

from __future__ import annotations

#: Port the model server listens on (KServe's default container port).
MODEL_SERVER_PORT = 8080
#: Webhook ports the API server calls: Knative Serving and its operator (8443), KServe (9443); cert-manager's
#: webhook listens on 10250, already open to the GKE control plane. A private GKE control plane reaches only 443 and
#: 10250 on nodes by default, so the GCP network's firewall rule opens these.
WEBHOOK_PORTS: tuple[int, ...] = (8443, 9443)
