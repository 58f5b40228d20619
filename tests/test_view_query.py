"""The view query reader on its own (no database): columns, tables and the fields they suggest."""

from __future__ import annotations

import pytest

from satchel.core.collection_model import Collection
from satchel.core.schema import Schema
from satchel.core.view_query import Identifier, ViewQueryError, normalize_select, parse_identifiers, suggested_fields

POSTS = Collection({
    "id": "pbc_posts", "name": "posts", "type": "base", "indexes": [],
    "fields": [
        {"id": "text3208210256", "name": "id", "type": "text", "primaryKey": True},
        {"id": "f_title", "name": "Title", "type": "text", "max": 10},
        {"id": "f_doc", "name": "doc", "type": "file", "maxSelect": 2},
    ],
})


def test_columns_and_tables_are_read_with_their_aliases() -> None:
    columns, tables = parse_identifiers(
        "SELECT DISTINCT p.id, count(c.id) AS total, (p.n + 1) bumped, `p`.`doc` -- a comment\n"
        "FROM posts p LEFT JOIN comments c ON c.post = p.id INNER JOIN tags WHERE x = 1 GROUP BY p.id;"
    )
    assert columns == [
        Identifier("p.id", "id"), Identifier("count(c.id)", "total"), Identifier("(p.n + 1)", "bumped"), Identifier("p.doc", "doc"),
    ]
    assert tables == [Identifier("posts", "p"), Identifier("comments", "c"), Identifier("tags", "tags")]


@pytest.mark.parametrize(("query", "message"), [
    ("select id, title t1 x from posts", 'invalid identifier part - expected "as", got t1'),
    ("select a || b as c from posts", "invalid identifier parts [a || b as c]"),
    ("select id, 'x from posts", "unbalanced parenthesis or quoted expression: \"'x from posts\""),
])
def test_what_the_reference_cant_read_is_refused_in_its_words(query: str, message: str) -> None:
    with pytest.raises(ViewQueryError) as caught:
        parse_identifiers(query)
    assert str(caught.value) == message


def test_several_statements_are_refused_but_trailing_semicolons_are_not() -> None:
    assert normalize_select(" select 1 as id;; ") == "select 1 as id"
    with pytest.raises(ViewQueryError, match="multiple statements"):
        normalize_select("select 1 as id; select 2")


def test_columns_suggest_copies_relations_numbers_and_json() -> None:
    fields = suggested_fields(Schema([POSTS]), "select p.id as pid, title, p.doc as files, count(*) n, cast(x as bool) b, (1 + 1) as two from posts p")
    assert fields["pid"].field["type"] == "relation" and fields["pid"].field["collectionId"] == "pbc_posts"
    assert {k: v for k, v in fields["title"].field.items() if k != "id"} == {"name": "title", "type": "text", "max": 10}
    assert fields["title"].field["id"].startswith("_clone_") and fields["title"].original is POSTS.fields[1]
    assert fields["files"].collection is POSTS and fields["files"].field["maxSelect"] == 2
    assert (fields["n"].field["type"], fields["n"].field["onlyInt"]) == ("number", True)
    assert fields["b"].field["type"] == "bool"
    assert (fields["two"].field["type"], fields["two"].field["maxSize"]) == ("json", 1)


def test_wildcards_are_refused() -> None:
    with pytest.raises(ViewQueryError, match="wildcard"):
        suggested_fields(Schema([POSTS]), "select p.* from posts p")
