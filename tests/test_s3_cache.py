"""The disk cache in front of S3 (storage/cache.py), on moto's S3 server: a copy answers exactly
as S3 does, is never served cut short or damaged, stays under its bound, and survives being
wiped, evicted under a reader, or left half-written by a crash."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from s3server import make_bucket, make_s3_storage

from satchel.storage import cache as cache_module
from satchel.storage.cache import CachedStorage
from satchel.storage.s3 import S3Storage

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def s3(moto_endpoint: str) -> S3Storage:
    return make_s3_storage(moto_endpoint, make_bucket(moto_endpoint))


@pytest.fixture
def calls(s3: S3Storage) -> list[str]:
    """The S3 operations made from now on."""
    made: list[str] = []
    s3._s3().meta.events.register("before-call.s3", lambda model, **_: made.append(model.name))
    return made


def cached(s3: S3Storage, root: Path, max_bytes: int = 1 << 30, max_object: int = 1 << 20) -> CachedStorage:
    return CachedStorage(s3, str(root), "ns", max_bytes, max_object)


def data_file(root: Path, key: str) -> Path:
    return root / "ns" / "data" / key


def info_file(root: Path, key: str) -> Path:
    return root / "ns" / "info" / key


def cache_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


async def read_all(storage: CachedStorage, key: str) -> bytes:
    opened = await storage.open(key)
    assert opened is not None
    return b"".join([chunk async for chunk in opened.body])


async def test_a_copy_answers_exactly_as_s3_and_asks_it_nothing(s3: S3Storage, calls: list[str], tmp_path: Path) -> None:
    data = os.urandom(3000)
    await s3.put_bytes("c/r/a.bin", data, "image/png", {"original-filename": "ünï cödé %2F.png"})
    from_s3 = await s3.stat("c/r/a.bin")
    storage = cached(s3, tmp_path)
    calls.clear()
    assert await read_all(storage, "c/r/a.bin") == data
    assert calls == ["GetObject"]
    calls.clear()
    fresh = cached(s3, tmp_path)  # another process: reads the copy's info from disk
    for each in (storage, fresh):
        assert await each.stat("c/r/a.bin") == from_s3
        assert await read_all(each, "c/r/a.bin") == data
        assert b"".join([c async for c in each.iter_range("c/r/a.bin", 5, 100)]) == data[5:105]
        assert Path(each.local_path("c/r/a.bin") or "").read_bytes() == data
    assert calls == []


async def test_a_stat_asks_s3_once_and_only_whole_reads_of_small_objects_are_copied(s3: S3Storage, calls: list[str], tmp_path: Path) -> None:
    await s3.put_bytes("c/r/small", b"s" * 100, "text/plain")
    await s3.put_bytes("c/r/big", b"b" * 5000, "text/plain")
    storage = cached(s3, tmp_path, max_object=1000)
    from_s3 = await s3.stat("c/r/small")
    calls.clear()
    for _ in range(2):
        assert await storage.stat("c/r/small") == from_s3
    assert calls == ["HeadObject"] and not data_file(tmp_path, "c/r/small").exists()
    calls.clear()
    assert b"".join([c async for c in storage.iter_range("c/r/small", 1, 10)]) == b"s" * 10
    assert calls == ["GetObject"] and not data_file(tmp_path, "c/r/small").exists()
    calls.clear()
    for _ in range(2):  # read whole, as a thumb is served: copied the first time
        assert b"".join([c async for c in storage.iter_range("c/r/small", 0, 100)]) == b"s" * 100
    assert calls == ["GetObject"] and data_file(tmp_path, "c/r/small").read_bytes() == b"s" * 100
    calls.clear()
    for _ in range(2):
        assert await read_all(storage, "c/r/big") == b"b" * 5000
        assert (await storage.stat("c/r/big")).size == 5000
    assert calls == ["GetObject", "GetObject"] and storage.local_path("c/r/big") is None
    assert not data_file(tmp_path, "c/r/big").exists()


@pytest.mark.parametrize("damage", ["truncated", "longer", "no info", "bad info"])
async def test_a_damaged_copy_is_never_served_and_is_written_again(s3: S3Storage, tmp_path: Path, damage: str) -> None:
    data = os.urandom(2000)
    await s3.put_bytes("c/r/a.bin", data, "application/octet-stream")
    storage = cached(s3, tmp_path)
    assert await read_all(storage, "c/r/a.bin") == data
    copy, info = data_file(tmp_path, "c/r/a.bin"), info_file(tmp_path, "c/r/a.bin")
    if damage == "truncated":
        copy.write_bytes(data[:1000])
    elif damage == "longer":
        copy.write_bytes(data + b"junk")
    elif damage == "no info":
        info.unlink()
    else:
        info.write_bytes(b"{not json")
    fresh = cached(s3, tmp_path)  # another process, which never saw the good copy
    assert fresh.local_path("c/r/a.bin") is None
    for each in (fresh, storage):
        assert await read_all(each, "c/r/a.bin") == data
    assert copy.read_bytes() == data and fresh.local_path("c/r/a.bin") == str(copy)  # written again from S3


async def test_the_cache_stays_under_its_bound_and_keeps_what_was_read_last(s3: S3Storage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    size, bound = 10_000, 100_000
    for i in range(14):
        await s3.put_bytes(f"c/r/{i}", bytes([i]) * size, "application/octet-stream")
    storage = cached(s3, tmp_path, max_bytes=bound)
    for i in range(8):
        assert await read_all(storage, f"c/r/{i}") == bytes([i]) * size
        assert cache_bytes(tmp_path) <= bound
    # Entry 0 read last: its atime is the newest (a hit refreshes it, at most once a minute).
    now = time.time()
    for i in range(8):
        os.utime(data_file(tmp_path, f"c/r/{i}"), (now - 1000 + i, now - 1000))
    monkeypatch.setattr(cache_module, "TOUCH_EVERY", 0)
    assert await read_all(storage, "c/r/0") == bytes([0]) * size
    assert data_file(tmp_path, "c/r/0").stat().st_atime > now - 10
    for i in range(8, 14):
        assert await read_all(storage, f"c/r/{i}") == bytes([i]) * size
        assert cache_bytes(tmp_path) <= bound
    kept = {p.name for p in (tmp_path / "ns" / "data" / "c" / "r").iterdir()}
    assert "0" in kept and "13" in kept and "1" not in kept
    for name in kept:  # every copy kept still has its info, and serves
        assert info_file(tmp_path, f"c/r/{name}").exists()
        assert await read_all(storage, f"c/r/{name}") == bytes([int(name)]) * size


async def test_a_copy_gone_under_a_reader_is_read_from_s3(s3: S3Storage, tmp_path: Path) -> None:
    data = os.urandom(1000)
    await s3.put_bytes("c/r/a.bin", data, "text/plain")
    storage = cached(s3, tmp_path)
    assert await read_all(storage, "c/r/a.bin") == data
    opened = await storage.open("c/r/a.bin")
    assert opened is not None
    shutil.rmtree(tmp_path)  # the cache wiped (or the entry evicted by another process) meanwhile
    assert b"".join([chunk async for chunk in opened.body]) == data
    assert storage.local_path("c/r/a.bin") is None
    assert await read_all(storage, "c/r/a.bin") == data
    assert data_file(tmp_path, "c/r/a.bin").read_bytes() == data  # and copied again
    assert await storage.stat("c/r/a.bin") == await s3.stat("c/r/a.bin")


async def test_deletes_and_writes_drop_the_copies(s3: S3Storage, tmp_path: Path) -> None:
    storage = cached(s3, tmp_path)
    for key in ("c/r/a", "c/r/thumbs_a/10x10_a", "c/r/b", "c/other/x"):
        await s3.put_bytes(key, b"old " + key.encode(), "text/plain")
        assert await read_all(storage, key) == b"old " + key.encode()
    await storage.delete("c/r/a")
    assert not data_file(tmp_path, "c/r/a").exists() and not info_file(tmp_path, "c/r/a").exists()
    assert await storage.stat("c/r/a") is None and await storage.open("c/r/a") is None
    await storage.delete_prefix("c/r/")
    assert not (tmp_path / "ns" / "data" / "c" / "r").exists() and not (tmp_path / "ns" / "info" / "c" / "r").exists()
    assert await read_all(storage, "c/other/x") == b"old c/other/x"
    await storage.put_bytes("c/other/x", b"new", "text/plain")  # a restore writes a key again
    assert await read_all(storage, "c/other/x") == b"new"


async def test_the_sweep_removes_stale_temp_files_of_the_cache_and_nothing_else(s3: S3Storage, tmp_path: Path) -> None:
    await s3.put_bytes("c/r/a", b"kept", "text/plain")
    storage = cached(s3, tmp_path)
    assert await read_all(storage, "c/r/a") == b"kept"
    stale = data_file(tmp_path, "c/r/b.0000018a2b3c4d5e.tmp")
    fresh = data_file(tmp_path, "c/r/a.0000018a2b3c4d5f.tmp")
    stale.write_bytes(b"cut short")
    fresh.write_bytes(b"being written")
    empty = tmp_path / "ns" / "data" / "c" / "gone"
    empty.mkdir()
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    removed = await storage.remove_partials(time.time() - 3600)
    assert [obj.key for obj in removed] == ["cache/ns/data/c/r/b.0000018a2b3c4d5e.tmp"]
    assert not stale.exists() and fresh.exists() and not empty.exists()
    assert data_file(tmp_path, "c/r/a").read_bytes() == b"kept" and info_file(tmp_path, "c/r/a").exists()
