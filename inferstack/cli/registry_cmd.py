"""``inferstack registry``: push, list, promote and resolve model versions (S3 + DynamoDB via boto3).

Configured by INFERSTACK_REGISTRY_BUCKET, INFERSTACK_REGISTRY_TABLE and the standard AWS environment
(AWS_REGION, credentials, AWS_ENDPOINT_URL). Errors (missing bucket, model, version, alias or path; digest
mismatch) exit 2 with one line naming what is missing.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from inferstack.cli.common import fail


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    if args.format == "json":
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(text + ("\n" if text and not text.endswith("\n") else ""))


def _run(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from inferstack.registry.client import Registry, RegistryError

    try:
        reg = Registry.from_env()
        return int(args.action(args, reg) or 0)
    except RegistryError as err:
        return fail(f"registry: {err}")
    except ClientError as err:
        e = err.response.get("Error", {})
        return fail(f"registry: {e.get('Code', 'error')}: {e.get('Message', err)}", 1)
    except BotoCoreError as err:
        return fail(f"registry: {err}", 1)
    except ValueError as err:  # invalid model name or version from the layout rules
        return fail(f"registry: {err}")


def _init(args: argparse.Namespace, reg: Any) -> int:
    created = reg.init()
    _emit(args, {"bucket": reg.bucket, "table": reg.table, "created": created},
          "created " + ", ".join(created) if created else f"bucket {reg.bucket} and table {reg.table} exist")
    return 0


def _push(args: argparse.Namespace, reg: Any) -> int:
    from inferstack.registry.client import parse_meta

    v = reg.push(args.model, args.path, meta=parse_meta(args.meta or []), source_commit=args.source_commit)
    _emit(args, {**v.to_json(), "uri": reg.uri(v)}, str(v.version))
    return 0


def _list(args: argparse.Namespace, reg: Any) -> int:
    versions = reg.list(args.model)
    rows = [{"version": v.version, "created_at": v.created_at, "digest": v.digest, "aliases": sorted(v.aliases),
             "created_by": v.created_by, "source_commit": v.source_commit} for v in versions]
    text = "\n".join(
        f"{r['version']:>6}  {r['created_at']}  {r['digest'][:19]}  {','.join(r['aliases'])}" for r in rows
    )
    _emit(args, rows, "VERSION  CREATED_AT  DIGEST  ALIASES\n" + text)
    return 0


def _promote(args: argparse.Namespace, reg: Any) -> int:
    from inferstack.registry.client import RegistryError

    if not args.version.isdigit():
        raise RegistryError(f"invalid version {args.version!r}; versions are integers from 1")
    entry = reg.promote(args.model, int(args.version), args.alias)
    prev = entry["from_version"]
    _emit(args, entry, f"{args.model}@{args.alias}: {prev if prev is not None else '-'} -> {entry['version']}")
    return 0


def _resolve(args: argparse.Namespace, reg: Any) -> int:
    v = reg.resolve_version(args.ref)
    if args.verify:
        reg.verify(v)
    uri = reg.uri(v)
    _emit(args, {"model": v.model, "version": v.version, "uri": uri, "digest": v.digest, "verified": bool(args.verify)}, uri)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "registry",
        help="model registry: init, push, list, promote, resolve",
        description="Model registry client (S3 + DynamoDB). Needs INFERSTACK_REGISTRY_BUCKET, INFERSTACK_REGISTRY_TABLE "
        "and the standard AWS environment (AWS_ENDPOINT_URL for a local endpoint).",
    )
    sub = p.add_subparsers(dest="registry_command", metavar="ACTION")
    sub.required = True

    def add(name: str, help_: str, action: Any) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.add_argument("--format", choices=["text", "json"], default="text", help="output format (default text)")
        sp.set_defaults(func=_run, action=action)
        return sp

    add("init", "create the registry bucket and metadata table when missing (local use and tests)", _init)
    sp = add("push", "upload a model version; prints the new version number", _push)
    sp.add_argument("model", metavar="MODEL")
    sp.add_argument("path", metavar="PATH", help="artifact file or directory")
    sp.add_argument("--meta", action="append", metavar="K=V", help="metadata recorded with the version (repeatable)")
    sp.add_argument("--source-commit", metavar="SHA", help="source commit (default: CI variables or git rev-parse HEAD)")
    sp = add("list", "list the committed versions of a model", _list)
    sp.add_argument("model", metavar="MODEL")
    sp = add("promote", "move an alias to a version (audited: who, when, from which version)", _promote)
    sp.add_argument("model", metavar="MODEL")
    sp.add_argument("version", metavar="VERSION")
    sp.add_argument("--alias", required=True, metavar="NAME")
    sp = add("resolve", "print the storage URI of MODEL[:VERSION|@ALIAS] (latest when neither)", _resolve)
    sp.add_argument("ref", metavar="MODEL[:VERSION|@ALIAS]")
    sp.add_argument("--verify", action="store_true", help="re-check every file's sha256 and size")
