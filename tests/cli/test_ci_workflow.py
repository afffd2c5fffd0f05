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
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from inferstack.cli import main

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "policy.yml"
CI_DOC = REPO / "docs" / "ci.md"
#: actionlint is a Go program, pinned by the wrapper module tools/actionlint (go.mod/go.sum): `bash
#: tools/actionlint/build.sh` builds it into .tools/bin (.ci/run does); $ACTIONLINT, PATH or $(go env GOPATH)/bin also do.
ACTIONLINT_VERSION = "1.7.12"
ACTIONLINT_INSTALL = "bash tools/actionlint/build.sh (Go needed; shellcheck from Debian checks the run: scripts)"


def test_actionlint_pin_is_the_wrapper_modules() -> None:
    mod = (REPO / "tools" / "actionlint" / "go.mod").read_text()
    assert f"require github.com/rhysd/actionlint v{ACTIONLINT_VERSION}" in mod or (
        f"github.com/rhysd/actionlint v{ACTIONLINT_VERSION}" in mod)
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


@pytest.mark.parametrize("job", ["policy-check"])
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
    # The team's own stacks (the reference stacks' example values are refused by the real engine), each judged with the
    # pack config the step before generates from its own file.
    assert job["strategy"]["matrix"]["stack"] == "${{ fromJSON(vars.INFERSTACK_PREVIEW_STACKS) }}"
    assert "vars.INFERSTACK_PREVIEW_STACKS != ''" in job["if"]
    assert inputs["policyPackConfigs"] == "policy-config-${{ matrix.stack }}.json"
    assert "policy-config-$STACK.json" in stack_step(job)["run"]
    assert (REPO / inputs["policyPacks"] / "PulumiPolicy.yaml").is_file()


def _actionlint() -> str:
    found = os.environ.get("ACTIONLINT") or shutil.which("actionlint")
    gopath = Path(os.environ.get("GOPATH") or Path.home() / "go")
    for candidate in (REPO / ".tools" / "bin" / "actionlint", gopath / "bin" / "actionlint"):
        if not found and candidate.is_file():
            found = str(candidate)
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


def stack_step(job: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in job["steps"] if s.get("id") == "stack")


@pytest.mark.parametrize(("init", "cloud", "region"), [
    (["--cloud", "aws", "--environment", "prod", "--stack", "acme-prod", "--region", "eu-west-1",
      "--writer-principal", "arn:aws:iam::210987654321:role/ml-publisher"], "aws", "eu-west-1"),
    (["--cloud", "gcp", "--environment", "dev", "--stack", "acme-dev", "--project", "acme-ml",
      "--writer-principal", "group:ml-release@acme.io", "--public-access-cidr", "81.2.69.0/24"], "gcp", ""),
])
def test_preview_job_stack_step_runs_on_an_init_written_stack(init: list[str], cloud: str, region: str, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The preview job's per-stack step, run with bash in a repository holding a stack `inferstack init` wrote: it
    writes the stack's pack config (the document `policy config` gives that file) and names the stack's cloud."""
    shutil.copy(REPO / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    monkeypatch.chdir(tmp_path)
    stack = init[init.index("--stack") + 1]
    if cloud == "aws":  # the reference prod stack's reservation: the user's own
        init += ["--reservation", "gpu-l4=cr-0fedcba9876543210@eu-west-1a"]
    assert main(["init", *init]) == 0
    # As the team commits it after `pulumi config set --secret` (a secure value in the file).
    stack_file = tmp_path / "stacks" / f"Pulumi.{stack}.yaml"
    doc = yaml.safe_load(stack_file.read_text())
    doc["config"]["inferstack-secrets:hfToken"] = {"secure": "v1:set-by-pulumi"}
    stack_file.write_text(yaml.safe_dump(doc, sort_keys=False))
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "bin" / "inferstack").symlink_to(Path(sys.executable).parent / "inferstack")
    out = tmp_path / "github-output"
    env = {**os.environ, "STACK": stack, "GITHUB_OUTPUT": str(out), "INFERSTACK_STACKS_DIR": str(tmp_path / "stacks")}
    step = stack_step(workflow()["jobs"]["pulumi-preview"])
    proc = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    outputs = dict(line.split("=", 1) for line in out.read_text().splitlines())
    assert outputs["cloud"] == cloud and outputs.get("region", "") == region
    assert main(["policy", "config", "--config", str(tmp_path / "stacks" / f"Pulumi.{stack}.yaml"),
                 "--out", str(tmp_path / "expected.json")]) == 0
    assert json.loads((tmp_path / f"policy-config-{stack}.json").read_text()) == json.loads(
        (tmp_path / "expected.json").read_text())
