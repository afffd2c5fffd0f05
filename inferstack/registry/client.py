"""The model registry client (S3 + DynamoDB through boto3).

Layout: artifacts under ``s3://<bucket>/models/<model>/v<N>/``; metadata in one DynamoDB table keyed by
``model`` (hash) and ``item`` (range): ``counter`` (the version counter), ``v000000042`` (a version: state,
files with sha256 and size, creator, time, source commit, meta), ``alias#<name>`` and ``audit#<time>#<id>``.

Versions are allocated atomically: an ``ADD`` on the counter item, then a ``put_item`` guarded by
``attribute_not_exists`` (a duplicate number is refused by DynamoDB, never overwritten). A version starts
``pending`` and becomes ``committed`` only after every file is uploaded; only committed versions resolve.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import re
import subprocess
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from inferstack.registry.layout import artifact_prefix, storage_uri

COUNTER = "counter"
_REF = re.compile(r"^(?P<model>[^:@]+)(?::(?P<version>[^:@]+)|@(?P<alias>[^:@]+))?$")
_ALIAS = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
_CHUNK = 1024 * 1024


class RegistryError(Exception):
    """A registry operation that cannot succeed (missing bucket, model, version, alias or path; digest mismatch)."""


@dataclass(frozen=True)
class FileEntry:
    """One artifact file of a version: path relative to the version prefix, sha256 (hex) and size in bytes."""

    path: str
    sha256: str
    size: int


@dataclass
class Version:
    """A version's metadata as recorded in the table."""

    model: str
    version: int
    state: str
    created_at: str
    created_by: str
    source_commit: str | None
    digest: str
    files: list[FileEntry] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "source_commit": self.source_commit,
            "digest": self.digest,
            "aliases": sorted(self.aliases),
            "files": [{"path": f.path, "sha256": f.sha256, "size": f.size} for f in self.files],
            "meta": self.meta,
        }


def version_key(version: int) -> str:
    return f"v{version:09d}"


def sha256_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def version_digest(files: list[FileEntry]) -> str:
    """One digest over every file's path, sha256 and size (order-independent)."""
    h = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.path):
        h.update(f"{f.path}\0{f.sha256}\0{f.size}\n".encode())
    return "sha256:" + h.hexdigest()


def collect_files(path: Path) -> list[tuple[str, Path]]:
    """(relative key, local path) of every file under ``path`` (or the file itself), sorted."""
    if not path.exists():
        raise RegistryError(f"path {str(path)!r} does not exist")
    if path.is_file():
        return [(path.name, path)]
    out = sorted((p.relative_to(path).as_posix(), p) for p in path.rglob("*") if p.is_file())
    if not out:
        raise RegistryError(f"path {str(path)!r} contains no files")
    return out


def parse_ref(ref: str) -> tuple[str, int | None, str | None]:
    """``MODEL``, ``MODEL:VERSION`` or ``MODEL@ALIAS`` → (model, version, alias)."""
    m = _REF.match(ref)
    if not m:
        raise RegistryError(f"invalid reference {ref!r}; expected MODEL, MODEL:VERSION or MODEL@ALIAS")
    version = m.group("version")
    if version is not None and not version.isdigit():
        raise RegistryError(f"invalid version {version!r} in {ref!r}; versions are integers from 1")
    return m.group("model"), int(version) if version is not None else None, m.group("alias")


def parse_meta(pairs: list[str]) -> dict[str, str]:
    meta = {}
    for p in pairs:
        k, sep, v = p.partition("=")
        if not sep or not k:
            raise RegistryError(f"invalid --meta {p!r}; expected key=value")
        meta[k] = v
    return meta


def default_source_commit() -> str | None:
    """The commit the artifact was built from: CI variables, else ``git rev-parse HEAD`` in the working directory."""
    for var in ("INFERSTACK_SOURCE_COMMIT", "GITHUB_SHA", "CI_COMMIT_SHA", "BUILDKITE_COMMIT"):
        if os.environ.get(var):
            return os.environ[var]
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class Registry:
    """The registry in one bucket and one table; ``session`` is a boto3 Session (standard AWS environment)."""

    def __init__(self, bucket: str, table: str, session: Any | None = None):
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.table = table
        session = session or boto3.session.Session()
        cfg = Config(retries={"max_attempts": 10, "mode": "standard"})
        self.s3 = session.client("s3", config=cfg)
        self.ddb = session.client("dynamodb", config=cfg)
        self.sts = session.client("sts", config=cfg)
        self.region = session.region_name

    @classmethod
    def from_env(cls) -> Registry:
        bucket = os.environ.get("INFERSTACK_REGISTRY_BUCKET")
        table = os.environ.get("INFERSTACK_REGISTRY_TABLE")
        missing = [n for n, v in (("INFERSTACK_REGISTRY_BUCKET", bucket), ("INFERSTACK_REGISTRY_TABLE", table)) if not v]
        if missing:
            raise RegistryError(f"{' and '.join(missing)} not set: the registry bucket and metadata table to use")
        import boto3

        session = boto3.session.Session()
        if not session.region_name:
            raise RegistryError("no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION) to the registry's region")
        return cls(str(bucket), str(table), session)

    # ------------------------------------------------------------ errors
    def _call(self, fn: Any, **kwargs: Any) -> Any:
        """Call boto3, turning missing-bucket / missing-table errors into RegistryError."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(**kwargs)
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchBucket",):
                raise RegistryError(f"registry bucket {self.bucket!r} does not exist (inferstack registry init creates it)") from None
            if code == "ResourceNotFoundException":
                raise RegistryError(f"registry table {self.table!r} does not exist (inferstack registry init creates it)") from None
            raise
        except BotoCoreError as err:
            raise RegistryError(f"cannot reach the registry (bucket {self.bucket!r}, table {self.table!r}): {err}") from None

    def _check_bucket(self) -> None:
        from botocore.exceptions import ClientError

        try:
            self._call(self.s3.head_bucket, Bucket=self.bucket)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket", "403"):
                raise RegistryError(
                    f"registry bucket {self.bucket!r} does not exist or is not accessible (inferstack registry init creates it)"
                ) from None
            raise

    def _key(self, model: str, item: str) -> dict[str, Any]:
        return {"model": {"S": model}, "item": {"S": item}}

    # ------------------------------------------------------------ init
    def init(self) -> list[str]:
        """Create the bucket (versioned, encrypted, private) and the table when missing; returns what was created."""
        from botocore.exceptions import ClientError

        created = []
        try:
            self.s3.head_bucket(Bucket=self.bucket)
        except ClientError:
            kwargs: dict[str, Any] = {"Bucket": self.bucket}
            if self.region and self.region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
            self.s3.create_bucket(**kwargs)
            self.s3.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"})
            self.s3.put_public_access_block(
                Bucket=self.bucket,
                PublicAccessBlockConfiguration={
                    "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
                },
            )
            created.append(f"bucket {self.bucket}")
        try:
            self.ddb.describe_table(TableName=self.table)
        except ClientError:
            self.ddb.create_table(
                TableName=self.table,
                AttributeDefinitions=[{"AttributeName": "model", "AttributeType": "S"}, {"AttributeName": "item", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "model", "KeyType": "HASH"}, {"AttributeName": "item", "KeyType": "RANGE"}],
                BillingMode="PAY_PER_REQUEST",
            )
            self.ddb.get_waiter("table_exists").wait(TableName=self.table)
            created.append(f"table {self.table}")
        return created

    # ------------------------------------------------------------ push
    def _caller(self) -> str:
        try:
            return str(self.sts.get_caller_identity()["Arn"])
        except Exception:  # noqa: BLE001 - identity is informative only
            return getpass.getuser()

    def _allocate(self, model: str, item: dict[str, Any]) -> int:
        from botocore.exceptions import ClientError

        for _ in range(100):
            resp = self._call(
                self.ddb.update_item,
                TableName=self.table,
                Key=self._key(model, COUNTER),
                UpdateExpression="ADD next_version :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="UPDATED_NEW",
            )
            version = int(resp["Attributes"]["next_version"]["N"])
            try:
                self._call(
                    self.ddb.put_item,
                    TableName=self.table,
                    Item={**self._key(model, version_key(version)), "version": {"N": str(version)}, **item},
                    ConditionExpression="attribute_not_exists(#i)",
                    ExpressionAttributeNames={"#i": "item"},
                )
                return version
            except ClientError as err:
                if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
        raise RegistryError(f"could not allocate a version of model {model!r}")

    def push(self, model: str, path: str | Path, meta: dict[str, str] | None = None, source_commit: str | None = None) -> Version:
        """Upload ``path`` (file or directory) as the next version of ``model``; returns the committed version."""
        artifact_prefix(model, 1)  # validates the name
        files_local = collect_files(Path(path))
        entries = []
        for rel, local in files_local:
            digest, size = sha256_file(local)
            entries.append(FileEntry(rel, digest, size))
        self._check_bucket()
        creator = self._caller()
        created_at = _now()
        commit = source_commit if source_commit is not None else default_source_commit()
        digest = version_digest(entries)
        item = {
            "state": {"S": "pending"},
            "created_at": {"S": created_at},
            "created_by": {"S": creator},
            "digest": {"S": digest},
            "meta": {"M": {k: {"S": v} for k, v in (meta or {}).items()}},
            "files": {"L": [{"M": {"path": {"S": f.path}, "sha256": {"S": f.sha256}, "size": {"N": str(f.size)}}} for f in entries]},
        }
        if commit:
            item["source_commit"] = {"S": commit}
        version = self._allocate(model, item)
        prefix = artifact_prefix(model, version)
        try:
            for (rel, local), entry in zip(files_local, entries, strict=True):
                with local.open("rb") as fh:
                    self._call(
                        self.s3.put_object,
                        Bucket=self.bucket,
                        Key=prefix + rel,
                        Body=fh,
                        ChecksumSHA256=_b64(entry.sha256),
                        Metadata={"sha256": entry.sha256},
                    )
        except BaseException:
            # The version stays unresolvable: mark it failed (best effort; pending never resolves either).
            try:
                self.ddb.update_item(
                    TableName=self.table, Key=self._key(model, version_key(version)),
                    UpdateExpression="SET #s = :f", ExpressionAttributeNames={"#s": "state"},
                    ExpressionAttributeValues={":f": {"S": "failed"}},
                )
            except Exception:  # noqa: BLE001
                pass
            raise
        self._call(
            self.ddb.update_item,
            TableName=self.table,
            Key=self._key(model, version_key(version)),
            UpdateExpression="SET #s = :c, committed_at = :t",
            ConditionExpression="#s = :p",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={":c": {"S": "committed"}, ":p": {"S": "pending"}, ":t": {"S": _now()}},
        )
        return Version(model, version, "committed", created_at, creator, commit, digest, entries, dict(meta or {}))

    # ------------------------------------------------------------ read
    def _aliases(self, model: str) -> dict[str, int]:
        items = self._query(model, "alias#")
        return {i["item"]["S"][len("alias#"):]: int(i["version"]["N"]) for i in items}

    def _query(self, model: str, prefix: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "model = :m AND begins_with(#i, :p)",
            "ExpressionAttributeNames": {"#i": "item"},
            "ExpressionAttributeValues": {":m": {"S": model}, ":p": {"S": prefix}},
            "ConsistentRead": True,
        }
        while True:
            resp = self._call(self.ddb.query, **kwargs)
            out.extend(resp.get("Items", []))
            if "LastEvaluatedKey" not in resp:
                return out
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    @staticmethod
    def _version(model: str, item: dict[str, Any], aliases: dict[str, int]) -> Version:
        v = int(item["version"]["N"])
        return Version(
            model=model,
            version=v,
            state=item["state"]["S"],
            created_at=item["created_at"]["S"],
            created_by=item.get("created_by", {}).get("S", ""),
            source_commit=item.get("source_commit", {}).get("S"),
            digest=item["digest"]["S"],
            files=[
                FileEntry(f["M"]["path"]["S"], f["M"]["sha256"]["S"], int(f["M"]["size"]["N"])) for f in item["files"]["L"]
            ],
            meta={k: x["S"] for k, x in item.get("meta", {}).get("M", {}).items()},
            aliases=[a for a, av in aliases.items() if av == v],
        )

    def list(self, model: str) -> list[Version]:
        """Committed versions of ``model``, oldest first. RegistryError when the model has none."""
        aliases = self._aliases(model)
        items = [i for i in self._query(model, "v") if i["state"]["S"] == "committed"]
        if not items:
            raise RegistryError(f"model {model!r} has no versions in registry table {self.table!r}")
        return sorted((self._version(model, i, aliases) for i in items), key=lambda v: v.version)

    def get(self, model: str, version: int) -> Version:
        resp = self._call(self.ddb.get_item, TableName=self.table, Key=self._key(model, version_key(version)), ConsistentRead=True)
        item = resp.get("Item")
        if not item or item["state"]["S"] != "committed":
            if not self._query(model, "v"):
                raise RegistryError(f"model {model!r} has no versions in registry table {self.table!r}")
            raise RegistryError(f"model {model!r} has no version {version} (committed versions only)")
        return self._version(model, item, self._aliases(model))

    def resolve_version(self, ref: str) -> Version:
        model, version, alias = parse_ref(ref)
        if alias is not None:
            aliases = self._aliases(model)
            if alias not in aliases:
                if not self._query(model, "v"):
                    raise RegistryError(f"model {model!r} has no versions in registry table {self.table!r}")
                known = ", ".join(sorted(aliases)) or "none"
                raise RegistryError(f"model {model!r} has no alias {alias!r}; aliases: {known}")
            version = aliases[alias]
        if version is None:
            return self.list(model)[-1]
        return self.get(model, version)

    def uri(self, v: Version) -> str:
        return storage_uri("s3", self.bucket, v.model, v.version)

    def verify(self, v: Version) -> None:
        """Re-read every file of ``v`` and compare its sha256 and size; RegistryError naming the first bad file."""
        from botocore.exceptions import ClientError

        prefix = artifact_prefix(v.model, v.version)
        for f in v.files:
            key = prefix + f.path
            try:
                obj = self._call(self.s3.get_object, Bucket=self.bucket, Key=key)
            except ClientError as err:
                if err.response["Error"]["Code"] in ("NoSuchKey", "404"):
                    raise RegistryError(f"{v.model}:{v.version}: file {f.path!r} is missing (s3://{self.bucket}/{key})") from None
                raise
            h = hashlib.sha256()
            size = 0
            for chunk in obj["Body"].iter_chunks(_CHUNK):
                h.update(chunk)
                size += len(chunk)
            if h.hexdigest() != f.sha256 or size != f.size:
                raise RegistryError(
                    f"{v.model}:{v.version}: digest mismatch for {f.path!r} (s3://{self.bucket}/{key}): "
                    f"recorded sha256 {f.sha256} size {f.size}, found sha256 {h.hexdigest()} size {size}"
                )

    # ------------------------------------------------------------ promote
    def promote(self, model: str, version: int, alias: str) -> dict[str, Any]:
        """Point ``alias`` at ``version`` and append an audit entry (who, when, from which version)."""
        if not _ALIAS.match(alias):
            raise RegistryError(f"invalid alias {alias!r}: lower-case letters, digits and '-', starting with a letter")
        self.get(model, version)
        previous = self._aliases(model).get(alias)
        who, when = self._caller(), _now()
        audit_item = {
            **self._key(model, f"audit#{when}#{uuid.uuid4().hex[:8]}"),
            "alias": {"S": alias},
            "version": {"N": str(version)},
            "by": {"S": who},
            "at": {"S": when},
        }
        if previous is not None:
            audit_item["from_version"] = {"N": str(previous)}
        self._call(
            self.ddb.transact_write_items,
            TransactItems=[
                {"Put": {"TableName": self.table, "Item": {
                    **self._key(model, f"alias#{alias}"), "version": {"N": str(version)},
                    "updated_by": {"S": who}, "updated_at": {"S": when},
                }}},
                {"Put": {"TableName": self.table, "Item": audit_item}},
            ],
        )
        return {"model": model, "alias": alias, "version": version, "from_version": previous, "by": who, "at": when}

    def audit(self, model: str) -> list[dict[str, Any]]:
        return [
            {
                "alias": i["alias"]["S"], "version": int(i["version"]["N"]), "by": i["by"]["S"], "at": i["at"]["S"],
                "from_version": int(i["from_version"]["N"]) if "from_version" in i else None,
            }
            for i in self._query(model, "audit#")
        ]


def _b64(hexdigest: str) -> str:
    import base64

    return base64.b64encode(bytes.fromhex(hexdigest)).decode()
