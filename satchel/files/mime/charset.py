"""The charset parameter mimetype adds to text/plain, text/html and text/xml, taken from a BOM,
the document's own declaration (HTML `<meta>`, XML `encoding`) or the bytes themselves."""

from __future__ import annotations

from .prescan import Cursor
from .scan import ICASE, WS, match
from .text import bom


def charset(mime: str, head: bytes) -> str:
    """The charset to report for `head` (the first KiB) sniffed as `mime`, or "" for none."""
    guess = _GUESSERS.get(mime)
    return guess(head) if guess else ""


def _plain(b: bytes) -> str:
    if not b:
        return ""
    if mark := bom(b):
        return mark
    body = b
    for k in range(len(b) - 1, max(len(b) - 4, -1), -1):  # drop a rune cut by the 1 KiB window
        if b[k] < 0x80:
            break
        if b[k] & 0xC0 != 0x80:
            body = b[:k]
            break
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if any(not (7 <= c <= 13 or c == 27 or 32 <= c <= 126 or c == 0x85 or c >= 0xA0) for c in b):
        return ""
    return "windows-1252" if 0x85 in b else "iso-8859-1"


def _xml(b: bytes) -> str:
    """The encoding attribute of an XML declaration, else as for plain text."""
    cur = Cursor(b)
    while True:
        cur.skip_ws()
        if len(b) - cur.i <= 5:
            break
        found = b.find(b"<?xml", cur.i)
        if found == -1:
            break
        cur.i = found + 5
        for name, value in cur.attributes():
            if name.startswith(b"encoding") and value:
                return value.decode("utf-8", "replace")
    return _plain(b)


def _html(b: bytes) -> str:
    return bom(b) or _meta(b) or _plain(b)


def _meta(b: bytes) -> str:
    """HTML prescan: `<meta charset>` or `<meta http-equiv=content-type content>`, before <body."""
    cur = Cursor(b)
    while True:
        if cur.skip_comment():
            continue
        if len(b) - cur.i <= 5 or match(b[cur.i:], b"<BODY", ICASE) != -1:
            return ""
        if match(b[cur.i:], b"<META", ICASE) == -1:
            cur.i += 1
            continue
        cur.i += 5
        c = cur.pop()
        if c == 0 or (c not in WS and c != ord("/")):
            return ""
        seen, pragma, need_pragma, found = set(), False, None, b""
        for name, value in cur.attributes():
            name = name.lower()
            undecided = need_pragma is None or need_pragma and not pragma
            if name in seen or (not name and not value and undecided):
                continue
            seen.add(name)
            if name == b"http-equiv":
                pragma = pragma or match(value, b"CONTENT-TYPE", ICASE) != -1
            elif name == b"content":
                found = _from_content(value)
                need_pragma = True if found else need_pragma
            elif name == b"charset":
                found, need_pragma = value, False
        if need_pragma is False or (need_pragma and pragma):
            return found.decode("utf-8", "replace")


def _from_content(value: bytes) -> bytes:
    """The charset in a Content-Type value such as `text/html; charset=utf-8`."""
    cur = Cursor(value)
    while (k := value.find(b"charset", cur.i)) != -1:
        cur.i = k + 7
        cur.skip_ws()
        if cur.pop() != ord("="):
            continue
        cur.skip_ws()
        quote = cur.peek()
        if quote == 0:
            return b""
        if quote in b"\"'":
            cur.pop()
            return cur.pop_until(bytes([quote])).strip()
        return cur.pop_until(b";\t\n\x0c\r ").strip()
    return b""


_GUESSERS = {"text/plain": _plain, "text/html": _html, "text/xml": _xml}
