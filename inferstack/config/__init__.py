"""Typed stack config: the single source of truth for every setting of a stack.

Models and errors only: ``inferstack.load.load_stack`` parses a stack, derives what its capacity plans imply and
runs the cross-field checks of ``inferstack.checks``.
"""

from inferstack.config.args import (
    AwsPlatformArgs,
    GcpPlatformArgs,
    RegistryArgs,
    SecretsArgs,
    ServingArgs,
    StackArgs,
)
from inferstack.config.base import CapacityType, Cloud, Environment, StrictModel
from inferstack.config.files import StackFile, read_stack_file
from inferstack.config.policy import PolicySettings
from inferstack.config.stack import (
    ConfigError,
    ConfigIssue,
    InferstackConfig,
    StackConfig,
    file_issue,
    parse_stack,
)

__all__ = [
    "AwsPlatformArgs",
    "CapacityType",
    "Cloud",
    "ConfigError",
    "ConfigIssue",
    "Environment",
    "GcpPlatformArgs",
    "InferstackConfig",
    "PolicySettings",
    "RegistryArgs",
    "SecretsArgs",
    "ServingArgs",
    "StackArgs",
    "StackConfig",
    "StackFile",
    "StrictModel",
    "file_issue",
    "parse_stack",
    "read_stack_file",
]
