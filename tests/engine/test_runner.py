"""The engine's runner and mocks: repository paths, batch GC settings restored, source lookup once per file,
per-cloud output tables."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from pulumi.runtime import mocks as pmocks

from inferstack.engine import DEFAULT_PROGRAM, REPO_ROOT, OfflineMocks, batch_gc, run_program
from inferstack.engine import runner as runner_module
from inferstack.engine.mocks import AWS_RESOURCES, GCP_RESOURCES, INVOKES

REPO = Path(__file__).resolve().parents[2]


def test_repo_root_and_default_program() -> None:
    assert REPO_ROOT == REPO and (REPO_ROOT / "Pulumi.yaml").is_file()
    assert DEFAULT_PROGRAM == REPO / "__main__.py"
    # The installed-wheel fallback (no project files beside the package) is the package's own program.
    assert (Path(runner_module.__file__).resolve().parents[1] / "program.py").is_file()


def test_batch_gc_restores_the_collector() -> None:
    before = gc.get_threshold()
    with batch_gc():
        assert gc.get_threshold()[0] == runner_module.BATCH_GC_THRESHOLD
        assert gc.get_freeze_count() > 0
        with batch_gc():  # nested: the outer settings stay until the outer exit
            pass
        assert gc.get_threshold()[0] == runner_module.BATCH_GC_THRESHOLD
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), batch_gc():
        raise RuntimeError("boom")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_source_files_are_resolved_once_per_file(tmp_path: Path) -> None:
    program = tmp_path / "many.py"
    program.write_text(
        "import pulumi_aws as aws\n"
        "for i in range(20):\n"
        "    aws.sqs.Queue(f'q{i}')\n"
    )
    runner_module._frame_file.cache_clear()
    rec = run_program("t", {"aws:region": "eu-west-1"}, region="eu-west-1", program=program)
    queues = rec.of_type("aws:sqs/queue:Queue")
    assert len(queues) == 20 and {(q.source.file, q.source.line) for q in queues} == {(str(program), 3)}
    info = runner_module._frame_file.cache_info()
    # One file cached, one lookup per resource, nearly all of them hits (registrations run on a few threads, so two
    # may miss at once before the first result is cached).
    assert info.currsize == 1 and info.hits + info.misses == 20 and info.misses < info.hits
    assert gc.get_freeze_count() == 0  # the run restored the collector


def _new(mocks: OfflineMocks, type_token: str, inputs: dict | None = None) -> tuple[str, dict]:
    return mocks.new_resource(pmocks.MockResourceArgs(type_token, "res", inputs or {}, "", "", True))


@pytest.mark.parametrize("type_token", sorted(AWS_RESOURCES))
def test_aws_resources_get_an_id_and_an_arn(type_token: str) -> None:
    rid, out = _new(OfflineMocks("eu-west-1", None, "t"), type_token)
    assert rid and out["arn"].startswith("arn:aws:")


@pytest.mark.parametrize("type_token", sorted(GCP_RESOURCES))
def test_gcp_resources_get_an_id_a_name_and_a_project(type_token: str) -> None:
    rid, out = _new(OfflineMocks("europe-west4", "p", "t"), type_token)
    assert rid and out["project"] == "p" and out["name"]


def test_other_resources_and_kubernetes_objects() -> None:
    m = OfflineMocks("eu-west-1", None, "t")
    rid, out = _new(m, "aws:ec2/vpc:Vpc", {"cidrBlock": "10.0.0.0/16"})
    assert rid.startswith("vpc-") and out["cidrBlock"] == "10.0.0.0/16" and ":vpc/vpc-" in out["arn"]
    rid, out = _new(m, "kubernetes:core/v1:Namespace", {"metadata": {"name": "team-a"}})
    assert rid == "team-a" and out["metadata"]["uid"]
    rid, out = _new(m, "kubernetes:core/v1:ConfigMap", {"metadata": {"namespace": "team-a"}})
    assert rid.startswith("team-a/res-")  # autonamed
    rid, out = _new(m, "random:index/randomId:RandomId", {"byteLength": 4.0})
    assert rid.startswith("res-") and out == {"byteLength": 4.0}


@pytest.mark.parametrize("token", sorted(INVOKES))
def test_invokes_answer(token: str) -> None:
    ret, failures = OfflineMocks("eu-west-1", "p", "t").call(pmocks.MockCallArgs(token, {}, ""))
    assert ret and failures == []
