"""Findings that help: one finding per resource and policy listing every problem, with the rule's remediation and the
setting that changes the verdict; the spot-only and public load balancer findings name the fix."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from inferstack.cli import main
from inferstack.policies.evaluate import Finding, group, policy_settings
from inferstack.policies.pack import ENTRY_BY_NAME

PROGRAM = '''import json
import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

k8s.apps.v1.Deployment("bad", spec={
    "selector": {"matchLabels": {"app": "x"}},
    "template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [
        {"name": "a", "image": "nginx:1.27", "securityContext": {"privileged": True}},
        {"name": "b", "image": "nginx:1.27", "securityContext": {"privileged": True}},
    ]}},
})
aws.iam.Policy("admin", policy=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
k8s.core.v1.Service("lb", spec={"type": "LoadBalancer", "ports": [{"port": 80}]})
k8s.apiextensions.CustomResource("gpu", api_version="karpenter.sh/v1", kind="NodePool", spec={"template": {
    "metadata": {"labels": {"inferstack.io/accelerator": "nvidia-l4", "inferstack.io/pool": "gpu"}},
    "spec": {"taints": [{"key": "nvidia.com/gpu", "effect": "NoSchedule"}],
             "requirements": [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]}]}}})
'''


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    d = tmp_path_factory.mktemp("team")
    (d / "__main__.py").write_text(PROGRAM)
    (d / "Pulumi.yaml").write_text("name: team\nruntime: python\n")
    (d / "Pulumi.prod.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    (d / "policy.json").write_text(json.dumps({"region-residency": {"enforcementLevel": "mandatory",
                                                                    "allowedRegions": ["eu-west-1"]}}))
    code = main(["policy", "check", "--program", str(d / "__main__.py"), "--config", str(d / "Pulumi.prod.yaml"),
                 "--policy-config", str(d / "policy.json"), "--environment", "prod", "--json", str(d / "r.json"),
                 "--sarif", str(d / "r.sarif")])
    assert code == 1
    return {"json": json.loads((d / "r.json").read_text()), "sarif": json.loads((d / "r.sarif").read_text())}


def findings(report: dict, policy: str, name: str | None = None) -> list[dict]:
    return [f for f in report["json"]["findings"]
            if f["policy"] == policy and (name is None or (f["resource"] or {}).get("name") == name)]


def test_one_finding_per_resource_and_policy(report: dict) -> None:
    keys = Counter((f["policy"], (f["resource"] or {}).get("urn")) for f in report["json"]["findings"])
    assert keys and max(keys.values()) == 1, keys
    (priv,) = findings(report, "pss-privileged", "bad")
    assert priv["problems"] == ["Deployment: spec.template.spec.containers[a] is privileged.",
                                "Deployment: spec.template.spec.containers[b] is privileged."]
    assert priv["message"].startswith("(1) Deployment: spec.template.spec.containers[a] is privileged; (2) ")
    assert priv["remediation"] == ENTRY_BY_NAME["pss-privileged"].remediation
    assert f"Fix: {priv['remediation']}" in priv["message"]
    (wild,) = findings(report, "iam-least-privilege", "admin")
    assert len(wild["problems"]) == 2 and "Fix: " in wild["message"]


def test_sarif_has_one_result_per_finding(report: dict) -> None:
    results = report["sarif"]["runs"][0]["results"]
    assert len(results) == len(report["json"]["findings"])
    assert {r["message"]["text"] for r in results} == {f["message"] for f in report["json"]["findings"]}


def test_public_load_balancer_names_the_annotation_and_the_setting(report: dict) -> None:
    (lb,) = findings(report, "no-public-load-balancers", "lb")
    assert "service.beta.kubernetes.io/aws-load-balancer-scheme: internal" in lb["message"]
    assert "networking.gke.io/load-balancer-type: Internal" in lb["message"]
    assert lb["settings"] == [{"stack": "inferstack:policy.allowPublicLoadBalancers",
                               "policyConfig": "no-public-load-balancers.allowPublicLoadBalancers"}]
    assert "no-public-load-balancers.allowPublicLoadBalancers" in lb["message"]


def test_spot_only_names_the_fix_not_the_resource_twice(report: dict) -> None:
    (spot,) = findings(report, "prod-accelerators-not-spot-only", "gpu")
    assert not spot["message"].startswith("gpu")
    assert "inferstack:acceleratorPools[].capacity" in spot["message"] and "spot-first or on-demand" in spot["message"]


def test_group_keeps_unknown_value_findings_apart_and_without_a_fix() -> None:
    urn = "urn:pulumi:s::p::aws:s3/bucket:Bucket::b"
    raw = [Finding("s3-tls-only", "mandatory", "no TLS policy.", urn, "aws:s3/bucket:Bucket", "b"),
           Finding("s3-tls-only", "mandatory", "no TLS policy.", urn, "aws:s3/bucket:Bucket", "b"),
           Finding("s3-tls-only", "advisory", "can't run policy 's3-tls-only' during preview: x", urn,
                   "aws:s3/bucket:Bucket", "b", not_evaluated=True)]
    first, second = group(raw)
    assert first.problems == ["no TLS policy."] and first.remediation and "Fix:" in first.message
    assert second.not_evaluated and second.remediation is None and "Fix:" not in second.message


def test_settings_of_each_policy() -> None:
    assert policy_settings("region-residency") == [{"stack": "inferstack:residency.allowedRegions",
                                                    "policyConfig": "region-residency.allowedRegions"}]
    assert policy_settings("s3-tls-only") == []
    assert policy_settings("prod-stateful-protected") == []  # environment is the stack's class, not a knob


def test_text_output_groups_per_resource(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path
    (d / "__main__.py").write_text(PROGRAM)
    (d / "Pulumi.yaml").write_text("name: team\nruntime: python\n")
    (d / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    (d / "p.json").write_text(json.dumps({"region-residency": {"enforcementLevel": "mandatory",
                                                               "allowedRegions": ["eu-west-1"]}}))
    main(["policy", "check", "--program", str(d / "__main__.py"), "--config", str(d / "Pulumi.dev.yaml"),
          "--policy-config", str(d / "p.json"), "--environment", "dev"])
    out = capsys.readouterr().out.splitlines()
    header = out.index("kubernetes:apps/v1:Deployment bad (__main__.py:6)")
    assert out[header + 1].startswith("  mandatory ")
    assert sum(1 for line in out if line.startswith("kubernetes:apps/v1:Deployment bad")) == 1
