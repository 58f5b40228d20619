"""Listers over the filter data set (filter_cases), on the reference and on Satchel: a pytest plugin.

A lister takes a collection and a filter and answers (status, ids). The reference's is the
fixture `filter_reference`; Satchel's come from `satchel_lister` on any database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import filter_cases
import httpx
import pytest
from conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from pbref import running_reference
from starlette.testclient import TestClient

from satchel.app import create_app
from satchel.config import Config
from satchel.core import superusers

Outcome = tuple[int, frozenset[str]]
Lister = Callable[[str, str], Outcome]


def outcome(response: httpx.Response) -> Outcome:
    if response.status_code != 200:
        return response.status_code, frozenset()
    return 200, frozenset(item["id"] for item in response.json()["items"])


@pytest.fixture(scope="module")
def filter_reference() -> Iterator[Lister]:
    """The reference loaded with the filter data, as a lister (answers cached per filter)."""
    with running_reference() as ref, httpx.Client(base_url=ref.url, timeout=30) as http:
        filter_cases.load(http.request, ref.auth)
        cache: dict[tuple[str, str], Outcome] = {}

        def lister(collection: str, filter_text: str) -> Outcome:
            key = (collection, filter_text)
            if key not in cache:
                response = http.get(f"/api/collections/{collection}/records", params={"filter": filter_text, "perPage": 500}, headers=ref.auth)
                cache[key] = outcome(response)
            return cache[key]

        yield lister


def satchel_lister(db_url: str, data_dir: str, rules: dict | None = None) -> Iterator[tuple[Lister, TestClient]]:
    """A Satchel app loaded with the filter data; yields a lister and the client."""
    app = create_app(Config(data_dir=data_dir, db_url=db_url, thumb_workers=1))
    try:
        with TestClient(app) as client:
            asyncio.run(superusers.upsert(app.state.satchel, ADMIN_EMAIL, ADMIN_PASSWORD))
            token = client.post("/api/collections/_superusers/auth-with-password",
                                json={"identity": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).json()["token"]
            admin = {"Authorization": token}
            filter_cases.load(client.request, admin, rules)

            def lister(collection: str, filter_text: str) -> Outcome:
                params = {"filter": filter_text, "perPage": 500}
                return outcome(client.get(f"/api/collections/{collection}/records", params=params, headers=admin))

            client.admin = admin  # type: ignore[attr-defined]
            yield lister, client
    finally:
        app.state.satchel.dispose()
