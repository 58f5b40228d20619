"""The thumb memory budget: reservations first come first served, never over the total, released on give-up."""

from __future__ import annotations

import asyncio
import io
import sys
import threading
from pathlib import Path

import pytest
from PIL import Image

from satchel.storage.local import LocalStorage
from satchel.thumbs import service
from satchel.thumbs.budget import BYTES_PER_PIXEL, MemoryBudget, decoded_bytes
from satchel.thumbs.service import Thumbs

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_reservations_wait_their_turn_and_a_big_one_is_not_overtaken() -> None:
    budget = MemoryBudget(100)
    first = await budget.acquire(60)
    big = asyncio.ensure_future(budget.acquire(80))
    small = asyncio.ensure_future(budget.acquire(10))  # fits now, but the big one asked first
    await asyncio.sleep(0)
    assert not big.done() and not small.done() and budget.used == 60
    budget.release(first)
    assert await big == 80
    assert await small == 10 and budget.used == 90  # both let in by the one release, in order


async def test_one_job_over_the_whole_budget_runs_alone() -> None:
    budget = MemoryBudget(100)
    assert await budget.acquire(500) == 100
    waiting = asyncio.ensure_future(budget.acquire(1))
    await asyncio.sleep(0)
    assert not waiting.done()
    budget.release(100)
    assert await waiting == 1


async def test_a_waiter_that_gives_up_holds_nobody_up() -> None:
    budget = MemoryBudget(100)
    held = await budget.acquire(90)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(budget.acquire(50), 0.01)
    assert await budget.acquire(10) == 10  # the one that gave up is no longer ahead of it
    budget.release(held)
    assert budget.used == 10


def test_the_estimate_comes_from_the_header(tmp_path: Path) -> None:
    path = tmp_path / "wide.png"
    Image.new("RGBA", (300, 200)).save(path)
    assert decoded_bytes(str(path)) == 300 * 200 * BYTES_PER_PIXEL
    (tmp_path / "junk.png").write_bytes(b"not an image")
    assert decoded_bytes(str(tmp_path / "junk.png")) == 0


async def test_big_images_queue_instead_of_decoding_together(tmp_path: Path, monkeypatch) -> None:
    storage = LocalStorage(str(tmp_path / "storage"))
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), (9, 99, 199)).save(buffer, "PNG")
    one_image = 400 * 300 * BYTES_PER_PIXEL
    running, most, lock = [0], [0], threading.Lock()
    make_thumb = service.make_thumb

    def counting(path, size, stored_type, max_pixels):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            return make_thumb(path, size, stored_type, max_pixels)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(service, "make_thumb", counting)
    keys = [f"c/r{i}/p.png" for i in range(6)]
    for key in keys:
        await storage.put_bytes(key, buffer.getvalue(), "image/png")
    thumbs = Thumbs(storage, 6, 10**8, 30, memory=one_image + one_image // 2)  # room for one at a time
    made = await asyncio.gather(*[thumbs.ensure(k, k.replace("p.png", "thumbs_p.png/10x10_p.png"), "10x10", "image/png") for k in keys])
    assert all(made)
    assert most[0] == 1


def _photo_png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((width, height)).convert("RGBA").save(buffer, "PNG")
    return buffer.getvalue()


async def test_big_images_are_made_in_a_process_of_their_own_with_the_same_bytes(tmp_path: Path) -> None:
    storage = LocalStorage(str(tmp_path / "storage"))
    await storage.put_bytes("c/r/p.png", _photo_png(400, 300), "image/png")
    in_thread = Thumbs(storage, own_process_from=10**12)
    in_process = Thumbs(storage, own_process_from=0)
    made = []
    for thumbs, key in ((in_thread, "c/r/thumbs_p.png/50x40_a.png"), (in_process, "c/r/thumbs_p.png/50x40_b.png")):
        assert await thumbs.ensure("c/r/p.png", key, "50x40", "image/png") is not None
        made.append(Path(storage.local_path(key) or "").read_bytes())
    assert made[0] == made[1]
    with Image.open(io.BytesIO(made[1])) as im:
        assert (im.format, im.size) == ("PNG", (50, 40))


async def test_a_worker_process_that_refuses_or_crashes_means_the_original(tmp_path: Path, monkeypatch, caplog) -> None:
    storage = LocalStorage(str(tmp_path / "storage"))
    await storage.put_bytes("c/r/p.png", _photo_png(400, 300), "image/png")
    over_the_limit = Thumbs(storage, max_pixels=1000, own_process_from=0)
    assert await over_the_limit.ensure("c/r/p.png", "c/r/thumbs_p.png/50x40_a.png", "50x40", "image/png") is None
    assert "over the 1000 pixel limit" in caplog.text
    monkeypatch.setattr(service, "WORKER", [sys.executable, "-c", "import os; os.abort()"])
    crashing = Thumbs(storage, own_process_from=0)
    assert await crashing.ensure("c/r/p.png", "c/r/thumbs_p.png/50x40_b.png", "50x40", "image/png") is None
    assert "the thumb worker failed: exit status -6" in caplog.text
    assert await storage.stat("c/r/thumbs_p.png/50x40_b.png") is None
