"""Serving stored objects like PocketBase 0.40.6 (Serve + Go's http.ServeContent).

Expected statuses, headers and bodies were taken from the reference binary with curl.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest
import s3server
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from satchel.api.object_response import (
    CACHE_CONTROL,
    CSP,
    SMALL_FILE,
    ByteRange,
    ObjectResponse,
    RangeNotSatisfiable,
    check_preconditions,
    http_date,
    multipart_parts,
    object_response,
    parse_http_date,
    parse_range,
    range_to_serve,
    select_ranges,
    serve_headers,
)
from satchel.storage.base import ObjectInfo, Storage
from satchel.storage.local import LocalStorage
from satchel.storage.memory import MemoryStorage
from satchel.strconv import go_quote, truthy

MTIME = 1795863427.97  # Sat, 28 Nov 2026 10:57:07 GMT
LM = "Sat, 28 Nov 2026 10:57:07 GMT"
HELLO = b"hello world\n"
TEXT = "text/plain; charset=utf-8"
moto_endpoint = s3server.moto_endpoint  # fixtures: moto's S3 server, and a fresh bucket on it
s3_storage = s3server.s3_storage


def info(content_type: str = TEXT, size: int = 12, modified: float = MTIME) -> ObjectInfo:
    return ObjectInfo(size, modified, content_type)


# ---- pure helpers --------------------------------------------------------------------------


def test_truthy_accepts_only_go_true_spellings() -> None:
    assert [truthy(v) for v in ["1", "t", "T", "TRUE", "true", "True"]] == [True] * 6
    assert [truthy(v) for v in ["", "0", "yes", "on", "tRUE", " 1", "false"]] == [False] * 7


def test_go_quote_escapes_like_strconv_quote() -> None:
    assert go_quote('a"b\\c.png') == '"a\\"b\\\\c.png"'
    assert go_quote("é 😀.png") == '"é 😀.png"'
    assert (
        go_quote("\x00\x7f\n\t\u200b\xa0\U000e0001")
        == '"\\x00\\x7f\\n\\t\\u200b\\u00a0\\U000e0001"'
    )


@pytest.mark.parametrize(
    ("stored", "disposition"),
    [
        ("image/png", "inline"),
        ("application/pdf", "inline"),
        ("video/mp4", "inline"),
        ("text/plain; charset=utf-8", "attachment"),
        ("image/svg+xml", "attachment"),
        ("text/html; charset=utf-8", "attachment"),
        ("image/PNG", "attachment"),
    ],
)
def test_disposition_is_inline_only_for_the_allow_listed_stored_types(
    stored: str, disposition: str
) -> None:
    headers = serve_headers(info(stored), "a.bin", download=False)
    assert headers["Content-Disposition"] == f'{disposition}; filename="a.bin"'


def test_download_forces_attachment() -> None:
    headers = serve_headers(info("image/png"), "a.png", download=True)
    assert headers["Content-Disposition"] == 'attachment; filename="a.png"'


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("a.svg", "image/svg+xml"),
        ("a.css", "text/css"),
        ("a.js", "text/javascript"),
        ("a.mjs", "text/javascript"),
        ("a.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("a.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("a.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
        ("a.JS", TEXT),
        ("a.Css", TEXT),
        ("a.XLSX", TEXT),
        ("js", TEXT),
        ("a.txt", TEXT),
    ],
)
def test_content_type_is_overridden_by_a_case_sensitive_extension(
    name: str, content_type: str
) -> None:
    assert serve_headers(info(), name, download=False)["Content-Type"] == content_type


def test_serve_headers_are_pocketbases_set() -> None:
    assert serve_headers(info(), "hello.txt", download=False) == {
        "Cache-Control": CACHE_CONTROL,
        "Content-Disposition": 'attachment; filename="hello.txt"',
        "Content-Security-Policy": CSP,
        "Content-Type": TEXT,
        "Last-Modified": LM,
    }


def test_an_epoch_mtime_sends_no_last_modified() -> None:
    assert "Last-Modified" not in serve_headers(info(modified=0), "a.txt", download=False)


def test_a_non_ascii_name_keeps_its_utf8_bytes_on_the_wire() -> None:
    value = serve_headers(info(), "é.txt", download=False)["Content-Disposition"]
    assert value.encode("latin-1") == 'attachment; filename="é.txt"'.encode()


def test_http_date_drops_the_fraction() -> None:
    assert http_date(MTIME) == LM


@pytest.mark.parametrize(
    "value",
    [
        "Sat, 28 Nov 2026 10:57:07 GMT",
        "sat, 28 nov 2026 10:57:07 GMT",
        "Mon, 28 Nov 2026 10:57:07 GMT",  # Go does not check the weekday
        "Sat,  28 Nov 2026 10:57:07 GMT",
        "Sat, 28 Nov 2026 10:57:07.5 GMT",
        "Sat, 28 Nov 2026 10:57:07,123456789123 GMT",
        "Saturday, 28-Nov-26 10:57:07 GMT",
        "Saturday, 28-Nov-26 10:57:07 PST",  # any zone name, clock kept as UTC
        "Saturday, 28-Nov-26 10:57:07 GMT+1",
        "Saturday, 28-Nov-26 10:57:07 +01",
        "Sat Nov 28 10:57:07 2026",
        "Sat Nov 28 10:57:07.3 2026",
    ],
)
def test_parse_http_date_reads_what_go_reads(value: str) -> None:
    assert parse_http_date(value) == 1795863427


def test_parse_http_date_reads_one_digit_hours_and_ansi_days() -> None:
    assert parse_http_date("Sat, 28 Nov 2026 1:57:07 GMT") == 1795863427 - 9 * 3600
    assert parse_http_date("Sun Nov  8 10:57:07 2026") == parse_http_date(
        "Sun, 08 Nov 2026 10:57:07 GMT"
    )
    assert parse_http_date("Sunday, 08-Nov-69 10:57:07 GMT") == parse_http_date(
        "Sat, 08 Nov 1969 10:57:07 GMT"
    )


@pytest.mark.parametrize(
    "value",
    [
        "Sat, 8 Nov 2026 10:57:07 GMT",
        "Sat, 28 Nov 26 10:57:07 GMT",
        "Sat, 28 Nov 2026 10:57:07 UTC",
        "Sat, 28 Nov 2026 10:57:07 gmt",
        "Sat, 28 Nov 2026 10:57:07GMT",
        "Sat, 28 Nov 2026 10:57:07. GMT",
        "Sat, 28 Nov 2026 10:57:7 GMT",
        "Sat, 31 Nov 2026 10:57:07 GMT",
        "Sat, 28 Nov 2026 24:00:00 GMT",
        "Xyz, 28 Nov 2026 10:57:07 GMT",
        "Saturday, 28-Nov-2026 10:57:07 GMT",
        "Saturday, 28-Nov-26 10:57:07 utc",
        "Saturday, 28-Nov-26 10:57:07 ABCD",
        "Saturday, 28-Nov-26 10:57:07 GMT+24",
        "Saturday, 28-Nov-26 10:57:07 -0",
        "Sat Nov 123 10:57:07 2026",
        "garbage",
        "",
    ],
)
def test_parse_http_date_rejects_what_go_rejects(value: str) -> None:
    assert parse_http_date(value) is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", []),
        ("bytes=", []),
        ("bytes=0-4", [(0, 5)]),
        ("bytes=-5", [(7, 5)]),
        ("bytes=5-", [(5, 7)]),
        ("bytes=0-100", [(0, 12)]),
        ("bytes=-20", [(0, 12)]),
        ("bytes=-0", [(12, 0)]),
        ("bytes=+1-+3", [(1, 3)]),
        ("bytes= 0-4 ,  6-7", [(0, 5), (6, 2)]),
        ("bytes=0-1,,2-3", [(0, 2), (2, 2)]),
        ("bytes=1-2,100-200", [(1, 2)]),
    ],
)
def test_parse_range_reads_ranges_like_go(header: str, expected: list[tuple[int, int]]) -> None:
    assert parse_range(header, 12) == [ByteRange(*r) for r in expected]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("bytes=100-200", "invalid range: failed to overlap"),
        ("bytes=12-", "invalid range: failed to overlap"),
        ("Bytes=0-4", "invalid range"),
        ("items=0-4", "invalid range"),
        ("bytes=abc", "invalid range"),
        ("bytes=1", "invalid range"),
        ("bytes=5-2", "invalid range"),
        ("bytes=--1", "invalid range"),
        ("bytes=1--1", "invalid range"),
        ("bytes=99999999999999999999-", "invalid range"),
        ("bytes=0_1-2", "invalid range"),
    ],
)
def test_parse_range_refuses_like_go(header: str, message: str) -> None:
    with pytest.raises(RangeNotSatisfiable) as caught:
        parse_range(header, 12)
    assert str(caught.value) == message
    assert caught.value.no_overlap == message.endswith("overlap")


def test_select_ranges_ignores_ranges_adding_up_to_more_than_the_object() -> None:
    assert select_ranges("bytes=0-11,0-11", 12) == []


def test_select_ranges_serves_an_empty_object_whole_instead_of_416() -> None:
    assert select_ranges("bytes=0-4", 0) == []
    assert select_ranges("bytes=-4", 0) == [ByteRange(0, 0)]  # Go then says "bytes 0--1/0"


@pytest.mark.parametrize(
    ("headers", "method", "status"),
    [
        ({}, "GET", None),
        ({"if-modified-since": LM}, "GET", 304),
        ({"if-modified-since": LM}, "HEAD", 304),
        ({"if-modified-since": LM}, "POST", None),
        ({"if-modified-since": "Sat, 28 Nov 2026 10:57:06 GMT"}, "GET", None),
        ({"if-modified-since": "garbage"}, "GET", None),
        ({"if-none-match": "*"}, "GET", 304),
        ({"if-none-match": "*"}, "POST", 412),
        ({"if-none-match": 'W/"x", *'}, "GET", 304),
        ({"if-none-match": '"x"', "if-modified-since": LM}, "GET", None),
        ({"if-match": '"x"'}, "GET", 412),
        ({"if-match": ","}, "GET", 412),
        ({"if-match": "bad, *"}, "GET", 412),
        ({"if-match": "*"}, "GET", None),
        ({"if-match": '"a", *'}, "GET", None),
        ({"if-unmodified-since": "Mon, 01 Jan 2001 00:00:00 GMT"}, "GET", 412),
        ({"if-unmodified-since": LM}, "GET", None),
        ({"if-unmodified-since": "Mon, 01 Jan 2001 00:00:00 GMT", "if-match": "*"}, "GET", None),
        ({"if-none-match": "*", "if-match": '"x"'}, "GET", 412),
    ],
)
def test_check_preconditions_follows_go(
    headers: dict[str, str], method: str, status: int | None
) -> None:
    assert check_preconditions(method, headers, MTIME) == status


@pytest.mark.parametrize(
    ("if_range", "served"),
    [
        (LM, "bytes=0-1"),
        ("Sat, 28 Nov 2026 10:57:08 GMT", ""),
        ('"x"', ""),
        ("garbage", ""),
        ("", "bytes=0-1"),
    ],
)
def test_if_range_keeps_the_range_only_for_the_exact_second(if_range: str, served: str) -> None:
    assert range_to_serve("GET", {"range": "bytes=0-1", "if-range": if_range}, MTIME) == served


def test_multipart_parts_match_go_byte_for_byte() -> None:
    boundary = "9f5a56a3b84a94d5bb1f3a5e27d905e7151619a15d7ecea3d7b2d702084c"
    heads, tail = multipart_parts([ByteRange(0, 5), ByteRange(6, 3)], TEXT, 12, boundary)
    body = heads[0] + b"hello" + heads[1] + b"wor" + tail
    assert (
        body
        == (
            f"--{boundary}\r\nContent-Range: bytes 0-4/12\r\nContent-Type: {TEXT}\r\n\r\nhello"
            f"\r\n--{boundary}\r\nContent-Range: bytes 6-8/12\r\nContent-Type: {TEXT}\r\n\r\nwor"
            f"\r\n--{boundary}--\r\n"
        ).encode()
    )
    assert len(body) == 350  # the binary's Content-Length for this request


# ---- responses, on every backend ------------------------------------------------------------


def make_app(storage: Storage) -> Starlette:
    async def serve(request: Request) -> Response | ObjectResponse:
        key = "c/r/" + request.path_params["name"]
        found = await storage.stat(key)
        if found is None:
            return Response(status_code=404)
        download = truthy(request.query_params.get("download", ""))
        return object_response(
            request.method, request.scope["headers"], storage, key, found, request.path_params["name"], download
        )

    return Starlette(routes=[Route("/files/{name}", serve, methods=["GET", "HEAD"])])


@pytest.fixture
def client(storage: Storage) -> Iterator[TestClient]:
    anyio.run(storage.put_bytes, "c/r/hello.txt", HELLO, TEXT)
    anyio.run(storage.put_bytes, "c/r/pic.png", b"\x89PNG fake", "image/png")
    with TestClient(make_app(storage)) as test_client:
        yield test_client


def last_modified(storage: Storage, key: str = "c/r/hello.txt") -> str:
    found = anyio.run(storage.stat, key)
    assert found is not None
    return http_date(found.modified)


def full_headers(storage: Storage, **changes: str) -> dict[str, str]:
    headers = {
        "accept-ranges": "bytes",
        "cache-control": CACHE_CONTROL,
        "content-disposition": 'attachment; filename="hello.txt"',
        "content-length": "12",
        "content-security-policy": CSP,
        "content-type": TEXT,
        "last-modified": last_modified(storage),
    }
    headers.update({k.replace("_", "-"): v for k, v in changes.items()})
    return {k: v for k, v in headers.items() if v}


def test_whole_object_has_pocketbases_headers(client: TestClient, storage: Storage) -> None:
    response = client.get("/files/hello.txt")
    assert (response.status_code, dict(response.headers), response.content) == (
        200,
        full_headers(storage),
        HELLO,
    )


def test_an_image_is_inline_unless_downloaded(client: TestClient) -> None:
    assert (
        client.get("/files/pic.png").headers["content-disposition"] == 'inline; filename="pic.png"'
    )
    forced = client.get("/files/pic.png?download=1").headers["content-disposition"]
    assert forced == 'attachment; filename="pic.png"'


def test_single_range_is_206_with_content_range(client: TestClient, storage: Storage) -> None:
    response = client.get("/files/hello.txt", headers={"Range": "bytes=6-10"})
    expected = full_headers(storage, content_length="5", content_range="bytes 6-10/12")
    assert (response.status_code, dict(response.headers), response.content) == (
        206,
        expected,
        b"world",
    )


def test_multiple_ranges_are_a_go_style_multipart_body(
    client: TestClient, storage: Storage
) -> None:
    response = client.get("/files/hello.txt", headers={"Range": "bytes=0-4,6-8"})
    boundary = response.headers["content-type"].removeprefix("multipart/byteranges; boundary=")
    assert len(boundary) == 60 and int(boundary, 16) >= 0
    expected_body = (
        f"--{boundary}\r\nContent-Range: bytes 0-4/12\r\nContent-Type: {TEXT}\r\n\r\nhello"
        f"\r\n--{boundary}\r\nContent-Range: bytes 6-8/12\r\nContent-Type: {TEXT}\r\n\r\nwor"
        f"\r\n--{boundary}--\r\n"
    ).encode()
    expected = full_headers(
        storage, content_length="350", content_type=f"multipart/byteranges; boundary={boundary}"
    )
    assert (response.status_code, dict(response.headers), response.content) == (
        206,
        expected,
        expected_body,
    )


def test_if_modified_since_gives_304_without_type_or_length(
    client: TestClient, storage: Storage
) -> None:
    response = client.get("/files/hello.txt", headers={"If-Modified-Since": last_modified(storage)})
    expected = full_headers(storage, accept_ranges="", content_length="", content_type="")
    assert (response.status_code, dict(response.headers), response.content) == (304, expected, b"")


def test_if_none_match_star_gives_304(client: TestClient) -> None:
    assert client.get("/files/hello.txt", headers={"If-None-Match": "*"}).status_code == 304


def test_if_match_gives_412_keeping_the_file_headers(client: TestClient, storage: Storage) -> None:
    response = client.get("/files/pic.png", headers={"If-Match": '"x"'})
    expected = full_headers(
        storage,
        accept_ranges="",
        content_length="0",
        content_type="image/png",
        content_disposition='inline; filename="pic.png"',
        last_modified=last_modified(storage, "c/r/pic.png"),
    )
    assert (response.status_code, dict(response.headers), response.content) == (412, expected, b"")


def test_unsatisfiable_range_is_416_without_caching_headers(client: TestClient) -> None:
    response = client.get("/files/hello.txt", headers={"Range": "bytes=100-200"})
    assert (response.status_code, dict(response.headers), response.content) == (
        416,
        {
            "content-disposition": 'attachment; filename="hello.txt"',
            "content-length": "33",
            "content-range": "bytes */12",
            "content-security-policy": CSP,
            "content-type": TEXT,
            "x-content-type-options": "nosniff",
        },
        b"invalid range: failed to overlap\n",
    )


def test_malformed_range_is_416_without_content_range(client: TestClient) -> None:
    response = client.get("/files/hello.txt", headers={"Range": "bytes=5-2"})
    assert (response.status_code, response.content) == (416, b"invalid range\n")
    assert "content-range" not in response.headers


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Range": "bytes=6-10"},
        {"Range": "bytes=0-4,6-8"},
        {"Range": "bytes=100-"},
        {"If-Match": '"x"'},
    ],
)
def test_head_sends_the_same_headers_and_no_body(
    client: TestClient, headers: dict[str, str]
) -> None:
    got = client.get("/files/hello.txt", headers=headers)
    head = client.head("/files/hello.txt", headers=headers)
    strip = lambda h: {k: v for k, v in h.items() if k != "content-type" or "boundary" not in v}
    expected = strip(dict(got.headers))
    if got.status_code == 412:
        del expected["content-length"]  # Go only counts the empty body it actually writes
    assert (head.status_code, strip(dict(head.headers)), head.content) == (
        got.status_code,
        expected,
        b"",
    )


# ---- streaming and zero-copy ------------------------------------------------------------------


async def call_asgi(
    app: Starlette, path: str, headers: dict[str, str], pathsend: bool
) -> list[dict[str, Any]]:
    """Drive the app like an ASGI server would, recording every message it sends."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1234),
        "server": ("127.0.0.1", 80),
        "extensions": {"http.response.pathsend": {}} if pathsend else {},
    }
    sent: list[dict[str, Any]] = []
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if requested:  # like a server: nothing more until the client goes away
            await anyio.sleep_forever()
        requested = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_a_big_object_is_streamed_in_chunks(storage: Storage) -> None:
    data = os.urandom(5 * 1024 * 1024)
    await storage.put_bytes("c/r/big.bin", data, "application/octet-stream")
    sent = await call_asgi(make_app(storage), "/files/big.bin", {}, pathsend=False)
    bodies = [m["body"] for m in sent if m["type"] == "http.response.body"]
    assert len(bodies) > 5
    assert max(map(len, bodies)) < len(data)
    assert b"".join(bodies) == data


@pytest.mark.anyio
async def test_a_big_local_file_is_streamed_even_when_pathsend_is_offered(tmp_path: Path) -> None:
    # granian's pathsend hops to a thread per 128 KiB chunk: measured slower than our reads.
    storage = LocalStorage(str(tmp_path))
    big = os.urandom(SMALL_FILE * 3)
    await storage.put_bytes("c/r/big.bin", big, TEXT)
    sent = await call_asgi(make_app(storage), "/files/big.bin", {}, pathsend=True)
    assert [m["type"] for m in sent] == ["http.response.start"] + ["http.response.body"] * (len(sent) - 1)
    assert len(sent) > 3 and sent[-1] == {"type": "http.response.body", "body": b""}
    assert b"".join(m["body"] for m in sent[1:]) == big
    assert (b"content-length", str(len(big)).encode()) in sent[0]["headers"]


@pytest.mark.anyio
async def test_streaming_stops_when_the_client_goes_away(tmp_path: Path) -> None:
    storage = LocalStorage(str(tmp_path))
    await storage.put_bytes("c/r/big.bin", os.urandom(SMALL_FILE * 8), TEXT)
    info = await storage.stat("c/r/big.bin")
    assert info is not None
    response = object_response("GET", [], storage, "c/r/big.bin", info, "big.bin", False)
    sent: list[dict[str, Any]] = []
    messages = iter([{"type": "http.request", "body": b""}, {"type": "http.disconnect"}])

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        await anyio.lowlevel.checkpoint()  # the server's send may let other tasks run

    await response({"type": "http"}, receive, send)
    assert 1 < len(sent) < 8


@pytest.mark.anyio
async def test_a_small_local_file_goes_out_as_one_body(tmp_path: Path) -> None:
    storage = LocalStorage(str(tmp_path))
    await storage.put_bytes("c/r/hello.txt", HELLO, TEXT)
    sent = await call_asgi(make_app(storage), "/files/hello.txt", {}, pathsend=True)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[1]["body"] == HELLO
    assert (b"content-length", b"12") in sent[0]["headers"]


@pytest.mark.anyio
async def test_a_range_of_a_local_file_is_streamed_not_pathsent(tmp_path: Path) -> None:
    storage = LocalStorage(str(tmp_path))
    await storage.put_bytes("c/r/hello.txt", HELLO, TEXT)
    sent = await call_asgi(
        make_app(storage), "/files/hello.txt", {"Range": "bytes=0-4"}, pathsend=True
    )
    assert [m["type"] for m in sent][1:] == ["http.response.body"] * (len(sent) - 1)
    assert b"".join(m["body"] for m in sent[1:]) == b"hello"


@pytest.mark.anyio
async def test_other_backends_never_use_pathsend() -> None:
    storage = MemoryStorage()
    await storage.put_bytes("c/r/hello.txt", HELLO, TEXT)
    sent = await call_asgi(make_app(storage), "/files/hello.txt", {}, pathsend=True)
    assert "http.response.pathsend" not in [m["type"] for m in sent]
