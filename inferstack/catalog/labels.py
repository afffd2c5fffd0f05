"""Kubernetes labels every layer agrees on (accelerator node labels live with the accelerator catalog)."""

from __future__ import annotations

#: Pod Security admission of every namespace inferstack creates: enforce the baseline profile, warn and audit at
#: restricted (the model servers run restricted; third-party charts are held to baseline).
POD_SECURITY_LABELS: dict[str, str] = {
    "pod-security.kubernetes.io/enforce": "baseline",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
}
