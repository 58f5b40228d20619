"""The reference's text tokenizer: split on separators outside parentheses and quotes.

PocketBase reads `?fields=`, modifier arguments and index column lists with it, so they all
split the same way here.
"""

from __future__ import annotations

WHITESPACE = "\t\n\v\f\r \x85\xa0"
QUOTES = "\"'`"


def split_tokens(raw: str, separators: str, ignore_parentheses: bool = False) -> list[str]:
    """The reference's tokenizer: split on separators outside parentheses and quotes, trim, drop empties."""
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
            tokens.append("".join(buf))
            buf, prev = [], ""
            continue
        buf.append(ch)
        prev = ch
    if depth > 0 or quote:
        raise ValueError(f"unbalanced parenthesis or quoted expression: {''.join(buf)!r}")
    tokens.append("".join(buf))
    cut = WHITESPACE + separators
    return [t.strip(cut) for t in tokens if t.strip(cut)]
