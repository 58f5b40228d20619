"""A read-through cache of a remote storage's small objects on local disk (`{dir}/cache/s3`).

Why serving a copy is safe: a stored key never names other bytes. Every upload gets a new
random-suffixed name, a thumb's key is its size plus that name, and the download handler serves
only a name the record holds now, checked before any storage access. So a copy can be stale
only in being there after its object is gone, and then no record names it. Deletes made
through this process drop their copies at once; another instance's copies age out (LRU).

Layout, under `{root}/{namespace}` (one namespace per endpoint and bucket):
  data/{key}  the object's bytes
  info/{key}  what the backend answered about it (size, Last-Modified, type, metadata), JSON
Only objects read whole are copied; for one asked only for its info (a HEAD, a range, a
thumb's original) each process keeps what S3 answered in memory, by the same reasoning.
The info is renamed into place before the bytes, both from temp files, and an entry counts
only when both exist and the sizes agree, so several processes (and a crash at any point)
never make a half-written copy servable. A hit is one `stat`, answered from memory after the
first sight of that file in this process. The bytes are served like local disk's (read
inline, small files in one read). The total stays under `max_bytes`: a process whose writes
would pass it removes the least recently read entries (reads set the atime, once a minute).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import stat as stat_mode
import time
from collections.abc import AsyncIterator
from contextlib import suppress
from typing import TypeVar

import anyio
import anyio.to_thread
import orjson

from .base import ObjectInfo, Opened, Storage, StorageError, StoredObject
from .local import TEMP_NAME, create_temp, read_range, remove_partial_files, remove_tree, walk_files, write_atomic

log = logging.getLogger(__name__)

V = TypeVar("V")

SEEN_SIZE = 4096  # entries whose info a process remembers (cleared when full)
TOUCH_EVERY = 60  # seconds: a hit refreshes its entry's atime at most this often
LOW_WATER = 0.9  # an eviction removes entries until the total is under this share of the bound
RESCAN_SHARE = 8  # a process counts the whole cache again after writing max_bytes / this


def namespace(*parts: str) -> str:
    """A folder name for one endpoint and bucket: a key in another bucket is another object."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def _keep(memo: dict[str, V], key: str, value: V) -> V:
    """Store `value` in a per-process memo, emptied when it holds SEEN_SIZE entries: bounded
    without the bookkeeping of an LRU, and a miss only costs a stat or a HEAD again."""
    if len(memo) >= SEEN_SIZE:
        memo.clear()
    memo[key] = value
    return value


def _encode_info(info: ObjectInfo) -> bytes:
    return orjson.dumps({"size": info.size, "modified": info.modified, "type": info.content_type, "metadata": info.metadata})


def _decode_info(raw: bytes) -> ObjectInfo | None:
    try:
        data = orjson.loads(raw)
        return ObjectInfo(int(data["size"]), float(data["modified"]), str(data["type"]), dict(data["metadata"]))
    except (ValueError, TypeError, KeyError):
        return None


class CachedStorage(Storage):
    """`inner` (S3) with copies of its objects up to `max_object` bytes under `root`."""

    def __init__(self, inner: Storage, root: str, space: str, max_bytes: int, max_object: int) -> None:
        self.inner = inner
        self.root = os.path.abspath(root)
        base = os.path.join(self.root, space)
        self._data = os.path.join(base, "data")
        self._infos = os.path.join(base, "info")
        self.max_bytes = max_bytes
        self.max_object = max_object
        self._seen: dict[str, tuple[tuple[int, int, int], ObjectInfo]] = {}
        self._path_memo: dict[str, tuple[str, str]] = {}
        self._heads: dict[str, ObjectInfo] = {}  # what S3 answered for objects without a copy here
        self._total: int | None = None  # bytes in the cache at the last count, None before one
        self._added = 0  # bytes this process wrote since
        self._evicting = False

    # ---- reads --------------------------------------------------------------------------

    def _paths(self, key: str) -> tuple[str, str]:
        """The entry's data and info paths; keys come from storage.keys, checked again here."""
        paths = self._path_memo.get(key)
        if paths is None:
            data = os.path.normpath(os.path.join(self._data, key))
            if not data.startswith(self._data + os.sep):
                raise StorageError(f"key escapes the cache: {key!r}")
            paths = _keep(self._path_memo, key, (data, os.path.join(self._infos, data[len(self._data) + 1 :])))
        return paths

    def _hit(self, key: str) -> tuple[str, ObjectInfo] | None:
        """The copy's path and info, or None: missing, or its bytes don't match its info."""
        data, info_path = self._paths(key)
        try:
            st = os.stat(data)
        except OSError:
            return None
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        seen = self._seen.get(key)
        if seen is not None and seen[0] == stamp:
            info = seen[1]
        else:
            read = self._read_info(info_path)
            if read is None or read.size != st.st_size or not stat_mode.S_ISREG(st.st_mode):
                return None  # a copy cut short or damaged: never served, written again
            info = _keep(self._seen, key, (stamp, read))[1]
        now = time.time()
        if st.st_atime < now - TOUCH_EVERY:  # the eviction's "recently read"
            with suppress(OSError):
                os.utime(data, ns=(int(now * 1e9), st.st_mtime_ns))
        return data, info

    @staticmethod
    def _read_info(path: str) -> ObjectInfo | None:
        try:
            with open(path, "rb") as f:
                return _decode_info(f.read())
        except OSError:
            return None

    def _remember(self, key: str, info: ObjectInfo) -> None:
        _keep(self._heads, key, info)

    async def stat(self, key: str) -> ObjectInfo | None:
        """A copy's info, else what S3 answered before (kept in memory), else S3's HEAD: the
        object itself is fetched only when it is read whole."""
        hit = self._hit(key)
        if hit is not None:
            return hit[1]
        info = self._heads.get(key)
        if info is None:
            info = await self.inner.stat(key)
            if info is not None:
                self._remember(key, info)
        return info

    async def open(self, key: str) -> Opened | None:
        hit = self._hit(key)
        if hit is not None:
            return Opened(hit[1], self._read(key, hit[0], 0, hit[1].size))
        opened = await self.inner.open(key)
        if opened is None:
            return None
        self._remember(key, opened.info)
        if opened.info.size > self.max_object:
            return opened
        data = await self._fill(key, opened)
        if data is None:  # not written (disk full, ...): its body is spent, so ask again
            return await self.inner.open(key)
        return Opened(opened.info, self._read(key, data, 0, opened.info.size))

    def iter_range(self, key: str, start: int, length: int) -> AsyncIterator[bytes]:
        hit = self._hit(key)
        if hit is not None:
            return self._read(key, hit[0], start, length)
        known = self._heads.get(key)
        if start == 0 and known is not None and length == known.size <= self.max_object:
            return self._whole(key)  # a whole small object (a thumb): copied as it is read
        return self.inner.iter_range(key, start, length)

    async def _whole(self, key: str) -> AsyncIterator[bytes]:
        opened = await self.open(key)
        if opened is None:
            raise StorageError(f"{key}: no such object")
        async for chunk in opened.body:
            yield chunk

    async def _read(self, key: str, path: str, start: int, length: int) -> AsyncIterator[bytes]:
        """The copy's bytes; when it went meanwhile (evicted, wiped), the backend's."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            chunks = self.inner.iter_range(key, start, length)
        else:
            chunks = read_range(fd, key, start, length)
        async for chunk in chunks:
            yield chunk

    def local_path(self, key: str) -> str | None:
        hit = self._hit(key)
        return hit[0] if hit else None

    async def download_to(self, key: str, path: str) -> None:
        hit = self._hit(key)
        if hit is not None:
            with suppress(FileNotFoundError):
                await anyio.to_thread.run_sync(shutil.copyfile, hit[0], path)
                return
        await self.inner.download_to(key, path)

    # ---- filling and eviction -----------------------------------------------------------

    async def _fill(self, key: str, opened: Opened) -> str | None:
        """Copy an opened object into the cache; its data path, or None when it could not be written."""
        data, info_path = self._paths(key)
        try:
            tmp, fd = create_temp(data)
        except OSError as exc:
            log.warning("s3 cache: cannot write %s: %s", key, exc)
            return None
        try:
            with os.fdopen(fd, "wb") as f:
                async for chunk in opened.body:
                    f.write(chunk)
                written = f.tell()
            if written != opened.info.size:
                log.warning("s3 cache: %s: %d bytes read where %d were announced", key, written, opened.info.size)
                return None
            write_atomic(info_path, [_encode_info(opened.info)])
            os.replace(tmp, data)
        except OSError as exc:
            log.warning("s3 cache: cannot write %s: %s", key, exc)
            return None
        finally:
            with suppress(FileNotFoundError):
                os.remove(tmp)
        self._added += written
        await self._bound()
        return data

    async def _bound(self) -> None:
        """Count the cache, and evict, when this process's writes may have passed the bound;
        it counts again now and then, since the other processes of the instance write too."""
        estimate = (self._total or 0) + self._added
        if self._evicting or (self._total is not None and estimate <= self.max_bytes and self._added * RESCAN_SHARE < self.max_bytes):
            return
        self._evicting = True
        try:
            self._total = await anyio.to_thread.run_sync(self._evict)
            self._added = 0
        except OSError as exc:  # e.g. permissions: the copies stay, the request goes on
            log.warning("s3 cache: cannot evict from %s: %s", self.root, exc)
        finally:
            self._evicting = False

    def _evict(self) -> int:
        """Remove the least recently read entries until the total is under LOW_WATER × the
        bound (when it is over the bound), and return the total left."""
        entries: dict[str, list] = {}  # key in its namespace -> [atime, bytes, data path, info path]
        for space in _subfolders(self.root):
            for kind in ("info", "data"):
                folder = os.path.join(space, kind)
                for key, st in walk_files(folder):
                    if TEMP_NAME.search(key):
                        continue
                    entry = entries.setdefault(f"{space}\0{key}", [0.0, 0, os.path.join(space, "data", key), os.path.join(space, "info", key)])
                    entry[1] += st.st_size
                    if kind == "data":
                        entry[0] = st.st_atime  # info without data stays at 0: it goes first
        total = sum(entry[1] for entry in entries.values())
        if total <= self.max_bytes:
            return total
        for _atime, size, data, info in sorted(entries.values(), key=lambda entry: entry[0]):
            if total <= self.max_bytes * LOW_WATER:
                break
            for path in (data, info):  # data first: a reader never finds bytes without their info
                with suppress(FileNotFoundError):
                    os.remove(path)
            total -= size
        return total

    # ---- writes and deletes: the backend's, and this process's copies go -----------------

    def _drop(self, key: str) -> None:
        self._heads.pop(key, None)
        for path in self._paths(key):  # data first, as in an eviction
            with suppress(FileNotFoundError):
                os.remove(path)

    async def put_file(self, key: str, path: str, content_type: str, metadata: dict[str, str] | None = None) -> None:
        await self.inner.put_file(key, path, content_type, metadata)
        self._drop(key)  # a restore writes a key again: its Last-Modified is new

    async def put_bytes(self, key: str, data: bytes, content_type: str, metadata: dict[str, str] | None = None) -> None:
        await self.inner.put_bytes(key, data, content_type, metadata)
        self._drop(key)

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)
        self._drop(key)

    async def delete_prefix(self, prefix: str) -> None:
        await self.inner.delete_prefix(prefix)
        for key in [key for key in self._heads if key.startswith(prefix)]:
            del self._heads[key]
        data, info = self._paths(prefix.rstrip("/"))
        for folder in (data, info):
            await anyio.to_thread.run_sync(remove_tree, folder)

    def list_objects(self) -> AsyncIterator[StoredObject]:
        return self.inner.list_objects()

    async def remove_partials(self, before: float) -> list[StoredObject]:
        """The backend's debris, and the cache's: temp files of copies cut short."""
        removed = await self.inner.remove_partials(before)
        # temp files of copies cut short, then the folders that drops and evictions left empty
        temps = await anyio.to_thread.run_sync(remove_partial_files, self.root, before)
        return removed + [StoredObject(f"cache/{temp.key}", temp.size, temp.modified) for temp in temps]


def _subfolders(root: str) -> list[str]:
    try:
        return [entry.path for entry in os.scandir(root) if entry.is_dir(follow_symlinks=False)]
    except FileNotFoundError:
        return []
