"""Small assertions that test modules share."""

from __future__ import annotations

from typing import Any

import httpx


def ok(response: httpx.Response) -> Any:
    """The JSON of a setup request, once it is known to have succeeded.

    A setup step that fails silently makes the test after it check the wrong thing.
    """
    assert response.is_success, f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text}"
    return response.json() if response.content else None
