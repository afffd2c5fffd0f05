"""Import only what a stack uses: a GCP stack's program never imports pulumi_aws (nor boto3), an AWS stack's never
pulumi_gcp; ruamel.yaml is for ``rollout`` only. Each stack runs in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

CODE = """
import sys
from inferstack.engine import run_stack
from inferstack.load import load_stack_file
run_stack(load_stack_file({path!r}))
print("LOADED", sorted(m for m in sys.modules if m.split(".")[0] in ("pulumi_aws", "pulumi_gcp", "boto3", "ruamel")))
"""


@pytest.mark.parametrize(("stack", "expected"), [("gcp-dev", ["pulumi_gcp"]), ("dev", ["pulumi_aws"])])
def test_a_stack_imports_only_its_clouds_sdk(stack: str, expected: list[str]) -> None:
    code = CODE.format(path=str(REPO / "stacks" / f"Pulumi.{stack}.yaml"))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("LOADED"))
    roots = sorted({m.split(".")[0] for m in eval(line.removeprefix("LOADED "))})  # noqa: S307 - our own print
    assert roots == expected
