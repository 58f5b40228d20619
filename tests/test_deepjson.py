"""deepjson: orjson's bytes at any depth, and the stdlib decoder's reading without its recursion."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from satchel import deepjson

_scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False) | st.text()
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4))


def _wrap(value: Any, depth: int) -> Any:
    for level in range(depth):
        value = [value, level] if level % 3 else {"x": value}
    return value


@settings(max_examples=200, deadline=None, derandomize=True)
@given(value=_values, depth=st.integers(0, 1200))
def test_any_depth_encodes_as_orjson_would_and_reads_back(value: Any, depth: int) -> None:
    wrapped = _wrap(value, depth)
    encoded = deepjson.dumps(wrapped)
    if depth < 250:
        assert encoded == orjson.dumps(wrapped)
    assert deepjson.dumps(deepjson.loads(encoded)) == encoded
    assert deepjson.dumps(deepjson.raw_decode(encoded.decode(), 0)[0]) == encoded


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(text=st.text(alphabet='[]{}",:0123 -.eEtrufalsn\\x', max_size=40))
def test_the_explicit_stack_reads_exactly_what_the_stdlib_decoder_reads(text: str) -> None:
    start = len(text) - len(text.lstrip(" \t\n\r"))  # callers skip leading space, as the stdlib needs
    try:
        expected: Any = json.JSONDecoder().raw_decode(text, start)
    except ValueError:
        expected = ValueError
    try:
        got: Any = deepjson.raw_decode(text, start)
    except ValueError:
        got = ValueError
    assert got == expected


def test_go_s_nesting_limit_holds_for_empty_containers_too():
    assert deepjson.loads("[" * 10000 + "]" * 10000) is not None
    with pytest.raises(ValueError):
        deepjson.loads("[" * 10001 + "]" * 10001)


def test_orjson_s_own_refusals_stand():
    for value in (2**70, [2**70], {1: 2}):
        with pytest.raises(orjson.JSONEncodeError):
            deepjson.dumps(value)


def test_a_circular_value_is_an_error_not_a_hang():
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError):
        deepjson.dumps(loop)


def test_a_stored_text_too_deep_for_orjson_is_served_as_itself():
    deep = deepjson.dumps(_wrap(1, 300)).decode()
    value = deepjson.stored(deep)
    assert isinstance(value, orjson.Fragment)
    assert orjson.dumps({"items": [{"j": value}]}) == b'{"items":[{"j":' + deep.encode() + b"}]}"
    assert deepjson.stored('{"a":[1,2]}') == {"a": [1, 2]}
