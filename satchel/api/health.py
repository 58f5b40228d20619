from __future__ import annotations

from starlette.requests import Request

from .context import JSONResponse


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"message": "API is healthy.", "code": 200, "data": {}})
