"""Source ranges that amount to the whole internet: ``0.0.0.0/0`` and ``::/0``, and any public range so wide it is
the world in practice (``0.0.0.0/1``, the two halves ``0.0.0.0/1`` + ``128.0.0.0/1``, ``2000::/3`` - all of
global unicast IPv6).

Plain functions (no Pulumi): the AWS security-group and network-ACL rules and the GCP firewall rule share them.

The threshold: an IPv4 range of prefix /0 to /7 (32 million addresses or more: no organization holds one, the
largest allocations are /8) and an IPv6 range of /0 to /15 (the regional registries receive /12 to /23 blocks from
IANA; a /16 is already several registries' worth), unless the range lies wholly inside private space (RFC 1918,
CGNAT 100.64.0.0/10, IPv6 unique-local fc00::/7, link-local, loopback, multicast), which is never the internet.
Ranges given together count together: public ranges whose union collapses to such a wide range are the world too.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

#: Prefix lengths this short (or shorter) are the world: IPv4 /0-/7, IPv6 /0-/15.
WORLD_MAX_PREFIX = {4: 7, 6: 15}
#: Ranges that are never the internet, however wide.
PRIVATE = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "224.0.0.0/4", "240.0.0.0/4",
    "fc00::/7", "fe80::/10", "::1/128", "ff00::/8",
))

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse(cidr: Any) -> Network | None:
    """The network a CIDR string names (host bits allowed, as the clouds accept them), or None if it is not one."""
    if not isinstance(cidr, str):
        return None
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        return None


def _private(net: Network) -> bool:
    return any(net.version == p.version and net.subnet_of(p) for p in PRIVATE)  # type: ignore[arg-type]


def _wide(net: Network) -> bool:
    return net.prefixlen <= WORLD_MAX_PREFIX[net.version] and not _private(net)


def is_world(cidr: Any) -> bool:
    """Whether one source range is the internet: ``0.0.0.0/0``, ``::/0`` or a public range of prefix IPv4 /0-/7,
    IPv6 /0-/15 (``0.0.0.0/1``, ``2000::/3``)."""
    net = parse(cidr)
    return net is not None and _wide(net)


def world_ranges(cidrs: Iterable[Any]) -> list[str]:
    """The ranges of ``cidrs`` (in their order, as given) that are the internet, alone (:func:`is_world`) or
    together: public ranges whose union collapses to a world-wide range (``0.0.0.0/1`` + ``128.0.0.0/1``, 256 /8s)."""
    public = [(c, n) for c in cidrs if (n := parse(c)) is not None and not _private(n)]
    out = {c for c, n in public if _wide(n)}
    for version in (4, 6):
        nets = [n for _, n in public if n.version == version]
        for merged in ipaddress.collapse_addresses(nets):  # type: ignore[type-var]
            if _wide(merged):
                out |= {c for c, n in public if n.version == version and n.subnet_of(merged)}  # type: ignore[arg-type]
    return [c for c, _ in public if c in out]


#: The name the GCP firewall rule imports: same predicate as :func:`is_world`.
world_equivalent = is_world
