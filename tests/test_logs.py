"""The Logs API and the request logs behind it, compared with the reference where it has them."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import hypothesis
import pytest
from checks import ok
from hypothesis import strategies as st

from satchel.core.logs import INFO, epoch_log_date, log_date, new_entry

USER = {"email": "u@example.com", "password": "user-password-1", "passwordConfirm": "user-password-1"}
UA = {"User-Agent": "satchel-tests"}
#: values that differ between two servers for the same request: when, how long, who
VARYING = {"id", "created", "execTime", "remoteIP", "userIP", "authId"}


def _wait_logs(request: Callable[..., httpx.Response], headers: dict[str, str], filter_text: str, count: int) -> dict[str, Any]:
    """The logs list for `filter_text` once it holds `count` entries (both servers store them in batches)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        body = ok(request("GET", "/api/logs", headers=headers, params={"filter": filter_text}))
        if len(body["items"]) >= count:  # not totalItems: on PostgreSQL a batch may land between page and count
            return body
        time.sleep(0.1)
    pytest.fail(f"fewer than {count} logs for {filter_text!r}: {body}")


def _comparable(item: dict[str, Any]) -> dict[str, Any]:
    """An entry with the values that differ between servers replaced by their presence."""
    data = {k: (k if k in VARYING else v) for k, v in item["data"].items()}
    return {**{k: (k if k in VARYING else v) for k, v in item.items()}, "data": data}


def _user_token(request: Callable[..., httpx.Response]) -> str:
    request("POST", "/api/collections/users/records", json=USER)  # may exist already on the shared reference
    login = request("POST", "/api/collections/users/auth-with-password", json={"identity": USER["email"], "password": USER["password"]})
    return ok(login)["token"]


def _traffic(request: Callable[..., httpx.Response], superuser: dict[str, str], mark: str) -> int:
    """The same requests on either server, each URL carrying `mark`; returns how many get logged."""
    user = {"Authorization": _user_token(request), **UA}
    request("GET", f"/api/health?mark={mark}&x=%20y", headers={"Referer": "http://app.example/", **UA})
    request("GET", f"/api/health?mark={mark}", headers={**superuser, **UA})
    request("GET", f"/api/nothing?mark={mark}", headers=UA)
    request("GET", f"/api/logs?mark={mark}", headers=UA)  # 401: a failed read of the logs is logged
    request("GET", f"/api/logs/stats?mark={mark}", headers=user)  # 403
    request("GET", f"/api/logs?mark={mark}", headers={**superuser, **UA})  # a successful read is not
    request("OPTIONS", f"/api/health?mark={mark}", headers={"Origin": "http://app.example", "Access-Control-Request-Method": "GET"})  # nor a preflight
    # field errors show in `details` as the validator's plain messages
    request("PATCH", f"/api/settings?mark={mark}", headers={**superuser, **UA}, json={"logs": {"maxDays": -1}})
    request("POST", f"/api/collections/users/records?mark={mark}", headers=UA, json={"email": "bad", "password": "x"})
    return 7


def test_request_logs_list_as_the_reference_lists_them(reference, client, admin, db_url):
    mark = uuid.uuid4().hex
    filter_text = f"data.url ~ '{mark}'"
    with httpx.Client(base_url=reference.url) as ref:
        count = _traffic(ref.request, reference.auth, mark)
        expected = _wait_logs(ref.request, reference.auth, filter_text, count)
        # The two health checks may share a millisecond; `-message` then orders them as they came.
        cases = [
            {"filter": filter_text, "sort": "-level,message"},
            {"filter": f"({filter_text}) && data.status >= 400", "sort": "data.status,-created,message"},
            {"filter": f"({filter_text}) && level = 0 && data.auth = '_superusers'"},
            {"filter": f"({filter_text}) && message ~ 'health'", "fields": "message,level", "perPage": 1, "page": 2, "sort": "created,-message"},
            {"filter": f"({filter_text}) && data.nope = null", "skipTotal": 1, "sort": "message"},
        ]
        answers = [ref.get("/api/logs", headers=reference.auth, params=params).json() for params in cases]
    assert _traffic(client.request, admin, mark) == count
    mine = _wait_logs(client.request, admin, filter_text, count)
    assert mine["totalItems"] == expected["totalItems"] == count
    assert sorted(map(str, map(_comparable, mine["items"]))) == sorted(map(str, map(_comparable, expected["items"])))
    for params, answer in zip(cases, answers, strict=True):
        got = client.get("/api/logs", headers=admin, params=params).json()
        assert [_comparable(i) if "data" in i else i for i in got.pop("items")] == [
            _comparable(i) if "data" in i else i for i in answer.pop("items")
        ], params
        assert got == answer, params


def test_a_log_entry_is_read_by_its_id(reference, client, admin):
    mark = uuid.uuid4().hex
    client.get(f"/api/nothing?mark={mark}", headers=UA)
    entry = _wait_logs(client.request, admin, f"data.url ~ '{mark}'", 1)["items"][0]
    assert client.get(f"/api/logs/{entry['id']}", headers=admin).json() == entry
    assert client.get(f"/api/logs/{entry['id']}?fields=id,level", headers=admin).json() == {"id": entry["id"], "level": 8}


@pytest.mark.parametrize("path", ["/api/logs", "/api/logs/stats", "/api/logs/missing", "/api/logs?filter=nope>1", "/api/logs?sort=updated"])
def test_logs_refusals_match_the_reference(reference, client, admin, path: str):
    """Guests, users, superusers: the reference's statuses and bodies (bad filters and sorts are its 400)."""

    def answers(request: Callable[..., httpx.Response], superuser: dict[str, str]) -> list[tuple[int, Any]]:
        out = []
        for headers in ({}, {"Authorization": _user_token(request)}, superuser):
            response = request("GET", path, headers=headers)
            out.append((response.status_code, response.json() if response.status_code != 200 else None))
        return out

    with httpx.Client(base_url=reference.url) as ref:
        expected = answers(ref.request, reference.auth)
    assert answers(client.request, admin) == expected


def test_stats_count_per_hour_as_the_reference_does(reference, client, admin):
    """One request logged on each server, then the stats for each filter (waiting for the
    reference's batched log writes takes seconds: once, not per filter)."""
    mark = uuid.uuid4().hex
    filters = ["", "level > 0", "data.status = 404", "nope = 1", "updated > 0", "(("]
    with httpx.Client(base_url=reference.url) as ref:
        ref.get(f"/api/nothing?mark={mark}")
        _wait_logs(ref.request, reference.auth, f"data.url ~ '{mark}'", 1)
        answers = [ref.get("/api/logs/stats", headers=reference.auth, params={"filter": f} if f else {}) for f in filters]
    client.get(f"/api/nothing?mark={mark}")
    _wait_logs(client.request, admin, f"data.url ~ '{mark}'", 1)
    for filter_text, expected in zip(filters, answers, strict=True):
        got = client.get("/api/logs/stats", headers=admin, params={"filter": filter_text} if filter_text else {})
        assert got.status_code == expected.status_code, filter_text
        if got.status_code != 200:
            assert got.json() == expected.json(), filter_text
            continue
        # the counts are each server's own; the shape and the hour buckets are the reference's
        hours = {item["date"] for item in expected.json()}
        assert all(item.keys() == {"date", "total"} and item["total"] > 0 for item in got.json()), filter_text
        assert {item["date"] for item in got.json()} <= hours | {log_date(dt.datetime.now(dt.UTC))[:13] + ":00:00.000Z"}, filter_text


@pytest.mark.parametrize("method", ["DELETE", "POST"])
def test_truncating_the_logs_is_refused_and_answered_as_in_the_reference(reference, client, admin, method: str):
    """DELETE /api/logs: 401, 403, then 204 for a superuser; other methods are the reference's 404."""

    def answers(request: Callable[..., httpx.Response], superuser: dict[str, str]) -> list[tuple[int, bytes]]:
        return [
            (r.status_code, r.content)
            for r in (request(method, "/api/logs", headers=h) for h in ({}, {"Authorization": _user_token(request)}, superuser))
        ]

    with httpx.Client(base_url=reference.url) as ref:
        expected = answers(ref.request, reference.auth)
    assert answers(client.request, admin) == expected


def test_truncating_the_logs_leaves_none(client, admin):
    client.get("/api/nothing?before=truncate")
    _wait_logs(client.request, admin, "data.url ~ 'before=truncate'", 1)
    assert client.delete("/api/logs", headers=admin).status_code == 204
    assert client.get("/api/logs", headers=admin).json()["totalItems"] == 0


def test_stats_group_entries_by_hour_oldest_first(client, admin, sat):
    now = time.time()
    rows = [new_entry(now - hours * 3600, INFO, "GET /old", {"type": "request"}) for hours in (0, 0, 2, 2, 2, 30)]
    asyncio.run(sat.logs.write(rows))
    stats = client.get("/api/logs/stats", headers=admin, params={"filter": "message = 'GET /old'"}).json()
    assert [item["total"] for item in stats] == [1, 3, 2]
    assert stats == sorted(stats, key=lambda item: item["date"])
    assert all(item["date"].endswith(":00:00.000Z") for item in stats)


@pytest.mark.parametrize("settings, present, absent", [
    ({"logIP": False}, set(), {"userIP", "remoteIP", "authId"}),
    ({"logAuthId": True}, {"userIP", "remoteIP", "authId"}, set()),
])
def test_log_settings_decide_the_fields_as_in_the_reference(reference, client, admin, settings, present, absent):
    defaults = {"logIP": True, "logAuthId": False}
    mark = uuid.uuid4().hex

    def entry(request: Callable[..., httpx.Response], superuser: dict[str, str]) -> dict[str, Any]:
        ok(request("PATCH", "/api/settings", headers=superuser, json={"logs": settings}))
        try:
            request("GET", f"/api/health?mark={mark}", headers=superuser)
            return _wait_logs(request, superuser, f"data.url ~ '{mark}'", 1)["items"][0]["data"]
        finally:
            ok(request("PATCH", "/api/settings", headers=superuser, json={"logs": defaults}))

    with httpx.Client(base_url=reference.url) as ref:
        expected = entry(ref.request, reference.auth)
    got = entry(client.request, admin)
    assert got.keys() == expected.keys()
    assert present <= got.keys() and not absent & got.keys()


def test_min_level_keeps_only_errors_and_drops_stored_infos(client, admin):
    mark = uuid.uuid4().hex
    client.get(f"/api/health?mark={mark}")
    _wait_logs(client.request, admin, f"data.url ~ '{mark}'", 1)
    ok(client.patch("/api/settings", headers=admin, json={"logs": {"minLevel": 5}}))
    client.get(f"/api/health?mark={mark}")
    client.get(f"/api/nothing?mark={mark}")
    body = _wait_logs(client.request, admin, f"data.url ~ '{mark}' && level = 8", 1)
    assert [item["data"]["status"] for item in body["items"]] == [404]
    everything = client.get("/api/logs", headers=admin, params={"filter": f"data.url ~ '{mark}'"}).json()
    assert [item["level"] for item in everything["items"]] == [8]  # the earlier info entry went on save


def test_negative_days_or_sizes_are_refused_as_in_the_reference(client, admin):
    response = client.patch("/api/settings", headers=admin, json={"logs": {"maxDays": -1, "maxDataSize": -1}})
    error = {"code": "validation_min_greater_equal_than_required", "message": "Must be no less than 0.", "params": {"threshold": 0}}
    assert response.status_code == 400
    assert response.json()["data"] == {"logs": {"maxDays": error, "maxDataSize": error}}


def test_the_cleanup_job_removes_entries_older_than_max_days(client, admin, sat):
    now = time.time()
    old, recent = (new_entry(now - days * 86400, INFO, f"GET /{days}", {"type": "request"}) for days in (6, 4))
    asyncio.run(sat.logs.write([old, recent]))
    job = sat.crons.find("__pbLogsCleanup__")
    assert job.expression == "0 */6 * * *"
    asyncio.run(job.run(sat))  # maxDays is 5 by default
    assert client.get(f"/api/logs/{old['id']}", headers=admin).status_code == 404
    assert client.get(f"/api/logs/{recent['id']}", headers=admin).status_code == 200


def test_no_request_is_logged_while_max_days_is_zero(client, admin):
    _wait_logs(client.request, admin, "data.url ~ 'auth-with-password'", 1)  # the admin's login, stored
    ok(client.patch("/api/settings", headers=admin, json={"logs": {"maxDays": 0}}))
    assert client.get("/api/logs", headers=admin).json()["totalItems"] == 0  # saving dropped the rest
    client.get("/api/nothing?while=off")
    ok(client.patch("/api/settings", headers=admin, json={"logs": {"maxDays": 5}}))
    client.get("/api/nothing?while=on")
    # requests are written down in order: once the second is stored, the first was passed over
    _wait_logs(client.request, admin, "data.url ~ 'while=on'", 1)
    urls = [item["data"]["url"] for item in client.get("/api/logs", headers=admin).json()["items"]]
    assert "/api/nothing?while=off" not in urls


def test_the_logs_cleanup_job_is_listed_after_pocketbases_own_as_in_the_reference(reference, client, admin):
    expected = [job for job in httpx.get(f"{reference.url}/api/crons", headers=reference.auth).json() if job["id"] in {"__pbDBOptimize__", "__pbLogsCleanup__"}]
    assert client.get("/api/crons", headers=admin).json()[-2:] == expected


def test_a_stuck_logs_database_never_holds_a_request(client, admin, sat, monkeypatch):
    release = asyncio.Event()
    writes: list[int] = []

    async def stuck_write(rows):
        writes.append(len(rows))
        await release.wait()

    monkeypatch.setattr(sat.logs, "write", stuck_write)
    deadline = time.monotonic() + 30
    while not writes and time.monotonic() < deadline:
        assert client.get("/api/health").status_code == 200  # answered while the write hangs
    assert writes, "no batch was ever written"
    for _ in range(20):
        assert client.get("/api/health").status_code == 200
    client.portal.call(release.set)


def test_data_over_max_data_size_is_cut_as_the_reference_cuts_it(reference, client, admin):
    """The members that fit whole stay, with `__pb_truncated__`; a long referer is where it stops."""
    mark = uuid.uuid4().hex

    def entry(request: Callable[..., httpx.Response], superuser: dict[str, str]) -> dict[str, Any]:
        ok(request("PATCH", "/api/settings", headers=superuser, json={"logs": {"maxDataSize": 300}}))
        try:
            request("GET", f"/api/nothing?mark={mark}", headers={"Referer": "http://app.example/" + "r" * 1000})
            return _wait_logs(request, superuser, f"message ~ '{mark}'", 1)["items"][0]["data"]
        finally:
            ok(request("PATCH", "/api/settings", headers=superuser, json={"logs": {"maxDataSize": 0}}))

    with httpx.Client(base_url=reference.url) as ref:
        expected = entry(ref.request, reference.auth)
    got = entry(client.request, admin)
    assert _comparable({"data": got})["data"] == _comparable({"data": expected})["data"]
    assert got["__pb_truncated__"] is True


@hypothesis.given(st.floats(min_value=0, max_value=4e9, allow_nan=False, allow_infinity=False))
def test_entry_dates_made_once_a_second_read_as_datetime_would_write_them(created):
    assert epoch_log_date(created) == log_date(dt.datetime.fromtimestamp(created, dt.UTC))
