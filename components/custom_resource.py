"""Declare a Kubernetes object built as a plain dict (``apiVersion``, ``kind``, ``metadata``, ``spec``) as a typed
``pulumi_kubernetes.apiextensions.CustomResource``, so the offline engine, ``render`` and the policy pack see it."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s


def custom_resource(name: str, obj: dict[str, Any], opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    """The CustomResource ``name`` for ``obj``, a pure builder's output (its ``spec`` may hold Pulumi outputs)."""
    return k8s.apiextensions.CustomResource(
        name, api_version=obj["apiVersion"], kind=obj["kind"], metadata=obj["metadata"], spec=obj["spec"], opts=opts
    )
