"""The sweeper on every database and storage: orphans, unfinished writes and dead temp files go,
live files, their thumbs and anything fresh stay."""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import anyio
import pytest
from checks import ok, wait_for
from conftest import image_bytes

from satchel.core import sweeper
from satchel.db import store
from satchel.storage import keys


def make_docs(client, admin) -> tuple[dict, dict]:
    """A collection with a single and a multiple file field, and a record with three files and a thumb."""
    collection = ok(client.post("/api/collections", headers=admin, json={
        "name": "docs", "listRule": "", "viewRule": "", "fields": [
            {"name": "cover", "type": "file", "maxSelect": 1, "thumbs": ["10x10"]},
            {"name": "pages", "type": "file", "maxSelect": 5},
        ],
    }))
    png = image_bytes(20, 20)
    record = ok(client.post("/api/collections/docs/records", headers=admin, files=[
        ("cover", ("cover.png", png, "image/png")),
        ("pages", ("one.txt", b"page one", "text/plain")),
        ("pages", ("two.txt", b"page two", "text/plain")),
    ]))
    thumb = client.get(f"/api/files/docs/{record['id']}/{record['cover']}", params={"thumb": "10x10"})
    assert thumb.status_code == 200 and thumb.content != png
    return collection, record


def stored_keys(sat) -> set[str]:
    async def listing() -> set[str]:
        return {obj.key async for obj in sat.storage().list_objects()}

    return anyio.run(listing)


def put(sat, key: str, data: bytes = b"debris") -> None:
    anyio.run(sat.storage().put_bytes, key, data, "application/octet-stream")


def remove_orphans(sat, before: float) -> set[str]:
    return {obj.key for obj in anyio.run(sweeper.remove_orphans, sat, sat.storage(), before)}


def test_orphans_go_and_named_files_with_their_thumbs_stay(client, admin, sat, storage_kind):
    collection, record = make_docs(client, admin)
    cid, rid = collection["id"], record["id"]
    kept = stored_keys(sat)
    assert len(kept) == 4  # cover, two pages, the cover's thumb
    orphans = {
        keys.file_key(cid, rid, "crashed_abcdefghij.png"),  # written, row never committed
        keys.thumb_key(cid, rid, "crashed_abcdefghij.png", "10x10"),
        keys.thumb_key(cid, rid, "replaced_abcdefghij.png", "10x10"),  # its file is gone already
        keys.file_key(cid, "deletedrecord01", "a_abcdefghij.txt"),  # a record deleted mid-cleanup
        keys.file_key("pbc_deleted0001", "somerecord0001", "b_abcdefghij.txt"),  # a deleted collection
    }
    for key in orphans:
        put(sat, key)
    put(sat, "not/ours.txt")  # no record file's shape: never touched
    put(sat, "pb_settings_test_abcde/test.txt")

    assert remove_orphans(sat, before=time.time() - 3600) == set()  # all fresh: kept
    assert remove_orphans(sat, before=time.time() + 60) == orphans
    assert stored_keys(sat) == kept | {"not/ours.txt", "pb_settings_test_abcde/test.txt"}
    for field in ("cover", "pages"):
        for name in [record[field]] if field == "cover" else record[field]:
            assert client.get(f"/api/files/docs/{rid}/{name}").status_code == 200


def test_files_of_a_collection_without_file_fields_are_orphans(client, admin, sat, storage_kind):
    plain = ok(client.post("/api/collections", headers=admin, json={"name": "plain", "fields": [{"name": "t", "type": "text"}]}))
    row = ok(client.post("/api/collections/plain/records", headers=admin, json={"t": "x"}))
    key = keys.file_key(plain["id"], row["id"], "a_abcdefghij.txt")
    put(sat, key)
    assert remove_orphans(sat, before=time.time() + 60) == {key}


def test_nothing_goes_when_the_database_cannot_say(client, admin, sat, storage_kind, monkeypatch):
    collection, record = make_docs(client, admin)
    orphan = keys.file_key(collection["id"], record["id"], "crashed_abcdefghij.png")
    put(sat, orphan)

    def broken(*args):
        raise RuntimeError("the schema changed under the query")

    monkeypatch.setattr(store, "select_columns", broken)
    assert remove_orphans(sat, before=time.time() + 60) == set()
    assert orphan in stored_keys(sat)


def test_a_record_deleted_through_the_api_leaves_nothing_to_sweep(client, admin, sat, storage_kind):
    _collection, record = make_docs(client, admin)
    assert client.delete(f"/api/collections/docs/records/{record['id']}", headers=admin).status_code == 204
    assert remove_orphans(sat, before=time.time() + 60) == set()


def test_the_sweep_job_removes_every_kind_of_debris(client, admin, sat, config, monkeypatch):
    """Through `POST /api/crons/{id}` with no grace: a dead spool entry, a partial file, an orphan."""
    collection, record = make_docs(client, admin)
    kept = stored_keys(sat)
    monkeypatch.setattr(sat, "config", dataclasses.replace(config, temp_grace=0, orphan_grace=0))
    stray = Path(config.tmp_dir) / "satchel-upload-stray"
    stray.write_bytes(b"x" * 100)
    os.utime(stray, (time.time() - 10, time.time() - 10))
    storage_dir = Path(config.storage_dir)
    partial = storage_dir / collection["id"] / record["id"] / f"{record['cover']}.{time.time_ns():016x}.tmp"
    partial.write_bytes(b"half")
    os.utime(partial, (time.time() - 10, time.time() - 10))
    orphan = keys.file_key(collection["id"], record["id"], "crashed_abcdefghij.png")
    put(sat, orphan)
    os.utime(storage_dir / orphan, (time.time() - 10, time.time() - 10))

    assert client.post(f"/api/crons/{sweeper.JOB_ID}", headers=admin).status_code == 204
    deadline = time.monotonic() + 30
    while (stray.exists() or partial.exists() or orphan in stored_keys(sat)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not stray.exists() and not partial.exists()
    assert stored_keys(sat) == kept
    assert client.get(f"/api/files/docs/{record['id']}/{record['cover']}").status_code == 200


def test_the_sweep_job_leaves_the_s3_cache_alone_but_its_stale_temp_files(client, admin, sat, config, storage_kind, monkeypatch):
    if storage_kind != "s3":
        pytest.skip("the cache is S3's")
    collection, record = make_docs(client, admin)
    for name in [record["cover"], *record["pages"]]:  # downloaded whole: copied (the thumb too)
        assert client.get(f"/api/files/docs/{record['id']}/{name}").status_code == 200
    cache = Path(config.s3_cache_dir)
    copies = {p: p.read_bytes() for p in cache.rglob("*") if p.is_file()}
    assert len(copies) == 2 * 4  # data and info of the cover, its thumb and the two pages
    monkeypatch.setattr(sat, "config", dataclasses.replace(config, temp_grace=0, orphan_grace=0))
    (folder,) = {p.parent for p in copies if p.name == record["pages"][0]} & set(cache.glob("*/data/*/*"))
    stale = folder / f"cut_short.txt.{time.time_ns():016x}.tmp"
    stale.write_bytes(b"half a copy")
    os.utime(stale, (time.time() - 10, time.time() - 10))

    assert client.post(f"/api/crons/{sweeper.JOB_ID}", headers=admin).status_code == 204
    wait_for(lambda: not stale.exists())
    assert {p: p.read_bytes() for p in cache.rglob("*") if p.is_file()} == copies
    assert client.get(f"/api/files/docs/{record['id']}/{record['pages'][1]}").content == b"page two"


def test_the_sweep_is_listed_as_a_job(client, admin):
    jobs = ok(client.get("/api/crons", headers=admin))
    assert {"id": sweeper.JOB_ID, "expression": sweeper.SCHEDULE} in jobs


@pytest.mark.parametrize("key, owner", [
    ("c1/r1/a_abcdefghij.png", ("c1", "r1", "a_abcdefghij.png")),
    ("c1/r1/thumbs_a_abcdefghij.png/10x10_a_abcdefghij.png", ("c1", "r1", "a_abcdefghij.png")),
    ("c1/r1/thumbs_x_abcdefghij.png", ("c1", "r1", "thumbs_x_abcdefghij.png")),  # a file may be named thumbs_…
    ("c1/r1/thumbs_a.png/10x10_b.png", None),  # not a thumb of the file its folder names
    ("c1/r1/other/10x10_a.png", None),
    ("pb_settings_test_abcde/test.txt", None),
    ("c1//a.png", None),
    ("c1/r1/a/b/c", None),
])
def test_only_record_files_and_their_thumbs_have_an_owner(key: str, owner):
    assert keys.owner(key) == owner
