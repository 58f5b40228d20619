"""Satchel's backup archive: a zip that any deployment can restore, whatever its engines.

Layout (portable between SQLite and PostgreSQL, local disk and S3):
  satchel-backup.json           manifest: format, version, when, where it came from
  collections.jsonl             one collection definition a line
  records/{collection id}.jsonl one row a line, columns by name
  settings.json                 the instance settings (storage settings stay the target's own)
  files.jsonl                   one stored object a line: key, contentType, metadata
  storage/{key}                 the object's bytes (record files only: thumbs regenerate)

The database part is read in one snapshot (a WAL read transaction on SQLite, REPEATABLE READ
on PostgreSQL), so the archive is consistent while the server keeps serving. Nothing is ever
whole in memory: rows and objects stream through the zip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
import zipfile
import zlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import IO, Any

import anyio.to_thread
import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..db import store, versions
from ..storage import keys
from ..storage.base import ObjectInfo, Storage, StoredObject
from . import views
from .bootstrap import bootstrap
from .collection_model import Collection
from .schema import Schema, create_collection, delete_collection, table_for
from .state import SETTINGS_KEY, Satchel

FORMAT = "satchel-backup"
VERSION = 1
MANIFEST = "satchel-backup.json"
CHUNK = 1 << 20
ROWS_PER_INSERT = 500
ZIP_EPOCH = 315532800  # 1980-01-01: zip dates start there
#: settings that describe this deployment's storage, not the data: a restore keeps the target's own
DEPLOYMENT_SETTINGS = ("s3", "backups")


class InvalidArchive(ValueError):
    """The zip is not a Satchel backup (or is damaged); the message says why, after "not a Satchel backup: "."""


# writing --------------------------------------------------------------------------------------


async def write_archive(sat: Satchel, path: str) -> None:
    """Write a backup of `sat` (database snapshot, then stored files) to the zip at `path`."""
    storage = sat.storage()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        manifest = {
            "format": FORMAT, "version": VERSION, "created": datetime.now(UTC).isoformat(),
            "database": "sqlite" if sat.db.is_sqlite else "postgresql",
            "storage": "s3" if sat.settings["s3"].get("enabled") else "local",
        }
        await anyio.to_thread.run_sync(_write_member, zf, MANIFEST, orjson.dumps(manifest))
        await anyio.to_thread.run_sync(_dump_database, sat, zf)
        await _dump_files(storage, zf, sat.spool.folder())


def _write_member(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    zf.writestr(name, data)


@contextlib.contextmanager
def snapshot(sat: Satchel) -> Iterator[Connection]:
    """A connection whose reads all see one moment: in WAL mode SQLite's read transaction is
    one snapshot; PostgreSQL needs REPEATABLE READ for that."""
    engine = sat.db.engine
    if not sat.db.is_sqlite:
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    with engine.connect() as conn, conn.begin():
        yield conn


def _dump_database(sat: Satchel, zf: zipfile.ZipFile) -> None:
    """Every collection and its rows, and the settings, all read in one snapshot."""
    with snapshot(sat) as conn:
        definitions = store.load_collections(conn)
        with zf.open("collections.jsonl", "w", force_zip64=True) as out:
            for data in definitions:
                out.write(orjson.dumps(data) + b"\n")
        for data in definitions:
            if data["type"] == "view":
                continue  # its rows are its sources'
            table = table_for(Collection(data))
            names = [str(name) for name in table.c.keys()]  # plain str: orjson refuses subclasses as keys
            rows = conn.execute(sa.select(table).execution_options(yield_per=ROWS_PER_INSERT))
            with zf.open(f"records/{data['id']}.jsonl", "w", force_zip64=True) as out:
                for row in rows:
                    out.write(orjson.dumps(dict(zip(names, row, strict=True))) + b"\n")
        settings = store.get_param(conn, SETTINGS_KEY) or "{}"
        zf.writestr("settings.json", settings)


async def record_files(storage: Storage) -> AsyncIterator[tuple[StoredObject, ObjectInfo]]:
    """Every record file in `storage` (no thumbs, no strangers) with its stored info."""
    async for obj in storage.list_objects():
        if not keys.is_record_file(obj.key):
            continue
        info = await storage.stat(obj.key)
        if info is not None:  # else deleted since it was listed (its record is newer than a snapshot)
            yield obj, info


async def _dump_files(storage: Storage, zf: zipfile.ZipFile, tmp_dir: str) -> None:
    """Each stored object but thumbs into `storage/{key}`, its attributes into files.jsonl."""
    with tempfile.TemporaryFile(dir=tmp_dir) as listing:
        async for obj, info in record_files(storage):
            member = zipfile.ZipInfo(f"storage/{obj.key}", time.gmtime(max(obj.modified, ZIP_EPOCH))[:6])
            member.compress_type = zipfile.ZIP_STORED  # files are mostly compressed already; deflate would triple the time
            with zf.open(member, "w", force_zip64=True) as out:
                async for chunk in storage.iter_range(obj.key, 0, info.size):
                    await anyio.to_thread.run_sync(out.write, chunk)
            entry = {"key": obj.key, "size": info.size, "contentType": info.content_type, "metadata": info.metadata}
            listing.write(orjson.dumps(entry) + b"\n")
        listing.seek(0)
        with zf.open("files.jsonl", "w", force_zip64=True) as out:
            shutil.copyfileobj(listing, out, CHUNK)


# checking -------------------------------------------------------------------------------------


def check_archive(path: str) -> dict[str, Any]:
    """The manifest of a sound Satchel archive; InvalidArchive for anything else.

    Every member's checksum is verified (a read of the whole zip), so a damaged upload is
    refused before it can be restored.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            manifest = _manifest(zf)
            for name in ("collections.jsonl", "settings.json", "files.jsonl"):
                zf.getinfo(name)
            damaged = zf.testzip()
    except (zipfile.BadZipFile, zlib.error, KeyError, OSError, EOFError) as exc:
        raise InvalidArchive(f"unreadable zip ({exc})") from None
    if damaged is not None:
        raise InvalidArchive(f"damaged member {damaged!r}")
    return manifest


def _manifest(zf: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest = orjson.loads(zf.read(MANIFEST))
    except KeyError:
        raise InvalidArchive(f"no {MANIFEST} in it") from None
    except orjson.JSONDecodeError:
        raise InvalidArchive(f"{MANIFEST} is not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InvalidArchive(f"{MANIFEST} names another format")
    if manifest.get("version") != VERSION:
        raise InvalidArchive(f"backup format version {manifest.get('version')!r} is not supported")
    return manifest


# restoring ------------------------------------------------------------------------------------


def _lines(member: IO[bytes]) -> Iterator[Any]:
    for line in member:
        if line.strip():
            yield orjson.loads(line)


def _checked_key(key: Any) -> str:
    """An archive's object key, rebuilt part by part so it can't point outside the storage."""
    parts = key.split("/") if isinstance(key, str) else []
    if len(parts) != 3:
        raise InvalidArchive(f"unexpected object key {key!r}")
    return keys.file_key(*parts)


async def restore_archive(sat: Satchel, path: str) -> None:
    """Replace the database content and the stored objects with the archive's.

    Files first, then the database in one transaction, then objects the archive doesn't
    name are deleted: a crash part-way leaves at worst orphans, never a row without its file.
    """
    check_archive(path)
    storage = sat.storage()
    kept: set[str] = set()
    with zipfile.ZipFile(path) as zf:
        with zf.open("files.jsonl") as listing:
            for entry in _lines(listing):
                key = _checked_key(entry.get("key"))
                await _restore_object(storage, zf, key, entry, sat.spool.folder())
                kept.add(key)
        await sat.db.write(_restore_database, sat, zf)
    async for obj in storage.list_objects():
        owner = keys.owner(obj.key)  # None: not a record's file or thumb, so left alone
        if owner is not None and keys.file_key(*owner) not in kept:
            await storage.delete(obj.key)
    await sat.reload()


async def _restore_object(storage: Storage, zf: zipfile.ZipFile, key: str, entry: dict[str, Any], tmp_dir: str) -> None:
    fd, temp = tempfile.mkstemp(dir=tmp_dir)
    try:
        with os.fdopen(fd, "wb") as out, zf.open(f"storage/{key}") as member:
            await anyio.to_thread.run_sync(shutil.copyfileobj, member, out, CHUNK)
        metadata = {str(k): str(v) for k, v in (entry.get("metadata") or {}).items()}
        await storage.put_file(key, temp, str(entry.get("contentType") or "application/octet-stream"), metadata)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


def _restore_database(conn: Connection, sat: Satchel, zf: zipfile.ZipFile) -> None:
    versions.bump(conn)  # first: the schema lock, and every process reloads once this commits
    # Views first: PostgreSQL won't drop a table a view reads.
    for data in sorted(store.load_collections(conn), key=lambda d: d["type"] != "view"):
        delete_collection(conn, Collection(data))
    with zf.open("collections.jsonl") as listing:
        collections = [Collection(data) for data in _lines(listing)]
    for collection in collections:
        if collection.is_view:
            store.save_collection(conn, collection.data, is_new=True)
            continue
        create_collection(conn, collection)
        table = table_for(collection)
        with zf.open(f"records/{collection.id}.jsonl") as rows:
            batch: list[dict[str, Any]] = []
            for row in _lines(rows):
                batch.append(row)
                if len(batch) == ROWS_PER_INSERT:
                    conn.execute(table.insert(), batch)
                    batch = []
            if batch:
                conn.execute(table.insert(), batch)
    views.rebuild(conn, Schema(collections), [c for c in collections if c.is_view], refused=None)
    settings = orjson.loads(zf.read("settings.json") or b"{}")
    current = orjson.loads(store.get_param(conn, SETTINGS_KEY) or "{}")
    for name in DEPLOYMENT_SETTINGS:
        settings.pop(name, None)
        if name in current:
            settings[name] = current[name]
    store.set_param(conn, SETTINGS_KEY, orjson.dumps(settings).decode())
    bootstrap(conn)  # an archive an older Satchel made lacks what it has since gained
