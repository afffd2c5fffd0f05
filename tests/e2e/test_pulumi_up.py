"""The real Pulumi CLI, language host and Kubernetes provider against the e2e API server (issue #27 item 3a).

A small Python program (Namespace, ConfigMap, Secret on an explicit Provider whose kubeconfig is a Pulumi secret)
in a temp project whose virtualenv is this repo's .venv; local file backend, passphrase, nothing downloaded:
`pulumi stack init`, `pulumi config set --secret`, `pulumi up --yes`, the objects read back from the API server,
then `pulumi preview --expect-no-changes` (the second run changes nothing), and a changed input that the same
preview must refuse (the check can fail).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.controlplane import ControlPlane
from tests.e2e.pulumi_cli import (
    PulumiError,
    PulumiTools,
    Workspace,
    changed_steps,
    print_log,
    pulumi_tools,
    read_events,
    step_ops,
    summary,
    write_project,
)

NAMESPACE = "inferstack-e2e-pulumi"

PROGRAM = f'''
    """e2e: a Kubernetes-only stack on an explicit provider (kubeconfig from a secret config value)."""
    import pulumi
    import pulumi_kubernetes as k8s

    cfg = pulumi.Config()
    provider = k8s.Provider("e2e", kubeconfig=cfg.require_secret("kubeconfig"), context="inferstack-e2e")
    opts = pulumi.ResourceOptions(provider=provider)
    ns = k8s.core.v1.Namespace(
        "e2e",
        metadata={{"name": "{NAMESPACE}", "labels": {{"pod-security.kubernetes.io/enforce": "restricted"}}}},
        opts=opts,
    )
    settings = k8s.core.v1.ConfigMap(
        "settings",
        metadata={{"name": "settings", "namespace": ns.metadata.name, "labels": {{"app.kubernetes.io/part-of": "inferstack"}}}},
        data={{"greeting": cfg.require("greeting"), "replicas": "2"}},
        opts=opts,
    )
    token = k8s.core.v1.Secret(
        "token",
        metadata={{"name": "token", "namespace": ns.metadata.name}},
        string_data={{"token": cfg.require_secret("token")}},
        opts=opts,
    )
    pulumi.export("namespace", ns.metadata.name)
    pulumi.export("settings_uid", settings.metadata.uid)
'''


@pytest.fixture(scope="module")
def tools() -> PulumiTools:
    return pulumi_tools()


@pytest.fixture(scope="module")
def deployed(tools: PulumiTools, control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """stack init, config set (two secrets), up: the workspace, project and the up's events."""
    root = tmp_path_factory.mktemp("pulumi-up")
    ws = Workspace(tools, root)
    project = write_project(root / "project", "inferstack-e2e-k8s", PROGRAM)
    ws.stack_init(project, "e2e")
    ws.config_set(project, "kubeconfig", Path(control_plane.kubeconfig).read_text(), secret=True)
    ws.config_set(project, "token", "s3cr3t-token", secret=True)
    ws.config_set(project, "greeting", "hello")
    events_file = root / "up-events.jsonl"
    up = ws.up(project, "--event-log", str(events_file))
    print("\n".join(print_log(ws.log)))
    return {"ws": ws, "project": project, "up": up, "events": read_events(events_file)}


def test_config_set_secret_encrypts_with_the_passphrase(deployed: dict[str, Any]) -> None:
    stack_file = yaml.safe_load((deployed["project"] / "Pulumi.e2e.yaml").read_text())
    assert stack_file["encryptionsalt"].startswith("v1:")
    config = stack_file["config"]
    for key in ("inferstack-e2e-k8s:kubeconfig", "inferstack-e2e-k8s:token"):
        assert set(config[key]) == {"secure"} and config[key]["secure"].startswith("v1:"), config[key]
    assert config["inferstack-e2e-k8s:greeting"] == "hello"
    # the kubeconfig's client key never reaches the stack file in clear
    assert "BEGIN" not in (deployed["project"] / "Pulumi.e2e.yaml").read_text()


def test_up_creates_the_objects(deployed: dict[str, Any], control_plane: ControlPlane) -> None:
    ops = step_ops(deployed["events"])
    created = sorted((urn.split("::")[2], urn.rsplit("::", 1)[1]) for urn, op in ops.items() if op == "create")
    print(f"pulumi up: {len(created)} resources created: {created}")
    assert created == [
        ("kubernetes:core/v1:ConfigMap", "settings"),
        ("kubernetes:core/v1:Namespace", "e2e"),
        ("kubernetes:core/v1:Secret", "token"),
        ("pulumi:providers:kubernetes", "e2e"),
        ("pulumi:pulumi:Stack", "inferstack-e2e-k8s-e2e"),
    ]
    assert summary(deployed["events"])["resourceChanges"].get("create", 0) == len(created)
    s = control_plane.session()
    ns = s.get(f"{control_plane.url}/api/v1/namespaces/{NAMESPACE}")
    assert ns.status_code == 200, ns.text
    assert ns.json()["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    cm = s.get(f"{control_plane.url}/api/v1/namespaces/{NAMESPACE}/configmaps/settings").json()
    assert cm["data"] == {"greeting": "hello", "replicas": "2"}
    # server-side apply by the provider: its field manager owns the fields
    assert any(m["manager"].startswith("pulumi-kubernetes") for m in cm["metadata"]["managedFields"]), cm["metadata"]
    secret = s.get(f"{control_plane.url}/api/v1/namespaces/{NAMESPACE}/secrets/token").json()
    assert secret["data"]["token"] == "czNjcjN0LXRva2Vu"  # base64("s3cr3t-token")
    outputs = deployed["ws"].stack_output(deployed["project"])
    assert outputs["namespace"] == NAMESPACE and outputs["settings_uid"] == cm["metadata"]["uid"]


def test_state_keeps_secrets_encrypted(deployed: dict[str, Any]) -> None:
    state = deployed["ws"].export(deployed["project"])
    text = str(state)
    assert "s3cr3t-token" not in text and "BEGIN EC PRIVATE KEY" not in text and "BEGIN PRIVATE KEY" not in text


def test_preview_after_up_expects_no_changes(deployed: dict[str, Any]) -> None:
    ws, project = deployed["ws"], deployed["project"]
    result, events = ws.preview_events(project, "--expect-no-changes")
    ops = step_ops(events)
    print(f"pulumi preview --expect-no-changes: {len(ops)} resources, ops {sorted(set(ops.values()))}, "
          f"{result.seconds:.1f} s")
    assert ops and set(ops.values()) == {"same"}, changed_steps(events)


def test_expect_no_changes_fails_on_a_changed_input(deployed: dict[str, Any]) -> None:
    """The same check refuses a real change: the ConfigMap's data differs, the preview exits non-zero."""
    ws, project = deployed["ws"], deployed["project"]
    ws.config_set(project, "greeting", "changed")
    try:
        with pytest.raises(PulumiError) as err:
            ws.preview(project, "--expect-no-changes")
        assert "no changes were expected but changes were proposed" in str(err.value).lower() or "error" in str(err.value)
        _, events = ws.preview_events(project)
        changed = changed_steps(events)
        assert [urn.rsplit("::", 1)[1] for urn in changed] == ["settings"], changed
        # pulumi-kubernetes replaces a ConfigMap whose data changes (ConfigMaps are immutable to it by default, so
        # that workloads mounting one roll): the engine proposes a replacement, not an update
        assert changed[next(iter(changed))]["op"] in ("replace", "create-replacement", "delete-replaced")
    finally:
        ws.config_set(project, "greeting", "hello")
    ws.preview(project, "--expect-no-changes")
