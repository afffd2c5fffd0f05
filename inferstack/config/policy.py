"""Policy settings of a stack: what the policy pack reads besides cloud, environment and residency."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from inferstack.config.base import Environment, StrictModel

EnforcementLevel = Literal["advisory", "mandatory", "remediate", "disabled"]

#: A Pulumi type token ``package:module:Type`` (module may hold ``/`` and ``.``: ``aws:s3/bucket:Bucket``,
#: ``kubernetes:serving.kserve.io/v1beta1:InferenceService``, ``pulumi-python:dynamic:Resource``).
TYPE_TOKEN = r"[A-Za-z][A-Za-z0-9_.-]*:[A-Za-z0-9_./-]*:[A-Za-z0-9_.-]+"
#: A reviewed resource: ``<type token>::<logical name>``, or its full URN (``urn:pulumi:<stack>::<project>::
#: <type chain>::<name>``). The first form matches the resource whatever its parents, offline and in ``pulumi preview``.
REVIEWED_RESOURCE = re.compile(rf"(?:urn:pulumi:[^:]+::[^:]+::(?:{TYPE_TOKEN}\$)*|){TYPE_TOKEN}::\S(?:.*\S)?")
#: Longest reason kept for a reviewed resource.
MAX_REASON = 500
#: A service account as the API server names it: ``system:serviceaccount:<namespace>:<name>`` (DNS labels).
SERVICE_ACCOUNT_USER = re.compile(r"system:serviceaccount:[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-.a-z0-9]*[a-z0-9])?")
#: A registry (``ghcr.io``, ``registry.example:5000``) or a repository prefix (``public.ecr.aws/neuron/``).
IMAGE_PREFIX = re.compile(r"[a-z0-9]([-.a-z0-9]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9._-]+)*/?")


class PolicyConfig(StrictModel):
    """Policy pack settings for this stack."""

    platform_admin_group: str = Field("inferstack:platform-admins", description="The only group cluster-admin may be bound to.")
    allow_public_inference: bool = Field(False, description="Allow InferenceServices that are not cluster-local.")
    allow_public_load_balancers: bool = Field(False, description="Allow LoadBalancer Services without the internal annotation.")
    enforcement: dict[str, EnforcementLevel] = Field(
        default_factory=dict, description="Per-policy enforcement level overrides, by policy name."
    )
    reviewed_resources: dict[str, str] = Field(
        default_factory=dict,
        description="Resources the policy pack cannot see inside (dynamic providers, types of unknown provider "
        "packages) that were reviewed: `<type token>::<name>` (or the URN) -> the reason (who reviewed what, when). "
        "The `opaque-resources-reviewed` policy accepts them; every other rule still applies.",
    )

    rbac_allowed_service_accounts: dict[str, str] = Field(
        default_factory=dict,
        description="Service accounts of system controllers allowed to hold dangerous RBAC grants beyond one "
        "namespace (`rbac-dangerous-grants`): `system:serviceaccount:<namespace>:<name>` -> the reason (which "
        "controller, why it needs the grant).",
    )
    trusted_registries: tuple[str, ...] = Field(
        (),
        description="Registries or repository prefixes container images must come from (`ghcr.io`, "
        "`public.ecr.aws/neuron/`); empty: any registry (`k8s-image-provenance`).",
    )
    require_image_digests: bool = Field(
        False,
        description="Require every container image to be pinned by digest (`image@sha256:...`) "
        "(`k8s-image-provenance`); off by default: digests cannot be resolved offline.",
    )

    @field_validator("rbac_allowed_service_accounts", mode="before")
    @classmethod
    def _accounts(cls, v: object) -> object:
        for key, reason in v.items() if isinstance(v, dict) else ():
            if not isinstance(key, str) or not SERVICE_ACCOUNT_USER.fullmatch(key):
                raise ValueError(f"{key!r}: name the service account as 'system:serviceaccount:<namespace>:<name>'")
            if reason is None or (isinstance(reason, str) and not reason.strip()):
                raise ValueError(f"{key!r}: give the reason the service account may hold the grants")
        return v

    @field_validator("trusted_registries")
    @classmethod
    def _registries(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for r in v:
            if not IMAGE_PREFIX.fullmatch(r):
                raise ValueError(f"{r!r}: give a registry host (ghcr.io, registry.example:5000) or a repository "
                                 "prefix (public.ecr.aws/neuron/), lower case, without a scheme or tag")
        return v

    @field_validator("reviewed_resources", mode="before")
    @classmethod
    def _reasons(cls, v: object) -> object:
        for key, reason in v.items() if isinstance(v, dict) else ():
            if reason is None or (isinstance(reason, str) and not reason.strip()):
                raise ValueError(f"{key!r}: give the reason the resource was reviewed (who checked what it creates, when)")
        return v

    @field_validator("reviewed_resources")
    @classmethod
    def _reviewed(cls, v: dict[str, str]) -> dict[str, str]:
        for key, reason in v.items():
            if not REVIEWED_RESOURCE.fullmatch(key):
                raise ValueError(
                    f"{key!r}: name the resource as '<type token>::<name>' (e.g. "
                    "'pulumi-python:dynamic:Resource::registry-seed') or by its URN"
                )
            if len(reason) > MAX_REASON:
                raise ValueError(f"{key!r}: the reason is {len(reason)} characters; at most {MAX_REASON}")
        return v


class PolicySettings(StrictModel):
    """What the policy pack reads of a stack: environment, residency and the ``inferstack:policy`` settings.

    Built by :meth:`inferstack.config.StackConfig.policy_settings` for a stack, or, in ``policy check --program``
    mode, from the policy keys alone of a program's stack file (:func:`inferstack.config.stack.parse_policy_settings`,
    which validates them with the full stack's models); ``policies.pack.pack_config`` takes it, and each policy's
    entry turns it into that policy's settings.
    """

    environment: Environment = Field(description="Environment class: dev, staging or prod.")
    allowed_regions: tuple[str, ...] = Field(min_length=1, description="Regions every resource must be in.")
    policy: PolicyConfig = Field(default_factory=PolicyConfig, description="Policy pack settings of the stack.")
