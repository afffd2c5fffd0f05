"""Families of resource types by construction (see :mod:`.base`): the generated members, read at policy time.

``data_<cloud>.py`` (written by ``scripts/gen_families.py``, never by hand) holds each family's members: type token ->
the inputs carrying the family's control. A :class:`~inferstack.policies.entry.PolicyEntry` naming ``families``
judges every member; ``policies/families/coverage.py`` checks that every member is judged or explained.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType

#: The clouds with (possibly) generated family data, in report order.
CLOUDS = ("aws", "gcp", "kubernetes")


def data_module(cloud: str):
    """The generated ``data_<cloud>`` module, or None when that cloud has no generated families yet."""
    name = f"{__name__}.data_{cloud}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name == name:
            return None
        raise


@lru_cache(maxsize=1)
def all_families() -> Mapping[str, Mapping[str, tuple[str, ...]]]:
    """Family name -> {member type token -> the member's inputs carrying the control}, over every cloud."""
    out: dict[str, Mapping[str, tuple[str, ...]]] = {}
    for cloud in CLOUDS:
        mod = data_module(cloud)
        for name, members in (mod.FAMILIES if mod is not None else {}).items():
            if name in out:
                raise ValueError(f"family {name} generated twice")
            out[name] = MappingProxyType(dict(members))
    return MappingProxyType(out)


def members(family: str) -> Mapping[str, tuple[str, ...]]:
    """The members of a family (type token -> control-carrying inputs); ValueError naming the known families."""
    fams = all_families()
    if family not in fams:
        raise ValueError(f"unknown family {family!r}; known: {', '.join(sorted(fams)) or '(none generated)'}")
    return fams[family]


def fields(family: str, type_token: str) -> tuple[str, ...]:
    """The Python input names of ``type_token`` that carry the family's control (empty for a non-member)."""
    return members(family).get(type_token, ())
