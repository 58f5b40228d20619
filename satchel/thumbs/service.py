"""Make thumbs on first request, once, off the event loop (PocketBase's `fileApi.createThumb`).

Concurrent requests for one thumb share one generation in a process, and a cluster lock (see
db/locks.py) makes it one generation across processes and instances: whoever gets the lock
second finds the thumb made. A fixed number of slots bounds how many run at once, a memory
budget bounds the pixels they decode (budget.py), and a request that waits longer than
`max_wait` for the lock, a slot or memory gives up. Small images are made in a worker thread;
big ones in a process of their own (worker.py), which keeps their lock-holding work and their
memory away from the server's requests.
Any failure only means "serve the original", so `ensure` answers with the thumb's info or None.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from ..db.locks import Hold
from ..storage.base import ObjectInfo, Storage, StorageError
from .budget import MemoryBudget, decoded_bytes
from .generate import ThumbError, make_thumb
from .spec import ThumbSize, parse_thumb
from .worker import NO_THUMB

log = logging.getLogger(__name__)

DEFAULT_WORKERS = (os.cpu_count() or 1) + 2  # PocketBase's PB_THUMBS_MAX_WORKERS default
DEFAULT_MAX_WAIT = 60.0  # seconds, PocketBase's PB_THUMBS_MAX_WAIT default
DEFAULT_MEMORY = 1 << 30  # bytes of decoded images per process
OWN_PROCESS_FROM = 64 << 20  # decoded bytes from which a thumb is made in a process of its own (16 Mpx)
WORKER = [sys.executable, "-m", "satchel.thumbs.worker"]


class Thumbs:
    """Creates missing thumbs in `storage`, at most `max_workers` at a time."""

    def __init__(
        self,
        storage: Storage,
        max_workers: int = DEFAULT_WORKERS,
        max_pixels: int = 100_000_000,
        max_wait: float = DEFAULT_MAX_WAIT,
        hold: Hold | None = None,
        memory: int = DEFAULT_MEMORY,
        tmp_dir: Callable[[], str | None] = lambda: None,
        own_process_from: int = OWN_PROCESS_FROM,
    ) -> None:
        self.storage = storage
        self._hold = hold or _unlocked
        self.tmp_dir = tmp_dir  # where copies of remote originals go (None: the system's)
        self.max_pixels = max_pixels
        self.max_wait = max_wait
        self.own_process_from = own_process_from
        self._pool = ThreadPoolExecutor(max_workers, thread_name_prefix="thumbs")
        self._slots = asyncio.Semaphore(max_workers)
        self._memory = MemoryBudget(memory)
        self._pending: dict[str, asyncio.Task[ObjectInfo | None]] = {}

    async def ensure(self, original_key: str, thumb_key: str, size: str, stored_type: str) -> ObjectInfo | None:
        """The thumb's info when it exists or was made now; None means serve the original."""
        try:
            info = await self.storage.stat(thumb_key)
        except Exception as exc:  # noqa: BLE001 - any storage failure means: serve the original
            log.warning("thumb %s: cannot check the storage: %s", thumb_key, exc)
            return None
        if info is not None:
            return info
        task = self._pending.get(thumb_key)
        if task is None:
            task = asyncio.ensure_future(self._create(original_key, thumb_key, size, stored_type))
            self._pending[thumb_key] = task
            task.add_done_callback(lambda done: self._forget(thumb_key, done))
        # Shielded: one caller going away must not cancel the generation others wait for.
        return await asyncio.shield(task)

    def _forget(self, thumb_key: str, task: asyncio.Task[ObjectInfo | None]) -> None:
        if self._pending.get(thumb_key) is task:
            del self._pending[thumb_key]

    async def _create(self, original_key: str, thumb_key: str, size: str, stored_type: str) -> ObjectInfo | None:
        """Generate and store one thumb, and return its info; never raises."""
        try:
            thumb = parse_thumb(size)
            async with self._hold(thumb_key, self.max_wait) as held:
                if not held:
                    raise TimeoutError("another process is still making it")
                made_elsewhere = await self.storage.stat(thumb_key)
                if made_elsewhere is not None:
                    return made_elsewhere
                async with asyncio.timeout(self.max_wait):
                    await self._slots.acquire()
                try:
                    async with self._local_file(original_key) as path:
                        data, content_type = await self._generate(path, thumb, size, stored_type)
                    await self.storage.put_bytes(thumb_key, data, content_type)
                finally:
                    self._slots.release()
            return await self.storage.stat(thumb_key)
        except (ThumbError, StorageError, ValueError, TimeoutError, OSError) as exc:
            log.warning("thumb %s not made: %s", thumb_key, exc)
            return None
        except Exception:
            log.exception("thumb %s not made", thumb_key)
            return None

    async def _generate(self, path: str, thumb: ThumbSize, size: str, stored_type: str) -> tuple[bytes, str]:
        """make_thumb in a worker thread, or for a big image in a worker process, once the
        memory it will decode is reserved."""
        loop = asyncio.get_running_loop()
        need = await loop.run_in_executor(self._pool, decoded_bytes, path)
        async with asyncio.timeout(self.max_wait):
            reserved = await self._memory.acquire(need)
        try:
            if need >= self.own_process_from:
                return await loop.run_in_executor(self._pool, _make_in_own_process, path, size, stored_type, self.max_pixels, self.max_wait)
            return await loop.run_in_executor(self._pool, make_thumb, path, thumb, stored_type, self.max_pixels)
        finally:
            self._memory.release(reserved)

    @asynccontextmanager
    async def _local_file(self, key: str) -> AsyncIterator[str]:
        """A path to the object's bytes on this machine: its own file, or a temp copy."""
        path = self.storage.local_path(key)
        if path is not None:
            yield path
            return
        fd, temp = tempfile.mkstemp(prefix="satchel-thumb-", dir=self.tmp_dir())
        os.close(fd)
        try:
            await self.storage.download_to(key, temp)
            yield temp
        finally:
            os.unlink(temp)


def _make_in_own_process(path: str, size: str, stored_type: str, max_pixels: int, timeout: float) -> tuple[bytes, str]:
    """make_thumb in a worker process (worker.py); one that crashes or overruns `timeout` is no thumb."""
    try:
        run = subprocess.run([*WORKER, path, size, stored_type, str(max_pixels)], capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise ThumbError(f"the thumb worker took over {timeout:g} s") from None
    if run.returncode == NO_THUMB:
        raise ThumbError(run.stderr.decode(errors="replace").strip())
    content_type, newline, data = run.stdout.partition(b"\n")
    if run.returncode != 0 or not newline:
        reason = run.stderr.decode(errors="replace").strip().splitlines()[-1:] or [f"exit status {run.returncode}"]
        raise ThumbError(f"the thumb worker failed: {reason[0]}")
    return data, content_type.decode()


@asynccontextmanager
async def _unlocked(key: str, wait: float) -> AsyncIterator[bool]:
    """The lock of a Thumbs on its own (tests, one process): always held at once."""
    yield True
