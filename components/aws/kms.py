"""The platform's customer-managed KMS key: EKS secrets, node volumes, logs, the interruption queue and the registry."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

#: Administration and use of the key by the account's IAM principals (explicit actions, no ``kms:*``).
_ACCOUNT_ACTIONS = [
    "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
    "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand", "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*",
    "kms:GenerateDataKey*", "kms:CreateGrant",
]  # fmt: skip
_USE_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]


def key_policy(account_id: str, region: str, partition: str = "aws") -> dict:
    """Key policy: IAM policies of the account decide (root statement), plus the AWS services that encrypt with it.

    CloudWatch Logs is limited to this account's log groups by encryption context; the Auto Scaling service-linked
    role (managed node groups) may only create grants for AWS resources; EventBridge may only write to SQS.
    """
    root = f"arn:{partition}:iam::{account_id}:root"
    asg = f"arn:{partition}:iam::{account_id}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AccountIamPolicies", "Effect": "Allow", "Principal": {"AWS": root}, "Action": _ACCOUNT_ACTIONS, "Resource": "*"},
            {
                "Sid": "CloudWatchLogs",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": _USE_ACTIONS,
                "Resource": "*",
                "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account_id}:*"}},
            },
            {"Sid": "AutoScalingVolumes", "Effect": "Allow", "Principal": {"AWS": asg}, "Action": _USE_ACTIONS, "Resource": "*"},
            {
                "Sid": "AutoScalingGrants",
                "Effect": "Allow",
                "Principal": {"AWS": asg},
                "Action": "kms:CreateGrant",
                "Resource": "*",
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
            {
                "Sid": "EventBridgeToSqs",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:ViaService": f"sqs.{region}.amazonaws.com"}},
            },
        ],
    }


class PlatformKey(pulumi.ComponentResource):
    """A customer-managed KMS key (CMK) for one stack, its key policy and the alias ``alias/inferstack-<stack>``.

    Provisions a symmetric ``aws.kms.Key`` (automatic yearly rotation, 30-day deletion window), an
    ``aws.kms.KeyPolicy`` built by :func:`key_policy` from the key's own account and partition, and an
    ``aws.kms.Alias``.

    Args:
        name (str): component name; children are ``<name>-key``, ``<name>-policy``, ``<name>-alias``.
        stack (str): stack name, used in the alias and the key description.
        region (str): region whose CloudWatch Logs and SQS services may use the key.
        retain (bool): protect the key and retain key and policy on delete (prod): data encrypted with the key
            outlives the stack.
        opts (pulumi.ResourceOptions | None, default None): options of the component.

    Outputs:
        arn (pulumi.Output[str]): the key ARN.
        key, policy, alias: the children.
        Registered outputs: ``arn``, ``alias``.

    Secure choices:
        - rotation on; deletion only after a 30-day window;
        - explicit actions in the key policy (no ``kms:*``); the account's IAM policies decide who uses the key;
        - CloudWatch Logs limited by encryption context to this account's log groups; the Auto Scaling service-linked
          role may create grants only for AWS resources; EventBridge may use the key only through SQS.
    """

    def __init__(self, name: str, stack: str, region: str, retain: bool, opts: pulumi.ResourceOptions | None = None):
        super().__init__("inferstack:aws:PlatformKey", name, None, opts)
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"inferstack {stack}: EKS secrets, node volumes, logs, queues and the model registry",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=retain, protect=retain),
        )
        # The account and partition come from the key's own ARN (no invoke needed at preview).
        self.policy = aws.kms.KeyPolicy(
            f"{name}-policy",
            key_id=self.key.key_id,
            policy=self.key.arn.apply(lambda arn: json.dumps(key_policy(arn.split(":")[4], region, arn.split(":")[1]))),
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=retain),
        )
        self.alias = aws.kms.Alias(
            f"{name}-alias", name=f"alias/inferstack-{stack}", target_key_id=self.key.key_id, opts=pulumi.ResourceOptions(parent=self)
        )
        self.arn: pulumi.Output[str] = self.key.arn
        self.register_outputs({"arn": self.key.arn, "alias": self.alias.name})
