"""JSON of any nesting depth, read and written without recursion.

PocketBase (Go) decodes JSON nested up to 10000 levels and encodes whatever it decoded, so a
record may hold a json value thousands of levels deep. orjson refuses to encode past 254 levels
and to decode past 1024, and the stdlib's C scanner recurses on the C stack; raising the
interpreter's recursion limit would trade a clean error for a possible C-stack overflow in every
thread. So shallow values take orjson's fast path, and deep ones an explicit stack here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from json.decoder import scanstring  # type: ignore[attr-defined]  # public, but not in typeshed
from typing import Any

import orjson

MAX_DEPTH = 10000  # Go's encoding/json nesting limit: 10000 levels decode, 10001 don't
_HEADROOM = 50  # levels a response may wrap around a value (page, record, expand trees)
_BRACKETS_TO_BE_DEEP = 254 - _HEADROOM  # a text with fewer `[` and `{` can't nest too deep for orjson

_SPACE = re.compile(r"[ \t\n\r]*")
def _skip_space(text: str, pos: int) -> int:
    """The index of the first non-space at or after `pos` (the pattern matches even nothing)."""
    match = _SPACE.match(text, pos)
    assert match is not None
    return match.end()


_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_CONSTANTS = {"true": True, "false": False, "null": None}


# Encoding ---------------------------------------------------------------------------------------


def dumps(value: Any, sort_keys: bool = False) -> bytes:
    """orjson.dumps(value) at any depth: the same bytes, deep containers laid out by hand."""
    option = orjson.OPT_SORT_KEYS if sort_keys else 0
    try:
        return orjson.dumps(value, option=option)
    except orjson.JSONEncodeError as exc:
        if not _too_deep(exc):
            raise  # not a depth problem: orjson's own refusal stands
    return b"".join(_pieces(value, option))


def _too_deep(exc: orjson.JSONEncodeError) -> bool:
    return "Recursion limit" in str(exc)


def _attempt(node: Any, option: int) -> bytes | None:
    """orjson's encoding of `node`, or None when it nests too deep for orjson."""
    try:
        return orjson.dumps(node, option=option)
    except orjson.JSONEncodeError as exc:
        if _too_deep(exc):
            return None
        raise


def _pieces(value: Any, option: int) -> list[bytes]:
    """The encoding of a too-deep `value` in pieces: each container orjson can't take whole is opened
    here and its children offered to orjson one by one. A subtree is offered again only by its
    open ancestors within orjson's 254 levels, so the work stays within a constant of orjson's own,
    and the Python loop runs only over the deep containers and their direct children."""
    out: list[bytes] = []
    frames: list[tuple[Any, bytes, bool]] = []  # open containers: children left, closer, is an object
    node: Any = value
    encoded: bytes | None = None  # the root is known to be too deep
    while True:
        if encoded is not None:
            out.append(encoded)
        else:
            if len(frames) > 2 * MAX_DEPTH:
                raise ValueError("nested too deeply to encode")  # also stops a circular value
            is_object = isinstance(node, dict)
            out.append(b"{" if is_object else b"[")
            children = (sorted(node.items()) if option else node.items()) if is_object else node
            frames.append((iter(children), b"}" if is_object else b"]", is_object))
            node = _EMPTY  # marks "no child written yet" for the comma below
        while frames:
            children, closer, is_object = frames[-1]
            child: Any = next(children, _EMPTY)
            if child is _EMPTY:
                out.append(closer)
                frames.pop()
                continue
            if node is not _EMPTY:
                out.append(b",")
            if is_object:
                key, node = child
                out.append(orjson.dumps(key) + b":")
            else:
                node = child
            encoded = _attempt(node, option)
            break
        else:
            return out


_CONTAINERS = (dict, list, tuple)
_EMPTY = object()


# Decoding ---------------------------------------------------------------------------------------


def _plain_number(text: str) -> int | float:
    return float(text) if any(c in text for c in ".eE") else int(text)


def loads(raw: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """orjson.loads(raw) at any depth up to `max_depth`; ValueError for anything else."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "depth" not in str(exc):
            raise
    text = raw.decode() if isinstance(raw, (bytes, bytearray, memoryview)) else raw
    value, end = raw_decode(text, _skip_space(text, 0), max_depth=max_depth)
    if _skip_space(text, end) != len(text):
        raise ValueError("data after the JSON value")
    return value


def servable(value: Any, text: str | None = None) -> Any:
    """`value` as a response should hold it: itself, or, when it nests too deep for orjson to encode
    inside a response, its encoding (`text` if known) as an orjson.Fragment. Encoded once here, a
    deep value costs no Python-speed walk when it is validated, stored or served."""
    wrapped = value
    for _ in range(_HEADROOM):
        wrapped = [wrapped]
    try:
        orjson.dumps(wrapped)
        return value
    except orjson.JSONEncodeError as exc:
        if not _too_deep(exc):
            raise
    return orjson.Fragment(text if text is not None else dumps(value))


def stored(text: str) -> Any:
    """A JSON text this module wrote, as a value to serve (see servable). Past orjson's decoding
    depth the text is not parsed at all: only dumps() writes these texts."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if "depth" not in str(exc):
            raise
        return orjson.Fragment(text)
    if text.count("[") + text.count("{") < _BRACKETS_TO_BE_DEEP:
        return value  # too few brackets to be deep (brackets inside strings only overcount)
    return servable(value, text)


def raw_decode(
    text: str,
    pos: int,
    *,
    pairs_hook: Callable[[list[tuple[str, Any]]], Any] = dict,
    number: Callable[[str], Any] = _plain_number,
    max_depth: int = MAX_DEPTH,
) -> tuple[Any, int]:
    """The JSON value starting at `pos` and the index after it, as json.JSONDecoder.raw_decode reads
    it with these hooks (strict strings, no NaN), but with an explicit stack instead of recursion."""
    stack: list[tuple[list[Any], list[str]]] = []  # per open container: items so far, [key] for objects
    while True:
        pos = _skip_space(text, pos)
        if len(stack) >= max_depth and text[pos : pos + 1] in ("[", "{"):
            raise ValueError("JSON nested too deeply")
        value, pos, opened = _scalar_or_open(text, pos, pairs_hook, number)
        if opened is not None:
            stack.append(opened)
            if opened[1]:  # an object: its first key
                pos = _key(text, pos, opened[1])
            continue
        while stack:
            items, key = stack[-1]
            items.append((key[0], value) if key else value)
            pos = _skip_space(text, pos)
            char = text[pos : pos + 1]
            if char == ",":
                if key:
                    pos = _key(text, _skip_space(text, pos + 1), key)
                else:
                    pos += 1
                break
            if char != ("}" if key else "]"):
                raise ValueError(f"expected ',' or a closing bracket at {pos}")
            pos += 1
            stack.pop()
            value = pairs_hook(items) if key else items
        else:
            return value, pos


def _scalar_or_open(
    text: str, pos: int, pairs_hook: Callable[[list[tuple[str, Any]]], Any], number: Callable[[str], Any]
) -> tuple[Any, int, tuple[list[Any], list[str]] | None]:
    """A complete value at `pos` (empty containers included), or a frame for a container just opened."""
    char = text[pos : pos + 1]
    if char == '"':
        value, end = scanstring(text, pos + 1, True)
        return value, end, None
    if char in ("[", "{"):
        after = _skip_space(text, pos + 1)
        if text[after : after + 1] == ("]" if char == "[" else "}"):
            return ([] if char == "[" else pairs_hook([])), after + 1, None
        return None, after, ([], [""] if char == "{" else [])
    match = _NUMBER.match(text, pos)
    if match:
        return number(match.group()), match.end(), None
    for word, constant in _CONSTANTS.items():
        if text.startswith(word, pos):
            return constant, pos + len(word), None
    raise ValueError(f"expected a JSON value at {pos}")


def _key(text: str, pos: int, key: list[str]) -> int:
    """Read `"name" :` at `pos` into key[0]; the index after the colon."""
    if text[pos : pos + 1] != '"':
        raise ValueError(f"expected an object key at {pos}")
    key[0], pos = scanstring(text, pos + 1, True)
    pos = _skip_space(text, pos)
    if text[pos : pos + 1] != ":":
        raise ValueError(f"expected ':' at {pos}")
    return pos + 1


# Walking ----------------------------------------------------------------------------------------


def rebuild(value: Any, leaf: Callable[[Any], Any]) -> Any:
    """A copy of a JSON value with `leaf` applied to every scalar, containers rebuilt without recursion."""
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any]] = [(value, root, 0)]  # (source, target container, slot in it)
    while stack:
        source, target, slot = stack.pop()
        if isinstance(source, dict):
            copy: Any = dict.fromkeys(source)
            stack.extend((child, copy, key) for key, child in source.items())
        elif isinstance(source, list):
            copy = [None] * len(source)
            stack.extend((child, copy, index) for index, child in enumerate(source))
        else:
            copy = leaf(source)
        target[slot] = copy
    return root[0]


def strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value, object keys included, without recursion."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            yield from node.keys()
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
