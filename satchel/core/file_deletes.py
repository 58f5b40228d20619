"""While a backup copies the stored files, files that rows stop naming are left in place.

A backup reads the database in one snapshot, then copies the files that snapshot names. A file
deleted in between would be missing from the archive, so while the backup runs, the deletes that
follow a commit are skipped: the file becomes an orphan that the sweeper removes later. A deleter
commits its row before it looks at the flag, and the backup sets the flag before its snapshot, so
any file the snapshot names is still there when it is copied.
"""

from __future__ import annotations

import time

from sqlalchemy.engine import Connection

from ..db import store
from .state import Satchel

BACKUP_RUNNING = "backup_running"
#: a flag left behind by a backup that crashed stops counting after this many seconds
STALE_AFTER = 6 * 3600


def mark_backup_running(conn: Connection) -> None:
    store.set_param(conn, BACKUP_RUNNING, repr(time.time()))


def clear_backup_running(conn: Connection) -> None:
    store.set_param(conn, BACKUP_RUNNING, "")


async def deletes_allowed(sat: Satchel) -> bool:
    """False while a backup anywhere in the cluster is copying files."""
    started = await sat.db.read(store.get_param, BACKUP_RUNNING)
    return not started or time.time() - float(started) > STALE_AFTER
