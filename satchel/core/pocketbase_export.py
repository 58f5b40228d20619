"""`satchel export-pocketbase OUT_DIR`: this deployment as a `pb_data` that PocketBase 0.40.6 opens
and serves, so leaving Satchel is as easy as coming.

What goes there: `data.db` in PocketBase's layout (db/pocketbase_layout.py) with every collection as
PocketBase stores it (ids, fields, indexes, rules, auth options with their token secrets, so
passwords and issued tokens keep working), every row as read in one snapshot, the settings
(storage switched to the local `storage/`), and PocketBase's own system collections Satchel
does without (`_mfas`, `_otps`, `_externalAuths`, `_authOrigins`), empty. Then every record
file, from local disk or S3, into `storage/` with its `.attrs` as PocketBase writes them.
Thumbs are left out: PocketBase makes them again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
import sqlalchemy as sa

from ..db import store
from ..db.pocketbase_layout import COLLECTION_COLUMNS, PocketBaseWriter
from ..storage.base import Storage
from ..storage.local import LocalStorage
from .backup_archive import record_files, snapshot
from .collection_model import Collection
from .schema import columns, table_for
from .state import Satchel, stored_settings

log = logging.getLogger("satchel.export")
ROWS_PER_READ = 500


@dataclass
class ExportSummary:
    records: dict[str, int] = field(default_factory=dict)  # collection name -> rows
    files: int = 0
    bytes: int = 0


async def export_pocketbase(sat: Satchel, out_dir: str) -> ExportSummary:
    """Write the `pb_data` into `out_dir`, which must be new or empty; nothing is left of a failed one."""
    if os.path.exists(out_dir) and (not os.path.isdir(out_dir) or os.listdir(out_dir)):
        raise ValueError(f"{out_dir} exists and is not an empty directory")
    os.makedirs(out_dir, exist_ok=True)
    summary = ExportSummary()
    try:
        summary.records = await anyio.to_thread.run_sync(_export_database, sat, os.path.join(out_dir, "data.db"))
        await _export_files(sat.storage(), LocalStorage(os.path.join(out_dir, "storage")), sat.spool.folder(), summary)
    except BaseException:
        shutil.rmtree(out_dir, ignore_errors=True)
        raise
    return summary


def collection_row(data: dict[str, Any]) -> dict[str, Any]:
    """A collection definition as a row of PocketBase's `_collections`: what is not a column of
    its own (auth settings, token secrets) goes into `options`."""
    row = {name: data.get(name) for name in COLLECTION_COLUMNS}
    row["system"] = bool(data.get("system"))
    row["indexes"] = data.get("indexes") or []
    row["options"] = {key: value for key, value in data.items() if key not in COLLECTION_COLUMNS}
    return row


def _export_database(sat: Satchel, path: str) -> dict[str, int]:
    writer = PocketBaseWriter(path)
    try:
        counts: dict[str, int] = {}
        with snapshot(sat) as conn:
            views: list[tuple[str, str]] = []
            for data in store.load_collections(conn):
                collection = Collection(data)
                if collection.is_view:  # no rows of its own: made once every table is there
                    writer.add_collection_row(collection_row(data))
                    views.append((collection.name, data.get("viewQuery") or ""))
                    continue
                writer.add_collection(collection_row(data), columns(collection), data.get("indexes") or [])
                table = table_for(collection)
                rows = conn.execute(sa.select(table).execution_options(yield_per=ROWS_PER_READ))
                counts[collection.name] = writer.add_rows(collection.name, list(table.c.keys()), (tuple(row) for row in rows))
            settings = stored_settings(conn)
        for name in writer.add_views(views):
            log.warning("view collection %s exported without its view: SQLite can't run its query", name)
        settings["s3"] = {**settings["s3"], "enabled": False}  # the files are in storage/ now
        writer.set_param("settings", settings)
        writer.finish(time.time_ns() // 1000)
    except BaseException:
        writer.close()
        raise
    return counts


async def _export_files(source: Storage, target: LocalStorage, tmp_dir: str, summary: ExportSummary) -> None:
    """Each record file into `target`, which writes the `.attrs` PocketBase reads."""
    async for obj, info in record_files(source):
        path = source.local_path(obj.key)
        if path is not None:
            await target.put_file(obj.key, path, info.content_type, info.metadata)
        else:
            fd, temp = tempfile.mkstemp(dir=tmp_dir)
            os.close(fd)
            try:
                await source.download_to(obj.key, temp)
                await target.put_file(obj.key, temp, info.content_type, info.metadata)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)
        summary.files += 1
        summary.bytes += info.size
