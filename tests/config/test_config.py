"""Stack config validation: every reference stack is valid; every kind of bad input names its key and what is allowed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from inferstack.cli import main
from inferstack.config import ConfigError, Environment
from inferstack.config.schema import stack_file_schema
from inferstack.load import load_stack, load_stack_file
from tests.conftest import REFERENCE_STACKS, stack_path

BASE_AWS = {
    "aws:region": "eu-west-1",
    "inferstack:cloud": "aws",
    "inferstack:environment": "dev",
    "inferstack:residency": {"allowedRegions": ["eu-west-1"]},
}
BASE_GCP = {
    "gcp:region": "europe-west4",
    "gcp:project": "acme-ml-1",
    "inferstack:cloud": "gcp",
    "inferstack:environment": "dev",
    "inferstack:residency": {"allowedRegions": ["europe-west4"]},
}


def issues_of(config: dict) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        load_stack("t", config)
    return [str(i) for i in exc.value.issues]


@pytest.mark.parametrize("name", REFERENCE_STACKS)
def test_reference_stacks_are_valid(name: str) -> None:
    cfg = load_stack_file(stack_path(name))
    assert cfg.name == name
    assert cfg.region in cfg.settings.residency.allowed_regions
    assert cfg.region.startswith("eu")


def test_prod_and_dev_environments() -> None:
    assert load_stack_file(stack_path("prod")).environment is Environment.PROD
    assert load_stack_file(stack_path("gcp-prod")).is_prod
    assert not load_stack_file(stack_path("dev")).is_prod


def test_structured_values_arrive_as_json_strings() -> None:
    # Pulumi hands structured config to programs as JSON strings; both forms parse the same.
    as_strings = {k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in BASE_AWS.items()}
    assert load_stack("t", as_strings).settings == load_stack("t", BASE_AWS).settings


def test_unknown_top_level_key_lists_allowed_keys() -> None:
    (issue,) = issues_of({**BASE_AWS, "inferstack:acceleratorPool": []})
    assert issue.startswith("inferstack:acceleratorPool: unknown key; allowed: cloud, environment, residency")
    assert "acceleratorPools" in issue


def test_unknown_nested_key_names_full_path() -> None:
    cfg = {**BASE_AWS, "inferstack:acceleratorPools": [{"name": "gpu", "kind": "nvidia-l4", "maxNode": 3}]}
    (issue,) = issues_of(cfg)
    assert issue.startswith("inferstack:acceleratorPools[0].maxNode: unknown key; allowed: name, kind,")
    assert "maxNodes" in issue


def test_unknown_key_in_residency() -> None:
    (issue,) = issues_of({**BASE_AWS, "inferstack:residency": {"allowedRegions": ["eu-west-1"], "strict": True}})
    assert issue == "inferstack:residency.strict: unknown key; allowed: allowedRegions"


def test_wrong_type_names_key_and_value() -> None:
    cfg = {**BASE_AWS, "inferstack:acceleratorPools": [{"name": "gpu", "kind": "nvidia-l4", "maxNodes": "many"}]}
    (issue,) = issues_of(cfg)
    assert issue.startswith("inferstack:acceleratorPools[0].maxNodes: Input should be a valid integer")
    assert '"many"' in issue


def test_bad_enum_lists_allowed_values() -> None:
    (issue,) = issues_of({**BASE_AWS, "inferstack:cloud": "azure"})
    assert issue.startswith("inferstack:cloud: Input should be 'aws' or 'gcp'")
    (issue,) = issues_of({**BASE_AWS, "inferstack:environment": "qa"})
    assert "'dev', 'staging' or 'prod'" in issue


def test_missing_required_keys() -> None:
    cfg = {k: v for k, v in BASE_AWS.items() if k != "inferstack:residency"}
    assert issues_of(cfg) == ["inferstack:residency: required key is missing"]


def test_region_must_be_allowed() -> None:
    (issue,) = issues_of({**BASE_AWS, "aws:region": "us-east-1"})
    assert issue == "aws:region: 'us-east-1' is not in inferstack:residency.allowedRegions; allowed: eu-west-1"


def test_region_required_per_cloud() -> None:
    cfg = {k: v for k, v in BASE_GCP.items() if k not in ("gcp:region", "gcp:project")}
    assert issues_of(cfg) == [
        "gcp:project: required for cloud gcp: the Google Cloud project id",
        "gcp:region: required for cloud gcp; allowed: europe-west4",
    ]


def test_unknown_accelerator_kind() -> None:
    (issue,) = issues_of({**BASE_AWS, "inferstack:acceleratorPools": [{"name": "xx", "kind": "nvidia-b200"}]})
    assert issue.startswith("inferstack:acceleratorPools[0].kind: unknown accelerator kind 'nvidia-b200'; allowed on aws:")
    assert "aws-inferentia2" in issue


def test_kind_not_offered_on_cloud() -> None:
    issues = issues_of({**BASE_GCP, "inferstack:acceleratorPools": [{"name": "xx", "kind": "aws-inferentia2"}]})
    assert issues[0].startswith("inferstack:acceleratorPools[0].kind: accelerator kind 'aws-inferentia2' is not offered on gcp")
    assert "tpu-v5e" in issues[0]


def test_duplicate_pool_and_unknown_model_pool() -> None:
    cfg = {
        **BASE_AWS,
        "inferstack:acceleratorPools": [{"name": "gpu", "kind": "nvidia-l4"}, {"name": "gpu", "kind": "nvidia-t4"}],
        "inferstack:models": [
            {"name": "mm", "namespace": "team-a", "format": "onnx", "registryModel": "m", "version": "1", "pool": "gpux"}
        ],
    }
    issues = issues_of(cfg)
    assert "inferstack:acceleratorPools[1].name: duplicate pool name 'gpu'; pool names must be unique" in issues
    assert any(i.startswith("inferstack:models[0].pool: unknown pool 'gpux'; pools: gpu") for i in issues)


def test_every_error_is_reported_at_once() -> None:
    cfg = {**BASE_AWS, "inferstack:network": {"cidrr": "10.0.0.0/16", "availabilityZones": 9}}
    issues = issues_of(cfg)
    assert len(issues) == 2
    assert any(i.startswith("inferstack:network.cidrr: unknown key") for i in issues)
    assert any(i.startswith("inferstack:network.availabilityZones: Input should be less than or equal to 3") for i in issues)


def _write_stack(tmp_path: Path, config: dict, name: str = "bad") -> Path:
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    return path


def test_cli_bad_config_exits_2_without_traceback_and_writes_nothing(tmp_path: Path) -> None:
    bad = _write_stack(tmp_path, {**BASE_AWS, "inferstack:clusterr": {}})
    out = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, "-m", "inferstack", "preview", "--config", str(bad), "--format", "json", "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"error: invalid stack config {bad}:" in proc.stderr
    assert "inferstack:clusterr: unknown key; allowed:" in proc.stderr
    assert not out.exists()
    assert proc.stdout == ""


def test_cli_unknown_stack_and_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "validate", "--stack", "nope"]) == 2
    err = capsys.readouterr().err
    assert "--stack: no stack 'nope' in " in err and "gcp-prod" in err
    wrong_name = tmp_path / "stack.yaml"
    wrong_name.write_text("config: {}\n")
    assert main(["config", "validate", "--config", str(wrong_name)]) == 2
    assert "stack config files are named Pulumi.<stack>.yaml" in capsys.readouterr().err
    broken = tmp_path / "Pulumi.broken.yaml"
    broken.write_text("config: [unclosed\n")
    assert main(["config", "validate", "--config", str(broken)]) == 2
    assert "not valid YAML" in capsys.readouterr().err


def test_cli_usage_errors_exit_2() -> None:
    proc = subprocess.run([sys.executable, "-m", "inferstack", "preview", "--format", "xml"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == ["error: inferstack preview: argument --format: invalid choice: 'xml' (choose "
                                        "from 'text', 'json') (see inferstack preview --help)"], proc.stderr
    missing = subprocess.run([sys.executable, "-m", "inferstack"], capture_output=True, text=True)
    assert missing.returncode == 2 and missing.stderr.startswith("error: inferstack: the following arguments are "
                                                                  "required: COMMAND") and len(missing.stderr.splitlines()) == 1


def test_program_refuses_bad_config_before_declaring_anything(tmp_path: Path) -> None:
    from inferstack.engine import run_program

    config = {**BASE_AWS, "inferstack:models": [{"name": "m"}]}
    with pytest.raises(Exception) as exc:
        run_program("bad", config, region="eu-west-1")
    assert "inferstack:models[0].namespace: required key is missing" in str(exc.value)


def test_json_schema_accepts_reference_stacks_and_rejects_typos() -> None:
    schema = stack_file_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for name in REFERENCE_STACKS:
        doc = yaml.safe_load(stack_path(name).read_text())
        errors = [e.message for e in validator.iter_errors(doc) if "secure" not in json.dumps(e.instance)]
        assert errors == [], (name, errors)
    bad = {"config": {**BASE_AWS, "inferstack:netwrok": {}}}
    assert list(validator.iter_errors(bad))


def test_config_schema_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    props = schema["properties"]["config"]["properties"]
    assert {"inferstack:cloud", "inferstack:environment", "inferstack:residency", "aws:region", "gcp:project"} <= set(props)
    assert set(schema["properties"]["config"]["required"]) == {"inferstack:cloud", "inferstack:environment", "inferstack:residency"}
