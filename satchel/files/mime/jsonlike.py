"""JSON and its relatives: a lenient scanner that copies mimetype's parser, the object or array
test (with key-path queries for GeoJSON, HAR, glTF and CycloneDX), and NDJSON."""

from __future__ import annotations

import re
from typing import NamedTuple

from .scan import READ_LIMIT, Test, line, lstrip_ws

_JSON_WS = b" \t\r\n"
_MANTISSA = re.compile(rb"-?(\d*)\.?(\d*)")
_EXPONENT = re.compile(rb"[eE][+-]?(\d*)")


class Query(NamedTuple):
    """A key path (b"[" steps into an array) and the raw JSON values it may hold (any if none)."""

    path: tuple[bytes, ...]
    values: tuple[bytes, ...] = ()


class _Scan(NamedTuple):
    parsed: int  # bytes the top-level value took, as mimetype counts them
    inspected: int  # bytes looked at, counted again after a rewind (see _scan)
    hit: bool  # some query's key path held one of its values (always true with no queries)


def _scan(b: bytes, queries: tuple[Query, ...] = ()) -> _Scan:
    """Scan one JSON value with the quirks of mimetype's lenient parser.

    A string, array or object that fails does not fail its parent: the parent takes just the
    opening character as the value and carries on right after it ("[{]" is a valid array),
    while the inspected count keeps growing. Only a scalar's failure, or running out of input
    inside a container, fails the enclosing container. The query key path is only ever
    pushed and popped where mimetype does it, so "]" after an element leaves its "[" behind.
    """
    n, path, hit = len(b), [], not queries
    stack: list[list] = []  # [is_object, opening index, matched query, value start]
    i = seen = _skip(b, 0)
    if i >= n:
        return _Scan(0, seen, hit)
    top_ws, action = i, "value"
    while True:
        if action == "value":  # a value starts at i
            c = b[i]
            if c in b"[{":
                seen += 1
                stack.append([c == ord("{"), i, None, 0])
                if c == ord("["):
                    path.append(b"[")
                i, action = i + 1, "member" if c == ord("{") else "element"
                continue
            end, ok = _scalar(b, i)
            seen += end - i
            if ok:
                i, action = end, "done"
            elif c == ord('"'):
                i, action = i + 1, "after"
            elif stack:
                action = "fail"
            else:
                return _Scan(top_ws, seen, hit)
        elif action == "done":  # a value parsed: trailing blanks belong to it
            end = _skip(b, i)
            seen, i, action = seen + end - i, end, "after"
        elif action == "after":  # after a value, inside its container
            if not stack:
                return _Scan(i, seen, hit)
            frame = stack[-1]
            if frame[2] is not None:
                hit = hit or not frame[2].values or b[frame[3]:i].strip() in frame[2].values
                frame[2] = None
            closer = ord("}" if frame[0] else "]")
            if i < n and b[i] in (ord(","), closer):
                if frame[0]:
                    path.pop()
                seen += 1
                if b[i] == closer:
                    stack.pop()
                    i, action = i + 1, "done"
                else:
                    i, action = i + 1, "member" if frame[0] else "element"
            else:
                action = "fail"
        elif action == "element":  # next array element, or "]"
            end = _skip(b, i)
            seen, i = seen + end - i, end
            if i >= n:
                action = "fail"
            elif b[i] == ord("]"):
                path.pop()
                stack.pop()
                seen, i, action = seen + 1, i + 1, "done"
            else:
                action = "value"
        elif action == "member":  # next `"key": value` pair, or "}"
            end = _skip(b, i)
            seen, i = seen + end - i, end
            if i < n and b[i] == ord("}"):
                stack.pop()
                seen, i, action = seen + 1, i + 1, "done"
                continue
            i, seen, ok = _key(b, i, seen, stack[-1], path, queries, hit)
            action = "value" if ok else "fail"
        else:  # "fail": the innermost container fails; its parent takes only its opening byte
            i, action = stack.pop()[1] + 1, "after"


def _skip(b: bytes, i: int) -> int:
    while i < len(b) and b[i] in _JSON_WS:
        i += 1
    return i


def _key(b, i, seen, frame, path, queries, hit) -> tuple[int, int, bool]:
    """Parse `"key" :` at i (counting bytes into `seen`), record the key path, stop at the value."""
    if i >= len(b) or b[i] != ord('"'):
        return i, seen, False
    end, ok = _string(b, i + 1)
    seen += end - i
    if not ok:
        return end, seen, False
    path.append(b[i + 1:end - 1])
    if not hit:
        frame[2] = next((q for q in queries if q.path == tuple(path)), None)
    i = _skip(b, end)
    seen += i - end
    if i >= len(b) or b[i] != ord(":"):
        return i, seen, False
    end = _skip(b, i + 1)
    seen += end - i
    frame[3] = end
    return end, seen, end < len(b)


def _string(b: bytes, i: int) -> tuple[int, bool]:
    """From just after the opening quote to just after the closing one."""
    while i < len(b):
        c, i = b[i], i + 1
        if c == ord('"'):
            return i, True
        if c == ord("\\"):
            if i >= len(b):
                return i, False
            if b[i] == ord("u"):
                i += 1
                for _ in range(4):
                    if i < len(b) and b[i] not in b"0123456789abcdefABCDEF":
                        return i, False
                    i = min(i + 1, len(b))
            elif b[i] in b'"\\/bfnrt':
                i += 1
            else:
                return i, False
    return i, False


def _scalar(b: bytes, i: int) -> tuple[int, bool]:
    """A string, literal or number at i: (where it stopped, whether it is complete)."""
    c = b[i]
    if c == ord('"'):
        return _string(b, i + 1)
    for word in (b"true", b"false", b"null"):
        if c == word[0]:
            k = 0
            while k < len(word) and i + k < len(b) and b[i + k] == word[k]:
                k += 1
            return i + k, k == len(word)
    m = _MANTISSA.match(b, i)
    assert m is not None  # every part is optional: it always matches
    if not (m[1] or m[2]):
        return m.end(), False
    e = _EXPONENT.match(b, m.end())
    return (e.end(), bool(e[1])) if e else (m.end(), True)


def json_like(queries: tuple[Query, ...] = (), arrays: bool = False) -> Test:
    """An object (or array) that parses whole, or, when the head was cut, parses up to the cut."""
    def test(b: bytes) -> bool:
        first = lstrip_ws(b)[:1]
        if first != b"{" and not (arrays and first == b"["):
            return False
        scan = _scan(b, queries)
        if not scan.hit:
            return False
        if len(b) < READ_LIMIT:
            return scan.parsed == len(b)
        return scan.inspected == len(b)  # cut by the read limit: fine up to the cut
    return test


def ndjson(b: bytes) -> bool:
    """Two or more lines, each a JSON document (the last may be cut), one an object or array."""
    lines, containers, i = 0, 0, 0
    while i < len(b):
        text, i = line(b, i)
        scan = _scan(text)
        if (scan.inspected if i >= len(b) else scan.parsed) != len(text):
            return False
        containers += text.lstrip(_JSON_WS)[:1] in (b"{", b"[")
        lines += 1
    return lines > 1 and containers > 0
