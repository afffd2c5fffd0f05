"""AWS metrics: the AMP workspace (CMK-encrypted) and the Prometheus remote-write role (IRSA, one action, one workspace)."""

from __future__ import annotations

import json

import pytest

from inferstack.components.aws.metrics import prometheus_values, remote_write_url, writer_policy
from inferstack.components.platform import MONITORING_NAMESPACE, PROMETHEUS_SERVICE_ACCOUNT
from tests.conftest import AWS_STACKS, recording, stack_config

WORKSPACE = "aws:amp/workspace:Workspace"


def test_remote_write_url_and_values() -> None:
    assert remote_write_url("eu-west-1", "ws-1") == "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write"
    v = prometheus_values("eu-west-1", "ws-1", "arn:aws:iam::1:role/p")
    assert v["serviceAccount"] == {"name": PROMETHEUS_SERVICE_ACCOUNT, "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/p"}}
    [rw] = v["prometheusSpec"]["remoteWrite"]
    assert rw["sigv4"] == {"region": "eu-west-1"} and "accessKey" not in rw["sigv4"]


def test_writer_policy_is_one_action_on_one_workspace() -> None:
    [st] = json.loads(writer_policy("arn:aws:aps:eu-west-1:1:workspace/ws-1"))["Statement"]
    assert st["Action"] == ["aps:RemoteWrite"] and st["Resource"] == "arn:aws:aps:eu-west-1:1:workspace/ws-1"


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_workspace_encrypted_with_cmk_and_role_trusts_prometheus_only(stack: str) -> None:
    rec = recording(stack)
    (key,) = rec.by_type("aws:kms/key:Key")
    (ws,) = rec.by_type(WORKSPACE)
    assert ws.inputs["kmsKeyArn"] == key.outputs["arn"]
    prod = stack_config(stack).is_prod
    assert ws.protect is prod and ws.retain_on_delete is prod
    (role,) = [r for r in rec.by_type("aws:iam/role:Role") if r.inputs.get("name", "").endswith("-prometheus")]
    cond = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]["StringEquals"]
    subs = [v for k, v in cond.items() if k.endswith(":sub")]
    assert subs == [f"system:serviceaccount:{MONITORING_NAMESPACE}:{PROMETHEUS_SERVICE_ACCOUNT}"]
    (policy,) = [p for p in rec.by_type("aws:iam/rolePolicy:RolePolicy") if p.name.endswith("metrics-writer-policy")]
    [st] = json.loads(policy.inputs["policy"])["Statement"]
    assert st["Action"] == ["aps:RemoteWrite"] and st["Resource"] == ws.outputs["arn"]
