"""`/api/crons`: list Satchel's scheduled jobs and run one now (superusers only)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..errors import not_found
from .context import JSONResponse, require_superuser, satchel
from .picker import picked_json


async def list_crons(request: Request) -> JSONResponse:
    await require_superuser(request)
    jobs = satchel(request).crons.jobs()
    return picked_json(request, [{"id": job.id, "expression": job.expression} for job in jobs])


async def run_cron(request: Request) -> Response:
    """Starts the job and answers at once, as the reference does; the job's outcome is logged."""
    await require_superuser(request)
    crons = satchel(request).crons
    job = crons.find(request.path_params["id"])
    if job is None:
        raise not_found("Missing or invalid cron job.")
    crons.start(job)
    return Response(status_code=204)
