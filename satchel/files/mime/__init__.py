"""Content sniffing that reproduces gabriel-vasile/mimetype v1.4.15, the library PocketBase 0.40.6
uses for the stored Content-Type, the `mimeTypes` field check and the fallback file extension.

`tree` holds the formats in mimetype's order. Their tests live in modules named for what they
recognise (`media`, `mp3`, `containers`, `binary`, `text`, `markup`, `jsonlike`, `delimited`),
built on `scan` (byte helpers) and `prescan` (the markup attribute reader). `charset` adds the
charset parameter to text types; mime_allowed reads type strings with satchel.mediatype, as Go does.
"""

from __future__ import annotations

from ...mediatype import media_type
from .charset import charset
from .scan import READ_LIMIT
from .tree import ROOT, Format

__all__ = ["READ_LIMIT", "extension", "mime_allowed", "sniff", "sniff_file"]


def sniff(head: bytes) -> str:
    """The Content-Type PocketBase stores for content starting with `head` (first 4096 bytes)."""
    head = head[:READ_LIMIT]
    node = ROOT
    while found := next((c for c in node.children if c.test(head)), None):
        node = found
    encoding = charset(node.mime, head[:1024])
    return f"{node.mime}; charset={encoding}" if encoding else node.mime


def sniff_file(path: str) -> str:
    """sniff() on the first READ_LIMIT bytes of a file."""
    with open(path, "rb") as f:
        return sniff(f.read(READ_LIMIT))


def _flatten(node: Format) -> list[Format]:
    return [node] + [d for c in node.children for d in _flatten(c)]


_BY_MIME: dict[str, Format] = {}
for _node in reversed(_flatten(ROOT)):  # reversed: the first in tree order wins, as in mimetype
    _BY_MIME[_node.mime] = _node
    _BY_MIME.update((a, _node) for a in _node.aliases)


def _lookup(mime: str) -> Format | None:
    """The format a type string (one sniff() gave, or an alias) names, parameters ignored."""
    return _BY_MIME.get(mime.split(";", 1)[0].lower().strip())


def extension(mime: str) -> str:
    """The extension mimetype reports for a type ("" for octet-stream and unknown types).

    A type shared by two formats gives the first one's: application/json is .json, never .har.
    """
    node = _lookup(mime)
    return node.ext if node else ""


def mime_allowed(sniffed: str, allowed: list[str]) -> bool:
    """The `mimeTypes` field check, as mimetype's MIME.Is: an entry names the sniffed type or one
    of its aliases.

    Both sides go through Go's mime.ParseMediaType (see media_type), so an entry whose parameters
    repeat a name with another value is "", which matches nothing sniff() gives except a type
    whose own charset parameter repeats (`<?xml encoding="a;charset=b"?>`); Go does the same.
    """
    node = _lookup(sniffed)
    names = {media_type(sniffed), *(node.aliases if node else ())}
    return any(media_type(entry) in names for entry in allowed)
