"""`satchel repair-relations`: relation values naming records that no longer exist (left by a
Satchel older than relation-settling deletes) are listed, and with --apply taken out where
PocketBase's delete would have, in one transaction; both databases."""

from __future__ import annotations

from typing import Any

import pytest
from checks import ok

from satchel import cli
from satchel.core import dangling_relations
from satchel.db import store

U1, U2 = "u1aaaaaaaaaaaaa", "u2aaaaaaaaaaaaa"


def relation(name: str, target: str, **options: Any) -> dict[str, Any]:
    return {"name": name, "type": "relation", "collectionId": target, **options}


@pytest.fixture
def dangling(client, admin, sat) -> dict[str, str]:
    """Records naming user U1, whose row is then deleted behind Satchel's back, as an old Satchel left it."""
    users = ok(client.get("/api/collections/users", headers=admin))["id"]
    shapes = {
        "files": [relation("owner", users), {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True}],
        "groups": [relation("members", users, maxSelect=5)],
        "notes": [relation("author", users, required=True)],
        "posts": [relation("author", users, cascadeDelete=True)],
        "tags": [relation("owners", users, maxSelect=5, cascadeDelete=True)],
    }
    for name, fields in shapes.items():
        rule = "owner = @request.auth.id" if name == "files" else None
        ok(client.post("/api/collections", headers=admin, json={"name": name, "type": "base", "fields": fields, "viewRule": rule}))
    for user in (U1, U2):
        ok(client.post("/api/collections/users/records", json={"id": user, "password": "password-123", "passwordConfirm": "password-123", "email": f"{user}@example.com"}))
    made = {
        "files": ok(client.post("/api/collections/files/records", headers=admin, json={"owner": U1}))["id"],
        "files2": ok(client.post("/api/collections/files/records", headers=admin, json={"owner": U2}))["id"],
        "groups": ok(client.post("/api/collections/groups/records", headers=admin, json={"members": [U1, U2]}))["id"],
        "notes": ok(client.post("/api/collections/notes/records", headers=admin, json={"author": U1}))["id"],
        "posts": ok(client.post("/api/collections/posts/records", headers=admin, json={"author": U1}))["id"],
        "tags": ok(client.post("/api/collections/tags/records", headers=admin, json={"owners": [U1, U2]}))["id"],
    }
    table = sat.schema.table(sat.schema.find_collection("users"))
    sat.db.write_sync(store.delete_records, table, [U1])
    return made


def run(config, capsys, *flags: str) -> list[str]:
    argv = ["repair-relations", "--dir", config.data_dir, *(["--db-url", config.db_url] if config.db_url else []), *flags]
    assert cli.main(argv) == 0
    return capsys.readouterr().out.splitlines()


def values(client, admin, made: dict[str, str]) -> dict[str, Any]:
    fields = {"files": "owner", "files2": "owner", "groups": "members", "notes": "author", "posts": "author", "tags": "owners"}
    return {
        key: ok(client.get(f"/api/collections/{key.rstrip('2')}/records/{record}", headers=admin))[fields[key]]
        for key, record in made.items()
    }


def test_report_lists_every_dangling_id_and_changes_nothing(client, admin, config, capsys, dangling) -> None:
    before = values(client, admin, dangling)
    lines = run(config, capsys)
    assert lines == [
        f"files {dangling['files']} owner: missing {U1}: would remove (--apply)",
        f"groups {dangling['groups']} members: missing {U1}: would remove (--apply)",
        f"notes {dangling['notes']} author: missing {U1}: left: the field is required and names no other record; set it or delete the record",
        f"posts {dangling['posts']} author: missing {U1}: left: PocketBase would have deleted this record (cascadeDelete); delete it or set the field",
        f"tags {dangling['tags']} owners: missing {U1}: would remove (--apply)",
        "5 relation values name missing records; 3 repairable with --apply, 2 to settle by hand.",
    ]
    assert values(client, admin, dangling) == before


def test_apply_takes_the_ids_out_as_the_reference_delete_would_have(client, admin, config, capsys, dangling, monkeypatch) -> None:
    monkeypatch.setattr(dangling_relations, "BATCH", 1)  # rows and ids read one at a time: the paging too
    stamp = ok(client.get(f"/api/collections/files/records/{dangling['files']}", headers=admin))["updated"]
    lines = run(config, capsys, "--apply")
    assert lines[0] == f"files {dangling['files']} owner: missing {U1}: removed"
    assert lines[-1] == "5 relation values name missing records; 3 repaired, 2 to settle by hand."
    assert values(client, admin, dangling) == {
        "files": "", "files2": U2, "groups": [U2], "notes": U1, "posts": U1, "tags": [U2],
    }
    assert ok(client.get(f"/api/collections/files/records/{dangling['files']}", headers=admin))["updated"] != stamp
    assert run(config, capsys)[-1] == "2 relation values name missing records; 0 repairable with --apply, 2 to settle by hand."


def test_without_the_repair_a_newcomer_with_the_old_id_gets_the_old_owners_record(client, config, dangling) -> None:
    """The hole the repair closes (issue 10, part 1), as an older Satchel left it."""
    ok(client.post("/api/collections/users/records", json={"id": U1, "password": "password-456", "passwordConfirm": "password-456", "email": "new@example.com"}))
    token = ok(client.post("/api/collections/users/auth-with-password", json={"identity": "new@example.com", "password": "password-456"}))["token"]
    assert client.get(f"/api/collections/files/records/{dangling['files']}", headers={"Authorization": token}).status_code == 200


def test_after_apply_a_newcomer_with_the_old_id_gets_nothing(client, admin, config, capsys, dangling) -> None:
    run(config, capsys, "--apply")
    ok(client.post("/api/collections/users/records", json={"id": U1, "password": "password-456", "passwordConfirm": "password-456", "email": "new@example.com"}))
    token = ok(client.post("/api/collections/users/auth-with-password", json={"identity": "new@example.com", "password": "password-456"}))["token"]
    assert client.get(f"/api/collections/files/records/{dangling['files']}", headers={"Authorization": token}).status_code == 404
    assert client.get(f"/api/collections/files/records/{dangling['files2']}", headers={"Authorization": token}).status_code == 404


def test_a_relation_to_a_collection_deleted_long_ago_names_only_missing_records(client, admin, config, capsys, sat) -> None:
    """An older Satchel also let a collection go while another's relation pointed at it."""
    gone = ok(client.post("/api/collections", headers=admin, json={"name": "gone", "type": "base", "fields": []}))
    ok(client.post("/api/collections", headers=admin, json={"name": "refs", "type": "base", "fields": [relation("to", gone["id"], maxSelect=2)]}))
    a, b = (ok(client.post("/api/collections/gone/records", headers=admin, json={}))["id"] for _ in range(2))
    ref = ok(client.post("/api/collections/refs/records", headers=admin, json={"to": [a, b]}))["id"]
    table = sat.schema.table(sat.schema.find_collection("gone"))
    sat.db.write_sync(lambda conn: (store.delete_collection_row(conn, gone["id"]), table.drop(conn)))
    assert run(config, capsys, "--apply")[0] == f"refs {ref} to: missing {a}, {b}: removed"
    assert ok(client.get(f"/api/collections/refs/records/{ref}", headers=admin))["to"] == []
