"""satchel.mediatype: Go's mime.ParseMediaType with its partial results, which the body reader
(Content-Type, Content-Disposition) and mime_allowed (`mimeTypes` entries) both rely on."""

from __future__ import annotations

import pytest

from satchel.mediatype import DUPLICATE_PARAMETER, INVALID_PARAMETER, INVALID_TYPE, media_type, parse_media_type


def test_the_type_is_lowercased_and_trimmed_and_parameter_names_lowercased():
    assert parse_media_type(' Multipart/Form-Data ; Boundary="AbC" ') == (
        "multipart/form-data", {"boundary": "AbC"}, None
    )


def test_a_type_needs_no_subtype():
    assert parse_media_type('form-data; name="a"') == ("form-data", {"name": "a"}, None)


@pytest.mark.parametrize("value", ["", " ", "/plain", "text/", "text/plain/x", "te xt/plain", '"form-data"', "a/b c"])
def test_a_bad_type_gives_no_type_and_no_parameters(value):
    assert parse_media_type(value) == ("", {}, INVALID_TYPE)


@pytest.mark.parametrize(
    "value",
    ["text/plain; foo", "text/plain; a=1; foo; a=2", "text/plain; =1", "text/plain; a=", 'text/plain; a="x',
     'text/plain; a="x\ry"', "text/plain; a=1 b=2", "text/plain;; a=1"],
)
def test_a_malformed_parameter_keeps_the_type_but_no_parameters(value):
    assert parse_media_type(value) == ("text/plain", {}, INVALID_PARAMETER)


@pytest.mark.parametrize(
    "value", ["text/plain; a=1; a=2", "text/plain; A=1; a=2", 'text/plain; a=""; a=x', "text/plain; a*0=1; a*0=2"]
)
def test_a_parameter_repeated_with_another_value_gives_no_type(value):
    assert parse_media_type(value) == ("", {}, DUPLICATE_PARAMETER)


def test_a_parameter_repeated_with_the_same_value_is_accepted():
    assert parse_media_type('text/plain; a=x; A="x"') == ("text/plain", {"a": "x"}, None)


def test_a_plain_name_and_its_rfc2231_form_are_not_duplicates_and_the_encoded_one_wins():
    assert parse_media_type("text/plain; a=plain; a*=utf-8''coded") == ("text/plain", {"a": "coded"}, None)


@pytest.mark.parametrize("value", ["text/plain;", "text/plain ; ", "text/plain; a=1;", "text/plain; a=1 ;\t"])
def test_a_trailing_semicolon_is_no_error(value):
    assert parse_media_type(value)[::2] == ("text/plain", None)


def test_continuations_before_a_trailing_semicolon_are_still_joined():
    assert parse_media_type('form-data; name*0="iden"; name*1="tity";')[1] == {"name": "identity"}


@pytest.mark.parametrize(
    ("quoted", "expected"),
    [(r'"a\"b"', 'a"b'), (r'"a\\b"', "a\\b"), (r'"C:\dir\x.txt"', r"C:\dir\x.txt"), ('""', ""),
     ('"a;b=c"', "a;b=c"), ('"ü x"', "ü x")],
)
def test_a_backslash_escapes_only_a_tspecial_in_a_quoted_string(quoted, expected):
    assert parse_media_type(f"form-data; v={quoted}")[1] == {"v": expected}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("f*=UTF-8''%C3%BCber%20x", {"f": "über x"}),
        ("f*=us-ascii'en'a%2Fb", {"f": "a/b"}),
        ("f=plain; f*=iso-8859-1''%E4", {"f": "plain"}),  # Go decodes no other charset
        ("f*=utf-8''%zz", {}),
        ("f*=''x", {}),
        ("f*=x", {}),
        ('f*0="ab"; f*1="cd"', {"f": "abcd"}),
        ("f*1=b; f*0*=UTF-8''%C3%A4", {"f": "äb"}),
        ("f*0=a; f*1*=%C3%BC; f*2*=%zz; f*3=d", {"f": "aüd"}),  # an undecodable piece adds nothing
        ("f*0=a; f*2=c", {"f": "a"}),  # joined up to the first gap
        ("f*1=b", {}),  # no first piece: no value
        ('f*0="%41"', {"f": "%41"}),  # a piece without its own "*" is not decoded
    ],
)
def test_rfc2231_values_are_decoded_as_go_does(params, expected):
    assert parse_media_type(f"text/plain; {params}") == ("text/plain", expected, None)


@pytest.mark.parametrize("space", ["\xa0", "\u2028", "\u3000", "\x85", "\v"])
def test_whitespace_is_what_go_unicode_isspace_counts(space):
    assert parse_media_type(f"{space}text/plain{space};{space}a{space}={space}1{space}") == (
        "text/plain", {"a": "1"}, None
    )


def test_python_only_whitespace_is_not_trimmed():
    # str.isspace() counts \x1c-\x1f as whitespace; Go's unicode.IsSpace does not
    assert parse_media_type("text/plain\x1f") == ("", {}, INVALID_TYPE)
    assert parse_media_type('form-data;\x1cname="a"') == ("form-data", {}, INVALID_PARAMETER)
    assert parse_media_type('form-data; name="a"\x1c') == ("form-data", {}, INVALID_PARAMETER)


def test_dotted_capital_i_lowercases_to_a_plain_i_as_in_go():
    assert parse_media_type('TEXT/PLA\u0130N; A="\u0130"') == ("text/plain", {"a": "\u0130"}, None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("text/plain; charset=utf-8", "text/plain"), ("text/plain; foo", "text/plain"), ("text/plain; a=1; a=2", ""),
     ("bad type", "")],
)
def test_media_type_is_the_type_with_the_error_dropped(value, expected):
    assert media_type(value) == expected
