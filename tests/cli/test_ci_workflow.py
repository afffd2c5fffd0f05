""".github/workflows/policy.yml: the offline policy check runs for every stack in stacks/; its SARIF upload is guarded
(the file exists: exit 2 writes none; not from forks; private repositories only when code scanning is on); the real
`pulumi preview --policy-pack` job is gated, logs into a backend with a passphrase / secrets provider and names stacks
org/project/stack, with pulumi/actions@v6 inputs only. actionlint (pinned) lints it and docs/ci.md's team workflow."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from inferstack.cli import main

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "policy.yml"
CI_DOC = REPO / "docs" / "ci.md"
#: actionlint is a Go program (not on PyPI as a package that installs offline): pinned here, installed with
#: `go install github.com/rhysd/actionlint/cmd/actionlint@<version>` into $(go env GOPATH)/bin, or named by $ACTIONLINT.
ACTIONLINT_VERSION = "1.7.12"
ACTIONLINT_INSTALL = f"go install github.com/rhysd/actionlint/cmd/actionlint@v{ACTIONLINT_VERSION}"
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
    wf = workflow()
    assert wf["permissions"] == {"contents": "read"}  # the default of every job
    job = wf["jobs"]["policy-check"]
    assert job["permissions"] == {"contents": "read", "security-events": "write", "actions": "read"}
    setup = step_using(job, "actions/setup-python@")
    assert str(setup["with"]["python-version"]) == "3.11"
    assert any("pip install -e '.[all]'" in s.get("run", "") for s in job["steps"])
    run = check_step(job)["run"]
    assert "--stack ${{ matrix.stack }}" in run and "--sarif policy-${{ matrix.stack }}.sarif" in run
    upload = step_using(job, "github/codeql-action/upload-sarif@v4")
    assert upload["with"] == {"sarif_file": "policy-${{ matrix.stack }}.sarif", "category": "policy-${{ matrix.stack }}"}
    guard = " ".join(upload["if"].split())
    assert guard.startswith("always()")
    # Exit 2 writes no SARIF: the upload runs only when the file exists.
    assert "hashFiles(format('policy-{0}.sarif', matrix.stack)) != ''" in guard
    # Not from a fork's pull request (read-only token), and in a private repository only with code scanning on.
    assert "github.event.pull_request.head.repo.full_name == github.repository" in guard
    assert "!github.event.repository.private || vars.INFERSTACK_CODE_SCANNING == 'true'" in guard
    keep = step_using(job, "actions/upload-artifact@")
    assert keep["if"] == "always()" and keep["with"]["if-no-files-found"] == "ignore"
    steps = job["steps"]
    assert steps.index(check_step(job)) < steps.index(keep) < steps.index(upload)


def test_a_config_error_writes_no_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Exit 2 leaves no SARIF behind: the reason the upload is guarded by hashFiles, not by always() alone."""
    run = check_step(workflow()["jobs"]["policy-check"])["run"]
    argv = shlex.split(run.replace("${{ matrix.stack }}", "no-such-stack"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INFERSTACK_STACKS_DIR", str(REPO / "stacks"))
    assert main(argv[1:]) == 2
    assert list(tmp_path.iterdir()) == []


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
    assert "vars.INFERSTACK_CLOUD_PREVIEW == 'true'" in job["if"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]  # no secrets in forks
    assert job["permissions"]["id-token"] == "write"
    step = step_using(job, "pulumi/actions@v6")
    inputs = step["with"]
    assert set(inputs) <= PULUMI_ACTION_INPUTS, set(inputs) - PULUMI_ACTION_INPUTS
    assert inputs["command"] == "preview"
    # org/project/stack: the project is the Pulumi.yaml's name.
    project = yaml.safe_load((REPO / "Pulumi.yaml").read_text())["name"]
    assert inputs["stack-name"] == f"${{{{ vars.PULUMI_ORG || 'organization' }}}}/{project}/${{{{ matrix.stack }}}}"
    # A backend to log into, and what decrypts the stacks' secrets.
    assert inputs["cloud-url"] == "${{ vars.PULUMI_BACKEND_URL }}"
    assert job["env"]["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}"
    assert job["env"]["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"
    assert inputs["secrets-provider"] == "${{ vars.PULUMI_SECRETS_PROVIDER || 'passphrase' }}"
    assert any("encryptionsalt:" in p.read_text() for p in (REPO / "stacks").glob("Pulumi.*.yaml"))
    assert inputs["policyPacks"] == "policies"
    assert inputs["policyPackConfigs"] == "policies/config/${{ matrix.stack }}.json"
    for stack in job["strategy"]["matrix"]["stack"]:
        assert (REPO / inputs["policyPackConfigs"].replace("${{ matrix.stack }}", stack)).is_file()
    assert (REPO / inputs["policyPacks"] / "PulumiPolicy.yaml").is_file()


def _actionlint() -> str:
    found = os.environ.get("ACTIONLINT") or shutil.which("actionlint")
    gopath = Path(os.environ.get("GOPATH") or Path.home() / "go")
    if not found and (gopath / "bin" / "actionlint").is_file():
        found = str(gopath / "bin" / "actionlint")
    if not found:
        pytest.skip(f"actionlint is not installed: {ACTIONLINT_INSTALL}")
    version = subprocess.run([found, "-version"], capture_output=True, text=True, timeout=30).stdout.split()
    assert version and version[0] == f"v{ACTIONLINT_VERSION}", f"{found} is {version[:1]}; pinned: {ACTIONLINT_INSTALL}"
    return found


def team_workflow() -> str:
    text = CI_DOC.read_text()
    block = re.search(r"<!-- team-workflow:start -->\n```yaml\n(.*?)```\n<!-- team-workflow:end -->", text, re.S)
    assert block, "docs/ci.md: the team workflow block"
    return block.group(1)


def test_actionlint_finds_nothing(tmp_path: Path) -> None:
    """actionlint (with shellcheck for the run: scripts when installed) on the workflow and on docs/ci.md's team one."""
    tool = _actionlint()
    team = tmp_path / ".github" / "workflows" / "team-policy.yml"
    team.parent.mkdir(parents=True)
    team.write_text(team_workflow())
    for path in (WORKFLOW, team):
        proc = subprocess.run([tool, "-no-color", str(path)], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_team_workflow_check_runs_on_a_team_program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/ci.md's team workflow command, in a team repository laid out as the page says (a corpus program, its stack
    file with no inferstack: keys, policy/prod.json generated by `inferstack policy config --stack prod`)."""
    steps = yaml.safe_load(team_workflow())["jobs"]["policy-check"]["steps"]
    (run,) = [s["run"] for s in steps if "inferstack policy check" in s.get("run", "")]
    corpus = REPO / "tests" / "programs" / "corpus" / "secrets_manager"
    for name in ("__main__.py", "Pulumi.yaml", "Pulumi.dev.yaml"):
        shutil.copy(corpus / name, tmp_path / name)
    pack = json.loads((REPO / "policies" / "config" / "prod.json").read_text())
    region = yaml.safe_load((corpus / "Pulumi.dev.yaml").read_text())["config"]["aws:region"]
    pack["region-residency"]["allowedRegions"] = pack["replica-residency"]["allowedRegions"] = [region]
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy" / "prod.json").write_text(json.dumps(pack))
    monkeypatch.chdir(tmp_path)
    argv = shlex.split(run)
    assert argv[:3] == ["inferstack", "policy", "check"]
    assert main(argv[1:]) in (0, 1)
    assert (tmp_path / "policy.sarif").is_file() and (tmp_path / "policy.json").is_file()
