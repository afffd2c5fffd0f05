"""The ``secure:`` values of the checked-in stack files are real Pulumi ciphertext the CLI can decrypt.

The real CLI refused the old placeholders (``v1:Rk9GRkxJTkVDSVBIRVJURVhU:...``) before running anything: ``error: could
not decrypt configuration values: bad value: nonce size is incorrect`` (tests/e2e/test_pulumi_config.py). Each file
with secure values now carries the ``encryptionsalt`` of Pulumi's passphrase secrets provider, made with the passphrase
``inferstack-reference-stacks``, and sample values encrypted with it. This test decrypts them as Pulumi does
(pkg/secrets/passphrase and sdk/go/common/resource/config/crypt.go: PBKDF2-SHA256, 1,000,000 iterations, 32-byte key;
AES-256-GCM; ``v1:<nonce>:<ciphertext>``; the salt's check message is ``pulumi``), with no Pulumi CLI.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from pathlib import Path

import pytest
import yaml
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

REPO = Path(__file__).resolve().parents[2]
REFERENCE_PASSPHRASE = "inferstack-reference-stacks"
#: The only plaintexts a checked-in file may hold: samples, never a real secret.
SAMPLES = {"hf_sample_token_not_a_real_one", "Replace with your exec-based kubeconfig"}
STACK_FILES = sorted(
    [*(REPO / "stacks").glob("Pulumi.*.yaml"), *(p for p in (REPO / "examples").glob("*/Pulumi.*.yaml"))],
    key=str,
)


def secure_values(doc: dict) -> dict[str, str]:
    return {k: v["secure"] for k, v in (doc.get("config") or {}).items() if isinstance(v, dict) and set(v) == {"secure"}}


@cache
def key_for(salt_state: str, passphrase: str) -> bytes:
    """The AES key of a passphrase stack (``encryptionsalt`` = ``v1:<salt>:<ciphertext of "pulumi">``)."""
    version, salt, check = salt_state.split(":", 2)
    assert version == "v1", salt_state
    key = hashlib.pbkdf2_hmac("sha256", passphrase.encode(), base64.b64decode(salt), 1_000_000, 32)
    assert decrypt(key, check) == "pulumi", "the passphrase does not match this encryptionsalt"
    return key


def decrypt(key: bytes, value: str) -> str:
    parts = value.split(":")
    if len(parts) != 3 or parts[0] != "v1":
        raise ValueError(f"not Pulumi passphrase ciphertext (v1:<nonce>:<ciphertext>): {value!r}")
    nonce, ciphertext = base64.b64decode(parts[1]), base64.b64decode(parts[2])
    if len(nonce) != 12:
        raise ValueError(f"nonce size is incorrect ({len(nonce)} bytes, AES-GCM takes 12): {value!r}")
    return AESGCM(key).decrypt(nonce, ciphertext, None).decode()


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_secure_values_decrypt_with_the_reference_passphrase(path: Path) -> None:
    doc = yaml.safe_load(path.read_text()) or {}
    values = secure_values(doc)
    if not values:
        assert "encryptionsalt" not in doc, "an encryptionsalt without secure values pins every user to its passphrase"
        return
    assert doc.get("encryptionsalt"), f"{path.name}: secure values need the encryptionsalt they were encrypted with"
    key = key_for(doc["encryptionsalt"], REFERENCE_PASSPHRASE)
    for name, value in values.items():
        assert decrypt(key, value) in SAMPLES, name


def test_some_reference_stack_carries_a_secure_value() -> None:
    assert any(secure_values(yaml.safe_load(p.read_text()) or {}) for p in STACK_FILES)


def test_the_old_placeholder_is_refused_as_pulumi_refuses_it() -> None:
    """The check fails the way the CLI failed on the placeholder: its 'nonce' is not 12 bytes."""
    key = bytes(32)
    with pytest.raises(ValueError, match="nonce size is incorrect"):
        decrypt(key, "v1:Rk9GRkxJTkVDSVBIRVJURVhU:QWxsIHNlY3JldCB2YWx1ZXMgYXJlIGVuY3J5cHRlZCBieSBQdWx1bWk=")
    with pytest.raises(InvalidTag):
        decrypt(key, "v1:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAA")
