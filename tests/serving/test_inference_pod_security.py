"""InferenceService predictor pods meet Pod Security "restricted" by themselves, whatever runtime KServe picks.

Found by the real API server (tests/e2e/test_server_side_apply.py dry-runs each predictor as a Pod in its
namespace, whose warn level is restricted): a model without a runtime of ours runs on KServe's built-in runtime
(kserve-huggingfaceserver for format huggingface), whose container sets no seccomp profile
(kserve/kserve config/runtimes/kserve-huggingfaceserver.yaml), so every such predictor pod drew
``would violate PodSecurity "restricted:latest": ... seccompProfile``. The predictor now carries the pod-level
securityContext and the model container the restricted container fields, as the LLM templates do.
"""

from __future__ import annotations

import pytest

from inferstack.engine import redact
from tests.conftest import REFERENCE_STACKS, recording

ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"


def restricted_problems(predictor: dict) -> list[str]:
    """What Pod Security "restricted" refuses in the pod KServe builds from ``predictor`` when the runtime's
    container sets nothing (the model container's fields are merged onto the runtime's ``kserve-container``)."""
    pod_sc = predictor.get("securityContext") or {}
    c_sc = (predictor.get("model") or {}).get("securityContext") or {}
    problems = []
    if (c_sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type") not in ("RuntimeDefault", "Localhost"):
        problems.append("seccompProfile")
    if not (c_sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot")):
        problems.append("runAsNonRoot")
    if c_sc.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation")
    if (c_sc.get("capabilities") or {}).get("drop") != ["ALL"]:
        problems.append("capabilities.drop")
    if c_sc.get("privileged"):
        problems.append("privileged")
    return problems


@pytest.mark.parametrize("stack", REFERENCE_STACKS)
def test_every_predictor_pod_is_restricted_without_help_from_the_runtime(stack: str) -> None:
    isvcs = [redact(r.inputs) for r in recording(stack).by_type(ISVC)]
    assert isvcs, stack
    bad = {i["metadata"]["name"]: restricted_problems(i["spec"]["predictor"]) for i in isvcs}
    assert {k: v for k, v in bad.items() if v} == {}
