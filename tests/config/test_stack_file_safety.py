"""Hostile and malformed stack files: each is one ``error:`` line naming the file, exit 2, fast, nothing created.

Pure tests of the reader first (no subprocess), then the real CLI on a few of them, then a seeded fuzz of
mutations of the reference stacks through the reader and the loader (every case: loaded, or a ConfigError).
"""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from inferstack.config import ConfigError, StackConfig, read_stack_file
from inferstack.config.yaml_data import MAX_BYTES, YamlDataError, load_yaml_data
from inferstack.engine import run_stack
from inferstack.load import load_stack, load_stack_file
from tests.conftest import REFERENCE_STACKS, stack_path

BASE = "config:\n  aws:region: eu-west-1\n  inferstack:cloud: aws\n  inferstack:environment: dev\n  inferstack:residency:\n    allowedRegions: [eu-west-1]\n"

BOMB = "".join(
    f"  x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9) if i else ', '.join(['lol'] * 9)}]\n" for i in range(9)
)

HOSTILE: dict[str, tuple[bytes, str]] = {
    "alias bomb": ((BASE + "  other:bomb:\n" + BOMB.replace("  x", "    x")).encode(), "alias bomb"),
    "deep nesting": ((BASE + "  other:deep: " + "[" * 50_000 + "]" * 50_000 + "\n").encode(), "nested deeper than 64"),
    "utf-16": (BASE.encode("utf-16"), "UTF-16"),
    "latin-1": ((BASE + "  other:name: caf\xe9\n").encode("latin-1"), "not UTF-8"),
    "binary": (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)), "binary content"),
    "huge integer": ((BASE + "  other:n: 1" + "0" * 5000 + "\n").encode(), "too large"),
    "python tag": ((BASE + "  other:x: !!python/object/apply:os.system [echo]\n").encode(), "tag"),
    "custom tag": ((BASE + "  other:x: !secret abc\n").encode(), "tag !secret"),
    "duplicate key": ((BASE + "  inferstack:environment: prod\n").encode(), "duplicate key 'inferstack:environment'"),
    "nested duplicate": ((BASE + "  inferstack:registry:\n    forceDestroy: true\n    forceDestroy: false\n").encode(), "duplicate key 'forceDestroy'"),
    "two documents": ((BASE + "---\nconfig: {}\n").encode(), "more than one YAML document"),
    "merge key": ((BASE + "  other:a: &a {x: 1}\n  other:b: {<<: *a}\n").encode(), "merge keys"),
    "too big": (b"# " + b"x" * MAX_BYTES + b"\n", "at most"),
    "not yaml": (b"config: [\n", "not valid YAML"),
}


#: Free text no decoder may choke on: deep nesting and huge numbers, bare and inside JSON, with and without units.
HOSTILE_TEXT: dict[str, str] = {
    "100000 nested arrays": "[" * 100_000 + "]" * 100_000,
    "100000 nested objects": '{"a": ' * 100_000 + "1" + "}" * 100_000,
    "unclosed nesting": "[" * 100_000,
    "5000-digit integer": "1" * 5000,
    "5000-digit negative": "-" + "9" * 5000,
    "5000-digit decimal": "1" * 2500 + "." + "1" * 2500,
    "exponent overflow": "1e999",
    "5000-digit exponent": "1e" + "9" * 5000,
    "NaN": "NaN",
    "Infinity": "-Infinity",
    "huge in JSON": '{"x": ' + "1" * 5000 + "}",
    "huge list in JSON": "[" + "1" * 5000 + ", 1e999]",
    "huge quantity": "1" * 5000 + "Gi",
    "huge millicores": "1" * 5000 + "m",
    "huge duration": "1" * 5000 + "h",
    "huge topology": "1" * 5000 + "x2",
    "huge version-like": "v" + "1" * 5000,
    "arabic-indic digits": "\u0663\u0662",
    "fullwidth digits": "\uff13\uff12",
    "trailing newline": "3\n",
}


def _write(tmp_path: Path, data: bytes, name: str = "bad") -> Path:
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_file_is_one_config_error_naming_the_file(tmp_path: Path, case: str) -> None:
    data, needle = HOSTILE[case]
    path = _write(tmp_path, data)
    start = time.perf_counter()
    with pytest.raises(ConfigError) as err:
        read_stack_file(path)
    assert time.perf_counter() - start < 1.0  # generous: these fail in milliseconds
    message = str(err.value)
    assert "\n" not in message and str(path) in message and needle in message, message
    assert "<unicode string>" not in message


def test_bomb_is_refused_before_expanding() -> None:
    with pytest.raises(YamlDataError, match="alias bomb"):
        load_yaml_data("config:\n" + BOMB)


def test_plain_data_reads_like_pulumi_yaml_12() -> None:
    doc = load_yaml_data("a: yes\nb: '3'\nc: 3\nd: 2024-01-01\ne: 1:20\nf: ~\ng: 0x10\nh: 1.5\ni: true\nj: &j {k: 1}\nl: *j\n")
    assert doc == {"a": "yes", "b": "3", "c": 3, "d": "2024-01-01", "e": "1:20", "f": None, "g": 16, "h": 1.5,
                   "i": True, "j": {"k": 1}, "l": {"k": 1}}


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = _write(tmp_path, b"\xef\xbb\xbf" + BASE.encode(), "bom")
    assert read_stack_file(path).config["inferstack:cloud"] == "aws"


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ("  inferstak:models: []\n", "unknown namespace 'inferstak'; did you mean inferstack:models?"),
        ("  Inferstack:models: []\n", "unknown namespace 'Inferstack'; did you mean inferstack:models?"),
        ("  inferstack:models:\n  - {name: m, namespace: t, format: onnx, registryModel: m, version: 3}\n",
         "inferstack:models[0].version: Input should be a valid string (got 3); quote it: version: '3'"),
        ("  inferstack:acceleratorPools:\n  - {name: p, kind: nvidia-l4, maxNodes: '3'}\n",
         "inferstack:acceleratorPools[0].maxNodes: Input should be a valid integer (got \"3\"); write it without quotes: maxNodes: 3"),
        ("  inferstack:models:\n  - {name: m, namespace: t, format: onnx, registryModel: 'Bad Name', version: '3'}\n",
         "inferstack:models[0].registryModel: String should match pattern"),
        ("  inferstack:models:\n  - {name: m, namespace: t, format: onnx, registryModel: m, version: '\u0661'}\n",
         "inferstack:models[0].version: String should match pattern"),
        ("  inferstack:models:\n  - {name: \"m\\n\", namespace: t, format: onnx, registryModel: m, version: '1'}\n",
         "inferstack:models[0].name: String should match pattern"),
        ("  inferstack:teamNamespaces: [ok]\n  inferstack:secrets:\n  - {name: s, namespaces: ['Not_A_Namespace'], valueFrom: 'x:y'}\n",
         "inferstack:secrets[0].namespaces[0]: String should match pattern"),
        ("  inferstack:secrets:\n  - {name: s, namespaces: [t], valueFrom: 'x:y', refreshInterval: '\u0661h'}\n",
         "inferstack:secrets[0].refreshInterval: String should match pattern"),
        # Durations and times Karpenter and the capacity planner read: ASCII digits, bounded.
        ("  inferstack:acceleratorPools:\n  - {name: gpu, kind: nvidia-l4, maxNodes: 3, consolidateAfter: '\u0661\u0660m'}\n",
         "inferstack:acceleratorPools[0].consolidateAfter: String should match pattern"),
        ("  inferstack:acceleratorPools:\n  - {name: gpu, kind: nvidia-l4, maxNodes: 3, expireAfter: '\uff17\uff12\uff10h'}\n",
         "inferstack:acceleratorPools[0].expireAfter: String should match pattern"),
        ("  inferstack:acceleratorPools:\n  - {name: gpu, kind: nvidia-l4, maxNodes: 3, expireAfter: '" + "9" * 5000 + "h'}\n",
         "a Karpenter duration is"),
        ("  inferstack:acceleratorPools:\n  - name: gpu\n    kind: nvidia-l4\n    maxNodes: 3\n    ladder:\n    - tier: reserved\n      maxNodes: 1\n"
         "      reservations:\n"
         "      - {id: cr-0123456789abcdef0, capacityBlock: true, endsAt: '\u0662\u0660\u0662\u0667-01-15T11:30:00Z'}\n"
         "    - {tier: on-demand, maxNodes: 2}\n",
         "endsAt: String should match pattern"),
    ],
)
def test_config_mistakes_are_named_with_the_fix(tmp_path: Path, extra: str, needle: str) -> None:
    path = _write(tmp_path, (BASE + extra).encode())
    with pytest.raises(ConfigError) as err:
        load_stack_file(path)
    assert needle in str(err.value)


def test_validate_cli_exits_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    path = _write(tmp_path, HOSTILE["alias bomb"][0])
    proc = subprocess.run([sys.executable, "-m", "inferstack", "config", "validate", "--config", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(path) in lines[0]


def test_preview_refuses_a_hostile_file_and_writes_nothing(tmp_path: Path) -> None:
    path = _write(tmp_path, HOSTILE["duplicate key"][0])
    out = tmp_path / "out.json"
    proc = subprocess.run([sys.executable, "-m", "inferstack", "preview", "--config", str(path), "--format", "json",
                           "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and not out.exists()


# ---------------------------------------------------------------- seeded fuzz of mutations


def _mutations(doc: Any, rng: random.Random) -> Any:
    """One random mutation of a stack document: a key deleted, a value of the wrong type, an unknown key at any
    depth, a value replaced by a hostile scalar."""
    doc = copy.deepcopy(doc)
    paths: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                paths.append((node, k))
                walk(v)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                paths.append((node, i))
                walk(v)

    walk(doc)
    parent, key = rng.choice(paths)
    action = rng.choice(["delete", "type", "unknown", "scalar", "empty"])
    if action == "delete" and isinstance(parent, dict):
        del parent[key]
    elif action == "type":
        parent[key] = rng.choice([3, "3", True, None, [], {}, 1.5, -1, "x" * 300, [1, 2], {"a": 1}])
    elif action == "unknown":
        target = parent[key] if isinstance(parent[key], dict) else parent
        if isinstance(target, dict):
            target[rng.choice(["maxNode", "Name", "extra", "inferstack:x", "\u0661", ""])] = rng.choice([1, "v", []])
    elif action == "scalar":
        parent[key] = rng.choice(["0.0.0.0/0", "\u0661", "m\n", "-", "a" * 64, "yes", "1e400", "../etc", "null", *HOSTILE_TEXT.values()])
    else:
        parent[key] = {} if isinstance(parent[key], dict) else [] if isinstance(parent[key], list) else ""
    return doc


@pytest.mark.parametrize("stack", REFERENCE_STACKS)
def test_fuzzed_stack_files_load_or_fail_with_config_errors(tmp_path: Path, stack: str) -> None:
    rng = random.Random(f"inferstack-{stack}")
    source = yaml.safe_load(stack_path(stack).read_text())
    valid: list[StackConfig] = []
    for i in range(80):
        doc = _mutations(source, rng)
        data = yaml.safe_dump(doc, allow_unicode=True).encode()
        if rng.random() < 0.1:
            data = rng.choice([data.replace(b"config:", b"config: &c"), b"\xff\xfe" + data, data + b"\n---\n{}\n"])
        path = _write(tmp_path, data, f"fuzz{i}")
        start = time.perf_counter()
        try:
            f = read_stack_file(path)
            cfg = load_stack(f.stack, f.config, source=str(path), secret_keys=f.secret_keys)
        except ConfigError as err:
            assert str(path) in str(err) or f"stack fuzz{i}" in str(err)
        else:
            valid.append(cfg)
        assert time.perf_counter() - start < 10, f"case {i} took too long"
        json.dumps(doc, default=str)  # the case itself stays printable for a failure report
    # validate and preview agree: a mutated stack that loads is one the program (under the engine) accepts too.
    assert valid, "no mutation kept the stack valid: the fuzz no longer exercises the program"
    for cfg in valid[:2]:
        run_stack(cfg)


def test_eks_version_must_be_one_eks_offers(tmp_path: Path) -> None:
    path = _write(tmp_path, (BASE + "  inferstack:cluster:\n    version: '1.19'\n").encode())
    with pytest.raises(ConfigError, match=r"inferstack:cluster.version: EKS does not offer Kubernetes '1.19'; known: .*1.35"):
        load_stack_file(path)


# ---------------------------------------------------------------- every free-text value, deep and huge


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    if isinstance(node, dict):
        return [leaf for k, v in node.items() for leaf in _leaves(v, (*path, k))]
    if isinstance(node, list):
        return [leaf for i, v in enumerate(node) for leaf in _leaves(v, (*path, i))]
    return [(path, node)]


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    doc = copy.deepcopy(doc)
    node = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return doc


def _top_level_keys() -> list[str]:
    from inferstack.config import InferstackConfig

    return [f"inferstack:{f.alias or n}" for n, f in InferstackConfig.model_fields.items()]


def _hostile_cases(stack: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(key named in the error, case id, config) of a reference stack with one value made hostile: every string
    value (the free text) and every number replaced by each HOSTILE_TEXT; every number by a 5,000-digit integer
    and by infinity (as a program passing decoded values would); every ``inferstack:`` key, present or not, by
    each HOSTILE_TEXT as the JSON string Pulumi passes structured config in."""
    config = yaml.safe_load(stack_path(stack).read_text())["config"]
    cases = []
    for path, value in _leaves(config):
        if isinstance(value, bool) or value is None:
            continue
        where = str(path[0])
        for name, text in HOSTILE_TEXT.items():
            cases.append((where, f"{path}={name}", _set(config, path, text)))
        if isinstance(value, (int, float)):
            cases.append((where, f"{path}=10**5000", _set(config, path, 10**5000)))
            cases.append((where, f"{path}=inf", _set(config, path, float("inf"))))
    for key in _top_level_keys():
        if key in ("inferstack:cloud", "inferstack:environment"):
            continue
        for name, text in HOSTILE_TEXT.items():
            cases.append((key, f"{key}={name}", {**config, key: text}))
    return cases


@pytest.mark.parametrize("stack", REFERENCE_STACKS)
def test_deep_and_huge_values_everywhere_are_config_errors_naming_the_key(tmp_path: Path, stack: str) -> None:
    """Deep nesting and huge numbers in every free-text config value: a ConfigError naming the key, or a stack
    that loads and previews (exit 0 or 1); never another exception, so never exit 3."""
    from inferstack.cli import main

    secret_keys = read_stack_file(stack_path(stack)).secret_keys
    loaded: list[tuple[str, dict[str, Any]]] = []
    failures = []
    for key, case, config in _hostile_cases(stack):
        start = time.perf_counter()
        try:
            load_stack(stack, config, source=f"stack {stack}", secret_keys=secret_keys)
        except ConfigError as err:
            text = str(err)
            # An inferstack: key is named; another namespace's value (gcp:project) may surface as what it names.
            named = key in text or not key.startswith("inferstack:")
            longest = max(len(line) for line in text.splitlines())  # a huge value is cut, not repeated in full
            if not named or "Exceeds the limit" in text or "RecursionError" in text or longest > 1200:
                failures.append(f"{case}: {text[:300]}")
        except Exception as err:  # noqa: BLE001 - the test reports every case that escapes as exit 3
            failures.append(f"{case}: {type(err).__name__}: {str(err)[:200]}")
        else:
            loaded.append((case, config))
        if time.perf_counter() - start > 2:
            failures.append(f"{case}: took {time.perf_counter() - start:.1f} s")
    assert not failures, "\n".join(failures[:20])
    # What loads (free text the config cannot judge, such as a model format) goes through the commands that read
    # it, in-process: preview (the program under the engine) and cost; per value, its deepest and its largest case
    # (each run takes seconds).
    runs = [(case, config) for case, config in loaded if case.endswith(("=100000 nested objects", "=5000-digit integer"))]
    for case, config in runs:
        path = tmp_path / f"Pulumi.{stack}.yaml"
        path.write_text(yaml.safe_dump({"config": config}, allow_unicode=True))
        for argv in (["preview", "--format", "json", "--out", str(tmp_path / "p.json")], ["cost", "--out", str(tmp_path / "c.txt")]):
            code = main([*argv, "--config", str(path)])
            assert code in (0, 1, 2), f"{case}: {argv[0]} exited {code}"
