"""One record event to the clients of this process that may see it, as the reference decides.

A subscription to `collection/*` (or the bare collection) is checked against the list rule, one
to `collection/ID` against the view rule, each with `@request.*` of its client (auth, and the
query and headers of its options) and its own `filter`. Checks and renderings that have the
same inputs are done once: a thousand guests on `posts/*` cost one check and one rendering.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from .. import rules
from ..auth import Auth
from ..collection_model import Collection
from ..records import from_row
from ..rules.request_info import RequestInfo
from .broker import Broker, Client
from .subscriptions import Options

REALTIME = "realtime"  # @request.context of every realtime check

#: (sat, collection, values, request, show_email) -> the record's JSON with `expand` and `fields` applied
Render = Callable[[Any, Collection, dict[str, Any], RequestInfo, bool], Awaitable[Any]]


@dataclass
class Target:
    """The clients of one subscription an event concerns that share an auth: one rule check and
    one rendering serve them all. `rule` guards it, `request` is their `@request`."""

    auth: Auth | None
    subscription: str
    options: Options
    rule: str  # "listRule" or "viewRule"
    clients: list[Client] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.request = RequestInfo(auth=self.auth, method="GET", context=REALTIME,
                                   query=self.options.query, headers=self.options.headers)


def auth_key(auth: Auth | None) -> tuple[str, str] | None:
    return None if auth is None else (auth.collection.id, auth.id)


def targets(broker: Broker, collection: Collection, record_id: str) -> list[Target]:
    """Every subscription this record event concerns, by auth, with the rule that guards it."""
    topics = (
        (f"{collection.name}/{record_id}", "viewRule"), (f"{collection.id}/{record_id}", "viewRule"),
        (f"{collection.name}/*", "listRule"), (f"{collection.id}/*", "listRule"),
        (collection.name, "listRule"), (collection.id, "listRule"),  # the reference's deprecated bare topic
    )
    found: dict[tuple[str, str, tuple[str, str] | None], Target] = {}
    for topic, rule in topics:
        for client, sub, options in broker.listeners(topic):
            key = (rule, sub, auth_key(client.auth))
            target = found.get(key)
            if target is None:
                target = found[key] = Target(client.auth, sub, options, rule)
            target.clients.append(client)
    return list(found.values())


def update_auths(broker: Broker, collection: Collection, action: str, row: dict[str, Any]) -> None:
    """Clients authenticated as this record follow it: a delete or a new tokenKey makes them guests."""
    if not collection.is_auth or action == "create":
        return
    for client in broker.clients.values():
        if auth_key(client.auth) != (collection.id, row["id"]):
            continue
        if action == "delete" or client.auth.record.get("tokenKey") != row.get("tokenKey"):
            client.auth = None
        else:
            client.auth = Auth(collection, row)


class _Checks:
    """Rule checks of one event, each distinct set of inputs asked once."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection
        self.index: dict[Any, int] = {}
        self.asked: list[tuple[str, RequestInfo, str]] = []

    def add(self, rule_name: str, target: Target) -> int:
        request = target.request
        filter_text = target.options.query.get("filter", "")
        uses_request = "@request" in (self.collection.rule(rule_name) or "") or "@request" in filter_text
        who = "superuser" if request.is_superuser else (auth_key(request.auth) if uses_request else None)
        key = (rule_name, who, filter_text, target.options.key() if uses_request else None)
        if key not in self.index:
            self.index[key] = len(self.asked)
            self.asked.append((rule_name, request, filter_text))
        return self.index[key]


async def deliver(broker: Broker, sat: Any, render: Render, action: str, collection: Collection, row: dict[str, Any]) -> int:
    """Queue the event for every client allowed to see it; returns how many messages were queued.

    As in the reference, an updated auth record is the new auth of its clients before the check,
    while a deleted one still is the auth of its clients for its own delete event."""
    if action != "delete":
        update_auths(broker, collection, action, row)
    try:
        return await _deliver(broker, sat, render, action, collection, row)
    finally:
        if action == "delete":
            update_auths(broker, collection, action, row)


async def _deliver(broker: Broker, sat: Any, render: Render, action: str, collection: Collection, row: dict[str, Any]) -> int:
    found = targets(broker, collection, row["id"])
    if not found:
        return 0
    checks = _Checks(collection)
    access = [checks.add(t.rule, t) for t in found]
    owner = [collection.is_auth and auth_key(t.auth) == (collection.id, row["id"]) for t in found]
    manage = [checks.add("manageRule", t) if collection.is_auth and not own else None for t, own in zip(found, owner, strict=True)]
    answers = await rules.values_allowed(sat, collection, row, checks.asked)
    values = from_row(collection, row)
    rendered: dict[Any, bytes] = {}
    tails: list[tuple[list[Client], bytes]] = []
    for target, check, own, managed in zip(found, access, owner, manage, strict=True):
        if not answers[check]:
            continue
        request = target.request
        show_email = own or (managed is not None and answers[managed])
        expand = target.options.query.get("expand", "")
        key = (
            show_email, request.is_superuser, target.options.key(),
            auth_key(request.auth) if expand or collection.is_auth else None,
        )
        if key not in rendered:
            record = await render(sat, collection, values, request, show_email)
            rendered[key] = orjson.dumps({"record": record, "action": action})
        tails.append((target.clients, _tail(target.subscription, rendered[key])))
    sent = 0
    for clients, tail in tails:  # no await from here on: every client has the event before the next one
        for client in clients:
            if not client.closed:
                client.push(b"id:" + client.id.encode() + tail)
                sent += 1
    return sent


def _tail(name: str, data: bytes) -> bytes:
    return b"\nevent:%s\ndata:%s\n\n" % (name.encode(), data)


def message(client_id: str, name: str, data: bytes) -> bytes:
    """One SSE message as the reference writes it."""
    return b"id:" + client_id.encode() + _tail(name, data)
