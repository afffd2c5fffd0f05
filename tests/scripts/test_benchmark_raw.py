"""The benchmark's baseline (scripts/raw_program.py): the raw Pulumi program generated from a stack's recording
declares what the inferstack program declares. Correctness only: the benchmark prints the timings, no test
asserts them."""

from __future__ import annotations

import importlib.util

import pytest

from inferstack.engine import Recording, run_program
from inferstack.engine.wire import redact
from tests.conftest import REPO, recording, stack_config


def _load_raw_program():
    spec = importlib.util.spec_from_file_location("raw_program", REPO / "scripts" / "raw_program.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


raw_program = _load_raw_program()


@pytest.fixture(scope="module")
def dev_raw(tmp_path_factory: pytest.TempPathFactory) -> tuple[Recording, Recording, str]:
    cfg = stack_config("dev")
    original = recording("dev")
    program = raw_program.write_program(original, tmp_path_factory.mktemp("raw-dev"))
    raw = run_program(cfg.name, dict(cfg.values), region=cfg.region, project=cfg.project, program=program,
                      secret_keys=cfg.secret_keys)
    return original, raw, program.read_text()


def test_raw_program_declares_the_same_urns_and_types(dev_raw: tuple[Recording, Recording, str]) -> None:
    original, raw, _ = dev_raw
    assert sorted((r.urn, r.type) for r in raw.resources) == sorted((r.urn, r.type) for r in original.resources)


def test_raw_program_keeps_parents_providers_inputs_and_dependencies(dev_raw: tuple[Recording, Recording, str]) -> None:
    original, raw, _ = dev_raw
    by_urn = {r.urn: r for r in raw.resources}
    for r in original.resources:
        twin = by_urn[r.urn]
        assert (twin.parent, twin.provider, twin.custom) == (r.parent, r.provider, r.custom), r.urn
        assert redact(twin.inputs) == redact(r.inputs), r.urn
        assert set(twin.dependencies) == set(r.dependencies), r.urn
        assert {k: set(v) for k, v in twin.property_dependencies.items() if v} == {
            k: set(v) for k, v in r.property_dependencies.items() if v
        }, r.urn
        assert (twin.protect, twin.retain_on_delete) == (r.protect, r.retain_on_delete), r.urn


def test_raw_program_uses_the_sdk_classes_and_imports(dev_raw: tuple[Recording, Recording, str]) -> None:
    _, _, source = dev_raw
    assert "import pulumi_aws\n" in source and "import pulumi_kubernetes\n" in source
    assert "pulumi_aws.eks.Cluster(" in source
    assert "= pulumi.CustomResource(" not in source  # every type of the dev stack has an SDK class
    # Kueue's WorkloadPriorityClasses (fields beside metadata, no spec): the SDK's CustomResource through its subclass.
    assert "class _TopLevelCustomResource(pulumi_kubernetes.apiextensions.CustomResource):" in source
    assert source.count("= _TopLevelCustomResource('kubernetes:kueue.x-k8s.io/v1beta2:WorkloadPriorityClass', ") == 3
    assert "import inferstack" not in source and "from inferstack" not in source  # no inferstack code runs
