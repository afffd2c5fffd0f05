"""The engine's wire codec: Pulumi's signed values (secrets, resource references, output values) and unknowns."""

from __future__ import annotations

import math

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import rpc

from inferstack.engine import UNKNOWN, Secret, Unknown, is_unknown, redact, unwrap_secrets
from inferstack.engine.wire import UNKNOWN_SENTINEL, _from_wire, from_struct

# The protocol's constants, written out: the codec must decode what the Pulumi engine really sends.
SIG = "4dabf18193072939515e22adb298388d"
SECRET = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE = "5cf8f73096256a8f31e491e813e4eb8e"
OUTPUT = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
UNKNOWN_STR = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
URN = "urn:pulumi:t::inferstack::aws:s3/bucket:Bucket::logs"

#: A property map with every kind of special value, nested in maps and lists.
WIRE = {
    "name": "logs",
    "count": 3.0,
    "ratio": 0.5,
    "enabled": True,
    "nothing": None,
    "token": {SIG: SECRET, "value": "hunter2"},
    "nested": {"list": [1.0, {SIG: SECRET, "value": {"k": [UNKNOWN_STR]}}, UNKNOWN_STR]},
    "bucket": {SIG: RESOURCE, "urn": URN, "id": "logs-1234"},
    "known": {SIG: OUTPUT, "value": "v", "dependencies": [URN]},
    "secretOutput": {SIG: OUTPUT, "value": {"a": 1.0}, "secret": True},
    "unknownOutput": {SIG: OUTPUT, "dependencies": [URN]},
    "unknownSecretOutput": {SIG: OUTPUT, "secret": True},
    "id": UNKNOWN_STR,
}
DECODED = {
    "name": "logs",
    "count": 3.0,
    "ratio": 0.5,
    "enabled": True,
    "nothing": None,
    "token": Secret("hunter2"),
    "nested": {"list": [1.0, Secret({"k": [UNKNOWN]}), UNKNOWN]},
    "bucket": URN,
    "known": "v",
    "secretOutput": Secret({"a": 1.0}),
    "unknownOutput": UNKNOWN,
    "unknownSecretOutput": Secret(UNKNOWN),
    "id": UNKNOWN,
}


def test_the_codec_uses_the_sdk_signatures() -> None:
    assert (rpc._special_sig_key, rpc._special_secret_sig, rpc._special_resource_sig) == (SIG, SECRET, RESOURCE)
    assert (rpc._special_output_value_sig, rpc.UNKNOWN, UNKNOWN_SENTINEL) == (OUTPUT, UNKNOWN_STR, UNKNOWN_STR)


def test_from_wire_decodes_every_special_value() -> None:
    assert _from_wire(WIRE) == DECODED


def test_from_struct_is_from_wire_of_message_to_dict() -> None:
    struct = json_format.ParseDict(WIRE, struct_pb2.Struct())
    assert from_struct(struct) == DECODED == _from_wire(json_format.MessageToDict(struct))
    assert from_struct(struct_pb2.Struct()) == {}
    # A top-level signed map (an output value as the whole object) decodes too.
    assert from_struct(json_format.ParseDict({SIG: SECRET, "value": "x"}, struct_pb2.Struct())) == Secret("x")


def test_numbers_stay_floats_and_non_finite_numbers_are_rejected() -> None:
    struct = struct_pb2.Struct()
    struct.update({"n": 2})
    assert from_struct(struct) == {"n": 2.0} and isinstance(from_struct(struct)["n"], float)
    struct.update({"bad": math.inf})
    with pytest.raises(ValueError):
        from_struct(struct)


@pytest.mark.parametrize("value", [UNKNOWN, Unknown(), UNKNOWN_STR, rpc.UNKNOWN])
def test_is_unknown_recognises_the_marker_and_the_sentinel(value: object) -> None:
    assert is_unknown(value)


@pytest.mark.parametrize("value", ["", None, "unknown", "04da6b54", 0, [UNKNOWN_STR], {"a": UNKNOWN}, Secret(UNKNOWN)])
def test_is_unknown_is_false_for_anything_else(value: object) -> None:
    assert not is_unknown(value)


def test_unwrap_secrets_and_redact() -> None:
    assert unwrap_secrets(DECODED)["nested"] == {"list": [1.0, {"k": [UNKNOWN]}, UNKNOWN]}
    assert unwrap_secrets(Secret(Secret("x"))) == "x"
    shown = redact(DECODED)
    assert shown["token"] == shown["secretOutput"] == "[secret]" and shown["id"] == "[unknown]"
    assert shown["count"] == 3 and isinstance(shown["count"], int) and shown["ratio"] == 0.5
    assert repr(Secret("hunter2")) == "Secret([secret])" and "hunter2" not in repr(DECODED)
