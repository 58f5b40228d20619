"""The sweeper: what a crash or a failed request leaves behind is found, removed and logged.

- Upload temp files in `{dir}/.tmp` whose process is gone: at every process start, and in the
  periodic job on the host that runs it (each process owns a locked folder there, see
  files/spool.py); a host's other instances clear theirs when they start.
- The periodic job, once per cluster (core/crons.py), also removes from the active storage the
  debris of writes that never finished (local temp files idle for `temp_grace` seconds, S3
  multipart uploads started that long ago), and orphans: record files and thumbs that no
  record names, older than `orphan_grace` seconds.

Files are written before the row that names them is committed, so a file no row names yet may
be an upload about to commit: `orphan_grace` must exceed the longest upload. Whenever the
sweeper cannot tell for sure (a failed query, a schema changing under it) it keeps the file.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

import anyio.to_thread

from ..db import store
from ..files import spool
from ..storage import keys
from ..storage.base import Storage, StorageError, StoredObject
from .fields.casting import to_str_list

if TYPE_CHECKING:
    from .state import Satchel

JOB_ID = "__satchelSweep__"
SCHEDULE = "30 * * * *"  # hourly, away from the top of the hour other jobs favour
BATCH = 500  # objects checked against the database per query

log = logging.getLogger("satchel.sweeper")


def sweep_spool(sat: Satchel) -> int:
    """Remove the upload temp files of processes that are gone; returns the bytes freed."""
    removed = spool.sweep(sat.config.tmp_dir, sat.config.temp_grace)
    for path, size in removed:
        log.warning("removed upload temp %s (%d bytes) left by a process that is gone", path, size)
    return sum(size for _, size in removed)


async def sweep(sat: Satchel) -> None:
    """The periodic job: temp files, unfinished writes and orphans, each kind logged as removed."""
    await anyio.to_thread.run_sync(sweep_spool, sat)
    storage = sat.storage()
    now = time.time()
    await remove_orphans(sat, storage, now - sat.config.orphan_grace)
    for partial in await storage.remove_partials(now - sat.config.temp_grace):  # local: empty folders too
        log.warning("removed unfinished write %s (%d bytes)", partial.key, partial.size)


async def remove_orphans(sat: Satchel, storage: Storage, before: float) -> list[StoredObject]:
    """Remove record files and thumbs last written before `before` that no record names."""
    await sat.refresh()
    removed: list[StoredObject] = []
    batch: list[tuple[StoredObject, tuple[str, str, str]]] = []
    async for obj in storage.list_objects():
        owner = keys.owner(obj.key) if obj.modified < before else None
        if owner is not None:
            batch.append((obj, owner))
        if len(batch) >= BATCH:
            removed += await _remove_unnamed(sat, storage, batch)
            batch = []
    if batch:
        removed += await _remove_unnamed(sat, storage, batch)
    return removed


async def _remove_unnamed(
    sat: Satchel, storage: Storage, batch: list[tuple[StoredObject, tuple[str, str, str]]]
) -> list[StoredObject]:
    by_collection: dict[str, list[tuple[StoredObject, str, str]]] = defaultdict(list)
    for obj, (collection_id, record_id, filename) in batch:
        by_collection[collection_id].append((obj, record_id, filename))
    removed = []
    for collection_id, entries in by_collection.items():
        named = await _named_files(sat, collection_id, {record_id for _, record_id, _ in entries})
        if named is None:
            continue
        for obj, record_id, filename in entries:
            if filename not in named.get(record_id, ()) and await _delete(storage, obj):
                removed.append(obj)
    return removed


async def _named_files(sat: Satchel, collection_id: str, record_ids: Iterable[str]) -> dict[str, set[str]] | None:
    """The file names each of these records names, by record id (a missing record names
    none, nor does any record of a deleted collection); None when the database can't say."""
    collection = sat.schema.by_id.get(collection_id)
    if collection is None:
        return {}
    columns = [field["name"] for field in collection.file_fields()]
    if not columns:
        return {}
    try:
        rows = await sat.db.read(store.select_columns, sat.schema.table(collection), columns, sorted(record_ids))
    except Exception:  # e.g. a schema change under us: keep everything, try next time
        log.warning("orphans of collection %s not checked", collection_id, exc_info=True)
        return None
    # Every value read as a list: a column being converted between single and multiple holds either.
    return {record_id: {name for value in values for name in to_str_list(value)} for record_id, values in rows.items()}


async def _delete(storage: Storage, obj: StoredObject) -> bool:
    try:
        await storage.delete(obj.key)
    except StorageError as exc:
        log.warning("orphan %s not removed: %s", obj.key, exc)
        return False
    log.warning("removed orphan %s (%d bytes)", obj.key, obj.size)
    return True
