"""Random strings a regular expression matches, as the reference draws them for autogenerate patterns.

The reference checks a text field's autogeneratePattern by drawing ten values from it and
validating each against the field's own limits; unbounded repeats stop after 6 more, as there.
"""

from __future__ import annotations

import random
import re
import string
from re import _parser as sre_parse  # type: ignore[attr-defined]  # Python's own regex parser
from typing import Any

_EXTRA_REPEAT = 6
_PRINTABLE = string.ascii_letters + string.digits + string.punctuation
_CATEGORIES = {
    "CATEGORY_DIGIT": string.digits,
    "CATEGORY_WORD": string.ascii_letters + string.digits + "_",
    "CATEGORY_SPACE": " \t\n\r\f\v",
}


class _Unsupported(Exception):
    """A construct this drawing doesn't know; the pattern is then not checked."""


def sample(pattern: str) -> str | None:
    """One random string `pattern` matches, or None when it can't be drawn here."""
    try:
        return _draw(sre_parse.parse(pattern))
    except (_Unsupported, re.error):  # a pattern Python reads otherwise than Go: not checked
        return None


def _draw(items: Any) -> str:
    return "".join(_item(op, arg) for op, arg in items)


def _item(op: Any, arg: Any) -> str:
    name = str(op)
    if name == "LITERAL":
        return chr(arg)
    if name == "ANY":
        return random.choice(_PRINTABLE)
    if name == "IN":
        return random.choice(_members(arg))
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, high, body = arg
        top = low + _EXTRA_REPEAT if high == sre_parse.MAXREPEAT else high
        return "".join(_draw(body) for _ in range(random.randint(low, top)))
    if name == "SUBPATTERN":
        return _draw(arg[-1])
    if name == "BRANCH":
        return _draw(random.choice(arg[1]))
    if name == "AT":
        return ""
    raise _Unsupported(name)


def _members(items: Any) -> str:
    chars = ""
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            chars += chr(arg)
        elif name == "RANGE":
            chars += "".join(map(chr, range(arg[0], arg[1] + 1)))
        elif name == "CATEGORY" and str(arg) in _CATEGORIES:
            chars += _CATEGORIES[str(arg)]
        else:
            raise _Unsupported(name)
    if not chars:
        raise _Unsupported("empty class")
    return chars
