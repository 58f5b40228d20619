"""Listing every object, and removing the debris of writes that never finished, on every backend."""

from __future__ import annotations

import datetime
import os
import time
from pathlib import Path

import pytest
import s3server

from satchel.storage.base import Storage
from satchel.storage.local import LocalStorage
from satchel.storage.s3 import S3Storage

pytestmark = pytest.mark.anyio
moto_endpoint = s3server.moto_endpoint
s3_storage = s3server.s3_storage

FILE = "pbc_1985629191/abcdefghijklmno/hello_t3krxvrel3.txt"
THUMB = "pbc_1985629191/abcdefghijklmno/thumbs_hello_t3krxvrel3.txt/10x10_hello_t3krxvrel3.txt"
PART = 5 * 1024 * 1024  # S3's smallest part but the last
MOTO_INITIATED = datetime.datetime(2010, 11, 10, 20, 48, 33, tzinfo=datetime.UTC).timestamp()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def keys(storage: Storage) -> list[str]:
    return sorted([obj.key async for obj in storage.list_objects()])


async def test_listing_yields_every_object_with_its_size(storage: Storage) -> None:
    await storage.put_bytes(FILE, b"hello", "text/plain")
    await storage.put_bytes(THUMB, b"tiny", "image/png")
    listed = {obj.key: obj.size async for obj in storage.list_objects()}
    assert listed == {FILE: 5, THUMB: 4}


async def test_listing_an_empty_storage_yields_nothing(storage: Storage) -> None:
    assert await keys(storage) == []


async def test_a_fresh_storage_has_no_partials(storage: Storage) -> None:
    await storage.put_bytes(FILE, b"hello", "text/plain")
    assert await storage.remove_partials(time.time() + 60) == []
    assert await keys(storage) == [FILE]


# ---- local disk ------------------------------------------------------------------------------


def partial_name(path: str) -> str:
    return f"{path}.{time.time_ns():016x}.tmp"


async def test_local_listing_in_pages_sees_every_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from satchel.storage import local

    monkeypatch.setattr(local, "LIST_PAGE", 2)
    storage = LocalStorage(str(tmp_path))
    for i in range(5):
        await storage.put_bytes(f"c/r/f{i}.txt", b"x", "text/plain")
    assert await keys(storage) == [f"c/r/f{i}.txt" for i in range(5)]


async def test_local_partials_go_once_idle_past_the_cutoff_and_stored_files_stay(tmp_path: Path) -> None:
    storage = LocalStorage(str(tmp_path))
    await storage.put_bytes(FILE, b"hello", "text/plain")
    # a stored name may end in ".tmp", even with hex before it: its extension is at most 20 characters
    lookalike = "pbc_1985629191/abcdefghijklmno/x_abcdefghij.eadbeefcafe1234.tmp"
    await storage.put_bytes(lookalike, b"mine", "application/octet-stream")
    folder = tmp_path / "pbc_1985629191" / "abcdefghijklmno"
    cut_short = Path(partial_name(str(tmp_path / FILE)))
    cut_short.write_bytes(b"half")
    sidecar_temp = Path(partial_name(str(folder / "other_abcdefghij.png.attrs")))
    sidecar_temp.write_bytes(b"{")
    lone_sidecar = folder / "gone_abcdefghij.png.attrs"
    lone_sidecar.write_bytes(b"{}")
    now = time.time()

    assert await storage.remove_partials(now - 60) == []  # still within the grace: kept
    assert await keys(storage) == [FILE, lookalike]  # partials are never listed as objects
    removed = await storage.remove_partials(now + 60)

    assert sorted((p.key, p.size) for p in removed) == sorted([
        (str(cut_short.relative_to(tmp_path)), 4),
        (str(sidecar_temp.relative_to(tmp_path)), 1),
        (str(lone_sidecar.relative_to(tmp_path)), 2),
    ])
    assert sorted(os.listdir(folder)) == sorted([
        "hello_t3krxvrel3.txt", "hello_t3krxvrel3.txt.attrs", "x_abcdefghij.eadbeefcafe1234.tmp", "x_abcdefghij.eadbeefcafe1234.tmp.attrs",
    ])


# ---- S3 --------------------------------------------------------------------------------------


def start_multipart(storage: S3Storage, key: str, parts: int) -> str:
    client = storage._s3()
    upload = client.create_multipart_upload(Bucket=storage.bucket, Key=key)["UploadId"]
    for number in range(1, parts + 1):
        client.upload_part(Bucket=storage.bucket, Key=key, UploadId=upload, PartNumber=number, Body=b"x" * PART)
    return upload


async def test_s3_incomplete_multipart_uploads_are_aborted_once_older_than_the_cutoff(s3_storage: S3Storage) -> None:
    await s3_storage.put_bytes(FILE, b"hello", "text/plain")
    start_multipart(s3_storage, "c/r/big_abcdefghij.bin", parts=2)
    start_multipart(s3_storage, "c/r/other_abcdefghij.bin", parts=1)
    client = s3_storage._s3()

    # moto reports every multipart upload as initiated at 2010-11-10T20:48:33Z (real S3: its start)
    assert await s3_storage.remove_partials(MOTO_INITIATED - 1) == []
    assert len(client.list_multipart_uploads(Bucket=s3_storage.bucket).get("Uploads", [])) == 2
    removed = await s3_storage.remove_partials(time.time() + 60)

    assert sorted((p.key, p.size) for p in removed) == [("c/r/big_abcdefghij.bin", 2 * PART), ("c/r/other_abcdefghij.bin", PART)]
    assert client.list_multipart_uploads(Bucket=s3_storage.bucket).get("Uploads", []) == []
    assert await keys(s3_storage) == [FILE]


async def test_local_sweep_removes_emptied_folders_and_keeps_the_root(tmp_path: Path) -> None:
    storage = LocalStorage(str(tmp_path / "storage"))
    await storage.put_bytes(FILE, b"hello", "text/plain")
    await storage.put_bytes(THUMB, b"tiny", "image/png")
    await storage.delete(THUMB)  # leaves thumbs_…/ empty
    await storage.remove_partials(time.time() + 60)
    assert await keys(storage) == [FILE]
    assert not (tmp_path / "storage" / THUMB).parent.exists()
    await storage.delete(FILE)
    await storage.remove_partials(time.time() + 60)
    assert os.listdir(tmp_path / "storage") == []


async def test_local_write_makes_its_folder_again_if_a_sweep_removed_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sweep's rmdir may land between a write's makedirs and its temp file's creation."""
    from satchel.storage import local

    storage = LocalStorage(str(tmp_path))
    realcreate_temp, swept = local.create_temp, []

    def swept_first(path: str) -> tuple[str, int]:
        if not swept:
            swept.append(os.path.dirname(path))
            os.rmdir(swept[0])  # empty: the write has not created anything in it yet
        return realcreate_temp(path)

    monkeypatch.setattr(local, "create_temp", swept_first)
    await storage.put_bytes("c/r/a_abcdefghij.txt", b"hello", "text/plain")
    assert swept and (tmp_path / "c" / "r" / "a_abcdefghij.txt").read_bytes() == b"hello"
