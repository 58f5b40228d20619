"""An in-memory backend: the unit-test double, and a real `Storage` like the others.

Objects live in a dict, so a put replaces the entry in one step and readers never see
half an object. Nothing blocks, so no worker threads are involved.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from .base import ObjectInfo, Storage, StorageError, StoredObject

CHUNK_SIZE = 64 * 1024


@dataclass(frozen=True)
class _Object:
    data: bytes
    info: ObjectInfo


class MemoryStorage(Storage):
    """Keeps every object in a dict; `modified` is the time of the put."""

    def __init__(self) -> None:
        self._objects: dict[str, _Object] = {}

    def _get(self, key: str) -> _Object:
        """Return the stored object, or raise StorageError when there is none."""
        try:
            return self._objects[key]
        except KeyError:
            raise StorageError(f"no such object: {key}") from None

    def keys(self) -> list[str]:
        """Every stored key, sorted (handy in tests)."""
        return sorted(self._objects)

    async def stat(self, key: str) -> ObjectInfo | None:
        obj = self._objects.get(key)
        return obj.info if obj else None

    async def put_file(
        self, key: str, path: str, content_type: str, metadata: dict[str, str] | None = None
    ) -> None:
        await self.put_bytes(key, Path(path).read_bytes(), content_type, metadata)

    async def put_bytes(
        self, key: str, data: bytes, content_type: str, metadata: dict[str, str] | None = None
    ) -> None:
        info = ObjectInfo(len(data), time.time(), content_type, dict(metadata or {}))
        self._objects[key] = _Object(bytes(data), info)

    async def iter_range(self, key: str, start: int, length: int) -> AsyncIterator[bytes]:
        data = self._get(key).data
        end = min(start + length, len(data))
        for offset in range(start, end, CHUNK_SIZE):
            yield data[offset : min(offset + CHUNK_SIZE, end)]

    async def download_to(self, key: str, path: str) -> None:
        Path(path).write_bytes(self._get(key).data)

    async def delete(self, key: str) -> None:
        self._objects.pop(key, None)

    async def delete_prefix(self, prefix: str) -> None:
        if not prefix.endswith("/"):
            raise ValueError(f"prefix must end with '/': {prefix!r}")
        for key in [k for k in self._objects if k.startswith(prefix)]:
            del self._objects[key]

    async def list_objects(self) -> AsyncIterator[StoredObject]:
        for key, obj in list(self._objects.items()):
            yield StoredObject(key, obj.info.size, obj.info.modified)

    async def remove_partials(self, before: float) -> list[StoredObject]:
        return []  # a put here is one step: nothing is ever half written
