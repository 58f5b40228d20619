"""Realtime for one process: its SSE clients, what writers announce, and the bus between them.

Subscriptions are set through the bus too. The subscription POST may reach any process of any
instance while the client's stream is held by one of them; it checks the client in the shared
clients table, then publishes the new subscriptions, which the holding process applies in
commit order: a record created after the POST answered is checked against them.
"""

from __future__ import annotations

import hashlib
import weakref
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy.engine import Connection

from ...db import realtime as log_db
from ...db import store
from ..auth import Auth
from . import fanout
from .broker import Broker, Client

if TYPE_CHECKING:
    from ..state import Satchel

IDLE_TIMEOUT = 300.0  # seconds without a message before a stream is closed, as the reference
MAX_TIMEOUT = 1800.0  # seconds a stream lives at most, as the reference
SWEEP_EVERY = 256  # connects between two sweeps of clients rows left by dead processes


def auth_fingerprint(auth: Auth) -> str:
    """Who a client is bound to, and which of their sessions: a new tokenKey or collection secret
    ends the binding, as the reference unsets a client's auth on those changes."""
    secret = auth.collection.data.get("authToken", {}).get("secret", "")
    digest = hashlib.sha256((auth.record.get("tokenKey", "") + secret).encode()).hexdigest()[:24]
    return f"{auth.collection.id}/{auth.id}/{digest}"


_live: weakref.WeakSet[Realtime] = weakref.WeakSet()


def open_streams() -> int:
    """How many SSE streams this process holds."""
    return sum(len(realtime.broker.clients) for realtime in list(_live))


def end_all_streams() -> None:
    """End every SSE stream of this process (at shutdown: the server would wait for them forever)."""
    for realtime in list(_live):
        for client in list(realtime.broker.clients.values()):
            client.drop()


class Realtime:
    def __init__(self, sat: Satchel, render: fanout.Render) -> None:
        _live.add(self)
        self.sat = sat
        self.broker = Broker()
        self.bus = sat.bus
        self.bus.handle = self._handle
        self.render = render  # from the API layer, which knows the record JSON
        self._schema_version = sat.schema.version
        self._connects = 0

    # clients ------------------------------------------------------------------------------------

    async def connect(self, ip: str) -> Client:
        await self.bus.start()
        client = Client(ip)
        self._connects += 1
        sweep = MAX_TIMEOUT * 2 if self._connects % SWEEP_EVERY == 1 else None
        await self.sat.db.write(log_db.add_client, client.id, ip, sweep)
        self.broker.register(client)
        return client

    async def disconnect(self, client: Client) -> None:
        self.broker.unregister(client)
        await self.sat.db.write(log_db.remove_client, client.id)

    async def find_client(self, client_id: str) -> tuple[str, str] | None:
        """(ip, auth binding) of a client connected to any process."""
        return await self.sat.db.read(log_db.find_client, client_id)

    async def binding_valid(self, binding: str) -> bool:
        """Whether a stored auth binding still names a live session (see auth_fingerprint)."""
        collection_id, record_id, _ = binding.split("/", 2)
        collection = self.sat.schema.by_id.get(collection_id)
        if collection is None:
            return False
        record = await self.sat.db.read(store.select_record, self.sat.schema.table(collection), record_id)
        return record is not None and auth_fingerprint(Auth(collection, record)) == binding

    async def subscribe(self, client_id: str, subscriptions: list[str], auth: Auth | None) -> None:
        binding = auth_fingerprint(auth) if auth is not None else ""
        message = orjson.dumps({"k": "s", "id": client_id, "s": subscriptions, "u": binding})

        def write(conn: Connection) -> None:
            log_db.set_client_auth(conn, client_id, binding)
            self.bus.emit(conn, message)

        await self.sat.db.write(write)

    # the bus's messages, in commit order ----------------------------------------------------------

    async def _handle(self, payload: bytes) -> None:
        message = orjson.loads(payload)
        if message["k"] == "s":
            await self._apply_subscriptions(message)
            return
        if not self.broker.clients:
            return
        await self.sat.refresh()  # rules and collections as they are now, whoever changed them
        if self._schema_version != self.sat.schema.version:
            self._schema_version = self.sat.schema.version
            self._follow_auth_collections()
        collection = self.sat.schema.by_id.get(message["c"])
        if collection is not None:
            await fanout.deliver(self.broker, self.sat, self.render, message["a"], collection, message["r"])

    def _follow_auth_collections(self) -> None:
        """Clients bound to a deleted auth collection, or one with a new token secret, become guests."""
        for client in self.broker.clients.values():
            if client.auth is None:
                continue
            collection = self.sat.schema.by_id.get(client.auth.collection.id)
            if collection is None or not collection.is_auth:
                client.auth = None
            else:
                auth = Auth(collection, client.auth.record)
                same = auth_fingerprint(auth) == auth_fingerprint(client.auth)
                client.auth = auth if same else None

    async def _apply_subscriptions(self, message: dict[str, Any]) -> None:
        client = self.broker.clients.get(message["id"])
        if client is None:
            return  # held by another process
        auth = None
        if message["u"]:
            await self.sat.refresh()  # the auth collection may be newer than this process's schema
            collection_id, record_id, _ = message["u"].split("/", 2)
            collection = self.sat.schema.by_id.get(collection_id)
            record = None
            if collection is not None:
                record = await self.sat.db.read(store.select_record, self.sat.schema.table(collection), record_id)
            auth = Auth(collection, record) if collection is not None and record is not None else None
        client.auth = auth
        self.broker.set_subscriptions(client, message["s"])
