"""The two places a form's names come from, read as Go reads them: URL-encoded pairs (a query
string or an urlencoded body) and a multipart part's Content-Disposition header."""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from ..mediatype import parse_media_type

MAX_QUERY_PAIRS = 10_000  # net/url's cap on pairs in one query string

_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def parse_query(raw: bytes) -> list[tuple[str, bytes]]:
    """Go's url.ParseQuery: pairs split on "&" only; a ";", a bad escape or too many pairs is an error."""
    if raw.count(b"&") >= MAX_QUERY_PAIRS:
        raise ValueError("too many query parameters")
    pairs = []
    for item in raw.split(b"&"):
        if b";" in item:
            raise ValueError("invalid semicolon separator in query")
        if item:
            key, _, value = item.partition(b"=")
            pairs.append((_unescape(key).decode("utf-8", "replace"), _unescape(value)))
    return pairs


def _unescape(raw: bytes) -> bytes:
    """Go's url.QueryUnescape: "+" is a space, and a "%" without two hex digits is an error."""
    if _BAD_ESCAPE.search(raw):
        raise ValueError("invalid % escape")
    return unquote_to_bytes(raw.replace(b"+", b" "))


def form_part_names(disposition: str) -> tuple[str, str]:
    """A part's form name and client filename as Go's multipart.Part reports them ("" when absent).
    The filename is reduced like filepath.Base on Linux: "/" separates, a backslash does not."""
    kind, params, _ = parse_media_type(disposition)  # after an error Go keeps no parameters: no name
    if kind != "form-data":
        return "", ""
    filename = params.get("filename", "")
    trimmed = filename.rstrip("/")
    return params.get("name", ""), filename and (trimmed.rsplit("/", 1)[-1] if trimmed else "/")
