"""AWS's ``aws:iam/getPolicyDocument`` as the provider computes it: from the call's arguments alone, no API call.

The Terraform AWS provider's ``aws_iam_policy_document`` data source (which ``pulumi_aws.iam.get_policy_document``
bridges) builds the document locally, so the offline engine can answer it exactly, and a bucket policy, key policy
or role built from it is judged on what it grants, not on a placeholder. :func:`policy_document` is a pure function
of the arguments (wire names, as the engine receives them; the Python names a plain dict may carry work too) giving
the result fields (``json``, ``minifiedJson``, ``id`` and the arguments echoed), following the provider's rules:

- a statement's ``effect`` defaults to ``Allow``; ``actions``, ``not_actions``, ``resources``, ``not_resources`` and
  principal ``identifiers`` are sets: duplicates dropped, one element written as a string, several as a list sorted
  in reverse; ``&{`` in resources, identifiers and condition values becomes ``${`` (an error under version
  ``2008-10-17``);
- principals are ``{"<type>": identifiers}`` (blocks of one type joined), except that a single block of type ``*``
  with identifiers ``["*"]`` is written ``"*"`` (type ``AWS`` with ``["*"]`` stays ``{"AWS": "*"}``);
- conditions are ``{test: {variable: values}}``, the values of blocks with the same test and variable joined in
  order, one value written as a string;
- the document is merged as the provider merges it: ``source_policy_documents`` in order (their non-empty Sids must
  be unique), then the statements given, then ``override_policy_documents`` in order; a statement with a non-empty
  Sid replaces the earlier one with that Sid in place, others are appended; the highest ``Version`` wins and a
  non-empty ``Id`` replaces the earlier one. Statements read from JSON are re-written the provider's way (a string
  ``Principal`` becomes ``"*"``, principal lists sorted in reverse, one-value condition lists and booleans written
  as strings, keys the provider does not know dropped);
- ``json`` is Go's indented encoding (two spaces), ``minifiedJson`` the compact one, both with Go's escaping of
  ``<``, ``>``, ``&``, U+2028 and U+2029; ``id`` is the CRC-32 of ``json`` in decimal, the provider's hash code.

What it cannot reproduce: the provider lists several principal or condition blocks of one statement in its set's
hash order; here they keep the program's order, which only changes the order of identifiers or values joined under
one principal type or one condition variable.

Arguments the provider refuses (a duplicate Sid, a Sid that is not alphanumeric, an effect other than Allow/Deny,
an unknown version, a source or override document that is not a JSON policy, a missing principal ``type``) raise
:class:`PolicyDocumentError` with the provider's reason: a real preview stops there too.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi.runtime import rpc

TOKEN = "aws:iam/getPolicyDocument:getPolicyDocument"
VERSIONS = ("2008-10-17", "2012-10-17")
DEFAULT_VERSION = "2012-10-17"
_SID = re.compile(r"[a-zA-Z0-9]*")
#: Statement fields in the order Go writes them (the provider's struct order), with their JSON names.
_STATEMENT_KEYS = ("Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal",
                   "Condition")
_DOC_KEYS = ("Version", "Id", "Statement")
#: Go's encoding/json escapes these even inside strings (HTML safety, JavaScript line separators).
_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_GO_ESCAPE_RE = re.compile("[<>&\u2028\u2029]")


class PolicyDocumentError(ValueError):
    """Arguments the provider refuses: ``writing IAM Policy Document: ...``."""


# ---------------------------------------------------------------- reading the arguments


def _get(item: Mapping[str, Any], wire: str, snake: str | None = None) -> Any:
    value = item.get(wire)
    if value is None and snake is not None:
        value = item.get(snake)
    return value


def _unsecret(value: Any) -> Any:
    """The value with Pulumi's secret wrappers removed (the provider sees plain values)."""
    if rpc.is_rpc_secret(value):
        return _unsecret(value["value"])
    if isinstance(value, Mapping):
        return {k: _unsecret(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_unsecret(v) for v in value]
    return value


def _strings(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise PolicyDocumentError(f"{what}: expected a list of strings, got {type(value).__name__}")
    if not all(isinstance(v, str) for v in value):
        raise PolicyDocumentError(f"{what}: expected a list of strings")
    return list(value)


def _decode_set(values: list[str]) -> str | list[str]:
    """A set of strings as the provider writes it: one element as a string, several sorted in reverse."""
    unique = sorted(set(values), reverse=True)
    return unique[0] if len(unique) == 1 else unique


def _replace_vars(value: str | list[str], version: str, what: str) -> str | list[str]:
    items = [value] if isinstance(value, str) else value
    for item in items:
        if version == "2008-10-17" and "&{" in item:
            raise PolicyDocumentError(f"reading {what}: found &{{ sequence in ({item}), which is not supported in "
                                      "document version 2008-10-17")
    out = [item.replace("&{", "${") for item in items]
    return out[0] if isinstance(value, str) else out


def _dedupe_blocks(blocks: list[Any]) -> list[Any]:
    """A set of blocks: identical blocks once (program order kept; the provider's order is its set's hash order)."""
    seen, out = set(), []
    for b in blocks:
        key = json.dumps(b, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            out.append(b)
    return out


def _principals(blocks: Any, version: str, what: str) -> list[tuple[str, str | list[str]]]:
    out = []
    for b in blocks or []:
        if not isinstance(b, Mapping):
            raise PolicyDocumentError(f"{what}: expected a block, got {type(b).__name__}")
        ptype = _get(b, "type")
        if not isinstance(ptype, str):
            raise PolicyDocumentError(f"{what}: the argument \"type\" is required")
        identifiers = sorted(set(_strings(_get(b, "identifiers"), f"{what} identifiers")))
        if not identifiers:
            raise PolicyDocumentError(f"{what}: the argument \"identifiers\" is required")
        out.append((ptype, identifiers))
    return [(t, _replace_vars(_decode_set(i), version, what)) for t, i in _dedupe_blocks(out)]


def _conditions(blocks: Any, version: str) -> list[tuple[str, str, str | list[str]]]:
    out = []
    for b in blocks or []:
        if not isinstance(b, Mapping):
            raise PolicyDocumentError(f"condition: expected a block, got {type(b).__name__}")
        test, variable = _get(b, "test"), _get(b, "variable")
        if not isinstance(test, str) or not isinstance(variable, str):
            raise PolicyDocumentError("condition: the arguments \"test\" and \"variable\" are required")
        values = _strings(_get(b, "values"), "condition values")  # a list: order and duplicates kept
        out.append((test, variable, values))
    result = []
    for test, variable, values in _dedupe_blocks(out):
        replaced = _replace_vars(values, version, "condition")
        result.append((test, variable, replaced[0] if len(replaced) == 1 else replaced))
    return result


def _statement(cfg: Mapping[str, Any], version: str, index: int) -> dict[str, Any]:
    """One ``statements`` entry as the provider's statement: JSON key -> value in the provider's own forms."""
    if not isinstance(cfg, Mapping):
        raise PolicyDocumentError(f"statement {index}: expected a block, got {type(cfg).__name__}")
    effect = _get(cfg, "effect")
    effect = "Allow" if effect is None else effect
    if effect not in ("Allow", "Deny"):
        raise PolicyDocumentError(f"statement {index}: expected effect to be one of [\"Allow\" \"Deny\"], got {effect}")
    sid = _get(cfg, "sid") or ""
    if not isinstance(sid, str) or not _SID.fullmatch(sid):
        raise PolicyDocumentError(f"statement {index}: invalid sid ({sid}): must only include alphanumeric characters")
    stmt: dict[str, Any] = {"Sid": sid, "Effect": effect}
    for key, wire, snake in (("Action", "actions", None), ("NotAction", "notActions", "not_actions")):
        if values := _strings(_get(cfg, wire, snake), wire):
            stmt[key] = _decode_set(values)
    for key, wire, snake in (("Resource", "resources", None), ("NotResource", "notResources", "not_resources")):
        if values := _strings(_get(cfg, wire, snake), wire):
            stmt[key] = _replace_vars(_decode_set(values), version, snake or wire)
    for key, wire, snake in (("Principal", "principals", None), ("NotPrincipal", "notPrincipals", "not_principals")):
        if blocks := _principals(_get(cfg, wire, snake), version, snake or wire):
            stmt[key] = blocks
    if conditions := _conditions(_get(cfg, "conditions"), version):
        stmt["Condition"] = conditions
    return stmt


# ---------------------------------------------------------------- reading a JSON document (source / override)


def _field(obj: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """The object's values by field, matched as Go matches JSON keys to struct fields (exact name, else ignoring
    case; a later key wins); keys matching no field are dropped."""
    out: dict[str, Any] = {}
    folded = {n.casefold(): n for n in names}
    for key, value in obj.items():
        name = key if key in names else folded.get(key.casefold())
        if name is not None:
            out[name] = value
    return out


def _json_principals(value: Any, what: str) -> list[tuple[str, str | list[str]]] | None:
    if value is None:
        return None
    if isinstance(value, str):  # any string principal is read as everyone
        return [("*", ["*"])]
    if not isinstance(value, Mapping):
        raise PolicyDocumentError(f"{what}: unsupported data type {type(value).__name__} for a principal")
    out: list[tuple[str, str | list[str]]] = []
    for ptype, identifiers in value.items():
        if isinstance(identifiers, str):
            out.append((ptype, identifiers))
        elif isinstance(identifiers, list):
            if not all(isinstance(i, str) for i in identifiers):
                raise PolicyDocumentError(f"{what}: principal type {ptype!r}: identifiers must be strings")
            out.append((ptype, sorted(identifiers)))
        else:
            raise PolicyDocumentError(f"{what}: unsupported data type {type(identifiers).__name__} for identifiers")
    return out


def _json_conditions(value: Any, what: str) -> list[tuple[str, str, str | list[str]]] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(isinstance(v, Mapping | None) for v in value.values()):
        raise PolicyDocumentError(f"{what}: a Condition must be an object of objects")
    out: list[tuple[str, str, str | list[str]]] = []
    for test, variables in value.items():
        for variable, values in (variables or {}).items():
            if isinstance(values, str):
                out.append((test, variable, [values]))
            elif isinstance(values, bool):
                out.append((test, variable, "true" if values else "false"))
            elif isinstance(values, list):
                if not all(isinstance(v, str) for v in values):
                    raise PolicyDocumentError(f"{what}: condition {test} {variable}: values must be strings")
                out.append((test, variable, list(values)))
            # other JSON types (numbers, null) are dropped by the provider
    return out


def _read_document(text: Any, what: str) -> dict[str, Any]:
    if not isinstance(text, str):
        raise PolicyDocumentError(f"{what}: expected a JSON string, got {type(text).__name__}")
    try:
        data = json.loads(text)
    except ValueError as err:
        raise PolicyDocumentError(f"{what}: {err}") from None
    if data is None:
        return {"Version": "", "Id": "", "Statement": []}
    if not isinstance(data, Mapping):
        raise PolicyDocumentError(f"{what}: a policy document must be a JSON object")
    fields = _field(data, _DOC_KEYS)
    for key in ("Version", "Id"):
        if not isinstance(fields.get(key) or "", str):
            raise PolicyDocumentError(f"{what}: {key} must be a string")
    statements = fields.get("Statement") or []
    if not isinstance(statements, list):
        raise PolicyDocumentError(f"{what}: Statement must be a list of statements")
    out = []
    for i, s in enumerate(statements):
        if not isinstance(s, Mapping):
            raise PolicyDocumentError(f"{what}: statement {i} must be an object")
        raw = _field(s, _STATEMENT_KEYS)
        for key in ("Sid", "Effect"):
            if not isinstance(raw.get(key) or "", str):
                raise PolicyDocumentError(f"{what}: statement {i}: {key} must be a string")
        stmt: dict[str, Any] = {"Sid": raw.get("Sid") or "", "Effect": raw.get("Effect") or ""}
        for key in ("Action", "NotAction", "Resource", "NotResource"):
            if raw.get(key) is not None:
                stmt[key] = raw[key]
        for key in ("Principal", "NotPrincipal"):
            if principals := _json_principals(raw.get(key), f"{what}: statement {i}"):
                stmt[key] = principals
        if conditions := _json_conditions(raw.get("Condition"), f"{what}: statement {i}"):
            stmt["Condition"] = conditions
        out.append(stmt)
    return {"Version": fields.get("Version") or "", "Id": fields.get("Id") or "", "Statement": out}


# ---------------------------------------------------------------- merging and writing


def _merge(into: dict[str, Any], doc: Mapping[str, Any]) -> None:
    if doc["Id"]:
        into["Id"] = doc["Id"]
    if doc["Version"] > into["Version"]:
        into["Version"] = doc["Version"]
    statements = into["Statement"]
    for new in doc["Statement"]:
        at = next((i for i, old in enumerate(statements) if new["Sid"] and old["Sid"] == new["Sid"]), None)
        if at is None:
            statements.append(new)
        else:
            statements[at] = new


def _write_principals(blocks: list[tuple[str, str | list[str]]]) -> str | dict[str, Any]:
    if len(blocks) == 1 and blocks[0][0] == "*" and blocks[0][1] in ("*", ["*"]):
        return "*"
    raw: dict[str, Any] = {}
    for ptype, identifiers in blocks:
        have = raw.get(ptype)
        if isinstance(identifiers, list):
            start = [] if have is None else [have] if isinstance(have, str) else have
            raw[ptype] = start + sorted(identifiers, reverse=True)
        elif have is None:
            raw[ptype] = identifiers
        elif isinstance(have, str):
            raw[ptype] = [have, identifiers]
        else:
            raw[ptype] = have + [identifiers]
    return {k: raw[k] for k in sorted(raw)}


def _write_conditions(blocks: list[tuple[str, str, str | list[str]]]) -> dict[str, Any]:
    raw: dict[str, dict[str, list[str]]] = {}
    for test, variable, values in blocks:
        raw.setdefault(test, {}).setdefault(variable, []).extend([values] if isinstance(values, str) else values)
    return {t: {v: (vals[0] if len(vals) == 1 else vals) for v, vals in sorted(raw[t].items())} for t in sorted(raw)}


def _write_statement(stmt: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in _STATEMENT_KEYS:
        value = stmt.get(key)
        if key in ("Sid", "Effect") and not value:
            continue
        if value is None:
            continue
        if key in ("Principal", "NotPrincipal"):
            value = _write_principals(value)
        elif key == "Condition":
            value = _write_conditions(value)
        out[key] = value
    return out


def _go_json(value: Any, indent: bool) -> str:
    text = json.dumps(value, ensure_ascii=False, indent=2 if indent else None,
                      separators=(",", ": ") if indent else (",", ":"))
    return _GO_ESCAPE_RE.sub(lambda m: _GO_ESCAPES[m.group()], text)


def build_document(
    statements: Sequence[Mapping[str, Any]] | None = None, *, version: str | None = None, policy_id: str | None = None,
    source_policy_documents: Sequence[str | None] | None = None,
    override_policy_documents: Sequence[str | None] | None = None,
) -> dict[str, Any]:
    """The merged policy document (a JSON object, keys in the provider's order) of known arguments."""
    version = DEFAULT_VERSION if version is None else version
    if version not in VERSIONS:
        raise PolicyDocumentError(f"expected version to be one of {list(VERSIONS)}, got {version}")
    merged: dict[str, Any] = {"Version": "", "Id": "", "Statement": []}
    sids: set[str] = set()
    for n, text in enumerate(source_policy_documents or []):
        if text is None:
            continue
        doc = _read_document(text, f"merging source document {n}")
        for i, stmt in enumerate(doc["Statement"]):
            if stmt["Sid"] and stmt["Sid"] in sids:
                raise PolicyDocumentError(f"merging source document {n}: duplicate Sid ({stmt['Sid']}) in "
                                          f"source_policy_documents (statement {i}). Remove the Sid or ensure Sids "
                                          "are unique.")
            if stmt["Sid"]:
                sids.add(stmt["Sid"])
        _merge(merged, doc)
    own: list[dict[str, Any]] = []
    own_sids: set[str] = set()
    for i, cfg in enumerate(statements or []):
        stmt = _statement(cfg, version, i)
        if stmt["Sid"] in own_sids:
            raise PolicyDocumentError(f"duplicate Sid ({stmt['Sid']}). Remove the Sid or ensure the Sid is unique.")
        if stmt["Sid"]:
            own_sids.add(stmt["Sid"])
        own.append(stmt)
    _merge(merged, {"Version": version, "Id": policy_id or "", "Statement": own})
    for n, text in enumerate(override_policy_documents or []):
        if text is None:
            continue
        _merge(merged, _read_document(text, f"merging override document {n}"))
    doc: dict[str, Any] = {k: merged[k] for k in ("Version", "Id") if merged[k]}
    if merged["Statement"]:
        doc["Statement"] = [_write_statement(s) for s in merged["Statement"]]
    return doc


def policy_document(args: Mapping[str, Any]) -> dict[str, Any] | None:
    """``aws:iam/getPolicyDocument``'s result for the call's arguments (wire names): ``json``, ``minifiedJson``,
    ``id`` and the arguments echoed; None (unknown) when an argument is not a known value."""
    if rpc.contains_unknowns(args):
        return None
    args = _unsecret(dict(args))
    for deprecated in ("sourceJson", "overrideJson"):
        if _get(args, deprecated):  # the provider only accepts them empty ("Not used")
            raise PolicyDocumentError(f"{deprecated}: expected an empty string (the argument is not used; give "
                                      f"{'source' if deprecated == 'sourceJson' else 'override'}_policy_documents)")
    version = _get(args, "version")
    policy_id = _get(args, "policyId", "policy_id")
    for name, value in (("version", version), ("policyId", policy_id)):
        if value is not None and not isinstance(value, str):
            raise PolicyDocumentError(f"{name}: expected a string, got {type(value).__name__}")
    statements = _get(args, "statements")
    if statements is not None and (isinstance(statements, str | Mapping) or not isinstance(statements, Sequence)):
        raise PolicyDocumentError("statements: expected a list of statement blocks")
    sources = _get(args, "sourcePolicyDocuments", "source_policy_documents")
    overrides = _get(args, "overridePolicyDocuments", "override_policy_documents")
    for name, docs in (("sourcePolicyDocuments", sources), ("overridePolicyDocuments", overrides)):
        if docs is not None and (isinstance(docs, str) or not isinstance(docs, Sequence)):
            raise PolicyDocumentError(f"{name}: expected a list of JSON strings")
    doc = build_document(statements, version=version, policy_id=policy_id, source_policy_documents=sources,
                         override_policy_documents=overrides)
    pretty = _go_json(doc, indent=True)
    echoed = {k: v for k, v in args.items() if v is not None and k in (
        "statements", "policyId", "sourcePolicyDocuments", "overridePolicyDocuments")}
    return {**echoed, "version": version or DEFAULT_VERSION, "json": pretty, "minifiedJson": _go_json(doc, indent=False),
            "id": str(zlib.crc32(pretty.encode()))}
