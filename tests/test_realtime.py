"""Realtime inside one process: subscription options, the per-client queue, stream endings, auth changes."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from checks import ok
from processes import SATCHEL
from sse import Stream

from satchel.app import create_app
from satchel.config import Config
from satchel.core.realtime import hub
from satchel.core.realtime.broker import QUEUE_LIMIT, Broker, Client
from satchel.core.realtime.subscriptions import Options, parse_options, snakecase, topic_of
from satchel.core.request_entry import STREAMED


def test_subscription_options_are_normalised_as_the_reference():
    raw = json.dumps({"query": {"filter": "a = 1", "n": 2, "f": 1.5, "b": True, "o": {"x": 1}}, "headers": {"X-Token": "t", "myTestDB": 1}})
    sub = "posts/*?options=" + quote(raw)
    assert topic_of(sub) == "posts/*"
    assert parse_options(sub) == Options(
        query={"filter": "a = 1", "n": "2", "f": "1.5", "b": "true", "o": ""}, headers={"x_token": "t", "my_test_db": "1"},
    )


def test_malformed_subscription_options_count_as_none():
    for sub in ("posts/*", "posts/*?options=", "posts/*?options={bad", "posts/*?options=[1]", "posts/*?other=1"):
        assert parse_options(sub) == Options()


def test_snakecase_keeps_abbreviations_together():
    assert [snakecase(s) for s in ("X-Token", "myTestDB", "a__b", "--")] == ["x_token", "my_test_db", "a_b", ""]


def test_the_broker_finds_subscriptions_by_topic_and_forgets_replaced_ones():
    broker, client = Broker(), Client("127.0.0.1")
    broker.register(client)
    broker.set_subscriptions(client, ["posts/*", "posts/*?options=%7B%7D", "", "users/abc"])
    assert sorted(sub for _, sub, _ in broker.listeners("posts/*")) == ["posts/*", "posts/*?options=%7B%7D"]
    broker.set_subscriptions(client, ["users/abc"])
    assert list(broker.listeners("posts/*")) == []
    broker.unregister(client)
    assert list(broker.listeners("users/abc")) == [] and not broker.clients


def test_a_client_whose_queue_overflows_is_dropped():
    client = Client("127.0.0.1")
    for n in range(QUEUE_LIMIT):
        client.push(b"m%d" % n)
    assert not client.closed and len(client.pending) == QUEUE_LIMIT
    client.push(b"one too many")
    assert client.closed and not client.pending
    client.push(b"later")
    assert not client.pending


# --- the stream, driven as an ASGI app --------------------------------------------------------------

def _scope() -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": "/api/realtime", "raw_path": b"/api/realtime", "query_string": b"",
            "headers": [], "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8090), "scheme": "http",
            "http_version": "1.1", "root_path": ""}


def _run_stream(tmp_path: Path, send: Any, meanwhile: Any, streams: int = 1) -> list[dict[str, Any]]:
    """Open streams on a fresh app, each writing with `send(n, message)` (n: which stream), and run
    `meanwhile(app)` beside them; returns their scopes once every stream ended."""
    app = create_app(Config(data_dir=str(tmp_path / "sb_data")))
    scopes = [_scope() for _ in range(streams)]

    async def receive() -> dict[str, Any]:
        await asyncio.Event().wait()  # the client never hangs up
        return {"type": "http.disconnect"}

    def sender(n: int) -> Any:
        return (lambda message: send(n, message)) if streams > 1 else send

    async def main() -> None:
        tasks = [asyncio.create_task(app(scope, receive, sender(n))) for n, scope in enumerate(scopes)]
        await meanwhile(app)
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
        await app.state.satchel.bus.stop()

    try:
        asyncio.run(main())
    finally:
        app.state.satchel.db.dispose()
    return scopes


async def _until(condition: Any) -> None:
    """Let the other tasks run until `condition()` holds (they only wait for each other here)."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


def test_a_stalled_reader_is_dropped_and_its_stream_ends_once_it_reads_again(tmp_path: Path):
    sent: list[dict[str, Any]] = []
    stalled, reads_again = asyncio.Event(), asyncio.Event()

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message.get("body", b"").startswith(b"id:"):
            stalled.set()
            await reads_again.wait()  # a reader that stops reading for a while

    async def overflow(app: Any) -> None:
        await stalled.wait()
        [client] = app.state.realtime.broker.clients.values()
        for _ in range(QUEUE_LIMIT + 1):
            client.push(b"x")
        assert client.closed and not client.pending
        reads_again.set()

    _run_stream(tmp_path, send, overflow)
    assert sent[0]["status"] == 200
    assert b"PB_CONNECT" in sent[1]["body"]  # what was in flight
    assert sent[2:] == [{"type": "http.response.body", "body": b"", "more_body": False}]  # then the end


def test_a_stream_ends_after_its_idle_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(hub, "IDLE_TIMEOUT", 0.05)
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def nothing(app: Any) -> None:
        pass

    _run_stream(tmp_path, send, nothing)
    assert b"PB_CONNECT" in sent[1]["body"]
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


def test_messages_reach_a_stream_once_each_in_order_whether_written_at_once_or_after_a_slow_write(tmp_path: Path):
    bodies: list[bytes] = []
    slow_write, reads_again = asyncio.Event(), asyncio.Event()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] != "http.response.body":
            return
        bodies.append(message["body"])
        if message["body"] == b"m0":
            slow_write.set()
            await reads_again.wait()  # the peer is slow to take this one

    async def fan_out(app: Any) -> None:
        await _until(lambda: app.state.realtime.broker.clients)
        [client] = app.state.realtime.broker.clients.values()
        await _until(lambda: not client.busy)  # PB_CONNECT is written: the stream waits, idle
        client.push(b"m0")  # written by the pusher itself, whose write then waits
        assert slow_write.is_set() and client.busy
        for n in range(1, 10):
            client.push(b"m%d" % n)  # behind the waiting write, queued
        assert bodies[-1] == b"m0" and len(client.pending) == 9
        reads_again.set()
        await _until(lambda: not client.busy)  # the stream task wrote what waited
        client.push(b"m10")  # idle again: written at once
        assert bodies[-1] == b"m10"
        client.drop()

    [scope] = _run_stream(tmp_path, send, fan_out)
    assert b"PB_CONNECT" in bodies[0]
    written = bodies[1:-1]
    assert b"".join(written) == b"".join(b"m%d" % n for n in range(11))  # each once, in order
    assert bodies[-1] == b""  # then the end
    assert scope["satchel"][STREAMED] == sum(len(body) for body in bodies)  # for the request log


def test_a_slow_stream_is_dropped_while_the_others_get_every_message_at_once(tmp_path: Path):
    bodies: dict[int, list[bytes]] = {0: [], 1: []}
    reads_again = asyncio.Event()

    async def send(n: int, message: dict[str, Any]) -> None:
        if message["type"] != "http.response.body":
            return
        bodies[n].append(message["body"])
        if n == 0 and message["body"].startswith(b"x"):
            await reads_again.wait()  # stream 0's reader stops reading

    async def fan_out(app: Any) -> None:
        await _until(lambda: len(app.state.realtime.broker.clients) == 2 and not any(
            c.busy for c in app.state.realtime.broker.clients.values()))
        clients = list(app.state.realtime.broker.clients.values())
        for n in range(QUEUE_LIMIT + 2):
            for client in clients:
                client.push(b"x%d" % n)
        slow = next(c for c in clients if c.closed)
        fast = next(c for c in clients if not c.closed)
        assert not fast.pending and not fast.busy  # every message written as it came, none waiting
        fast.drop()
        reads_again.set()
        assert slow.closed and not slow.pending

    _run_stream(tmp_path, send, fan_out, streams=2)
    slow, fast = sorted(bodies.values(), key=len)
    messages = [b"x%d" % n for n in range(QUEUE_LIMIT + 2)]
    assert b"".join(fast[1:-1]) == b"".join(messages) and fast[-1] == b""
    assert slow[1:] == [b"x0", b""]  # what was in flight, then the end


# --- auth changes, through a server ----------------------------------------------------------------

@pytest.fixture
def server(satchel_server, tmp_path: Path, db_url: str) -> tuple[str, dict[str, str]]:
    flags = ["--dir", str(tmp_path / "sb_data")] + (["--db-url", db_url] if db_url else [])
    subprocess.run([SATCHEL, "superuser", "upsert", "admin@example.com", "admin-password-1", *flags], check=True, capture_output=True)
    url = satchel_server(*flags)
    token = ok(httpx.post(f"{url}/api/collections/_superusers/auth-with-password",
                          json={"identity": "admin@example.com", "password": "admin-password-1"}))["token"]
    return url, {"Authorization": token}


def _user(url: str, admin: dict[str, str], email: str) -> tuple[dict[str, Any], str]:
    password = "a-long-password"
    user = ok(httpx.post(f"{url}/api/collections/users/records", headers=admin,
                         json={"email": email, "password": password, "passwordConfirm": password}))
    token = ok(httpx.post(f"{url}/api/collections/users/auth-with-password", json={"identity": email, "password": password}))["token"]
    return user, token


def test_a_new_password_unbinds_the_client_and_rules_see_a_guest(server):
    url, admin = server
    ok(httpx.post(f"{url}/api/collections", headers=admin, json={
        "name": "notes", "type": "base", "listRule": "@request.auth.id != ''", "viewRule": "", "fields": [{"name": "title", "type": "text"}],
    }))
    ann, ann_token = _user(url, admin, "ann@example.com")
    _, bob_token = _user(url, admin, "bob@example.com")
    stream = Stream(url)
    try:
        assert stream.subscribe(["notes/*", "public/*"], ann_token).status_code == 204
        ok(httpx.post(f"{url}/api/collections/notes/records", headers=admin, json={"title": "seen"}))
        assert stream.next().data["record"]["title"] == "seen"
        ok(httpx.patch(f"{url}/api/collections/users/records/{ann['id']}", headers=admin,
                       json={"password": "another-password", "passwordConfirm": "another-password"}))
        ok(httpx.post(f"{url}/api/collections/notes/records", headers=admin, json={"title": "not for guests"}))
        # the old binding is gone: another user may take the client over, and is then its auth
        assert stream.subscribe(["notes/*"], bob_token).status_code == 204
        ok(httpx.post(f"{url}/api/collections/notes/records", headers=admin, json={"title": "for bob"}))
        assert stream.next().data["record"]["title"] == "for bob"
    finally:
        stream.close()


def test_a_rule_change_applies_to_open_subscriptions(server):
    url, admin = server
    notes = ok(httpx.post(f"{url}/api/collections", headers=admin, json={
        "name": "notes", "type": "base", "listRule": "", "viewRule": "", "fields": [{"name": "title", "type": "text"}],
    }))
    stream = Stream(url)
    try:
        assert stream.subscribe(["notes/*"]).status_code == 204
        ok(httpx.patch(f"{url}/api/collections/{notes['id']}", headers=admin, json={"listRule": "title = 'open'"}))
        ok(httpx.post(f"{url}/api/collections/notes/records", headers=admin, json={"title": "closed"}))
        ok(httpx.post(f"{url}/api/collections/notes/records", headers=admin, json={"title": "open"}))
        assert stream.next().data["record"]["title"] == "open"
    finally:
        stream.close()


def test_a_process_serves_more_streams_than_granians_default_request_limit(satchel_server, tmp_path: Path):
    """granian serves backlog/workers = 1024 requests at once unless told otherwise, and each stream
    holds one for its whole life: past that, a subscription POST would wait forever."""
    url = satchel_server("--dir", str(tmp_path / "sb_data"), "--workers", "1")
    port = int(url.rsplit(":", 1)[1])

    async def main() -> int:
        streams = []
        for _ in range(1100):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /api/realtime HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            streams.append((reader, writer))
        last = b""
        while b'"clientId"' not in last:
            last += await asyncio.wait_for(streams[-1][0].read(4096), 30)
        client_id = last.split(b'"clientId":"')[1].split(b'"')[0].decode()
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            response = await http.post("/api/realtime", json={"clientId": client_id, "subscriptions": ["users/*"]})
        for _, writer in streams:
            writer.close()
        return response.status_code

    assert asyncio.run(main()) == 204
