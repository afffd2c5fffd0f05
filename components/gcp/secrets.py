"""Secrets on Google Cloud: Secret Manager with CMEK, user-managed replication in the stack's region only.

The platform key is regional (``args.region``, which residency allows), so each secret has one replica there,
encrypted with that key; the Secret Manager service agent gets encrypt/decrypt on it. Initial values come only from
the secure Pulumi config key ``valueFrom`` and stay Pulumi secrets. External Secrets reads them as a Google
service account bound to its controller through Workload Identity, with secretAccessor on these secrets only.
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from inferstack.components.external_secrets import (
    ESO_NAMESPACE,
    ESO_SERVICE_ACCOUNT,
    SecretStoreSpec,
    secret_value,
)
from inferstack.components.gcp.identity import account_id, bind_workload_identity
from inferstack.components.platform import PlatformOutputs
from inferstack.config import SecretsArgs


class GcpSecrets(pulumi.ComponentResource):
    """Secret Manager secrets for ``inferstack:secrets`` and the Google service account External Secrets uses.

    Provisions, when the stack has secrets, the Secret Manager service agent and its
    ``roles/cloudkms.cryptoKeyEncrypterDecrypter`` grant on the platform key; per secret a
    ``gcp.secretmanager.Secret`` ``inferstack-<stack>-<name>`` with one user-managed replica in ``args.region``
    encrypted with that key, its initial version from the secure config key ``valueFrom`` and a
    ``roles/secretmanager.secretAccessor`` grant for the ESO service account on that secret; the service account
    itself, bound through Workload Identity to the External Secrets controller; and ``store``, the
    ``SecretStoreSpec`` that :class:`ExternalSecrets` installs.

    Args:
        name (str): component name; children are ``<name>-eso``, ``<name>-<secret>``, ``<name>-<secret>-initial``, ...
        args (SecretsArgs): uses ``args.project``, ``args.region`` and ``secrets``.
        platform (PlatformOutputs): the platform's key (``kms_key``) and workload pool.
        opts (pulumi.ResourceOptions | None, default None): options of the component.

    Outputs:
        account (gcp.serviceaccount.Account), secrets (dict[str, gcp.secretmanager.Secret]), store (SecretStoreSpec).
        Registered outputs: ``serviceAccount``, ``secrets``.

    Secure choices:
        - one replica, in the stack's region (inside ``residency.allowedRegions``), CMEK with the platform key;
        - values only from secure Pulumi config, kept secret; later rotations outside Pulumi are kept;
        - ``secretAccessor`` per secret, never project-wide; in prod secrets are protected and retained on delete.
    """

    def __init__(self, name: str, args: SecretsArgs, platform: PlatformOutputs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("inferstack:secrets:GcpSecrets", name, None, opts)
        project = str(args.project)
        child = pulumi.ResourceOptions(parent=self)
        deps: list[pulumi.Resource] = []
        if args.secrets:
            agent = gcp.projects.ServiceIdentity(
                f"{name}-secretmanager-agent", service="secretmanager.googleapis.com", project=project, opts=child
            )
            deps.append(gcp.kms.CryptoKeyIAMMember(
                f"{name}-secretmanager-agent-key",
                crypto_key_id=platform.kms_key,
                role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
                member=agent.member,
                opts=child,
            ))
        self.account = gcp.serviceaccount.Account(
            f"{name}-eso",
            account_id=account_id(args.stack, "external-secrets"),
            display_name="External Secrets Operator (reads this stack's secrets)",
            project=project,
            opts=child,
        )
        pool = platform.identity.workload_pool or f"{project}.svc.id.goog"
        bind_workload_identity(f"{name}-eso-wi", self.account, pool, ESO_NAMESPACE, ESO_SERVICE_ACCOUNT)
        self.secrets: dict[str, gcp.secretmanager.Secret] = {}
        for s in args.secrets:
            secret_id = f"inferstack-{args.stack}-{s.name}"
            secret = gcp.secretmanager.Secret(
                f"{name}-{s.name}",
                secret_id=secret_id,
                project=project,
                replication={
                    "user_managed": {
                        "replicas": [{"location": args.region, "customer_managed_encryption": {"kms_key_name": platform.kms_key}}]
                    }
                },
                labels={"inferstack-stack": args.stack},
                opts=pulumi.ResourceOptions(parent=self, depends_on=deps, retain_on_delete=args.is_prod, protect=args.is_prod),
            )
            gcp.secretmanager.SecretVersion(
                f"{name}-{s.name}-initial",
                secret=secret.id,
                secret_data=secret_value(s.value_from),
                opts=pulumi.ResourceOptions(
                    parent=secret, additional_secret_outputs=["secretData"], ignore_changes=["secretData"],
                    retain_on_delete=args.is_prod,
                ),
            )
            gcp.secretmanager.SecretIamMember(
                f"{name}-{s.name}-eso",
                secret_id=secret.id,
                project=project,
                role="roles/secretmanager.secretAccessor",
                member=self.account.member,
                opts=pulumi.ResourceOptions(parent=secret),
            )
            self.secrets[s.name] = secret
        self.store = SecretStoreSpec(
            provider={"gcpsm": {"projectID": project}},
            service_account_annotations={"iam.gke.io/gcp-service-account": self.account.email},
            remote_keys={s.name: f"inferstack-{args.stack}-{s.name}" for s in args.secrets},
        )
        self.register_outputs({"serviceAccount": self.account.email, "secrets": {k: v.id for k, v in self.secrets.items()}})
