"""A database made before the system collections existed gains them, once, however many start at once."""

from __future__ import annotations

import subprocess
from typing import Any

from checks import ok, wait_for
from processes import SATCHEL
from sqlalchemy.engine import Connection

from satchel.config import Config
from satchel.core import schema
from satchel.core.bootstrap import bootstrap
from satchel.core.schema import Schema
from satchel.core.state import Satchel
from satchel.db import store, versions

INTERNAL = ["_mfas", "_otps", "_externalAuths", "_authOrigins"]


def make_it_older(conn: Connection, rename_otps: bool = False) -> None:
    """What an older Satchel left: no internal collections, autodate fields with an empty help text."""
    versions.bump(conn)
    stored = Schema.load_sync(conn, -1)
    for name in INTERNAL:
        found = stored.find_collection(name)
        assert found is not None
        schema.delete_collection(conn, found)
    for data in store.load_collections(conn):
        fields = [{**f, "help": ""} if f["type"] == "autodate" else f for f in data["fields"]]
        store.save_collection(conn, {**data, "fields": fields}, is_new=False)


def migrate_at_once(data_dir: str, db_url: str) -> None:
    """Two `satchel migrate` processes on one database, started together."""
    command = [SATCHEL, "migrate", "--dir", data_dir, "--db-url", db_url]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)]
    for run in runs:
        output, _ = run.communicate(timeout=120)
        assert run.returncode == 0, output.decode()


def names(client, admin: dict[str, str]) -> list[str]:
    return [c["name"] for c in ok(client.get("/api/collections", headers=admin, params={"perPage": 100}))["items"]]


def test_an_older_database_gains_the_system_collections_once_when_processes_migrate_at_once(client, admin, sat, config):
    ok(client.post("/api/collections", headers=admin, json={"name": "posts", "createRule": "", "fields": [{"name": "t", "type": "text"}]}))
    post = ok(client.post("/api/collections/posts/records", json={"t": "kept"}))
    fresh = ok(client.get("/api/collections", headers=admin, params={"perPage": 100}))["items"]
    sat.db.write_sync(make_it_older)
    # written behind the app's back: on PostgreSQL it hears of the new version by NOTIFY, a moment later
    wait_for(lambda: names(client, admin) == ["_superusers", "users", "posts"])
    assert all("help" in f for c in ok(client.get("/api/collections", headers=admin))["items"] for f in c["fields"])

    migrate_at_once(config.data_dir, config.db_url)

    # This process was running all along: it hears of the change and lists what a fresh one does.
    wait_for(lambda: names(client, admin) == [*INTERNAL, "_superusers", "users", "posts"])
    after = ok(client.get("/api/collections", headers=admin, params={"perPage": 100}))["items"]
    assert _same(after, fresh)
    assert ok(client.get(f"/api/collections/posts/records/{post['id']}", headers=admin))["t"] == "kept"


def test_processes_starting_at_once_on_a_fresh_database_make_each_collection_once(tmp_path, db_url):
    migrate_at_once(str(tmp_path / "sb_data"), db_url)
    sat = Satchel(Config(data_dir=str(tmp_path / "sb_data"), db_url=db_url))
    try:
        stored = sat.db.read_sync(store.load_collections)
    finally:
        sat.dispose()
    assert sorted(data["name"] for data in stored) == sorted([*INTERNAL, "_superusers", "users"])


def _same(got: list[dict[str, Any]], fresh: list[dict[str, Any]]) -> bool:
    """The collections as a fresh database has them, but for their dates."""
    def undated(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in c.items() if k not in ("created", "updated")} for c in items]

    return undated(got) == undated(fresh)


def test_a_collection_of_the_database_s_own_keeps_a_system_name_it_already_had(client, admin, sat):
    sat.db.write_sync(make_it_older)
    ok(client.post("/api/collections", headers=admin, json={"name": "_OTPs", "fields": [{"name": "mine", "type": "text"}]}))
    sat.db.write_sync(bootstrap)
    sat.db.snapshot_sync(sat.load_sync)
    assert names(client, admin) == ["_mfas", "_externalAuths", "_authOrigins", "_superusers", "users", "_OTPs"]
    assert [f["name"] for f in ok(client.get("/api/collections/_otps", headers=admin))["fields"]] == ["id", "mine"]


def test_a_backup_an_older_satchel_made_restores_with_the_system_collections(client, admin, sat):
    fresh = ok(client.get("/api/collections", headers=admin, params={"perPage": 100}))["items"]
    sat.db.write_sync(make_it_older)
    assert client.post("/api/backups", headers=admin, json={"name": "older.zip"}).status_code == 204

    assert client.post("/api/backups/older.zip/restore", headers=admin).status_code == 204

    assert _same(ok(client.get("/api/collections", headers=admin, params={"perPage": 100}))["items"], fresh)
