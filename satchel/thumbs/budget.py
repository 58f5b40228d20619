"""How much memory thumb work may hold at once for a server process (its worker processes included).

A thumb's cost is its decoded image, not its file: a 400 KB PNG can declare 10000×10000
RGBA pixels (400 MB). Each job reserves what its header says it will decode; jobs that don't
fit wait their turn (first come, first served, so a big one is never starved by small ones),
and one bigger than the whole budget runs alone.
"""

from __future__ import annotations

import asyncio
from collections import deque

from PIL import Image

BYTES_PER_PIXEL = 4  # decoded as RGB or RGBA; the strips and the thumb itself are small beside it


def decoded_bytes(path: str) -> int:
    """What decoding the image at `path` will hold, from its header alone (0 when unreadable)."""
    try:
        with Image.open(path) as im:
            return im.width * im.height * BYTES_PER_PIXEL
    except Exception:  # noqa: BLE001 - an unreadable header fails generation later, cheaply
        return 0


class MemoryBudget:
    """A first-come-first-served reservation of bytes, shared by a process's thumb jobs."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.used = 0
        self._waiting: deque[tuple[int, asyncio.Future[None]]] = deque()

    async def acquire(self, amount: int) -> int:
        """Reserve `amount` bytes (at most the whole budget), waiting for room; returns what to release."""
        amount = min(amount, self.total)
        if not self._waiting and self.used + amount <= self.total:
            self.used += amount
            return amount
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((amount, granted))
        try:
            await granted
        except BaseException:
            if granted.done() and not granted.cancelled():
                self.release(amount)  # granted just as the waiter gave up
            else:
                granted.cancel()
                self._wake()  # a waiter at the head may have been holding others up
            raise
        return amount

    def release(self, amount: int) -> None:
        self.used -= amount
        self._wake()

    def _wake(self) -> None:
        while self._waiting:
            amount, granted = self._waiting[0]
            if granted.done():  # gave up
                self._waiting.popleft()
                continue
            if self.used + amount > self.total:
                return
            self._waiting.popleft()
            self.used += amount
            granted.set_result(None)
