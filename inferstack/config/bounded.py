"""Bounded decoders of user text: the one place inferstack turns text from people into values.

Stack files (:mod:`inferstack.config.yaml_data`), JSON inside config values, registry model names, versions and
aliases, Kubernetes quantities, durations and command-line arguments are decoded here, each bounded before any work
is done on it:

- size: text of at most :data:`MAX_BYTES`; a number of at most :data:`MAX_NUMBER_CHARS` characters, so Python's
  ``int()`` never meets its own 4,300-digit limit (whose message names no key) and ``float()`` never returns ``inf``
  for a long digit string;
- depth: JSON nested at most :data:`MAX_DEPTH` levels, counted by a scan that does not recurse, before the JSON
  parser (which recurses) runs;
- numbers: integers within JSON's exact range (:data:`MAX_INT`), finite floats; ``NaN`` and ``Infinity`` refused;
- spelling: a pattern must match the whole text (``re.fullmatch``: ``$`` alone also matches before a trailing
  newline) in ASCII (``re.ASCII``: ``\\d`` and ``\\w`` would also match Arabic-Indic or fullwidth digits and
  Cyrillic letters); digits are parsed only after they matched ``[0-9]``.

Every refusal is a :class:`DecodeError` (a ValueError) saying what is wrong and what is allowed; the caller names
the key or argument (``inferstack:pricing: ...``, ``argument VERSION: ...``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from inferstack.config.patterns import ALLOWED, REGISTRY_VERSION_MAX, REGISTRY_VERSION_PATTERN

#: Largest text decoded (a stack file, a JSON config value), in bytes of UTF-8.
MAX_BYTES = 1 << 20
#: Deepest nesting of mappings and sequences (YAML) or objects and arrays (JSON).
MAX_DEPTH = 64
#: Most values (scalars, mappings, sequences) a YAML document may expand to, aliases counted at their full size.
MAX_NODES = 200_000
#: Largest integer magnitude kept exactly by JSON consumers (Pulumi passes structured config as JSON).
MAX_INT = 2**53
#: Longest spelling of one number (sign, digits, point, exponent): 2**53 has 16 digits, a float 17 significant ones.
MAX_NUMBER_CHARS = 32


class DecodeError(ValueError):
    """User text that is malformed, too large or too deep; the message says what is wrong and what is allowed."""


def shown(text: object, limit: int = 40) -> str:
    """``text`` for an error message: its repr, cut to ``limit`` characters with its length when longer."""
    if not isinstance(text, str):
        return type(text).__name__
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text):,} characters)"


def clip(message: str, limit: int = 800) -> str:
    """``message`` cut in the middle when longer than ``limit`` (an error that repeats a huge value): its start names
    the key and the problem, its end usually says what is allowed."""
    if len(message) <= limit:
        return message
    head, tail = message[: limit * 5 // 8], message[-(limit // 4):]
    return f"{head} [... {len(message) - len(head) - len(tail):,} characters cut ...] {tail}"


def fullmatch(pattern: str, text: object) -> bool:
    """``text`` is a string that ``pattern`` matches as a whole, in ASCII (see the module doc)."""
    return isinstance(text, str) and len(text) <= MAX_BYTES and re.fullmatch(pattern, text, re.ASCII) is not None


def checked(pattern: str, text: object, allowed: str | None = None) -> str:
    """``text`` when it matches ``pattern`` (:func:`fullmatch`); DecodeError saying what is allowed otherwise."""
    if not fullmatch(pattern, text):
        raise DecodeError(f"{shown(text)} is not allowed; {allowed or ALLOWED.get(pattern, f'expected {pattern}')}")
    return str(text)


# ---------------------------------------------------------------- numbers

_INT = r"[-+]?[0-9]+"
_FLOAT = r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"


def _spelled(text: object, pattern: str, what: str) -> str:
    if not isinstance(text, str):
        raise DecodeError(f"{shown(text)} is not {what}")
    if len(text) > MAX_NUMBER_CHARS and fullmatch(pattern, text):
        raise DecodeError(f"{shown(text, 20)} is too large: {what} has at most {MAX_NUMBER_CHARS} characters")
    if not fullmatch(pattern, text):
        raise DecodeError(f"{shown(text)} is not {what} (ASCII digits 0-9)")
    return text


def integer(text: object, lo: int = -MAX_INT, hi: int = MAX_INT, what: str = "an integer") -> int:
    """``text`` (ASCII digits, optional sign) as an int in ``lo..hi``; DecodeError otherwise."""
    value = int(_spelled(text, _INT, what))
    if not lo <= value <= hi:
        raise DecodeError(f"{shown(text, 20)} is out of range; {what} is {lo} to {hi}")
    return value


def number(text: object, what: str = "a number") -> float:
    """``text`` (a JSON/YAML decimal number in ASCII) as a finite float; DecodeError otherwise."""
    value = float(_spelled(text, _FLOAT, what))
    if not math.isfinite(value) or abs(value) > 1e300:
        raise DecodeError(f"{shown(text, 20)} is out of range; {what} is a finite number")
    return value


def version(text: object) -> int:
    """A registry version (``7``): the pattern of ``version`` in the stack config; DecodeError otherwise."""
    if isinstance(text, str) and len(text) > len(str(REGISTRY_VERSION_MAX)) and fullmatch(r"[0-9]+", text):
        raise DecodeError(f"{shown(text, 20)} is too large; {ALLOWED[REGISTRY_VERSION_PATTERN]}")
    return int(checked(REGISTRY_VERSION_PATTERN, text))


#: Units of :func:`duration`, in seconds.
DURATION_UNITS: Mapping[str, float] = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def duration(text: object, units: Mapping[str, float] = DURATION_UNITS, max_seconds: float = 366 * 86400.0,
             default_unit: str | None = None) -> float:
    """A duration (``90s``, ``30m``, ``1h``, ``2d``; a bare number in ``default_unit`` when given) in seconds.

    ASCII digits with an optional decimal fraction and one unit of ``units``, at most ``max_seconds``."""
    allowed = (f"a number with a unit {', '.join(units)}" + (f" (default {default_unit})" if default_unit else "")
               + f", e.g. 30m, 1h, 7d; at most {int(max_seconds // 86400)}d")
    m = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([a-z]*)", text, re.ASCII) if isinstance(text, str) else None
    unit = (m.group(2) or default_unit) if m else None
    if m is None or unit not in units or len(m.group(1)) > MAX_NUMBER_CHARS:
        raise DecodeError(f"invalid duration {shown(text)}; {allowed}")
    seconds = float(m.group(1)) * units[unit]
    if seconds > max_seconds:
        raise DecodeError(f"duration {shown(text, 20)} is too long; {allowed}")
    return seconds


def quantity(text: object, units: Mapping[str, float], what: str, example: str) -> float:
    """A Kubernetes quantity (``24Gi``, ``500m``) as a number times its unit's factor in ``units``; DecodeError
    naming ``what`` and ``example`` otherwise."""
    m = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([A-Za-z]*)", text, re.ASCII) if isinstance(text, str) else None
    if m is None or m.group(2) not in units or len(m.group(1)) > MAX_NUMBER_CHARS:
        raise DecodeError(f"not {what}: {shown(text)} (e.g. {example})")
    return float(m.group(1)) * units[m.group(2)]


#: Units of a Kubernetes memory quantity, in GiB.
MEMORY_GIB_UNITS: Mapping[str, float] = {
    "": 1 / 2**30, "k": 1e3 / 2**30, "M": 1e6 / 2**30, "G": 1e9 / 2**30, "T": 1e12 / 2**30,
    "Ki": 1 / 2**20, "Mi": 1 / 2**10, "Gi": 1.0, "Ti": 2**10,
}
#: Units of a Kubernetes CPU quantity, in cores.
CPU_CORE_UNITS: Mapping[str, float] = {"": 1.0, "m": 1e-3}


def memory_quantity(text: object) -> float:
    """A Kubernetes memory quantity (``24Gi``, ``512Mi``, ``8G``) in GiB; DecodeError when malformed."""
    return quantity(text, MEMORY_GIB_UNITS, "a memory quantity", "24Gi, 512Mi")


def cpu_quantity(text: object) -> float:
    """A Kubernetes CPU quantity (``4``, ``2.5``, ``500m``) in cores; DecodeError when malformed."""
    return quantity(text, CPU_CORE_UNITS, "a CPU quantity", "4, 500m")


# ---------------------------------------------------------------- JSON

_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def json_depth(text: str, limit: int = MAX_DEPTH) -> int:
    """Deepest nesting of arrays and objects in ``text`` (brackets inside strings not counted), without parsing it
    and without recursing; stops counting once past ``limit``."""
    depth = deepest = 0
    for token in _JSON_TOKENS.finditer(text):
        c = token.group()
        if c in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        elif c in "]}":
            depth = max(0, depth - 1)
    return deepest


def _json_int(text: str) -> int:
    return integer(text, what="a JSON integer")


def _json_float(text: str) -> float:
    return number(text, what="a JSON number")


def _json_constant(name: str) -> float:
    raise DecodeError(f"{name} is not a JSON number; numbers are finite")


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DecodeError(f"duplicate key {shown(key)}")
        out[key] = value
    return out


def json_value(text: str) -> Any:
    """The JSON value ``text`` holds; DecodeError when it is larger than :data:`MAX_BYTES`, nested deeper than
    :data:`MAX_DEPTH`, holds a number out of range (see :func:`integer`, :func:`number`), ``NaN``/``Infinity`` or a
    duplicate key, or is not JSON. Nothing recurses deeper than :data:`MAX_DEPTH`."""
    if len(text) > MAX_BYTES:
        raise DecodeError(f"{len(text):,} characters; a value is at most {MAX_BYTES:,}")
    if json_depth(text) > MAX_DEPTH:
        raise DecodeError(f"nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text, parse_int=_json_int, parse_float=_json_float, parse_constant=_json_constant,
                          object_pairs_hook=_json_object)
    except DecodeError:
        raise
    except ValueError as err:
        raise DecodeError(f"not JSON: {err}") from None


def config_value(value: Any) -> Any:
    """A config value as Pulumi passes it: structured values arrive as JSON text, decoded here (bounded); a string
    that is not JSON stays the string. DecodeError for JSON-looking text that is too large, too deep or holds a
    number out of range."""
    if not isinstance(value, str):
        return value
    if len(value) > MAX_BYTES:
        raise DecodeError(f"{len(value):,} characters; a config value is at most {MAX_BYTES:,}")
    if json_depth(value) > MAX_DEPTH:
        raise DecodeError(f"a JSON value nested deeper than {MAX_DEPTH} levels")
    try:
        return json_value(value)
    except DecodeError as err:
        if str(err).startswith("not JSON"):
            return value
        raise


def plain_data(value: Any) -> Any:
    """``value`` when it is JSON-like data within the bounds (depth, :data:`MAX_NODES` values, integers within
    :data:`MAX_INT`, finite floats, strings of at most :data:`MAX_BYTES`); DecodeError naming the first problem and
    where (``[0].a``) otherwise. For values handed over already decoded (a program passing Python objects)."""
    todo: list[tuple[Any, str, int]] = [(value, "", 0)]
    nodes = 0
    while todo:
        v, where, depth = todo.pop()
        nodes += 1
        at = f" at {where}" if where else ""
        if nodes > MAX_NODES:
            raise DecodeError(f"more than {MAX_NODES:,} values")
        if depth > MAX_DEPTH:
            raise DecodeError(f"nested deeper than {MAX_DEPTH} levels{at}")
        if isinstance(v, bool) or v is None:
            continue
        if isinstance(v, int):
            if not -MAX_INT <= v <= MAX_INT:
                raise DecodeError(f"integer{at} is too large (at most 2**53)")
        elif isinstance(v, float):
            if not math.isfinite(v) or abs(v) > 1e300:
                raise DecodeError(f"number{at} is not finite or out of range")
        elif isinstance(v, str):
            if len(v) > MAX_BYTES:
                raise DecodeError(f"string{at} of {len(v):,} characters; at most {MAX_BYTES:,}")
        elif isinstance(v, Mapping):
            todo.extend((item, f"{where}.{k}" if where else str(k), depth + 1) for k, item in v.items())
        elif isinstance(v, (list, tuple)):
            todo.extend((item, f"{where}[{i}]", depth + 1) for i, item in enumerate(v))
    return value
