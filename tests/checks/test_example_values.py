"""Example values (documentation account, domains, networks, the reference stacks' reservation ids): found by a pure
function, refused under the real engine only; the offline engine keeps running the reference stacks as they are."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from inferstack.checks.example_values import (
    EXAMPLE_RESERVATION_IDS,
    check_example_values,
    example_reason,
    example_values,
    refuse_example_values,
    under_real_engine,
)
from inferstack.config import ConfigError
from inferstack.load import load_stack_file

REPO = Path(__file__).resolve().parents[2]
STACKS = sorted((REPO / "stacks").glob("Pulumi.*.yaml"))


@pytest.mark.parametrize("value, reason", [
    ("arn:aws:iam::123456789012:role/ci", "123456789012"),
    ("123456789012", "123456789012"),
    ("group:ml-release@example.com", "example.com"),
    ("user:ops@EXAMPLE.ORG", "example.org"),
    ("models.example.net", "example.net"),
    ("https://example.com/hook", "example.com"),
    ("cr-0a1b2c3d4e5f60718", "reservation"),
    ("inferstack-prod-l4", "reservation"),
    ("192.0.2.0/24", "192.0.2.0/24"),
    ("198.51.100.7", "198.51.100.0/24"),
    ("203.0.113.128/25", "203.0.113.0/24"),
])
def test_example_values_are_recognised(value: str, reason: str) -> None:
    got = example_reason(value)
    assert got is not None and reason in got, (value, got)


@pytest.mark.parametrize("value", [
    "arn:aws:iam::210987654321:role/ci", "1234567890123", "group:ml@acme.com", "myexample.com", "example.com.au",
    "counterexample.org", "0.0.0.0/0", "192.0.0.0/16", "10.30.0.0/16", "203.0.114.0/24", "cr-0123456789abcdef0",
    "inferstack:platform-admins", "eu-central-1",
])
def test_real_looking_values_pass(value: str) -> None:
    assert example_reason(value) is None, value


def test_example_values_names_each_key_path_and_value() -> None:
    settings = {
        "registry": {"writerPrincipals": ["arn:aws:iam::210987654321:role/a", "group:x@example.com"]},
        "cluster": {"endpoint": {"publicAccessCidrs": ["198.51.100.0/24", "0.0.0.0/0"]}},
        "acceleratorPools": [{"ladder": [{"reservations": [{"id": "cr-0a1b2c3d4e5f60718"}]}]}],
    }
    others = {"aws:region": "eu-central-1", "byo-eks:kmsKeyArn": "arn:aws:kms:eu-central-1:123456789012:key/k",
              "app:token": {"secure": "v1:123456789012"}}
    got = [(path, value) for path, value, _ in example_values(settings, others)]
    assert got == [
        ("inferstack:registry.writerPrincipals[1]", "group:x@example.com"),
        ("inferstack:cluster.endpoint.publicAccessCidrs[0]", "198.51.100.0/24"),
        ("inferstack:acceleratorPools[0].ladder[0].reservations[0].id", "cr-0a1b2c3d4e5f60718"),
        ("byo-eks:kmsKeyArn", "arn:aws:kms:eu-central-1:123456789012:key/k"),
    ]


def test_reservation_ids_are_those_of_the_reference_stacks() -> None:
    """EXAMPLE_RESERVATION_IDS is what stacks/ holds (a new example reservation id must be added there)."""
    found = set()
    for f in STACKS:
        for pool in yaml.safe_load(f.read_text())["config"].get("inferstack:acceleratorPools", []):
            for tier in pool.get("ladder", []):
                found |= {r["id"] for r in tier.get("reservations", [])}
    assert found == EXAMPLE_RESERVATION_IDS


def test_reference_prod_stacks_name_their_example_values() -> None:
    prod = check_example_values(load_stack_file(REPO / "stacks" / "Pulumi.prod.yaml"))
    assert [i.path for i in prod] == [
        "inferstack:acceleratorPools[0].ladder[0].reservations[0].id", "inferstack:registry.writerPrincipals[0]"]
    assert "cr-0a1b2c3d4e5f60718" in str(prod[0]) and "arn:aws:iam::123456789012:role/" in str(prod[1])
    gcp = check_example_values(load_stack_file(REPO / "stacks" / "Pulumi.gcp-prod.yaml"))
    assert "group:ml-release@example.com" in str(gcp[-1])


def test_refused_under_the_real_engine_only() -> None:
    cfg = load_stack_file(REPO / "stacks" / "Pulumi.prod.yaml")
    refuse_example_values(cfg, real_engine=False)  # offline: accepted
    with pytest.raises(ConfigError) as err:
        refuse_example_values(cfg, real_engine=True)
    text = str(err.value)
    assert text.count("\n") == 2  # one error, one line per key
    assert "inferstack:registry.writerPrincipals[0]: 'arn:aws:iam::123456789012:role/" in text
    assert "inferstack:acceleratorPools[0].ladder[0].reservations[0].id: 'cr-0a1b2c3d4e5f60718'" in text


def test_no_engine_is_not_the_real_engine() -> None:
    assert under_real_engine() is False


def test_offline_engine_is_not_the_real_engine_and_runs_the_reference_stack(tmp_path: Path) -> None:
    """The offline engine (mock runtime, RecordingMonitor) runs the program: under_real_engine() is False there, and
    prod, with its example values, still previews."""
    from inferstack.engine.runner import run_program, run_stack

    probe = tmp_path / "__main__.py"
    probe.write_text("import pulumi\nfrom inferstack.checks.example_values import under_real_engine\n"
                     "pulumi.export('real', under_real_engine())\n")
    assert run_program("dev", {}, region="eu-central-1", program=probe).outputs["real"] is False
    recording = run_stack(load_stack_file(REPO / "stacks" / "Pulumi.prod.yaml"))
    assert len(recording.resources) > 100


def test_program_under_a_real_engine_monitor_fails_naming_each_key(tmp_path: Path) -> None:
    """The program as the language host starts it (``pulumi.runtime.configure(Settings(monitor=<address>))``, config
    from PULUMI_CONFIG): it fails with one RunError naming every example value before it registers anything, so
    the unreachable monitor address is never dialled."""
    config = yaml.safe_load((REPO / "stacks" / "Pulumi.prod.yaml").read_text())["config"]
    env_config = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items() if "secure" not in str(v)}
    env_config["inferstack-secrets:hfToken"] = "a decrypted token"
    code = textwrap.dedent("""
        import json, sys
        import pulumi, pulumi.runtime
        pulumi.runtime.configure(pulumi.runtime.Settings(project="inferstack", stack="prod", monitor="127.0.0.1:9",
                                                         dry_run=True))
        from inferstack.checks.example_values import under_real_engine
        from inferstack.program import main
        assert under_real_engine()
        try:
            main()
        except pulumi.RunError as err:
            print(json.dumps(str(err)))
            sys.exit(0)
        sys.exit("the program ran on")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "PULUMI_CONFIG": json.dumps(env_config),
                               "PULUMI_CONFIG_SECRET_KEYS": json.dumps(["inferstack-secrets:hfToken"])})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    message = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "example values cannot be deployed" in message
    assert "inferstack:registry.writerPrincipals[0]: 'arn:aws:iam::123456789012:role/inferstack-ci-model-publisher'" in message
    assert "inferstack:acceleratorPools[0].ladder[0].reservations[0].id: 'cr-0a1b2c3d4e5f60718'" in message


def test_e2e_reference_stacks_on_the_real_engine_carry_no_example_value() -> None:
    """tests/e2e/test_pulumi_byo_stacks runs each reference stack's serving layer with the real CLI: the stack it
    deploys has none (the example reservation ids replaced); with them kept, prod and gcp-prod would be refused."""
    from inferstack.load import load_stack
    from tests.e2e.test_pulumi_byo_stacks import byo_config

    for f in STACKS:
        stack = f.name[len("Pulumi."):-len(".yaml")]
        assert check_example_values(load_stack(stack, byo_config(f, "apiVersion: v1"))) == [], stack
        kept = check_example_values(load_stack(stack, byo_config(f, "apiVersion: v1", keep_examples=True)))
        assert bool(kept) == (stack in ("prod", "gcp-prod")), (stack, kept)
