"""ozzo-validation's is.EmailFormat: govalidator's IsEmail regex, at the commit PocketBase 0.40.6 pins.

Kept with its quirks, since clients meet them as PocketBase's answers: no length cap, a trailing dot
after the domain, `_` and `~` inside domain labels, and a quoted local part of exactly one
character (the pattern's `*` repeats the opening quote together with that character).
"""

from __future__ import annotations

import re

_WIDE = "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef"  # the non-ASCII letters the pattern allows
_ATOM = f"[a-zA-Z0-9!#$%&'*+\\-/=?^_`{{|}}~{_WIDE}]"
_SPACE = r"(?:(?:[ \t]*\r\n)?[ \t]+)"  # folding white space
_QUOTED_CHAR = f"(?:[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f\\x21\\x23-\\x5b\\x5d-\\x7e{_WIDE}]|\\([\\x01-\\x09\\x0b\\x0c\\x0d-\\x7f])"
_LOCAL = f'(?:{_ATOM}+(?:\\.{_ATOM}+)*|(?:"{_SPACE}?{_QUOTED_CHAR})*{_SPACE}?")'
# The original domain is `((L|L[L.~_-]*L)\.)+` then a top-level label. Its labels may hold dots,
# so any run of labels is itself one label: the same language as `L(?:[L.~_-]*L)?\.`, which
# Python's backtracking matches in polynomial time where the original takes exponential time.
_LABEL_END = f"[a-zA-Z0-9{_WIDE}]"
_LABELS = f"{_LABEL_END}(?:[a-zA-Z0-9\\-._~{_WIDE}]*{_LABEL_END})?\\."
_TOP = f"[a-zA-Z{_WIDE}](?:[a-zA-Z0-9\\-_~{_WIDE}]*[a-zA-Z{_WIDE}])?"
_EMAIL = re.compile(f"{_LOCAL}@{_LABELS}{_TOP}\\.?")


def is_email_format(value: str) -> bool:
    return _EMAIL.fullmatch(value) is not None
