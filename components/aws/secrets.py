"""Secrets on AWS: Secrets Manager entries encrypted with the platform CMK, read by External Secrets through IRSA.

Each configured secret becomes ``inferstack/<stack>/<name>``; its initial value comes only from the secure Pulumi
config key ``valueFrom`` and is passed as a Pulumi secret (never in clear in the state). The External Secrets
controller's service account assumes a role that may read only these secrets and decrypt with the key.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from inferstack.checks.names import iam_role_name
from inferstack.components.aws.identity import irsa_trust, service_account_subject
from inferstack.components.external_secrets import (
    ESO_NAMESPACE,
    ESO_SERVICE_ACCOUNT,
    SecretStoreSpec,
    secret_value,
)
from inferstack.components.platform import PlatformOutputs
from inferstack.config import SecretsArgs


def eso_reader_policy(secret_arns: list[str], key_arn: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Read", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
             "Resource": secret_arns},
            {"Sid": "Decrypt", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": key_arn,
             "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{key_arn.split(':')[3]}.amazonaws.com"}}},
        ],
    })


class AwsSecrets(pulumi.ComponentResource):
    """Secrets Manager entries for ``inferstack:secrets`` and the IRSA role External Secrets reads them with.

    Provisions per secret an ``aws.secretsmanager.Secret`` ``inferstack/<stack>/<name>`` in ``args.region``,
    encrypted with the platform CMK, and its initial version from the secure config key ``valueFrom``; the role
    ``inferstack-<stack>-external-secrets`` trusted by the External Secrets controller's service account, with read
    access to these secrets only; and ``store``, the ``SecretStoreSpec`` that :class:`ExternalSecrets` installs.

    Args:
        name (str): component name; children are ``<name>-<secret>``, ``<name>-<secret>-initial``, ``<name>-eso``.
        args (SecretsArgs): uses ``args.region`` and ``secrets`` (name, namespaces, key default
            ``token``, valueFrom, refreshInterval default ``1h``).
        platform (PlatformOutputs): the platform's CMK and IRSA identity.
        opts (pulumi.ResourceOptions | None, default None): options of the component.

    Outputs:
        secrets (dict[str, aws.secretsmanager.Secret]), role (aws.iam.Role), store (SecretStoreSpec).
        Registered outputs: ``roleArn``, ``secretArns``.

    Secure choices:
        - values only from secure Pulumi config, kept secret (``additional_secret_outputs``); later rotations outside
          Pulumi are kept (``ignore_changes``); no Kubernetes Secret is declared by Pulumi;
        - CMK encryption; the reader role may read these secrets only and decrypt only through Secrets Manager;
        - recovery window 30 days in prod (7 otherwise); in prod secrets are protected and retained on delete.
    """

    def __init__(self, name: str, args: SecretsArgs, platform: PlatformOutputs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("inferstack:secrets:AwsSecrets", name, None, opts)
        keep = pulumi.ResourceOptions(parent=self, retain_on_delete=args.is_prod, protect=args.is_prod)
        self.secrets: dict[str, aws.secretsmanager.Secret] = {}
        for s in args.secrets:
            secret = aws.secretsmanager.Secret(
                f"{name}-{s.name}",
                name=f"inferstack/{args.stack}/{s.name}",
                description=f"{s.name} for namespaces {', '.join(s.namespaces)} (delivered by External Secrets).",
                kms_key_id=platform.kms_key,
                region=args.region,
                recovery_window_in_days=30 if args.is_prod else 7,
                tags={"inferstack.io/stack": args.stack},
                opts=keep,
            )
            aws.secretsmanager.SecretVersion(
                f"{name}-{s.name}-initial",
                secret_id=secret.id,
                secret_string=secret_value(s.value_from),
                region=args.region,
                opts=pulumi.ResourceOptions(
                    parent=secret, additional_secret_outputs=["secretString"], ignore_changes=["secretString"],
                    retain_on_delete=args.is_prod,
                ),
            )
            self.secrets[s.name] = secret

        ident = platform.identity
        subject = [service_account_subject(ESO_NAMESPACE, ESO_SERVICE_ACCOUNT)]
        self.role = aws.iam.Role(
            f"{name}-eso",
            name=iam_role_name(args.stack, "external-secrets"),
            description="External Secrets Operator: read this stack's secrets only (IRSA).",
            assume_role_policy=pulumi.Output.all(ident.oidc_provider_arn, ident.oidc_issuer).apply(
                lambda a: irsa_trust(a[0], a[1], subject)
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        if self.secrets:
            arns = [s.arn for s in self.secrets.values()]
            aws.iam.RolePolicy(
                f"{name}-eso-read",
                role=self.role.id,
                policy=pulumi.Output.all(platform.kms_key, *arns).apply(lambda a: eso_reader_policy(list(a[1:]), a[0])),
                opts=pulumi.ResourceOptions(parent=self.role),
            )
        self.store = SecretStoreSpec(
            provider={"aws": {"service": "SecretsManager", "region": args.region}},
            service_account_annotations={"eks.amazonaws.com/role-arn": self.role.arn},
            remote_keys={s.name: f"inferstack/{args.stack}/{s.name}" for s in args.secrets},
        )
        self.register_outputs({"roleArn": self.role.arn, "secretArns": {k: v.arn for k, v in self.secrets.items()}})
