"""The upload spool, `{dir}/.tmp`: each process writes its uploads in flight in a folder of its own.

The process holds an exclusive `flock` on the folder's `.lock` file for as long as it lives.
The kernel drops that lock when the process ends, however it ends (kill -9 included), so any
process on the host can tell a dead owner's folder from a live one: no clocks, no pids that
may be reused, and several processes may sweep at once (each only removes a folder whose lock
it holds). `.tmp` belongs to Satchel alone: anything else found there is removed once it is
older than the grace period.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
import tempfile
import time
from contextlib import suppress

LOCK_NAME = ".lock"


class Spool:
    """This process's folder under `root`, made and locked on first use."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._folder: str | None = None
        self._lock_fd = -1
        self._pid = 0

    def folder(self) -> str:
        """The folder uploads spool to now (a new one after a fork: a lock is not inherited)."""
        if self._folder is None or self._pid != os.getpid():
            self._folder, self._lock_fd = _locked_folder(self.root)
            self._pid = os.getpid()
        return self._folder

    def close(self) -> None:
        """Remove this process's folder (on a clean shutdown; after a crash a sweep does it)."""
        if self._folder is not None and self._pid == os.getpid():
            shutil.rmtree(self._folder, ignore_errors=True)
            os.close(self._lock_fd)
        self._folder, self._lock_fd = None, -1


def _locked_folder(root: str) -> tuple[str, int]:
    """A new folder under `root` with its `.lock` held, checked to have survived a concurrent sweep.

    Between creating the lock file and locking it, a sweeper may take the lock and remove
    the folder; so after locking, the lock file must still be the one this process opened.
    """
    os.makedirs(root, exist_ok=True)
    while True:
        folder = tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root)
        lock = os.path.join(folder, LOCK_NAME)
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        except FileNotFoundError:  # swept before the lock file was made
            continue
        fcntl.flock(fd, fcntl.LOCK_EX)
        if _is_open_as(lock, fd):
            return folder, fd
        os.close(fd)


def sweep(root: str, grace: float, now: float | None = None) -> list[tuple[str, int]]:
    """Remove the folders of dead processes, and other entries older than `grace` seconds.

    Returns each removed entry's path and its size in bytes.
    """
    before = (time.time() if now is None else now) - grace
    removed = []
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return []
    for name in names:
        path = os.path.join(root, name)
        with suppress(FileNotFoundError):  # another sweeper was quicker
            st = os.lstat(path)
            size = _size(path, st)
            stale = st.st_mtime < before
            if stat.S_ISDIR(st.st_mode):  # lstat: a link to a folder is removed as a link
                gone = _remove_if_unlocked(path, stale)
            elif gone := stale:
                os.remove(path)
            if gone:
                removed.append((path, size))
    return removed


def _remove_if_unlocked(folder: str, stale: bool) -> bool:
    """Remove a folder whose lock nobody holds; True when it did.

    A folder with no lock file is taken only when `stale`, by making the lock file and locking
    it: its maker may be between `mkdtemp` and locking, and must then find its lock file gone
    (and make another folder) rather than have it removed after it checked.
    """
    lock = os.path.join(folder, LOCK_NAME)
    try:
        fd = os.open(lock, os.O_RDWR | (os.O_CREAT if stale else 0), 0o600)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        # Another sweeper may have removed the file we locked, and a maker put its own there.
        if not _is_open_as(lock, fd):
            return False
        # We hold the lock: remove the folder before letting go, so no other sweeper can
        # see it half removed. Closing the descriptor releases the lock.
        shutil.rmtree(folder, ignore_errors=True)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def _is_open_as(path: str, fd: int) -> bool:
    """Whether `path` still names the file open as `fd` (a lock held on a removed file guards nothing)."""
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _size(path: str, st: os.stat_result) -> int:
    """Bytes under `path` (a file, or a folder's files); `st` is its lstat."""
    if not stat.S_ISDIR(st.st_mode):
        return st.st_size
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            with suppress(FileNotFoundError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total
