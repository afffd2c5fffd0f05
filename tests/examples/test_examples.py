"""examples/: each is a complete Pulumi project built from the public API; it runs under the offline engine and
passes the policy pack (`inferstack policy check --program`) with zero mandatory findings."""

from __future__ import annotations

import ast
import functools
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

import inferstack.components
import inferstack.config
import inferstack.serving
from inferstack.config import read_stack_file
from inferstack.engine import STACK_OUTPUTS_KEY, ProgramError, Recording, run_program, unwrap_secrets

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
#: example -> its sample stack
STACKS = {"byo-eks": "prod", "team-serving": "prod"}
PUBLIC_MODULES = {"inferstack.components": inferstack.components, "inferstack.serving": inferstack.serving,
                  "inferstack.config": inferstack.config}

ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
RELEASE = "kubernetes:helm.sh/v3:Release"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
CLAIM_TEMPLATE = "kubernetes:resource.k8s.io/v1:ResourceClaimTemplate"


def _missing_public_names(example: str) -> list[str]:
    """Names the example imports from the public API that the API does not export."""
    tree = ast.parse((EXAMPLES / example / "__main__.py").read_text())
    missing = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in PUBLIC_MODULES:
            exported = set(getattr(PUBLIC_MODULES[node.module], "__all__", ()))
            missing += [f"{node.module}.{a.name}" for a in node.names if a.name not in exported]
    return missing


def _config(example: str, **changes: Any) -> tuple[str, dict[str, Any], frozenset[str]]:
    f = read_stack_file(EXAMPLES / example / f"Pulumi.{STACKS[example]}.yaml")
    config = {**f.config, **changes}
    return f.stack, config, f.secret_keys


def _run(example: str, **changes: Any) -> Recording:
    stack, config, secret_keys = _config(example, **changes)
    return run_program(stack, config, region=config["aws:region"], program=EXAMPLES / example / "__main__.py",
                       secret_keys=secret_keys)


@functools.cache
def _recording(example: str) -> Recording:
    return _run(example)


def _counts(rec: Recording) -> Counter[str]:
    return Counter(r.type for r in rec.resources)


# ---------------------------------------------------------------- every example


@pytest.mark.parametrize("example", sorted(STACKS))
def test_example_is_a_complete_project(example: str) -> None:
    d = EXAMPLES / example
    project = yaml.safe_load((d / "Pulumi.yaml").read_text())
    assert project["name"] == example and project["runtime"]["name"] == "python"
    version = re.search(r'^version = "([^"]+)"$', (REPO / "pyproject.toml").read_text(), re.M).group(1)
    text = (d / "requirements.txt").read_text()
    reqs = [line for line in text.splitlines() if line and not line.startswith("#")]
    # The library from this checkout (a path relative to the example, where Pulumi runs pip); the released form in a
    # comment, at the package's version.
    assert reqs == ["-e ../..[aws]"] and (d / "../.." / "pyproject.toml").resolve() == REPO / "pyproject.toml"
    assert f"#   inferstack[aws]=={version} " in text
    stack_file = yaml.safe_load((d / f"Pulumi.{STACKS[example]}.yaml").read_text())
    assert stack_file["config"]["inferstack:cloud"] == "aws"
    readme = (d / "README.md").read_text()
    for section in ("## Inputs", "## Outputs", "## Run it"):
        assert section in readme, f"examples/{example}/README.md lacks {section}"


@pytest.mark.parametrize("example", sorted(STACKS))
def test_example_imports_only_the_public_api(example: str) -> None:
    tree = ast.parse((EXAMPLES / example / "__main__.py").read_text())
    modules = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
    modules += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    ours = {m for m in modules if m.split(".")[0] == "inferstack"}
    assert ours and ours <= set(PUBLIC_MODULES), f"private imports: {sorted(ours - set(PUBLIC_MODULES))}"
    assert _missing_public_names(example) == [], "names not in the modules' __all__"


@pytest.mark.parametrize("example", sorted(STACKS))
def test_example_passes_the_policy_pack(example: str, tmp_path: Path) -> None:
    d = EXAMPLES / example
    report = tmp_path / "report.json"
    cmd = [sys.executable, "-m", "inferstack", "policy", "check", "--program", str(d / "__main__.py"),
           "--config", str(d / f"Pulumi.{STACKS[example]}.yaml"), "--json", str(report)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(report.read_text())
    assert doc["summary"]["findings"]["mandatory"] == 0
    assert [f for f in doc["findings"] if f["enforcementLevel"] == "mandatory"] == []


# ---------------------------------------------------------------- (a) bring-your-own EKS cluster


def test_byo_eks_adds_pools_and_serving_to_the_given_cluster() -> None:
    rec = _recording("byo-eks")
    _, config, _ = _config("byo-eks")
    counts = _counts(rec)
    # No cluster, VPC or key of its own: only what the existing cluster lacks.
    for absent in ("aws:eks/cluster:Cluster", "aws:ec2/vpc:Vpc", "aws:kms/key:Key", "aws:eks/nodeGroup:NodeGroup"):
        assert counts[absent] == 0, absent
    assert counts["pulumi:providers:aws"] == 1 and counts["pulumi:providers:kubernetes"] == 1
    assert counts["inferstack:aws:Karpenter"] == 1 and counts["aws:sqs/queue:Queue"] == 1
    # Two pools, each spot-first with an on-demand baseline: one EC2NodeClass and two NodePools per pool.
    assert counts[NODE_CLASS] == 2 and counts[NODE_POOL] == 4
    releases = sorted(r.inputs["name"] for r in rec.by_type(RELEASE))
    assert releases == sorted(["karpenter", "nvidia-device-plugin", "dcgm-exporter", "neuron", "cert-manager",
                               "knative-operator", "kserve-crd", "kserve", "kserve-runtime-configs",
                               "kube-prometheus-stack", "keda", "kueue"])
    # Kueue's queues for the two pools and the two teams, on the cluster's provider (checked below).
    queues = sorted(r.plain_inputs["metadata"]["name"] for r in rec.by_type("kubernetes:kueue.x-k8s.io/v1beta2:ClusterQueue"))
    assert queues == ["inferstack-ns-team-nlp", "inferstack-ns-team-search", "inferstack-pool-gpu-l4", "inferstack-pool-inf2"]
    assert counts[ISVC] == 2 and counts[PDB] == 2 and counts["inferstack:registry:AwsRegistry"] == 1

    # Every resource on the example's explicit providers (none on a default provider).
    assert not [r.urn for r in rec.resources if r.synthesized]
    aws_provider = rec.by_type("pulumi:providers:aws")[0]
    k8s_provider = rec.by_type("pulumi:providers:kubernetes")[0]
    assert aws_provider.inputs["region"] == "eu-central-1"
    assert k8s_provider.inputs["kubeconfig"].__class__.__name__ == "Secret"
    for r in rec.resources:
        if r.custom and not r.is_provider:
            expected = aws_provider if r.package == "aws" else k8s_provider
            assert r.provider and r.provider.startswith(expected.urn), r.urn


def test_byo_eks_wires_the_cluster_inputs() -> None:
    rec = _recording("byo-eks")
    _, config, _ = _config("byo-eks")
    cluster = config["byo-eks:clusterName"]
    tags = {(r.inputs["resourceId"], r.inputs["key"], r.inputs["value"]) for r in rec.by_type("aws:ec2/tag:Tag")}
    assert tags == {(s, "karpenter.sh/discovery", cluster) for s in config["byo-eks:subnetIds"]}
    for nc in rec.by_type(NODE_CLASS):
        spec = nc.plain_inputs["spec"]
        assert spec["subnetSelectorTerms"] == [{"tags": {"karpenter.sh/discovery": cluster}}]
        assert spec["securityGroupSelectorTerms"] == [{"id": config["byo-eks:nodeSecurityGroupId"]}]
        assert spec["blockDeviceMappings"][0]["ebs"]["kmsKeyID"] == config["byo-eks:kmsKeyArn"]
    for np in rec.by_type(NODE_POOL):
        zones = next(q for q in np.plain_inputs["spec"]["template"]["spec"]["requirements"] if q["key"] == "topology.kubernetes.io/zone")
        assert zones["values"] == config["byo-eks:zones"]
    issuer = config["byo-eks:oidcIssuerUrl"].removeprefix("https://")
    controller = rec.find("aws:iam/role:Role", "karpenter-controller")
    trust = json.loads(controller.plain_inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Federated": config["byo-eks:oidcProviderArn"]}
    assert trust["Condition"]["StringEquals"][f"{issuer}:sub"] == "system:serviceaccount:kube-system:karpenter"
    karpenter = next(r for r in rec.by_type(RELEASE) if r.inputs["name"] == "karpenter")
    assert karpenter.plain_inputs["values"]["settings"]["clusterName"] == cluster
    for isvc in rec.by_type(ISVC):
        predictor = isvc.plain_inputs["spec"]["predictor"]
        assert predictor["model"]["storageUri"].startswith("s3://registry-models-")
        assert predictor["nodeSelector"]["inferstack.io/pool"] in {"gpu-l4", "inf2"}


def test_byo_eks_leaves_kueue_out_when_scheduling_is_off() -> None:
    """A cluster that runs its own Kueue (or none): scheduling off, no chart and no queue; the rest unchanged."""
    rec = _run("byo-eks", **{"inferstack:scheduling": {"enabled": False}})
    releases = {r.inputs["name"] for r in rec.by_type(RELEASE)}
    assert "kueue" not in releases and "keda" in releases
    assert not [r.urn for r in rec.resources if "kueue.x-k8s.io" in r.type]


def test_byo_eks_runs_the_controllers_on_the_nodes_it_is_given() -> None:
    def selectors(rec: Recording) -> tuple[dict, dict]:
        releases = {r.inputs["name"]: r.plain_inputs["values"] for r in rec.by_type(RELEASE)}
        return releases["karpenter"]["nodeSelector"], releases["neuron"]["scheduler"]["nodeSelector"]

    assert selectors(_recording("byo-eks")) == ({"inferstack.io/pool": "system"},) * 2
    core = {"eks.amazonaws.com/nodegroup": "core"}
    assert selectors(_run("byo-eks", **{"byo-eks:systemNodeSelector": core})) == (core, core)


def test_byo_eks_rejects_settings_of_a_cluster_it_does_not_build() -> None:
    with pytest.raises(pulumi.RunError, match=r"inferstack:network: not used with a bring-your-own cluster"):
        _run("byo-eks", **{"inferstack:network": {"cidr": "10.0.0.0/16"}})
    with pytest.raises(pulumi.RunError, match=r"inferstack:acceleratorPools\[0\]\.kind: .*tpu-v5e"):
        _run("byo-eks", **{"inferstack:acceleratorPools": [{"name": "gpu-l4", "kind": "tpu-v5e"}]})


# ---------------------------------------------------------------- (b) team serving stack on a platform stack


def _platform_outputs() -> dict[str, Any]:
    _, config, _ = _config("team-serving")
    return config[STACK_OUTPUTS_KEY][config["team-serving:platformStack"]]["outputs"]


def test_team_serving_deploys_its_models_with_canaries_on_the_platform() -> None:
    rec = _recording("team-serving")
    counts = _counts(rec)
    # Only the team's objects: no cluster add-ons, namespaces, RBAC or cloud resources.
    assert set(counts) == {"pulumi:providers:kubernetes", "inferstack:serving:ModelService", ISVC, PDB, CLAIM_TEMPLATE}
    assert counts[ISVC] == 2 and counts[PDB] == 1  # summarize keeps one replica: no PDB
    assert counts[CLAIM_TEMPLATE] == 1  # summarize is on gpu-l40s (allocation: dra): its GPU claim template
    outputs = _platform_outputs()
    provider = rec.by_type("pulumi:providers:kubernetes")[0]
    assert provider.inputs["kubeconfig"].__class__.__name__ == "Secret"  # a secret output of the platform stack
    assert unwrap_secrets(provider.inputs["kubeconfig"]) == outputs["kubeconfig"]
    isvcs = {r.plain_inputs["metadata"]["name"]: r.plain_inputs for r in rec.by_type(ISVC)}
    bucket = outputs["registry_bucket"]
    expected = {"chat": ("gpu-l4", "5", 10, "llama-3-8b-instruct"), "summarize": ("gpu-l40s", "4", 25, "mistral-7b-instruct")}
    for name, (pool, canary, percent, model) in expected.items():
        obj = isvcs[name]
        predictor = obj["spec"]["predictor"]
        assert obj["metadata"]["namespace"] == "team-nlp"
        assert predictor["canaryTrafficPercent"] == percent
        assert predictor["model"]["storageUri"] == f"s3://{bucket}/models/{model}/v{canary}/"
        assert predictor["nodeSelector"] == outputs["pools"][pool]["nodeSelector"]
        assert predictor["tolerations"] == [{"key": outputs["pools"][pool]["taintKey"], "operator": "Exists", "effect": "NoSchedule"}]
        assert obj["metadata"]["annotations"]["inferstack.io/canary-version"] == canary
    for r in rec.resources:
        if r.custom and not r.is_provider:
            assert r.provider and r.provider.startswith(provider.urn), r.urn


def _named_claim_templates(obj: Any) -> set[str]:
    """Every ``resourceClaimTemplateName`` anywhere in an object (predictor, canary or any other pod spec)."""
    if isinstance(obj, dict):
        found = {obj["resourceClaimTemplateName"]} if isinstance(obj.get("resourceClaimTemplateName"), str) else set()
        return found.union(*(_named_claim_templates(v) for v in obj.values()))
    if isinstance(obj, list):
        return set().union(*(_named_claim_templates(v) for v in obj))
    return set()


def _two_dra_models() -> dict[str, Any]:
    """The sample's models with chat moved to the DRA pool too (replicas within gpu-l40s's six nodes)."""
    _, config, _ = _config("team-serving")
    models = [dict(m) for m in config["inferstack:models"]]
    models[0] = {**models[0], "pool": "gpu-l40s", "minReplicas": 1, "maxReplicas": 2}
    return {"inferstack:models": models}


@pytest.mark.parametrize("changes", [{}, _two_dra_models()], ids=["sample", "two-dra-models"])
def test_team_serving_declares_every_claim_template_its_predictors_name(changes: dict[str, Any]) -> None:
    """A predictor on a DRA pool claims its GPUs through ``<model>-gpu``: the team stack itself declares that
    template, in the predictor's namespace, as the platform's serving builds it, and the InferenceService waits for it
    (without it the pods would never be scheduled)."""
    rec = _run("team-serving", **changes) if changes else _recording("team-serving")
    _, config, _ = _config("team-serving", **changes)
    pools = _platform_outputs()["pools"]
    declared = {(r.plain_inputs["metadata"]["namespace"], r.plain_inputs["metadata"]["name"]): r for r in rec.by_type(CLAIM_TEMPLATE)}
    named: dict[tuple[str, str], Any] = {}
    for isvc in rec.by_type(ISVC):
        meta = isvc.plain_inputs["metadata"]
        for template in _named_claim_templates(isvc.plain_inputs["spec"]):
            named[(meta["namespace"], template)] = isvc
    dra_models = [m for m in config["inferstack:models"] if pools[m["pool"]].get("gpuAccess", {}).get("allocation") == "dra"]
    assert sorted(named) == sorted((m["namespace"], f"{m['name']}-gpu") for m in dra_models) != []
    missing = sorted(set(named) - set(declared))
    assert not missing, f"claim templates named by predictors but not declared in the team stack: {missing}"
    assert set(declared) == set(named)  # and none declared for a model that does not claim one
    for m in dra_models:
        key = (m["namespace"], f"{m['name']}-gpu")
        kind = pools[m["pool"]]["kind"]
        built = inferstack.components.resource_claim_template(
            m["name"], m["namespace"], kind, m["accelerators"], inferstack.components.CATALOG[kind].device_memory_gib
        )
        assert json.loads(json.dumps(declared[key].plain_inputs)) == json.loads(json.dumps(built)), key
        assert declared[key].urn in named[key].dependencies, f"{named[key].urn} does not wait for {key}"


def test_team_serving_declares_only_what_the_platforms_deployer_role_allows() -> None:
    """The identity running the team stack holds the platform's ``inferstack-team-deployer`` Role: every object the
    stack declares is one that Role lets it create, read, update and delete."""
    from inferstack.components.teams import DEPLOYER_RULES
    from inferstack.policies.rules.k8s_permissions import rule_grants

    rec = _recording("team-serving")
    kinds = {r.type for r in rec.resources if r.custom and not r.is_provider}
    assert CLAIM_TEMPLATE in kinds
    for token in sorted(kinds):
        group_version, kind = token.removeprefix("kubernetes:").split(":")
        group = group_version.rpartition("/")[0]
        plural = kind.lower() + "s"
        for verb in ("get", "create", "patch", "update", "delete"):
            assert any(rule_grants(rule, verb, group, plural) for rule in DEPLOYER_RULES), (verb, group, plural)


def test_team_serving_checks_models_against_the_platform_pools() -> None:
    stack, config, _ = _config("team-serving")
    models = [dict(m) for m in config["inferstack:models"]]
    models[0] = {**models[0], "pool": "gpu-h100"}
    with pytest.raises(pulumi.RunError, match=r"inferstack:models\[0\]\.pool: unknown pool 'gpu-h100'"):
        _run("team-serving", **{"inferstack:models": models})
    models = [dict(m) for m in config["inferstack:models"]]
    models[1] = {**models[1], "namespace": "team-search"}
    with pytest.raises(pulumi.RunError, match=r"inferstack:models\[1\]\.namespace: this stack deploys to team-nlp only"):
        _run("team-serving", **{"inferstack:models": models})


def test_team_serving_without_platform_outputs_names_the_offline_key() -> None:
    with pytest.raises(ProgramError, match=r"StackReference 'acme/inferstack/prod'.*inferstack-offline:stackOutputs"):
        _run("team-serving", **{STACK_OUTPUTS_KEY: {}})


# ---------------------------------------------------------------- the engine's StackReference answers

REFERENCE_PROGRAM = """
import pulumi
import pulumi_kubernetes as k8s

ref = pulumi.StackReference("platform", stack_name="acme/platform/dev")
provider = k8s.Provider("cluster", kubeconfig=ref.require_output("kubeconfig"))
k8s.core.v1.ConfigMap("pools", metadata={"name": "pools", "namespace": "default"},
                      data=ref.require_output("pools").apply(lambda p: {"names": ",".join(sorted(p))}),
                      opts=pulumi.ResourceOptions(provider=provider))
"""


def test_engine_answers_stack_references_from_config_with_secret_outputs_marked(tmp_path: Path) -> None:
    program = tmp_path / "prog.py"
    program.write_text(REFERENCE_PROGRAM)
    refs = {"acme/platform/dev": {"outputs": {"kubeconfig": "{}", "pools": {"gpu-l4": {}, "inf2": {}}},
                                  "secretOutputNames": ["kubeconfig"]}}
    # As Pulumi passes structured config: a JSON string.
    rec = run_program("t", {"aws:region": "eu-west-1", STACK_OUTPUTS_KEY: json.dumps(refs)}, region="eu-west-1",
                      program=program)
    provider = rec.find("pulumi:providers:kubernetes", "cluster")
    assert provider.inputs["kubeconfig"].__class__.__name__ == "Secret" and unwrap_secrets(provider.inputs["kubeconfig"]) == "{}"
    assert rec.find("kubernetes:core/v1:ConfigMap", "pools").inputs["data"] == {"names": "gpu-l4,inf2"}
    with pytest.raises(ProgramError, match=r"StackReference 'acme/platform/dev': .* \(known: none\)"):
        run_program("t", {"aws:region": "eu-west-1"}, region="eu-west-1", program=program)
