"""Expand paths cleaned as the reference does, cut so the work follows the distinct paths."""

from __future__ import annotations

from satchel.core.rules.expand import normalize


def test_a_repeated_path_is_expanded_once():
    assert normalize(",".join(["owner"] * 2000)) == ["owner"]


def test_spaces_dangling_dots_and_empty_paths_go():
    assert normalize(" owner . team ,,.,editors.") == ["owner.team", "editors"]


def test_a_path_continued_by_another_is_dropped_for_it():
    assert normalize("owner,owner.team,owner.tea,editors.x,editors") == ["owner.team", "owner.tea", "editors.x"]


def test_an_empty_step_still_continues_a_path_as_in_go():
    assert normalize("owner,owner..team") == ["owner..team"]


def test_steps_past_the_sixth_are_never_expanded_so_they_are_cut():
    deep = "a.b.c.d.e.f"
    assert normalize(f"{deep}.g.h,{deep}.x,{deep}") == [deep]
