"""Typed stack config: the single source of truth for every setting of a stack."""

from inferstack.config.base import CapacityType, Cloud, Environment, StrictModel
from inferstack.config.stack import (
    ConfigError,
    ConfigIssue,
    InferstackConfig,
    StackConfig,
    load_stack_file,
    parse_stack_config,
    read_stack_file,
)

__all__ = [
    "CapacityType",
    "Cloud",
    "ConfigError",
    "ConfigIssue",
    "Environment",
    "InferstackConfig",
    "StackConfig",
    "StrictModel",
    "load_stack_file",
    "parse_stack_config",
    "read_stack_file",
]
