"""Byte-level helpers shared by the detectors: signatures, integers, lines and mimetype's pattern
matcher (case folding, runs of blanks, word ends)."""

from __future__ import annotations

from collections.abc import Callable

READ_LIMIT = 4096  # mimetype's default read limit; PocketBase never changes it

Test = Callable[[bytes], bool]

WS = b" \t\n\r\x0c"
ICASE, CWS, WORD = 1, 2, 4


def starts(*sigs: bytes) -> Test:
    """Starts with one of `sigs`."""
    return lambda b: b.startswith(sigs)


def at(offset: int, sig: bytes) -> Test:
    """Holds `sig` at `offset`."""
    return lambda b: len(b) > offset and b.startswith(sig, offset)


def u16le(b: bytes, i: int) -> int:
    return int.from_bytes(b[i:i + 2], "little")


def u32le(b: bytes, i: int) -> int:
    return int.from_bytes(b[i:i + 4], "little")


def u32be(b: bytes, i: int) -> int:
    return int.from_bytes(b[i:i + 4], "big")


def match(b: bytes, pattern: bytes, flags: int = 0) -> int:
    """Length of `b` consumed by matching `pattern` at its start, or -1.

    ICASE: an upper-case pattern letter matches either case (lower-case ones match exactly);
    CWS: a blank in the pattern matches a run of blanks; WORD: the match must end a word.
    """
    if not pattern:
        return 0
    if not b:
        return -1
    if not flags & (ICASE | CWS):
        if not b.startswith(pattern):
            return -1
        i = j = len(pattern)
    else:
        i = j = 0
        while i < len(b) and j < len(pattern):
            p = pattern[j]
            if flags & ICASE and 65 <= p <= 90:
                if (b[i] - 32 if 97 <= b[i] <= 122 else b[i]) != p:
                    return -1
                i, j = i + 1, j + 1
            elif flags & CWS and p in WS:
                if b[i] not in WS:
                    return -1
                i, j = i + 1, j + 1
                if j < len(pattern) and pattern[j] not in WS:
                    while i < len(b) and b[i] in WS:
                        i += 1
            elif b[i] != p:
                return -1
            else:
                i, j = i + 1, j + 1
    if j < len(pattern) or (flags & WORD and i < len(b) and b[i] not in WS):
        return -1
    return i


def search(b: bytes, pattern: bytes, flags: int) -> bool:
    """`pattern` matches somewhere in `b`."""
    return any(match(b[i:], pattern, flags) != -1 for i in range(len(b) - len(pattern) + 1))


def line(b: bytes, i: int) -> tuple[bytes, int]:
    """The line starting at i (without "\\n" or "\\r\\n") and the index after it."""
    end = b.find(b"\n", i)
    text, nxt = (b[i:], len(b)) if end == -1 else (b[i:end], end + 1)
    return (text[:-1] if text.endswith(b"\r") else text), nxt


def lstrip_ws(b: bytes) -> bytes:
    return b.lstrip(WS)
