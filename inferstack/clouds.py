"""Which components make up a stack on each cloud: one profile per cloud, so the program never asks ``if cloud ==``.

A :class:`CloudProfile` names the platform, registry and secret-store components of a cloud. They are imported
when first used, so a GCP stack never imports ``pulumi_aws`` and an AWS stack never imports ``pulumi_gcp``.
The config-side facts of a cloud (its region key, its storage scheme) are ``inferstack.catalog.clouds``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from inferstack.config import Cloud


@dataclass(frozen=True)
class CloudProfile:
    """The component classes of one cloud, each loaded on first use."""

    cloud: Cloud
    #: ``AwsPlatform`` / ``GcpPlatform``: takes ``StackConfig.platform_args()``.
    platform: Callable[[], type[Any]]
    #: ``AwsRegistry`` / ``GcpRegistry``: takes ``StackConfig.registry_args()`` and the platform's outputs.
    registry: Callable[[], type[Any]]
    #: ``AwsSecrets`` / ``GcpSecrets``: takes ``StackConfig.secrets_args()`` and the platform's outputs.
    secrets: Callable[[], type[Any]]


# Imports inside these loaders keep each cloud's SDK out of the other cloud's stacks.
def _aws_platform() -> type[Any]:
    from inferstack.components.aws.platform import AwsPlatform

    return AwsPlatform


def _aws_registry() -> type[Any]:
    from inferstack.components.aws.registry import AwsRegistry

    return AwsRegistry


def _aws_secrets() -> type[Any]:
    from inferstack.components.aws.secrets import AwsSecrets

    return AwsSecrets


def _gcp_platform() -> type[Any]:
    from inferstack.components.gcp.platform import GcpPlatform

    return GcpPlatform


def _gcp_registry() -> type[Any]:
    from inferstack.components.gcp.registry import GcpRegistry

    return GcpRegistry


def _gcp_secrets() -> type[Any]:
    from inferstack.components.gcp.secrets import GcpSecrets

    return GcpSecrets


PROFILES: dict[Cloud, CloudProfile] = {
    Cloud.AWS: CloudProfile(Cloud.AWS, platform=_aws_platform, registry=_aws_registry, secrets=_aws_secrets),
    Cloud.GCP: CloudProfile(Cloud.GCP, platform=_gcp_platform, registry=_gcp_registry, secrets=_gcp_secrets),
}
