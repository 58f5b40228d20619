"""A small SSE client for tests: reads `/api/realtime` in a thread and hands events over a queue."""

from __future__ import annotations

import contextlib
import http.client
import queue
import socket
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson


@dataclass
class Event:
    id: str
    name: str
    data: Any


class Stream:
    """One realtime connection; `client_id` is known once PB_CONNECT arrived."""

    def __init__(self, url: str, timeout: float = 20) -> None:
        self.url = url
        self.timeout = timeout
        self.events: queue.Queue[Event | None] = queue.Queue()
        self._http = httpx.Client(base_url=url, timeout=timeout)
        parts = urlsplit(url)
        # http.client, not httpx: its socket can be shut down from here while the reader thread waits on it
        self._conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=None)
        self._conn.request("GET", "/api/realtime")
        response = self._conn.getresponse()
        self.status, self.headers = response.status, httpx.Headers(response.getheaders())
        self._thread = threading.Thread(target=self._read, args=(response,), daemon=True)
        self._thread.start()
        connect = self.next()
        assert connect.name == "PB_CONNECT", connect
        self.client_id: str = connect.data["clientId"]
        self.connect_event = connect

    def _read(self, response: http.client.HTTPResponse) -> None:
        try:
            fields: dict[str, str] = {}
            for raw in response:
                line = raw.decode().rstrip("\r\n")
                if line == "":
                    if fields:
                        self.events.put(Event(fields.get("id", ""), fields.get("event", ""), orjson.loads(fields.get("data", "null"))))
                    fields = {}
                    continue
                key, _, value = line.partition(":")
                fields[key] = fields.get(key, "") + value
        except Exception:  # noqa: BLE001 - a hang-up from close() surfaces as any of several errors
            pass
        finally:
            self.events.put(None)  # the stream ended

    def next(self) -> Event:
        event = self.events.get(timeout=self.timeout)
        assert event is not None, "the stream ended"
        return event

    def until(self, name: str, predicate=lambda data: True) -> list[Event]:
        """Events up to and including the first `name` event whose data meets `predicate`."""
        seen = []
        while True:
            event = self.next()
            seen.append(event)
            if event.name == name and predicate(event.data):
                return seen

    def ended(self) -> bool:
        """Wait for the stream to end (True), reading past any events."""
        while True:
            if self.events.get(timeout=self.timeout) is None:
                return True

    def subscribe(self, subscriptions: list[str], token: str = "") -> httpx.Response:
        headers = {"Authorization": token} if token else {}
        return self._http.post("/api/realtime", json={"clientId": self.client_id, "subscriptions": subscriptions}, headers=headers)

    def close(self) -> None:
        """Hang up, as a browser leaving the page does."""
        if self._conn.sock is not None:
            with contextlib.suppress(OSError):
                self._conn.sock.shutdown(socket.SHUT_RDWR)
        self._conn.close()
        self._http.close()
