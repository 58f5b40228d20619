"""Upload filename normalisation (spec §2): every expected name was made by PocketBase 0.40.6."""

from __future__ import annotations

import re

import pytest

from satchel.files.mime import sniff
from satchel.files.names import (
    RANDOM_ALPHABET,
    normalize_filename,
    original_name_metadata,
    random_string,
)

R = "[a-z0-9]{10}"  # one random part
PNG_HEAD = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"

# Spec §2 "Observed examples": (client filename, content, stored name with the random parts as R).
OBSERVED = [
    ("My Photo (1).PNG", b"abc", f"my_photo_1_{R}\\.PNG"),
    ("a.txt", b"abc", f"a{R}_{R}\\.txt"),
    ("report.final.tar.gz", b"abc", f"report_final_{R}\\.tar\\.gz"),
    ("Ünïcödé файл.txt", b"abc", f"n_c_d_{R}\\.txt"),
    ("über.TXT", b"abc", f"ber_{R}\\.TXT"),
    ("日本語.png", b"abc", f"{R}_{R}\\.png"),
    ("...hidden", b"abc", f"{R}_{R}\\.hidden"),
    ("noext", b"abc", f"noext_{R}\\.txt"),
    ("noext", PNG_HEAD, f"noext_{R}\\.png"),
    ("zz", b"\x00\x01\x02\x03", f"zz{R}_{R}"),
    ("x.y", b"abc", f"x{R}_{R}\\.y"),
    ("a.b.c.d.e", b"abc", f"a_b_c_{R}\\.d\\.e"),
    ("file.with spaces .md", b"abc", f"file_{R}\\.withspaces\\.md"),
    ("test.php%00.jpg", b"abc", f"test_{R}\\.php00\\.jpg"),
    ("../../etc/passwd", b"abc", f"passwd_{R}\\.txt"),
    ("a/b/c.txt", b"abc", f"c{R}_{R}\\.txt"),
    ("a\\b\\c.txt", b"abc", f"a_b_c_{R}\\.txt"),
    ("name." + "e" * 30, b"abc", f"name_{R}\\.e{{20}}"),
    ("x" * 120 + ".txt", b"abc", f"x{{100}}_{R}\\.txt"),
]

# Spec §2, PocketBase's TestFileNameNormalizations table (content "abc").
UNIT_TABLE = [
    ("", f"{R}_{R}\\.txt"),
    (".png", f"{R}_{R}\\.png"),
    (".tar.gz", f"{R}_{R}\\.tar\\.gz"),
    ("a.tar.gz", f"a{R}_{R}\\.tar\\.gz"),
    ("....abc", f"{R}_{R}\\.abc"),
    ("a.b.c.?.?.?.2", f"a_b_c_{R}\\.2"),
    ("a.b.c.d.tar.gz", f"a_b_c_d_{R}\\.tar\\.gz"),
    ("abcd", f"abcd_{R}\\.txt"),
    (".abcd.123.", f"abcd_{R}\\.123"),
    ("a  b! c d  . 456", f"a_b_c_d_{R}\\.456"),
    ("a" * 101 + "." + "b" * 21, f"a{{100}}_{R}\\.b{{20}}"),
    ("abc" + "d" * 290 + "." + "b" * 9, f"d{{100}}_{R}\\.b{{9}}"),
]

# More cases checked against the binary.
MORE = [
    ("CamelCaseFileNameHTTPServer.txt", b"abc", f"camel_case_file_name_httpserver_{R}\\.txt"),
    ("myTestDB.txt", b"abc", f"my_test_db_{R}\\.txt"),
    ("ABCDef.txt", b"abc", f"abcdef_{R}\\.txt"),
    ("a/b/", b"abc", f"b{R}_{R}\\.txt"),
    ("/", b"abc", f"{R}_{R}\\.txt"),
    ("\\\\srv\\share\\f.txt", b"abc", f"srv_share_f_{R}\\.txt"),
    ("a\tb.txt", b"abc", f"a_b_{R}\\.txt"),
    ("z" * 300 + ".txt", b"abc", f"z{{100}}_{R}\\.txt"),
    ("data", b'{"a": 1}', f"data_{R}\\.json"),
    ("page", b"<html><body>x</body></html>", f"page_{R}\\.html"),
    ("logo", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', f"logo_{R}\\.svg"),
    ("doc", b"%PDF-1.7\n", f"doc_{R}\\.pdf"),
    ("archive", b"\x1f\x8b\x08\x00", f"archive_{R}\\.gz"),
    ("weird.ext#with=ok+chars*", b"abc", f"weird_{R}\\.ext#with=ok\\+chars\\*"),
    ("x.日本", b"abc", f"x{R}_{R}\\.txt"),
]


@pytest.mark.parametrize(("original", "content", "pattern"), OBSERVED)
def test_observed_names_match_the_reference(original: str, content: bytes, pattern: str) -> None:
    assert re.fullmatch(pattern, normalize_filename(original, sniff(content)))


@pytest.mark.parametrize(("original", "pattern"), UNIT_TABLE)
def test_pocketbase_unit_table_names(original: str, pattern: str) -> None:
    assert re.fullmatch(pattern, normalize_filename(original, sniff(b"abc")))


@pytest.mark.parametrize(("original", "content", "pattern"), MORE)
def test_more_names_match_the_reference(original: str, content: bytes, pattern: str) -> None:
    assert re.fullmatch(pattern, normalize_filename(original, sniff(content)))


def test_octet_stream_content_gives_no_extension() -> None:
    assert re.fullmatch(f"blob_{R}", normalize_filename("blob", "application/octet-stream"))


def test_each_name_gets_a_fresh_random_part() -> None:
    assert normalize_filename("a.txt", "text/plain") != normalize_filename("a.txt", "text/plain")


def test_names_are_always_ascii() -> None:
    assert normalize_filename("Ünïcödé файл.日本", "text/plain; charset=utf-8").isascii()


def test_the_300_byte_pre_cut_may_split_a_character() -> None:
    # the cut keeps the last 300 bytes, starting inside "é"; the stray byte just vanishes
    assert re.fullmatch(
        f"a{{100}}_{R}\\.txt", normalize_filename("é" + "a" * 295 + ".txt", "text/plain")
    )


def test_random_string_uses_lowercase_letters_and_digits() -> None:
    value = random_string(200)
    assert len(value) == 200 and set(value) <= set(RANDOM_ALPHABET)


def test_random_string_of_zero_length_is_empty() -> None:
    assert random_string(0) == ""


def test_original_name_metadata_keeps_short_names() -> None:
    assert original_name_metadata("My Photo (1).PNG") == "My Photo (1).PNG"


def test_original_name_metadata_is_the_basename() -> None:
    assert original_name_metadata("../../etc/passwd") == "passwd"
    assert original_name_metadata("a/b/") == "b"
    assert original_name_metadata("/") == "/"


def test_original_name_metadata_keeps_backslashes() -> None:
    assert original_name_metadata("a\\b\\c.txt") == "a\\b\\c.txt"


def test_original_name_metadata_keeps_the_first_255_bytes() -> None:
    assert original_name_metadata("z" * 300 + ".txt") == "z" * 255


def test_original_name_metadata_allows_a_cut_on_a_character_boundary() -> None:
    assert original_name_metadata("x" * 253 + "é" + "tail") == "x" * 253 + "é"


@pytest.mark.parametrize("original", ["x" * 254 + "é", "y" * 253 + "日本"])
def test_original_name_metadata_rejects_a_cut_inside_a_character(original: str) -> None:
    # the reference's blob writer refuses the metadata and the record save fails with a 400
    with pytest.raises(ValueError):
        original_name_metadata(original)
