"""View collections where Satchel goes its own way: refused changes, column kinds, protected files."""

from __future__ import annotations

import anyio
from checks import ok, wait_for

from satchel.core import schema_changes
from satchel.core.state import Satchel

TAGS = {"name": "tags", "type": "base", "fields": [{"name": "label", "type": "text"}]}


def _posts(client, admin, tags_id: str) -> None:
    ok(client.post("/api/collections", headers=admin, json={"name": "posts", "type": "base", "fields": [
        {"name": "tag", "type": "relation", "collectionId": tags_id, "maxSelect": 1},
        {"name": "doc", "type": "file", "protected": True},
    ]}))


def test_renaming_a_collection_a_view_reads_is_refused_and_changes_nothing(client, admin) -> None:
    ok(client.post("/api/collections", headers=admin, json=TAGS))
    ok(client.post("/api/collections", headers=admin, json={"name": "labels", "type": "view", "viewQuery": "select id, label from tags"}))
    r = client.patch("/api/collections/tags", headers=admin, json={"name": "tags2"})
    assert r.status_code == 400
    assert r.json()["message"].startswith("Failed to update collection. Raw error: \n[labels] ")
    assert client.get("/api/collections/tags", headers=admin).status_code == 200
    assert ok(client.get("/api/collections/labels/records", headers=admin))["items"] == []


def test_a_view_follows_its_source_field_from_one_value_to_many(client, admin) -> None:
    tags = ok(client.post("/api/collections", headers=admin, json=TAGS))
    _posts(client, admin, tags["id"])
    tag = ok(client.post("/api/collections/tags/records", headers=admin, json={"label": "a"}))
    post = ok(client.post("/api/collections/posts/records", headers=admin, json={"tag": tag["id"]}))
    ok(client.post("/api/collections", headers=admin, json={"name": "tagged", "type": "view", "viewQuery": "select id, tag from posts"}))
    fields = ok(client.get("/api/collections/posts", headers=admin))["fields"]
    for field in fields:
        if field["name"] == "tag":
            field["maxSelect"] = 3
    ok(client.patch("/api/collections/posts", headers=admin, json={"fields": fields}))
    view = ok(client.get("/api/collections/tagged", headers=admin))
    assert [f["maxSelect"] for f in view["fields"] if f["name"] == "tag"] == [3]
    record = ok(client.get(f"/api/collections/tagged/records/{post['id']}", headers=admin, params={"expand": "tag"}))
    assert record["tag"] == [tag["id"]] and record["expand"]["tag"][0]["label"] == "a"


def test_a_protected_file_through_a_view_needs_a_file_token_and_the_views_rule(client, admin) -> None:
    tags = ok(client.post("/api/collections", headers=admin, json=TAGS))
    _posts(client, admin, tags["id"])
    post = ok(client.post("/api/collections/posts/records", headers=admin, files={"doc": ("a.txt", b"secret", "text/plain")}))
    ok(client.post("/api/collections", headers=admin, json={"name": "docs", "type": "view", "viewRule": "@request.auth.id != ''", "viewQuery": "select id, doc as paper from posts"}))
    url = f"/api/files/docs/{post['id']}/{post['doc']}"
    assert client.get(url).status_code == 404
    token = ok(client.post("/api/files/token", headers=admin))["token"]
    r = client.get(url, params={"token": token})
    assert (r.status_code, r.content) == (200, b"secret")


def test_a_view_made_or_changed_by_another_instance_is_served_here(client, admin, config) -> None:
    ok(client.post("/api/collections", headers=admin, json=TAGS))
    ok(client.post("/api/collections/tags/records", headers=admin, json={"label": "a"}))
    other = Satchel(config)  # a second instance on the same database: its own engine and caches
    other.init_sync()
    view = {"name": "labels", "type": "view", "listRule": "", "viewQuery": "select id, label from tags"}
    anyio.run(other.change_schema, schema_changes.create, view)
    wait_for(lambda: [r["label"] for r in client.get("/api/collections/labels/records").json().get("items", [])] == ["a"])
    anyio.run(other.change_schema, schema_changes.update, "labels", {"viewQuery": "select id, (label || label) as twice from tags"})
    other.db.dispose()
    wait_for(lambda: [r.get("twice") for r in client.get("/api/collections/labels/records").json().get("items", [])] == ["aa"])


def test_a_view_whose_query_no_longer_runs_after_a_restore_reads_as_empty(client, admin, sat) -> None:
    """A restore keeps a view whose query the database can't run (another dialect's SQL): it
    shows no records, and its records and files are 404s, never a 500."""
    from satchel.core import views
    from satchel.core.collection_model import Collection
    from satchel.db import store
    from satchel.db.views import drop_view

    ok(client.post("/api/collections", headers=admin, json=TAGS))
    _posts(client, admin, ok(client.get("/api/collections/tags", headers=admin))["id"])
    post = ok(client.post("/api/collections/posts/records", headers=admin, files={"doc": ("a.txt", b"hello", "text/plain")}))
    view = ok(client.post("/api/collections", headers=admin, json={
        "name": "docs", "type": "view", "listRule": "", "viewRule": "", "viewQuery": "select id, doc from posts"}))

    def broken(conn) -> None:  # as a restore from the other dialect leaves it
        stored = Collection({**sat.schema.find_collection("docs").data, "viewQuery": "select id, doc from nowhere"})
        store.save_collection(conn, stored.data, is_new=False)
        drop_view(conn, "docs")
        views.rebuild(conn, sat.schema.replaced(stored), [stored], None)

    anyio.run(sat.db.write, broken)
    anyio.run(sat.reload)
    assert ok(client.get("/api/collections/docs/records", headers=admin))["items"] == []
    assert client.get(f"/api/collections/docs/records/{post['id']}", headers=admin).status_code == 404
    token = ok(client.post("/api/files/token", headers=admin))["token"]
    assert client.get(f"/api/files/{view['id']}/{post['id']}/{post['doc']}?token={token}").status_code == 404
