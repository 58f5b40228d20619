"""HTML, XML and SVG: leading tags, XML root elements with their namespaces, and XHTML."""

from __future__ import annotations

from .prescan import Cursor
from .scan import CWS, ICASE, WS, Test, lstrip_ws, match, search
from .text import UTF8_BOM

_SVG_NS = b"http://www.w3.org/2000/svg"


def markup(*tags: bytes) -> Test:
    """Starts (after BOM and blanks) with one of `tags`, any case, then a blank or '>'."""
    def test(b: bytes) -> bool:
        b = lstrip_ws(b.removeprefix(UTF8_BOM))
        return any(len(b) > len(t) and match(b, t, ICASE) != -1 and b[len(t)] in WS + b">"
                   for t in tags)
    return test


def ns(tag: bytes, uri: bytes) -> tuple[bytes, bytes]:
    """An xml_root() pair: `tag` with a default namespace starting with `uri`."""
    return tag, b'xmlns="' + uri


def xml_root(*sigs: tuple[bytes, bytes]) -> Test:
    """(root tag, namespace) pairs searched in the first 512 bytes after leading blanks."""
    def test(b: bytes) -> bool:
        b = lstrip_ws(b)[:512]
        for tag, namespace in sigs:
            if not tag:
                found = b.find(namespace) > 0
            elif not namespace:
                found = b.find(tag) > 0
            else:
                found = -1 != b.find(tag) < b.find(namespace)
            if found:
                return True
        return False
    return test


def svg(b: bytes) -> bool:
    """<svg with the SVG xmlns (comments allowed before it), or an XML declaration then "<svg"."""
    cur = Cursor(b)
    cur.skip_ws()
    start = cur.i
    while cur.skip_comment():
        pass
    if b.startswith(b"<svg", cur.i):
        return any(name == b"xmlns" and value == _SVG_NS for name, value in cur.attributes())
    if not b.startswith(b"<?xml", start):
        return False
    cur.i = start
    for name, _ in cur.attributes():
        if name == b"version":
            return b"<svg" in b[cur.i:cur.i + 4096]
    return False


def xhtml(b: bytes) -> bool:
    b = b[:1024]
    return any(search(b, tag, CWS | ICASE) for tag in (b"<!DOCTYPE HTML", b"<HTML XMLNS="))
