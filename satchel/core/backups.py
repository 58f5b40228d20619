"""Backups as PocketBase keeps them: zips in `{dir}/backups` (or in the bucket the `backups.s3`
settings name), made and restored one at a time across the whole cluster, and made on the
`backups.cron` schedule by one process of the cluster."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from ..files.names import snakecase
from ..storage.base import Storage, StorageError, StoredObject
from ..storage.local import LocalStorage
from .backup_archive import restore_archive, write_archive
from .file_deletes import clear_backup_running, mark_backup_running
from .state import Satchel, s3_storage

log = logging.getLogger(__name__)

BUSY = "Try again later - another backup/restore operation has already been started."
NAME = re.compile(r"^[a-z0-9_-]+\.zip$")
ZIP = "application/zip"
LOCK_KEY = "__satchelBackup__"
AUTO_JOB_ID = "__pbAutoBackup__"
AUTO_PREFIX = "@auto_pb_backup_"
# a key is one plain file name: no folders, no hidden files, not a sidecar of local storage
_KEY = re.compile(r"^(?!\.)(?!.*\.attrs$)[^/\\\x00-\x1f\x7f]{1,255}$")


class BackupBusy(Exception):
    """Another backup or restore is running in this cluster."""


def backups_storage(sat: Satchel) -> Storage:
    """Where backups are kept now: the `backups.s3` bucket when enabled, else `{dir}/backups`."""
    s3 = sat.settings["backups"].get("s3") or {}
    if s3.get("enabled"):
        return s3_storage(s3)
    return LocalStorage(os.path.join(sat.config.data_dir, "backups"))


def valid_key(key: str) -> bool:
    return bool(_KEY.match(key)) and key not in (".", "..")


async def list_backups(sat: Satchel) -> list[StoredObject]:
    found = [obj async for obj in backups_storage(sat).list_objects() if valid_key(obj.key)]
    return sorted(found, key=lambda obj: obj.key)


async def exists(sat: Satchel, key: str) -> bool:
    return valid_key(key) and await backups_storage(sat).stat(key) is not None


def generated_name(sat: Satchel, prefix: str = "pb_backup_") -> str:
    """PocketBase's default name: prefix, the app name in snake case, the UTC time."""
    app = snakecase(sat.settings["meta"].get("appName", ""))[:50]
    return f"{prefix}{app}_{datetime.now(UTC).strftime('%Y%m%d%H%M%S')}.zip"


@contextlib.asynccontextmanager
async def exclusive(sat: Satchel, key: str) -> AsyncIterator[None]:
    """Hold the cluster's one backup/restore slot for `key`, or raise BackupBusy."""
    async with sat.db.locks.hold(LOCK_KEY, 0) as held:
        if not held or sat.active_backup:
            raise BackupBusy(BUSY)
        sat.active_backup = key
        try:
            yield
        finally:
            sat.active_backup = ""


async def create_backup(sat: Satchel, name: str = "") -> str:
    """Snapshot the database and the stored files into a new backup; its key is returned."""
    name = name or generated_name(sat)
    async with exclusive(sat, name):
        fd, temp = tempfile.mkstemp(dir=sat.spool.folder(), suffix=".zip")
        os.close(fd)
        await sat.db.write(mark_backup_running)
        try:
            await write_archive(sat, temp)
        finally:
            await sat.db.write(clear_backup_running)
        try:
            await backups_storage(sat).put_file(name, temp, ZIP)
        finally:
            os.unlink(temp)
    return name


async def restore_backup(sat: Satchel, key: str) -> None:
    """Replace this deployment's data and files with the backup's; every process reloads."""
    async with exclusive(sat, key):
        storage = backups_storage(sat)
        local = storage.local_path(key)
        if local is not None:
            await restore_archive(sat, local)
            return
        fd, temp = tempfile.mkstemp(dir=sat.spool.folder(), suffix=".zip")
        os.close(fd)
        try:
            await storage.download_to(key, temp)
            await restore_archive(sat, temp)
        finally:
            os.unlink(temp)


def schedule_auto_backups(sat: Satchel) -> None:
    """Make backups on the `backups.cron` schedule, rescheduled whenever the settings change."""
    sat.crons.follow(AUTO_JOB_ID, lambda settings: str(settings["backups"].get("cron") or ""), auto_backup)


async def auto_backup(sat: Satchel) -> None:
    """The scheduled job: a backup named as PocketBase names its automatic ones, then only
    the newest `cronMaxKeep` of those kept (pruned even when this one failed, as PocketBase does)."""
    name = generated_name(sat, AUTO_PREFIX)
    try:
        await create_backup(sat, name)
    except BackupBusy:
        log.warning("automatic backup %s not made: another backup or restore is running", name)
    except Exception:
        log.exception("automatic backup %s failed", name)
    await prune_auto_backups(sat, sat.settings["backups"]["cronMaxKeep"])


async def prune_auto_backups(sat: Satchel, keep: int) -> None:
    """Delete all but the `keep` newest automatic backups (0 keeps them all); others are never touched."""
    if keep <= 0:
        return
    found = [obj for obj in await list_backups(sat) if obj.key.startswith(AUTO_PREFIX)]
    found.sort(key=lambda obj: (obj.modified, obj.key), reverse=True)  # names break a tie of times
    storage = backups_storage(sat)
    for obj in found[keep:]:
        try:
            await storage.delete(obj.key)
        except StorageError:
            log.exception("old automatic backup %s not removed", obj.key)
