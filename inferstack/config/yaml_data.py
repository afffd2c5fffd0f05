"""YAML as plain JSON data, read defensively: stack files come from people, CI and other tools.

:func:`load_yaml_data` builds the document from the parser's events (libyaml's C parser where installed), never
through PyYAML's constructors, and refuses before building anything large:

- content that is not UTF-8 text (UTF-16/32, binary, NUL bytes) and files over :data:`MAX_BYTES`;
- nesting deeper than :data:`MAX_DEPTH`, and documents of more than :data:`MAX_NODES` values counting every alias
  expansion (so "billion laughs" anchors fail in microseconds, in bounded memory);
- explicit tags other than the JSON types (``!!python/object``, ``!!binary``, ``!!set``, custom ``!tags``);
- duplicate mapping keys (YAML would keep the last one silently), non-string keys, and more than one document;
- integers beyond JSON's exact range (2**53) and ``.inf`` / ``.nan``.

Plain scalars resolve by the YAML 1.2 core schema, as Pulumi reads config: ``yes``/``on``, sexagesimal ``1:20``
and unquoted dates stay strings. Each refusal is a :class:`YamlDataError` with the line and
column; callers turn it into a config error naming the file.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

# The limits are those of every decoder of user text (inferstack.config.bounded): one place.
from inferstack.config.bounded import (
    MAX_BYTES,
    MAX_DEPTH,
    MAX_INT,
    MAX_NODES,
    MAX_NUMBER_CHARS,
    DecodeError,
    integer,
    number,
)

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_INT", "MAX_NODES", "YamlDataError", "decode_text", "load_yaml_data"]


_Parser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_TAG}{t}" for t in ("str", "int", "float", "bool", "null")}


class YamlDataError(ValueError):
    """A document that is not plain JSON-like YAML, or is too large or deep; the message says where and why."""


def _where(event: Any) -> str:
    mark = getattr(event, "start_mark", None)
    return f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""


def decode_text(data: bytes) -> str:
    """``data`` as UTF-8 text (a UTF-8 byte-order mark is dropped); YamlDataError for anything else."""
    if len(data) > MAX_BYTES:
        raise YamlDataError(f"{len(data):,} bytes; stack files are at most {MAX_BYTES:,} bytes")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(data) >= 2 and (data[0] == 0) != (data[1] == 0)):
        raise YamlDataError("UTF-16 or UTF-32 text; save the file as UTF-8")
    if b"\x00" in data:
        raise YamlDataError("binary content (NUL bytes); a stack file is UTF-8 YAML text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise YamlDataError(f"not UTF-8 text (byte {err.start}: {data[err.start:err.start + 1]!r}); save the file as UTF-8") from None
    return text.removeprefix("\ufeff")


_NULL = re.compile(r"~|null|Null|NULL|")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")


def _plain_scalar(value: str, event: Any) -> Any:
    """A plain scalar by the YAML 1.2 core schema (as Pulumi reads config): ``yes``, ``on``, ``1:20`` and dates
    stay strings."""
    if _NULL.fullmatch(value):
        return None
    if value in _BOOL:
        return _BOOL[value]
    if _INT.fullmatch(value):
        too_large = f"{_where(event)}integer {value[:40]}{'...' if len(value) > 40 else ''} is too large (at most 2**53); quote it if it is a name"
        if value[:2] not in ("0o", "0x"):
            try:
                return integer(value)
            except DecodeError:
                raise YamlDataError(too_large) from None
        if len(value) > MAX_NUMBER_CHARS or int(value[2:], 8 if value[1] == "o" else 16) > MAX_INT:
            raise YamlDataError(too_large)
        return int(value[2:], 8 if value[1] == "o" else 16)
    if _FLOAT.fullmatch(value):
        if value.lstrip("+-").startswith("."):
            if value.lstrip("+-")[1:].lower() in ("inf", "nan"):
                raise YamlDataError(f"{_where(event)}{value} is not a finite number")
        try:
            return number(value)
        except DecodeError as err:
            raise YamlDataError(f"{_where(event)}{value[:40]}{'...' if len(value) > 40 else ''} is not a finite number "
                                f"within range ({str(err).rpartition('; ')[2]})") from None
    if value == "<<":
        raise YamlDataError(f"{_where(event)}merge keys (<<) are not supported in stack files; write the keys out")
    return value


def _scalar(event: yaml.ScalarEvent) -> Any:
    tag = event.tag
    if tag not in (None, "!") and tag not in _SCALAR_TAGS:
        raise YamlDataError(f"{_where(event)}tag {tag} is not allowed; values are strings, numbers, booleans or null")
    if tag in (None, "!"):
        if event.style or not event.implicit[0]:
            return event.value  # quoted, block or marked non-specific: a string
        return _plain_scalar(event.value, event)
    if tag == f"{_TAG}str":
        return event.value
    value = _plain_scalar(event.value, event)
    expected = {f"{_TAG}int": int, f"{_TAG}float": (int, float), f"{_TAG}bool": bool, f"{_TAG}null": type(None)}[tag]
    if not isinstance(value, expected) or (tag != f"{_TAG}bool" and isinstance(value, bool)):
        raise YamlDataError(f"{_where(event)}{event.value!r} is not a valid {tag.removeprefix(_TAG)}")
    return float(value) if tag == f"{_TAG}float" else value


def load_yaml_data(text: str) -> Any:
    """The single document of ``text`` as dicts, lists, strings, numbers, booleans and None (see module doc)."""
    stack: list[tuple[Any, Any, str | None, int]] = []  # (container, pending key, anchor, node count at start)
    anchors: dict[str, tuple[Any, int]] = {}
    pending: set[str] = set()
    root: Any = None
    documents = 0
    nodes = 0

    def add(value: Any, event: Any, size: int) -> None:
        nonlocal root, nodes
        nodes += size
        if nodes > MAX_NODES:
            raise YamlDataError(f"{_where(event)}the document expands to more than {MAX_NODES:,} values (alias bomb?)")
        if not stack:
            root = value
            return
        container, key, anchor, start = stack[-1]
        if isinstance(container, list):
            container.append(value)
        elif key is _NO_KEY:
            if not isinstance(value, str):
                raise YamlDataError(f"{_where(event)}mapping keys must be strings; got {value!r}")
            if value in container:
                raise YamlDataError(f"{_where(event)}duplicate key {value!r}")
            stack[-1] = (container, value, anchor, start)
        else:
            container[key] = value
            stack[-1] = (container, _NO_KEY, anchor, start)

    try:
        for event in yaml.parse(text, Loader=_Parser):
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise YamlDataError(f"{_where(event)}more than one YAML document; a stack file is one mapping")
            elif isinstance(event, yaml.ScalarEvent):
                value = _scalar(event)
                add(value, event, 1)
                if event.anchor:
                    anchors[event.anchor] = (value, 1)
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                kind = "map" if isinstance(event, yaml.MappingStartEvent) else "seq"
                if event.tag not in (None, "!", f"{_TAG}{kind}"):
                    raise YamlDataError(f"{_where(event)}tag {event.tag} is not allowed; use plain mappings and lists")
                if len(stack) >= MAX_DEPTH:
                    raise YamlDataError(f"{_where(event)}nested deeper than {MAX_DEPTH} levels")
                if stack and not isinstance(stack[-1][0], list) and stack[-1][1] is _NO_KEY:
                    raise YamlDataError(f"{_where(event)}mapping keys must be strings, not {'mappings' if kind == 'map' else 'lists'}")
                if event.anchor:
                    pending.add(event.anchor)
                stack.append(({} if kind == "map" else [], _NO_KEY, event.anchor, nodes))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                container, _, anchor, start = stack.pop()
                size = nodes - start + 1
                nodes = start
                add(container, event, size)
                if anchor:
                    pending.discard(anchor)
                    anchors[anchor] = (container, size)
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor in pending:
                    raise YamlDataError(f"{_where(event)}alias *{event.anchor} refers to a value that contains it")
                if event.anchor not in anchors:
                    raise YamlDataError(f"{_where(event)}alias *{event.anchor} has no anchor")
                value, size = anchors[event.anchor]
                add(value, event, size)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise YamlDataError(f"{where}not valid YAML: {err.problem or err.context}") from None
    except yaml.YAMLError as err:
        raise YamlDataError(f"not valid YAML: {' '.join(str(err).split())}") from None
    except RecursionError:  # a parser implementation that recurses on nesting
        raise YamlDataError(f"nested deeper than {MAX_DEPTH} levels") from None
    return root


class _NoKey:
    def __repr__(self) -> str:
        return "<no key>"


_NO_KEY: Any = _NoKey()
