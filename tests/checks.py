"""Small assertions that test modules share."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx


def ok(response: httpx.Response) -> Any:
    """The JSON of a setup request, once it is known to have succeeded.

    A setup step that fails silently makes the test after it check the wrong thing.
    """
    assert response.is_success, f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text}"
    return response.json() if response.content else None


def wait_for(condition: Callable[[], Any], seconds: float = 20) -> Any:
    """The first truthy value of `condition()`, polled until the deadline; fails after it."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            assert value, f"not true within {seconds} s"
            return value
        time.sleep(0.02)


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call on its own thread, all released together."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        start.wait()
        return call()

    with concurrent.futures.ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))
