"""Canary routes: traffic of a model entry, step math and the rollout edits (pure, no Pulumi)."""

from __future__ import annotations

import pytest

from inferstack.config.serving import ModelConfig
from inferstack.serving import canary
from inferstack.serving.canary import RolloutError


def entry(**extra):
    base = {"name": "chat", "namespace": "team-nlp", "format": "huggingface", "registryModel": "llama", "version": "3"}
    base.update(extra)
    return base


def test_traffic_without_canary_is_all_stable():
    t = canary.traffic(ModelConfig.model_validate(entry()))
    assert (t.stable, t.canary, t.percent, t.serving_version) == ("3", None, None, "3")
    assert t.split == {"3": 100}
    assert canary.canary_traffic_percent(entry()) is None


def test_traffic_with_canary_serves_the_canary_spec():
    m = ModelConfig.model_validate(entry(canary={"version": "5", "percent": 10}))
    t = canary.traffic(m)
    assert t.serving_version == "5"
    assert t.split == {"3": 90, "5": 10}
    # raw mappings and models agree
    assert canary.traffic(entry(canary={"version": "5", "percent": 10})) == t


@pytest.mark.parametrize(("current", "expected"), [(0, 5), (5, 10), (10, 25), (24, 25), (50, 75), (75, 100)])
def test_next_step(current, expected):
    assert canary.next_step(current) == expected


def test_next_step_at_100_says_promote():
    with pytest.raises(RolloutError, match="promote"):
        canary.next_step(100)


def test_set_starts_a_canary_at_the_first_step_and_advances():
    e = entry()
    canary.set_canary(e, version="5")
    assert e["canary"] == {"version": "5", "percent": 5}
    canary.set_canary(e)
    assert e["canary"]["percent"] == 10
    canary.set_canary(e, percent=40)
    assert e["canary"]["percent"] == 40
    canary.set_canary(e)
    assert e["canary"]["percent"] == 50


def test_set_replaces_the_canary_version():
    e = entry(canary={"version": "5", "percent": 25})
    canary.set_canary(e, version="6", percent=5)
    assert e["canary"] == {"version": "6", "percent": 5}


@pytest.mark.parametrize(
    ("kwargs", "argument", "message"),
    [
        ({"percent": 101}, "--percent", "between 0 and 100; got 101"),
        ({"percent": -1}, "--percent", "between 0 and 100; got -1"),
        ({"version": "3"}, "--version", "already the stable version"),
        ({"version": "v5"}, "--version", "1 to 999999999"),
        # the stack config's version pattern (look-alike digits, trailing newline, huge numbers): never int()'d
        ({"version": "\u0667"}, "--version", "ASCII digits"),
        ({"version": "\uff17"}, "--version", "ASCII digits"),
        ({"version": "7\n"}, "--version", "1 to 999999999"),
        ({"version": "07"}, "--version", "leading zeros"),
        ({"version": "7" * 5000}, "--version", r"\(5,000 characters\) is too large"),
    ],
)
def test_set_rejects_bad_arguments(kwargs, argument, message):
    e = entry(canary={"version": "5", "percent": 10})
    before = dict(e, canary=dict(e["canary"]))
    with pytest.raises(RolloutError, match=message) as err:
        canary.set_canary(e, **kwargs)
    assert err.value.argument == argument
    assert e == before


def test_set_without_canary_needs_a_version():
    with pytest.raises(RolloutError) as err:
        canary.set_canary(entry(), percent=10)
    assert err.value.argument == "--version"


def test_promote_makes_the_canary_stable():
    e = entry(canary={"version": "5", "percent": 50})
    canary.promote(e)
    assert e["version"] == "5" and "canary" not in e
    assert canary.traffic(e).split == {"5": 100}


def test_rollback_sends_all_traffic_to_stable():
    e = entry(canary={"version": "5", "percent": 50})
    canary.rollback(e)
    assert e["canary"] == {"version": "5", "percent": 0}
    assert canary.traffic(e).split == {"3": 100, "5": 0}


@pytest.mark.parametrize("op", [canary.promote, canary.rollback])
def test_promote_and_rollback_need_a_canary(op):
    with pytest.raises(RolloutError, match="has no canary") as err:
        op(entry())
    assert err.value.argument == "--model"


def test_find_model_by_name_or_namespace_name():
    models = [entry(), entry(name="embed", namespace="team-search"), entry(namespace="team-search")]
    assert canary.find_model(models, "embed") == 1
    assert canary.find_model(models, "team-search/chat") == 2
    with pytest.raises(RolloutError, match="ambiguous; use namespace/name"):
        canary.find_model(models, "chat")
    with pytest.raises(RolloutError, match="no model 'nope'.*team-nlp/chat, team-search/embed, team-search/chat"):
        canary.find_model(models, "nope")


# ---------------------------------------------------------------- per-model steps and advance (SLO-gated canary)


def test_steps_of_uses_the_entrys_steps_else_the_default():
    from inferstack.serving.canary import CANARY_STEPS, steps_of

    assert steps_of({"name": "m", "version": "3", "canary": {"version": "5", "percent": 10, "steps": [10, 25, 50, 100]}}) == (10, 25, 50, 100)
    assert steps_of({"name": "m", "version": "3", "canary": {"version": "5", "percent": 10}}) == CANARY_STEPS
    assert steps_of({"name": "m", "version": "3"}) == CANARY_STEPS


def test_set_without_percent_moves_to_the_entrys_next_step():
    from inferstack.serving.canary import set_canary

    entry = {"name": "m", "version": "3", "canary": {"version": "5", "percent": 10, "steps": [10, 25, 50, 100]}}
    set_canary(entry)
    assert entry["canary"]["percent"] == 25  # the default steps would give 25 too: check the next one
    set_canary(entry)
    assert entry["canary"]["percent"] == 50
    set_canary(entry)
    assert entry["canary"]["percent"] == 100  # default steps would say 75


def test_advance_applies_each_decision():
    from inferstack.serving.canary import RolloutError, advance

    entry = {"name": "m", "version": "3", "canary": {"version": "5", "percent": 50, "steps": [10, 25, 50, 100]}}
    assert advance(entry, "hold") == "hold" and entry["canary"]["percent"] == 50
    assert advance(entry, "promote") == "step" and entry["canary"]["percent"] == 100
    assert advance(entry, "promote") == "promote" and entry["version"] == "5" and "canary" not in entry
    with pytest.raises(RolloutError):
        advance(entry, "promote")
    entry = {"name": "m", "version": "3", "canary": {"version": "5", "percent": 25}}
    assert advance(entry, "rollback") == "rollback" and entry["canary"]["percent"] == 0
