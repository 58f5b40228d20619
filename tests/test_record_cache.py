"""The record cache's own rules: what it keeps, for how long, and what makes it forget."""

from __future__ import annotations

import orjson
import pytest

from satchel.core import record_cache
from satchel.core.record_cache import RecordCache


def _listening(**kwargs) -> RecordCache:
    cache = RecordCache(60.0, **kwargs)
    cache.reset(True)
    return cache


def _change(collection_id: str, record_id: str) -> bytes:
    return orjson.dumps({"k": "r", "a": "update", "c": collection_id, "r": {"id": record_id, "doc": "x.txt"}})


def test_keeps_what_was_read_while_nothing_changed():
    cache = _listening()
    token = cache.begin()
    cache.put("c", "r1", {"doc": "a.txt"}, 7, token)
    assert cache.get("c", "r1", 7) == {"doc": "a.txt"}
    assert cache.get("c", "r1", 8) is None  # read under another schema version
    assert cache.get("c", "r2", 7) is None


def test_a_read_in_flight_during_any_change_is_not_kept():
    cache = _listening()
    token = cache.begin()
    cache.heard("41 " + _change("c", "other").decode())  # any record: the epoch moved
    cache.put("c", "r1", {"doc": "old.txt"}, 1, token)
    assert cache.get("c", "r1", 1) is None


def test_nothing_is_kept_while_not_listening():
    cache = RecordCache(60.0)
    assert cache.begin() is None
    cache.put("c", "r1", {"doc": "a.txt"}, 1, cache.begin())
    assert cache.get("c", "r1", 1) is None
    cache.reset(True)
    cache.put("c", "r1", {"doc": "a.txt"}, 1, cache.begin())
    cache.reset(False)  # the listener was lost
    assert cache.get("c", "r1", 1) is None


@pytest.mark.parametrize("how", ["heard", "committed", "payloadless", "wholesale", "unreadable", "reset"])
def test_changes_forget(how: str):
    cache = _listening()
    for record_id in ("r1", "r2"):
        cache.put("c", record_id, {"doc": "a.txt"}, 1, cache.begin())
    if how == "heard":
        cache.heard("5 " + _change("c", "r1").decode())
    elif how == "committed":
        cache.committed([_change("c", "r1"), orjson.dumps({"k": "s", "id": "client", "s": [], "u": ""})])
    elif how == "payloadless":  # a change too big for NOTIFY: which record is only in the log
        cache.heard("5")
    elif how == "unreadable":  # never raised into the writer's commit: everything goes instead
        cache.committed([b"not json"])
    elif how == "wholesale":
        cache.committed([_change("c", f"x{i}") for i in range(record_cache.WHOLESALE + 1)])
    else:
        cache.reset(True)  # the schema version moved
    assert cache.get("c", "r1", 1) is None
    kept = cache.get("c", "r2", 1)
    assert (kept is not None) == (how in ("heard", "committed"))


def test_bounded_by_entries_and_bytes_oldest_out_first():
    cache = _listening(max_entries=3)
    for i in range(5):
        cache.put("c", f"r{i}", {"doc": f"{i}.txt"}, 1, cache.begin())
    assert [cache.get("c", f"r{i}", 1) is not None for i in range(5)] == [False, False, True, True, True]

    cache = _listening(max_bytes=64 * 400)
    big = {"doc": ["n" * 100] * 2}  # ~310 bytes a record
    for i in range(200):
        cache.put("c", f"r{i}", big, 1, cache.begin())
    kept = [i for i in range(200) if cache.get("c", f"r{i}", 1) is not None]
    assert kept == list(range(200 - len(kept), 200)) and 0 < len(kept) * 310 <= 64 * 400
    cache.put("c", "huge", {"doc": ["n" * 1000]}, 1, cache.begin())  # over a 64th of the budget
    assert cache.get("c", "huge", 1) is None


def test_entries_expire(monkeypatch: pytest.MonkeyPatch):
    now = [1000.0]
    monkeypatch.setattr(record_cache.time, "monotonic", lambda: now[0])
    cache = RecordCache(1.0)
    cache.reset(True)
    cache.put("c", "r1", {"doc": "a.txt"}, 1, cache.begin())
    now[0] += 1.0
    assert cache.get("c", "r1", 1) == {"doc": "a.txt"}
    now[0] += 0.01
    assert cache.get("c", "r1", 1) is None
