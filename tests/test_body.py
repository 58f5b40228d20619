"""read_body against the rules observed on PocketBase 0.40.6, through a tiny echo app."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from satchel.api.body import infer_value, read_body
from satchel.api.form_syntax import form_part_names
from satchel.errors import ApiError

pytestmark = pytest.mark.anyio

GENERIC_400 = {"data": {}, "message": "Something went wrong while processing your request.", "status": 400}
TOO_LARGE = {"data": {}, "message": "Request entity too large.", "status": 413}
UNSUPPORTED = {"data": {}, "message": "Unsupported Content-Type.", "status": 400}
MIB = 1 << 20


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def uploads(tmp_path: Path) -> Path:
    path = tmp_path / "uploads"
    path.mkdir()
    return path


@pytest.fixture
async def client(uploads: Path) -> AsyncIterator[httpx.AsyncClient]:
    """POST /echo/{max_size} answers with what read_body returned, then closes it."""

    async def echo(request: Request) -> JSONResponse:
        try:
            body = await read_body(request, request.path_params["max_size"], str(uploads))
        except ApiError as exc:
            return JSONResponse(exc.body(), exc.status)
        with body:
            files = {
                key: [
                    {"filename": f.filename, "size": f.size, "type": f.content_type, "sha256": _sha256(f.path)}
                    for f in found
                ]
                for key, found in body.files.items()
            }
            paths = [f.path for found in body.files.values() for f in found]
        return JSONResponse({"values": body.values, "files": files, "closed": not any(map(os.path.exists, paths))})

    app = Starlette(routes=[Route("/echo/{max_size:int}", echo, methods=["POST"])])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        yield client


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(MIB):
            digest.update(chunk)
    return digest.hexdigest()


def multipart(*parts: tuple[str, bytes], boundary: str = "XyZ", end: bool = True) -> bytes:
    """A raw multipart body from (headers, content) pairs, so every header byte is under test control."""
    body = b"".join(b"--%s\r\n%s\r\n\r\n%s\r\n" % (boundary.encode(), h.encode(), c) for h, c in parts)
    return body + (b"--%s--\r\n" % boundary.encode() if end else b"")


def text_part(name: str, value: str) -> tuple[str, bytes]:
    return f'Content-Disposition: form-data; name="{name}"', value.encode()


def file_part(name: str, filename: str, content: bytes, ctype: str = "text/plain") -> tuple[str, bytes]:
    disposition = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"'
    return f"{disposition}\r\nContent-Type: {ctype}", content


MP = {"content-type": "multipart/form-data; boundary=XyZ"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
JSON = {"content-type": "application/json"}


async def post(
    client: httpx.AsyncClient,
    content: bytes | AsyncIterator[bytes],
    headers: dict[str, str],
    limit: int = 32 * MIB,
    query: str = "",
) -> tuple[int, dict]:
    response = await client.post(f"/echo/{limit}{query}", content=content, headers=headers)
    return response.status_code, response.json()


async def chunked(*pieces: bytes) -> AsyncIterator[bytes]:
    """A body without Content-Length, sent with chunked transfer encoding."""
    for piece in pieces:
        yield piece


# JSON ----------------------------------------------------------------------------------------------


async def test_json_object_values_are_kept_as_sent(client):
    status, body = await post(client, b'{"a":"1","n":1.5,"i":2,"b":true,"o":{"x":[1,null]}}', JSON)
    assert status == 200
    assert body["values"] == {"a": "1", "n": 1.5, "i": 2, "b": True, "o": {"x": [1, None]}}


async def test_json_body_reads_only_its_first_value_like_go_decoder(client):
    status, body = await post(client, b'{"a":1} trailing {"a":2}', JSON)
    assert (status, body["values"]) == (200, {"a": 1})


async def test_json_null_and_empty_bodies_give_no_values(client):
    assert (await post(client, b"null", JSON))[1]["values"] == {}
    assert (await post(client, b"", JSON))[1]["values"] == {}


@pytest.mark.parametrize(
    "raw",
    [b'{"a":', b"[1,2]", b'"str"', b"1", b"  ", b'{"a":1,"a":2}', b'{"a":1,}', b'{"a":"\xff"}',
     b'{"a":"\\ud800"}', b'{"a":1e400}', b'{"a":NaN}', b'{"a":01}', b'\xef\xbb\xbf{"a":1}'],
)
async def test_malformed_or_non_object_json_is_the_generic_400(client, raw):
    assert await post(client, raw, JSON) == (400, GENERIC_400)


async def test_chunked_empty_json_is_400_but_declared_empty_is_not(client):
    assert await post(client, chunked(b""), JSON) == (400, GENERIC_400)
    assert (await post(client, b"", JSON))[0] == 200


@pytest.mark.parametrize(
    "ctype", ["application/json; charset=utf-8", " application/json", "application/json-patch+json"]
)
async def test_json_content_type_is_matched_by_prefix(client, ctype):
    assert (await post(client, b'{"a":1}', {"content-type": ctype}))[1]["values"] == {"a": 1}


@pytest.mark.parametrize(
    "ctype", ["text/plain", "", "Application/JSON", "application/ld+json", "multipart/mixed; boundary=XyZ"]
)
async def test_other_content_types_are_unsupported(client, ctype):
    assert await post(client, b"a=1", {"content-type": ctype}) == (400, UNSUPPORTED)


async def test_xml_is_accepted_by_type_but_always_fails(client):
    assert await post(client, b"<a><b>1</b></a>", {"content-type": "application/xml"}) == (400, GENERIC_400)


async def test_an_empty_body_gives_no_values_whatever_the_content_type(client):
    status, body = await post(client, b"", {"content-type": "text/plain"})
    assert (status, body["values"]) == (200, {})


# Forms ---------------------------------------------------------------------------------------------


async def test_urlencoded_values_are_inferred_and_repeated_keys_become_lists(client):
    status, body = await post(client, b"a=x+y&b=&c&&d=1&d=true&n=1.50&%C3%BC=%FF&=5", FORM)
    assert status == 200
    assert body["values"] == {"a": "x y", "b": "", "c": "", "d": [1, True], "n": "1.50", "ü": "\ufffd", "": 5}


async def test_query_values_join_form_bodies_but_not_json(client):
    assert (await post(client, b"a=2&b=3", FORM, query="?q=1&a=z"))[1]["values"] == {"a": [2, "z"], "b": 3, "q": 1}
    mp = multipart(text_part("a", "2"))
    assert (await post(client, mp, MP, query="?q=1&a=z"))[1]["values"] == {"a": ["z", 2], "q": 1}
    assert (await post(client, b'{"a":2}', JSON, query="?q=1"))[1]["values"] == {"a": 2}
    other = {"content-type": "application/x-www-form-urlencodedX"}
    assert (await post(client, b"a=2", other, query="?q=1"))[1]["values"] == {"q": 1}


@pytest.mark.parametrize(
    ("raw", "query"), [(b"a=%zz", ""), (b"a=1;b=2", ""), (b"a=1", "?b=%zz"), (b"a=1", "?b;c"), (b"&" * 10_000, "")]
)
async def test_malformed_urlencoded_body_or_query_is_400(client, raw, query):
    assert await post(client, raw, FORM, query=query) == (400, GENERIC_400)


async def test_urlencoded_body_over_10_mib_is_400_not_413(client):
    assert (await post(client, b"a=" + b"x" * (10 * MIB - 2), FORM))[0] == 200
    assert await post(client, chunked(b"a=" + b"x" * (10 * MIB - 1)), FORM) == (400, GENERIC_400)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("false", False), ("True", "True"), ("1", 1), ("0", 0), ("-2", -2), ("10", 10),
     ("1.5", 1.5), ("0.5", 0.5), ("0.30000000000000004", 0.30000000000000004), ("0.0000001", 1e-07),
     ("100000000000000000000", 10**20), ("1000000000000000000000", 10**21),
     ("1.50", "1.50"), ("007", "007"), ("0001", "0001"), ("+1", "+1"), (" 1", " 1"), ("1 ", "1 "),
     ("1e3", "1e3"), ("0.0", "0.0"), ("-0.0", "-0.0"), (".5", ".5"), ("-.5", "-.5"), ("5.", "5."),
     ("12345678901234567", "12345678901234567"), ("Infinity", "Infinity"), ("NaN", "NaN"), ("0x10", "0x10"),
     ("1_000", "1_000"), ("-", "-"), ("1..2", "1..2"), ("", ""), ("null", "null"), ("١٢", "١٢")],
)
def test_form_values_are_inferred_like_pocketbase(raw, expected):
    value = infer_value(raw)
    assert value == expected and type(value) is type(expected)


def test_minus_zero_is_a_negative_zero_number():
    assert str(infer_value("-0")) == "-0.0"


async def test_multipart_text_and_file_parts(client):
    raw = multipart(
        text_part("title", "hello"),
        text_part("count", "7"),
        text_part("doc", "keep.txt"),
        file_part("doc", "a.txt", b"abc"),
        file_part("doc", "b.png", b"\x89PNG", "image/png"),
    )
    status, body = await post(client, raw, MP)
    assert status == 200
    assert body["values"] == {"title": "hello", "count": 7, "doc": "keep.txt"}
    assert body["files"] == {
        "doc": [
            {"filename": "a.txt", "size": 3, "type": "text/plain", "sha256": _digest(b"abc")},
            {"filename": "b.png", "size": 4, "type": "image/png", "sha256": _digest(b"\x89PNG")},
        ]
    }
    assert body["closed"] is True


async def test_multipart_files_keep_their_raw_form_keys(client):
    raw = multipart(file_part("documents", "a.txt", b"1"), file_part("documents+", "b.txt", b"2"),
                    file_part("+documents", "c.txt", b"3"), file_part("documents-", "d.txt", b"4"))
    files = (await post(client, raw, MP))[1]["files"]
    assert {key: [f["filename"] for f in found] for key, found in files.items()} == {
        "documents": ["a.txt"], "documents+": ["b.txt"], "+documents": ["c.txt"], "documents-": ["d.txt"]}


async def test_repeated_multipart_text_keys_become_lists(client):
    raw = multipart(text_part("a", "1"), text_part("a", "x"), text_part("b", ""))
    assert (await post(client, raw, MP))[1]["values"] == {"a": [1, "x"], "b": ""}


async def test_json_payloads_merge_over_form_values_in_order(client):
    raw = multipart(
        text_part("a", "1"), text_part("b", "x"),
        text_part("@jsonPayload", '{"a":2,"o":{"x":1},"l":[1,2]}'),
        text_part("@jsonPayload", '{"o":{"y":2},"l":[3],"b":null}'),
    )
    assert (await post(client, raw, MP))[1]["values"] == {"a": 2, "b": None, "o": {"x": 1, "y": 2}, "l": [3]}


async def test_json_payload_works_in_urlencoded_bodies_and_queries(client):
    assert (await post(client, b"%40jsonPayload=%7B%22a%22%3A%5B1%5D%7D", FORM))[1]["values"] == {"a": [1]}
    query = "?%40jsonPayload=%7B%22a%22%3A2%7D"
    assert (await post(client, multipart(text_part("a", "1")), MP, query=query))[1]["values"] == {"a": 2}


@pytest.mark.parametrize(
    "payloads",
    [
        ['{"a":"s"}'],  # a form number can only be replaced by a number ...
        ['{"a":[1]}'],
        ['{"o":{"x":1}}', '{"o":{"x":"s"}}'],  # ... at any depth
        ["[1]"],
        ['{"a":2} x'],
        [""],
        ['{"b":1,"b":2}'],
    ],
)
async def test_json_payload_that_go_json_v2_refuses_is_400(client, payloads):
    raw = multipart(text_part("a", "1"), *(text_part("@jsonPayload", p) for p in payloads))
    assert await post(client, raw, MP) == (400, GENERIC_400)


async def test_null_json_payload_drops_earlier_values(client):
    raw = multipart(text_part("a", "1"), text_part("@jsonPayload", "null"), text_part("@jsonPayload", '{"b":2}'))
    assert (await post(client, raw, MP))[1]["values"] == {"b": 2}


async def test_json_payload_sent_as_a_file_is_just_a_file(client):
    raw = multipart(file_part("@jsonPayload", "p.json", b'{"a":1}'))
    body = (await post(client, raw, MP))[1]
    assert body["values"] == {} and list(body["files"]) == ["@jsonPayload"]


async def test_part_with_empty_filename_is_a_text_value(client):
    raw = multipart(('Content-Disposition: form-data; name="doc"; filename=""', b"abc"))
    body = (await post(client, raw, MP))[1]
    assert (body["values"], body["files"]) == ({"doc": "abc"}, {})


@pytest.mark.parametrize(
    "disposition",
    ['form-data; filename="a.txt"', 'form-data; name=""', 'attachment; name="a"', 'form-data; name="a"; foo',
     'form-data; name="a"; name="b"', '"form-data"; name="a"'],
)
async def test_part_without_a_usable_name_is_ignored(client, disposition):
    raw = multipart((f"Content-Disposition: {disposition}", b"abc"), ("Content-Type: text/plain", b"x"))
    assert (await post(client, raw, MP))[1] == {"values": {}, "files": {}, "closed": True}


@pytest.mark.parametrize(
    ("filename", "expected"),
    [("../../etc/passwd", "passwd"), ("a/b/c.txt", "c.txt"), ("a//b", "b"), ("a/", "a"), ("///", "/"), ("/", "/"),
     ("..", ".."), (r"a\\b\\c.txt", r"a\b\c.txt"), (r"C:\x\y.txt", r"C:\x\y.txt"), (r"a\"b.txt", 'a"b.txt')],
)
def test_filenames_are_reduced_to_a_basename_on_slash_only(filename, expected):
    assert form_part_names(f'form-data; name="doc"; filename="{filename}"') == ("doc", expected)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("filename*=UTF-8''%C3%BCber%20x.txt", "über x.txt"),
        ("filename=\"p.txt\"; filename*=utf-8'en'star.txt", "star.txt"),
        ("filename=\"p.txt\"; filename*=iso-8859-1''%E4.txt", "p.txt"),  # Go knows no other charset
        ("filename*=utf-8''%zz.txt", ""),  # undecodable and no plain filename: a text part
        ("filename*0=\"ab\"; filename*1=\"cd.txt\"", "abcd.txt"),
        ("filename*0*=UTF-8''%C3%A4; filename*1=\"x.txt\"", "äx.txt"),
        ("FILENAME = \"up.txt\";", "up.txt"),
        ("filename=t.txt", "t.txt"),
    ],
)
def test_rfc2231_and_lenient_disposition_parameters(params, expected):
    assert form_part_names(f'form-data; name="doc"; {params}') == ("doc", expected)


async def test_rfc2231_filename_is_decoded_before_its_basename_is_taken(client):
    disposition = "Content-Disposition: form-data; name*=UTF-8''doc; filename*=UTF-8''%E6%97%A5%2F%C3%BC.txt"
    assert (await post(client, multipart((disposition, b"abc")), MP))[1]["files"]["doc"][0]["filename"] == "ü.txt"
    # a raw "/" is not allowed in an extended value, so Go drops the whole header and with it the part
    raw = multipart((disposition.replace("%2F", "/"), b"abc"))
    assert (await post(client, raw, MP))[1] == {"values": {}, "files": {}, "closed": True}


@pytest.mark.parametrize(
    "ctype",
    ["multipart/form-data", "multipart/form-data; boundary=zzz", "multipart/form-dataX; boundary=XyZ",
     "multipart/form-data; boundary=XyZ; foo"],
)
async def test_bad_multipart_framing_is_400(client, ctype):
    assert await post(client, multipart(text_part("a", "1")), {"content-type": ctype}) == (400, GENERIC_400)


async def test_multipart_cut_before_its_closing_boundary_is_400_and_leaves_no_temp_files(client, uploads):
    raw = multipart(file_part("doc", "a.txt", b"x" * 100_000), end=False)
    assert await post(client, raw, MP) == (400, GENERIC_400)
    assert list(uploads.iterdir()) == []


async def test_more_than_1000_parts_is_400(client):
    assert (await post(client, multipart(*[text_part("f", "1")] * 1000), MP))[0] == 200
    assert await post(client, multipart(*[text_part("f", "1")] * 1001), MP) == (400, GENERIC_400)


async def test_text_values_beyond_go_form_memory_are_400(client):
    fits = 26 * MIB - 201  # ReadForm's 16 MiB + 10 MiB, less 200 bytes and the name for the part
    assert (await post(client, multipart(text_part("f", "x" * fits)), MP))[0] == 200
    assert await post(client, multipart(text_part("f", "x" * (fits + 1))), MP) == (400, GENERIC_400)


@pytest.mark.parametrize(("files", "fits"), [(16, 10_467_047), (17, 10_465_890)])
async def test_small_files_count_against_form_memory_as_go_keeps_them_in_memory(client, files, fits):
    """The limits were found by bisection on the reference: 16 files of 1 MiB fill Go's in-memory file
    budget, and the 17th spills to disk, costing only its header."""
    uploads = [('Content-Disposition: form-data; name="f"; filename="a.bin"', b"x" * MIB)] * files
    assert (await post(client, multipart(*uploads, text_part("t", "y" * fits)), MP))[0] == 200
    assert await post(client, multipart(*uploads, text_part("t", "y" * (fits + 1))), MP) == (400, GENERIC_400)


# Size limit ----------------------------------------------------------------------------------------


async def test_declared_length_over_the_limit_is_413_before_reading(client):
    consumed = []

    async def body() -> AsyncIterator[bytes]:
        consumed.append(True)
        yield b'{"a":1}'

    response = await client.post("/echo/5", content=body(), headers={**JSON, "content-length": "7"})
    assert (response.status_code, response.json(), consumed) == (413, TOO_LARGE, [])


async def test_declared_length_equal_to_the_limit_is_read(client):
    assert await post(client, b'{"a":1}', JSON, limit=7) == (200, {"values": {"a": 1}, "files": {}, "closed": True})
    assert await post(client, b'{"a":10}', JSON, limit=7) == (413, TOO_LARGE)


async def test_streamed_body_over_the_limit_is_413_and_leaves_no_temp_files(client, uploads):
    raw = multipart(file_part("doc", "big.bin", b"x" * (3 * MIB)))
    pieces = (raw[i : i + 65536] for i in range(0, len(raw), 65536))
    assert await post(client, chunked(*pieces), MP, limit=2 * MIB) == (413, TOO_LARGE)
    assert list(uploads.iterdir()) == []
    assert await post(client, chunked(b'{"a":"' + b"x" * 100 + b'"}'), JSON, limit=50) == (413, TOO_LARGE)


async def test_temp_files_exist_until_close(uploads):
    raw = multipart(file_part("doc", "a.txt", b"abc"))
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    headers = [(b"content-type", MP["content-type"].encode()), (b"content-length", str(len(raw)).encode())]
    scope = {"type": "http", "method": "POST", "query_string": b"", "http_version": "1.1", "headers": headers}
    async with await read_body(Request(scope, receive), 1024, str(uploads)) as body:
        upload = body.files["doc"][0]
        assert Path(upload.path).read_bytes() == b"abc" and upload.path.startswith(str(uploads))
    assert not os.path.exists(upload.path)


# Large bodies -------------------------------------------------------------------------------------


async def test_a_300_mb_upload_streams_to_disk_with_flat_memory(client, uploads):
    block = os.urandom(MIB + 13)  # an odd size, so part data straddles every batch boundary
    blocks = 290
    digest = hashlib.sha256()

    async def body() -> AsyncIterator[bytes]:
        yield b'--XyZ\r\nContent-Disposition: form-data; name="title"\r\n\r\nbig\r\n'
        yield b'--XyZ\r\nContent-Disposition: form-data; name="doc"; filename="big.bin"\r\n\r\n'
        for _ in range(blocks):
            digest.update(block)
            yield block
        yield b"\r\n--XyZ--\r\n"

    # Its memory is measured by `make bench` (uploads: peak RSS growth), not asserted here.
    status, echoed = await post(client, body(), MP, limit=400 * MIB)
    assert status == 200
    assert echoed["values"] == {"title": "big"}
    assert echoed["files"]["doc"] == [
        {"filename": "big.bin", "size": blocks * len(block), "type": "", "sha256": digest.hexdigest()}
    ]
    assert list(uploads.iterdir()) == []
