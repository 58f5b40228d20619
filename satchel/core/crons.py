"""Satchel's scheduled jobs: each due minute runs once per cluster, whichever process claims it.

Every process of every instance ticks at the top of each minute; a job that is due is run by
the process whose claim on that minute commits first (a conditional UPDATE of the job's row
in `_params`, so no lock is held while the job runs and a process that dies mid-job blocks
nobody). Schedules are PocketBase's cron expressions (core/cron_schedule.py), in UTC.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..db import claims
from .cron_schedule import InvalidCron, Schedule, parse

if TYPE_CHECKING:
    from .state import Satchel

log = logging.getLogger("satchel.crons")


Run = Callable[["Satchel"], Awaitable[object]]


@dataclass(frozen=True)
class Job:
    """A job on a schedule; raises InvalidCron. `expression` reads as PocketBase lists it
    (a macro such as `@daily` spelled out as its five fields)."""

    id: str
    expression: str
    run: Run
    schedule: Schedule = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        schedule = parse(self.expression)
        object.__setattr__(self, "schedule", schedule)
        object.__setattr__(self, "expression", schedule.expression)

    def is_due(self, minute: dt.datetime) -> bool:
        return self.schedule.is_due(minute)


def listed(jobs: list[Job]) -> list[Job]:
    """The jobs in the order PocketBase's `GET /api/crons` gives them.

    Its comparator puts every `__pb…` id after the others and is otherwise insertion-order
    dependent; Go's stable sort of up to 20 items is an insertion sort, replayed here so the
    order is the reference's for the same registrations.
    """

    def cmp(a: Job, b: Job) -> int:
        if a.id.startswith("__pb"):
            return 1
        if b.id.startswith("__pb"):
            return -1
        return (a.id > b.id) - (a.id < b.id)

    out = list(jobs)
    for i in range(1, len(out)):
        j = i
        while j > 0 and cmp(out[j], out[j - 1]) < 0:
            out[j], out[j - 1] = out[j - 1], out[j]
            j -= 1
    return out


class Crons:
    """The registry of jobs and the per-process ticker."""

    def __init__(self, sat: Satchel) -> None:
        self.sat = sat
        self._jobs: dict[str, Job] = {}
        self._followers: dict[str, tuple[Callable[[dict[str, Any]], str], Run]] = {}
        self._running: set[asyncio.Task] = set()

    # the job table is replaced whole, never changed in place: settings load on worker threads
    def add(self, job: Job) -> None:
        jobs = {key: value for key, value in self._jobs.items() if key != job.id}
        jobs[job.id] = job  # re-adding moves it last, as PocketBase's Add does
        self._jobs = jobs

    def remove(self, job_id: str) -> None:
        if job_id in self._jobs:
            self._jobs = {key: value for key, value in self._jobs.items() if key != job_id}

    def follow(self, job_id: str, expression_of: Callable[[dict[str, Any]], str], run: Run) -> None:
        """Schedule `job_id` by a setting, as PocketBase reloads its auto-backup job: on every
        settings load it is added again (so listed last) when `expression_of(settings)` names
        a schedule, and removed when that is empty."""
        self._followers[job_id] = (expression_of, run)
        self.settings_loaded(self.sat.settings)

    def settings_loaded(self, settings: dict[str, Any]) -> None:
        """Reschedule the jobs that follow the settings (called by every process on every load)."""
        for job_id, (expression_of, run) in self._followers.items():
            expression = expression_of(settings)
            if not expression:
                self.remove(job_id)
                continue
            try:
                self.add(Job(job_id, expression, run))
            except InvalidCron as exc:  # stored without the API's validation
                log.warning("cron job %s not scheduled: %r is invalid (%s)", job_id, expression, exc)
                self.remove(job_id)

    def jobs(self) -> list[Job]:
        return listed(list(self._jobs.values()))

    def find(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def start(self, job: Job) -> asyncio.Task:
        """Run `job` in the background now (the API's "run"), its failure logged, never raised."""
        task = asyncio.get_running_loop().create_task(self._run(job))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    async def finish(self, timeout: float) -> None:
        """Give the jobs this process is running up to `timeout` seconds to end (at shutdown)."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=timeout)

    async def _run(self, job: Job) -> None:
        try:
            await job.run(self.sat)
        except Exception:
            log.exception("cron job %s failed", job.id)
        else:
            log.info("cron job %s ran", job.id)

    async def tick(self, minute: dt.datetime) -> list[str]:
        """Run the jobs due at `minute` that this process claims first; returns their ids.

        The settings are read first (one query a minute): a process that served no request since
        another one changed a schedule ticks by the new one."""
        await self.sat.reload()
        claimed = []
        for job in list(self._jobs.values()):
            if job.is_due(minute) and await self.sat.db.write(claims.claim, f"cron:{job.id}", minute.isoformat()):
                claimed.append(job.id)
                self.start(job)
        return claimed

    async def run_forever(self) -> None:
        """Tick at the start of every minute (UTC) until cancelled."""
        while True:
            now = dt.datetime.now(dt.UTC)
            minute = now.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
            await asyncio.sleep((minute - now).total_seconds())
            try:
                await self.tick(minute)
            except Exception:
                log.warning("cron tick at %s failed", minute.isoformat(), exc_info=True)
