"""The Crons API and the scheduler: jobs listed and run as in PocketBase, each due minute once per cluster."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading

import httpx
import pytest

from satchel.app import create_app
from satchel.core.cron_schedule import InvalidCron, parse
from satchel.core.crons import Job, listed


def _job(job_id: str, expression: str = "* * * * *", runs: list | None = None) -> Job:
    async def run(sat) -> None:
        if runs is not None:
            runs.append(job_id)

    return Job(job_id, expression, run)


def test_custom_jobs_are_listed_before_pocketbases_own_as_gos_stable_sort_leaves_them():
    jobs = [_job("__pbX__"), _job("__pbY__"), _job("zeta"), _job("alpha")]
    assert [j.id for j in listed(jobs)] == ["alpha", "zeta", "__pbX__", "__pbY__"]


@pytest.mark.parametrize("expression, error", [
    ("0 0 * * *", None), ("*/5 * * * *", None), ("0 */6 * * 1-5", None), ("@hourly", None), ("+5 5/1 * * *", None),
    ("", "exactly 5 space separated segments"), ("0  0 * * *", "exactly 5"), ("0 0 * * 1,,2", "parsing \"\": invalid syntax"), ("61 * * * *", "invalid segment value"),
    ("* * * * * *", "exactly 5"), ("@every 5m", "exactly 5"), ("*/0 * * * *", "between 1 and the 59"),
    ("99999999999999999999x * * * *", 'parsing "99999999999999999999x": value out of range'),
])
def test_cron_expressions_follow_pocketbases_grammar(expression: str, error: str | None):
    if error is None:
        parse(expression)
        return
    with pytest.raises(InvalidCron, match=error):
        parse(expression)


def test_a_macro_is_listed_as_its_fields():
    assert _job("daily", "@daily").expression == "0 0 * * *"


def test_day_of_month_and_day_of_week_must_both_match_as_in_pocketbase():
    job = _job("first-monday", "0 0 1 * 1")  # classic cron would also run on every Monday
    assert job.is_due(dt.datetime(2029, 1, 1, 0, 0, tzinfo=dt.UTC))  # a Monday, the 1st
    assert not job.is_due(dt.datetime(2029, 1, 8, 0, 0, tzinfo=dt.UTC))  # a Monday, the 8th
    assert not job.is_due(dt.datetime(2029, 2, 1, 0, 0, tzinfo=dt.UTC))  # a Thursday, the 1st


def test_a_job_is_due_on_the_minutes_its_expression_names():
    job = _job("six-hourly", "0 */6 * * *")
    assert job.is_due(dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC))
    assert not job.is_due(dt.datetime(2026, 1, 1, 12, 1, tzinfo=dt.UTC))


def test_superusers_list_the_jobs(client, admin):
    response = client.get("/api/crons", headers=admin)
    assert response.status_code == 200
    assert {"id": "__pbDBOptimize__", "expression": "0 0 * * *"} in response.json()
    assert client.get("/api/crons?fields=id", headers=admin).json()[0].keys() == {"id"}


def test_running_a_job_answers_204_at_once_and_the_job_runs(client, admin, sat):
    ran = threading.Event()  # the job runs on the app's loop, in the test client's thread

    async def probe(_sat) -> None:
        ran.set()

    sat.crons.add(Job("probe", "0 0 1 1 *", probe))
    assert client.post("/api/crons/probe", headers=admin).status_code == 204
    assert ran.wait(timeout=30)


def test_database_optimisation_runs_on_each_database(sat):
    sat.db.optimize_sync()  # no error on SQLite (checkpoint, optimize) or PostgreSQL (ANALYZE)


def test_a_due_minute_runs_once_across_processes_sharing_a_database(config):
    """Two Satchels on one database (as two instances) tick the same minute: one claims it."""
    apps = [create_app(config) for _ in range(2)]
    runs: list[str] = []
    for app in apps:
        crons = app.state.satchel.crons
        for job in crons.jobs():  # only the test's job: the built-in ones may be due too
            crons.remove(job.id)
        crons.add(_job("every-minute", runs=runs))
    minute = dt.datetime(2026, 12, 7, 8, 30, tzinfo=dt.UTC)

    async def tick_all(at: dt.datetime) -> list[list[str]]:
        claimed = await asyncio.gather(*(app.state.satchel.crons.tick(at) for app in apps))
        for _ in range(100):  # the claimed runs were started as tasks: let them finish
            await asyncio.sleep(0)
        return claimed

    try:
        first = asyncio.run(tick_all(minute))
        assert sorted(len(c) for c in first) == [0, 1]
        assert asyncio.run(tick_all(minute)) == [[], []]  # the same minute again: already claimed
        assert sorted(len(c) for c in asyncio.run(tick_all(minute + dt.timedelta(minutes=1)))) == [0, 1]
        assert runs == ["every-minute", "every-minute"]
    finally:
        for app in apps:
            app.state.satchel.dispose()


@pytest.mark.parametrize("method, path", [("GET", "/api/crons"), ("POST", "/api/crons/__pbDBOptimize__"), ("POST", "/api/crons/nope")])
def test_crons_api_refusals_match_the_reference(reference, client, admin, method: str, path: str):
    """Guests, users and unknown jobs get the reference's statuses and bodies."""
    user = {"email": "u@example.com", "password": "user-password-1", "passwordConfirm": "user-password-1"}

    def user_token(request) -> str:
        request("POST", "/api/collections/users/records", json=user)
        return request("POST", "/api/collections/users/auth-with-password", json={"identity": user["email"], "password": user["password"]}).json()["token"]

    def answers(request, superuser: dict[str, str]) -> list[tuple[int, object]]:
        out = []
        for headers in ({}, {"Authorization": user_token(request)}, superuser):
            response = request(method, path, headers=headers)
            out.append((response.status_code, response.json() if response.content and response.status_code != 200 else None))
        return out

    with httpx.Client(base_url=reference.url) as ref:
        expected = answers(ref.request, reference.auth)
    assert answers(client.request, admin) == expected
