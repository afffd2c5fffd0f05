"""Run the real Pulumi CLI offline: local file backend, a passphrase, no update checks, no plugin downloads.

    tools = pulumi_tools()                      # the CLI, its Python language host, the Kubernetes plugin
    ws = Workspace(tools, tmp_path)             # PULUMI_HOME, file:// backend and passphrase under tmp_path
    project = write_project(tmp_path / "prog", "e2e-k8s", PROGRAM)
    ws.run("stack", "init", "e2e", cwd=project)
    ws.run("config", "set", "--secret", "kubeconfig", text, cwd=project)
    ws.up(project); ws.preview(project, "--expect-no-changes")

Where the tools come from (``tests/e2e/tools.py``: ``$KUBEBUILDER_ASSETS``, ``.tools/bin``, PATH):

- ``pulumi``: `make tools` builds it (tools/pulumi). Missing: the test fails, telling to run `make tools`.
- ``pulumi-language-python`` with ``pulumi-language-python-exec`` beside it: tools/pulumi-language-python builds it
  when the Go module proxy serves the host's module. The proxy used here does not; then build.sh writes the command
  and the proxy's answer to ``.tools/blocked/pulumi-language-python.txt`` and the Pulumi tests *skip* with that text
  (pytest -ra prints it): every Pulumi program and Python policy pack runs through this host, so nothing of the
  Pulumi part can run without it. Missing without that file: fail, run `make tools`.
- the Kubernetes provider: `make tools` registers ``pulumi-resource-kubernetes`` as plugin
  ``resource-kubernetes-v<the SDK's pinned version>`` in ``.tools/pulumi-home/plugins``; each workspace's
  PULUMI_HOME links that plugins directory (nothing is downloaded: PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION).

Ambient plugins: when the language host sits beside ``pulumi`` (the CLI's "bundled" lookup finds it there),
PULUMI_IGNORE_AMBIENT_PLUGINS is set so that the provider comes from the plugin cache, not from ``.tools/bin`` on
PATH. A host taken from PATH instead needs the ambient lookup: then only the host's directory is put on PATH.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.tools import REPO, find_tool, tool_path

VENV = REPO / ".venv"
#: Where tools/pulumi-kubernetes/build.sh registers the provider plugin ($INFERSTACK_PULUMI_HOME, as there).
PULUMI_HOME_TOOLS = Path(os.environ.get("INFERSTACK_PULUMI_HOME") or REPO / ".tools" / "pulumi-home")
BLOCKED_LANGUAGE_HOST = REPO / ".tools" / "blocked" / "pulumi-language-python.txt"
#: The passphrase of the reference stacks' sample secure values (their encryptionsalt); new stacks use it too.
PASSPHRASE = "inferstack-reference-stacks"
#: Seconds one pulumi command may take (an `up` against the local API server takes a few seconds).
TIMEOUT = 600


def pinned_version(package: str) -> str:
    """The ``package==X`` pin of pyproject.toml (``pulumi-kubernetes`` -> ``4.34.2``)."""
    text = (REPO / "pyproject.toml").read_text()
    match = re.search(rf'"{re.escape(package)}==([0-9][0-9.]*)"', text)
    if not match:
        raise AssertionError(f"no {package}==<version> pin in pyproject.toml")
    return match.group(1)


@dataclass(frozen=True)
class PulumiTools:
    pulumi: Path
    #: None: CLI-only commands (config, stack) that run no program.
    language_host: Path | None = None
    #: The plugins directory holding resource-kubernetes-v<version> (None: no plugin needed).
    plugins: Path | None = None
    kubernetes_version: str = ""

    @property
    def host_is_bundled(self) -> bool:
        return self.language_host is None or self.language_host.parent.resolve() == self.pulumi.parent.resolve()


def cli_tools() -> PulumiTools:
    """The CLI alone (fails when not built): enough for `pulumi stack init` and `pulumi config`."""
    return PulumiTools(pulumi=tool_path("pulumi"))


def pulumi_tools() -> PulumiTools:
    """The Pulumi tools, or skip (language host not buildable here, with the proxy's answer) / fail (not built)."""
    pulumi = tool_path("pulumi")
    host = find_tool("pulumi-language-python")
    if host is None or not (host.parent / "pulumi-language-python-exec").is_file():
        if BLOCKED_LANGUAGE_HOST.is_file():
            # One line per skipped test; the command and the proxy's whole answer are in the file (and in make tools' output).
            said = re.search(r"server response: ([^\"\\\n]+)", BLOCKED_LANGUAGE_HOST.read_text())
            pytest.skip(
                "the Python language host (pulumi-language-python) cannot be built here, so no Pulumi program or Python "
                f"policy pack can run: the Go module proxy answered {said.group(1).strip() if said else 'no'!r} "
                f"({BLOCKED_LANGUAGE_HOST.relative_to(REPO)} has the command and the whole answer)"
            )
        tool_path("pulumi-language-python-exec" if host else "pulumi-language-python")  # fails: run `make tools`
    version = pinned_version("pulumi-kubernetes")
    plugin = PULUMI_HOME_TOOLS / "plugins" / f"resource-kubernetes-v{version}" / "pulumi-resource-kubernetes"
    if not plugin.is_file():
        pytest.fail(
            f"the Kubernetes provider is not registered as plugin {version} ({plugin} missing): run `make tools` "
            "(tools/pulumi-kubernetes/build.sh builds it and runs `pulumi plugin install resource kubernetes "
            f"{version} --file .tools/bin/pulumi-resource-kubernetes`)",
            pytrace=False,
        )
    assert host is not None
    return PulumiTools(pulumi=pulumi, language_host=host, plugins=plugin.parent.parent, kubernetes_version=version)


class PulumiError(AssertionError):
    """A pulumi command exited non-zero (the message has the command, exit code, stdout and stderr)."""


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def describe(self) -> str:
        return (f"$ pulumi {' '.join(self.args)}\nexit {self.returncode} after {self.seconds:.1f} s\n"
                f"--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}")


@dataclass
class Workspace:
    """One isolated Pulumi environment under ``root``: PULUMI_HOME, a file:// backend and a passphrase."""

    tools: PulumiTools
    root: Path
    extra_env: Mapping[str, str] = field(default_factory=dict)
    log: list[Result] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.home = self.root / "pulumi-home"
        self.state = self.root / "state"
        self.home.mkdir(parents=True, exist_ok=True)
        self.state.mkdir(parents=True, exist_ok=True)
        link = self.home / "plugins"
        if self.tools.plugins is not None and not link.exists():
            link.symlink_to(self.tools.plugins, target_is_directory=True)

    @property
    def backend_url(self) -> str:
        return f"file://{self.state}"

    def env(self) -> dict[str, str]:
        path = [str(VENV / "bin"), "/usr/local/bin", "/usr/bin", "/bin"]
        env = {
            "HOME": str(self.root),
            "PATH": os.pathsep.join(path),
            "LANG": "C.UTF-8",
            "PULUMI_HOME": str(self.home),
            "PULUMI_BACKEND_URL": self.backend_url,
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_SKIP_CONFIRMATIONS": "true",
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
            "PULUMI_DIY_BACKEND_NO_LEGACY_WARNING": "true",
            "NO_COLOR": "1",
            # enables --event-log (the engine's events as JSON lines) on up/preview
            "PULUMI_DEBUG_COMMANDS": "true",
            # Any kubeconfig lookup not given one explicitly goes nowhere real.
            "KUBECONFIG": str(self.root / "no-kubeconfig"),
        }
        if self.tools.host_is_bundled:
            env["PULUMI_IGNORE_AMBIENT_PLUGINS"] = "true"
        elif self.tools.language_host is not None:
            env["PATH"] = os.pathsep.join([str(self.tools.language_host.parent), env["PATH"]])
        env.update(self.extra_env)
        return env

    def run(self, *args: str, cwd: Path, check: bool = True, input: str | None = None) -> Result:
        argv = [str(self.tools.pulumi), *args, "--non-interactive"]
        start = time.monotonic()
        proc = subprocess.run(argv, cwd=cwd, env=self.env(), capture_output=True, text=True, timeout=TIMEOUT,
                              input=input)
        result = Result(list(args), proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start)
        self.log.append(result)
        if check and proc.returncode != 0:
            raise PulumiError(result.describe())
        return result

    def stack_init(self, project: Path, stack: str) -> Result:
        return self.run("stack", "init", stack, cwd=project)

    def config_set(self, project: Path, key: str, value: str, *, secret: bool = False, path: bool = False) -> Result:
        flags = [*(["--secret"] if secret else ["--plaintext"]), *(["--path"] if path else [])]
        # The value on stdin (`pulumi config set KEY` reads it when no value is given): no secret in argv.
        return self.run("config", "set", *flags, key, cwd=project, input=value)

    def up(self, project: Path, *args: str) -> Result:
        return self.run("up", "--yes", "--skip-preview", "--diff", *args, cwd=project)

    def preview(self, project: Path, *args: str, check: bool = True) -> Result:
        return self.run("preview", "--diff", *args, cwd=project, check=check)

    def preview_events(self, project: Path, *args: str, check: bool = True) -> tuple[Result, list[dict[str, Any]]]:
        """``pulumi preview`` with ``--event-log``: the engine's events (resourcePreEvent, policyEvent, ...)."""
        log = self.root / f"events-{len(self.log)}.jsonl"
        result = self.preview(project, "--event-log", str(log), *args, check=check)
        return result, read_events(log)

    def stack_output(self, project: Path) -> dict[str, Any]:
        return json.loads(self.run("stack", "output", "--json", "--show-secrets", cwd=project).stdout)

    def export(self, project: Path) -> dict[str, Any]:
        """The stack's checkpoint (``pulumi stack export``; secrets stay encrypted)."""
        return json.loads(self.run("stack", "export", cwd=project).stdout)


def read_events(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def step_ops(events: Iterable[dict[str, Any]]) -> dict[str, str]:
    """URN -> op (``same``, ``create``, ``update``, ``replace``, ...) of every resourcePreEvent."""
    ops: dict[str, str] = {}
    for event in events:
        pre = event.get("resourcePreEvent")
        if pre:
            meta = pre["metadata"]
            ops[meta["urn"]] = meta["op"]
    return ops


def changed_steps(events: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """URN -> the step metadata of every step that is not ``same`` (and not a read)."""
    out: dict[str, dict[str, Any]] = {}
    for event in events:
        pre = event.get("resourcePreEvent")
        if pre and pre["metadata"]["op"] not in ("same", "read"):
            out[pre["metadata"]["urn"]] = pre["metadata"]
    return out


def policy_events(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every policyEvent (violations the analyzer reported), in order."""
    return [e["policyEvent"] for e in events if "policyEvent" in e]


def analyzed(events: Iterable[dict[str, Any]], pack: str) -> set[str]:
    """URNs of the resources policy pack ``pack`` analyzed (its policyAnalyzeSummaryEvents): evidence that it ran."""
    return {e["policyAnalyzeSummaryEvent"]["resourceUrn"] for e in events
            if e.get("policyAnalyzeSummaryEvent", {}).get("policyPackName") == pack}


def summary(events: Iterable[dict[str, Any]]) -> dict[str, Any]:
    for event in events:
        if "summaryEvent" in event:
            return event["summaryEvent"]
    raise AssertionError("no summaryEvent in the event log")


def write_project(directory: Path, name: str, program: str, *, main: Path | None = None,
                  description: str = "inferstack e2e") -> Path:
    """A Python Pulumi project in ``directory`` whose virtualenv is this repository's .venv.

    ``program`` is the ``__main__.py``; with ``main`` (a directory holding a ``__main__.py``), the project's ``main``
    points there instead (relative, as Pulumi.yaml wants) and ``program`` must be empty.
    """
    directory.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {
        "name": name,
        "description": description,
        "runtime": {"name": "python", "options": {"toolchain": "pip", "virtualenv": str(VENV)}},
    }
    if main is not None:
        if program:
            raise ValueError("give either program or main")
        doc["main"] = os.path.relpath(main, directory)
    else:
        (directory / "__main__.py").write_text(textwrap.dedent(program).lstrip())
    (directory / "Pulumi.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return directory


def policy_pack(directory: Path) -> Path:
    """The repository's policy pack as Pulumi loads it (PulumiPolicy.yaml and __main__.py), in ``directory``, with
    its ``virtualenv`` option set to this repository's .venv (inferstack installed) instead of ``policies/venv``,
    which a user creates with ``pulumi install`` in policies/ and which the tests do not download."""
    directory.mkdir(parents=True, exist_ok=True)
    project = yaml.safe_load((REPO / "policies" / "PulumiPolicy.yaml").read_text())
    project["runtime"]["options"]["virtualenv"] = str(VENV)
    (directory / "PulumiPolicy.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
    (directory / "__main__.py").write_text((REPO / "policies" / "__main__.py").read_text())
    return directory


def python() -> str:
    """The interpreter of this repo's venv (what the language host runs the programs with)."""
    candidate = VENV / "bin" / "python"
    return str(candidate) if candidate.exists() else sys.executable


def print_log(results: Iterable[Result]) -> Iterator[str]:
    for r in results:
        yield f"$ pulumi {' '.join(r.args)}  -> exit {r.returncode} ({r.seconds:.1f} s)"
