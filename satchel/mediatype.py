"""Go's mime.ParseMediaType, the one parser behind Content-Type, Content-Disposition and the
`mimeTypes` field check.

Go's callers read its partial results, so `parse_media_type` returns them as Go does, with the
error beside them instead of raised: the type with no parameters after a malformed parameter
list, but no type at all after a bad type or a parameter repeated with another value.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

INVALID_TYPE = "mime: invalid media type"
INVALID_PARAMETER = "mime: invalid media parameter"
DUPLICATE_PARAMETER = "mime: duplicate parameter name"

# unicode.IsSpace; Python's str.isspace() also counts \x1c-\x1f, Go's does not
_SPACE = ("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
          "\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
_TSPECIALS = frozenset('()<>@,;:\\"/[]?=')
_TOKEN = r"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+"  # printable ASCII less the tspecials
_TOKEN_RE = re.compile(_TOKEN)
_TYPE_RE = re.compile(f"{_TOKEN}(?:/{_TOKEN})?")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def parse_media_type(value: str) -> tuple[str, dict[str, str], str | None]:
    """(type, parameters, error) as Go returns them: the lower-cased `type` or `type/subtype`,
    parameter names lower-cased, RFC 2231 values decoded, and the error message or None.

    A bad type or a name repeated with another value (a plain name and its RFC 2231 `name*`
    pieces counted apart) gives ("", {}, error); any other malformed parameter stops the parse
    with (type, {}, error). A trailing ";" is no error.
    """
    base = value.split(";", 1)[0]
    # Go lower-cases rune by rune: İ becomes "i", where Python's lower() gives "i" + U+0307
    mediatype = base.replace("\u0130", "i").lower().strip(_SPACE)
    if not _TYPE_RE.fullmatch(mediatype):
        return "", {}, INVALID_TYPE
    params: dict[str, str] = {}
    pieces: dict[str, dict[str, str]] = {}  # RFC 2231 `name*` and `name*N` pieces, by base name
    rest = value[len(base) :]
    while rest := rest.lstrip(_SPACE):
        param = _param(rest)
        if param is None:
            if rest.strip(_SPACE) == ";":
                break
            return mediatype, {}, INVALID_PARAMETER
        name, val, rest = param
        same_name = pieces.setdefault(name.split("*", 1)[0], {}) if "*" in name else params
        if same_name.setdefault(name, val) != val:
            return "", {}, DUPLICATE_PARAMETER
    for name, parts in pieces.items():
        decoded = _decode_2231(parts[name + "*"]) if name + "*" in parts else _join_2231(name, parts)
        if decoded is not None:
            params[name] = decoded
    return mediatype, params, None


def media_type(value: str) -> str:
    """The type alone, error dropped, as mimetype's MIME.Is reads it ("" where Go gives none)."""
    return parse_media_type(value)[0]


def _param(v: str) -> tuple[str, str, str] | None:
    """`; name=value` at the start of `v`: (lower-cased name, value, rest), or None."""
    rest = v.lstrip(_SPACE)
    if not rest.startswith(";"):
        return None
    name, rest = _token(rest[1:].lstrip(_SPACE))
    rest = rest.lstrip(_SPACE)
    if not name or not rest.startswith("="):
        return None
    value = _value(rest[1:].lstrip(_SPACE))
    return (name.lower(), *value) if value else None


def _token(v: str) -> tuple[str, str]:
    m = _TOKEN_RE.match(v)
    return (m[0], v[m.end() :]) if m else ("", v)


def _value(v: str) -> tuple[str, str] | None:
    """A token or a quoted string (possibly empty) at the start of `v`: (value, rest), or None."""
    if not v.startswith('"'):
        token, rest = _token(v)
        return (token, rest) if token else None
    out: list[str] = []
    i = 1
    while i < len(v):
        c = v[i]
        if c == '"':
            return "".join(out), v[i + 1 :]
        # Go honours a backslash only before a tspecial (MSIE sends "C:\dir" unescaped)
        if c == "\\" and i + 1 < len(v) and v[i + 1] in _TSPECIALS:
            c, i = v[i + 1], i + 1
        elif c in "\r\n":
            return None
        out.append(c)
        i += 1
    return None


def _decode_2231(value: str) -> str | None:
    """`charset'lang'%XX…` in UTF-8 or US-ASCII (the only charsets Go accepts); None if undecodable."""
    parts = value.split("'", 2)
    if len(parts) != 3 or parts[0].lower() not in ("utf-8", "us-ascii"):
        return None
    return _unpercent(parts[2])


def _join_2231(name: str, parts: dict[str, str]) -> str | None:
    """RFC 2231 continuations `name*0`, `name*1*`, … joined until the first gap; None if no `name*0`.
    An undecodable encoded piece adds nothing."""
    joined: list[str] = []
    while True:
        n = len(joined)
        if (plain := parts.get(f"{name}*{n}")) is not None:
            joined.append(plain)
        elif (encoded := parts.get(f"{name}*{n}*")) is not None:
            joined.append((_decode_2231(encoded) if n == 0 else _unpercent(encoded)) or "")
        else:
            return "".join(joined) if joined else None


def _unpercent(value: str) -> str | None:
    """Go's percentHexUnescape: None on a "%" without two hex digits after it."""
    if _BAD_PERCENT.search(value):
        return None
    try:
        return unquote_to_bytes(value).decode("utf-8", "replace")
    except UnicodeEncodeError:  # a lone surrogate stands for no byte Go could have been sent
        return None
