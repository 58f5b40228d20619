"""Fixtures for the Python SDK suite: one server for the session and a superuser client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pocketbase import PocketBase
from sdkhelpers import running_server, superuser_client


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """Satchel, or the reference PocketBase with SDK_TARGET=pocketbase, for the whole session."""
    with running_server() as url:
        yield url


@pytest.fixture
def admin(server_url: str) -> PocketBase:
    """An SDK client logged in as the superuser."""
    return superuser_client(server_url)
