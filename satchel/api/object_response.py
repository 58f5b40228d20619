"""Serve a stored object exactly like PocketBase's `Serve` plus Go's `http.ServeContent`.

The protocol rules (dates, preconditions, ranges, multipart layout) are small pure
functions that tests call without I/O; `object_response` strings them together in Go's
order. PocketBase never sends an ETag, so no entity tag can ever match: only `*` counts in
If-Match / If-None-Match, and an entity tag in If-Range always disables the range.
"""

from __future__ import annotations

import asyncio
import calendar
import functools
import math
import os
import re
import secrets
from collections.abc import AsyncIterator, Mapping, Sequence
from email.utils import formatdate
from typing import NamedTuple

from starlette.types import Receive, Scope, Send

from ..storage.base import ObjectInfo, Storage
from ..strconv import go_quote

INLINE_TYPES = frozenset(  # stored types PocketBase serves inline
    """image/png image/jpg image/jpeg image/gif image/webp image/x-icon image/bmp
    video/webm video/mp4 video/3gpp video/quicktime video/x-ms-wmv
    audio/basic audio/aiff audio/mpeg audio/midi audio/mp3 audio/wave audio/wav audio/x-wav
    audio/x-mpeg audio/x-m4a audio/aac application/pdf application/x-pdf""".split()
)
EXTENSION_TYPES = {
    ".svg": "image/svg+xml",
    ".css": "text/css",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
CSP = "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; sandbox"
SMALL_FILE = 256 * 1024  # local files up to this size are read and sent as one body
CACHE_CONTROL = "max-age=2592000, stale-while-revalidate=86400"
_SPACE = " \t\r\n"  # Go's textproto.TrimString


def _extension(name: str) -> str:
    """Go's filepath.Ext: from the last dot of the last path element, or ""."""
    dot = name.rfind(".")
    return name[dot:] if dot > name.rfind("/") else ""


def serve_headers(info: ObjectInfo, served_name: str, download: bool) -> dict[str, str]:
    """The headers PocketBase's Serve sets before handing over to ServeContent."""
    disposition = "inline" if not download and info.content_type in INLINE_TYPES else "attachment"
    # Header values travel as latin-1; this keeps a non-ASCII name as its raw UTF-8 bytes, like Go.
    quoted = go_quote(served_name).encode("utf-8").decode("latin-1")
    headers = {
        "Cache-Control": CACHE_CONTROL,
        "Content-Disposition": f"{disposition}; filename={quoted}",
        "Content-Security-Policy": CSP,
        "Content-Type": EXTENSION_TYPES.get(_extension(served_name), info.content_type),
    }
    if info.modified != 0:  # Go treats the Unix epoch as "unknown"
        headers["Last-Modified"] = http_date(info.modified)
    return headers


# ---- HTTP dates (Go's http.ParseTime: RFC 1123 with GMT, RFC 850, ANSI C) -----------------

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LONG_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_CLOCK = r"(\d{1,2}):(\d\d):(\d\d)(?:[.,]\d+)?"  # Go accepts a fraction it was not asked for
_ZONE = r"UTC|ChST|MeST|WITA|GMT(?:[+-]\d+)?|[+-]\d\d+|[A-Z]{3}T?|[A-Z]{4}T"  # Go's parseTimeZone
_NAME = r"((?i:[a-z]{3}))"  # day and month names match case-insensitively, nothing else does
_RFC1123 = re.compile(rf"{_NAME}, +(\d\d) +{_NAME} +(\d{{4}}) +{_CLOCK} +GMT", re.A)
_RFC850 = re.compile(rf"((?i:[a-z]+)), +(\d\d)-{_NAME}-(\d\d) +{_CLOCK} +({_ZONE})", re.A)
_ANSIC = re.compile(rf"{_NAME} +{_NAME} +(\d{{1,2}}) +{_CLOCK} +(\d{{4}})", re.A)


@functools.lru_cache(maxsize=4096)
def http_date(timestamp: float) -> str:
    """Last-Modified: the time in whole seconds, RFC 1123 with GMT."""
    return formatdate(math.floor(timestamp), usegmt=True)


def _unix(year: int, month: str, day: str, clock: Sequence[str]) -> int | None:
    if month.lower() not in _MONTHS:
        return None
    hour, minute, second = (int(part) for part in clock)
    if hour > 23 or minute > 59 or second > 59:
        return None
    month_no = _MONTHS.index(month.lower()) + 1
    if not 1 <= int(day) <= calendar.monthrange(year, month_no)[1]:
        return None
    return calendar.timegm((year, month_no, int(day), hour, minute, second))


def parse_http_date(value: str) -> int | None:
    """Unix seconds of an HTTP date as Go's http.ParseTime reads it, or None.

    Sub-second fractions are accepted and dropped: every comparison Go makes with them
    is against whole seconds, where a fraction cannot change the answer.
    """
    if m := _RFC1123.fullmatch(value):
        day_name, day, month, year, *clock = m.groups()
        return _unix(int(year), month, day, clock) if day_name.lower() in _DAYS else None
    if m := _RFC850.fullmatch(value):
        day_name, day, month, year, *clock, zone = m.groups()
        # The zone must look like one; Go then keeps the clock as UTC whatever it says.
        offset = re.search(r"[+-](\d+)$", zone)
        if day_name.lower() not in _LONG_DAYS or (offset and int(offset[1]) > 23):
            return None
        century = 1900 if int(year) >= 69 else 2000
        return _unix(century + int(year), month, day, clock)
    if m := _ANSIC.fullmatch(value):
        day_name, month, day, *clock, year = m.groups()
        return _unix(int(year), month, day, clock) if day_name.lower() in _DAYS else None
    return None


# ---- Preconditions (Go's checkPreconditions, RFC 7232 section 6) --------------------------


def scan_etag(text: str) -> tuple[str, str]:
    """Split a leading entity tag off `text`: (etag, rest), or ("", "") when there is none."""
    text = text.strip(_SPACE)
    start = 2 if text.startswith("W/") else 0
    if len(text) - start < 2 or text[start] != '"':
        return "", ""
    for i in range(start + 1, len(text)):
        c = ord(text[i])
        if c == 0x22:
            return text[: i + 1], text[i + 1 :]
        if not (c == 0x21 or 0x23 <= c <= 0x7E or c >= 0x80):
            break
    return "", ""


def _reaches_star(value: str) -> bool:
    """Walk an If-Match / If-None-Match list like Go; True when `*` comes before any bad entry."""
    while value := value.strip(_SPACE):
        if value[0] == ",":
            value = value[1:]
            continue
        if value[0] == "*":
            return True
        etag, value = scan_etag(value)
        if not etag:
            break
    return False


def _header(headers: Mapping[str, str], name: str) -> str:
    return headers.get(name, "").strip(" \t")


def _not_after(value: str, modified: float) -> bool | None:
    """Is the object's whole-second mtime at or before the date in `value`? None when unusable."""
    when = parse_http_date(value) if value and modified != 0 else None
    return None if when is None else math.floor(modified) <= when


def check_preconditions(method: str, headers: Mapping[str, str], modified: float) -> int | None:
    """304 or 412 when a conditional header ends the request, else None."""
    if_match = _header(headers, "if-match")
    matched = (
        _reaches_star(if_match)
        if if_match
        else _not_after(_header(headers, "if-unmodified-since"), modified)
    )
    if matched is False:
        return 412
    if if_none_match := _header(headers, "if-none-match"):
        if _reaches_star(if_none_match):
            return 304 if method in ("GET", "HEAD") else 412
    elif method in ("GET", "HEAD") and _not_after(_header(headers, "if-modified-since"), modified):
        return 304
    return None


def range_to_serve(method: str, headers: Mapping[str, str], modified: float) -> str:
    """The Range header to honour: "" when there is none or If-Range does not match."""
    range_header = _header(headers, "range")
    if_range = _header(headers, "if-range")
    if not range_header or method not in ("GET", "HEAD") or not if_range:
        return range_header
    if scan_etag(if_range)[0]:
        return ""
    when = parse_http_date(if_range)
    return range_header if when is not None and when == math.floor(modified) else ""


# ---- Ranges (Go's parseRange and the checks around it in serveContent) --------------------


class ByteRange(NamedTuple):
    start: int
    length: int

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.start + self.length - 1}/{size}"


class RangeNotSatisfiable(Exception):
    """A 416; `no_overlap` adds `Content-Range: bytes */size`."""

    def __init__(self, message: str, no_overlap: bool = False) -> None:
        super().__init__(message)
        self.no_overlap = no_overlap


_GO_INT = re.compile(r"[+-]?[0-9]+")


def _go_int(text: str) -> int:
    """strconv.ParseInt(text, 10, 64), raising RangeNotSatisfiable on anything else."""
    if _GO_INT.fullmatch(text) and -(2**63) <= int(text) < 2**63:
        return int(text)
    raise RangeNotSatisfiable("invalid range")


def parse_range(header: str, size: int) -> list[ByteRange]:
    """Go's parseRange: the byte ranges of a Range header, clamped to `size`."""
    if not header:
        return []
    if not header.startswith("bytes="):
        raise RangeNotSatisfiable("invalid range")
    ranges: list[ByteRange] = []
    no_overlap = False
    for spec in header[len("bytes=") :].split(","):
        if not (spec := spec.strip(_SPACE)):
            continue
        first, dash, last = spec.partition("-")
        first, last = first.strip(_SPACE), last.strip(_SPACE)
        if not dash:
            raise RangeNotSatisfiable("invalid range")
        if not first:  # "-N": the last N bytes
            if not last or last[0] == "-" or (suffix := _go_int(last)) < 0:
                raise RangeNotSatisfiable("invalid range")
            suffix = min(suffix, size)
            ranges.append(ByteRange(size - suffix, suffix))
            continue
        if (start := _go_int(first)) < 0:
            raise RangeNotSatisfiable("invalid range")
        if start >= size:
            no_overlap = True
            continue
        if not last:
            ranges.append(ByteRange(start, size - start))
            continue
        if start > (end := _go_int(last)):
            raise RangeNotSatisfiable("invalid range")
        ranges.append(ByteRange(start, min(end, size - 1) - start + 1))
    if no_overlap and not ranges:
        raise RangeNotSatisfiable("invalid range: failed to overlap", no_overlap=True)
    return ranges


def select_ranges(header: str, size: int) -> list[ByteRange]:
    """The ranges to send ([] means the whole object), or RangeNotSatisfiable for a 416."""
    try:
        ranges = parse_range(header, size)
    except RangeNotSatisfiable as exc:
        if exc.no_overlap and size == 0:  # Go serves an empty object whole instead
            return []
        raise
    # More bytes than the object holds: an attack or a confused client; Go ignores it.
    return [] if sum(r.length for r in ranges) > size else ranges


def multipart_parts(
    ranges: list[ByteRange], content_type: str, size: int, boundary: str
) -> tuple[list[bytes], bytes]:
    """Each range's header block and the closing bytes, as Go's multipart.Writer writes them."""
    heads = [
        (f"\r\n--{boundary}\r\n" if i else f"--{boundary}\r\n")
        + f"Content-Range: {r.content_range(size)}\r\nContent-Type: {content_type}\r\n\r\n"
        for i, r in enumerate(ranges)
    ]
    return [h.encode("latin-1") for h in heads], f"\r\n--{boundary}--\r\n".encode("latin-1")


# ---- The response ------------------------------------------------------------------------

RawHeaders = Sequence[tuple[bytes, bytes]]
_ASKED = frozenset((b"if-match", b"if-none-match", b"if-modified-since", b"if-unmodified-since", b"range", b"if-range"))
HEADERS_CACHE_SIZE = 1024  # whole-object header lists remembered per process (~1 KB each)


class ObjectResponse:
    """One object's status, headers and body, sent as plain ASGI messages.

    Not a Starlette Response: building one costs more than serving a small file. The
    `status_code` and `raw_headers` names match Starlette's, so a caller can finish the
    headers of either kind the same way. `body` is the bytes themselves or a stream.
    """

    __slots__ = ("body", "raw_headers", "status_code")

    def __init__(self, status_code: int, raw_headers: RawHeaders, body: bytes | AsyncIterator[bytes] = b"") -> None:
        self.status_code = status_code
        self.raw_headers = raw_headers
        self.body = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        if isinstance(self.body, bytes):
            await send({"type": "http.response.body", "body": self.body})
            return
        # granian's send never fails once the client is gone, so watch for the disconnect:
        # without it a client that leaves would still cost reading the rest of the object.
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            async for chunk in self.body:
                if gone.done():
                    return
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            gone.cancel()


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _multipart_body(
    storage: Storage, key: str, ranges: list[ByteRange], heads: list[bytes], tail: bytes
) -> AsyncIterator[bytes]:
    for head, byte_range in zip(heads, ranges, strict=True):
        yield head
        async for chunk in storage.iter_range(key, byte_range.start, byte_range.length):
            yield chunk
    yield tail


def _encode(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    """Raw header pairs, sorted by name: Go writes header fields in this order."""
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in sorted(headers.items())]


def _with_length(headers: dict[str, str], length: int) -> list[tuple[bytes, bytes]]:
    """The headers of a body about to be sent (200 or 206), encoded."""
    headers["Accept-Ranges"] = "bytes"
    headers["Content-Length"] = str(length)
    return _encode(headers)


@functools.lru_cache(maxsize=HEADERS_CACHE_SIZE)
def whole_object_headers(
    content_type: str, modified: float, size: int, served_name: str, download: bool
) -> tuple[tuple[bytes, bytes], ...]:
    """The 200 headers of a whole object: the same for every request until the object changes."""
    headers = serve_headers(ObjectInfo(size, modified, content_type), served_name, download)
    return tuple(_with_length(headers, size))


def asked_headers(raw: RawHeaders) -> dict[str, str]:
    """The request's conditional and Range headers; the first of a repeated one wins, as in Go's Header.Get."""
    asked: dict[str, str] = {}
    for name, value in raw:
        if name in _ASKED:
            asked.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return asked


def object_response(
    method: str,
    raw_headers: RawHeaders,
    storage: Storage,
    key: str,
    info: ObjectInfo,
    served_name: str,
    download: bool,
    body: AsyncIterator[bytes] | None = None,
) -> ObjectResponse:
    """The full response for one stored object, status and headers as PocketBase 0.40 sends them.

    `body` is the whole object, already opened with its info (a GET asking no range or condition).
    """
    asked = asked_headers(raw_headers)
    status = check_preconditions(method, asked, info.modified)
    try:
        ranges = [] if status else select_ranges(range_to_serve(method, asked, info.modified), info.size)
    except RangeNotSatisfiable as exc:
        return _error_416(method, serve_headers(info, served_name, download), exc, info.size)
    if status is None and not ranges:  # the common case: all of it, headers from the cache
        cached = whole_object_headers(info.content_type, info.modified, info.size, served_name, download)
        return ObjectResponse(200, cached, b"" if method == "HEAD" else _whole_body(storage, key, info, body))
    headers = serve_headers(info, served_name, download)
    if status is not None:
        return _precondition_failed(method, status, headers)
    return _partial(method, storage, key, info, ranges, headers)


def _whole_body(storage: Storage, key: str, info: ObjectInfo, opened: AsyncIterator[bytes] | None) -> bytes | AsyncIterator[bytes]:
    """A whole object's body: a small local file read right here, in one go, else a stream."""
    path = storage.local_path(key)
    if path is None or info.size > SMALL_FILE:
        return opened or storage.iter_range(key, 0, info.size)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:  # gone since its stat (a cached copy evicted): stream it instead
        return opened or storage.iter_range(key, 0, info.size)
    try:
        return os.read(fd, info.size)
    finally:
        os.close(fd)


def _precondition_failed(method: str, status: int, headers: dict[str, str]) -> ObjectResponse:
    """304 (no type, no length) or 412 (an empty body, counted only when Go writes it: not for HEAD)."""
    if status == 304:
        del headers["Content-Type"]
        return ObjectResponse(304, _encode(headers))
    raw = _encode(headers)
    if method != "HEAD":
        raw.append((b"content-length", b"0"))
    return ObjectResponse(412, raw)


def _partial(
    method: str, storage: Storage, key: str, info: ObjectInfo, ranges: list[ByteRange], headers: dict[str, str]
) -> ObjectResponse:
    """206: one range with its Content-Range, or several as Go's multipart/byteranges body."""
    if len(ranges) == 1:
        (byte_range,) = ranges
        headers["Content-Range"] = byte_range.content_range(info.size)
        body = storage.iter_range(key, byte_range.start, byte_range.length)
        length = byte_range.length
    else:
        boundary = secrets.token_hex(30)  # Go's multipart.Writer: 30 random bytes, in hex
        heads, tail = multipart_parts(ranges, headers["Content-Type"], info.size, boundary)
        headers["Content-Type"] = f"multipart/byteranges; boundary={boundary}"
        length = sum(map(len, heads)) + sum(r.length for r in ranges) + len(tail)
        body = _multipart_body(storage, key, ranges, heads, tail)
    return ObjectResponse(206, _with_length(headers, length), b"" if method == "HEAD" else body)


def _error_416(
    method: str, headers: dict[str, str], exc: RangeNotSatisfiable, size: int
) -> ObjectResponse:
    """Go's http.Error for a bad range: plain text, and the caching headers dropped."""
    for name in ("Cache-Control", "Last-Modified"):
        headers.pop(name, None)
    headers["Content-Type"] = "text/plain; charset=utf-8"
    headers["X-Content-Type-Options"] = "nosniff"
    if exc.no_overlap:
        headers["Content-Range"] = f"bytes */{size}"
    body = f"{exc}\n".encode()
    headers["Content-Length"] = str(len(body))
    return ObjectResponse(416, _encode(headers), b"" if method == "HEAD" else body)
