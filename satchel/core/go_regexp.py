"""Go's regexp syntax errors, for patterns the reference compiles with Go's regexp package.

A field's `pattern` is refused with the message Go's parser gives ("missing closing ]: `[a`");
Python's `re` accepts and refuses other things and words its errors differently, so the common
mistakes are found here the way regexp/syntax finds them, in the same order.
"""

from __future__ import annotations

import functools
import re

_REPEAT = re.compile(r"\{(\d+)(,(\d*))?\}")
_POSIX = frozenset("alnum alpha ascii blank cntrl digit graph lower print punct space upper word xdigit".split())
_SIMPLE_ESCAPES = frozenset("afnrtv0dDsSwW")
_UNICODE_CLASS = re.compile(r"\\[pP](\{\^?([A-Za-z_]+)\}|[A-Za-z])")
# The Unicode classes Go knows: its categories and a sample of its scripts (a name outside both is refused).
_CATEGORIES = frozenset("Any C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs".split())
_SCRIPTS = frozenset("Arabic Armenian Bengali Cyrillic Devanagari Georgian Greek Han Hangul Hebrew Hiragana Katakana Latin Thai".split())


class GoRegexError(ValueError):
    """Go's `regexp.Compile` error text: `error parsing regexp: <what>: `<where>``."""

    def __init__(self, what: str, where: str) -> None:
        super().__init__(f"error parsing regexp: {what}: `{where}`")


def check(pattern: str) -> None:
    """Raise GoRegexError when Go's parser refuses `pattern`."""
    depth, i, can_repeat, last_repeat = 0, 0, False, -1
    while i < len(pattern):
        c, start, repeat = pattern[i], i, -1
        if c == "(":
            i, opens = _open_group(pattern, i)
            depth += opens
            can_repeat = can_repeat and not opens
            continue
        if c == ")":
            if depth == 0:
                raise GoRegexError("unexpected )", pattern)
            depth, can_repeat, i = depth - 1, True, i + 1
        elif c == "|":
            can_repeat, i = False, i + 1
        elif c in "*+?" or (c == "{" and _REPEAT.match(pattern, i)):
            i = _repeat_end(pattern, i)
            if i < len(pattern) and pattern[i] == "?":
                i += 1
            if not can_repeat:
                raise GoRegexError("missing argument to repetition operator", pattern[start:i])
            if last_repeat >= 0:
                raise GoRegexError("invalid nested repetition operator", pattern[last_repeat:i])
            repeat = start
        elif c == "[":
            i, can_repeat = _class_end(pattern, i), True
        elif c == "\\":
            i, can_repeat = _escape_end(pattern, i, in_class=False), True
        else:
            i, can_repeat = i + 1, True
        last_repeat = repeat
    if depth:
        raise GoRegexError("missing closing )", pattern)


def _open_group(pattern: str, i: int) -> tuple[int, bool]:
    """The index after a group's opening (`(`, `(?:`, `(?P<name>`, `(?<name>`, or flags
    alone as in `(?i)`) and whether a group was opened."""
    if not pattern.startswith("(?", i):
        return i + 1, True
    for prefix in ("(?P<", "(?<"):
        if pattern.startswith(prefix, i):
            end = pattern.find(">", i)
            if end < 0 or not re.fullmatch(r"\w+", pattern[i + len(prefix) : end]):
                raise GoRegexError("invalid named capture", pattern[i:] if end < 0 else pattern[i : end + 1])
            return end + 1, True
    j = i + 2
    while j < len(pattern) and pattern[j] in "imsU-":
        j += 1
    if j < len(pattern) and pattern[j] in ":)":
        return j + 1, pattern[j] == ":"
    raise GoRegexError("invalid or unsupported Perl syntax", pattern[i : j + 1])


def _repeat_end(pattern: str, i: int) -> int:
    """The index after a repetition operator; a count over 1000 or backwards is refused."""
    found = _REPEAT.match(pattern, i)
    if pattern[i] != "{" or found is None:
        return i + 1
    low, comma, high = int(found.group(1)), found.group(2), found.group(3)
    top = int(high) if high else (-1 if comma else low)
    if low > 1000 or top > 1000 or (top >= 0 and low > top):
        raise GoRegexError("invalid repeat count", found.group(0))
    return found.end()


def _escape_end(pattern: str, i: int, in_class: bool) -> int:
    if i + 1 >= len(pattern):
        raise GoRegexError("trailing backslash at end of expression", "")
    c = pattern[i + 1]
    if c in "pP":
        found = _UNICODE_CLASS.match(pattern, i)
        name = found.group(2) or found.group(1) if found else ""
        if found is None or name not in _CATEGORIES | _SCRIPTS:
            raise GoRegexError("invalid character class range", found.group(0) if found else pattern[i : i + 2])
        return found.end()
    if c == "x":
        found = re.compile(r"\\x(\{[0-9A-Fa-f]{1,6}\}|[0-9A-Fa-f]{2})").match(pattern, i)
        if found is None:
            raise GoRegexError("invalid escape sequence", pattern[i : i + 4])
        return found.end()
    if c == "Q":
        end = pattern.find("\\E", i + 2)
        return len(pattern) if end < 0 else end + 2
    if (c.isascii() and not c.isalnum()) or c in _SIMPLE_ESCAPES or (not in_class and c in "AbBz"):
        return i + 2
    raise GoRegexError("invalid escape sequence", pattern[i : i + 2])


def _class_end(pattern: str, i: int) -> int:
    """The index after a bracketed class; a missing `]` or a backwards range is refused."""
    j = i + 1
    if pattern.startswith("^", j):
        j += 1
    first = True
    while j < len(pattern) and (pattern[j] != "]" or first):
        first = False
        if pattern.startswith("[:", j) and (end := pattern.find(":]", j + 2)) >= 0:
            name = pattern[j + 2 : end].removeprefix("^")
            if name not in _POSIX:
                raise GoRegexError("invalid character class range", pattern[j : end + 2])
            j = end + 2
            continue
        start = j
        lo, j = _class_char(pattern, j)
        if lo is not None and pattern.startswith("-", j) and j + 1 < len(pattern) and pattern[j + 1] != "]":
            hi, j = _class_char(pattern, j + 1)
            if hi is not None and hi < lo:
                raise GoRegexError("invalid character class range", pattern[start:j])
    if j >= len(pattern):
        raise GoRegexError("missing closing ]", pattern[i:])
    return j + 1


def _class_char(pattern: str, j: int) -> tuple[str | None, int]:
    """One class member: its character (None for a class escape such as `\\d`) and the index after."""
    if pattern[j] != "\\":
        return pattern[j], j + 1
    end = _escape_end(pattern, j, in_class=True)
    text = pattern[j:end]
    plain = {"\\a": "\a", "\\f": "\f", "\\n": "\n", "\\r": "\r", "\\t": "\t", "\\v": "\v"}
    if text in plain:
        return plain[text], end
    if len(text) == 2 and not text[1].isalnum():
        return text[1], end
    return None, end


# Go's classes in Python's words, as far as Python's `re` can say them.
_PY_CLASSES = {
    "L": r"^\W\d_", "Lu": "A-Z", "Ll": "a-z", "N": r"\d", "Nd": r"\d", "Z": r"\s", "Zs": r"\s",
    "Latin": "A-Za-z\u00c0-\u024f", "Greek": "\u0370-\u03ff", "Cyrillic": "\u0400-\u04ff", "Han": "\u4e00-\u9fff",
}
_PY_POSIX = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\x00-\x7f", "blank": "\t ", "cntrl": "\x00-\x1f\x7f",
    "digit": "0-9", "graph": "!-~", "lower": "a-z", "print": " -~", "punct": "!-/:-@[-`{-~",
    "space": "\t\n\v\f\r ", "upper": "A-Z", "word": "0-9A-Za-z_", "xdigit": "0-9A-Fa-f",
}
_GO_ONLY = re.compile(r"\\[pP](?:\{(\^?)(\w+)\}|(\w))|\[:(\^?)(\w+):\]|\\z|\\Q(.*?)(?:\\E|$)|\\.|\[|\]|\$", re.DOTALL)


@functools.cache
def to_python(pattern: str) -> re.Pattern[str] | None:
    """A Go pattern as a Python one that matches the same text, or None when Python can't say it.

    Go's `$` is the end of the text (Python's also matches before a final newline), `\\z` is
    Python's `\\Z`, and Unicode and POSIX classes become ranges."""
    depth = 0
    multiline = bool(re.match(r"\(\?[a-zA-Z]*m", pattern))

    def swap(found: re.Match[str]) -> str:
        nonlocal depth
        text = found.group(0)
        if text == "[":
            depth += 1
            return text
        if text == "]":
            depth = max(depth - 1, 0)
            return text
        if text == "$":
            return text if depth or multiline else r"\Z"
        if text == r"\z":
            return r"\Z"
        if text.startswith(r"\Q"):
            return re.escape(found.group(6))
        if text.startswith("[:"):
            return ("^" if found.group(4) else "") + _PY_POSIX.get(found.group(5), "")
        if text.startswith(("\\p", "\\P")):
            name = found.group(2) or found.group(3)
            negated = (text[1] == "P") != bool(found.group(1))
            members = _PY_CLASSES.get(name, "")
            if members.startswith("^"):  # a class said by what it isn't
                members, negated = members[1:], not negated
            return members if depth and not negated else f"[{'^' if negated else ''}{members}]"
        return text

    try:
        return re.compile(_GO_ONLY.sub(swap, pattern))
    except re.error:
        return None
