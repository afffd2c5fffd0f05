"""The one exemption from the privileged-container rules: a pinned platform node agent.

Some node agents cannot run unprivileged: AWS's neuron-monitor reads the Neuron devices of its node and AWS's own
manifest (aws-neuron-sdk src/k8/k8s-neuron-monitor-daemonset.yml) runs it ``privileged: true``. CIS EKS 4.2.1 asks to
*minimize* the admission of privileged containers; node agents that need the host's devices are the documented
exception. The exemption is judged on what the object is, never on a label or annotation the author could add:

- a DaemonSet (not a patch of one: a patch shows only the containers it changes);
- whose ``metadata.namespace`` is ``kube-system``;
- whose every container (init, regular and ephemeral) runs exactly one of the catalogue's pinned node-agent images
  (``inferstack.catalog.versions.NODE_AGENT_IMAGES``: repository and tag, character for character).

Another namespace, another tag or digest, or any other container in the pod (a sidecar) and the rules report it as
they report any workload.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from inferstack.catalog.versions import NODE_AGENT_IMAGES
from inferstack.policies.rules.k8s_objects import is_map, seq

NODE_AGENT_NAMESPACE = "kube-system"
NODE_AGENT_KIND = "DaemonSet"
CONTAINER_FIELDS = ("initContainers", "containers", "ephemeralContainers")


def namespace_of(props: Any) -> Any:
    meta = props.get("metadata") if is_map(props) else None
    return meta.get("namespace") if is_map(meta) else None


def pod_images(pod_spec: Any) -> list[Any]:
    """The image of every container of a pod spec (init, regular, ephemeral); ``None`` for one without an image."""
    if not is_map(pod_spec):
        return []
    return [c.get("image") if is_map(c) else None for f in CONTAINER_FIELDS for c in seq(pod_spec.get(f))]


def images_pinned(images: Iterable[Any]) -> bool:
    """Whether there is at least one image and every one is exactly a pinned node-agent image."""
    images = list(images)
    return bool(images) and all(isinstance(i, str) and i in NODE_AGENT_IMAGES for i in images)


def is_pinned_node_agent(kind: str, props: Any, pod_spec: Any, *, patch: bool = False) -> bool:
    """Whether an object is a pinned platform node agent (see the module docstring): ``kind`` DaemonSet and not a
    patch, ``props.metadata.namespace`` kube-system, every container of ``pod_spec`` a pinned node-agent image."""
    return (kind == NODE_AGENT_KIND and not patch and namespace_of(props) == NODE_AGENT_NAMESPACE
            and images_pinned(pod_images(pod_spec)))
