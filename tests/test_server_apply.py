"""scripts/server_apply.py without an API server: its command line refuses bad input (exit 2, one `error:` line),
and its pure parts (CRDs built from schema files, version order, Warning headers, the second-apply comparison)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import urllib3

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "server_apply.py"


def _load():
    spec = importlib.util.spec_from_file_location("server_apply_unit", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["server_apply_unit"] = module
    spec.loader.exec_module(module)
    return module


sa = _load()


def _run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=cwd, timeout=60)


# ------------------------------------------------------------------ bad input


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: a\n"
        "clusters: [{name: a, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: a, user: {token: t}}]\n"
        "contexts: [{name: a, context: {cluster: a, user: a}}]\n"
    )
    return path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kubeconfig", "/nonexistent/kubeconfig", "--stack", "dev"], "error: --kubeconfig /nonexistent/kubeconfig: no such file"),
        (["--stack", "nope"], "error: --stack nope: no stacks/Pulumi.nope.yaml (have: dev, staging, prod, gcp-dev, gcp-prod)"),
        (["--example", "nope"], "error: --example nope: want examples/nope/__main__.py and one Pulumi.<stack>.yaml"),
        (["/nonexistent/dir"], "error: DIR /nonexistent/dir: not a directory of rendered manifests"),
        ([], "error: nothing to apply: give --all, --stack S, --example E or DIR"),
        (["--context", "other", "--stack", "dev"], "error: --context 'other': not in"),
        (["--schemas", "/nonexistent/schemas", "--stack", "dev"], "error: --schemas /nonexistent/schemas: not a directory"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(kubeconfig: Path, args: list[str], message: str) -> None:
    if "--kubeconfig" not in args:
        args = ["--kubeconfig", str(kubeconfig), *args]
    proc = _run(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_schema_file_without_its_keys_is_refused(kubeconfig: Path, tmp_path: Path) -> None:
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    (schemas / "x.json").write_text('{"group": "g.io", "kind": "K"}')
    (tmp_path / "m").mkdir()
    proc = _run("--kubeconfig", str(kubeconfig), "--schemas", str(schemas), str(tmp_path / "m"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"error: --schemas {schemas / 'x.json'}: lacks version, openAPIV3Schema "
                                   "(want group, version, kind, openAPIV3Schema)")


# ------------------------------------------------------------------ pure parts


def _schema(group: str, version: str, kind: str, source: str = "") -> dict:
    return {"group": group, "version": version, "kind": kind, "source": source,
            "openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object",
                                "x-kubernetes-validations": [{"rule": "true", "message": version}]}}}}


def test_versions_of_one_kind_go_into_one_crd_with_the_newest_stored() -> None:
    src = "kserve/kserve at tag v0.20.0, config/crd/full/llmisvc/serving.kserve.io_llminferenceservices.yaml"
    crds = sa.build_crds([
        _schema("serving.kserve.io", "v1alpha2", "LLMInferenceService", src),
        _schema("serving.kserve.io", "v1alpha1", "LLMInferenceService", src),
        _schema("karpenter.sh", "v1", "NodePool", "aws/karpenter-provider-aws, pkg/apis/crds/karpenter.sh_nodepools.yaml"),
        _schema("kueue.x-k8s.io", "v1beta2", "Topology", "kubernetes-sigs/kueue, kueue.x-k8s.io_topologies.yaml"),
    ])
    by_name = {c["metadata"]["name"]: c for c in crds}
    assert sorted(by_name) == ["llminferenceservices.serving.kserve.io", "nodepools.karpenter.sh",
                               "topologies.kueue.x-k8s.io"]
    llm = by_name["llminferenceservices.serving.kserve.io"]["spec"]
    assert [(v["name"], v["storage"], v["served"]) for v in llm["versions"]] == [
        ("v1alpha1", False, True), ("v1alpha2", True, True)]
    assert llm["scope"] == "Namespaced" and llm["names"]["plural"] == "llminferenceservices"
    # CEL rules are kept as they are.
    assert llm["versions"][1]["schema"]["openAPIV3Schema"]["properties"]["spec"]["x-kubernetes-validations"] == [
        {"rule": "true", "message": "v1alpha2"}]
    assert by_name["nodepools.karpenter.sh"]["spec"]["scope"] == "Cluster"
    assert by_name["topologies.kueue.x-k8s.io"]["spec"]["scope"] == "Cluster"


def test_version_priority_is_kubernetes_order() -> None:
    versions = ["v1alpha1", "v2", "v1beta1", "v1", "v1beta2", "v1alpha2", "v10alpha1"]
    assert sorted(versions, key=sa.version_priority) == [
        "v1alpha1", "v1alpha2", "v10alpha1", "v1beta1", "v1beta2", "v1", "v2"]


def test_each_warning_header_is_kept_apart() -> None:
    r = requests.Response()
    r.raw = urllib3.HTTPResponse(headers=urllib3.HTTPHeaderDict([
        ("Warning", '299 - "would violate PodSecurity \\"restricted:latest\\": privileged (container \\"c\\")"'),
        ("Warning", '299 - "a, b"'),
    ]))
    assert sa.warnings_of(r) == ['would violate PodSecurity "restricted:latest": privileged (container "c")', "a, b"]


def test_second_apply_comparison() -> None:
    first = {"metadata": {"resourceVersion": "5", "generation": 1, "managedFields": [{"time": "t1"}]}, "spec": {"a": 1}}
    assert sa.changed(first, first) is None
    moved = {"metadata": {"resourceVersion": "6", "generation": 1, "managedFields": [{"time": "t2"}]}, "spec": {"a": 1}}
    assert sa.changed(first, moved) is None  # managed fields aside
    written = {"metadata": {"resourceVersion": "6", "generation": 2}, "spec": {"a": 2}}
    assert sa.changed(first, written) == "resourceVersion 5 -> 6, generation 1 -> 2"


def test_namespaces_and_crds_go_first() -> None:
    objs = [{"kind": "Role"}, {"kind": "Namespace"}, {"kind": "CustomResourceDefinition"}, {"kind": "ConfigMap"}]
    assert [[o["kind"] for o in g] for g in sa.phases(objs)] == [
        ["Namespace", "CustomResourceDefinition"], ["Role", "ConfigMap"]]


def test_pod_specs_of_custom_resources_merge_the_model_onto_our_runtime() -> None:
    runtime = {"apiVersion": "serving.kserve.io/v1alpha1", "kind": "ClusterServingRuntime", "metadata": {"name": "rt"},
               "spec": {"supportedModelFormats": [{"name": "huggingface"}], "hostIPC": False,
                        "containers": [{"name": "kserve-container", "image": "vllm:1", "securityContext": {"runAsUser": 1000}}]}}
    isvc = {"kind": "InferenceService", "metadata": {"name": "m", "namespace": "ns"},
            "spec": {"predictor": {"minReplicas": 1, "nodeSelector": {"a": "b"},
                                   "model": {"runtime": "rt", "args": ["--x"], "modelFormat": {"name": "huggingface"}}}}}
    [(path, pod)] = sa.pod_specs_of(isvc, [runtime, isvc])
    assert path == "spec.predictor"
    assert pod["hostIPC"] is False and pod["nodeSelector"] == {"a": "b"}
    assert pod["containers"][0] == {"name": "kserve-container", "image": "vllm:1", "securityContext": {"runAsUser": 1000},
                                    "runtime": "rt", "args": ["--x"], "modelFormat": {"name": "huggingface"}}
    # Without a runtime of ours (KServe's built-in one) only the model's own fields are judged.
    [(_, alone)] = sa.pod_specs_of(isvc, [isvc])
    assert alone["containers"][0]["name"] == "kserve-container" and "image" not in alone["containers"][0]
    assert sa.pod_specs_of(runtime, [runtime]) == []  # judged through the InferenceServices that run it
    llm = {"kind": "LLMInferenceService", "metadata": {"name": "l", "namespace": "ns"},
           "spec": {"template": {"containers": [{"name": "main"}]}, "prefill": {"worker": {"containers": []}}}}
    assert [p for p, _ in sa.pod_specs_of(llm, [llm])] == ["spec.template", "spec.prefill.worker"]


def test_kserve_preset_templates_are_probed_per_branch() -> None:
    """A KServe preset's ``{{ if .GlobalConfig.EnableTLS }}HTTPS{{else}}HTTP{{- end }}`` is executed by the controller
    before the pod exists: the probe takes each branch; other template actions stay as they are."""
    sa = _load()
    spec = {"containers": [{"name": "main", "livenessProbe": {"httpGet": {
        "scheme": "{{ if .GlobalConfig.EnableTLS }}HTTPS{{else}}HTTP{{- end }}", "port": 8000}}}],
        "volumes": [{"name": "certs", "secret": {"secretName": "{{ ChildName .ObjectMeta.Name `-certs` }}"}}]}
    tls, plain = sa.render_go_if_else(spec, 1), sa.render_go_if_else(spec, 2)
    assert tls["containers"][0]["livenessProbe"]["httpGet"]["scheme"] == "HTTPS"
    assert plain["containers"][0]["livenessProbe"]["httpGet"]["scheme"] == "HTTP"
    assert tls["volumes"] == spec["volumes"] and "LLMInferenceServiceConfig" in sa.TEMPLATED_PRESET_KINDS
    assert sa.REPLACED_ON_CHANGE == {"ResourceClaimTemplate"}
