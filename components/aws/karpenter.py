"""Karpenter: node IAM role and instance profile, controller role (IRSA), SQS interruption queue fed by EventBridge,
and the controller itself from the pinned chart, pinned to the system node group."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from inferstack.components.aws.cluster import SYSTEM_POOL
from inferstack.components.aws.identity import assume_role_policy, irsa_trust, service_account_subject
from inferstack.components.helm import chart_release

NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "karpenter"

#: EventBridge events Karpenter acts on before the instance goes away (upstream getting-started template).
INTERRUPTION_EVENTS: dict[str, dict] = {
    "scheduled-change": {"source": ["aws.health"], "detail-type": ["AWS Health Event"]},
    "spot-interruption": {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]},
    "rebalance": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"]},
    "instance-state-change": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]},
}


def controller_policy(
    *, partition: str, region: str, account_id: str, cluster_name: str, queue_arn: str, node_role_arn: str,
    instance_profile_arn: str, kms_key_arn: str,
) -> dict:  # fmt: skip
    """The controller's IAM policy, after Karpenter's reference policy (v1), with the instance profile managed here.

    Every write is scoped to this cluster by ARN and by the ``kubernetes.io/cluster/<name>=owned`` and
    ``karpenter.sh/nodepool`` tags; only read actions (Describe*, pricing) use resource ``*``, limited to the region.
    """
    ec2 = f"arn:{partition}:ec2:{region}"
    owned = {f"aws:ResourceTag/kubernetes.io/cluster/{cluster_name}": "owned"}
    launched = [f"{ec2}:*:{r}/*" for r in ("fleet", "instance", "volume", "network-interface", "launch-template", "spot-instances-request")]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowScopedEC2InstanceAccessActions",
                "Effect": "Allow",
                "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
                "Resource": [f"{ec2}::image/*", f"{ec2}::snapshot/*", f"{ec2}:*:security-group/*", f"{ec2}:*:subnet/*", f"{ec2}:*:capacity-reservation/*"],
            },
            {
                "Sid": "AllowScopedEC2LaunchTemplateAccessActions",
                "Effect": "Allow",
                "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
                "Resource": f"{ec2}:*:launch-template/*",
                "Condition": {"StringEquals": owned, "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}},
            },
            {
                "Sid": "AllowScopedEC2InstanceActionsWithTags",
                "Effect": "Allow",
                "Action": ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
                "Resource": launched,
                "Condition": {
                    "StringEquals": {
                        f"aws:RequestTag/kubernetes.io/cluster/{cluster_name}": "owned",
                        "aws:RequestTag/eks:eks-cluster-name": cluster_name,
                    },
                    "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"},
                },
            },
            {
                "Sid": "AllowScopedResourceCreationTagging",
                "Effect": "Allow",
                "Action": "ec2:CreateTags",
                "Resource": launched,
                "Condition": {
                    "StringEquals": {
                        f"aws:RequestTag/kubernetes.io/cluster/{cluster_name}": "owned",
                        "aws:RequestTag/eks:eks-cluster-name": cluster_name,
                        "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"],
                    },
                    "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"},
                },
            },
            {
                "Sid": "AllowScopedResourceTagging",
                "Effect": "Allow",
                "Action": "ec2:CreateTags",
                "Resource": f"{ec2}:*:instance/*",
                "Condition": {
                    "StringEquals": owned,
                    "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
                    "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": cluster_name},
                    "ForAllValues:StringEquals": {"aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]},
                },
            },
            {
                "Sid": "AllowScopedDeletion",
                "Effect": "Allow",
                "Action": ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
                "Resource": [f"{ec2}:*:instance/*", f"{ec2}:*:launch-template/*"],
                "Condition": {"StringEquals": owned, "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}},
            },
            {
                "Sid": "AllowRegionalReadActions",
                "Effect": "Allow",
                "Action": [
                    "ec2:DescribeCapacityReservations", "ec2:DescribeImages", "ec2:DescribeInstances",
                    "ec2:DescribeInstanceTypeOfferings", "ec2:DescribeInstanceTypes", "ec2:DescribeLaunchTemplates",
                    "ec2:DescribeSecurityGroups", "ec2:DescribeSpotPriceHistory", "ec2:DescribeSubnets",
                    "ec2:DescribeAvailabilityZones", "ec2:DescribePlacementGroups",
                ],  # fmt: skip
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": region}},
            },
            {
                "Sid": "AllowSSMReadActions",
                "Effect": "Allow",
                "Action": "ssm:GetParameter",
                "Resource": f"arn:{partition}:ssm:{region}::parameter/aws/service/*",
            },
            {"Sid": "AllowPricingReadActions", "Effect": "Allow", "Action": "pricing:GetProducts", "Resource": "*"},
            {
                "Sid": "AllowInterruptionQueueActions",
                "Effect": "Allow",
                "Action": ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
                "Resource": queue_arn,
            },
            {
                "Sid": "AllowPassingInstanceRole",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": node_role_arn,
                "Condition": {"StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"]}},
            },
            {"Sid": "AllowInstanceProfileReadActions", "Effect": "Allow", "Action": "iam:GetInstanceProfile", "Resource": instance_profile_arn},
            {
                "Sid": "AllowAPIServerEndpointDiscovery",
                "Effect": "Allow",
                "Action": "eks:DescribeCluster",
                "Resource": f"arn:{partition}:eks:{region}:{account_id}:cluster/{cluster_name}",
            },
            {
                "Sid": "AllowEncryptedVolumesWithCmk",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKeyWithoutPlaintext", "kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:ReEncryptFrom", "kms:ReEncryptTo"],
                "Resource": kms_key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"ec2.{region}.amazonaws.com"}},
            },
            {
                "Sid": "AllowEncryptedInterruptionQueue",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": kms_key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"sqs.{region}.amazonaws.com"}},
            },
        ],
    }


class Karpenter(pulumi.ComponentResource):
    """Karpenter for one cluster: node IAM role, controller role (IRSA), interruption queue and the controller.

    Provisions the node role (worker, CNI, ECR pull-only, SSM core policies), its instance profile and an
    ``EC2_LINUX`` access entry; an SQS queue ``<static_cluster_name>-karpenter`` with a queue policy and EventBridge
    rules for spot interruption warnings, rebalance recommendations, instance state changes and AWS Health events;
    the controller role trusted by the ``kube-system/karpenter`` service account only, with :func:`controller_policy`;
    and the pinned Karpenter chart (``CHARTS["karpenter"]``, two replicas on the system nodes, PDB, the
    ``reservedCapacity`` feature gate on for reserved NodePools and Capacity Blocks).

    Args:
        name (str): component name; children are ``<name>-node``, ``<name>-interruption``, ``<name>-controller``,
            ``<name>-chart``, ...
        cluster_name (pulumi.Input[str]): cluster name (output) for the access entry and the chart settings.
        static_cluster_name (str): the same name as a plain string, for policy scoping and the queue name.
        region (str): region of the controller and of the policy's resources.
        oidc_provider_arn (pulumi.Input[str]), oidc_issuer (pulumi.Input[str]): the cluster's IRSA identity.
        kms_key_arn (pulumi.Input[str]): CMK that encrypts the queue (and gives the account and partition).
        k8s_provider (k8s.Provider): provider of the cluster.
        depends_on (list[pulumi.Resource]): what the release waits for (the system node group).
        opts (pulumi.ResourceOptions | None, default None): options of the component.
        system_node_selector (Mapping[str, str] | None, default None): nodes the controller runs on; default
            ``inferstack.io/pool=system`` (the platform's system node group). Set it for a cluster you bring.
        All arguments but ``name`` and ``opts`` are keyword-only.

    Outputs:
        node_role, instance_profile, node_access, queue, controller_role, controller_policy, release: the children.
        Registered outputs: ``queueName``, ``nodeRoleArn``, ``instanceProfile``.

    Secure choices:
        - controller writes scoped to this cluster by ARN and by the ``kubernetes.io/cluster/<name>=owned`` and
          ``karpenter.sh/nodepool`` tags; ``iam:PassRole`` on the node role only; reads limited to the region;
        - IRSA trust on ``:sub`` and ``:aud``; the queue is CMK-encrypted, keeps messages 5 minutes and denies
          non-TLS access; only EventBridge and SQS may send to it.
    """

    def __init__(
        self,
        name: str,
        *,
        cluster_name: pulumi.Input[str],
        static_cluster_name: str,
        region: str,
        oidc_provider_arn: pulumi.Input[str],
        oidc_issuer: pulumi.Input[str],
        kms_key_arn: pulumi.Input[str],
        k8s_provider: k8s.Provider,
        depends_on: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
        system_node_selector: Mapping[str, str] | None = None,
    ):
        super().__init__("inferstack:aws:Karpenter", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Account and partition from the CMK's ARN: known at preview without an invoke.
        partition = pulumi.Output.from_input(kms_key_arn).apply(lambda arn: arn.split(":")[1])
        account_id = pulumi.Output.from_input(kms_key_arn).apply(lambda arn: arn.split(":")[4])

        # Nodes ----------------------------------------------------------------
        self.node_role = aws.iam.Role(f"{name}-node", assume_role_policy=assume_role_policy("ec2.amazonaws.com"), opts=child)
        for short, policy in [
            ("worker", "AmazonEKSWorkerNodePolicy"),
            ("cni", "AmazonEKS_CNI_Policy"),
            ("ecr", "AmazonEC2ContainerRegistryPullOnly"),
            ("ssm", "AmazonSSMManagedInstanceCore"),
        ]:
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{short}", role=self.node_role.name, policy_arn=partition.apply(lambda p, n=policy: f"arn:{p}:iam::aws:policy/{n}"), opts=child
            )
        self.instance_profile = aws.iam.InstanceProfile(f"{name}-node", role=self.node_role.name, opts=child)
        self.node_access = aws.eks.AccessEntry(
            f"{name}-node", cluster_name=cluster_name, principal_arn=self.node_role.arn, type="EC2_LINUX", opts=child
        )

        # Interruption queue -----------------------------------------------------
        self.queue = aws.sqs.Queue(
            f"{name}-interruption",
            name=f"{static_cluster_name}-karpenter",
            message_retention_seconds=300,
            kms_master_key_id=kms_key_arn,
            kms_data_key_reuse_period_seconds=300,
            opts=child,
        )
        aws.sqs.QueuePolicy(
            f"{name}-interruption",
            queue_url=self.queue.url,
            policy=self.queue.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "EventBridgeWrite",
                                "Effect": "Allow",
                                "Principal": {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]},
                                "Action": "sqs:SendMessage",
                                "Resource": arn,
                            },
                            {
                                "Sid": "DenyHTTP",
                                "Effect": "Deny",
                                "Principal": "*",
                                "Action": "sqs:*",
                                "Resource": arn,
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            },
                        ],
                    }
                )
            ),
            opts=child,
        )
        for short, pattern in INTERRUPTION_EVENTS.items():
            rule = aws.cloudwatch.EventRule(f"{name}-{short}", event_pattern=json.dumps(pattern), opts=child)
            aws.cloudwatch.EventTarget(f"{name}-{short}", rule=rule.name, arn=self.queue.arn, target_id="KarpenterInterruptionQueue", opts=child)

        # Controller -------------------------------------------------------------
        self.controller_role = aws.iam.Role(
            f"{name}-controller",
            assume_role_policy=pulumi.Output.all(oidc_provider_arn, oidc_issuer).apply(
                lambda a: irsa_trust(a[0], a[1], service_account_subject(NAMESPACE, SERVICE_ACCOUNT))
            ),
            opts=child,
        )
        policy_doc = pulumi.Output.all(
            partition, account_id, self.queue.arn, self.node_role.arn, self.instance_profile.arn, kms_key_arn
        ).apply(
            lambda a: json.dumps(
                controller_policy(
                    partition=a[0], region=region, account_id=a[1], cluster_name=static_cluster_name, queue_arn=a[2],
                    node_role_arn=a[3], instance_profile_arn=a[4], kms_key_arn=a[5],
                )
            )
        )  # fmt: skip
        self.controller_policy = aws.iam.RolePolicy(f"{name}-controller", role=self.controller_role.id, policy=policy_doc, opts=child)

        self.release = chart_release(
            f"{name}-chart",
            "karpenter",
            {
                # reservedCapacity (beta, on by default in v1.14.1) is set explicitly: the capacity ladder's reserved
                # NodePools need it (chart values.yaml settings.featureGates.reservedCapacity).
                "settings": {"clusterName": cluster_name, "interruptionQueue": self.queue.name, "featureGates": {"reservedCapacity": True}},
                "serviceAccount": {"name": SERVICE_ACCOUNT, "annotations": {"eks.amazonaws.com/role-arn": self.controller_role.arn}},
                "replicas": 2,
                "nodeSelector": dict(system_node_selector or {"inferstack.io/pool": SYSTEM_POOL}),
                "controller": {
                    "env": [{"name": "AWS_REGION", "value": region}],
                    "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "1Gi"}},
                },
                "podDisruptionBudget": {"name": "karpenter", "maxUnavailable": 1},
            },
            pulumi.ResourceOptions(parent=self, provider=k8s_provider, depends_on=[self.controller_policy, self.node_access, *depends_on]),
            timeout=900,
        )
        self.register_outputs({"queueName": self.queue.name, "nodeRoleArn": self.node_role.arn, "instanceProfile": self.instance_profile.name})
