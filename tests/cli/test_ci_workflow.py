""".github/workflows/policy.yml: the offline policy check runs for every stack in stacks/ with a SARIF upload, and the
real `pulumi preview --policy-pack` job is gated on cloud credentials and uses pulumi/actions@v6 inputs only."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from inferstack.cli import main

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "policy.yml"
#: Inputs of pulumi/actions v6 (action.yml of v6.6.1).
PULUMI_ACTION_INPUTS = {
    "command", "stack-name", "pulumi-version", "pulumi-version-file", "work-dir", "comment-on-pr",
    "comment-on-pr-number", "comment-on-summary", "github-token", "cloud-url", "secrets-provider", "parallel",
    "message", "config-map", "expect-no-changes", "diff", "replace", "exclude", "exclude-dependents", "target",
    "target-dependents", "policyPacks", "policyPackConfigs", "refresh", "upsert", "remove", "edit-pr-comment", "color",
    "exclude-protected", "plan", "suppress-outputs", "suppress-progress", "always-include-summary",
    "continue-on-error", "log-verbosity", "log-flow", "debug",
}


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def stacks() -> list[str]:
    return sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in (REPO / "stacks").glob("Pulumi.*.yaml"))


def step_using(job: dict, action: str) -> dict:
    found = [s for s in job["steps"] if str(s.get("uses", "")).startswith(action)]
    assert len(found) == 1, f"expected one step using {action}"
    return found[0]


def check_step(job: dict) -> dict:
    found = [s for s in job["steps"] if "inferstack policy check" in s.get("run", "")]
    assert len(found) == 1
    return found[0]


def test_runs_on_pull_requests() -> None:
    wf = workflow()
    triggers = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` key as True
    assert "pull_request" in triggers


@pytest.mark.parametrize("job", ["policy-check", "pulumi-preview"])
def test_matrix_is_every_stack(job: str) -> None:
    matrix = workflow()["jobs"][job]["strategy"]["matrix"]["stack"]
    assert sorted(matrix) == stacks() and len(set(matrix)) == len(matrix)
    assert stacks(), "stacks/ has stack files"


def test_offline_check_and_sarif_upload() -> None:
    job = workflow()["jobs"]["policy-check"]
    assert job["permissions"]["security-events"] == "write"
    setup = step_using(job, "actions/setup-python@")
    assert str(setup["with"]["python-version"]) == "3.11"
    assert any("pip install -e '.[all]'" in s.get("run", "") for s in job["steps"])
    run = check_step(job)["run"]
    assert "--stack ${{ matrix.stack }}" in run and "--sarif policy-${{ matrix.stack }}.sarif" in run
    upload = step_using(job, "github/codeql-action/upload-sarif@v3")
    assert upload["if"] == "always()"
    assert upload["with"] == {"sarif_file": "policy-${{ matrix.stack }}.sarif", "category": "policy-${{ matrix.stack }}"}
    steps = job["steps"]
    assert steps.index(check_step(job)) < steps.index(upload)


def test_check_command_of_the_workflow_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The workflow's command line, with the matrix value filled in, is a valid invocation that writes the SARIF."""
    run = check_step(workflow()["jobs"]["policy-check"])["run"]
    argv = shlex.split(run.replace("${{ matrix.stack }}", "dev"))
    assert argv[:3] == ["inferstack", "policy", "check"]
    monkeypatch.chdir(tmp_path)  # the SARIF lands here; the stacks are the repository's (the workflow runs at its root)
    monkeypatch.setenv("INFERSTACK_STACKS_DIR", str(REPO / "stacks"))
    assert main(argv[1:]) == 0
    assert (tmp_path / "policy-dev.sarif").is_file()


def test_real_preview_is_gated_and_uses_the_pack() -> None:
    job = workflow()["jobs"]["pulumi-preview"]
    assert "vars.INFERSTACK_CLOUD_PREVIEW" in job["if"]
    assert job["permissions"]["id-token"] == "write"
    step = step_using(job, "pulumi/actions@v6")
    inputs = step["with"]
    assert set(inputs) <= PULUMI_ACTION_INPUTS, set(inputs) - PULUMI_ACTION_INPUTS
    assert inputs["command"] == "preview"
    assert inputs["stack-name"] == "${{ matrix.stack }}"
    assert inputs["policyPacks"] == "policies"
    assert inputs["policyPackConfigs"] == "policies/config/${{ matrix.stack }}.json"
    for stack in job["strategy"]["matrix"]["stack"]:
        assert (REPO / inputs["policyPackConfigs"].replace("${{ matrix.stack }}", stack)).is_file()
    assert (REPO / inputs["policyPacks"] / "PulumiPolicy.yaml").is_file()
