"""The bounded decoders of user text (inferstack.config.bounded), pure: every limit, and the look-alikes each refuses."""

from __future__ import annotations

import sys
import time

import pytest

from inferstack.config import bounded
from inferstack.config.bounded import MAX_DEPTH, DecodeError
from inferstack.config.patterns import (
    REGISTRY_ALIAS_PATTERN,
    REGISTRY_MODEL_PATTERN,
    REGISTRY_VERSION_PATTERN,
)

LOOKALIKES = ["3\n", "\u0663", "\uff13", "3\u200b", "\U0001d7d1", " 3", "3 ", "+3", "-3", "03", "", "\u00b3"]


def test_json_nesting_is_counted_before_parsing_and_never_recurses() -> None:
    assert bounded.json_value("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    for text in ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "[" * 100_000 + "]" * 100_000, "[" * 100_000,
                 '{"a": ' * 100_000 + "1" + "}" * 100_000):
        start = time.perf_counter()
        with pytest.raises(DecodeError, match=f"nested deeper than {MAX_DEPTH} levels"):
            bounded.json_value(text)
        assert time.perf_counter() - start < 1.0
    # brackets inside strings (escaped quotes too) are text, not nesting
    assert bounded.json_value('["' + "[" * 1000 + '\\"' + "{" * 1000 + '"]') == ["[" * 1000 + '"' + "{" * 1000]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("1" * 5000, "too large"),
        ("[" + "9" * 17 + "]", "out of range"),  # beyond 2**53: JSON consumers lose digits
        ("-" + "9" * 5000, "too large"),
        ("1e999", "out of range"),
        ("1" * 2500 + "." + "1" * 2500, "too large"),
        ("1e" + "9" * 5000, "too large"),
        ("NaN", "NaN is not a JSON number"),
        ("[Infinity]", "Infinity is not a JSON number"),
        ('{"a": 1, "a": 2}', "duplicate key 'a'"),
    ],
)
def test_json_numbers_and_keys_are_bounded(text: str, needle: str) -> None:
    with pytest.raises(DecodeError, match=needle):
        bounded.json_value(text)
    assert sys.get_int_max_str_digits() in (0, 4300)  # nothing raised the interpreter's own limit


def test_config_value_keeps_plain_strings_and_refuses_hostile_json() -> None:
    assert bounded.config_value("eu-west-1") == "eu-west-1"
    assert bounded.config_value('{"spotShare": 0.5}') == {"spotShare": 0.5}
    assert bounded.config_value(["already", "decoded"]) == ["already", "decoded"]
    with pytest.raises(DecodeError, match="nested deeper"):
        bounded.config_value("[" * 100_000)  # not JSON at all, but not a plausible string either
    with pytest.raises(DecodeError, match="too large"):
        bounded.config_value("1" * 5000)


def test_plain_data_bounds_values_handed_over_decoded() -> None:
    deep: object = 1
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(DecodeError, match="nested deeper"):
        bounded.plain_data(deep)
    with pytest.raises(DecodeError, match=r"integer at a\[1\] is too large"):
        bounded.plain_data({"a": [1, 10**5000]})
    with pytest.raises(DecodeError, match="not finite"):
        bounded.plain_data({"a": float("inf")})
    assert bounded.plain_data({"a": [1, 2.5, "x", None, True]}) == {"a": [1, 2.5, "x", None, True]}


@pytest.mark.parametrize("text", LOOKALIKES)
def test_integers_and_versions_are_ascii_digits_only(text: str) -> None:
    with pytest.raises(DecodeError):
        bounded.version(text)
    if text in ("+3", "-3", "03"):
        assert bounded.integer(text) == int(text)  # integers, but not registry versions
    else:
        with pytest.raises(DecodeError):
            bounded.integer(text)


def test_version_is_the_stack_configs_pattern() -> None:
    assert bounded.version("7") == 7 and bounded.version("999999999") == 999_999_999
    with pytest.raises(DecodeError, match="1 to 999999999"):
        bounded.version("1000000000")
    with pytest.raises(DecodeError, match=r"\(5,000 characters\) is too large"):
        bounded.version("1" * 5000)


@pytest.mark.parametrize(
    ("pattern", "good", "bad"),
    [
        (REGISTRY_MODEL_PATTERN, "llama-3.1_8b", ["llama\n", "llam\u0430", "llama\u200b", "Llama", "a" * 129]),
        (REGISTRY_VERSION_PATTERN, "42", ["42\n", "\u0664\u0662", "\uff14\uff12", "042", "0"]),
        (REGISTRY_ALIAS_PATTERN, "prod", ["prod\n", "pr\u043ed", "prod\u200b", "1prod", "a" * 64]),
    ],
)
def test_fullmatch_is_whole_text_and_ascii(pattern: str, good: str, bad: list[str]) -> None:
    assert bounded.fullmatch(pattern, good)
    for text in bad:
        assert not bounded.fullmatch(pattern, text), repr(text)
        with pytest.raises(DecodeError, match="is not allowed"):
            bounded.checked(pattern, text)
    assert not bounded.fullmatch(pattern, 42)


def test_duration() -> None:
    assert bounded.duration("90s") == 90 and bounded.duration("30m") == 1800 and bounded.duration("2d") == 172800
    assert bounded.duration("1.5h") == 5400 and bounded.duration("90", default_unit="s") == 90
    for text in ("90", "1h\n", " 1h", "\u0661h", "\uff11h", "1" * 5000 + "h", "1e9h", "inf", "nan", "-1h", "1w", "1 h"):
        with pytest.raises(DecodeError, match="invalid duration"):
            bounded.duration(text)
    with pytest.raises(DecodeError, match="too long"):
        bounded.duration("400d")


def test_quantities() -> None:
    assert bounded.memory_quantity("24Gi") == 24 and bounded.memory_quantity("512Mi") == 0.5
    assert bounded.cpu_quantity("500m") == 0.5 and bounded.cpu_quantity("4") == 4
    for text in ("24Gi\n", " 4", "\u0664", "\uff14", "1" * 5000, "1" * 5000 + "Gi", "4Gb", "lots"):
        with pytest.raises(DecodeError, match="not a (memory|CPU) quantity"):
            bounded.memory_quantity(text) if text.endswith(("i", "b", "s")) else bounded.cpu_quantity(text)


def test_clip_keeps_the_start_and_the_end() -> None:
    message = "key: value " + "x" * 100_000 + " is not allowed; allowed: a, b"
    clipped = bounded.clip(message)
    assert len(clipped) < 900 and clipped.startswith("key: value x") and clipped.endswith("allowed: a, b")
    assert "characters cut" in clipped and bounded.clip("short") == "short"
