"""The SSE clients connected to this process, and who listens to which topic.

A message for an idle client is written at once by whoever pushes it (the fan-out), without
waking the client's stream task: with a thousand clients, a thousand task wake-ups cost more
than the writes. When a write cannot finish at once (the peer reads slowly), the stream task
takes over: it finishes that write, and later messages wait in a bounded queue that it drains,
in order. A client whose queue overflows is dropped (its stream ends, and the SDKs reconnect),
so a slow reader never holds memory or delays anyone else.
"""

from __future__ import annotations

import asyncio
import secrets
import string
import time
import types
from collections import deque
from collections.abc import Awaitable, Callable, Generator, Iterator
from typing import Any

from .subscriptions import Options, parse_options, topic_of

QUEUE_LIMIT = 500  # messages waiting for one client before it is dropped
_ID_ALPHABET = string.ascii_letters + string.digits

Write = Callable[[bytes], Awaitable[Any]]  # one message to the client's stream


class Client:
    """One SSE connection: its id, the auth its last subscription POST carried, its subscriptions,
    and how its messages get written (see the module's docstring)."""

    __slots__ = ("id", "ip", "auth", "subscriptions", "pending", "wake", "closed", "write", "busy", "unfinished", "last_write")

    def __init__(self, ip: str) -> None:
        self.id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(40))
        self.ip = ip
        self.auth: Any = None  # core.auth.Auth or None
        self.subscriptions: dict[str, Options] = {}
        self.pending: deque[bytes] = deque()
        self.wake = asyncio.Event()
        self.closed = False
        self.write: Write | None = None  # set by the stream once its response has started
        self.busy = True  # the stream task writes (from its start until it first waits idle): push queues
        self.unfinished: Awaitable[Any] | None = None  # a write push began that the stream task must finish
        self.last_write = time.monotonic()

    def push(self, message: bytes) -> None:
        """Write a message now if the stream is idle, else queue it; past the limit the client is dropped."""
        if self.closed:
            return
        if self.busy or self.write is None:
            if len(self.pending) >= QUEUE_LIMIT:
                self.drop()
                return
            self.pending.append(message)
            self.wake.set()
            return
        self.last_write = time.monotonic()
        steps = self.write(message).__await__()
        try:
            waits_for = next(steps)
        except StopIteration:
            return  # written
        except Exception as exc:  # noqa: BLE001 - raised again in the stream's task, which it ends
            self.unfinished = _raise(exc)
        else:
            self.unfinished = _rest(steps, waits_for)
        self.busy = True
        self.wake.set()

    def drop(self) -> None:
        """End the stream: at once if it waits for messages, after its current write if it is in one."""
        self.closed = True
        self.pending.clear()
        self.wake.set()


async def _raise(exc: Exception) -> None:
    raise exc


@types.coroutine
def _rest(steps: Iterator[Any], waits_for: Any) -> Generator[Any, None, Any]:
    """The rest of an awaitable whose first step, taken elsewhere, waits for `waits_for`: awaited
    in the stream's task, which then waits for that future in its stead."""
    yield waits_for
    return (yield from steps)


class Broker:
    def __init__(self) -> None:
        self.clients: dict[str, Client] = {}
        self._topics: dict[str, dict[Client, set[str]]] = {}

    def register(self, client: Client) -> None:
        self.clients[client.id] = client

    def unregister(self, client: Client) -> None:
        self.set_subscriptions(client, [])
        self.clients.pop(client.id, None)

    def set_subscriptions(self, client: Client, subscriptions: list[str]) -> None:
        """Replace all of a client's subscriptions (empty ones are ignored, as in the reference)."""
        for sub in client.subscriptions:
            listeners = self._topics.get(topic_of(sub))
            if listeners is not None:
                listeners.pop(client, None)
                if not listeners:
                    del self._topics[topic_of(sub)]
        client.subscriptions = {sub: parse_options(sub) for sub in subscriptions if sub}
        for sub in client.subscriptions:
            self._topics.setdefault(topic_of(sub), {}).setdefault(client, set()).add(sub)

    def listeners(self, topic: str) -> Iterator[tuple[Client, str, Options]]:
        """(client, subscription, its options) for every subscription to `topic`."""
        for client, subs in list(self._topics.get(topic, {}).items()):
            for sub in subs:
                yield client, sub, client.subscriptions[sub]
