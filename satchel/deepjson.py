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
from json.decoder import scanstring
from typing import Any

import orjson

MAX_DEPTH = 10000  # Go's encoding/json nesting limit: 10000 levels decode, 10001 don't
_CHUNK = 200  # levels handed to orjson in one call, under its encoding limit of 254

_SPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_CONSTANTS = {"true": True, "false": False, "null": None}


# Encoding ---------------------------------------------------------------------------------------


def dumps(value: Any, sort_keys: bool = False) -> bytes:
    """orjson.dumps(value) at any depth: the same bytes, deep containers laid out by hand."""
    option = orjson.OPT_SORT_KEYS if sort_keys else 0
    try:
        return orjson.dumps(value, option=option)
    except orjson.JSONEncodeError:
        heights = _heights(value) if isinstance(value, _CONTAINERS) else {}
        if heights.get(id(value), 0) <= _CHUNK:
            raise  # not a depth problem: orjson's own refusal stands
        return b"".join(_pieces(value, heights, option))


def _heights(value: Any) -> dict[int, int]:
    """The height of every container (a leaf container is 1), keyed by id, from one depth-first walk
    that keeps one frame per open container: survivors stay few, so the GC stays quiet."""
    heights: dict[int, int] = {}
    frames: list[list[Any]] = [[value, iter(_children(value)), 0]]  # node, children left, tallest child
    while frames:
        frame = frames[-1]
        for child in frame[1]:
            if not isinstance(child, _CONTAINERS):
                continue
            height = heights.get(id(child))
            if height is None:
                if len(frames) > MAX_DEPTH * 2:
                    raise ValueError("nested too deeply to encode")  # also stops a circular value
                frames.append([child, iter(_children(child)), 0])
                break
            frame[2] = max(frame[2], height)
        else:
            frames.pop()
            heights[id(frame[0])] = frame[2] + 1
            if frames:
                frames[-1][2] = max(frames[-1][2], frame[2] + 1)
    return heights


def _children(node: Any) -> Any:
    return node.values() if isinstance(node, dict) else node


def _pieces(value: Any, heights: dict[int, int], option: int) -> list[bytes]:
    """The encoding of `value` in pieces: containers of small height go to orjson whole."""
    out: list[bytes] = []
    frames: list[tuple[Any, bytes, bool]] = []  # open containers: children left, closer, is an object
    node = value
    while True:
        if not isinstance(node, _CONTAINERS) or heights[id(node)] <= _CHUNK:
            out.append(orjson.dumps(node, option=option))
        else:
            is_object = isinstance(node, dict)
            out.append(b"{" if is_object else b"[")
            children = (sorted(node.items()) if option else node.items()) if is_object else node
            frames.append((iter(children), b"}" if is_object else b"]", is_object))
            node = _EMPTY  # marks "no child written yet" for the comma below
        while frames:
            children, closer, is_object = frames[-1]
            child = next(children, _EMPTY)
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
    value, end = raw_decode(text, _SPACE.match(text, 0).end(), max_depth=max_depth)
    if _SPACE.match(text, end).end() != len(text):
        raise ValueError("data after the JSON value")
    return value


def stored(text: str, headroom: int = 50) -> Any:
    """A JSON text this module wrote, as a value to serve: parsed, unless it nests too deep for
    orjson to encode with `headroom` levels of response around it; then kept as the text itself
    (an orjson.Fragment), so a deep record costs every later response no Python-speed walk."""
    value = loads(text)
    if text.count("[") + text.count("{") < _CHUNK:
        return value  # too few brackets to be deep (brackets inside strings only overcount)
    wrapped = value
    for _ in range(headroom):
        wrapped = [wrapped]
    try:
        orjson.dumps(wrapped)
    except orjson.JSONEncodeError:
        return orjson.Fragment(text)
    return value


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
        pos = _SPACE.match(text, pos).end()
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
            pos = _SPACE.match(text, pos).end()
            char = text[pos : pos + 1]
            if char == ",":
                if key:
                    pos = _key(text, _SPACE.match(text, pos + 1).end(), key)
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
        after = _SPACE.match(text, pos + 1).end()
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
    pos = _SPACE.match(text, pos).end()
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
