"""The serving step of the program: the serving stack, team namespaces, service accounts and one component per model.

:class:`Serving` composes :class:`~inferstack.serving.install.ServingStack`, a
:class:`~inferstack.components.teams.TeamNamespace` per namespace that has models, the namespace's
``inferstack-serving`` service account (annotated with the registry's read-only identity: IRSA role ARN on EKS,
Google service account on GKE; no API token mounted), :class:`~inferstack.components.teams.PlatformAdmins`, and per
model entry (:func:`model_component`) a :class:`~inferstack.serving.llm.LLMService` (``llm`` set) or a
:class:`~inferstack.serving.inference.ModelService` (predictive).
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from inferstack.catalog.accelerators import CATALOG
from inferstack.components.dra import resource_claim_template, resource_claim_template_resource
from inferstack.components.platform import SERVING_SERVICE_ACCOUNT, PlatformOutputs, RegistryOutputs
from inferstack.components.teams import PlatformAdmins, TeamNamespace
from inferstack.config import Cloud, ServingArgs
from inferstack.config.platform import WorkloadClass
from inferstack.config.serving import ModelConfig
from inferstack.registry.layout import storage_uri
from inferstack.serving.canary import traffic
from inferstack.serving.inference import ModelService
from inferstack.serving.install import ServingStack
from inferstack.serving.kueue import Kueue, workload_metadata
from inferstack.serving.llm import LLMService, members
from inferstack.serving.monitoring import ModelObservability, MonitoringStack
from inferstack.serving.placement import placement
from inferstack.serving.slo import SloRules


def registry_uri(registry: RegistryOutputs | None, registry_model: str, version: str) -> pulumi.Output[str] | None:
    """``<scheme>://<bucket>/models/<registryModel>/v<version>/`` (None without a registry)."""
    if registry is None:
        return None
    return registry.bucket.apply(lambda bucket: storage_uri(registry.scheme, bucket, registry_model, version))


def model_storage_uri(model: ModelConfig, registry: RegistryOutputs | None) -> pulumi.Output[str] | None:
    """``<scheme>://<bucket>/models/<registryModel>/v<version>/`` of the version the spec serves (the canary's, if any)."""
    return registry_uri(registry, model.registry_model, traffic(model).serving_version)


class Serving(pulumi.ComponentResource):
    """Everything serving declares on a cluster for one stack: the serving stack, teams, service accounts and models.

    Provisions :class:`ServingStack` (cert-manager, Knative Serving with Kourier, KServe); :class:`PlatformAdmins`;
    per team namespace (those of the models and ``teamNamespaces``) a :class:`TeamNamespace` and the ServiceAccount ``inferstack-serving`` annotated
    with the registry's read-only identity (``eks.amazonaws.com/role-arn`` or ``iam.gke.io/gcp-service-account``);
    and per ``inferstack:models`` entry (:func:`model_component`) an :class:`LLMService` (``llm`` set: one
    LLMInferenceService per version, weighted by the canary's percent) or a :class:`ModelService` (predictive),
    placed on its accelerator pool, serving ``<scheme>://<bucket>/models/<registryModel>/v<version>/``.

    Args:
        name (str): component name; children are ``<name>-stack``, ``<name>-admins``, ``<name>-team-<ns>``,
            ``<name>-<ns>-sa``, ``<name>-<ns>-<model>`` (ModelService or LLMService).
        args (ServingArgs): ``models``, ``accelerator_pools``, ``team_namespaces``, ``access_entries`` (bound on GKE)
            and ``policy`` (``platformAdminGroup``, ``allowPublicInference``); ``StackConfig.serving_args()``.
        platform (PlatformOutputs): provider, ``pools`` (node selectors and taints), workload identity and ``ready``.
        registry (RegistryOutputs | None): bucket and reader identity; None declares models without a ``storageUri``
            and service accounts without an identity.
        opts (pulumi.ResourceOptions | None, default None): options of the component.

    Outputs:
        stack (ServingStack), admins (PlatformAdmins), teams (dict[str, TeamNamespace]),
        service_accounts (dict[str, k8s.core.v1.ServiceAccount]), models (list[ModelService | LLMService]).
        Registered outputs: ``models`` (``<namespace>/<name>``).

    Secure choices:
        - models are cluster-local unless ``public`` and ``policy.allowPublicInference`` are both set;
        - predictors run as ``inferstack-serving`` with read-only registry access and no API token mounted;
        - teams get read-only RBAC; ``cluster-admin`` only for the platform-admin group.
    """

    def __init__(
        self,
        name: str,
        args: ServingArgs,
        platform: PlatformOutputs,
        registry: RegistryOutputs | None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("inferstack:serving:Serving", name, None, opts)
        provider = platform.k8s_provider
        self.stack = ServingStack(f"{name}-stack", args, platform, opts=pulumi.ResourceOptions(parent=self))
        self.admins = PlatformAdmins(
            f"{name}-admins", args.policy.platform_admin_group, provider, opts=pulumi.ResourceOptions(parent=self)
        )
        self.teams: dict[str, TeamNamespace] = {}
        self.service_accounts: dict[str, k8s.core.v1.ServiceAccount] = {}
        annotation_key = platform.identity.service_account_annotation_key()
        for ns in args.team_namespaces:
            team = TeamNamespace(
                f"{name}-team-{ns}", ns, provider, depends_on=list(platform.ready), opts=pulumi.ResourceOptions(parent=self),
                # On EKS access entries map IAM principals to these groups; GKE binds the Google principals directly.
                google_principals=args.access_entries if platform.cloud is Cloud.GCP else (),
            )
            self.teams[ns] = team
            has_identity = registry is not None and registry.reader_identity is not None
            annotations = {annotation_key: registry.reader_identity} if has_identity else {}
            self.service_accounts[ns] = k8s.core.v1.ServiceAccount(
                f"{name}-{ns}-sa",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=SERVING_SERVICE_ACCOUNT,
                    namespace=ns,
                    labels={"app.kubernetes.io/managed-by": "inferstack"},
                    annotations=annotations,
                ),
                automount_service_account_token=False,
                opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[team.namespace]),
            )
        # Kueue (serving/kueue.py): queues of the accelerator pools and of each team namespace; queued models wait for it.
        self.kueue: Kueue | None = None
        if args.scheduling.enabled and args.accelerator_pools:
            self.kueue = Kueue(
                f"{name}-kueue", args, platform, depends_on=[t.namespace for t in self.teams.values()],
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.models: list[ModelService | LLMService] = [
            model_component(f"{name}-{model.namespace}-{model.name}", model, args, platform, registry, self)
            for model in args.models
        ]
        # Observability and autoscaling (serving/monitoring.py): metrics stack, then per model its PodMonitor,
        # KEDA ScaledObject and Grafana dashboard.
        self.monitoring = MonitoringStack(f"{name}-monitoring", args.environment, platform, opts=pulumi.ResourceOptions(parent=self))
        self.observability = [
            ModelObservability(
                f"{name}-{model.namespace}-{model.name}-obs", model, args.environment, provider,
                depends_on=[*self.monitoring.ready, self.service_accounts[model.namespace]], opts=pulumi.ResourceOptions(parent=self),
            )
            for model in args.models
        ]
        # SLO rules (serving/slo.py): a PrometheusRule per model with an ``slo``, in the model's namespace, after the
        # metrics stack (its PrometheusRule CRD).
        self.slo_rules: list[SloRules] = [
            SloRules(
                f"{name}-{m.namespace}-{m.name}-slo", m, provider,
                depends_on=[self.teams[m.namespace].namespace, *self.monitoring.ready], opts=pulumi.ResourceOptions(parent=self),
            )
            for m in args.models
            if m.slo is not None
        ]
        self.register_outputs({"models": [f"{m.namespace}/{m.name}" for m in args.models]})


def model_component(
    name: str, model: ModelConfig, args: ServingArgs, platform: PlatformOutputs, registry: RegistryOutputs | None, serving: Serving
) -> ModelService | LLMService:
    """The component of one model: an :class:`LLMService` when ``llm`` is set, else a :class:`ModelService`."""
    pool = args.pool(model.pool) if model.pool else None
    info = platform.pools.get(model.pool) if model.pool else None
    place = placement(model, pool, platform.cloud, info)
    opts = pulumi.ResourceOptions(parent=serving)
    sa = serving.service_accounts[model.namespace]
    claims: list[pulumi.Resource] = []
    if place.claim_template and pool is not None:
        # DRA pool: the model's pods claim their GPUs through this template (components/dra.py).
        obj = resource_claim_template(model.name, model.namespace, pool.kind, model.accelerators, CATALOG[pool.kind].device_memory_gib)
        claims.append(resource_claim_template_resource(
            f"{name}-gpu-claim", obj,
            pulumi.ResourceOptions(parent=serving, provider=platform.k8s_provider, depends_on=[serving.teams[model.namespace].namespace]),
        ))
    if model.llm is not None:
        uris = {m.version: registry_uri(registry, model.registry_model, m.version) for m in members(model)}
        adapters = {a.name: registry_uri(registry, a.registry_model, a.version) for a in model.llm.lora_adapters}
        workload = pool.workload if pool else WorkloadClass.STANDARD
        kueue = serving.kueue
        labels, annotations = workload_metadata(model, workload, platform.cloud, kueue.plan) if kueue else ({}, {})
        return LLMService(
            name,
            model,
            place,
            {k: v for k, v in uris.items() if v is not None},
            platform.k8s_provider,
            adapter_uris={k: v for k, v in adapters.items() if v is not None},
            workload=workload,
            depends_on=[*serving.stack.ready, *serving.stack.llm_ready, sa, *claims, *(kueue.ready if kueue and labels else [])],
            opts=opts,
            queue_labels=labels,
            queue_annotations=annotations,
        )
    return ModelService(
        name,
        model,
        place,
        model_storage_uri(model, registry),
        platform.k8s_provider,
        public=model.public and args.policy.allow_public_inference,
        depends_on=[*serving.stack.ready, sa, *claims],
        opts=opts,
    )
