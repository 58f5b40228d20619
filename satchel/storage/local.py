"""Local disk backend, byte-compatible with PocketBase's `pb_data/storage`.

Each object is a plain file at `{root}/{key}` with a JSON `.attrs` sidecar next to it,
written the way PocketBase's fileblob driver writes it, so Satchel can serve a
PocketBase data dir and the other way round. Writes go to `{final}.{hex ns}.tmp` in the
same folder and are renamed into place, so readers never see half an object.

Stat, delete and reads run inline: a few syscalls, and reads a chunk at a time from the
page cache. Writes and copies of whole bodies run in a worker thread.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import re
import shutil
import stat as stat_mode
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import contextmanager, suppress

import anyio
import anyio.to_thread

from .base import ObjectInfo, Storage, StorageError, StorageInitError, StoredObject

ATTRS_EXT = ".attrs"
DEFAULT_CONTENT_TYPE = "application/octet-stream"
CHUNK_SIZE = 256 * 1024
CACHE_SIZE = 4096  # paths and infos remembered per process (cleared when full)
_TEMP_TRIES = 10_000
LIST_PAGE = 1000  # files stat-ed per worker-thread hop when listing
# What create_temp names a write in progress. A stored name never ends like this: its only
# dots are in its extension, which is at most 20 characters (files/names.py).
TEMP_NAME = re.compile(r"\.[0-9a-f]{16}\.tmp\Z")


def encode_attrs(content_type: str, metadata: dict[str, str] | None, md5: bytes) -> bytes:
    """The `.attrs` sidecar exactly as PocketBase 0.40 writes it.

    Compact JSON in this key order, UTF-8 kept raw, no HTML escaping, no final newline
    (checked byte for byte against the 0.40.6 binary).
    """
    attrs = {
        "user.cache_control": "",
        "user.content_disposition": "",
        "user.content_encoding": "",
        "user.content_language": "",
        "user.content_type": content_type,
        "user.metadata": dict(
            sorted((metadata or {}).items())
        ),  # 0.40 writes {} for thumbs, not null
        "md5": base64.b64encode(md5).decode("ascii"),
    }
    return json.dumps(attrs, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode_attrs(raw: bytes) -> tuple[str, dict[str, str]]:
    """The content type and metadata from a sidecar's bytes."""
    try:
        attrs = json.loads(raw)
        content_type = attrs.get("user.content_type") or DEFAULT_CONTENT_TYPE
        metadata = attrs.get("user.metadata") or {}
    except (ValueError, AttributeError) as exc:
        raise StorageError(f"unreadable {ATTRS_EXT} sidecar: {exc}") from exc
    return content_type, {str(k): str(v) for k, v in metadata.items()}


@contextmanager
def _os_errors(key: str) -> Iterator[None]:
    """Turn an OSError into StorageError, naming the key."""
    try:
        yield
    except OSError as exc:
        raise StorageError(f"{key}: {exc}") from exc


def create_temp(path: str) -> tuple[str, int]:
    """Exclusively create `{path}.{hex ns}.tmp` with mode 0666 (umask applies)."""
    for _ in range(_TEMP_TRIES):
        name = f"{path}.{time.time_ns():016x}.tmp"
        try:
            return name, os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except FileNotFoundError:  # the folder was empty and a sweep or delete removed it
            os.makedirs(os.path.dirname(path), 0o777, exist_ok=True)
    raise FileExistsError(f"cannot create a temp file for {path}")


def write_atomic(
    path: str, chunks: Iterable[bytes], before_rename: Callable[[bytes], None] | None = None
) -> None:
    """Write chunks to a temp file, call `before_rename(md5)`, then rename over `path`."""
    tmp, fd = create_temp(path)
    try:
        md5 = hashlib.md5()
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
                md5.update(chunk)
        if before_rename:
            before_rename(md5.digest())
        os.replace(tmp, path)
    finally:
        with suppress(FileNotFoundError):
            os.remove(tmp)


def _file_chunks(path: str) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_SIZE):
            yield chunk


async def read_range(fd: int, key: str, start: int, length: int) -> AsyncIterator[bytes]:
    """Yield `length` bytes of the open file `fd` from `start`, then close it.

    Read inline, a chunk at a time: from the page cache that is a copy, cheaper than the
    thread hop per chunk that granian's pathsend or anyio's files pay (bench/README).
    """
    try:
        while length > 0:
            with _os_errors(key):
                chunk = os.pread(fd, min(CHUNK_SIZE, length), start)
            if not chunk:
                break
            start += len(chunk)
            length -= len(chunk)
            yield chunk
    finally:
        os.close(fd)


class LocalStorage(Storage):
    """Objects under `root` (normally `{dataDir}/storage`), laid out like PocketBase."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self._paths: dict[str, str] = {}
        self._infos: dict[str, tuple[tuple[int, int, int], ObjectInfo]] = {}
        self._ensure_root()

    def _ensure_root(self) -> None:
        """Create a missing root, as PocketBase does on every use; StorageInitError if it cannot."""
        if os.path.isdir(self.root):
            return
        try:
            os.makedirs(self.root, 0o777, exist_ok=True)
        except OSError as exc:
            raise StorageInitError(f"cannot create storage root {self.root}: {exc}") from exc

    def _path(self, key: str, check_root: bool = True) -> str:
        """The absolute path of `key`, refusing sidecar names and anything outside the root."""
        if check_root:
            self._ensure_root()
        path = self._paths.get(key)
        if path is not None:  # a key that passed the checks below once always does
            return path
        if key.endswith(ATTRS_EXT):
            raise StorageError(f"file extension {ATTRS_EXT!r} is reserved")
        path = os.path.normpath(os.path.join(self.root, key))
        # Keys come from storage.keys and are already safe; check again so that a bug
        # anywhere else can never make us read, write or delete outside the root.
        if not path.startswith(self.root + os.sep):
            raise StorageError(f"key escapes the storage root: {key!r}")
        if len(self._paths) >= CACHE_SIZE:
            self._paths.clear()
        self._paths[key] = path
        return path

    def local_path(self, key: str) -> str | None:
        return self._path(key, check_root=False)

    async def stat(self, key: str) -> ObjectInfo | None:
        # A file found under the root proves the root is fine; only a miss re-checks it.
        path = self._path(key, check_root=False)
        try:
            st = os.stat(path)
            return self._info(path, st) if stat_mode.S_ISREG(st.st_mode) else None
        except (FileNotFoundError, NotADirectoryError):
            self._ensure_root()
            return None
        except OSError as exc:
            raise StorageError(f"{key}: {exc}") from exc

    def _info(self, path: str, st: os.stat_result) -> ObjectInfo:
        """The object's info; its sidecar is read again only when the inode, size or mtime change."""
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        cached = self._infos.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            with open(path + ATTRS_EXT, "rb") as f:
                content_type, metadata = decode_attrs(f.read())
        except FileNotFoundError:
            content_type, metadata = DEFAULT_CONTENT_TYPE, {}
        info = ObjectInfo(st.st_size, st.st_mtime, content_type, metadata)
        if len(self._infos) >= CACHE_SIZE:
            self._infos.clear()
        self._infos[path] = (stamp, info)
        return info

    async def put_file(
        self, key: str, path: str, content_type: str, metadata: dict[str, str] | None = None
    ) -> None:
        await anyio.to_thread.run_sync(self._put, key, _file_chunks(path), content_type, metadata)

    async def put_bytes(
        self, key: str, data: bytes, content_type: str, metadata: dict[str, str] | None = None
    ) -> None:
        await anyio.to_thread.run_sync(self._put, key, [data], content_type, metadata)

    def _put(
        self, key: str, chunks: Iterable[bytes], content_type: str, metadata: dict[str, str] | None
    ) -> None:
        """Write the body, then its sidecar, then rename the body into place, like PocketBase."""
        path = self._path(key)

        def write_attrs(md5: bytes) -> None:
            attrs = encode_attrs(content_type, metadata, md5)
            write_atomic(path + ATTRS_EXT, [attrs])

        with _os_errors(key):
            os.makedirs(os.path.dirname(path), 0o777, exist_ok=True)
            write_atomic(path, chunks, write_attrs)

    async def iter_range(self, key: str, start: int, length: int) -> AsyncIterator[bytes]:
        path = self._path(key)
        with _os_errors(key):
            fd = os.open(path, os.O_RDONLY)
        async for chunk in read_range(fd, key, start, length):
            yield chunk

    async def download_to(self, key: str, path: str) -> None:
        source = self._path(key)
        with _os_errors(key):
            await anyio.to_thread.run_sync(shutil.copyfile, source, path)

    async def delete(self, key: str) -> None:
        path = self._path(key)
        with _os_errors(key):
            for name in (path, path + ATTRS_EXT):
                with suppress(FileNotFoundError):
                    os.remove(name)

    async def delete_prefix(self, prefix: str) -> None:
        if not prefix.endswith("/"):
            raise ValueError(f"prefix must end with '/': {prefix!r}")
        folder = self._path(prefix.rstrip("/"))
        with _os_errors(prefix):
            await anyio.to_thread.run_sync(remove_tree, folder)

    async def list_objects(self) -> AsyncIterator[StoredObject]:
        files = walk_files(self.root)
        while page := await anyio.to_thread.run_sync(_next_page, files):
            for key, st in page:
                if not key.endswith(ATTRS_EXT) and not TEMP_NAME.search(key):
                    yield StoredObject(key, st.st_size, st.st_mtime)

    async def remove_partials(self, before: float) -> list[StoredObject]:
        """Temp files of writes cut short and sidecars left without their object (a crash
        between the sidecar's rename and the object's, or between a delete's two removals)."""
        return await anyio.to_thread.run_sync(remove_partial_files, self.root, before, _orphan_sidecar)


def _orphan_sidecar(key: str, path: str) -> bool:
    return key.endswith(ATTRS_EXT) and not os.path.exists(path[: -len(ATTRS_EXT)])


def remove_partial_files(root: str, before: float, also: Callable[[str, str], bool] | None = None) -> list[StoredObject]:
    """Remove the temp files under `root` (and the files `also(key, path)` names) last changed
    before `before`, then the folders left empty (a write that finds its folder gone makes it
    again); returns what went."""
    removed = []
    for key, st in walk_files(root):
        path = os.path.join(root, key)
        partial = TEMP_NAME.search(key) or (also is not None and also(key, path))
        if partial and st.st_mtime < before:
            with suppress(FileNotFoundError):
                os.remove(path)
                removed.append(StoredObject(key, st.st_size, st.st_mtime))
    for dirpath, _dirnames, filenames in os.walk(root, topdown=False):
        if dirpath != root and not filenames:
            with suppress(OSError):  # not empty (a subfolder kept, a file just written)
                os.rmdir(dirpath)
    return removed


def walk_files(root: str) -> Iterator[tuple[str, os.stat_result]]:
    """Every regular file under `root`: its key ("/"-separated, relative) and its stat."""
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            path = os.path.join(dirpath, name)
            try:
                st = os.lstat(path)
            except FileNotFoundError:  # removed since the folder was read
                continue
            if stat_mode.S_ISREG(st.st_mode):
                yield os.path.relpath(path, root).replace(os.sep, "/"), st


def _next_page(files: Iterator[tuple[str, os.stat_result]]) -> list[tuple[str, os.stat_result]]:
    return list(itertools.islice(files, LIST_PAGE))


def remove_tree(folder: str) -> None:
    """Remove every file under `folder`, then each folder left empty (deepest first)."""
    for dirpath, _dirnames, filenames in os.walk(folder, topdown=False):
        for name in filenames:
            with suppress(FileNotFoundError):
                os.remove(os.path.join(dirpath, name))
        # A concurrent upload may have just created a file here; keep the folder then.
        with suppress(OSError):
            os.rmdir(dirpath)
