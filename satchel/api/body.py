"""Request bodies read the way PocketBase 0.40.6 binds them (record, auth and collection endpoints).

JSON, urlencoded and multipart bodies all become one `values` dict. Multipart file parts are written
to temp files as they stream in, so an upload costs disk, not memory. The Go rules are reproduced
down to their odd corners (query values merged into form bodies, JSON v2 merging of `@jsonPayload`),
because clients rely on whatever the reference accepts.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any

import anyio.to_thread
from python_multipart.multipart import MultipartParser

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks
from starlette.requests import Request

from .. import deepjson
from ..errors import bad_request, too_large
from ..mediatype import parse_media_type
from .form_syntax import form_part_names, parse_query

JSON_PAYLOAD_KEY = "@jsonPayload"
MAX_FORM_SIZE = 10 << 20  # net/http's cap on an urlencoded body
MAX_PARTS = 1000  # mime/multipart's cap on parts in one form
FILE_MEMORY = 16 << 20  # PocketBase's router.DefaultMaxMemory
FORM_MEMORY = FILE_MEMORY + (10 << 20)  # ReadForm's budget for text values and small files
PART_OVERHEAD = 200  # what ReadForm charges for each named part, on top of its name
BATCH = 1 << 20  # body bytes handed to the parser thread at a time
BODY_LIMIT = 32 << 20  # PocketBase's default request body limit (apis.DefaultMaxBodySize)


@dataclass
class UploadedFile:
    path: str  # temp file holding the part's bytes
    filename: str  # client filename, reduced to its basename
    size: int
    content_type: str  # as the client declared it; informational only


@dataclass
class RequestData:
    values: dict[str, Any] = field(default_factory=dict)
    files: dict[str, list[UploadedFile]] = field(default_factory=dict)  # raw form key -> uploads

    def close(self) -> None:
        """Delete the temp files; an upload meant to outlive the request must be moved away first."""
        for uploads in self.files.values():
            for upload in uploads:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(upload.path)

    def __enter__(self) -> RequestData:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> RequestData:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


async def read_body(request: Request, max_size: int = BODY_LIMIT, tmp_dir: str | None = None) -> RequestData:
    """Read the body as PocketBase's BindBody does; every body error is its generic 400, size is 413.
    A batch's sub-request comes with its body already read."""
    given = request.scope.get("satchel", {}).get("body")
    if given is not None:
        return given
    length = _declared_length(request)
    if length is not None and length > max_size:
        raise too_large()  # PocketBase refuses on the declared length before reading anything
    data = RequestData()
    if length == 0:
        return data
    ctype = request.headers.get("content-type", "").strip()
    try:
        if ctype.startswith("application/json"):
            data.values = _json_object(parse_json(await _read_all(request, max_size), first_value=True))
        elif ctype.startswith("multipart/form-data"):
            data.values = form_values(await _read_multipart(request, ctype, max_size, tmp_dir, data.files))
        elif ctype.startswith("application/x-www-form-urlencoded"):
            data.values = form_values(await _read_urlencoded(request, ctype, max_size))
        elif ctype.startswith(("text/xml", "application/xml")):
            raise ValueError("Go's XML decoder can't fill a map, so PocketBase always fails here")
        else:
            raise bad_request("Unsupported Content-Type.")
    except ValueError as exc:
        data.close()
        raise bad_request() from exc
    except BaseException:
        data.close()
        raise
    return data


def _declared_length(request: Request) -> int | None:
    """The length Go's net/http would report: 0 for HTTP/1 with no length and no chunking, None if unknown."""
    value = request.headers.get("content-length")
    if value is not None:
        return int(value) if value.strip().isdigit() else None
    if "transfer-encoding" in request.headers or request.scope.get("http_version") not in ("1.0", "1.1"):
        return None
    return 0


async def _stream(request: Request, max_size: int, cap: float = math.inf) -> AsyncIterator[bytearray]:
    """Yield the body in batches: 413 past `max_size`, 400 past `cap`, whichever Go would reach first."""
    size = 0
    batch = bytearray()
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_size and max_size <= cap:
            raise too_large()
        if size > cap:
            raise ValueError("form body too large")
        batch += chunk
        if len(batch) >= BATCH:
            yield batch
            batch = bytearray()
    if batch:
        yield batch


async def _read_all(request: Request, max_size: int, cap: float = math.inf) -> bytes:
    return b"".join([batch async for batch in _stream(request, max_size, cap)])


async def _read_urlencoded(request: Request, ctype: str, max_size: int) -> list[tuple[str, bytes]]:
    """Body pairs, then query pairs: Go's Request.Form mixes the URL query into a form body."""
    kind = _content_type(ctype)[0]
    body = b""
    if kind == "application/x-www-form-urlencoded":  # a longer type that shares the prefix reads no body
        body = await _read_all(request, max_size, MAX_FORM_SIZE)
    return parse_query(body) + parse_query(request.scope.get("query_string", b""))


async def _read_multipart(
    request: Request, ctype: str, max_size: int, tmp_dir: str | None, files: dict[str, list[UploadedFile]]
) -> list[tuple[str, bytes]]:
    """Query pairs, then the text parts; file parts land in `files` as they arrive."""
    kind, params = _content_type(ctype)
    if kind != "multipart/form-data" or not params.get("boundary"):
        raise ValueError("not a multipart/form-data body with a boundary")
    pairs = parse_query(request.scope.get("query_string", b""))
    reader = _MultipartReader(files, tmp_dir)
    parser = MultipartParser(params["boundary"], reader.callbacks(), max_header_count=64, max_header_size=64 << 10)
    try:
        async for batch in _stream(request, max_size):
            # File writes stay off the event loop. A bytearray is fine: the parser only indexes and slices it.
            await anyio.to_thread.run_sync(parser.write, batch)  # type: ignore[arg-type]
    finally:
        reader.close_file()
    if not reader.finished:
        raise ValueError("multipart body ended before its closing boundary")
    return pairs + reader.pairs


def _content_type(ctype: str) -> tuple[str, dict[str, str]]:
    """The body's media type and parameters; any mime.ParseMediaType error fails the request."""
    kind, params, error = parse_media_type(ctype)
    if error:
        raise ValueError(error)
    return kind, params


_HEADER_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


class _MultipartReader:
    """python_multipart callbacks: text parts kept in memory, file parts written straight to disk, and
    Go's ReadForm limits (part count, memory budget) enforced as the parts arrive."""

    def __init__(self, files: dict[str, list[UploadedFile]], tmp_dir: str | None) -> None:
        self.files = files
        self.tmp_dir = tmp_dir
        self.pairs: list[tuple[str, bytes]] = []
        self.finished = False
        self._parts = 0
        self._budget = FORM_MEMORY
        self._file_memory = FILE_MEMORY
        self._headers: list[tuple[str, str]] = []
        self._disposition: str | None = None  # the first Content-Disposition, undecoded bytes kept
        self._field = bytearray()
        self._value = bytearray()
        self._name = ""
        self._text: bytearray | None = None
        self._upload: UploadedFile | None = None
        self._out: IO[bytes] | None = None

    EVENTS = ("part_begin", "header_field", "header_value", "header_end", "headers_finished", "part_data", "part_end")

    def callbacks(self) -> MultipartCallbacks:
        # Built from EVENTS, so mypy can't see that the keys are the TypedDict's.
        return {f"on_{event}": getattr(self, f"on_{event}") for event in (*self.EVENTS, "end")}  # type: ignore[return-value]

    def on_part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise ValueError("multipart: message too large")
        self._headers, self._name, self._text, self._upload = [], "", None, None
        self._disposition = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        if _HEADER_CONTROL.search(self._value):
            raise ValueError("malformed MIME header line")  # Go's textproto refuses control bytes but tab
        name = self._field.decode("latin-1").lower()
        if name == "content-disposition" and self._disposition is None:
            # a filename that is not UTF-8 keeps its bytes (surrogateescape), and fails the save as there
            self._disposition = self._value.decode("utf-8", "surrogateescape").strip()
        self._headers.append((name, self._value.decode("utf-8", "replace").strip()))
        self._field.clear()
        self._value.clear()

    def on_headers_finished(self) -> None:
        headers = dict(reversed(self._headers))  # the first of a repeated header wins, as in Go
        name = form_part_names(headers.get("content-disposition", ""))[0]
        filename = form_part_names(self._disposition or "")[1]
        if not name:
            return  # Go skips a part with no form name
        self._charge(len(name.encode()) + PART_OVERHEAD)
        self._name = name
        if not filename:
            self._text = bytearray()
            return
        # Go's mimeHeaderSize, then a map entry and a FileHeader
        self._charge(400 + sum(len(k) + 200 + len(v.encode()) for k, v in self._headers) + PART_OVERHEAD + 100)
        fd, path = tempfile.mkstemp(prefix="satchel-upload-", dir=self.tmp_dir)
        self._out = os.fdopen(fd, "wb")
        self._upload = UploadedFile(path, filename, 0, headers.get("content-type", ""))
        self.files.setdefault(name, []).append(self._upload)  # registered first, so close() can delete it

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._out is not None and self._upload is not None:
            self._out.write(memoryview(data)[start:end])
            self._upload.size += end - start
        elif self._text is not None:
            self._charge(end - start)
            self._text += data[start:end]

    def on_part_end(self) -> None:
        if self._upload is not None:
            self.close_file()
            if self._upload.size <= self._file_memory:  # Go would have held this file in memory
                self._file_memory -= self._upload.size
                self._budget -= self._upload.size
        elif self._text is not None:
            self.pairs.append((self._name, bytes(self._text)))

    def on_end(self) -> None:
        self.finished = True

    def close_file(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None

    def _charge(self, amount: int) -> None:
        self._budget -= amount
        if self._budget < 0:
            raise ValueError("multipart: message too large")


# Form values ------------------------------------------------------------------------------------

_NUMERIC = re.compile(r"[-0-9][-.0-9]*")


def form_values(pairs: list[tuple[str, bytes]]) -> dict[str, Any]:
    """Group pairs by key (one value a scalar, repeats a list), infer each, then merge every
    `@jsonPayload` over the result in order, as PocketBase's UnmarshalRequestData does."""
    grouped: dict[str, list[bytes]] = {}
    for key, raw in pairs:
        grouped.setdefault(key, []).append(raw)
    payloads = grouped.pop(JSON_PAYLOAD_KEY, [])
    values: Any = {
        key: infer_value(_utf8(raws[0])) if len(raws) == 1 else [infer_value(_utf8(raw)) for raw in raws]
        for key, raws in grouped.items()
    }
    for raw in payloads:
        payload = parse_json(raw)
        if payload is not None and not isinstance(payload, dict):
            raise ValueError("@jsonPayload is not a JSON object")
        values = _merge(values, payload)
    return values or {}  # a null payload leaves Go's map nil: no values at all


def infer_value(raw: str) -> Any:
    """PocketBase's inferValue: "true"/"false" become bools, and a string becomes a number only when
    it is already written exactly as Go prints that number ("007", "1.50", "1e3", "0.0" stay text)."""
    if raw in ("true", "false"):
        return raw == "true"
    if _NUMERIC.fullmatch(raw):
        try:
            number = _number(raw)
        except ValueError:
            return raw
        if format(Decimal(repr(float(number))).normalize(), "f") == raw:  # strconv.FormatFloat(v, 'f', -1)
            return number
    return raw


def _merge(old: Any, new: Any) -> Any:
    """Unmarshal `new` over `old` as Go's JSON v2 does into an `any`: objects merge key by key, null
    replaces anything, and any other value must keep the JSON kind it replaces. Objects nested in
    both are merged on an explicit stack, so any depth is fine."""
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return _replace(old, new)
    pending = [(old, new)]
    while pending:
        target, source = pending.pop()
        for key, value in source.items():
            current = target.get(key)
            if isinstance(current, dict) and isinstance(value, dict):
                pending.append((current, value))
            else:
                target[key] = _replace(current, value)
    return old


def _replace(old: Any, new: Any) -> Any:
    if old is None or new is None:
        return new
    if _JSON_KINDS[type(old)] != _JSON_KINDS[type(new)]:
        raise ValueError(f"cannot unmarshal a JSON {_JSON_KINDS[type(new)]} over a {_JSON_KINDS[type(old)]}")
    return new


_JSON_KINDS = {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}


def _utf8(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


# JSON -------------------------------------------------------------------------------------------

_JSON_SPACE = " \t\r\n"


def _number(text: str) -> int | float:
    """Go holds every JSON number as a float64: keep an int only where that float64 is the same integer."""
    value = float(text)
    if math.isinf(value):
        raise ValueError("number out of float64 range")
    if not re.fullmatch(r"-?[0-9]+", text) or text == "-0":
        return value
    integer = int(text)
    return integer if integer == value else value


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate JSON object key")
    return obj


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_JSON = json.JSONDecoder(
    object_pairs_hook=_unique_object, parse_float=_number, parse_int=_number, parse_constant=_no_constant
)


def parse_json(raw: bytes, *, first_value: bool = False) -> Any:
    """Decode JSON as strictly as the reference: valid UTF-8, no duplicate keys, float64-range numbers,
    nested up to Go's 10000 levels. `first_value` reads only the leading value and ignores the rest,
    as Go's json.Decoder does."""
    text = raw.decode("utf-8", "surrogateescape")  # stray bytes surface as lone surrogates, refused below
    start = len(text) - len(text.lstrip(_JSON_SPACE))
    try:
        value, end = _JSON.raw_decode(text, start)
    except RecursionError:  # deeper than the C scanner may go: the same reading, on an explicit stack
        value, end = deepjson.raw_decode(text, start, pairs_hook=_unique_object, number=_number)
    if not first_value and text[end:].strip(_JSON_SPACE):
        raise ValueError("data after the JSON value")
    for text_value in deepjson.strings(value):
        text_value.encode()  # refuses invalid UTF-8 and unpaired \\u surrogate escapes
    return value


def _json_object(value: Any) -> dict[str, Any]:
    if value is None:
        return {}  # `null` leaves Go's map nil
    if not isinstance(value, dict):
        raise ValueError("JSON body is not an object")
    return value
