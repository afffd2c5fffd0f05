"""The wire codec: resource properties as the Pulumi engine receives them, turned into plain Python.

Pulumi marks special values inside property maps with a signature key: secrets, resource references and output
values; a value not known at preview time is a sentinel string. The engine records properties with secrets
wrapped in :class:`Secret` (so nothing prints them by accident), resource references as their URN and unknowns as
:data:`UNKNOWN`. The signatures are the SDK's own (``pulumi.runtime.rpc``), not copies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime import rpc

#: Pulumi's unknown-value sentinel: what an unknown value is on the wire (and in pulumi-policy's props).
UNKNOWN_SENTINEL: str = rpc.UNKNOWN
SIG_KEY: str = rpc._special_sig_key
SECRET_SIG: str = rpc._special_secret_sig
RESOURCE_SIG: str = rpc._special_resource_sig
OUTPUT_SIG: str = rpc._special_output_value_sig


@dataclass(frozen=True)
class Secret:
    """A value Pulumi keeps secret; the engine records it wrapped so nothing prints it by accident."""

    value: Any

    def __repr__(self) -> str:
        return "Secret([secret])"


class Unknown:
    """A value not known at preview time."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Unknown"


UNKNOWN = Unknown()


def is_unknown(value: Any) -> bool:
    """True for a value not known at preview time: the engine's :class:`Unknown` marker, or Pulumi's unknown
    sentinel string (what a policy sees in place of an unknown value)."""
    return isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN_SENTINEL)


def _special(value: dict[str, Any], sig: Any) -> Any:
    """A signed map whose members are already decoded: a secret, a resource reference or an output value."""
    if sig == SECRET_SIG:
        return Secret(value.get("value"))
    if sig == RESOURCE_SIG:
        return value.get("urn")
    if sig == OUTPUT_SIG:
        inner = value["value"] if "value" in value else UNKNOWN
        return Secret(inner) if value.get("secret") else inner
    return value


def _from_wire(value: Any) -> Any:
    """Turn a JSON-decoded protobuf Struct value into Python, keeping secrets wrapped and resource refs as URNs."""
    if isinstance(value, dict):
        decoded = {k: _from_wire(v) for k, v in value.items()}
        if SIG_KEY in value:
            sig = value[SIG_KEY]
            if sig == RESOURCE_SIG:  # the URN as sent, not decoded
                return value.get("urn")
            return _special(decoded, sig)
        return decoded
    if isinstance(value, list):
        return [_from_wire(v) for v in value]
    if isinstance(value, str) and value == UNKNOWN_SENTINEL:
        return UNKNOWN
    return value


def _from_value(value: struct_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        s = value.string_value
        return UNKNOWN if s == UNKNOWN_SENTINEL else s
    if kind == "struct_value":
        return from_struct(value.struct_value)
    if kind == "number_value":
        n = value.number_value
        if math.isinf(n) or math.isnan(n):
            raise ValueError(f"{n} is not a JSON number")
        return n
    if kind == "bool_value":
        return value.bool_value
    if kind == "list_value":
        return [_from_value(v) for v in value.list_value.values]
    return None  # null_value or unset


def from_struct(struct: struct_pb2.Struct) -> Any:
    """A protobuf Struct of resource properties as Python, in one pass: what ``_from_wire(MessageToDict(struct))``
    gives (numbers stay floats), without the intermediate JSON-shaped copy."""
    fields = struct.fields
    decoded = {k: _from_value(v) for k, v in fields.items()}
    if SIG_KEY in decoded:
        sig = decoded[SIG_KEY]
        if sig == RESOURCE_SIG:  # the URN as sent, not decoded
            urn = fields.get("urn")
            return urn.string_value if urn is not None and urn.WhichOneof("kind") == "string_value" else decoded.get("urn")
        return _special(decoded, sig)
    return decoded


def unwrap_secrets(value: Any) -> Any:
    """The value with every :class:`Secret` replaced by its plaintext (what a policy sees)."""
    if isinstance(value, Secret):
        return unwrap_secrets(value.value)
    if isinstance(value, dict):
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    return value


def redact(value: Any) -> Any:
    """The value made JSON-safe with secrets shown as ``[secret]`` and unknowns as ``[unknown]``."""
    if isinstance(value, Secret):
        return "[secret]"
    if isinstance(value, Unknown):
        return "[unknown]"
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
