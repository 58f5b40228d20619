"""`PUT /api/collections/import` beyond what the reference shows: one schema change for the
whole import (every process and instance reloads once), nothing of a refused one, and the
files of the collections `deleteMissing` deletes removed from storage.
"""

from __future__ import annotations

import anyio
from checks import wait_for

from satchel.core import collections_import
from satchel.core.state import Satchel
from satchel.db import versions
from satchel.storage import keys

NOTES = {"name": "notes", "type": "base", "listRule": "", "fields": [{"name": "doc", "type": "file", "maxSelect": 1}]}


def test_an_import_moves_the_schema_version_once_and_a_refused_one_not_at_all(client, admin, sat) -> None:
    before = sat.db.read_sync(versions.read)
    items = [{"name": f"c{n}", "type": "base"} for n in range(3)]
    assert client.put("/api/collections/import", headers=admin, json={"collections": items}).status_code == 204
    assert sat.db.read_sync(versions.read) == before + 1
    refused = client.put("/api/collections/import", headers=admin, json={"collections": [{"name": "c9"}, {"name": "bad name"}]})
    assert refused.status_code == 400
    assert sat.db.read_sync(versions.read) == before + 1
    assert client.get("/api/collections/c9", headers=admin).status_code == 404


def test_an_import_through_another_instance_is_seen_here(client, admin, config) -> None:
    other = Satchel(config)  # a second instance on the same database, with caches of its own
    other.init_sync()
    items = [{"name": "elsewhere", "type": "base", "listRule": ""}]
    anyio.run(other.change_schema, collections_import.import_collections, items, False)
    other.db.dispose()
    wait_for(lambda: client.get("/api/collections/elsewhere/records").status_code == 200)


def test_delete_missing_removes_the_files_of_the_collections_it_deletes(client, admin, sat) -> None:
    assert client.post("/api/collections", headers=admin, json=NOTES).status_code == 200
    created = client.post("/api/collections/notes/records", headers=admin, files={"doc": ("a.txt", b"hello", "text/plain")})
    assert created.status_code == 200
    key = keys.file_key(sat.find_collection("notes").id, created.json()["id"], created.json()["doc"])
    assert anyio.run(sat.storage().stat, key) is not None
    kept = client.put("/api/collections/import", headers=admin, json={"collections": [{"name": "users"}], "deleteMissing": True})
    assert kept.status_code == 204, kept.text
    assert client.get("/api/collections/notes", headers=admin).status_code == 404
    assert anyio.run(sat.storage().stat, key) is None
