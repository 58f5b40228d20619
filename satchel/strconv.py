"""Go's strconv behaviours the API shows: ParseBool for flags, Quote for names in headers and messages."""

from __future__ import annotations

import re

_GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_GO_SHORT_ESCAPES = {
    ch: "\\" + letter for ch, letter in zip("\a\b\f\n\r\t\v", "abfnrtv", strict=True)
}


_GO_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def truthy(value: str) -> bool:
    """Go's strconv.ParseBool, where anything unparsable counts as false."""
    return value in _GO_TRUE


def parse_bool(value: str) -> bool | None:
    """Go's strconv.ParseBool: None where Go fails."""
    return True if value in _GO_TRUE else False if value in _GO_FALSE else None


_PLAIN = re.compile(r"[ !#-\[\]-~]*")  # printable ASCII but '"' and '\\': quoted as they are


def go_quote(text: str) -> str:
    """`text` as a Go string literal (strconv.Quote): Content-Disposition names, %q in error messages."""
    if _PLAIN.fullmatch(text):
        return f'"{text}"'
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        elif ch in _GO_SHORT_ESCAPES:
            out.append(_GO_SHORT_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)
