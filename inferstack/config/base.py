"""Shared pieces of the stack config models: the strict base model and the shared enums."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from inferstack.catalog.clouds import Cloud

__all__ = ["CapacityType", "Cloud", "Environment", "StrictModel"]


class StrictModel(BaseModel):
    """Base of every config model: camelCase keys in YAML, unknown keys rejected, frozen after parsing."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        use_enum_values=False,
        validate_default=True,
        # Build each model's validator on first use: a command validates one stack shape, not every *Args model.
        defer_build=True,
    )


class Environment(str, Enum):
    """The environment class of a stack; it drives defaults and policy enforcement levels."""

    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"


class CapacityType(str, Enum):
    """Purchase option of accelerator nodes, shared by Karpenter (AWS) and ComputeClass (GCP)."""

    SPOT = "spot"
    ON_DEMAND = "on-demand"
