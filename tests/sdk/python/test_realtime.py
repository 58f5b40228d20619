"""Realtime through PyPI's pocketbase SDK: its SSE thread subscribes to a whole collection (the
bare topic) or to one record, and hears create, update and delete."""

from __future__ import annotations

import queue

from pocketbase import PocketBase
from sdkhelpers import superuser_client, unique


def test_a_collection_subscriber_hears_create_update_and_delete(server_url):
    admin = superuser_client(server_url)
    name = unique("live")
    admin.collections.create({"name": name, "type": "base", "listRule": "", "viewRule": "", "fields": [{"name": "title", "type": "text"}]})
    pb = PocketBase(server_url)
    heard: queue.Queue = queue.Queue()
    pb.collection(name).subscribe(lambda e: heard.put((e.action, e.record.id, e.record.title)))
    try:
        # the SDK connects and submits its subscriptions from its own thread: probe until they are in
        for _ in range(60):
            admin.collection(name).create({"title": "probe"})
            try:
                heard.get(timeout=0.5)
                break
            except queue.Empty:
                continue
        created = admin.collection(name).create({"title": "one"})
        admin.collection(name).update(created.id, {"title": "two"})
        admin.collection(name).delete(created.id)
        got = []
        while len(got) < 3:
            event = heard.get(timeout=20)
            if event[2] != "probe":
                got.append(event)
        assert got == [("create", created.id, "one"), ("update", created.id, "two"), ("delete", created.id, "two")]
    finally:
        pb.realtime.unsubscribe()
