"""The SSE clients connected to this process, and who listens to which topic.

A client's outgoing messages wait in a bounded queue that its stream drains; a client whose
queue overflows is dropped (its stream ends, and the SDKs reconnect), so a slow reader never
holds memory or delays anyone else.
"""

from __future__ import annotations

import asyncio
import secrets
import string
from collections import deque
from collections.abc import Iterator
from typing import Any

from .subscriptions import Options, parse_options, topic_of

QUEUE_LIMIT = 500  # messages waiting for one client before it is dropped
_ID_ALPHABET = string.ascii_letters + string.digits


class Client:
    """One SSE connection: its id, the auth its last subscription POST carried, its subscriptions."""

    __slots__ = ("id", "ip", "auth", "subscriptions", "pending", "wake", "closed")

    def __init__(self, ip: str) -> None:
        self.id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(40))
        self.ip = ip
        self.auth: Any = None  # core.auth.Auth or None
        self.subscriptions: dict[str, Options] = {}
        self.pending: deque[bytes] = deque()
        self.wake = asyncio.Event()
        self.closed = False

    def push(self, message: bytes) -> None:
        """Queue a message; past the limit the client is dropped instead."""
        if self.closed:
            return
        if len(self.pending) >= QUEUE_LIMIT:
            self.drop()
            return
        self.pending.append(message)
        self.wake.set()

    def drop(self) -> None:
        """End the stream: at once if it waits for messages, after its current write if it is in one."""
        self.closed = True
        self.pending.clear()
        self.wake.set()


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
