"""The storage protocol every backend implements (local disk, S3, memory).

Keys are built by `satchel.storage.keys`, never joined from user text. Methods are
async so that each backend decides how it blocks: local disk answers stat inline,
S3 hands its calls to a worker thread.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field


class StorageError(Exception):
    """A backend could not do what was asked (network, permissions, full disk)."""


class StorageInitError(StorageError):
    """The backend cannot start at all (PocketBase: "Filesystem initialization failure.")."""


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    modified: float  # unix seconds, used for Last-Modified
    content_type: str  # the stored (sniffed) type; "application/octet-stream" when unknown
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Opened:
    """An object's info and its whole body, to be read to the end (a download)."""

    info: ObjectInfo
    body: AsyncIterator[bytes]


@dataclass(frozen=True)
class StoredObject:
    """An entry found by a listing: an object, or debris of a write that never finished."""

    key: str
    size: int
    modified: float  # unix seconds: last write (local), creation or upload start (S3)


class Storage:
    """Base class: backends implement every method below."""

    async def stat(self, key: str) -> ObjectInfo | None:
        """Return the object's info, or None when there is no such object."""
        raise NotImplementedError("subclasses of Storage must provide a stat() method")

    async def open(self, key: str) -> Opened | None:
        """The object's info and whole body, or None: one request where the backend can (S3's GET)."""
        info = await self.stat(key)
        return None if info is None else Opened(info, self.iter_range(key, 0, info.size))

    async def put_file(
        self, key: str, path: str, content_type: str, metadata: dict[str, str] | None = None
    ) -> None:
        """Store the file at `path` under `key`, atomically (readers never see half an object)."""
        raise NotImplementedError("subclasses of Storage must provide a put_file() method")

    async def put_bytes(
        self, key: str, data: bytes, content_type: str, metadata: dict[str, str] | None = None
    ) -> None:
        """Store small `data` (thumbs, test objects) under `key`, atomically."""
        raise NotImplementedError("subclasses of Storage must provide a put_bytes() method")

    def iter_range(self, key: str, start: int, length: int) -> AsyncIterator[bytes]:
        """Yield `length` bytes of the object from `start`, in chunks, never the whole object."""
        raise NotImplementedError("subclasses of Storage must provide an iter_range() method")

    async def download_to(self, key: str, path: str) -> None:
        """Copy the whole object to the local file `path` (thumb generation reads from there)."""
        raise NotImplementedError("subclasses of Storage must provide a download_to() method")

    def local_path(self, key: str) -> str | None:
        """The object's path on this machine when it has one (zero-copy sendfile), else None."""
        return None

    async def delete(self, key: str) -> None:
        """Delete one object; a missing object is not an error."""
        raise NotImplementedError("subclasses of Storage must provide a delete() method")

    async def delete_prefix(self, prefix: str) -> None:
        """Delete every object under `prefix` (which ends with "/"), and empty folders."""
        raise NotImplementedError("subclasses of Storage must provide a delete_prefix() method")

    def list_objects(self) -> AsyncIterator[StoredObject]:
        """Yield every stored object a page at a time (never the whole listing in memory)."""
        raise NotImplementedError("subclasses of Storage must provide a list_objects() method")

    async def remove_partials(self, before: float) -> list[StoredObject]:
        """Remove the debris of writes that never finished (a crash mid-put), last touched
        before `before` (unix seconds), and return it; a write still going on is newer."""
        raise NotImplementedError("subclasses of Storage must provide a remove_partials() method")
