"""``inferstack init``: write a user's own stack file from the matching reference stack, with the user's values.

The reference stacks (``stacks/Pulumi.<stack>.yaml``) are complete and previewable offline, but carry example values
that a real account refuses (``inferstack.checks.example_values``): the documentation AWS account in principals,
``example.com`` groups, the reference reservation ids. ``init`` copies the reference stack of ``--cloud`` and
``--environment`` (comments kept), puts in the values given as flags, and validates the result with the same loader
as every command and ``pulumi up`` (parse, derive, check), then refuses to write it while an example value is left,
naming each key and the flag that sets it. It never overwrites a file without ``--force`` and writes nothing on
error. Flags only: there is no interactive prompting.

The sample secret of the reference stacks (encrypted with the reference passphrase) is not copied, nor the file's
``encryptionsalt``: ``init`` prints the ``pulumi config set --secret`` command of each secret to set after
``pulumi stack init``.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from inferstack.cli.common import UsageError

HELP = "write your own stack file from a reference stack, with your principals, reservations, region and domains"

#: (cloud, environment) -> the reference stack it starts from. GCP has no staging reference stack: staging starts
#: from gcp-prod (the same shape) with ``inferstack:environment: staging``.
REFERENCE = {
    ("aws", "dev"): "dev",
    ("aws", "staging"): "staging",
    ("aws", "prod"): "prod",
    ("gcp", "dev"): "gcp-dev",
    ("gcp", "staging"): "gcp-prod",
    ("gcp", "prod"): "gcp-prod",
}
#: The reference stacks in a checkout (the wheel does not ship them: give ``--from FILE`` there).
REFERENCE_DIR = Path(__file__).resolve().parents[2] / "stacks"

_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "init", help=HELP,
        description="Write Pulumi.<stack>.yaml from the reference stack of --cloud and --environment with your values; "
                    "validated like every stack; refused (exit 2, nothing written) while an example value is left.",
    )
    p.add_argument("--cloud", required=True, choices=["aws", "gcp"], help="the stack's cloud")
    p.add_argument("--environment", required=True, choices=["dev", "staging", "prod"], help="environment class")
    p.add_argument("--stack", required=True, metavar="NAME", help="stack name (lower-case letters, digits, dashes)")
    p.add_argument("--region", metavar="R", help="provider region (aws:region / gcp:region); also the only allowed "
                                                 "region unless --allowed-region is given")
    p.add_argument("--allowed-region", action="append", default=[], metavar="R",
                   help="inferstack:residency.allowedRegions (repeat; default: --region, else the reference's)")
    p.add_argument("--project", metavar="ID", help="GCP project id (gcp:project); GCP only")
    p.add_argument("--writer-principal", action="append", default=[], metavar="P",
                   help="inferstack:registry.writerPrincipals (repeat): an IAM role ARN (AWS) or group:/user:/"
                        "serviceAccount: member (GCP) allowed to publish models")
    p.add_argument("--public-access-cidr", action="append", default=[], metavar="CIDR",
                   help="inferstack:cluster.endpoint.publicAccessCidrs (repeat): the egress ranges of the machines "
                        "that run pulumi, for a stack whose API endpoint is public (dev, gcp-dev)")
    p.add_argument("--reservation", action="append", default=[], metavar="POOL=ID[@ZONE]",
                   help="the capacity reservation a pool's reserved tier consumes (repeat per pool); ZONE defaults "
                        "to the reference's")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="assignments",
                   help="any other key, as `pulumi config set --path` names it: inferstack:policy.platformAdminGroup=..., "
                        "inferstack:cluster.accessEntries[0].principal=... (VALUE is read as YAML: [a, b], 3, true)")
    p.add_argument("--from", dest="template", metavar="FILE",
                   help="start from this stack file instead of the reference stack (required outside a checkout)")
    p.add_argument("--out", metavar="FILE", help="where to write (default: <stackConfigDir of ./Pulumi.yaml, else .>/"
                                                 "Pulumi.<stack>.yaml)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=run)


# ---------------------------------------------------------------- pure helpers


def parse_key_path(key: str) -> tuple[str, list[str | int]]:
    """``inferstack:cluster.accessEntries[0].principal`` -> (``inferstack:cluster``, [``accessEntries``, 0,
    ``principal``]); raises ValueError naming what is wrong."""
    if ":" not in key:
        raise ValueError(f"{key!r} is not a namespaced key (e.g. inferstack:policy.platformAdminGroup, aws:region)")
    namespace, rest = key.split(":", 1)
    parts: list[str | int] = []
    pos = 0
    for m in _PATH_PART.finditer(rest):
        if m.start() != pos and not (m.start() == pos + 1 and rest[pos] == "."):
            break
        parts.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    if not parts or pos != len(rest) or not isinstance(parts[0], str):
        raise ValueError(f"{key!r} is not a key path (namespace:key.sub[0].field)")
    return f"{namespace}:{parts[0]}", parts[1:]


def parse_reservation(text: str) -> tuple[str, str, str | None]:
    """``gpu-l4=cr-0123...@eu-central-1a`` -> (pool, id, zone or None); raises ValueError."""
    pool, sep, rest = text.partition("=")
    rid, _, zone = rest.partition("@")
    if not sep or not pool.strip() or not rid.strip():
        raise ValueError(f"{text!r} is not POOL=ID or POOL=ID@ZONE")
    return pool.strip(), rid.strip(), zone.strip() or None


def default_out(stack: str, cwd: Path) -> Path:
    """``<stackConfigDir>/Pulumi.<stack>.yaml`` of the Pulumi project in ``cwd`` (``stacks/`` in this repository),
    else ``./Pulumi.<stack>.yaml``."""
    project = cwd / "Pulumi.yaml"
    config_dir = "."
    if project.is_file():
        import yaml

        doc = yaml.safe_load(project.read_text()) or {}
        config_dir = str(doc.get("stackConfigDir") or ".") if isinstance(doc, dict) else "."
    return cwd / config_dir / f"Pulumi.{stack}.yaml"


def _plain(node: Any) -> Any:
    """A ruamel.yaml tree as plain dicts and lists (what the loader reads)."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


# ---------------------------------------------------------------- the command


def _yaml() -> Any:
    from ruamel.yaml import YAML

    y = YAML()
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _flow(values: list[Any]) -> Any:
    from ruamel.yaml.comments import CommentedSeq

    seq = CommentedSeq(values)
    seq.fa.set_flow_style()
    return seq


def _assign(config: Any, key: str, value: Any) -> None:
    """Set ``key`` (a ``--set`` key path) in the ``config`` mapping, creating mappings on the way; a list index
    must exist or be the next one."""
    from ruamel.yaml.comments import CommentedMap

    top, parts = parse_key_path(key)
    if not parts:
        config[top] = value
        return
    if top not in config or config[top] is None:
        config[top] = CommentedMap() if isinstance(parts[0], str) else []
    node = config[top]
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        nxt = None if last else parts[i + 1]
        if isinstance(part, int):
            if not isinstance(node, list) or part > len(node):
                raise UsageError(f"--set {key}: index [{part}] is past the end of the list (at most [{len(node) if isinstance(node, list) else 0}])")
            if part == len(node):
                node.append(None)
            if last:
                node[part] = value
            elif node[part] is None:
                node[part] = CommentedMap() if isinstance(nxt, str) else []
            node = node[part]
        else:
            if not isinstance(node, dict):
                raise UsageError(f"--set {key}: {part!r} is below a value that is not a mapping")
            if last:
                node[part] = value
            elif node.get(part) is None:
                node[part] = CommentedMap() if isinstance(nxt, str) else []
            node = node[part]


def _set_reservation(config: Any, pool_name: str, rid: str, zone: str | None) -> None:
    pools = config.get("inferstack:acceleratorPools") or []
    names = [str(p.get("name")) for p in pools]
    if pool_name not in names:
        raise UsageError(f"--reservation {pool_name}={rid}: no pool {pool_name!r} in the template; pools: {', '.join(names) or 'none'}")
    pool = pools[names.index(pool_name)]
    tiers = [t for t in pool.get("ladder") or [] if t.get("tier") == "reserved"]
    if not tiers:
        raise UsageError(f"--reservation {pool_name}={rid}: pool {pool_name} has no reserved tier in its ladder "
                         f"(add one with --set inferstack:acceleratorPools[{names.index(pool_name)}].ladder[...])")
    reservations = tiers[0].get("reservations") or []
    old_zone = reservations[0].get("zone") if reservations else None
    entry: dict[str, Any] = {"id": rid}
    if zone or old_zone:
        entry["zone"] = zone or old_zone
    from ruamel.yaml.comments import CommentedMap

    tiers[0]["reservations"] = [CommentedMap(entry)]


#: Where an example value is set: key-path prefix -> the flag to name in the error.
_FLAG_OF = (
    ("inferstack:registry.writerPrincipals", "--writer-principal"),
    ("inferstack:cluster.endpoint.publicAccessCidrs", "--public-access-cidr"),
    ("inferstack:acceleratorPools[", "--reservation POOL=ID"),
)


def _flag_for(path: str) -> str:
    if ".reservations[" in path:
        return "--reservation POOL=ID@ZONE" if path.endswith(".zone") else "--reservation POOL=ID[@ZONE]"
    for prefix, flag in _FLAG_OF:
        if path.startswith(prefix):
            return flag
    return f"--set {path}=VALUE"


#: Keys init sets from a flag besides those of :data:`_FLAG_OF`: an invalid one names the flag too.
_OTHER_FLAGS = {
    "aws:region": "--region",
    "gcp:region": "--region",
    "gcp:project": "--project",
    "inferstack:residency.allowedRegions": "--allowed-region",
}


def _naming_flags(err: Any, pools: list[str]) -> Any:
    """``err`` (a ConfigError of the stack init built) with each issue on a key a flag sets ending
    ``; set it with <flag>`` (an issue on any other key is unchanged: it came from the template or --set)."""
    from inferstack.config import ConfigError
    from inferstack.config.stack import ConfigIssue

    issues = []
    for issue in err.issues:
        path = issue.path
        flag = _OTHER_FLAGS.get(path) or next((f for k, f in _OTHER_FLAGS.items() if path.startswith(k + "[")), None)
        if flag is None and any(path.startswith(prefix) for prefix, _ in _FLAG_OF):
            flag = _flag_for(path)
        if flag is not None and path.startswith("inferstack:acceleratorPools["):
            m = re.match(r"inferstack:acceleratorPools\[(\d+)\]", path)
            i = int(m.group(1)) if m else len(pools)
            if ".reservations[" not in path:
                flag = None  # a pool's own settings: --set
            elif i < len(pools):
                flag = flag.replace("POOL", pools[i], 1)
        issues.append(ConfigIssue(issue.loc, f"{issue.message}; set it with {flag}", issue.namespace) if flag else issue)
    return ConfigError(err.source, issues)


def build(args: argparse.Namespace) -> tuple[Path, str, list[str], Path]:
    """The stack file to write: (path, text, secret keys to set, template). Raises UsageError / ConfigError;
    writes nothing."""
    from inferstack.config import ConfigError
    from inferstack.config.args import STACK_NAME_PATTERN
    from inferstack.config.bounded import fullmatch, shown
    from inferstack.config.patterns import ALLOWED, GCP_PROJECT_PATTERN

    if not fullmatch(STACK_NAME_PATTERN, args.stack):
        raise UsageError(f"--stack {shown(args.stack)}: not a stack name; allowed: 1-32 lower-case letters, digits "
                         "and dashes, starting with a letter")
    if args.project and args.cloud != "gcp":
        raise UsageError("--project is the GCP project id: allowed with --cloud gcp only")
    if args.cloud == "gcp" and not args.project and not args.template:
        raise UsageError("--project: required with --cloud gcp (your GCP project id; the reference stack's "
                         "gcp:project names the reference's own)")
    if args.project and not fullmatch(GCP_PROJECT_PATTERN, args.project):
        raise UsageError(f"--project {shown(args.project)}: not a GCP project id; {ALLOWED[GCP_PROJECT_PATTERN]}")
    reference = REFERENCE[(args.cloud, args.environment)]
    template = Path(args.template) if args.template else REFERENCE_DIR / f"Pulumi.{reference}.yaml"
    if not template.is_file():
        where = "--from" if args.template else "the reference stack"
        raise UsageError(f"{where} {template} does not exist" + ("" if args.template else
                         " (the installed package ships no reference stacks: give --from Pulumi.<stack>.yaml)"))
    out = Path(args.out) if args.out else default_out(args.stack, Path.cwd())
    if not (out.name.startswith("Pulumi.") and out.name.endswith((".yaml", ".yml"))):
        raise UsageError(f"--out {out}: Pulumi reads a stack's config from Pulumi.<stack>.yaml; name the file so")
    if out.name != f"Pulumi.{args.stack}.yaml":
        raise UsageError(f"--out {out}: the file of stack {args.stack} is named Pulumi.{args.stack}.yaml")
    if out.exists() and not args.force:
        raise UsageError(f"{out} exists; pass --force to overwrite it")

    y = _yaml()
    doc = y.load(template.read_text())
    if not isinstance(doc, dict) or not isinstance(doc.get("config"), dict):
        raise UsageError(f"{template}: not a stack file (no config mapping)")
    config = doc["config"]
    cloud = config.get("inferstack:cloud")
    if cloud is not None and str(cloud) != args.cloud:
        raise UsageError(f"--from {template} is a {cloud} stack; --cloud {args.cloud} does not match it")

    # The reference's sample secrets are encrypted with the reference passphrase: not copied; set after stack init.
    secrets = [str(k) for k, v in config.items() if isinstance(v, dict) and set(v) == {"secure"}]
    dropped = {k: _plain(config[k]) for k in secrets}
    for k in secrets:
        del config[k]
    for k in ("encryptionsalt", "encryptedkey", "secretsprovider"):
        doc.pop(k, None)

    config["inferstack:environment"] = args.environment
    if args.region:
        config[f"{args.cloud}:region"] = args.region
    if args.allowed_region or args.region:
        _assign(config, "inferstack:residency.allowedRegions", _flow(args.allowed_region or [args.region]))
    if args.project:
        config["gcp:project"] = args.project
    if args.writer_principal:
        _assign(config, "inferstack:registry.writerPrincipals", _flow(list(args.writer_principal)))
    if args.public_access_cidr:
        _assign(config, "inferstack:cluster.endpoint.publicAccessCidrs", _flow(list(args.public_access_cidr)))
    for text in args.reservation:
        try:
            pool, rid, zone = parse_reservation(text)
        except ValueError as err:
            raise UsageError(f"--reservation {err}") from None
        _set_reservation(config, pool, rid, zone)
    for text in args.assignments:
        key, sep, raw = text.partition("=")
        if not sep:
            raise UsageError(f"--set {text!r}: expected KEY=VALUE")
        try:
            parse_key_path(key)
        except ValueError as err:
            raise UsageError(f"--set {err}") from None
        import yaml

        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        _assign(config, key, _flow(value) if isinstance(value, list) else value)

    # Validate exactly what will be written (plus the secrets the user sets next, as the file will then have them).
    from inferstack.checks.example_values import example_values
    from inferstack.config import file_issue
    from inferstack.load import load_stack

    values = {**_plain(config), **dropped}
    try:
        cfg = load_stack(args.stack, values, source=str(out), secret_keys=secrets)
    except ConfigError as err:
        raise _naming_flags(err, [str(p.get("name")) for p in config.get("inferstack:acceleratorPools") or []]) from None
    settings = cfg.settings.model_dump(by_alias=True, mode="json", exclude_none=True)
    others = {k: v for k, v in values.items() if not k.startswith("inferstack:") and k not in secrets}
    left = example_values(settings, others)
    if left:
        raise ConfigError(f"{out} (not written: example values left)", [
            file_issue(path, f"{value!r} is {reason}; set it with {_flag_for(path)}") for path, value, reason in left
        ])

    buf = io.StringIO()
    y.dump(doc, buf)
    body = buf.getvalue()
    header = (f"# {args.stack}: written by `inferstack init` from {template.name} ({args.cloud}, {args.environment}).\n"
              + "".join(f"# Set after `pulumi stack init {args.stack}`: pulumi config set --secret {k} <value>\n"
                        for k in secrets))
    text = header + _strip_leading_comments(body)
    return out, text if text.endswith("\n") else text + "\n", secrets, template


def _strip_leading_comments(text: str) -> str:
    """The template's own header comment (it describes the reference stack, not the user's)."""
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines) and lines[i].lstrip().startswith("#"):
        i += 1
    return "".join(lines[i:])


def _write(out: Path, text: str, force: bool) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if not force:
        with open(out, "x") as f:  # never replaces a file that appeared meanwhile
            f.write(text)
        return
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run(args: argparse.Namespace) -> int:
    try:
        out, text, secrets, template = build(args)
    except FileExistsError as err:
        raise UsageError(f"{err.filename} exists; pass --force to overwrite it") from None
    try:
        _write(out, text, args.force)
    except FileExistsError:
        raise UsageError(f"{out} exists; pass --force to overwrite it") from None
    print(f"wrote {out} (stack {args.stack}: {args.cloud}, {args.environment}, from {template})")
    print("next:")
    print(f"  pulumi stack init {args.stack}")
    for key in secrets:
        print(f"  pulumi config set --secret {key} <value>")
    print(f"  inferstack preview --config {out}")
    print(f"  inferstack policy config --config {out} > policy-config-{args.stack}.json")
    print(f"  pulumi preview --stack {args.stack} --policy-pack policies --policy-pack-config policy-config-{args.stack}.json")
    sys.stdout.flush()
    return 0
