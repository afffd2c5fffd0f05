"""Example values a real deployment must not use: refused when the program runs under the real Pulumi engine.

The reference stacks (``stacks/Pulumi.*.yaml``) and the examples carry values that only stand for the user's own:
the documentation AWS account ``123456789012`` in ARNs and principals, ``example.com`` / ``example.org`` /
``example.net`` domains and groups (RFC 2606), the example reservation ids of the reference stacks
(:data:`EXAMPLE_RESERVATION_IDS`) and the RFC 5737 documentation networks (192.0.2.0/24, 198.51.100.0/24,
203.0.113.0/24). The clouds reject them, or worse, accept them and grant nothing (or the wrong thing).

:func:`example_values` finds them in a stack (a pure function: every key path and its value);
:func:`refuse_example_values` raises one :class:`~inferstack.config.ConfigError` naming each of them, but only when
:func:`under_real_engine` says the program runs under the real engine (``pulumi up`` / ``pulumi preview`` through the
Pulumi CLI). The offline engine (``inferstack preview``, ``policy``, ``render``, ``cost`` and the tests) runs the
program under Pulumi's mock runtime and keeps accepting the reference stacks as they are.

How the two are told apart: :func:`pulumi.runtime.settings.get_monitor` is the resource monitor the program
registers resources with. Under the real engine it is a gRPC ``ResourceMonitorStub`` connected to the engine's
address; under the mock runtime (``pulumi.runtime.set_mocks``, which the offline engine's ``RecordingMonitor``
uses, as does any unit test written with Pulumi's mocks) it is a :class:`pulumi.runtime.mocks.MockMonitor`. With no
monitor at all (``inferstack config validate``, a plain import) nothing runs under any engine. The check reads
that setting only; it patches nothing.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from typing import Any

from inferstack.config.stack import NAMESPACE, ConfigError, ConfigIssue, StackConfig

__all__ = [
    "DOCUMENTATION_NETWORKS",
    "EXAMPLE_ACCOUNT_ID",
    "EXAMPLE_DOMAINS",
    "EXAMPLE_RESERVATION_IDS",
    "ExampleValue",
    "check_example_values",
    "example_reason",
    "example_values",
    "refuse_example_values",
    "under_real_engine",
]

#: The AWS documentation account id (the ARNs of AWS's own docs use it; no real account has it).
EXAMPLE_ACCOUNT_ID = "123456789012"
#: Domains reserved for documentation (RFC 2606): in hosts, e-mail groups and principals.
EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net")
#: The reservation ids the reference stacks use (``acceleratorPools[].ladder[].reservations[].id``); a test keeps
#: this list equal to what ``stacks/`` holds.
EXAMPLE_RESERVATION_IDS = frozenset({"cr-0a1b2c3d4e5f60718", "inferstack-prod-l4"})
#: RFC 5737 documentation networks (TEST-NET-1, -2, -3).
DOCUMENTATION_NETWORKS = tuple(
    ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
)

_ACCOUNT = re.compile(rf"(?<![0-9]){EXAMPLE_ACCOUNT_ID}(?![0-9])")
_DOMAIN = re.compile(r"(?:^|[@./:])(" + "|".join(re.escape(d) for d in EXAMPLE_DOMAINS) + r")(?![A-Za-z0-9-]|\.[A-Za-z0-9])", re.I)
#: An IPv4 address or network anywhere in a string (``203.0.113.7``, ``198.51.100.0/24``).
_IPV4 = re.compile(r"(?<![0-9.])(\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?)(?![0-9.])")

ExampleValue = tuple[str, str, str]
"""One finding: (key path as the stack file names it, the value, why it is an example value)."""


def example_reason(value: str) -> str | None:
    """Why ``value`` is an example value (``None`` when it is not one)."""
    if value in EXAMPLE_RESERVATION_IDS:
        return "an example reservation id of the reference stacks"
    if _ACCOUNT.search(value):
        return f"the documentation AWS account {EXAMPLE_ACCOUNT_ID}"
    domain = _DOMAIN.search(value)
    if domain:
        return f"the documentation domain {domain.group(1).lower()} (RFC 2606)"
    for text in _IPV4.findall(value):
        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError:
            continue
        for doc in DOCUMENTATION_NETWORKS:
            # Inside a documentation network only: 0.0.0.0/0 or 192.0.0.0/16 merely contain one.
            if net.version == doc.version and net.subnet_of(doc):
                return f"the documentation network {doc} (RFC 5737)"
    return None


def _walk(value: Any, loc: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _walk(v, (*loc, str(k)))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _walk(v, (*loc, i))
    elif isinstance(value, str):
        yield loc, value


def example_values(settings: Mapping[str, Any], others: Mapping[str, Any] | None = None) -> list[ExampleValue]:
    """Every example value of a stack, in key order.

    ``settings``: the ``inferstack:`` settings as the stack file writes them (camelCase keys, no namespace);
    ``others``: whole keys of other namespaces (``aws:region``, ``byo-eks:oidcProviderArn``) -> their values. A
    secure value (``{secure: ...}``) is never looked at.
    """
    out: list[ExampleValue] = []
    for loc, value in _walk(settings, ()):
        reason = example_reason(value)
        if reason:
            out.append((ConfigIssue(loc, "").path, value, reason))
    for key, raw in (others or {}).items():
        if isinstance(raw, Mapping) and set(raw) == {"secure"}:
            continue
        for loc, value in _walk(raw, (key,)):
            reason = example_reason(value)
            if reason:
                out.append((ConfigIssue(loc, "", namespace=None).path, value, reason))
    return out


def check_example_values(cfg: StackConfig) -> list[ConfigIssue]:
    """One issue per example value of a loaded stack (its ``inferstack:`` settings and other namespaces' keys)."""
    settings = cfg.settings.model_dump(by_alias=True, mode="json", exclude_none=True)
    prefix = f"{NAMESPACE}:"
    others = {k: v for k, v in cfg.values.items() if not k.startswith(prefix) and k not in cfg.secret_keys}
    issues: list[ConfigIssue] = []
    for path, value, reason in example_values(settings, others):
        message = f"{value!r} is {reason}: replace it with your own value (README: values to replace; inferstack init)"
        issues.append(ConfigIssue((path,), message, namespace=None))
    return issues


def under_real_engine() -> bool:
    """Whether the running program registers its resources with the real Pulumi engine (not a mock monitor)."""
    # Imported here: the checks run in CLI commands that load no Pulumi SDK.
    from pulumi.runtime.mocks import MockMonitor
    from pulumi.runtime.settings import get_monitor

    monitor = get_monitor()
    return monitor is not None and not isinstance(monitor, MockMonitor)


def refuse_example_values(cfg: StackConfig, real_engine: bool | None = None) -> None:
    """Raise one :class:`ConfigError` naming every example value of ``cfg`` when the program runs under the real
    engine (``real_engine``: :func:`under_real_engine` when not given). Offline, nothing is checked."""
    if not (under_real_engine() if real_engine is None else real_engine):
        return
    issues = check_example_values(cfg)
    if issues:
        raise ConfigError(f"stack {cfg.name} (example values cannot be deployed)", issues)
