"""`Thumbs.ensure`: one generation per thumb, bounded workers, None (and nothing written) on failure."""

from __future__ import annotations

import asyncio
import io
import tempfile
import threading
from pathlib import Path

import pytest
from PIL import Image

from satchel.storage.base import Storage
from satchel.storage.local import LocalStorage
from satchel.storage.memory import MemoryStorage
from satchel.thumbs import service
from satchel.thumbs.service import Thumbs

pytestmark = pytest.mark.anyio

ORIGINAL = "pbc_1/abcdefghijklmno/photo_0123456789.png"
THUMB = "pbc_1/abcdefghijklmno/thumbs_photo_0123456789.png/50x50_photo_0123456789.png"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["memory", "local"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "memory":
        return MemoryStorage()
    return LocalStorage(str(tmp_path / "storage"))


class Generations(list[str]):
    """The make_thumb calls so far; each waits for `release`, so requests made meanwhile surely overlap."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()


@pytest.fixture
def generations(monkeypatch) -> Generations:
    calls = Generations()
    make_thumb = service.make_thumb

    def counting(path, size, stored_type, max_pixels):
        calls.append(path)
        calls.release.wait(10)
        return make_thumb(path, size, stored_type, max_pixels)

    monkeypatch.setattr(service, "make_thumb", counting)
    return calls


@pytest.fixture
def thumb_checks(storage: Storage, monkeypatch) -> list[str]:
    """The thumb keys whose existence was checked so far: a request past it has joined or started a generation."""
    checked: list[str] = []
    stat = storage.stat

    async def counted(key: str):
        info = await stat(key)
        if "/thumbs_" in key:
            checked.append(key)  # the caller goes on, without yielding, to the one-flight check
        return info

    monkeypatch.setattr(storage, "stat", counted)
    return checked


async def until(condition) -> None:
    """Let other tasks run until `condition()` holds (or fail after a generous deadline)."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not reached")


def png_bytes(size: tuple[int, int] = (120, 80)) -> bytes:
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize(size).convert("RGB").save(buffer, "PNG")
    return buffer.getvalue()


async def stored(storage: Storage, key: str) -> bytes:
    info = await storage.stat(key)
    assert info is not None
    return b"".join([chunk async for chunk in storage.iter_range(key, 0, info.size)])


async def test_ensure_makes_the_thumb_and_stores_it_with_its_type(storage: Storage) -> None:
    await storage.put_bytes(ORIGINAL, png_bytes(), "image/png")
    made = await Thumbs(storage, 2, 10**8, 5).ensure(ORIGINAL, THUMB, "50x50", "image/png")
    info = await storage.stat(THUMB)
    assert info is not None and info.content_type == "image/png"
    assert made is not None and (made.size, made.content_type) == (info.size, info.content_type)
    assert Image.open(io.BytesIO(await stored(storage, THUMB))).size == (50, 50)


async def test_concurrent_requests_for_one_thumb_share_one_generation(storage: Storage, generations, thumb_checks) -> None:
    await storage.put_bytes(ORIGINAL, png_bytes(), "image/png")
    thumbs = Thumbs(storage, 4, 10**8, 5)
    requests = [asyncio.ensure_future(thumbs.ensure(ORIGINAL, THUMB, "50x50", "image/png")) for _ in range(8)]
    await until(lambda: len(thumb_checks) == 8 + 1)  # every request, and the generation's own look under its lock
    generations.release.set()
    results = await asyncio.gather(*requests)
    assert len(results) == 8 and all(results)
    assert len(generations) == 1


async def test_distinct_sizes_are_generated_separately(storage: Storage, generations, thumb_checks) -> None:
    # PocketBase's TestConcurrentThumbsGeneration: 4 requests, 3 sizes, one of them twice.
    await storage.put_bytes(ORIGINAL, png_bytes(), "image/png")
    thumbs = Thumbs(storage, 4, 10**8, 5)
    sizes = ["100x100", "50x50", "20x0", "50x50"]
    keys = [THUMB.replace("50x50_", f"{size}_") for size in sizes]
    requests = [asyncio.ensure_future(thumbs.ensure(ORIGINAL, k, s, "image/png")) for k, s in zip(keys, sizes, strict=True)]
    await until(lambda: len(thumb_checks) == 4 + 3)  # every request, and each generation's own look
    generations.release.set()
    results = await asyncio.gather(*requests)
    assert len(results) == 4 and all(results)
    assert len(generations) == 3
    for key in set(keys):
        assert await storage.stat(key) is not None


async def test_an_existing_thumb_is_not_generated_again(storage: Storage, generations) -> None:
    await storage.put_bytes(ORIGINAL, png_bytes(), "image/png")
    await storage.put_bytes(THUMB, b"already here", "image/png")
    assert await Thumbs(storage, 2, 10**8, 5).ensure(ORIGINAL, THUMB, "50x50", "image/png")
    assert generations == []
    assert await stored(storage, THUMB) == b"already here"


@pytest.mark.parametrize(
    ("original", "size"),
    [(b"\x89PNG\r\n\x1a\n not really", "50x50"), (png_bytes(), "0x0"), (png_bytes(), "garbage")],
)
async def test_failure_returns_false_and_writes_nothing(storage: Storage, original: bytes, size: str) -> None:
    await storage.put_bytes(ORIGINAL, original, "image/png")
    assert not await Thumbs(storage, 2, 10**8, 5).ensure(ORIGINAL, THUMB, size, "image/png")
    assert await storage.stat(THUMB) is None


async def test_a_missing_original_returns_false(storage: Storage) -> None:
    assert not await Thumbs(storage, 2, 10**8, 5).ensure(ORIGINAL, THUMB, "50x50", "image/png")
    assert await storage.stat(THUMB) is None


async def test_a_failed_generation_is_retried_on_the_next_request(storage: Storage) -> None:
    thumbs = Thumbs(storage, 2, 10**8, 5)
    await storage.put_bytes(ORIGINAL, b"not an image", "image/png")
    assert not await thumbs.ensure(ORIGINAL, THUMB, "50x50", "image/png")
    await storage.put_bytes(ORIGINAL, png_bytes(), "image/png")
    assert await thumbs.ensure(ORIGINAL, THUMB, "50x50", "image/png")


async def test_the_pixel_limit_is_passed_to_generation(storage: Storage) -> None:
    await storage.put_bytes(ORIGINAL, png_bytes((120, 80)), "image/png")
    assert not await Thumbs(storage, 2, 120 * 80 - 1, 5).ensure(ORIGINAL, THUMB, "50x50", "image/png")


async def test_waiting_longer_than_max_wait_for_a_worker_gives_up(storage: Storage, monkeypatch) -> None:
    release, started = threading.Event(), threading.Event()
    make_thumb = service.make_thumb

    def blocked(path, size, stored_type, max_pixels):
        started.set()
        release.wait(10)
        return make_thumb(path, size, stored_type, max_pixels)

    monkeypatch.setattr(service, "make_thumb", blocked)
    await storage.put_bytes(ORIGINAL, png_bytes(), "image/png")
    thumbs = Thumbs(storage, 1, 10**8, 0.2)
    busy = asyncio.ensure_future(thumbs.ensure(ORIGINAL, THUMB, "50x50", "image/png"))
    await until(started.is_set)
    other = THUMB.replace("50x50_", "20x0_")
    assert not await thumbs.ensure(ORIGINAL, other, "20x0", "image/png")  # the only worker is busy
    release.set()
    assert await busy
    assert await storage.stat(other) is None


async def test_a_cancelled_request_does_not_cancel_the_shared_generation(storage: Storage, generations, thumb_checks) -> None:
    await storage.put_bytes(ORIGINAL, png_bytes(), "image/png")
    thumbs = Thumbs(storage, 2, 10**8, 5)
    first = asyncio.ensure_future(thumbs.ensure(ORIGINAL, THUMB, "50x50", "image/png"))
    second = asyncio.ensure_future(thumbs.ensure(ORIGINAL, THUMB, "50x50", "image/png"))
    await until(lambda: len(thumb_checks) == 2 + 1 and len(generations) == 1)
    first.cancel()
    generations.release.set()
    assert await second
    assert len(generations) == 1


async def test_local_storage_reads_the_original_in_place(tmp_path: Path, monkeypatch) -> None:
    storage = LocalStorage(str(tmp_path / "storage"))
    await storage.put_bytes(ORIGINAL, png_bytes(), "image/png")

    async def no_download(key: str, path: str) -> None:
        raise AssertionError("a local original needs no copy")

    monkeypatch.setattr(storage, "download_to", no_download)
    assert await Thumbs(storage, 2, 10**8, 5).ensure(ORIGINAL, THUMB, "50x50", "image/png")


async def test_remote_originals_are_copied_to_a_temp_file_that_is_removed(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    storage = MemoryStorage()
    await storage.put_bytes(ORIGINAL, png_bytes(), "image/png")
    thumbs = Thumbs(storage, 2, 10**8, 5)
    assert await thumbs.ensure(ORIGINAL, THUMB, "50x50", "image/png")
    await storage.put_bytes(ORIGINAL, b"broken", "image/png")
    assert not await thumbs.ensure(ORIGINAL, THUMB.replace("50x50_", "20x0_"), "20x0", "image/png")
    assert list(tmp_path.iterdir()) == []


async def test_a_thumb_key_taken_by_a_directory_returns_false(tmp_path: Path) -> None:
    # PocketBase's CreateThumb table: "thumb key is an existing directory" is an error.
    storage = LocalStorage(str(tmp_path / "storage"))
    await storage.put_bytes(ORIGINAL, png_bytes(), "image/png")
    (tmp_path / "storage" / THUMB).mkdir(parents=True)
    assert not await Thumbs(storage, 2, 10**8, 5).ensure(ORIGINAL, THUMB, "50x50", "image/png")


async def test_a_remote_original_is_copied_into_the_given_temp_folder_and_removed(tmp_path: Path) -> None:
    """Copies go to the process's spool folder, so a crash mid-thumb leaves them where the sweep looks."""
    storage = MemoryStorage()  # no local path: like S3, the original is copied first
    await storage.put_bytes(ORIGINAL, png_bytes(), "image/png")
    copies: list[str] = []
    download_to = storage.download_to

    async def spy(key: str, path: str) -> None:
        copies.append(path)
        await download_to(key, path)

    storage.download_to = spy  # type: ignore[method-assign]
    assert await Thumbs(storage, 2, 10**8, 5, lambda: str(tmp_path)).ensure(ORIGINAL, THUMB, "50x50", "image/png")
    assert len(copies) == 1 and Path(copies[0]).parent == tmp_path
    assert list(tmp_path.iterdir()) == []
