"""is.EmailFormat as the reference applies it (every expectation here was checked against the binary)."""

from __future__ import annotations

import pytest

from satchel.core.email_format import is_email_format


@pytest.mark.parametrize("email", [
    "a@x.io", "A@X.IO", "a+b@x.io", "a.b@x.io", "a@1.io", "a@x.io.", "a@x_y.io", "a@x~y.io", "a@x.y~z",
    "ü@x.io", "a@ü.io", '"a"@x.io', "a" * 250 + "@x.io", "a@" + "b" * 64 + ".io",
])
def test_email_format_accepts_what_the_reference_accepts(email: str) -> None:
    assert is_email_format(email)


@pytest.mark.parametrize("email", [
    "a@b", "a@x.1o", "a..b@x.io", ".a@x.io", "a@-x.io", "a@x.io-", "a@x..io", "a@[1.2.3.4]",
    '"ab"@x.io', '""@x.io', '"a b"@x.io', 'a"b@x.io', "a b@x.io", "\U0001f600@x.io", "a@x.io\n",
])
def test_email_format_refuses_what_the_reference_refuses(email: str) -> None:
    assert not is_email_format(email)


def test_email_format_answers_on_long_runs_of_dotted_labels() -> None:
    """A backtracking pattern would never finish these; how fast it is belongs to no test."""
    assert not is_email_format("x@" + "a." * 126 + "!")
    assert not is_email_format("x@" + "a." * 5000 + "!")
