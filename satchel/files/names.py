"""Stored names for uploads, as PocketBase 0.40.6 builds them (`tools/filesystem/file.go`).

All work is on UTF-8 bytes, like Go strings: the length cuts count bytes and may split a character,
and every non-ASCII byte is dropped, so the result is always ASCII.
"""

from __future__ import annotations

import re
import secrets

from satchel.files.mime import extension

RANDOM_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_EXT_JUNK = re.compile(rb"[^A-Za-z0-9_.*\-+=#]+")
_WORD_SEPARATORS = re.compile(rb"[^A-Za-z0-9]+")
_CAMEL_HUMP = re.compile(rb"(?<=[^A-Z])(?=[A-Z])")


def random_string(length: int) -> str:
    """`length` characters of a-z0-9 from a CSPRNG (names must not be guessable)."""
    return "".join(secrets.choice(RANDOM_ALPHABET) for _ in range(length))


def _to_bytes(text: str) -> bytes:
    # surrogateescape: a filename that was not valid UTF-8 keeps its original bytes
    return text.encode("utf-8", "surrogateescape")


def shown_name(original: str) -> str:
    """A client filename as text for messages and rules: bytes that are not UTF-8 become U+FFFD,
    as Go's JSON encoder writes them."""
    return _to_bytes(original).decode("utf-8", "replace")


def _basename(name: bytes) -> bytes:
    """Go's filepath.Base on Linux, which mime/multipart applies to part filenames ("/" only)."""
    stripped = name.rstrip(b"/")
    if not stripped:
        return b"/" if name else name
    return stripped.rsplit(b"/", 1)[-1]


def _raw_extension(name: bytes) -> bytes:
    """From the second-to-last dot if there is one, else from the last; "" without dots."""
    last = name.rfind(b".")
    if last == -1:
        return b""
    previous = name.rfind(b".", 0, last)
    start = previous if previous != -1 else last
    return name[start:]


def _snakecase(name: bytes) -> bytes:
    """PocketBase's inflector.Snakecase: ASCII alphanumeric words, humps split, joined by "_"."""
    words = (w for w in _WORD_SEPARATORS.split(name) if w)
    return b"_".join(_CAMEL_HUMP.sub(b"_", w) for w in words).lower()


def snakecase(text: str) -> str:
    """PocketBase's inflector.Snakecase of `text` (backup names carry the app name this way)."""
    return _snakecase(_to_bytes(text)).decode()


def normalize_filename(original: str, sniffed_mime: str) -> str:
    """`{clean name}_{10 random}{clean extension}` from a client filename and the sniffed type."""
    name = _basename(_to_bytes(original))[-300:]
    raw_ext = _raw_extension(name)

    ext = b"." + _EXT_JUNK.sub(b"", raw_ext).strip(b".")
    if ext == b".":
        ext = extension(sniffed_mime).encode()
    if len(ext) > 20:
        ext = b"." + ext[-20:].strip(b".")

    # leading dots go too: sync tools treat dot files as hidden
    clean = _snakecase(name.removesuffix(raw_ext).strip(b".")).decode()
    if len(clean) < 3:
        clean += random_string(10)
    clean = clean[:100]

    return f"{clean}_{random_string(10)}{ext.decode()}"


def original_name_metadata(original: str) -> str:
    """The client filename kept as `original-filename` metadata: its basename, first 255 bytes.

    Raises ValueError when those bytes are not valid UTF-8 (e.g. the cut splits a character):
    the reference's blob writer refuses such metadata and the record save fails with a 400.
    """
    cut = _basename(_to_bytes(original))[:255]
    try:
        return cut.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"original filename metadata is not valid UTF-8: {cut!r}") from err
