"""Serving under the offline engine: install order and pins, InferenceServices, service accounts, RBAC, PDBs.

Core objects (Namespace, ServiceAccount, Role, RoleBinding, ClusterRoleBinding, PodDisruptionBudget) are validated
against the Kubernetes OpenAPI schemas with ``kubernetes-validate``; InferenceServices against KServe's CRD schema in
``make conformance``.
"""

from __future__ import annotations

import kubernetes_validate
import pytest

from inferstack.catalog.versions import CHARTS, EKS_VERSION, KNATIVE_SERVING_VERSION
from inferstack.cli.render import kubernetes_objects
from inferstack.engine import redact
from inferstack.serving.canary import traffic
from tests.conftest import REFERENCE_STACKS, recording, stack_config

ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
RELEASE = "kubernetes:helm.sh/v3:Release"
CORE_KINDS = {"Namespace", "ServiceAccount", "Role", "RoleBinding", "ClusterRoleBinding", "PodDisruptionBudget"}


def isvcs(stack: str) -> dict[str, dict]:
    return {f"{i['metadata']['namespace']}/{i['metadata']['name']}": i for i in (redact(r.inputs) for r in recording(stack).by_type(ISVC))}


def predictive(stack: str) -> list:
    """The models served as InferenceServices (no ``llm``)."""
    return [m for m in stack_config(stack).settings.models if m.llm is None]


def serving_release(stack: str, suffix: str):
    return recording(stack).find(RELEASE, f"{stack}-serving-stack-{suffix}")


@pytest.mark.parametrize("stack", REFERENCE_STACKS)
def test_one_inference_service_per_model(stack):
    assert sorted(isvcs(stack)) == sorted(f"{m.namespace}/{m.name}" for m in predictive(stack))


@pytest.mark.parametrize("stack", ["prod", "gcp-prod"])
def test_prod_stacks_serve_predictive_models_on_gpu_and_inf2_or_tpu_and_a_batched_standard_model(stack):
    objs = isvcs(stack)
    assert len(objs) >= 2
    limits = [o["spec"]["predictor"]["model"]["resources"]["limits"] for o in objs.values()]
    special = "aws.amazon.com/neuron" if stack == "prod" else "google.com/tpu"
    assert any(special in lim for lim in limits) and any("nvidia.com/gpu" in lim for lim in limits)
    batched = [o for o in objs.values() if "batcher" in o["spec"]["predictor"]]
    assert batched and all(o["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Standard" for o in batched)


@pytest.mark.parametrize("stack", REFERENCE_STACKS)
def test_inference_services_are_knative_cluster_local_and_tag_routed(stack):
    for obj in isvcs(stack).values():
        meta = obj["metadata"]
        if meta["annotations"]["serving.kserve.io/deploymentMode"] == "Standard":
            continue  # tests/serving/test_llm.py::test_standard_mode_model_is_batched_cluster_local_and_external_scaled
        assert meta["annotations"]["serving.kserve.io/deploymentMode"] == "Knative"
        assert meta["annotations"]["serving.kserve.io/enable-tag-routing"] == "true"
        assert meta["annotations"]["serving.knative.dev/progress-deadline"].endswith("s")
        assert meta["labels"]["networking.knative.dev/visibility"] == "cluster-local"
        pred = obj["spec"]["predictor"]
        assert pred["serviceAccountName"] == "inferstack-serving"
        assert pred["scaleMetric"] in ("concurrency", "rps")
        assert 0 <= pred["minReplicas"] <= pred["maxReplicas"]


@pytest.mark.parametrize("stack", REFERENCE_STACKS)
def test_storage_uri_is_the_served_registry_version(stack):
    cfg = stack_config(stack)
    scheme = "s3" if cfg.cloud.value == "aws" else "gs"
    for m in predictive(stack):
        uri = isvcs(stack)[f"{m.namespace}/{m.name}"]["spec"]["predictor"]["model"]["storageUri"]
        assert uri.startswith(f"{scheme}://") and uri.endswith(f"/models/{m.registry_model}/v{traffic(m).serving_version}/")


@pytest.mark.parametrize("stack", REFERENCE_STACKS)
def test_canary_fields_follow_the_entry(stack):
    for m in predictive(stack):
        pred = isvcs(stack)[f"{m.namespace}/{m.name}"]
        t = traffic(m)
        assert pred["spec"]["predictor"].get("canaryTrafficPercent") == t.percent
        assert pred["metadata"]["annotations"]["inferstack.io/stable-version"] == m.version
        assert pred["metadata"]["annotations"].get("inferstack.io/canary-version") == t.canary
        assert pred["spec"]["predictor"]["labels"] == {"inferstack.io/model": m.name, "inferstack.io/version": t.serving_version}


@pytest.mark.parametrize("stack", REFERENCE_STACKS)
def test_accelerator_scheduling_matches_the_pool(stack):
    cfg = stack_config(stack)
    for m in predictive(stack):
        if m.pool is None:
            continue
        pred = isvcs(stack)[f"{m.namespace}/{m.name}"]["spec"]["predictor"]
        kind = cfg.pool(m.pool).kind
        assert pred["nodeSelector"]["inferstack.io/accelerator"] == kind
        assert pred["nodeSelector"]["inferstack.io/pool"] == m.pool
        tol, *extra = pred["tolerations"]
        # GKE pools also taint their nodes with the pool's ComputeClass (tolerated explicitly).
        assert extra == ([] if cfg.cloud.value == "aws" else [
            {"key": "cloud.google.com/compute-class", "operator": "Equal", "value": f"inferstack-{m.pool}", "effect": "NoSchedule"}
        ])
        res = pred["model"]["resources"]
        if cfg.pool(m.pool).allocation.value == "dra":
            # DRA pool: no extended resource; the pod claims its GPUs through the model's ResourceClaimTemplate.
            assert tol["key"] not in res["limits"] and res["claims"] == [{"name": "gpu"}]
            assert pred["resourceClaims"] == [{"name": "gpu", "resourceClaimTemplateName": f"{m.name}-gpu"}]
        else:
            assert res["limits"][tol["key"]] == res["requests"][tol["key"]] == m.accelerators
        if kind.startswith("tpu-"):
            assert pred["nodeSelector"]["cloud.google.com/gke-tpu-accelerator"] == "tpu-v5-lite-podslice"


@pytest.mark.parametrize("stack", REFERENCE_STACKS)
def test_service_accounts_carry_the_registry_reader_identity(stack):
    cfg = stack_config(stack)
    rec = recording(stack)
    sas = [redact(r.inputs) for r in rec.by_type("kubernetes:core/v1:ServiceAccount") if "-serving-" in r.name]
    assert sorted(sa["metadata"]["namespace"] for sa in sas) == cfg.team_namespaces
    for sa in sas:
        assert sa["metadata"]["name"] == "inferstack-serving"
        assert sa["automountServiceAccountToken"] is False
        if cfg.cloud.value == "aws":
            assert sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")
        else:
            assert sa["metadata"]["annotations"]["iam.gke.io/gcp-service-account"].endswith(".iam.gserviceaccount.com")


@pytest.mark.parametrize("stack", REFERENCE_STACKS)
def test_pdb_only_for_models_keeping_two_replicas(stack):
    cfg = stack_config(stack)
    pdbs = [redact(r.inputs) for r in recording(stack).by_type("kubernetes:policy/v1:PodDisruptionBudget")]
    isvc_pdbs = sorted(p["spec"]["selector"]["matchLabels"]["serving.kserve.io/inferenceservice"] for p in pdbs
                       if "serving.kserve.io/inferenceservice" in p["spec"]["selector"]["matchLabels"])
    assert isvc_pdbs == sorted(m.name for m in predictive(stack) if m.min_replicas >= 2)
    llm_pdbs = sorted(p["metadata"]["name"] for p in pdbs if "inferstack.io/version" in p["spec"]["selector"]["matchLabels"])
    assert llm_pdbs == sorted(
        f"{m.name}-v{v}" for m in cfg.settings.models if m.llm is not None and m.min_replicas >= 2 for v in traffic(m).split
    )
    assert all(p["spec"]["maxUnavailable"] == 1 for p in pdbs)


@pytest.mark.parametrize("stack", REFERENCE_STACKS)
def test_team_rbac_is_explicit_and_cluster_admin_only_for_platform_admins(stack):
    cfg = stack_config(stack)
    rec = recording(stack)
    for role in rec.by_type("kubernetes:rbac.authorization.k8s.io/v1:Role"):
        for rule in redact(role.inputs)["rules"]:
            assert all("*" not in rule[k] for k in ("apiGroups", "resources", "verbs"))
            assert "secrets" not in rule["resources"]
    bindings = [redact(r.inputs) for r in rec.by_type("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")]
    assert {b["subjects"][0]["name"] for b in bindings} == {
        g for ns in cfg.team_namespaces for g in (f"inferstack:team:{ns}", f"inferstack:team:{ns}:deployers")
    }
    admins = [redact(r.inputs) for r in rec.by_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")
              if redact(r.inputs)["roleRef"]["name"] == "cluster-admin"]
    assert admins and all(b["subjects"] == [{"kind": "Group", "name": cfg.settings.policy.platform_admin_group,
                                             "apiGroup": "rbac.authorization.k8s.io"}] for b in admins)


@pytest.mark.parametrize("stack", ["prod", "gcp-dev"])
def test_serving_stack_charts_are_pinned_and_ordered(stack):
    rec = recording(stack)
    for key, suffix in [("cert-manager", "cert-manager"), ("knative-operator", "knative-operator"), ("kserve-crd", "kserve-crd"),
                        ("kserve", "kserve"), ("kserve-runtime-configs", "kserve-runtimes")]:
        inputs = redact(serving_release(stack, suffix).inputs)
        assert inputs["version"] == CHARTS[key].version
        assert inputs["chart"].endswith(CHARTS[key].chart)
    kserve = serving_release(stack, "kserve")
    assert redact(kserve.inputs)["values"]["kserve"]["controller"]["deploymentMode"] == "Knative"
    ks = rec.find("kubernetes:operator.knative.dev/v1beta1:KnativeServing", f"{stack}-serving-stack-knative-serving")
    assert ks.urn in kserve.dependencies
    assert serving_release(stack, "kserve-crd").urn in kserve.dependencies
    assert serving_release(stack, "cert-manager").urn in serving_release(stack, "kserve-crd").dependencies
    spec = redact(ks.inputs)["spec"]
    assert spec["version"] == KNATIVE_SERVING_VERSION
    assert spec["ingress"]["kourier"] == {"enabled": True, "service-type": "ClusterIP"}
    assert spec["config"]["features"]["kubernetes.podspec-tolerations"] == "enabled"
    assert spec["config"]["autoscaler"]["enable-scale-to-zero"] == ("true" if stack.endswith("dev") else "false")
    for r in rec.by_type(ISVC):
        assert serving_release(stack, "kserve-runtimes").urn in r.dependencies


@pytest.mark.parametrize("stack", REFERENCE_STACKS)
def test_components_follow_pulumi_conventions(stack):
    rec = recording(stack)
    serving = [r for r in rec.resources if r.type.startswith(("inferstack:serving:", "inferstack:teams:"))]
    assert {r.type for r in serving} >= {"inferstack:serving:Serving", "inferstack:serving:ServingStack",
                                         "inferstack:serving:ModelService", "inferstack:teams:TeamNamespace"}
    for comp in serving:
        for child in rec.children(comp.urn):
            assert child.name.startswith(comp.name), (comp.name, child.name)


@pytest.mark.parametrize("stack", REFERENCE_STACKS)
def test_core_objects_validate_against_kubernetes_schemas(stack):
    objs = [o for o in kubernetes_objects(recording(stack)) if o.get("kind") in CORE_KINDS]
    assert {o["kind"] for o in objs} >= {"Namespace", "ServiceAccount", "Role", "RoleBinding", "ClusterRoleBinding"}
    for obj in objs:
        kubernetes_validate.validate(obj, EKS_VERSION, strict=True)
