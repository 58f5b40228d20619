"""Go's mime.ParseMediaType, reduced to the part mimetype's MIME.Is keeps: the media type.

MIME.Is drops Go's error and compares whatever type came back, so the quirks below decide which
`mimeTypes` entries can match: a malformed parameter list still yields the type, while a
parameter repeated with a different value yields "".
"""

from __future__ import annotations

import re

# unicode.IsSpace; Python's str.isspace() also counts \x1c-\x1f, Go's does not
_SPACE = ("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
          "\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
_TSPECIALS = '()<>@,;:\\"/[]?='
_TOKEN = r"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+"
_TOKEN_RE = re.compile(_TOKEN)
_TYPE_RE = re.compile(f"{_TOKEN}(?:/{_TOKEN})?")


def media_type(value: str) -> str:
    """The lower-cased `type` or `type/subtype` of `value`, or "" where Go returns none.

    "" when the type is malformed or a parameter is repeated with a different value (names
    compared case-insensitively, RFC 2231 `name*` parts apart from plain ones). Any other
    parameter error stops the parse but keeps the type, as Go does.
    """
    base = value.split(";", 1)[0]
    # Go lower-cases rune by rune: İ becomes "i", where Python's lower() gives "i" + U+0307
    mediatype = base.replace("\u0130", "i").lower().strip(_SPACE)
    if not _TYPE_RE.fullmatch(mediatype):
        return ""
    plain: dict[str, str] = {}
    starred: dict[str, dict[str, str]] = {}
    rest = value[len(base):]
    while rest := rest.lstrip(_SPACE):
        param = _param(rest)
        if param is None:
            break  # a trailing ";" or a parse error: either way Go keeps the type
        name, val, rest = param
        same_name = starred.setdefault(name.split("*")[0], {}) if "*" in name else plain
        if same_name.setdefault(name, val) != val:
            return ""
    return mediatype


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
    return (m[0], v[m.end():]) if m else ("", v)


def _value(v: str) -> tuple[str, str] | None:
    """A token or a quoted string at the start of `v`: (value, rest), or None."""
    if not v.startswith('"'):
        token, rest = _token(v)
        return (token, rest) if token else None
    out, i = [], 1
    while i < len(v):
        c = v[i]
        if c == '"':
            return "".join(out), v[i + 1:]
        # Go honours a backslash only before a tspecial (MSIE sends "C:\dir" unescaped)
        if c == "\\" and i + 1 < len(v) and v[i + 1] in _TSPECIALS:
            c, i = v[i + 1], i + 1
        elif c in "\r\n":
            return None
        out.append(c)
        i += 1
    return None
