"""PocketBase's stored files carried into Satchel's storage: streamed one at a time, with their
content type and metadata (so local `.attrs` sidecars come out byte for byte), thumbs left
behind (Satchel makes its own on demand).

Both ends are Satchel `Storage` backends, so local disk and S3 work either way round. A copy
is skipped when the target already holds the object with the same size, type and metadata
(writes are atomic, so an object present is whole): a re-run after an interruption copies
only what is missing. Verification reads every byte of both sides.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import anyio

from ...storage import keys
from ...storage.base import ObjectInfo, Storage
from ...storage.local import ATTRS_EXT, LocalStorage

T = TypeVar("T")
#: files copied or checked at once: S3 answers each small object in tens of milliseconds
AT_ONCE = 8


@dataclass
class FileTally:
    """Per collection id: files, bytes; and what the copy and the check found."""

    #: every record file's key: records' file names are looked up here, not asked of the storage
    #: one by one (a HEAD each on S3); about 100 bytes a file
    keys: set[str] = field(default_factory=set)
    files: Counter[str] = field(default_factory=Counter)
    bytes: Counter[str] = field(default_factory=Counter)
    copied: int = 0
    skipped: int = 0
    mismatched: list[str] = field(default_factory=list)  # keys
    others: int = 0  # objects not shaped like a record's file (thumbs among them), not carried


async def record_files(source: Storage, tally: FileTally) -> AsyncIterator[tuple[str, ObjectInfo]]:
    """Each record file of `source` with its info; thumbs and foreign objects only counted."""
    async for obj in source.list_objects():
        if not keys.is_record_file(obj.key):
            tally.others += 1
            continue
        info = await source.stat(obj.key)
        if info is not None:  # gone since the listing: nothing to carry
            yield obj.key, info


async def each(items: AsyncIterator[T], work: Callable[[T], Awaitable[None]], limit: int = AT_ONCE) -> None:
    """`work` on every item, `limit` at once; items are read only as fast as slots free up, so
    a listing of any length never piles up in memory. The first failure is raised as it is."""
    slots = anyio.Semaphore(limit)

    async def run(item: T) -> None:
        try:
            await work(item)
        finally:
            slots.release()

    try:
        async with anyio.create_task_group() as group:
            async for item in items:
                await slots.acquire()
                group.start_soon(run, item)
    except BaseExceptionGroup as failures:
        raise failures.exceptions[0] from None


def _same(a: ObjectInfo, b: ObjectInfo | None) -> bool:
    return b is not None and (a.size, a.content_type, a.metadata) == (b.size, b.content_type, b.metadata)


async def copy_file(source: Storage, target: Storage, key: str, info: ObjectInfo, tmp_dir: str) -> bool:
    """Put the object into `target` unless it already holds it; True when it was copied."""
    if _same(info, await target.stat(key)):
        return False
    path = source.local_path(key)
    if path is not None:
        await target.put_file(key, path, info.content_type, info.metadata)
        return True
    fd, temp = tempfile.mkstemp(dir=tmp_dir)
    os.close(fd)
    try:
        await source.download_to(key, temp)
        await target.put_file(key, temp, info.content_type, info.metadata)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
    return True


async def matches(source: Storage, target: Storage, key: str, info: ObjectInfo, same_place: bool) -> bool:
    """Whether `target` holds the object as `source` does: size, type, metadata, every byte, and
    between two local disks the `.attrs` sidecar byte for byte. One bucket serving both sides
    (`same_place`) only has to show the object to Satchel's credentials."""
    if not _same(info, await target.stat(key)):
        return False
    if same_place:
        return True
    if await _md5(source, key, info.size) != await _md5(target, key, info.size):
        return False
    if not (isinstance(source, LocalStorage) and isinstance(target, LocalStorage)):
        return True  # e.g. S3 behind its disk cache: a local path, but no sidecar
    here, there = source.local_path(key), target.local_path(key)
    if here is not None and there is not None and os.path.exists(here + ATTRS_EXT):
        return _read(here + ATTRS_EXT) == _read(there + ATTRS_EXT)
    return True


async def _md5(storage: Storage, key: str, size: int) -> bytes:
    digest = hashlib.md5()
    async for chunk in storage.iter_range(key, 0, size):
        digest.update(chunk)
    return digest.digest()


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None
