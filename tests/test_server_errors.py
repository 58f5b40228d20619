"""500 answers: PocketBase's body with the same global and CORS headers as every other answer."""

from __future__ import annotations

import httpx
import pytest
from starlette.routing import Route

ORIGIN = {"Origin": "http://app.example"}
SERVER_ERROR = {"data": {}, "message": "Something went wrong while processing your request.", "status": 500}


@pytest.fixture
def crashing(app):
    """A route whose handler raises, so the app must answer a 500 itself."""

    async def boom(request):
        raise RuntimeError("kaboom")

    app.router.routes.append(Route("/api/boom", boom, methods=["GET", "POST"]))
    return "/api/boom"


def _global_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in ("content-length", "date")}


@pytest.mark.parametrize("headers", [{}, ORIGIN])
def test_a_500_carries_the_headers_of_any_other_answer(client, crashing, headers):
    crashed = client.get(crashing, headers=headers)
    assert crashed.status_code == 500
    assert crashed.json() == SERVER_ERROR
    assert _global_headers(crashed) == _global_headers(client.get("/api/nothing", headers=headers))


def test_a_500_has_the_headers_the_reference_sends_on_its_errors(reference, client, crashing):
    """The reference's error answers (here its 404) carry its global and CORS headers; so does our 500."""
    expected = _global_headers(httpx.get(f"{reference.url}/api/nothing", headers=ORIGIN))
    assert _global_headers(client.post(crashing, headers=ORIGIN)) == expected
