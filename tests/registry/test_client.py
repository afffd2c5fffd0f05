"""The ``inferstack registry`` client against a real moto server on 127.0.0.1 (boto3 is not patched)."""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from inferstack.cli import main as cli_main

moto_server = pytest.importorskip("moto.server")

BUCKET = "inferstack-registry-test"
TABLE = "inferstack-registry-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LinearizableMotoServer(moto_server.ThreadedMotoServer):
    """moto's ThreadedMotoServer with DynamoDB requests applied one at a time (S3 stays concurrent).

    Real DynamoDB applies a conditional write, and a TransactWriteItems, atomically. moto's threaded server does
    not: it evaluates a condition and then writes in separate steps, and a cancelled transaction restores a
    deep copy of the whole table taken before it began, undoing writes other requests made meanwhile. Measured
    here: 16 concurrent compare-and-swap promotes against the plain server produced two audit records with the
    same revision. Serializing DynamoDB requests gives moto the atomicity the real service has; nothing is patched
    in the client.
    """

    def _server_entry(self) -> None:
        import threading

        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        moto_app = DomainDispatcherApplication(create_backend_app)
        lock = threading.Lock()

        def app(environ, start_response):
            if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
                with lock:
                    return list(moto_app(environ, start_response))
            return moto_app(environ, start_response)

        self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()


@pytest.fixture(scope="module")
def moto_endpoint():
    server = LinearizableMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def registry_env(moto_endpoint, monkeypatch, tmp_path):
    """Environment of a fresh registry (own bucket and table per test) on the moto server."""
    name = f"reg-{os.getpid()}-{abs(hash(tmp_path)) % 10**8}"
    env = {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
        "INFERSTACK_REGISTRY_BUCKET": name,
        "INFERSTACK_REGISTRY_TABLE": name,
        "INFERSTACK_SOURCE_COMMIT": "0123456789abcdef0123456789abcdef01234567",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return env


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli_main(["registry", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    d = tmp_path / "model"
    (d / "tokenizer").mkdir(parents=True)
    (d / "config.json").write_text('{"arch": "llama"}')
    (d / "model.safetensors").write_bytes(os.urandom(4096))
    (d / "tokenizer" / "vocab.txt").write_text("a\nb\n")
    return d


@pytest.fixture
def registry(registry_env, capsys):
    code, _, err = run(capsys, "init")
    assert code == 0, err
    return registry_env


def test_push_list_promote_resolve(registry, artifact, capsys):
    code, out, err = run(capsys, "push", "llama", str(artifact), "--meta", "framework=vllm")
    assert (code, out.strip()) == (0, "1"), err
    code, out, _ = run(capsys, "push", "llama", str(artifact), "--format", "json")
    pushed = json.loads(out)
    assert pushed["version"] == 2
    assert pushed["source_commit"] == registry["INFERSTACK_SOURCE_COMMIT"]
    assert {f["path"] for f in pushed["files"]} == {"config.json", "model.safetensors", "tokenizer/vocab.txt"}
    sizes = {f["path"]: f["size"] for f in pushed["files"]}
    assert sizes["model.safetensors"] == 4096
    assert pushed["created_by"].startswith("arn:aws:")

    code, out, _ = run(capsys, "promote", "llama", "1", "--alias", "prod")
    assert code == 0 and "- -> 1" in out
    code, out, _ = run(capsys, "promote", "llama", "2", "--alias", "prod", "--format", "json")
    entry = json.loads(out)
    assert (entry["version"], entry["from_version"]) == (2, 1)

    code, out, _ = run(capsys, "list", "llama", "--format", "json")
    rows = json.loads(out)
    assert [r["version"] for r in rows] == [1, 2]
    assert rows[0]["aliases"] == [] and rows[1]["aliases"] == ["prod"]
    assert all(r["digest"].startswith("sha256:") and r["created_at"] for r in rows)
    assert rows[0]["digest"] == rows[1]["digest"]  # same files, same digest

    bucket = registry["INFERSTACK_REGISTRY_BUCKET"]
    for ref, expected in (("llama", 2), ("llama:1", 1), ("llama@prod", 2)):
        code, out, err = run(capsys, "resolve", ref, "--verify")
        assert (code, out.strip()) == (0, f"s3://{bucket}/models/llama/v{expected}/"), err

    from inferstack.registry.client import Registry

    audit = Registry.from_env().audit("llama")
    assert [(a["alias"], a["version"], a["from_version"]) for a in audit] == [("prod", 1, None), ("prod", 2, 1)]
    assert all(a["by"] and a["at"] for a in audit)


def test_tampered_artifact_is_caught_by_verify(registry, artifact, capsys):
    import boto3

    assert run(capsys, "push", "bert", str(artifact))[0] == 0
    s3 = boto3.client("s3")
    bucket = registry["INFERSTACK_REGISTRY_BUCKET"]
    s3.put_object(Bucket=bucket, Key="models/bert/v1/config.json", Body=b'{"arch": "evil"}')
    code, out, err = run(capsys, "resolve", "bert:1")
    assert code == 0  # without --verify the URI is printed
    code, out, err = run(capsys, "resolve", "bert:1", "--verify")
    assert code == 2 and out == ""
    assert "digest mismatch" in err and "config.json" in err and "Traceback" not in err

    s3.delete_object(Bucket=bucket, Key="models/bert/v1/tokenizer/vocab.txt")
    assert run(capsys, "push", "bert", str(artifact))[0] == 0
    s3.delete_object(Bucket=bucket, Key="models/bert/v2/tokenizer/vocab.txt")
    code, _, err = run(capsys, "resolve", "bert:2", "--verify")
    assert code == 2 and "tokenizer/vocab.txt" in err and "missing" in err


def test_failed_upload_leaves_no_resolvable_version(registry, artifact, capsys, monkeypatch):
    from inferstack.registry.client import Registry

    assert run(capsys, "push", "gpt", str(artifact))[0] == 0
    reg = Registry.from_env()
    calls = {"n": 0}
    real_put = reg.s3.put_object

    def flaky_put(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("connection reset during upload")
        return real_put(**kwargs)

    reg.s3.put_object = flaky_put  # an interrupted upload of version 2
    with pytest.raises(OSError):
        reg.push("gpt", artifact)
    assert [v.version for v in Registry.from_env().list("gpt")] == [1]
    code, out, err = run(capsys, "resolve", "gpt:2")
    assert code == 2 and "no version 2" in err
    assert run(capsys, "resolve", "gpt")[1].strip().endswith("/models/gpt/v1/")
    assert run(capsys, "push", "gpt", str(artifact))[1].strip() == "3"  # never reuses the failed number


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["list", "nosuch"], "model 'nosuch'"),
        (["resolve", "nosuch"], "model 'nosuch'"),
        (["resolve", "nosuch@prod"], "model 'nosuch'"),
        (["resolve", "llama:9"], "no version 9"),
        (["resolve", "llama@canary"], "no alias 'canary'"),
        (["resolve", "llama:abc"], "invalid version 'abc'"),
        (["promote", "llama", "7", "--alias", "prod"], "no version 7"),
        (["push", "llama", "/nonexistent/model/dir"], "path '/nonexistent/model/dir'"),
        (["push", "Bad Name", "."], "invalid model name"),
    ],
)
def test_clear_errors(registry, artifact, capsys, argv, needle):
    assert run(capsys, "push", "llama", str(artifact))[0] == 0
    code, out, err = run(capsys, *argv)
    assert code == 2, (out, err)
    assert needle in err and "Traceback" not in err and out == ""


def test_missing_bucket_and_table(registry, artifact, capsys, monkeypatch):
    assert run(capsys, "push", "llama", str(artifact))[0] == 0
    monkeypatch.setenv("INFERSTACK_REGISTRY_BUCKET", "no-such-bucket")
    for argv in (["push", "llama", str(artifact)], ["resolve", "llama:1", "--verify"]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and "no-such-bucket" in err and "Traceback" not in err, err
    monkeypatch.setenv("INFERSTACK_REGISTRY_TABLE", "no-such-table")
    code, _, err = run(capsys, "list", "llama")
    assert code == 2 and "no-such-table" in err
    monkeypatch.delenv("INFERSTACK_REGISTRY_BUCKET")
    code, _, err = run(capsys, "list", "llama")
    assert code == 2 and "INFERSTACK_REGISTRY_BUCKET" in err
    monkeypatch.setenv("INFERSTACK_REGISTRY_BUCKET", "b")
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    code, _, err = run(capsys, "list", "llama")
    assert code == 2 and "AWS_REGION" in err


def test_real_cli_process_exits_2_without_traceback(registry_env, artifact):
    env = {**os.environ, **registry_env, "INFERSTACK_REGISTRY_BUCKET": "absent-bucket"}
    proc = subprocess.run(
        [sys.executable, "-m", "inferstack", "registry", "push", "m", str(artifact)],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "absent-bucket" in proc.stderr


def _push_worker(args: tuple[dict[str, str], str, int, object]) -> tuple[int, str, str]:
    env, path, i, barrier = args
    os.environ.update(env)
    barrier.wait(timeout=300)  # type: ignore[attr-defined]  # spawned workers import slowly on small CI machines
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli_main(["registry", "push", "concurrent", path, "--meta", f"worker={i}", "--format", "json"])
    return code, out.getvalue(), err.getvalue()


def test_50_concurrent_pushes_from_processes(registry, artifact, capsys):
    """50 processes push the same model at once: 50 distinct versions, none lost, none duplicated."""
    n = 50
    # spawn, not fork: this process runs threads (the moto server, gRPC), and a child forked while one of them holds
    # a lock can hang for good. The overall timeout keeps a stuck worker from eating CI's time budget.
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(n)
        with ctx.Pool(n) as pool:
            results = pool.map_async(_push_worker, [(registry, str(artifact), i, barrier) for i in range(n)]).get(timeout=600)
    assert all(code == 0 for code, _, _ in results), [err for code, _, err in results if code]
    pushed = [json.loads(out) for _, out, _ in results]
    versions = sorted(p["version"] for p in pushed)
    assert versions == list(range(1, n + 1))
    code, out, _ = run(capsys, "list", "concurrent", "--format", "json")
    listed = json.loads(out)
    assert sorted(r["version"] for r in listed) == versions
    # each version holds its own worker's metadata: no version was written twice
    from inferstack.registry.client import Registry

    reg = Registry.from_env()
    workers = {reg.get("concurrent", p["version"]).meta["worker"] for p in pushed}
    assert workers == {str(i) for i in range(n)}


# ---------------------------------------------------------------- crash-safety: bad input and faults


def test_verify_fails_on_objects_the_manifest_does_not_list(registry, artifact, capsys):
    """A model server downloads the whole version prefix: an object the manifest does not list fails --verify."""
    import boto3

    assert run(capsys, "push", "vit", str(artifact))[0] == 0
    bucket = registry["INFERSTACK_REGISTRY_BUCKET"]
    boto3.client("s3").put_object(Bucket=bucket, Key="models/vit/v1/extra/backdoor.py", Body=b"import os")
    code, out, err = run(capsys, "resolve", "vit:1")
    assert code == 0  # without --verify the URI is printed
    code, out, err = run(capsys, "resolve", "vit:1", "--verify")
    assert code == 2 and out == "", err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
    assert "extra/backdoor.py" in err and "does not list" in err and f"s3://{bucket}/models/vit/v1/" in err


def _make_fifo(d: Path) -> str:
    os.mkfifo(d / "weights.pipe")
    return "FIFO"


def _make_socket(d: Path) -> str:
    import socket as socket_mod

    s = socket_mod.socket(socket_mod.AF_UNIX)
    s.bind(str(d / "server.sock"))
    s.close()
    return "socket"


def _make_device(d: Path) -> str:
    if os.geteuid() != 0:
        pytest.skip("creating a device node needs root")
    import stat

    os.mknod(d / "null", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    return "character device"


def _make_link_to_outside_file(d: Path) -> str:
    secret = d.parent / "secret.txt"
    secret.write_text("aws_secret_access_key = ...")
    (d / "config.yaml").symlink_to(secret)
    return "symlink"


def _make_link_to_outside_dir(d: Path) -> str:
    outside = d.parent / "home"
    outside.mkdir()
    (outside / ".netrc").write_text("password hunter2")
    (d / "cache").symlink_to(outside, target_is_directory=True)
    return "symlink"


def _make_relative_link_escaping(d: Path) -> str:
    (d.parent / "other.bin").write_bytes(b"x")
    (d / "tokenizer" / "link.bin").symlink_to("../../other.bin")
    return "symlink"


def _make_link_inside(d: Path) -> str:
    (d / "alias.json").symlink_to("config.json")
    return "symlink"


@pytest.mark.parametrize(
    "make",
    [_make_fifo, _make_socket, _make_device, _make_link_to_outside_file, _make_link_to_outside_dir,
     _make_relative_link_escaping, _make_link_inside],
)
def test_push_refuses_links_and_special_files_before_uploading(registry, artifact, capsys, make):
    kind = make(artifact)
    code, out, err = run(capsys, "push", "safe", str(artifact))
    assert code == 2 and out == "", err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "refusing to push" in err and kind in err and "nothing was uploaded" in err
    # nothing was uploaded, and no version was allocated
    import boto3

    listing = boto3.client("s3").list_object_versions(Bucket=registry["INFERSTACK_REGISTRY_BUCKET"])
    assert not listing.get("Versions") and not listing.get("DeleteMarkers")
    code, _, err = run(capsys, "list", "safe", "--all")
    assert code == 2 and "no versions" in err


def test_push_accepts_a_model_directory_named_through_a_symlink(registry, artifact, tmp_path, capsys):
    """The directory argument itself may be a link (./model -> /data/llama); links inside it may not."""
    link = tmp_path / "current"
    link.symlink_to(artifact, target_is_directory=True)
    code, out, err = run(capsys, "push", "linked", str(link), "--format", "json")
    assert code == 0, err
    assert {f["path"] for f in json.loads(out)["files"]} == {"config.json", "model.safetensors", "tokenizer/vocab.txt"}


def test_region_from_aws_region_alone(registry, artifact, capsys, monkeypatch):
    """boto3 ignores AWS_REGION; the client passes it explicitly, and prefers it over AWS_DEFAULT_REGION."""
    from inferstack.registry.client import Registry

    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    code, out, err = run(capsys, "push", "regional", str(artifact))
    assert (code, out.strip()) == (0, "1"), err
    reg = Registry.from_env()
    assert reg.region == reg.s3.meta.region_name == reg.ddb.meta.region_name == "eu-west-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-2")
    reg = Registry.from_env()
    assert reg.region == reg.s3.meta.region_name == "eu-west-1"
    monkeypatch.delenv("AWS_REGION")
    assert Registry.from_env().ddb.meta.region_name == "us-east-2"


def test_region_error_names_both_variables(registry_env, capsys, monkeypatch):
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    code, out, err = run(capsys, "list", "llama")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "set AWS_REGION or AWS_DEFAULT_REGION" in err and "neither is set" in err
