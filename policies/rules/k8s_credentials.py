"""Credentials in Kubernetes objects' plain values: secret-like names, credential shapes, high-entropy strings.

Shared by ``k8s-no-literal-secret-env`` (env values of containers) and ``k8s-configmap-credentials`` (ConfigMap
data); pure functions, no Pulumi. The thresholds are measured in ``tests/policies/test_k8s_hygiene.py`` against the
reference stacks' ConfigMaps.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from inferstack.config.bounded import DecodeError, json_value

SECRET_WORDS = ("TOKEN", "PASSWORD", "PASSWD", "SECRET", "KEY", "CREDENTIAL", "CREDENTIALS", "APIKEY", "PRIVATEKEY")
REFERENCE_SUFFIXES = ("PATH", "FILE", "DIR", "URL", "URI", "NAME", "ID", "ARN", "REF", "REGION", "ENDPOINT", "HOST")


def secret_like(name: Any) -> bool:
    """Whether an env var name looks like it holds a secret (``HF_TOKEN``, ``DB_PASSWORD``, ``API_KEY``)."""
    if not isinstance(name, str):
        return False
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).upper()) if p]
    if not parts or parts[-1] in REFERENCE_SUFFIXES:
        return False
    return any(p in SECRET_WORDS or p.endswith(("TOKEN", "PASSWORD", "SECRET", "APIKEY")) for p in parts)


MIN_SECRET_LENGTH = 16
ENTROPY_BITS = 3.5

#: Credential shapes (name, literal anchors, pattern): each is the credential's documented format. A pattern runs
#: only on text holding one of its anchors (a substring test), which keeps large ConfigMaps (dashboards) cheap.
CREDENTIAL_PATTERNS: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...] = (
    ("an AWS access key id", ("AKIA", "ASIA", "ABIA", "ACCA"),
     re.compile(r"(?<![A-Z0-9])(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])")),
    ("a PEM private key", ("PRIVATE KEY",), re.compile(r"-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----")),
    ("a GitHub token", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
     re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b")),
    ("a GitLab token", ("glpat-",), re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b")),
    ("a Slack token", ("xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-"), re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b")),
    ("a Hugging Face token", ("hf_",), re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
    ("a Google API key", ("AIza",), re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("a JSON Web Token", ("eyJ",), re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")),
)
#: Any anchor of any shape: one scan of a value decides whether a shape's own test runs at all.
_ANY_ANCHOR = re.compile("|".join(re.escape(a) for _, anchors, _ in CREDENTIAL_PATTERNS for a in anchors))
#: Words of a secret-like key (``kubernetes.secret_like`` decides; this only preselects lines cheaply).
_SECRET_WORDS = ("token", "passw", "secret", "key", "credential")
#: ``key: value`` / ``key = value`` / ``KEY=value`` lines inside a config-file value whose key holds a secret word.
_ASSIGNMENT = re.compile(r"""^\s*["']?((?=[A-Za-z_])[A-Za-z0-9_.-]*?(?:token|passw|secret|key|credential)[A-Za-z0-9_.-]*)"""
                         r"""["']?\s*[:=]\s*["']?([^\s"',]+)["']?\s*,?\s*$""", re.M | re.I)


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def secret_key(key: Any) -> bool:
    """A key named like a secret (``api_key``, ``DB_PASSWORD``, ``tls.key``), not a public key or a reference."""
    if not secret_like(key):
        return False
    parts = re.split(r"[^A-Za-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(key)).upper())
    return not any(p in ("PUBLIC", "PUB") or p.startswith("PUBLIC") for p in parts)


#: Values that name something rather than hold it: paths, URLs, ARNs, resource names, template placeholders.
_REFERENCE = re.compile(r"^(\.{0,2}/|~/|[a-z][a-z0-9+.-]*://|arn:|projects/)|\$\{|\{\{|^[a-z0-9]([-.a-z]*[a-z0-9])?$")


def high_entropy(value: str) -> bool:
    """A random-looking string: long enough, no spaces, two character classes or more (lower, upper, digit), not a
    reference (path, URL, ARN, name, placeholder), and at least :data:`ENTROPY_BITS` bits per character."""
    if len(value) < MIN_SECRET_LENGTH or any(c.isspace() for c in value) or _REFERENCE.search(value):
        return False
    classes = sum(any(f(c) for c in value) for f in (str.islower, str.isupper, str.isdigit))
    return classes >= 2 and entropy(value) >= ENTROPY_BITS


def credential_problems(key: str, value: str) -> Iterator[str]:
    """What in one ConfigMap entry looks like a credential."""
    for what in credential_shapes(value):
        yield f"key {key!r} holds {what}"
    if secret_key(key) and high_entropy(value.strip()):
        yield f"key {key!r} holds a high-entropy value ({entropy(value.strip()):.1f} bits per character)"
    lower = value.lower()
    if not any(w in lower for w in _SECRET_WORDS):
        return
    for m in _ASSIGNMENT.finditer(value):
        inner, v = m.group(1), m.group(2)
        if secret_key(inner) and high_entropy(v):
            yield f"key {key!r} sets {inner} to a high-entropy value ({entropy(v):.1f} bits per character)"
    for inner, v in _json_strings(value):
        if secret_key(inner) and high_entropy(v):
            yield f"key {key!r} sets {inner} to a high-entropy value ({entropy(v):.1f} bits per character)"


#: A JSON key holding a secret word: only then is a JSON value decoded (dashboards are large and hold none).
_JSON_SECRET_KEY = re.compile(r'"[\w.-]*(?:token|passw|secret|key|credential)[\w.-]*"\s*:', re.I)


def _json_strings(value: str) -> Iterator[tuple[str, str]]:
    """(key, string value) pairs of a JSON document value (one line or many), bounded like every decoder of user
    text; nothing for text that is not a JSON object or array."""
    if not value.lstrip().startswith(("{", "[")) or not _JSON_SECRET_KEY.search(value):
        return
    try:
        doc = json_value(value)
    except DecodeError:
        return
    todo = [doc]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(v, str):
                    yield str(k), v
                else:
                    todo.append(v)
        elif isinstance(node, list):
            todo.extend(node)


def credential_shapes(value: str) -> Iterator[str]:
    """The credential shapes found in a value (an AWS access key id, a PEM private key, ...)."""
    if not _ANY_ANCHOR.search(value):
        return
    for what, anchors, rx in CREDENTIAL_PATTERNS:
        if any(a in value for a in anchors) and rx.search(value):
            yield what
