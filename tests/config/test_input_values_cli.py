"""`config validate` and `preview` refuse a bad value the same way (one `error:` line naming the key, exit 2):
a model format the runtime does not serve, a GCP writer principal without its prefix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from inferstack.cli import main

REPO = Path(__file__).resolve().parents[2]


def _stack(tmp_path: Path, name: str, edit: dict[str, object]) -> Path:
    doc = yaml.safe_load((REPO / "stacks" / f"Pulumi.{name}.yaml").read_text())
    for key, value in edit.items():
        node = doc["config"]
        *parts, last = key.split("/")
        for part in parts:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(last) if isinstance(node, list) else last] = value
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.mark.parametrize("name, edit, line", [
    ("prod", {"inferstack:models/4/format": "xgbost"},
     "inferstack:models[4].format: unknown model format 'xgbost' (no runtime set: KServe picks one that auto-selects "
     "the format); allowed: autogluon, huggingface, lightgbm, mlflow, onnx, paddle, pmml, pytorch, sklearn, tensorflow, "
     "tensorrt, triton, vLLM, xgboost; did you mean xgboost?"),
    ("gcp-prod", {"inferstack:registry/writerPrincipals/0": "ml-release@acme.io"},
     "inferstack:registry.writerPrincipals[0]: 'ml-release@acme.io' has no member prefix; write user:ml-release@acme.io"),
])
@pytest.mark.parametrize("command", [["config", "validate"], ["preview"]])
def test_validate_and_preview_refuse_alike(name: str, edit: dict[str, object], line: str, command: list[str],
                                           tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _stack(tmp_path, name, edit)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main([*command, "--config", str(path)]) == 2
    out, err = capsys.readouterr()
    assert err.startswith(f"error: invalid stack config {path}: ") and err.count("\n") == 1, err
    assert line in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
