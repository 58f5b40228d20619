"""The filter scanner and parser on their own: what parses, into what, and what is refused."""

from __future__ import annotations

import pytest

from satchel.core.fields.casting import to_str
from satchel.core.rules.errors import FilterError
from satchel.core.rules.lexer import FUNC, IDENT, NUMBER, TEXT, Token, tokens
from satchel.core.rules.operands import escape_unescaped, wrap_like_params
from satchel.core.rules.parser import Comparison, Group, or_of_ands, parse
from satchel.core.rules.values import numeric_affinity, real_text


def test_tokens_skip_whitespace_and_comments():
    assert tokens("a = 1 // note\n&& b != 'x'") == [
        Token(IDENT, "a"), Token("sign", "="), Token(NUMBER, "1"), Token("join", "&&"),
        Token(IDENT, "b"), Token("sign", "!="), Token(TEXT, "x"),
    ]


def test_quoted_text_turns_known_escapes_into_their_character():
    assert tokens(r'"a \"b\" \'c\'"') == [Token(TEXT, "a \"b\" 'c'")]
    assert tokens(r"'it\'s'") == [Token(TEXT, "it's")]
    assert tokens(r'"tab\t nl\n cr\r back\\slash"') == [Token(TEXT, "tab\t nl\n cr\r back\\slash")]
    assert tokens(r'"x\\\\y \\\"q"') == [Token(TEXT, 'x\\\\y \\"q')]  # left to right: \\ then \"


def test_quoted_text_keeps_the_backslash_of_unknown_escapes():
    assert tokens(r'"\s \u00e9 \x41 \101 \b \f \v \a \/ \% \_"') == [Token(TEXT, r"\s \u00e9 \x41 \101 \b \f \v \a \/ \% \_")]


def test_an_escaped_backslash_before_the_quote_closes_the_text():
    assert tokens(r'"back\\"') == [Token(TEXT, "back\\")]


def test_a_text_ending_in_a_backslash_never_closes():
    with pytest.raises(FilterError):
        tokens('"abc\\"')


def test_function_arguments_are_tokens():
    [token] = tokens("geoDistance(lon, 1.5, 'x', f(2))")
    assert token.kind == FUNC and token.literal == "geoDistance"
    assert [(a.kind, a.literal) for a in token.args] == [(IDENT, "lon"), (NUMBER, "1.5"), (TEXT, "x"), (FUNC, "f")]


def test_functions_nest_at_most_three_deep():
    tokens("a(b(c(1))) = 1")
    with pytest.raises(FilterError):
        tokens("a(b(c(d(1)))) = 1")


@pytest.mark.parametrize("text", ["a = 1.", "a = .5", "a = -", "a == 1", "a &&& b", "a = 1 | b", "a / b", "a = $", "a. = 1", "@ = 1"])
def test_malformed_tokens_are_refused(text):
    with pytest.raises(FilterError):
        parse(text)


@pytest.mark.parametrize("text", ["a = 1\x00", "a = 'x\x00y'", "a = 1 // \x00"])
def test_a_nul_character_is_refused_anywhere_as_in_the_reference(text):
    with pytest.raises(FilterError):
        parse(text)


def test_groups_nest_and_keep_their_joins():
    group = parse("a = 1 || (b = 2 && c = 3)")
    assert group.items[0] == ("&&", Comparison(Token(IDENT, "a"), "=", Token(NUMBER, "1")))
    join, inner = group.items[1]
    assert join == "||" and isinstance(inner, Group) and len(inner.items) == 2


def test_and_binds_tighter_than_or():
    runs = or_of_ands(parse("a = 1 || b = 2 && c = 3"))
    assert [[item.left.literal for item in run] for run in runs] == [["a"], ["b", "c"]]


def test_a_group_right_after_an_operator_replaces_the_pending_comparison():
    assert parse("a = (b = 1)") == Group((("&&", parse("b = 1")),))


@pytest.mark.parametrize("text", ["", "   ", "// only", "()", "a = 1 &&", "a =", "(a = 1", "a = 1)", "a = 1 b = 2"])
def test_empty_or_unfinished_filters_are_refused(text):
    with pytest.raises(FilterError):
        parse(text)


def test_nesting_deeper_than_the_limit_is_refused_not_recursed():
    parse("(" * 100 + "a = 1" + ")" * 100)
    with pytest.raises(FilterError):
        parse("(" * 2000 + "a = 1" + ")" * 2000)


def test_like_parameters_are_wrapped_and_escaped_as_the_reference_does():
    assert wrap_like_params(("ab", "a%b", "a_b", 5.0, 1.5, None, True)) == ("%ab%", "a%b", "%a\\_b%", "%5%", "%1.5%", "%%", "%true%")
    assert escape_unescaped("a\\_b", "\\%_") == "a\\_b"
    assert to_str(1e21) == "1000000000000000000000" and to_str(-0.0) == "-0"


def test_numeric_affinity_reads_numbers_written_as_text():
    assert numeric_affinity(" 5 ") == 5 and numeric_affinity("1e3") == 1000.0 and numeric_affinity(".5") == 0.5
    assert numeric_affinity("0x10") == "0x10" and numeric_affinity("5a") == "5a" and numeric_affinity("") == ""


def test_reals_print_as_the_reference_sqlite_prints_them():
    assert [real_text(v) for v in (5.0, 0.1, 0.1 + 0.2, 1e20, 1e-5, -0.0)] == [
        "5.0", "0.1", "0.30000000000000004", "1.0e+20", "1.0e-05", "0.0",
    ]
