"""policies/pack_file.py: a --policy-pack-config file read for the offline check (settings from the file, levels from
the environment where the file gives none), every bad key named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from inferstack.config.base import Environment
from inferstack.config.policy import PolicySettings
from inferstack.policies.pack import ENTRIES, POLICY_NAMES, pack_config
from inferstack.policies.pack_file import PackFileError, effective_pack_config, read_pack_file

REPO = Path(__file__).resolve().parents[2]
RESIDENCY = {"region-residency": {"allowedRegions": ["eu-west-1"]}}


def error_of(doc, environment=None) -> PackFileError:
    with pytest.raises(PackFileError) as info:
        effective_pack_config(doc, environment)
    return info.value


@pytest.mark.parametrize(("doc", "env", "key", "says"), [
    ([], "dev", "--policy-config", "JSON object"),
    ({"region-residensy": {"allowedRegions": ["eu-west-1"]}}, "dev", "region-residensy", "did you mean region-residency"),
    ({**RESIDENCY, "all": "strict"}, "dev", "all", "allowed: advisory, mandatory, remediate, disabled"),
    ({**RESIDENCY, "s3-tls-only": "blocking"}, "dev", "s3-tls-only", "not an enforcement level"),
    ({**RESIDENCY, "s3-tls-only": {"enforcementLevel": 1}}, "dev", "s3-tls-only.enforcementLevel", "allowed:"),
    ({**RESIDENCY, "s3-tls-only": 3}, "dev", "s3-tls-only", "expected an enforcement level or an object"),
    ({**RESIDENCY, "no-public-load-balancers": {"allowPublicLoadBalancers": "no"}}, "dev",
     "no-public-load-balancers.allowPublicLoadBalancers", "expected a boolean"),
    ({**RESIDENCY, "no-public-load-balancers": {"allowPublic": True}}, "dev", "no-public-load-balancers.allowPublic",
     "allowed: enforcementLevel, allowPublicLoadBalancers"),
    ({"region-residency": {"allowedRegions": "eu-west-1"}}, "dev", "region-residency.allowedRegions", "expected an array"),
    ({"region-residency": {"allowedRegions": [1]}}, "dev", "region-residency.allowedRegions", "item 0: expected a string"),
    ({"region-residency": {"allowedRegions": []}}, "dev", "region-residency.allowedRegions", "at least one region"),
    ({"s3-tls-only": "mandatory"}, "dev", "region-residency.allowedRegions", "required"),
    (RESIDENCY, None, "--environment", "required when the policy config names no environment"),
    (RESIDENCY, "qa", "--environment", "allowed: dev, staging, prod"),
    ({**RESIDENCY, "cloudwatch-logs-retention": {"environment": "prod"}}, "dev", "cloudwatch-logs-retention.environment",
     "--environment dev"),
    ({**RESIDENCY, "cloudwatch-logs-retention": {"environment": "production"}}, None,
     "cloudwatch-logs-retention.environment", "allowed: dev, staging, prod"),
    ({**RESIDENCY, "cloudwatch-logs-retention": {"environment": "prod"}, "prod-stateful-protected": {"environment": "dev"}},
     None, "prod-stateful-protected.environment", "one file is one environment"),
    ({**RESIDENCY, "opaque-resources-reviewed": {"reviewedResources": {"x:y:Z::a": ""}}}, "dev",
     "opaque-resources-reviewed.reviewedResources", "must not be empty"),
])
def test_bad_files_name_the_key(doc, env, key, says) -> None:
    err = error_of(doc, env)
    assert err.key == key, err
    assert says in err.message, err


def test_read_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(PackFileError, match="no such file"):
        read_pack_file(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{\"a\": ")
    with pytest.raises(PackFileError, match=r"not JSON \(line 1"):
        read_pack_file(bad)


@pytest.mark.parametrize("stack", ["dev", "staging", "prod", "gcp-dev", "gcp-prod"])
def test_generated_files_are_taken_as_they_are(stack: str) -> None:
    """A file `inferstack policy config` wrote is complete: the check runs it unchanged, whatever --environment
    (which must agree with its environment settings)."""
    doc = json.loads((REPO / "policies" / "config" / f"{stack}.json").read_text())
    envs = {v["environment"] for v in doc.values() if isinstance(v, dict) and "environment" in v}
    (env,) = envs
    got = effective_pack_config(doc)
    assert got.config == doc and got.environment == Environment(env) and not got.unlevelled
    assert effective_pack_config(doc, env).config == doc


def test_levels_from_the_environment_settings_from_the_file() -> None:
    doc = {"region-residency": {"allowedRegions": ["eu-west-1", "eu-central-1"]},
           "no-public-load-balancers": {"allowPublicLoadBalancers": True},
           "s3-tls-only": "advisory"}
    dev, prod = effective_pack_config(doc, "dev"), effective_pack_config(doc, "prod")
    assert set(dev.config) == set(POLICY_NAMES)
    for e in ENTRIES:
        if e.name not in doc:
            assert dev.config[e.name]["enforcementLevel"] == e.level("dev")
            assert prod.config[e.name]["enforcementLevel"] == e.level("prod")
    assert dev.config["s3-tls-only"]["enforcementLevel"] == prod.config["s3-tls-only"]["enforcementLevel"] == "advisory"
    assert prod.config["replica-residency"]["allowedRegions"] == ["eu-west-1", "eu-central-1"]
    assert prod.config["cloudwatch-logs-retention"]["environment"] == "prod"
    assert prod.config["no-public-load-balancers"]["allowPublicLoadBalancers"] is True
    # Settings without a level: pulumi preview would take them as advisory; the CLI warns (see test_program_mode).
    assert prod.unlevelled == ("region-residency", "no-public-load-balancers")
    assert prod.config["no-public-load-balancers"]["enforcementLevel"] == "mandatory"


def test_all_sets_every_level_and_a_policy_entry_overrides_it() -> None:
    got = effective_pack_config({**RESIDENCY, "all": "advisory", "s3-tls-only": "mandatory"}, "prod").config
    assert {v["enforcementLevel"] for k, v in got.items() if k != "s3-tls-only"} == {"advisory"}
    assert got["s3-tls-only"]["enforcementLevel"] == "mandatory"


def test_same_as_the_stack_pack_config() -> None:
    """For a stack's settings, FILE = its residency alone gives the pack config the stack itself gives."""
    settings = PolicySettings(environment=Environment.STAGING, allowed_regions=("eu-west-1",))
    doc = {"region-residency": {"enforcementLevel": "mandatory", "allowedRegions": ["eu-west-1"]}}
    assert effective_pack_config(doc, "staging").config == pack_config(settings)


# --- `inferstack policy config --environment E --allowed-region R --out FILE`: a team's file without a stack file ---

def _config_cmd(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "inferstack", "policy", "config", *args], capture_output=True,
                          text=True, cwd=cwd)


@pytest.mark.parametrize(("args", "says"), [
    (["--environment", "prod"], "--environment needs --allowed-region"),
    (["--allowed-region", "eu-west-1"], "--allowed-region needs --environment"),
    (["--environment", "prod", "--allowed-region", "eu-west-1", "--stack", "dev"], "--environment and --stack"),
    (["--environment", "prod", "--allowed-region", "eu-west-1", "--write"], "--write writes a reference stack's file"),
    (["--environment", "prod", "--allowed-region", " "], "--allowed-region: ' ' is not a region name"),
    (["--stack", "dev", "--out", "x.json", "--write"], "--out and --write"),
])
def test_team_pack_config_bad_arguments(tmp_path: Path, args: list[str], says: str) -> None:
    out = [] if "--out" in args or "--write" in args else ["--out", str(tmp_path / "out" / "p.json")]
    proc = _config_cmd(*args, *out, cwd=REPO)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and says in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists()


def test_team_pack_config_is_the_stack_shape(tmp_path: Path) -> None:
    """The file a team writes without a stack file is the one its environment's stack would get, and the check takes
    it unchanged."""
    out = tmp_path / "policy" / "prod.json"
    proc = _config_cmd("--environment", "prod", "--allowed-region", "eu-west-1", "--allowed-region", "eu-central-1",
                       "--out", str(out), cwd=tmp_path)  # no stacks/ here
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert doc == pack_config(PolicySettings(environment=Environment.PROD, allowed_regions=("eu-west-1", "eu-central-1")))
    got = effective_pack_config(doc)
    assert got.config == doc and got.environment == Environment.PROD and not got.unlevelled
