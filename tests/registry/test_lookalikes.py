"""Registry arguments go through the stack config's patterns: look-alikes are refused before anything is written.

A trailing newline, Arabic-Indic or fullwidth digits, Cyrillic letters and zero-width characters in a model name,
version or alias are exit 2 with one ``error:`` line naming the argument and what is allowed; the bucket and the
table are byte-for-byte what they were (real moto server on 127.0.0.1, boto3 not patched).
"""

from __future__ import annotations

import json

import boto3
import pytest

import tests.registry.test_client as base

# the moto server and registry fixtures of test_registry_client
moto_endpoint, registry_env, registry, artifact = base.moto_endpoint, base.registry_env, base.registry, base.artifact
run = base.run


@pytest.fixture(scope="module")
def seeded(moto_endpoint, tmp_path_factory):
    """One registry for the module (refusals write nothing, so the cases can share it): llama:1 pushed, @prod on it."""
    from inferstack.registry.client import Registry

    name = "reg-lookalikes"
    env = {**base_env(moto_endpoint), "INFERSTACK_REGISTRY_BUCKET": name, "INFERSTACK_REGISTRY_TABLE": name}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        mp.delenv("AWS_PROFILE", raising=False)
        d = tmp_path_factory.mktemp("model")
        (d / "config.json").write_text('{"arch": "llama"}')
        (d / "weights.bin").write_bytes(bytes(range(256)) * 16)
        reg = Registry.from_env()
        reg.init()
        reg.push("llama", d)
        reg.promote("llama", 1, "prod")
        yield {**env, "artifact": str(d)}


def base_env(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "eu-west-1",
        "INFERSTACK_SOURCE_COMMIT": "0123456789abcdef0123456789abcdef01234567",
    }

NEWLINE, ARABIC_3, FULLWIDTH_3, CYRILLIC_A, CYRILLIC_O, ZERO_WIDTH = "\n", "\u0663", "\uff13", "\u0430", "\u043e", "\u200b"
HUGE = "1" * 5000

MODELS = ["llama" + NEWLINE, "llam" + CYRILLIC_A, "llama" + ZERO_WIDTH, "llama" + ARABIC_3, "llama" + FULLWIDTH_3,
          "\uff4clama", "Llama", "llama\r", " llama", "a" * 129]
VERSIONS = [ARABIC_3, FULLWIDTH_3, "1" + NEWLINE, "1" + ZERO_WIDTH, "0", "01", "-1", "+1", "1.0", HUGE, "1000000000",
            "\U0001d7d1"]  # last: MATHEMATICAL BOLD DIGIT THREE
ALIASES = ["prod" + NEWLINE, "pr" + CYRILLIC_O + "d", "prod" + ZERO_WIDTH, "pro" + ARABIC_3, "Prod", "prod\t", "a" * 64]

MODEL_ALLOWED = "lower-case ASCII letters, digits, '.', '_' and '-'"
VERSION_ALLOWED = "1 to 999999999"
ALIAS_ALLOWED = "lower-case ASCII letters, digits and '-'"


def _state(env: dict[str, str]) -> tuple[list, list]:
    """Every object version in the bucket and every item in the table, in a stable order."""
    s3 = boto3.client("s3")
    ddb = boto3.client("dynamodb")
    objects = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=env["INFERSTACK_REGISTRY_BUCKET"]):
        objects += [(o["Key"], o["VersionId"], o["ETag"], o["Size"]) for o in page.get("Versions", [])]
        objects += [(o["Key"], o["VersionId"], "marker", 0) for o in page.get("DeleteMarkers", [])]
    items = []
    for page in ddb.get_paginator("scan").paginate(TableName=env["INFERSTACK_REGISTRY_TABLE"], ConsistentRead=True):
        items += page["Items"]
    return sorted(objects), sorted(json.dumps(i, sort_keys=True) for i in items)


def _cases() -> list[tuple[str, list[str], str, str]]:
    """(id, argv, argument named in the error, what is allowed); ``{artifact}`` is the pushed directory."""
    out = []
    for m in MODELS:
        out.append((f"push-model-{m!r}", ["push", m, "{artifact}"], "MODEL", MODEL_ALLOWED))
        out.append((f"promote-model-{m!r}", ["promote", m, "1", "--alias", "prod"], "MODEL", MODEL_ALLOWED))
        out.append((f"gc-model-{m!r}", ["gc", m, "--grace", "0s"], "MODEL", MODEL_ALLOWED))
        out.append((f"pull-model-{m!r}", ["pull", m + ":1", "{dest}"], "MODEL", MODEL_ALLOWED))
        out.append((f"resolve-model-{m!r}", ["resolve", m], "MODEL", MODEL_ALLOWED))
    for v in VERSIONS:
        out.append((f"promote-version-{v[:8]!r}", ["promote", "llama", v, "--alias", "prod"], "VERSION", VERSION_ALLOWED))
        out.append((f"pull-version-{v[:8]!r}", ["pull", "llama:" + v, "{dest}"], "VERSION", VERSION_ALLOWED))
        out.append((f"resolve-version-{v[:8]!r}", ["resolve", "llama:" + v], "VERSION", VERSION_ALLOWED))
    for a in ALIASES:
        out.append((f"promote-alias-{a!r}", ["promote", "llama", "1", "--alias", a], "--alias", ALIAS_ALLOWED))
        out.append((f"pull-alias-{a!r}", ["pull", "llama@" + a, "{dest}"], "ALIAS", ALIAS_ALLOWED))
        out.append((f"resolve-alias-{a!r}", ["resolve", "llama@" + a], "ALIAS", ALIAS_ALLOWED))
    for g in ["1h" + NEWLINE, ARABIC_3 + "h", FULLWIDTH_3 + "h", HUGE + "h", "1e999", "inf", "nan", "-1h", "1" + ZERO_WIDTH + "h"]:
        out.append((f"gc-grace-{g[:8]!r}", ["gc", f"--grace={g}"], "--grace", "e.g. 30m, 1h, 7d"))
    return out


CASES = _cases()


@pytest.mark.parametrize(("argv", "argument", "allowed"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_lookalike_arguments_are_refused_and_change_nothing(seeded, tmp_path, capsys, argv, argument, allowed):
    before = _state(seeded)
    dest = tmp_path / "pulled"
    argv = [a.replace("{artifact}", seeded["artifact"]).replace("{dest}", str(dest)) for a in argv]
    code, out, err = run(capsys, *argv)
    assert code == 2, (argv, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert f"argument {argument}:" in lines[0] and allowed in lines[0], lines[0]
    assert "Exceeds the limit" not in err and len(lines[0]) < 400, lines[0]
    assert out == "" and not dest.exists()
    assert _state(seeded) == before


def test_the_plain_spellings_still_work(registry, artifact, tmp_path, capsys):
    """The same commands with the ASCII spellings succeed: the refusals above are the look-alikes, not the commands."""
    assert run(capsys, "push", "llama", str(artifact))[0] == 0
    for argv in (["promote", "llama", "1", "--alias", "prod"], ["resolve", "llama:1"], ["resolve", "llama@prod"],
                 ["pull", "llama@prod", str(tmp_path / "d")], ["gc", "llama", "--grace", "30m"], ["list", "llama"]):
        code, _, err = run(capsys, *argv)
        assert code == 0, (argv, err)


def test_library_calls_are_validated_too(registry, artifact):
    """The client refuses the same inputs when called as a library (the CLI is not the only gate)."""
    from inferstack.registry.client import Registry, RegistryError

    reg = Registry.from_env()
    reg.push("llama", artifact)
    before = _state(registry)
    for call in (lambda: reg.push("llama" + NEWLINE, artifact), lambda: reg.promote("llama", 1, "prod" + NEWLINE),
                 lambda: reg.promote("llam" + CYRILLIC_A, 1, "prod"), lambda: reg.resolve_version("llama:" + ARABIC_3),
                 lambda: reg.gc(model="llama" + ZERO_WIDTH)):
        with pytest.raises(RegistryError):
            call()
    assert _state(registry) == before
