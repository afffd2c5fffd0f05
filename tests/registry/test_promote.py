"""``inferstack registry promote`` is a compare-and-swap on the alias, with its audit record in the same transaction.

Runs against the moto server of test_registry_client (DynamoDB requests applied atomically, as the real service
does); boto3 is not patched.
"""

from __future__ import annotations

import threading

import tests.registry.test_client as base

# the moto server and registry fixtures of test_registry_client
moto_endpoint, registry_env, registry, artifact = base.moto_endpoint, base.registry_env, base.registry, base.artifact
run = base.run


def _push(capsys, artifact, model: str, n: int) -> None:
    for i in range(1, n + 1):
        code, out, err = run(capsys, "push", model, str(artifact))
        assert (code, out.strip()) == (0, str(i)), err


def _assert_unbroken(chain: list[dict]) -> None:
    pairs = [(a["from_version"], a["version"]) for a in chain]
    assert pairs[0][0] is None, pairs
    for (_, to), (frm, _) in zip(pairs, pairs[1:], strict=False):
        assert frm == to, f"broken audit chain: {pairs}"
    assert [a.get("rev") for a in chain] == list(range(1, len(chain) + 1))


def test_concurrent_promotes_form_one_unbroken_chain(registry, artifact, capsys):
    """16 threads promote at once and retry on conflict: 16 audit records, each one's from is the previous one's to."""
    from inferstack.registry.client import Registry, RegistryError

    _push(capsys, artifact, "chain", 3)
    n = 16
    barrier = threading.Barrier(n)
    done: list[int] = []
    conflicts: list[int] = []
    errors: list[str] = []

    def worker(i: int) -> None:
        reg = Registry.from_env()  # one client per thread, as separate CI jobs would have
        barrier.wait(timeout=60)
        for _ in range(200):
            try:
                reg.promote("chain", 1 + i % 3, "prod")
            except RegistryError as err:
                if str(err) != "chain@prod: alias changed concurrently; retry":
                    errors.append(repr(err))
                    return
                conflicts.append(i)
                continue
            except Exception as err:  # noqa: BLE001 - reported below
                errors.append(repr(err))
                return
            done.append(i)
            return

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    assert sorted(done) == list(range(n))
    reg = Registry.from_env()
    chain = [a for a in reg.audit("chain") if a["alias"] == "prod"]
    assert len(chain) == n  # one record per successful promote, none for a refused one
    _assert_unbroken(chain)
    assert conflicts, "the promotes never overlapped: the test did not exercise the compare-and-swap"
    assert reg.resolve_version("chain@prod").version == chain[-1]["version"]


def test_promote_over_a_concurrent_move_exits_2_and_writes_nothing(registry, artifact, capsys, monkeypatch):
    """Another promote lands between reading the alias and writing it: exit 2, one line, no audit record."""
    from inferstack.registry.client import Registry

    _push(capsys, artifact, "race", 3)
    assert run(capsys, "promote", "race", "1", "--alias", "prod")[0] == 0
    real_read = Registry._read_alias
    interfered: list[bool] = []

    def read_then_someone_else_promotes(self, model, alias):
        item = real_read(self, model, alias)
        if not interfered:
            interfered.append(True)
            Registry.from_env().promote(model, 2, alias)  # a CI job on another machine
        return item

    monkeypatch.setattr(Registry, "_read_alias", read_then_someone_else_promotes)
    code, out, err = run(capsys, "promote", "race", "3", "--alias", "prod")
    assert code == 2 and out == "", err
    assert err == "error: registry: race@prod: alias changed concurrently; retry\n"
    monkeypatch.setattr(Registry, "_read_alias", real_read)
    chain = Registry.from_env().audit("race", "prod")
    assert [(a["from_version"], a["version"]) for a in chain] == [(None, 1), (1, 2)]
    _assert_unbroken(chain)
    code, out, _ = run(capsys, "promote", "race", "3", "--alias", "prod")  # the retry succeeds
    assert code == 0 and out.strip() == "race@prod: 2 -> 3"


def test_promote_continues_an_alias_written_before_revisions(registry, artifact, capsys):
    """An alias item from an older client (no revision) is compare-and-swapped on its version."""
    from inferstack.registry.client import Registry

    _push(capsys, artifact, "legacy", 2)
    reg = Registry.from_env()
    reg.ddb.put_item(TableName=reg.table, Item={
        "model": {"S": "legacy"}, "item": {"S": "alias#prod"}, "version": {"N": "1"},
        "updated_by": {"S": "old-client"}, "updated_at": {"S": "2026-01-01T00:00:00.000+00:00"},
    })
    entry = reg.promote("legacy", 2, "prod")
    assert (entry["from_version"], entry["version"], entry["rev"]) == (1, 2, 2)
    assert reg.promote("legacy", 1, "prod")["rev"] == 3
