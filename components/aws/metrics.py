"""Long-term metrics on AWS: an Amazon Managed Service for Prometheus (AMP) workspace the in-cluster Prometheus
remote-writes to with SigV4, through an IRSA role that may only write to that workspace.

:func:`remote_write_url`, :func:`writer_policy` and :func:`prometheus_values` are pure; :class:`AwsMetrics` declares
the workspace and the role and hands serving a :class:`~inferstack.components.platform.MetricsOutputs`.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from inferstack.checks.names import iam_role_name
from inferstack.components.aws.identity import irsa_trust, service_account_subject
from inferstack.components.platform import (
    MONITORING_NAMESPACE,
    PROMETHEUS_SERVICE_ACCOUNT,
    MetricsOutputs,
    WorkloadIdentity,
)

#: The only action the Prometheus role is allowed.
REMOTE_WRITE_ACTION = "aps:RemoteWrite"


def remote_write_url(region: str, workspace_id: str) -> str:
    """AMP's remote-write endpoint of a workspace (docs.aws.amazon.com/prometheus, AMP-onboard-ingest-metrics)."""
    return f"https://aps-workspaces.{region}.amazonaws.com/workspaces/{workspace_id}/api/v1/remote_write"


def writer_policy(workspace_arn: str) -> str:
    """IAM policy allowing ``aps:RemoteWrite`` on one workspace, nothing else."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Sid": "RemoteWrite", "Effect": "Allow", "Action": [REMOTE_WRITE_ACTION], "Resource": workspace_arn}],
        }
    )


def prometheus_values(region: str, workspace_id: str, role_arn: str) -> dict[str, Any]:
    """kube-prometheus-stack ``prometheus`` values: the service account assumes ``role_arn`` (IRSA) and the
    Prometheus remote-writes to the workspace with SigV4 (credentials from the web identity, none in the values)."""
    return {
        "serviceAccount": {"name": PROMETHEUS_SERVICE_ACCOUNT, "annotations": {"eks.amazonaws.com/role-arn": role_arn}},
        "prometheusSpec": {
            "remoteWrite": [
                {
                    "url": remote_write_url(region, workspace_id),
                    "sigv4": {"region": region},
                    "queueConfig": {"maxSamplesPerSend": 1000, "maxShards": 200, "capacity": 2500},
                }
            ]
        },
    }


class AwsMetrics(pulumi.ComponentResource):
    """An AMP workspace for one stack and the IRSA role the cluster's Prometheus writes to it with.

    Provisions an ``aws.amp.Workspace`` (alias ``inferstack-<stack>``, encrypted with the platform CMK) and an IAM
    role ``inferstack-<stack>-prometheus`` trusted only by ``system:serviceaccount:monitoring:inferstack-prometheus``
    through the cluster's OIDC provider, with an inline policy allowing ``aps:RemoteWrite`` on this workspace only.

    Args:
        name (str): component name; children are ``<name>-workspace``, ``<name>-writer``, ``<name>-writer-policy``.
        stack (str): stack name (workspace alias and role name).
        region (str): AWS region of the workspace (remote-write endpoint).
        kms_key_arn (pulumi.Input[str]): the platform CMK encrypting the workspace.
        identity (WorkloadIdentity): the cluster's OIDC provider ARN and issuer (IRSA).
        retain (bool, default False): protect the workspace and retain it on delete (prod).
        opts (pulumi.ResourceOptions | None, default None): options of the component (parent, AWS provider).

    Outputs:
        workspace (aws.amp.Workspace), writer (aws.iam.Role), outputs (MetricsOutputs: store ``amp``, the chart values).
        Registered outputs: ``workspaceArn``, ``writerRoleArn``.

    Secure choices:
        - the workspace is encrypted with the customer-managed key; its endpoint takes only SigV4-signed requests;
        - the role trusts one service account (``:sub`` and ``:aud`` pinned) and may only remote-write to this workspace;
        - no access key anywhere: Prometheus signs with the web identity token.
    """

    def __init__(
        self,
        name: str,
        stack: str,
        region: str,
        kms_key_arn: pulumi.Input[str],
        identity: WorkloadIdentity,
        retain: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("inferstack:aws:Metrics", name, None, opts)
        self.workspace = aws.amp.Workspace(
            f"{name}-workspace",
            alias=f"inferstack-{stack}",
            kms_key_arn=kms_key_arn,
            opts=pulumi.ResourceOptions(parent=self, protect=retain, retain_on_delete=retain),
        )
        subject = service_account_subject(MONITORING_NAMESPACE, PROMETHEUS_SERVICE_ACCOUNT)
        self.writer = aws.iam.Role(
            f"{name}-writer",
            name=iam_role_name(stack, "prometheus"),
            description="Remote write of the cluster's Prometheus to its AMP workspace (IRSA).",
            assume_role_policy=pulumi.Output.all(identity.oidc_provider_arn, identity.oidc_issuer).apply(
                lambda a: irsa_trust(a[0], a[1], subject)
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.iam.RolePolicy(
            f"{name}-writer-policy",
            role=self.writer.id,
            policy=self.workspace.arn.apply(writer_policy),
            opts=pulumi.ResourceOptions(parent=self.writer),
        )
        values = pulumi.Output.all(self.workspace.id, self.writer.arn).apply(lambda a: prometheus_values(region, a[0], a[1]))
        self.outputs = MetricsOutputs(store="amp", prometheus_values=values, store_id=self.workspace.arn)
        self.register_outputs({"workspaceArn": self.workspace.arn, "writerRoleArn": self.writer.arn})
