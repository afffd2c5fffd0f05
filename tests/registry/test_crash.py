"""Crash safety of ``inferstack registry push`` and what ``gc`` does about it, against a real moto server.

Pushes run as real CLI processes through a TCP proxy (to cut the network under them) and are killed at seeded
random points: SIGKILL, SIGTERM, SIGINT or a lost connection, before, during or after the upload. Whatever they
leave, ``gc`` marks abandoned versions failed and deletes every object that does not belong to a committed version.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import tests.registry.test_client as base

# the moto server and registry fixtures of test_registry_client
moto_endpoint, registry_env, registry, artifact = base.moto_endpoint, base.registry_env, base.registry, base.artifact
run = base.run

SEED = 20261201


class _Proxy:
    """A TCP proxy to the moto server that can lose the network (reset every connection, refuse new ones).

    ``uploading`` is set when the first S3 PUT goes through: the push has allocated its version.
    """

    def __init__(self, endpoint: str):
        host, port = endpoint.rsplit("//", 1)[1].split(":")
        self._target = (host, int(port))
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.uploading = threading.Event()
        self.puts = 0
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._cut = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self._target)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._cut:
                    client.close()
                    upstream.close()
                    return
                self._socks += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, outbound: bool) -> None:
        try:
            while data := src.recv(65536):
                if outbound and data.startswith(b"PUT /"):
                    self.puts += 1
                    self.uploading.set()
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        """The network is gone: every open connection is reset and new ones are refused."""
        with self._lock:
            self._cut = True
            socks, self._socks = self._socks, []
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        for s in socks:
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST, not FIN
                s.shutdown(socket.SHUT_RD)  # wakes the pump blocked in recv, which lets close() reset the connection
                s.close()
            except OSError:
                pass

    close = cut

    def wait_puts(self, n: int, timeout: float = 120) -> bool:
        """Until ``n`` S3 PUTs went through (the first ``n - 1`` files are uploaded)."""
        deadline = time.monotonic() + timeout
        while self.puts < n:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True


def _spawn_push(env: dict[str, str], proxy: _Proxy, model: str, path: Path, **extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "inferstack", "registry", "push", model, str(path)],
        env={**os.environ, **env, "AWS_ENDPOINT_URL": proxy.url, **extra},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


@pytest.fixture
def big_artifact(tmp_path: Path) -> Path:
    """24 files of 128 KiB: the upload takes long enough to be interrupted in the middle."""
    d = tmp_path / "big"
    d.mkdir()
    rng = random.Random(SEED)
    for i in range(24):
        (d / f"shard-{i:02d}.bin").write_bytes(rng.randbytes(128 * 1024))
    return d


def _bucket_objects(bucket: str) -> tuple[list[dict], list[dict]]:
    import boto3

    s3 = boto3.client("s3")
    versions, markers = [], []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        versions += page.get("Versions", [])
        markers += page.get("DeleteMarkers", [])
    return versions, markers


def _states(capsys, models: list[str]) -> dict[tuple[str, int], str]:
    out = {}
    for m in models:
        code, text, err = run(capsys, "list", m, "--all", "--format", "json")
        if code == 2 and "no versions" in err:
            continue
        assert code == 0, err
        out.update({(m, r["version"]): r["state"] for r in json.loads(text)})
    return out


def _one_error_line(stderr: str) -> bool:
    return stderr.count("\n") == 1 and stderr.startswith("error: ") and "Traceback" not in stderr


def test_pushes_killed_at_random_points_leave_nothing_after_gc(registry, big_artifact, capsys):
    bucket = registry["INFERSTACK_REGISTRY_BUCKET"]
    # calibrate: how long a push takes to start uploading, and to upload, on this machine
    proxy = _Proxy(registry["AWS_ENDPOINT_URL"])
    t0 = time.monotonic()
    proc = _spawn_push(registry, proxy, "crash-0", big_artifact)
    assert proxy.uploading.wait(120)
    t_start = time.monotonic() - t0
    out, err = proc.communicate(timeout=120)
    t_upload = time.monotonic() - t0 - t_start
    assert proc.returncode == 0 and out.strip() == "1", err
    proxy.close()

    lanes, per_lane = 4, 4
    models = [f"crash-{lane}" for lane in range(lanes)]
    rng = random.Random(SEED)
    plans = [
        [(rng.choice(["SIGKILL", "SIGKILL", "SIGTERM", "SIGINT", "network"]),
          rng.choice(["start", "upload", "upload", "upload"]), rng.random()) for _ in range(per_lane)]
        for _ in range(lanes)
    ]
    outcomes: list[tuple[str, str, int, str]] = []
    failures: list[str] = []

    def lane(n: int) -> None:
        for fault, anchor, frac in plans[n]:
            proxy = _Proxy(registry["AWS_ENDPOINT_URL"])
            extra = {"AWS_MAX_ATTEMPTS": "2"} if fault == "network" else {}
            proc = _spawn_push(registry, proxy, models[n], big_artifact, **extra)
            if anchor == "start":
                time.sleep(frac * (t_start + t_upload))
            elif proxy.uploading.wait(120):
                time.sleep(frac * 1.2 * t_upload)
            if fault == "network":
                proxy.cut()
            else:
                proc.send_signal(getattr(signal, fault))
            try:
                _, err = proc.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                failures.append(f"{fault} at {anchor}+{frac:.2f}: push did not exit")
                continue
            finally:
                proxy.close()
            outcomes.append((fault, anchor, proc.returncode, err))
            handled = {"SIGTERM": 143, "SIGINT": 130, "network": 3}.get(fault)
            if proc.returncode == handled and not _one_error_line(err):
                failures.append(f"{fault}: exit {proc.returncode} without one error line: {err!r}")

    threads = [threading.Thread(target=lane, args=(n,)) for n in range(lanes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not failures, failures
    assert len(outcomes) == lanes * per_lane
    # a lost network fails the push with exit 3 (unless it had already committed)
    assert all(code in (0, 3) for fault, _, code, _ in outcomes if fault == "network"), outcomes

    before = _states(capsys, models)
    pending = {mv for mv, s in before.items() if s == "pending"}
    garbage = {mv for mv, s in before.items() if s != "committed"}
    assert pending, f"no push was killed after allocating a version: {outcomes}"
    versions_before, _ = _bucket_objects(bucket)

    # --dry-run lists what it would do and changes nothing
    code, out, err = run(capsys, "gc", "--grace", "0s", "--dry-run", "--format", "json")
    assert code == 0, err
    dry = json.loads(out)
    assert dry["dry_run"] is True
    assert {(e["model"], e["version"]) for e in dry["marked_failed"]} == pending
    dry_deleted = {(e["model"], e["version"]) for e in dry["deleted"]}
    assert dry_deleted <= garbage
    assert _states(capsys, models) == before
    assert len(_bucket_objects(bucket)[0]) == len(versions_before)
    code, text, _ = run(capsys, "gc", "--grace", "0s", "--dry-run")
    assert code == 0 and all(f"would mark failed  {m}:{v}" in text for m, v in pending)

    # within the grace period a pending version is left alone (it may be a live push); failed ones are collected
    code, out, err = run(capsys, "gc", "--format", "json")
    assert code == 0, err
    first = json.loads(out)
    assert first["marked_failed"] == [] and {(e["model"], e["version"]) for e in first["in_progress"]} == pending
    assert {s for mv, s in _states(capsys, models).items() if mv in pending} == {"pending"}

    code, out, err = run(capsys, "gc", "--grace", "0s", "--format", "json")
    assert code == 0, err
    second = json.loads(out)
    assert {(e["model"], e["version"]) for e in second["marked_failed"]} == pending
    assert {(e["model"], e["version"]) for e in first["deleted"] + second["deleted"]} == dry_deleted

    after = _states(capsys, models)
    assert "pending" not in after.values()
    assert {mv for mv, s in after.items() if s == "failed"} == garbage
    # no orphan objects: every object version in the bucket is a file of a committed version's manifest
    from inferstack.registry.client import Registry

    reg = Registry.from_env()
    manifest = {
        f"models/{m}/v{v}/{f.path}" for (m, v), s in after.items() if s == "committed" for f in reg.get(m, v).files
    }
    versions_after, markers_after = _bucket_objects(bucket)
    assert {o["Key"] for o in versions_after} == manifest and not markers_after
    assert len(versions_after) == len(manifest)
    for m, v in (mv for mv, s in after.items() if s == "committed"):
        assert run(capsys, "resolve", f"{m}:{v}", "--verify")[0] == 0

    # gc is idempotent, and a later push never reuses a failed number
    code, out, _ = run(capsys, "gc", "--grace", "0s")
    assert (code, out.strip()) == (0, "nothing to collect")
    if garbage:
        m = max(garbage)[0]
        highest = max(v for (mm, v) in before if mm == m)
        code, out, _ = run(capsys, "push", m, str(big_artifact))
        assert code == 0 and int(out) > highest


@pytest.mark.parametrize(("sig", "code", "word"), [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_signal_during_upload_marks_the_version_failed(registry, big_artifact, capsys, sig, code, word):
    proxy = _Proxy(registry["AWS_ENDPOINT_URL"])
    proc = _spawn_push(registry, proxy, "sig", big_artifact)
    assert proxy.wait_puts(4)  # three files are uploaded, the fourth is on its way
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    proxy.close()
    assert proc.returncode == code and out == "", err
    assert _one_error_line(err) and f"registry push: {word}" in err and "sig:1 marked failed" in err
    code_, text, _ = run(capsys, "list", "sig", "--all")
    assert code_ == 0 and "failed" in text
    code_, out, _ = run(capsys, "gc", "--format", "json")  # failed versions need no grace period
    assert code_ == 0 and [(e["model"], e["version"]) for e in json.loads(out)["deleted"]] == [("sig", 1)]
    assert _bucket_objects(registry["INFERSTACK_REGISTRY_BUCKET"]) == ([], [])


def test_network_loss_during_upload_exits_3_and_gc_collects(registry, big_artifact, capsys):
    proxy = _Proxy(registry["AWS_ENDPOINT_URL"])
    proc = _spawn_push(registry, proxy, "net", big_artifact, AWS_MAX_ATTEMPTS="2")
    assert proxy.wait_puts(4)
    proxy.cut()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 3 and out == "", err
    assert _one_error_line(err) and "net:1 left pending" in err
    assert _states(capsys, ["net"]) == {("net", 1): "pending"}
    code, out, _ = run(capsys, "gc", "--grace", "0s", "--format", "json")
    report = json.loads(out)
    assert code == 0 and [(e["model"], e["version"]) for e in report["marked_failed"]] == [("net", 1)]
    assert [(e["model"], e["version"]) for e in report["deleted"]] == [("net", 1)]
    assert _states(capsys, ["net"]) == {("net", 1): "failed"}
    assert _bucket_objects(registry["INFERSTACK_REGISTRY_BUCKET"]) == ([], [])


class _SlowUpload:
    """A progress sink that makes each uploaded file take ``delay`` seconds (the push stays in flight)."""

    def __init__(self, delay: float):
        self.delay = delay
        self.uploading = threading.Event()

    def start(self, action: str, total_bytes: int, total_files: int) -> None:
        self.phase = action

    def update(self, nbytes: int = 0, files: int = 0) -> None:
        if files and self.phase.startswith("push"):
            self.uploading.set()
            time.sleep(self.delay)

    def done(self) -> None:
        pass


class _HeldUpload(_SlowUpload):
    """A progress sink that holds the push after its first file until ``release`` is set (it stays in flight)."""

    def __init__(self) -> None:
        super().__init__(0.0)
        self.release = threading.Event()

    def update(self, nbytes: int = 0, files: int = 0) -> None:
        if files and self.phase.startswith("push") and not self.uploading.is_set():
            self.uploading.set()
            assert self.release.wait(120), "the test never released the push"


def _push_in_thread(reg, model: str, path: Path, slow: _SlowUpload) -> dict:
    result: dict = {}

    def target() -> None:
        try:
            result["version"] = reg.push(model, path, progress=slow)
        except Exception as err:  # noqa: BLE001 - inspected by the test
            result["error"] = err

    t = threading.Thread(target=target)
    t.start()
    result["thread"] = t
    return result


def test_gc_leaves_a_live_push_alone(registry, artifact):
    """A push that keeps its heartbeat is never failed by gc, however long it runs."""
    from inferstack.registry.client import Registry

    reg = Registry.from_env()
    reg.heartbeat_seconds = 0.2
    # The push is held after its first file until gc has run (it cannot commit before), 6 s after the version was
    # created: past the 5 s grace, which is 25 heartbeats, so a heartbeat thread starved for seconds still wins.
    held = _HeldUpload()
    result = _push_in_thread(reg, "live", artifact, held)
    assert held.uploading.wait(60)
    time.sleep(6.0)
    report = Registry.from_env().gc(grace_seconds=5.0)
    held.release.set()
    result["thread"].join(60)
    assert "error" not in result, result.get("error")
    assert [(e["model"], e["version"]) for e in report["in_progress"]] == [("live", 1)]
    assert report["marked_failed"] == [] and report["deleted"] == []
    assert Registry.from_env().get("live", 1).state == "committed"


@pytest.mark.parametrize("heartbeat", [0.0, 0.2])
def test_a_push_gc_gave_up_on_can_never_commit(registry, artifact, heartbeat):
    """gc marks a push failed (no heartbeat, or grace 0): the push stops with a clear error and never commits."""
    from inferstack.registry.client import Registry, RegistryError

    reg = Registry.from_env()
    reg.heartbeat_seconds = heartbeat
    slow = _SlowUpload(0.7)
    result = _push_in_thread(reg, "zombie", artifact, slow)
    assert slow.uploading.wait(60)
    # A heartbeat that lands between gc's read and its conditional write makes that gc pass leave the version alone
    # (the compare-and-swap protects a live push); under load that can happen, so gc runs until it wins once.
    for _ in range(50):
        report = Registry.from_env().gc(grace_seconds=0.0)
        if report["marked_failed"]:
            break
        time.sleep(0.02)
    assert [(e["model"], e["version"]) for e in report["marked_failed"]] == [("zombie", 1)]
    result["thread"].join(60)
    assert isinstance(result.get("error"), RegistryError) and "no longer pending" in str(result["error"])
    assert [v.state for v in Registry.from_env().list("zombie", all_states=True)] == ["failed"]
    Registry.from_env().gc(grace_seconds=0.0)  # whatever it uploaded after the first gc
    assert _bucket_objects(registry["INFERSTACK_REGISTRY_BUCKET"]) == ([], [])


def test_gc_deletes_objects_under_a_prefix_without_a_version_item(registry, capsys):
    import boto3

    bucket = registry["INFERSTACK_REGISTRY_BUCKET"]
    boto3.client("s3").put_object(Bucket=bucket, Key="models/ghost/v7/weights.bin", Body=b"x")
    boto3.client("s3").put_object(Bucket=bucket, Key="notes/readme.txt", Body=b"not the registry's")
    code, out, _ = run(capsys, "gc", "--format", "json")  # younger than the grace period: kept
    assert code == 0 and json.loads(out)["deleted"] == []
    code, out, _ = run(capsys, "gc", "other", "--grace", "0s", "--format", "json")  # another model only
    assert code == 0 and json.loads(out)["deleted"] == []
    code, out, _ = run(capsys, "gc", "--grace", "0s", "--format", "json")
    deleted = json.loads(out)["deleted"]
    assert [(e["model"], e["version"], e["reason"], e["objects"]) for e in deleted] == [
        ("ghost", 7, "orphan", ["models/ghost/v7/weights.bin"])
    ]
    assert {o["Key"] for o in _bucket_objects(bucket)[0]} == {"notes/readme.txt"}


def test_gc_rejects_a_bad_grace(registry, capsys):
    code, out, err = run(capsys, "gc", "--grace", "soon")
    assert code == 2 and out == "" and _one_error_line(err) and "invalid duration 'soon'" in err
