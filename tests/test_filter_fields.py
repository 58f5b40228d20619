"""The `fields` picker on its own: field lists, `*`, nested paths and the excerpt modifier."""

from __future__ import annotations

import pytest

from satchel.api.picker import excerpt, parse_fields, pick, split_tokens


def test_fields_split_on_commas_outside_parentheses_and_quotes():
    assert split_tokens(" a , b:excerpt(1, true),'c,d' ,, ", ",") == ["a", "b:excerpt(1, true)", "'c,d'"]
    with pytest.raises(ValueError):
        split_tokens("a:excerpt(1", ",")


def test_picking_keeps_named_keys_and_descends_into_objects_and_lists():
    data = {"id": 1, "title": "t", "expand": {"author": {"name": "Ann", "age": 3}, "tags": [{"x": 1, "y": 2}]}}
    assert pick(data, parse_fields("id,expand.author.name,expand.tags.x")) == {
        "id": 1, "expand": {"author": {"name": "Ann"}, "tags": [{"x": 1}]},
    }


def test_a_star_keeps_everything_at_its_level():
    data = {"id": 1, "title": "t", "expand": {"author": {"name": "Ann", "age": 3}}}
    assert pick(data, parse_fields("*,expand.author.name")) == {"id": 1, "title": "t", "expand": {"author": {"name": "Ann"}}}


@pytest.mark.parametrize(("html", "limit", "ellipsis", "expected"), [
    ("<p>Hello <b>big</b> world</p><p>again</p>", 100, False, "Hello big world again"),
    ("<p>Hello world</p>", 5, True, "Hello..."),
    ("<p>Hello world</p>", 6, False, "Hello"),
    ("<script>x()</script><p>a &amp; b</p><img src=x>c", 100, False, "a & b c"),
    ("héllo", 5, True, "héllo"),  # 6 bytes but 5 characters: kept whole, as the reference does
    (42, 2, True, 42),
])
def test_excerpt_turns_html_into_short_plain_text(html, limit, ellipsis, expected):
    assert excerpt(html, limit, ellipsis) == expected


@pytest.mark.parametrize("raw", ["title:excerpt(0)", "title:excerpt()", "title:foo", "title:excerpt(1,2,3)"])
def test_bad_modifiers_are_refused(raw):
    with pytest.raises(ValueError):
        parse_fields(raw)
