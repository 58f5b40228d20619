"""Satchel's scheduled jobs: each due minute runs once per cluster, whichever process claims it.

Every process of every instance ticks at the top of each minute; a job that is due is run by
the process whose claim on that minute commits first (a conditional UPDATE of the job's row
in `_params`, so no lock is held while the job runs and a process that dies mid-job blocks
nobody). Schedules are five-field cron expressions in UTC, as in PocketBase.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from croniter import croniter

from ..db import claims

if TYPE_CHECKING:
    from .state import Satchel

log = logging.getLogger("satchel.crons")


@dataclass(frozen=True)
class Job:
    id: str
    expression: str
    run: Callable[[Satchel], Awaitable[object]]

    def is_due(self, minute: dt.datetime) -> bool:
        return bool(croniter.match(self.expression, minute))


def is_valid_expression(expression: str) -> bool:
    """Five fields, as PocketBase's cron accepts (no seconds field, no @-macros beyond croniter's)."""
    return len(expression.split()) == 5 and croniter.is_valid(expression)


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
        self._running: set[asyncio.Task] = set()

    def add(self, job: Job) -> None:
        self._jobs.pop(job.id, None)  # re-adding moves it last, as PocketBase's Add does
        self._jobs[job.id] = job

    def remove(self, job_id: str) -> None:
        self._jobs.pop(job_id, None)

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

    async def _run(self, job: Job) -> None:
        try:
            await job.run(self.sat)
        except Exception:
            log.exception("cron job %s failed", job.id)
        else:
            log.info("cron job %s ran", job.id)

    async def tick(self, minute: dt.datetime) -> list[str]:
        """Run the jobs due at `minute` that this process claims first; returns their ids."""
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
