"""A cursor over markup that reads `name=value` attributes the way the HTML prescan does; the
SVG test and the XML and HTML charset lookups walk tags with it."""

from __future__ import annotations

from collections.abc import Iterator

from .scan import WS


class Cursor:
    """A read position in a byte string; peek/pop give 0 at the end, as mimetype's scanner does."""

    def __init__(self, b: bytes, i: int = 0) -> None:
        self.b, self.i = b, i

    def peek(self) -> int:
        return self.b[self.i] if self.i < len(self.b) else 0

    def pop(self) -> int:
        c = self.peek()
        self.i = min(self.i + 1, len(self.b))
        return c

    def skip_ws(self) -> None:
        while self.peek() in WS:
            self.i += 1

    def pop_until(self, stops: bytes) -> bytes:
        start = self.i
        while self.i < len(self.b) and self.b[self.i] not in stops:
            self.i += 1
        return self.b[start:self.i]

    def skip_comment(self) -> bool:
        """Step over a complete `<!-- -->` comment here; False (and no move) if there is none."""
        if self.b.startswith(b"<!--", self.i):
            end = self.b.find(b"-->", self.i + 2)
            if end != -1:
                self.i = end + 3
                return True
        return False

    def attributes(self) -> Iterator[tuple[bytes, bytes]]:
        """(name, value) of each attribute up to the end of the tag; the last may be empty."""
        more = True
        while more:
            name, value, more = self._attribute()
            yield name, value

    def _attribute(self) -> tuple[bytes, bytes, bool]:
        """Next `name=value` inside a tag: (name, value, more). Follows the HTML prescan rules."""
        while self.peek() in WS + b"/":
            self.i += 1
        if self.peek() == ord(">"):
            return b"", b"", False
        start = self.i
        while True:
            c = self.pop()
            name = self.b[start:self.i - 1]
            if c == 0:
                return b"", b"", False
            if c == ord("=") and name:
                return (name, *self._value())
            if c in WS:
                self.skip_ws()
                if self.peek() != ord("="):
                    return name, b"", True
                self.pop()
                self.skip_ws()
                return (name, *self._value())
            if c in b"/>":
                return name, b"", False

    def _value(self) -> tuple[bytes, bool]:
        self.skip_ws()
        start = self.i
        c = self.pop()
        if c in (0, ord(">")):
            return b"", False
        if c in b"\"'":
            value = self.pop_until(bytes([c]))
            if self.pop() != c:
                return b"", False
            return value, self.peek() not in (0, ord(">"))
        while True:
            c = self.pop()
            if c == 0:
                return b"", False
            if c in WS or c == ord(">"):
                return self.b[start:self.i - 1], c != ord(">")
