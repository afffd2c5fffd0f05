"""External Secrets Operator: the pinned chart, one ClusterSecretStore and an ExternalSecret per secret and namespace.

The controller's service account carries the cloud identity (IRSA role or Google service account), so the store
holds no credentials. The store is usable only from the namespaces that receive secrets. Kubernetes Secrets are
created by the operator from the cloud store: no secret value is ever declared in a Kubernetes object.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from inferstack.catalog.versions import CHARTS
from inferstack.components.helm import addon_release
from inferstack.components.platform import PlatformOutputs
from inferstack.config.registry import SecretConfig

ESO_NAMESPACE = CHARTS["external-secrets"].namespace
ESO_SERVICE_ACCOUNT = "external-secrets"
STORE_NAME = "inferstack-secrets"


@dataclass
class SecretStoreSpec:
    """What a cloud's secrets component hands to External Secrets: provider block, controller SA annotations, remote keys."""

    provider: dict
    service_account_annotations: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    #: secret name → key of the entry in the cloud store.
    remote_keys: dict[str, str] = field(default_factory=dict)


def existing_store_keys(stack: str, secrets: list[SecretConfig]) -> dict[str, str]:
    """Remote key of each secret in an existing cluster's own store: ``inferstack/<stack>/<name>`` (the AWS layout)."""
    return {s.name: f"inferstack/{stack}/{s.name}" for s in secrets}


def secret_value(value_from: str | None) -> pulumi.Output[str]:
    """The secure config value named ``namespace:key``, as a Pulumi secret (never read as plaintext config).
    ValueError without one: a cloud's secret store is written from ``valueFrom``."""
    if value_from is None:
        raise ValueError("a secret written to the cloud's secret store needs valueFrom (the secure config key of its value)")
    ns, _, key = value_from.partition(":")
    return pulumi.Output.secret(pulumi.Config(ns).require_secret(key))


def external_secret_spec(secret: SecretConfig, remote_key: str, store_name: str = STORE_NAME) -> dict:
    """The ExternalSecret spec delivering ``secret`` as a Kubernetes Secret owned by the operator."""
    return {
        "refreshInterval": secret.refresh_interval,
        "secretStoreRef": {"name": store_name, "kind": "ClusterSecretStore"},
        "target": {"name": secret.name, "creationPolicy": "Owner", "deletionPolicy": "Retain"},
        "data": [{"secretKey": secret.key, "remoteRef": {"key": remote_key}}],
    }


class ExternalSecrets(pulumi.ComponentResource):
    """External Secrets Operator from its pinned chart, one ClusterSecretStore, and an ExternalSecret per secret and namespace.

    Provisions the ``external-secrets`` Helm release (``CHARTS["external-secrets"]``, CRDs on) whose controller
    service account carries the cloud identity of ``store``; the ClusterSecretStore ``inferstack-secrets`` on the
    cloud's secret store (``store.provider``), usable only from the namespaces that receive secrets; and for every
    secret and namespace an ``ExternalSecret`` that creates the Kubernetes Secret ``<name>`` with key ``<key>``.

    Args:
        name (str): component name; children are ``<name>-eso``, ``<name>-store``, ``<name>-<secret>-<namespace>``.
        platform (PlatformOutputs): the cluster's provider and ``ready`` resources.
        store (SecretStoreSpec): from :class:`AwsSecrets` or :class:`GcpSecrets`: provider block, controller
            service account annotations, remote key per secret.
        secrets (list[SecretConfig]): ``inferstack:secrets``.
        depends_on (list[pulumi.Resource] | None, default None): extra resources to wait for (the cloud secrets).
        opts (pulumi.ResourceOptions | None, default None): options of the component.
        existing_store (str | None, default None): an existing cluster's own ClusterSecretStore: no store is
            declared, the ExternalSecrets read it (``store.remote_keys``: :func:`existing_store_keys`); the operator is
            installed only if ``platform`` does not have it (``externalSecrets`` add-on ``present``).

    Outputs:
        release (k8s.helm.v3.Release), store (k8s.apiextensions.CustomResource), external_secrets (list of them).
        Registered outputs: ``store``, ``externalSecrets`` (count).

    Secure choices:
        - the store holds no credentials: the controller uses workload identity (IRSA or GKE Workload Identity);
        - the store is limited to the target namespaces; the operator runs as non-root;
        - secret values never appear in a Kubernetes object Pulumi declares (created Secrets are owned by the
          operator and retained when an ExternalSecret is deleted).
    """

    def __init__(
        self,
        name: str,
        platform: PlatformOutputs,
        store: SecretStoreSpec,
        secrets: list[SecretConfig],
        depends_on: list[pulumi.Resource] | None = None,
        opts: pulumi.ResourceOptions | None = None,
        existing_store: str | None = None,
    ):
        super().__init__("inferstack:secrets:ExternalSecrets", name, None, opts)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=platform.k8s_provider, depends_on=[*platform.ready, *(depends_on or [])])
        self.release = addon_release(
            platform,
            f"{name}-eso",
            "external-secrets",
            {
                "installCRDs": True,
                "serviceAccount": {"create": True, "name": ESO_SERVICE_ACCOUNT, "annotations": store.service_account_annotations},
                "securityContext": {"runAsNonRoot": True},
            },
            k8s_opts,
            create_namespace=True,
        )
        after = pulumi.ResourceOptions(parent=self, provider=platform.k8s_provider, depends_on=[*platform.ready, *([self.release] if self.release else [])])
        namespaces = sorted({ns for s in secrets for ns in s.namespaces})
        self.store_name = existing_store or STORE_NAME
        self.store: k8s.apiextensions.CustomResource | None = None
        if existing_store is None:
            self.store = k8s.apiextensions.CustomResource(
                f"{name}-store",
                api_version="external-secrets.io/v1",
                kind="ClusterSecretStore",
                metadata={"name": STORE_NAME},
                spec={"provider": store.provider, "conditions": [{"namespaces": namespaces}]},
                opts=after,
            )
        store_opts = pulumi.ResourceOptions(
            parent=self, provider=platform.k8s_provider, depends_on=[self.store] if self.store else [*platform.ready, *(depends_on or [])]
        )
        self.external_secrets = [
            k8s.apiextensions.CustomResource(
                f"{name}-{s.name}-{ns}",
                api_version="external-secrets.io/v1",
                kind="ExternalSecret",
                metadata={"name": s.name, "namespace": ns, "labels": {"app.kubernetes.io/managed-by": "inferstack"}},
                spec=external_secret_spec(s, store.remote_keys[s.name], self.store_name),
                opts=store_opts,
            )
            for s in secrets
            for ns in s.namespaces
        ]
        self.register_outputs({"store": self.store_name, "externalSecrets": len(self.external_secrets)})
