"""The model registry client (S3 + DynamoDB through boto3).

Layout: artifacts under ``s3://<bucket>/models/<model>/v<N>/``; metadata in one DynamoDB table keyed by
``model`` (hash) and ``item`` (range): ``counter`` (the version counter), ``v000000042`` (a version: state,
files with sha256 and size, creator, time, source commit, meta, heartbeat), ``alias#<name>`` (version and
revision) and ``audit#<time>#<id>``.

Versions are allocated atomically: an ``ADD`` on the counter item, then a ``put_item`` guarded by
``attribute_not_exists`` (a duplicate number is refused by DynamoDB, never overwritten). A version starts
``pending`` and becomes ``committed`` only after every file is uploaded (a write conditional on ``pending``);
only committed versions resolve. While uploading, a push refreshes ``heartbeat_at``; ``gc`` marks a pending
version failed once it has been idle longer than the grace period (conditional on the heartbeat it read), and
deletes every object (all object versions) of failed versions and of prefixes that have no version item.

Promote is a compare-and-swap: the alias item is written only if it still holds the version and revision read
a moment before, in the same transaction as the audit item, so the audit trail of an alias is one unbroken
``from -> to`` chain ordered by revision.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import shutil
import stat
import subprocess
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

from inferstack.config import bounded
from inferstack.config.patterns import (
    ALLOWED,
    REGISTRY_ALIAS_PATTERN,
    REGISTRY_MODEL_PATTERN,
    REGISTRY_VERSION_MAX,
    REGISTRY_VERSION_PATTERN,
)
from inferstack.registry.layout import (
    MODELS_ROOT,
    artifact_prefix,
    check_relpath,
    parse_artifact_key,
    storage_uri,
)

COUNTER = "counter"
#: Longest grace period of ``gc``.
MAX_GRACE_SECONDS = 366 * 86400.0
_CHUNK = 1024 * 1024
#: How often a running push refreshes its version's ``heartbeat_at`` (seconds).
HEARTBEAT_SECONDS = 60.0
#: Default grace period of ``gc``: a pending version idle longer than this is abandoned.
DEFAULT_GRACE_SECONDS = 3600.0


class RegistryError(Exception):
    """A registry operation that cannot succeed (missing bucket, model, version, alias or path; digest mismatch).

    ``exit_code`` is what the CLI exits with: 2 for usage, configuration and user errors.
    """

    exit_code = 2


class RegistryIOError(RegistryError):
    """An I/O or cloud operation failed (endpoint unreachable, connection lost, local disk): the CLI exits 3."""

    exit_code = 3


class AliasConflict(RegistryError):
    """The alias moved between reading it and writing it (a concurrent promote): nothing was written."""


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
            "state": self.state,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "source_commit": self.source_commit,
            "digest": self.digest,
            "aliases": sorted(self.aliases),
            "files": [{"path": f.path, "sha256": f.sha256, "size": f.size} for f in self.files],
            "meta": self.meta,
        }


class Progress:
    """Where push and pull report progress; this base draws nothing (the CLI draws it on a terminal)."""

    def start(self, action: str, total_bytes: int, total_files: int) -> None:
        """A phase begins (hashing, uploading, downloading) over ``total_bytes`` in ``total_files`` files."""

    def update(self, nbytes: int = 0, files: int = 0) -> None:
        """``nbytes`` more bytes and ``files`` more files are done."""

    def done(self) -> None:
        """The phase finished."""


NO_PROGRESS = Progress()


def version_key(version: int) -> str:
    return f"v{version:09d}"


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISLNK, "symlink"), (stat.S_ISFIFO, "FIFO"), (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket"), (stat.S_ISDIR, "directory"),
    ):
        if test(mode):
            return name
    return "special file"


def _open_regular(path: Path) -> BinaryIO:
    """Open ``path`` for reading only if it is a regular file itself (a symlink, FIFO or device is refused)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as err:
        if os.path.islink(path):
            raise RegistryError(f"refusing to read {str(path)!r}: it became a symlink") from None
        raise RegistryError(f"cannot read {str(path)!r}: {err.strerror}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise RegistryError(f"refusing to read {str(path)!r}: it is a {_kind(mode)}, not a regular file")
    return os.fdopen(fd, "rb")


def sha256_file(path: Path, progress: Progress = NO_PROGRESS) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with _open_regular(path) as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
            progress.update(len(chunk))
    return h.hexdigest(), size


def version_digest(files: list[FileEntry]) -> str:
    """One digest over every file's path, sha256 and size (order-independent)."""
    h = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.path):
        h.update(f"{f.path}\0{f.sha256}\0{f.size}\n".encode())
    return "sha256:" + h.hexdigest()


def collect_files(path: Path) -> list[tuple[str, Path]]:
    """(relative key, local path) of every file under ``path`` (or the file itself), sorted.

    Only regular files inside the directory are taken: a symlink (to a file or a directory, inside or outside),
    a FIFO, a device or a socket anywhere in the tree, or a file that resolves outside the directory, refuses the
    whole push before anything is uploaded. ``path`` itself may be a symlink (``./model -> /data/llama``).
    """
    path = Path(path)
    if not os.path.lexists(path):
        raise RegistryError(f"path {str(path)!r} does not exist")
    try:
        root = os.path.realpath(path)
        st = os.stat(root)
    except OSError as err:
        raise RegistryError(f"path {str(path)!r}: {err.strerror}") from None
    if stat.S_ISREG(st.st_mode):
        return [(_key_name(path.name, path.name), Path(root))]
    if not stat.S_ISDIR(st.st_mode):
        raise RegistryError(f"refusing to push {str(path)!r}: it is a {_kind(st.st_mode)}, not a regular file or directory")

    def walk_error(err: OSError) -> None:
        raise RegistryError(f"cannot read {err.filename!r}: {err.strerror}")

    out: list[tuple[str, Path]] = []
    refused: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=walk_error, followlinks=False):
        for name in sorted(dirnames + filenames):
            full = os.path.join(dirpath, name)
            rel = Path(os.path.relpath(full, root)).as_posix()
            mode = os.lstat(full).st_mode
            if stat.S_ISLNK(mode):
                refused.append(f"{rel!r} is a symlink (-> {os.readlink(full)!r})")
            elif stat.S_ISDIR(mode):
                continue
            elif not stat.S_ISREG(mode):
                refused.append(f"{rel!r} is a {_kind(mode)}")
            elif os.path.commonpath([os.path.realpath(full), root]) != root:
                refused.append(f"{rel!r} resolves outside the model directory")
            else:
                out.append((_key_name(rel, rel), Path(full)))
    if refused:
        more = f" and {len(refused) - 5} more" if len(refused) > 5 else ""
        raise RegistryError(
            f"refusing to push {str(path)!r}: {'; '.join(refused[:5])}{more} "
            "(only regular files inside the model directory are pushed; nothing was uploaded)"
        )
    if not out:
        raise RegistryError(f"path {str(path)!r} contains no files")
    return sorted(out)


def _key_name(rel: str, shown: str) -> str:
    try:
        rel.encode("utf-8")
        return check_relpath(rel)
    except (UnicodeEncodeError, ValueError):
        raise RegistryError(f"refusing to push file {shown!r}: its name is not a valid UTF-8 object key") from None


def _checked(pattern: str, text: object, argument: str, noun: str) -> str:
    """``text`` when the stack config's ``pattern`` matches all of it (ASCII, no trailing newline); RegistryError
    (exit 2) naming the command-line ``argument`` and what is allowed otherwise."""
    if not bounded.fullmatch(pattern, text):
        raise RegistryError(f"argument {argument}: invalid {noun} {bounded.shown(text)}; {ALLOWED[pattern]}")
    return str(text)


def check_model(model: object, argument: str = "MODEL") -> str:
    """A registry model name, spelt as ``registryModel`` in the stack config; RegistryError otherwise."""
    return _checked(REGISTRY_MODEL_PATTERN, model, argument, "model name")


def check_version(version: object, argument: str = "VERSION") -> int:
    """A registry version (``7``, or the int 7), spelt as ``version`` in the stack config; RegistryError otherwise."""
    if isinstance(version, int) and not isinstance(version, bool):
        if not 1 <= version <= REGISTRY_VERSION_MAX:
            raise RegistryError(f"argument {argument}: invalid version {version}; {ALLOWED[REGISTRY_VERSION_PATTERN]}")
        return version
    return int(_checked(REGISTRY_VERSION_PATTERN, version, argument, "version"))


def check_alias(alias: object, argument: str = "--alias") -> str:
    """A registry alias; RegistryError otherwise."""
    return _checked(REGISTRY_ALIAS_PATTERN, alias, argument, "alias")


def parse_ref(ref: str) -> tuple[str, int | None, str | None]:
    """``MODEL``, ``MODEL:VERSION`` or ``MODEL@ALIAS`` → (model, version, alias), each part checked against the
    stack config's pattern; RegistryError naming the bad part otherwise."""
    if not isinstance(ref, str) or ref.count(":") + ref.count("@") > 1:
        raise RegistryError(f"argument MODEL[:VERSION|@ALIAS]: invalid reference {bounded.shown(ref)}; "
                            "expected MODEL, MODEL:VERSION or MODEL@ALIAS")
    model, sep, rest = ref.partition(":") if ":" in ref else ref.partition("@")
    check_model(model)
    if sep == ":":
        return model, check_version(rest), None
    if sep == "@":
        return model, None, check_alias(rest, "ALIAS")
    return model, None, None


def parse_meta(pairs: list[str]) -> dict[str, str]:
    meta = {}
    for p in pairs:
        k, sep, v = p.partition("=")
        if not sep or not k:
            raise RegistryError(f"invalid --meta {p!r}; expected key=value")
        meta[k] = v
    return meta


def parse_duration(text: str, argument: str = "--grace") -> float:
    """``90s``, ``30m``, ``1h``, ``2d`` or plain seconds → seconds (bounded: ASCII digits, at most
    :data:`MAX_GRACE_SECONDS`); RegistryError naming ``argument`` otherwise."""
    try:
        return bounded.duration(text, max_seconds=MAX_GRACE_SECONDS, default_unit="s")
    except bounded.DecodeError as err:
        raise RegistryError(f"argument {argument}: {err}") from None


def format_duration(seconds: float) -> str:
    s = int(seconds)
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m"
    if s < 172800:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d"


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


def region_from_env(env: Any = None) -> str | None:
    """``AWS_REGION``, else ``AWS_DEFAULT_REGION`` (boto3 itself reads only the latter)."""
    env = os.environ if env is None else env
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _parse_time(text: str) -> datetime:
    t = datetime.fromisoformat(text)
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def _max_attempts() -> int:
    try:
        return max(1, int(os.environ.get("AWS_MAX_ATTEMPTS", "10")))
    except ValueError:
        return 10


class _CountingReader:
    """A file object for ``put_object`` that reports bytes as the HTTP layer reads them (retries not counted twice)."""

    def __init__(self, fh: BinaryIO, progress: Progress):
        self._fh = fh
        self._progress = progress
        self._high = 0

    def read(self, n: int = -1) -> bytes:
        data = self._fh.read(n)
        pos = self._fh.tell()
        if pos > self._high:
            self._progress.update(pos - self._high)
            self._high = pos
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._fh.seek(offset, whence)

    def tell(self) -> int:
        return self._fh.tell()


class _Heartbeat:
    """Refreshes a pending version's ``heartbeat_at`` from a background thread while a push uploads.

    If the version is no longer pending (``gc`` gave up on it), ``check()`` raises so the push stops.
    """

    def __init__(self, reg: Registry, model: str, version: int, interval: float):
        self._reg, self._model, self._version, self._interval = reg, model, version, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost: str | None = None

    def __enter__(self) -> _Heartbeat:
        if self._interval > 0:
            self._thread = threading.Thread(target=self._loop, name="registry-heartbeat", daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._reg._heartbeat(self._model, self._version)
            except RegistryError as err:
                if not isinstance(err, RegistryIOError):
                    self.lost = str(err)
                    return
            except Exception:  # noqa: BLE001 - a missed heartbeat is retried at the next tick
                continue

    def check(self) -> None:
        if self.lost:
            raise RegistryError(self.lost)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)


class Registry:
    """The registry in one bucket and one table; ``session`` is a boto3 Session (standard AWS environment)."""

    heartbeat_seconds = HEARTBEAT_SECONDS

    def __init__(self, bucket: str, table: str, session: Any | None = None, region: str | None = None):
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.table = table
        session = session or boto3.session.Session(region_name=region or region_from_env())
        self.region = region or session.region_name
        cfg = Config(retries={"max_attempts": _max_attempts(), "mode": "standard"})
        # Every PUT carries a signed x-amz-checksum-sha256 header that S3 verifies, so the body need not be hashed
        # again for the signature: botocore already skips it over HTTPS; this also skips it over plain-HTTP
        # endpoints (local S3), where it would read every file twice and make the progress line jump.
        s3_cfg = cfg.merge(Config(s3={"payload_signing_enabled": False}))
        self.s3 = session.client("s3", config=s3_cfg, region_name=self.region)
        self.ddb = session.client("dynamodb", config=cfg, region_name=self.region)
        self.sts = session.client("sts", config=cfg, region_name=self.region)
        # Bookkeeping after a push failed: short timeouts and one retry, so an interrupted push exits promptly.
        quick = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=3, read_timeout=5)
        self._ddb_quick = session.client("dynamodb", config=quick, region_name=self.region)
        #: ``(model, version, marked_failed)`` of the last push that did not commit.
        self.abandoned: tuple[str, int, bool] | None = None

    @classmethod
    def from_env(cls) -> Registry:
        bucket = os.environ.get("INFERSTACK_REGISTRY_BUCKET")
        table = os.environ.get("INFERSTACK_REGISTRY_TABLE")
        missing = [n for n, v in (("INFERSTACK_REGISTRY_BUCKET", bucket), ("INFERSTACK_REGISTRY_TABLE", table)) if not v]
        if missing:
            raise RegistryError(f"{' and '.join(missing)} not set: the registry bucket and metadata table to use")
        import boto3

        # boto3 reads AWS_DEFAULT_REGION (or the profile) but not AWS_REGION: pass the region explicitly.
        region = region_from_env()
        session = boto3.session.Session(region_name=region) if region else boto3.session.Session()
        if not session.region_name:
            raise RegistryError(
                "no AWS region: set AWS_REGION or AWS_DEFAULT_REGION to the registry's region "
                "(neither is set and the AWS profile names no region)"
            )
        return cls(str(bucket), str(table), session, session.region_name)

    # ------------------------------------------------------------ errors
    def _call(self, fn: Any, **kwargs: Any) -> Any:
        """Call boto3, turning missing-bucket / missing-table errors into RegistryError, lost connections into RegistryIOError."""
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
            raise RegistryIOError(f"cannot reach the registry (bucket {self.bucket!r}, table {self.table!r}): {err}") from None

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

    def _heartbeat(self, model: str, version: int) -> None:
        """Refresh ``heartbeat_at`` of a pending version; RegistryError when it is no longer pending."""
        from botocore.exceptions import ClientError

        try:
            self._call(
                self.ddb.update_item,
                TableName=self.table, Key=self._key(model, version_key(version)),
                UpdateExpression="SET heartbeat_at = :t", ConditionExpression="#s = :p",
                ExpressionAttributeNames={"#s": "state"},
                ExpressionAttributeValues={":t": {"S": _now()}, ":p": {"S": "pending"}},
            )
        except ClientError as err:
            if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise RegistryError(
                    f"{model}:{version} is no longer pending (inferstack registry gc marked it failed while it was "
                    "uploading); push again"
                ) from None
            raise

    def _mark_failed(self, model: str, version: int, reason: str) -> bool:
        """Best effort, after a push failed: pending -> failed. False when the table could not be reached."""
        try:
            self._ddb_quick.update_item(
                TableName=self.table, Key=self._key(model, version_key(version)),
                UpdateExpression="SET #s = :f, failed_at = :t, failed_reason = :r", ConditionExpression="#s = :p",
                ExpressionAttributeNames={"#s": "state"},
                ExpressionAttributeValues={
                    ":f": {"S": "failed"}, ":p": {"S": "pending"}, ":t": {"S": _now()}, ":r": {"S": reason[:500]},
                },
            )
            return True
        except Exception as err:  # noqa: BLE001
            code = getattr(err, "response", {}).get("Error", {}).get("Code")
            return code == "ConditionalCheckFailedException"  # already failed by gc

    def push(
        self, model: str, path: str | Path, meta: dict[str, str] | None = None, source_commit: str | None = None,
        progress: Progress = NO_PROGRESS,
    ) -> Version:
        """Upload ``path`` (file or directory) as the next version of ``model``; returns the committed version.

        Everything that can be refused (names, symlinks, special files) is refused before a version is allocated
        or an object uploaded. A push that dies after allocating leaves a pending (or failed) version that
        ``gc`` marks failed and cleans up.
        """
        check_model(model)
        files_local = collect_files(Path(path))
        entries = []
        progress.start("hashing", sum(os.lstat(p).st_size for _, p in files_local), len(files_local))
        for rel, local in files_local:
            digest, size = sha256_file(local, progress)
            entries.append(FileEntry(rel, digest, size))
            progress.update(files=1)
        progress.done()
        self._check_bucket()
        creator = self._caller()
        created_at = _now()
        commit = source_commit if source_commit is not None else default_source_commit()
        digest = version_digest(entries)
        item = {
            "state": {"S": "pending"},
            "created_at": {"S": created_at},
            "heartbeat_at": {"S": created_at},
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
            with _Heartbeat(self, model, version, self.heartbeat_seconds) as beat:
                progress.start(f"push {model}:{version}", sum(e.size for e in entries), len(entries))
                for (rel, local), entry in zip(files_local, entries, strict=True):
                    with _open_regular(local) as fh:
                        self._call(
                            self.s3.put_object,
                            Bucket=self.bucket,
                            Key=prefix + rel,
                            Body=_CountingReader(fh, progress),
                            ContentLength=entry.size,
                            ChecksumSHA256=_b64(entry.sha256),
                            Metadata={"sha256": entry.sha256},
                        )
                    progress.update(files=1)
                    beat.check()
                self._commit(model, version)
                progress.done()
        except BaseException as err:
            # The version stays unresolvable: mark it failed (best effort; pending never resolves either, and
            # gc marks it failed after the grace period). gc deletes its objects.
            reason = f"push aborted: {type(err).__name__}: {err}"
            self.abandoned = (model, version, self._mark_failed(model, version, reason))
            raise
        return Version(model, version, "committed", created_at, creator, commit, digest, entries, dict(meta or {}))

    def _commit(self, model: str, version: int) -> None:
        from botocore.exceptions import ClientError

        try:
            self._call(
                self.ddb.update_item,
                TableName=self.table,
                Key=self._key(model, version_key(version)),
                UpdateExpression="SET #s = :c, committed_at = :t",
                ConditionExpression="#s = :p",
                ExpressionAttributeNames={"#s": "state"},
                ExpressionAttributeValues={":c": {"S": "committed"}, ":p": {"S": "pending"}, ":t": {"S": _now()}},
            )
        except ClientError as err:
            if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise RegistryError(
                    f"{model}:{version} is no longer pending (inferstack registry gc marked it failed before it could "
                    "commit); push again"
                ) from None
            raise

    # ------------------------------------------------------------ read
    def _aliases(self, model: str) -> dict[str, int]:
        items = self._query(model, "alias#")
        return {i["item"]["S"][len("alias#"):]: int(i["version"]["N"]) for i in items}

    def _query(self, model: str, prefix: str, projection: str | None = None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "#m = :m AND begins_with(#i, :p)",
            "ExpressionAttributeNames": {"#m": "model", "#i": "item"},
            "ExpressionAttributeValues": {":m": {"S": model}, ":p": {"S": prefix}},
            "ConsistentRead": True,
        }
        if projection:
            kwargs["ProjectionExpression"] = projection
            kwargs["ExpressionAttributeNames"].update(_PROJECTION_NAMES)
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

    def list(self, model: str, all_states: bool = False) -> list[Version]:
        """Committed versions of ``model`` (every state with ``all_states``), oldest first.

        RegistryError when the model has none.
        """
        check_model(model)
        aliases = self._aliases(model)
        items = self._query(model, "v")
        shown = items if all_states else [i for i in items if i["state"]["S"] == "committed"]
        if not shown:
            if items:
                raise RegistryError(
                    f"model {model!r} has no committed versions in registry table {self.table!r} "
                    "(list --all shows pending and failed ones)"
                )
            raise RegistryError(f"model {model!r} has no versions in registry table {self.table!r}")
        return sorted((self._version(model, i, aliases) for i in shown), key=lambda v: v.version)

    def get(self, model: str, version: int) -> Version:
        check_model(model)
        version = check_version(version)
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

    def _list_objects(self, prefix: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        while True:
            resp = self._call(self.s3.list_objects_v2, **kwargs)
            out.extend(resp.get("Contents", []))
            if not resp.get("IsTruncated"):
                return out
            kwargs["ContinuationToken"] = resp["NextContinuationToken"]

    def _get_file(self, v: Version, f: FileEntry) -> Any:
        from botocore.exceptions import ClientError

        key = artifact_prefix(v.model, v.version) + f.path
        try:
            return self._call(self.s3.get_object, Bucket=self.bucket, Key=key)
        except ClientError as err:
            if err.response["Error"]["Code"] in ("NoSuchKey", "404"):
                raise RegistryError(f"{v.model}:{v.version}: file {f.path!r} is missing (s3://{self.bucket}/{key})") from None
            raise

    def _mismatch(self, v: Version, f: FileEntry, sha: str, size: int) -> RegistryError:
        key = artifact_prefix(v.model, v.version) + f.path
        return RegistryError(
            f"{v.model}:{v.version}: digest mismatch for {f.path!r} (s3://{self.bucket}/{key}): "
            f"recorded sha256 {f.sha256} size {f.size}, found sha256 {sha} size {size}"
        )

    def verify(self, v: Version) -> None:
        """The version's prefix holds exactly its files, each with the recorded sha256 and size.

        RegistryError naming the first bad file, or the objects the manifest does not list (a model server
        downloads the whole prefix, so an extra object would be served too).
        """
        prefix = artifact_prefix(v.model, v.version)
        listed = {f.path for f in v.files}
        extra = sorted(o["Key"][len(prefix):] for o in self._list_objects(prefix) if o["Key"][len(prefix):] not in listed)
        if extra:
            more = f" and {len(extra) - 5} more" if len(extra) > 5 else ""
            raise RegistryError(
                f"{v.model}:{v.version}: s3://{self.bucket}/{prefix} holds {len(extra)} object(s) the manifest does not list "
                f"(a model server downloads the whole prefix): {', '.join(repr(e) for e in extra[:5])}{more}"
            )
        for f in v.files:
            obj = self._get_file(v, f)
            h = hashlib.sha256()
            size = 0
            for chunk in obj["Body"].iter_chunks(_CHUNK):
                h.update(chunk)
                size += len(chunk)
            if h.hexdigest() != f.sha256 or size != f.size:
                raise self._mismatch(v, f, h.hexdigest(), size)

    # ------------------------------------------------------------ pull
    def pull(self, v: Version, dest: str | Path, progress: Progress = NO_PROGRESS) -> Path:
        """Download the files of ``v`` into ``dest`` (absent or an empty directory), checking every sha256 and size.

        Files land in a temporary sibling directory that is renamed to ``dest`` only when every file is complete
        and verified: an interrupted pull never leaves a partial ``dest``. Objects the manifest does not list are
        not downloaded.
        """
        dest = Path(dest)
        for f in v.files:
            try:
                check_relpath(f.path)
            except ValueError as err:
                raise RegistryError(f"{v.model}:{v.version}: manifest holds an unsafe path: {err}") from None
        if os.path.lexists(dest) and not (dest.is_dir() and not dest.is_symlink() and not any(dest.iterdir())):
            raise RegistryError(f"destination {str(dest)!r} exists and is not an empty directory")
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(dest.parent / f".{dest.name}.pull-{uuid.uuid4().hex[:8]}")
            tmp.mkdir()
        except OSError as err:
            raise RegistryIOError(f"cannot create {str(dest)!r}: {err.strerror}") from None
        try:
            progress.start(f"pull {v.model}:{v.version}", sum(f.size for f in v.files), len(v.files))
            for f in v.files:
                self._download(v, f, tmp / f.path, progress)
                progress.update(files=1)
            os.rename(tmp, dest)
            progress.done()
        except OSError as err:
            shutil.rmtree(tmp, ignore_errors=True)
            raise RegistryIOError(f"cannot write {str(dest)!r}: {err.strerror or err}") from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return dest

    def _download(self, v: Version, f: FileEntry, target: Path, progress: Progress) -> None:
        from botocore.exceptions import BotoCoreError

        obj = self._get_file(v, f)
        target.parent.mkdir(parents=True, exist_ok=True)
        h = hashlib.sha256()
        size = 0
        with open(target, "xb") as out:
            try:
                for chunk in obj["Body"].iter_chunks(_CHUNK):
                    out.write(chunk)
                    h.update(chunk)
                    size += len(chunk)
                    progress.update(len(chunk))
            except BotoCoreError as err:
                raise RegistryIOError(f"download of {v.model}:{v.version} {f.path!r} failed: {err}") from None
            out.flush()
            os.fsync(out.fileno())
        if h.hexdigest() != f.sha256 or size != f.size:
            raise self._mismatch(v, f, h.hexdigest(), size)

    # ------------------------------------------------------------ promote
    def promote(self, model: str, version: int, alias: str) -> dict[str, Any]:
        """Point ``alias`` at ``version`` and append an audit entry (who, when, from which version).

        A compare-and-swap: the alias is written only if it still holds the version (and revision) read just
        before, in one transaction with the audit item and a check that the version is committed. AliasConflict
        when another promote moved the alias in between (nothing is written; retry).
        """
        from botocore.exceptions import ClientError

        check_model(model)
        version = check_version(version)
        check_alias(alias)
        self.get(model, version)
        current = self._read_alias(model, alias)
        previous = int(current["version"]["N"]) if current else None
        rev = int(current["rev"]["N"]) if current and "rev" in current else (1 if current else 0)
        who, when = self._caller(), _now()
        values: dict[str, Any] = {}
        if current is None:
            names = {"#i": "item"}
            alias_cond = "attribute_not_exists(#i)"
        else:
            names = {"#v": "version", "#r": "rev"}
            values[":prev"] = {"N": str(previous)}
            if "rev" in current:
                alias_cond = "#v = :prev AND #r = :rev"
                values[":rev"] = {"N": str(rev)}
            else:  # written before revisions existed
                alias_cond = "#v = :prev AND attribute_not_exists(#r)"
        audit_item = {
            **self._key(model, f"audit#{when}#{uuid.uuid4().hex[:8]}"),
            "alias": {"S": alias},
            "version": {"N": str(version)},
            "rev": {"N": str(rev + 1)},
            "by": {"S": who},
            "at": {"S": when},
        }
        if previous is not None:
            audit_item["from_version"] = {"N": str(previous)}
        alias_put: dict[str, Any] = {
            "TableName": self.table,
            "Item": {
                **self._key(model, f"alias#{alias}"), "version": {"N": str(version)}, "rev": {"N": str(rev + 1)},
                "updated_by": {"S": who}, "updated_at": {"S": when},
            },
            "ConditionExpression": alias_cond,
            "ExpressionAttributeNames": names,
        }
        if values:
            alias_put["ExpressionAttributeValues"] = values
        try:
            self._call(
                self.ddb.transact_write_items,
                TransactItems=[
                    {"Put": alias_put},
                    {"Put": {"TableName": self.table, "Item": audit_item, "ConditionExpression": "attribute_not_exists(#i)",
                             "ExpressionAttributeNames": {"#i": "item"}}},
                    {"ConditionCheck": {
                        "TableName": self.table, "Key": self._key(model, version_key(version)),
                        "ConditionExpression": "#s = :c", "ExpressionAttributeNames": {"#s": "state"},
                        "ExpressionAttributeValues": {":c": {"S": "committed"}},
                    }},
                ],
            )
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            codes = [r.get("Code") for r in err.response.get("CancellationReasons", [])]
            if len(codes) > 2 and codes[2] == "ConditionalCheckFailed":
                raise RegistryError(f"model {model!r} has no version {version} (committed versions only)") from None
            if "ConditionalCheckFailed" in codes[:2] or "TransactionConflict" in codes:
                raise AliasConflict(f"{model}@{alias}: alias changed concurrently; retry") from None
            raise
        return {"model": model, "alias": alias, "version": version, "from_version": previous, "by": who, "at": when,
                "rev": rev + 1}

    def _read_alias(self, model: str, alias: str) -> dict[str, Any] | None:
        resp = self._call(self.ddb.get_item, TableName=self.table, Key=self._key(model, f"alias#{alias}"), ConsistentRead=True)
        return resp.get("Item")

    def audit(self, model: str, alias: str | None = None) -> list[dict[str, Any]]:
        """Audit entries, oldest first; the entries of one alias are in revision order (a ``from -> to`` chain)."""
        records = [
            {
                "alias": i["alias"]["S"], "version": int(i["version"]["N"]), "by": i["by"]["S"], "at": i["at"]["S"],
                "from_version": int(i["from_version"]["N"]) if "from_version" in i else None,
                "rev": int(i["rev"]["N"]) if "rev" in i else None,
            }
            for i in self._query(model, "audit#")
            if alias is None or i["alias"]["S"] == alias
        ]
        records.sort(key=lambda r: r["at"])
        # Clocks of different writers may disagree: within one alias, the revision is the order.
        slots: dict[str, list[int]] = {}
        for n, r in enumerate(records):
            slots.setdefault(r["alias"], []).append(n)
        ordered = list(records)
        for idxs in slots.values():
            recs = sorted((records[n] for n in idxs), key=lambda r: (r["rev"] is not None, r["rev"] or 0))
            for n, r in zip(idxs, recs, strict=True):
                ordered[n] = r
        return ordered

    # ------------------------------------------------------------ gc
    def _version_states(self, model: str | None) -> dict[tuple[str, int], dict[str, Any]]:
        """(model, version) -> item (state and times only) of every version item, of one model or all."""
        projection = "#m, #i, #v, #s, created_at, heartbeat_at"
        if model is not None:
            items = self._query(model, "v", projection)
        else:
            items = []
            kwargs: dict[str, Any] = {
                "TableName": self.table, "ConsistentRead": True, "ProjectionExpression": projection,
                "FilterExpression": "begins_with(#i, :v)", "ExpressionAttributeNames": dict(_PROJECTION_NAMES),
                "ExpressionAttributeValues": {":v": {"S": "v"}},
            }
            while True:
                resp = self._call(self.ddb.scan, **kwargs)
                items.extend(resp.get("Items", []))
                if "LastEvaluatedKey" not in resp:
                    break
                kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        return {(i["model"]["S"], int(i["version"]["N"])): i for i in items if "version" in i and "state" in i}

    def _object_versions(self, prefix: str) -> list[dict[str, Any]]:
        """Every object version and delete marker under ``prefix`` (Key, VersionId, Size)."""
        out: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        while True:
            resp = self._call(self.s3.list_object_versions, **kwargs)
            out.extend({"Key": o["Key"], "VersionId": o.get("VersionId") or "null", "Size": o.get("Size", 0)}
                       for o in resp.get("Versions", []))
            out.extend({"Key": o["Key"], "VersionId": o.get("VersionId") or "null", "Size": 0}
                       for o in resp.get("DeleteMarkers", []))
            if not resp.get("IsTruncated"):
                return out
            kwargs["KeyMarker"] = resp.get("NextKeyMarker")
            kwargs["VersionIdMarker"] = resp.get("NextVersionIdMarker")

    def _delete_versions(self, objs: list[dict[str, Any]]) -> None:
        for n in range(0, len(objs), 1000):
            batch = [{"Key": o["Key"], "VersionId": o["VersionId"]} for o in objs[n : n + 1000]]
            resp = self._call(self.s3.delete_objects, Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
            errors = resp.get("Errors") or []
            if errors:
                e = errors[0]
                raise RegistryIOError(
                    f"could not delete s3://{self.bucket}/{e.get('Key')} ({e.get('Code')}: {e.get('Message')}) "
                    f"and {len(errors) - 1} more; run gc again"
                )

    def gc(self, grace_seconds: float = DEFAULT_GRACE_SECONDS, dry_run: bool = False, model: str | None = None) -> dict[str, Any]:
        """Collect what interrupted pushes left behind, in one model or all.

        * a ``pending`` version idle (no heartbeat) for at least ``grace_seconds`` is marked ``failed`` (a write
          conditional on the state and heartbeat it read, so a push that is still alive, or commits meanwhile, wins);
        * every object version under a ``failed`` version's prefix is deleted, and so are objects under a
          ``models/<m>/v<N>/`` prefix that has no version item at all, once older than the grace period;
        * committed versions and pending ones within the grace period are never touched.

        With ``dry_run`` nothing is written; the report says what would be.
        """
        if model is not None:
            check_model(model)
        if not 0 <= grace_seconds <= MAX_GRACE_SECONDS:
            raise RegistryError(f"argument --grace: {grace_seconds} s is out of range; 0 to {MAX_GRACE_SECONDS:.0f} s")
        now = datetime.now(timezone.utc)
        states = self._version_states(model)
        report: dict[str, Any] = {
            "dry_run": dry_run, "grace_seconds": grace_seconds, "marked_failed": [], "deleted": [], "in_progress": [],
        }
        collect: list[tuple[str, int, str]] = []  # (model, version, why)
        for (m, v), item in sorted(states.items()):
            state = item["state"]["S"]
            if state == "failed":
                collect.append((m, v, "failed"))
            elif state == "pending":
                beat = item.get("heartbeat_at", item.get("created_at", {})).get("S")
                last = max(_parse_time(item["created_at"]["S"]), _parse_time(beat)) if beat else _parse_time(item["created_at"]["S"])
                idle = max(0.0, (now - last).total_seconds())
                entry = {"model": m, "version": v, "idle_seconds": round(idle, 3)}
                if idle < grace_seconds:
                    report["in_progress"].append(entry)
                    continue
                if not dry_run and not self._fail_abandoned(m, v, item, idle):
                    continue  # it heartbeat or committed since we read it
                report["marked_failed"].append(entry)
                collect.append((m, v, "abandoned"))
        # Objects under a version prefix whose version item does not exist (never written, or removed by hand).
        root = MODELS_ROOT if model is None else f"{MODELS_ROOT}{model}/"
        orphans: dict[tuple[str, int], datetime] = {}
        for obj in self._list_objects(root):
            parsed = parse_artifact_key(obj["Key"])
            if parsed is None or (parsed[0], parsed[1]) in states:
                continue
            mv = (parsed[0], parsed[1])
            modified = obj["LastModified"]
            orphans[mv] = max(orphans.get(mv, modified), modified)
        for (m, v), newest in sorted(orphans.items()):
            if (now - newest).total_seconds() < grace_seconds:
                continue
            if self._call(self.ddb.get_item, TableName=self.table, Key=self._key(m, version_key(v)), ConsistentRead=True).get("Item"):
                continue  # a push allocated it after we scanned
            collect.append((m, v, "orphan"))
        for m, v, why in collect:
            prefix = artifact_prefix(m, v)
            objs = self._object_versions(prefix)
            if not objs:
                continue
            if not dry_run:
                self._delete_versions(objs)
            report["deleted"].append({
                "model": m, "version": v, "reason": why, "prefix": f"s3://{self.bucket}/{prefix}",
                "objects": sorted({o["Key"] for o in objs}), "object_versions": len(objs),
                "bytes": sum(o["Size"] for o in objs),
            })
        return report

    def _fail_abandoned(self, model: str, version: int, item: dict[str, Any], idle: float) -> bool:
        from botocore.exceptions import ClientError

        values: dict[str, Any] = {
            ":f": {"S": "failed"}, ":p": {"S": "pending"}, ":t": {"S": _now()},
            ":r": {"S": f"abandoned: no heartbeat for {format_duration(idle)} (inferstack registry gc)"},
        }
        cond = "#s = :p AND attribute_not_exists(heartbeat_at)"
        if "heartbeat_at" in item:
            cond = "#s = :p AND heartbeat_at = :h"
            values[":h"] = item["heartbeat_at"]
        try:
            self._call(
                self.ddb.update_item,
                TableName=self.table, Key=self._key(model, version_key(version)),
                UpdateExpression="SET #s = :f, failed_at = :t, failed_reason = :r", ConditionExpression=cond,
                ExpressionAttributeNames={"#s": "state"}, ExpressionAttributeValues=values,
            )
            return True
        except ClientError as err:
            if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise


_PROJECTION_NAMES = {"#m": "model", "#i": "item", "#v": "version", "#s": "state"}


def _b64(hexdigest: str) -> str:
    import base64

    return base64.b64encode(bytes.fromhex(hexdigest)).decode()

