"""examples/gke-tpu-serving: a GKE TPU serving stack from the public API, under the offline engine and the policy pack."""

from __future__ import annotations

import ast
import functools
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pulumi
import pytest
import yaml

import inferstack.components
import inferstack.serving
from inferstack.config import read_stack_file
from inferstack.engine import Recording, run_program

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "gke-tpu-serving"
STACK_FILE = EXAMPLE / "Pulumi.prod.yaml"
NODEPOOL = "gcp:container/nodePool:NodePool"
ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"


def _run(**changes: object) -> Recording:
    f = read_stack_file(STACK_FILE)
    config = {**f.config, **changes}
    return run_program(f.stack, config, region=config["gcp:region"], project=config["gcp:project"],
                       program=EXAMPLE / "__main__.py", secret_keys=f.secret_keys)


@functools.cache
def recording() -> Recording:
    return _run()


def test_project_files_and_public_imports() -> None:
    assert yaml.safe_load((EXAMPLE / "Pulumi.yaml").read_text())["runtime"]["name"] == "python"
    version = re.search(r'^version = "([^"]+)"$', (REPO / "pyproject.toml").read_text(), re.M).group(1)
    text = (EXAMPLE / "requirements.txt").read_text()
    reqs = [x for x in text.splitlines() if x and not x.startswith("#")]
    assert reqs == ["-e ../..[gcp]"] and f"#   inferstack[gcp]=={version} " in text
    tree = ast.parse((EXAMPLE / "__main__.py").read_text())
    public = {"inferstack.components": inferstack.components, "inferstack.serving": inferstack.serving}
    imports = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module and n.module.startswith("inferstack")]
    assert imports and all(n.module in public for n in imports)
    for n in imports:
        assert {a.name for a in n.names} <= set(public[n.module].__all__)
    readme = (EXAMPLE / "README.md").read_text()
    assert all(s in readme for s in ("## Inputs", "## Outputs", "## Run it"))


def test_declares_the_gke_platform_tpu_pools_and_tpu_serving() -> None:
    rec = recording()
    counts = Counter(r.type for r in rec.resources)
    assert counts["gcp:container/cluster:Cluster"] == 1
    assert counts["kubernetes:cloud.google.com/v1:ComputeClass"] == 1
    assert counts["kubernetes:serving.kserve.io/v1alpha1:ClusterServingRuntime"] == 1
    pools = {np.inputs["name"]: np.inputs for np in rec.by_type(NODEPOOL)}
    assert set(pools) == {"system", "tpu-v6e-spot", "tpu-v6e-on-demand"}
    for name in ("tpu-v6e-spot", "tpu-v6e-on-demand"):
        nc = pools[name]["nodeConfig"]
        assert nc["machineType"] == "ct6e-standard-8t" and nc["diskType"] == "hyperdisk-balanced"
        assert pools[name]["nodeLocations"] == ["europe-west4-a"]
    (isvc,) = rec.by_type(ISVC)
    predictor = isvc.inputs["spec"]["predictor"]
    assert predictor["model"]["runtime"] == "inferstack-vllm-tpu"
    assert predictor["model"]["args"] == ["--tensor-parallel-size=8"]
    assert predictor["canaryTrafficPercent"] == 10
    assert predictor["nodeSelector"]["cloud.google.com/gke-tpu-topology"] == "2x4"
    assert predictor["nodeSelector"]["cloud.google.com/compute-class"] == "inferstack-tpu-v6e"
    assert predictor["model"]["storageUri"].startswith("gs://")
    # prod: the key and the cluster are protected.
    assert all(r.protect for r in rec.by_type("gcp:container/cluster:Cluster") + rec.by_type("gcp:kms/cryptoKey:CryptoKey"))


def test_bad_topology_fails_before_anything_is_declared() -> None:
    pools = [{"name": "tpu-v6e", "kind": "tpu-v6e", "tpuTopology": "2x3", "maxNodes": 4}]
    with pytest.raises(pulumi.RunError, match=r"inferstack:acceleratorPools\[0\]\.tpuTopology: tpu-v6e does not offer topology '2x3'"):
        _run(**{"inferstack:acceleratorPools": pools})


def test_passes_the_policy_pack(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    cmd = [sys.executable, "-m", "inferstack", "policy", "check", "--program", str(EXAMPLE / "__main__.py"),
           "--config", str(STACK_FILE), "--json", str(report)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(report.read_text())
    assert doc["summary"]["findings"]["mandatory"] == 0
    assert [f for f in doc["findings"] if f["enforcementLevel"] == "mandatory"] == []


def test_policy_check_reports_the_programs_config_error_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "Pulumi.prod.yaml"
    bad.write_text(STACK_FILE.read_text().replace("tpuTopology: 2x4", "tpuTopology: 2x3"))
    proc = subprocess.run(
        [sys.executable, "-m", "inferstack", "policy", "check", "--program", str(EXAMPLE / "__main__.py"), "--config", str(bad)],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    # Only the root cause: no cascade from the capacity checks.
    (line,) = proc.stderr.strip().splitlines()
    assert line.endswith(
        "inferstack:acceleratorPools[0].tpuTopology: tpu-v6e does not offer topology '2x3'; allowed: "
        "1x1, 2x2, 2x4, 4x4, 4x8, 8x8, 8x16, 16x16"
    )
