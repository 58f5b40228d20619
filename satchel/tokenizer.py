"""The reference's text tokenizer: split on separators outside parentheses and quotes.

PocketBase reads `?fields=`, modifier arguments and index column lists with it, so they all
split the same way here.
"""

from __future__ import annotations

import json

WHITESPACE = "\t\n\v\f\r \x85\xa0"
QUOTES = "\"'`"


def split_tokens(raw: str, separators: str, ignore_parentheses: bool = False, keep_separator: bool = False) -> list[str]:
    """The reference's tokenizer: split on separators outside parentheses and quotes, trim, drop empties.

    With `keep_separator` each token ends with the separator that closed it, as the reference's
    view query parser reads them; whitespace that is a separator is then never trimmed."""
    tokens: list[str] = []
    buf: list[str] = []
    depth, quote, prev = 0, "", ""
    for ch in raw:
        if prev != "\\":
            if not ignore_parentheses and ch == "(" and not quote:
                depth += 1
            elif not ignore_parentheses and ch == ")" and depth > 0 and not quote:
                depth -= 1
            elif ch in QUOTES:
                quote = "" if quote == ch else (ch if not quote else quote)
        if ch in separators and depth == 0 and not quote:
            tokens.append("".join(buf) + (ch if keep_separator else ""))
            buf, prev = [], ""
            continue
        buf.append(ch)
        prev = ch
    if depth > 0 or quote:
        raise ValueError(f"unbalanced parenthesis or quoted expression: {json.dumps(''.join(buf), ensure_ascii=False)}")
    tokens.append("".join(buf))
    cut = "".join(ch for ch in WHITESPACE if ch not in separators)
    return [t.strip(cut) for t in tokens if t.strip(cut)]
