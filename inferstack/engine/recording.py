"""The recording model: every resource one offline run declared, as preview, policy, render and cost read it.

A :class:`Recording` keeps its resources in registration order and indexes them by URN, by type token, by
(type, name), by parent and by provider reference, so every lookup is a dictionary access. The indexes are built on
first use and rebuilt if resources were added to the list afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inferstack.engine.wire import redact, unwrap_secrets


@dataclass
class SourcePosition:
    file: str
    line: int


@dataclass
class ResourceRecord:
    """One registered resource as the engine saw it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    provider: str | None
    protect: bool
    retain_on_delete: bool
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    inputs: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    source: SourcePosition | None = None
    additional_secret_outputs: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    synthesized: bool = False
    #: ``replace_on_changes`` property paths and ``delete_before_replace`` of the resource's options.
    replace_on_changes: list[str] = field(default_factory=list)
    delete_before_replace: bool = False

    @property
    def package(self) -> str:
        return self.type.split(":", 1)[0]

    @property
    def is_provider(self) -> bool:
        return self.type.startswith("pulumi:providers:")

    @property
    def plain_inputs(self) -> dict[str, Any]:
        return unwrap_secrets(self.inputs)

    @property
    def provider_urn(self) -> str | None:
        """The URN of this resource's provider (its provider reference without the ``::<id>`` suffix)."""
        return provider_urn(self.provider) if self.provider else None

    def to_json(self) -> dict[str, Any]:
        out = {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "provider": self.provider,
            "protect": self.protect,
            "retainOnDelete": self.retain_on_delete,
            "dependencies": self.dependencies,
            "inputs": redact(self.inputs),
        }
        if self.source:
            out["source"] = {"file": self.source.file, "line": self.source.line}
        return out


@dataclass
class Lookup:
    """A data-source call (``kind="invoke"``, ``token`` the function) or a resource read (``kind="read"``,
    ``token`` the resource type, from ``Resource.get``) and how the offline engine answered it.

    ``supplied`` are the fields given known values (the engine's own tables, or the call's arguments echoed);
    ``placeholders`` the fields given placeholder values (field path -> value), only in a plain-form call that needs a
    known result; ``unknown`` the fields left unknown, as a real preview leaves what it cannot know."""

    kind: str
    token: str
    #: ``plain`` (``get_x(...)``, a known result is needed) or ``output`` (``get_x_output(...)``); reads: ``read``.
    form: str = "read"
    args: dict[str, Any] = field(default_factory=dict)
    supplied: list[str] = field(default_factory=list)
    placeholders: dict[str, Any] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    #: Reads only: the logical name, the id given and the URN.
    name: str | None = None
    id: str | None = None
    urn: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "token": self.token, "form": self.form}
        if self.kind == "read":
            out.update(name=self.name, id=self.id, urn=self.urn)
        else:
            out["args"] = redact(self.args)
        out.update(supplied=self.supplied, placeholders=redact(self.placeholders), unknown=self.unknown)
        return out


def provider_urn(reference: str) -> str:
    """The provider URN of a provider reference (``<urn>::<id>``, or a bare URN)."""
    # A URN has three "::" (urn:pulumi:stack::project::type::name); a reference adds "::<id>".
    return reference.rsplit("::", 1)[0] if reference.count("::") > 3 else reference


@dataclass
class _Index:
    size: int
    by_urn: dict[str, ResourceRecord]
    by_type: dict[str, list[ResourceRecord]]
    by_type_name: dict[tuple[str, str], ResourceRecord]
    by_parent: dict[str | None, list[ResourceRecord]]
    #: Provider reference (as resources record it) -> the provider's record, or None when not recorded.
    providers: dict[str, ResourceRecord | None]


@dataclass
class Recording:
    """Everything one offline run declared, in registration order."""

    stack: str
    resources: list[ResourceRecord]
    #: The program's stack outputs (``pulumi.export``), secret values marked as in resource inputs.
    outputs: dict[str, Any] = field(default_factory=dict)
    #: What the program logged (``pulumi.log``), as (level, message): ``warning``, ``error``, ``info``, ``debug``.
    logs: list[tuple[str, str]] = field(default_factory=list)
    #: Data-source calls and resource reads, in call order, with what was supplied, made up or left unknown.
    lookups: list[Lookup] = field(default_factory=list)
    _index: _Index | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def index(self) -> _Index:
        """The lookup tables over :attr:`resources` (built once; rebuilt if the list grew or shrank)."""
        idx = self._index
        if idx is None or idx.size != len(self.resources):
            idx = self._index = self._build_index()
        return idx

    def _build_index(self) -> _Index:
        by_urn: dict[str, ResourceRecord] = {}
        by_type: dict[str, list[ResourceRecord]] = {}
        by_type_name: dict[tuple[str, str], ResourceRecord] = {}
        by_parent: dict[str | None, list[ResourceRecord]] = {}
        for r in self.resources:
            by_urn.setdefault(r.urn, r)
            by_type.setdefault(r.type, []).append(r)
            by_type_name.setdefault((r.type, r.name), r)
            by_parent.setdefault(r.parent, []).append(r)
        providers = {ref: by_urn.get(provider_urn(ref)) for ref in {r.provider for r in self.resources if r.provider}}
        return _Index(len(self.resources), by_urn, by_type, by_type_name, by_parent, providers)

    @property
    def placeholders(self) -> list[tuple[Lookup, str, Any]]:
        """Every placeholder value a data-source call was answered with: (lookup, field path, value)."""
        return [(x, path, v) for x in self.lookups for path, v in x.placeholders.items()]

    @property
    def placeholder_count(self) -> int:
        """How many values are placeholders from data-source lookups (a report says so)."""
        return sum(len(x.placeholders) for x in self.lookups)

    def placeholder_note(self) -> str | None:
        """One line for a report when data-source lookups were answered with placeholders (None otherwise):
        ``3 values are placeholders from data-source lookups (aws:route53/getZone:getZone: arn, zoneId, ...)``."""
        if not self.placeholder_count:
            return None
        per_call = [f"{x.token}: {', '.join(sorted(x.placeholders))}" for x in self.lookups if x.placeholders]
        n = self.placeholder_count
        return f"{n} value{'s are' if n != 1 else ' is'} placeholders from data-source lookups ({'; '.join(per_call)})"

    # -------------------------------------------------------------- O(1) lookups

    def by_urn(self, urn: str) -> ResourceRecord | None:
        """The resource with this URN, or None."""
        return self.index.by_urn.get(urn)

    def of_type(self, type_token: str) -> tuple[ResourceRecord, ...]:
        """Every resource of a type token, in registration order."""
        return tuple(self.index.by_type.get(type_token, ()))

    def provider_of(self, record: ResourceRecord) -> ResourceRecord | None:
        """The provider record of a resource (explicit or synthesized default), or None."""
        if not record.provider:
            return None
        idx = self.index
        try:
            return idx.providers[record.provider]
        except KeyError:  # a record not in this recording, or whose provider changed since indexing
            return idx.by_urn.get(provider_urn(record.provider))

    # -------------------------------------------------------------- the original API, on the indexes

    def by_type(self, type_token: str) -> list[ResourceRecord]:
        return list(self.index.by_type.get(type_token, ()))

    def types(self) -> list[str]:
        """Every type token recorded, in order of first registration."""
        return list(self.index.by_type)

    def get(self, urn: str) -> ResourceRecord:
        r = self.index.by_urn.get(urn)
        if r is None:
            raise KeyError(urn)
        return r

    def find(self, type_token: str, name: str) -> ResourceRecord:
        r = self.index.by_type_name.get((type_token, name))
        if r is None:
            raise KeyError(f"{type_token} {name}")
        return r

    def children(self, urn: str | None) -> list[ResourceRecord]:
        return list(self.index.by_parent.get(urn, ()))
