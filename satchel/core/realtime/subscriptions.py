"""A subscription string, as a client sends it: `topic?options={"query":{...},"headers":{...}}`.

The whole string is the subscription's name (events are sent under it); the topic before the
first `?` says what it listens to, and the options hold the query and headers its rules and
`expand`/`fields` see, normalised as the reference does (string values, snake_case headers).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import orjson

_NON_WORD = re.compile(r"[\W_]+", re.ASCII)


@dataclass(frozen=True)
class Options:
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def key(self) -> tuple[Any, ...]:
        """A hashable form, to group subscriptions whose checks and renderings are the same."""
        return tuple(sorted(self.query.items())), tuple(sorted(self.headers.items()))


def topic_of(subscription: str) -> str:
    return subscription.split("?", 1)[0]


def parse_options(subscription: str) -> Options:
    """The `options` query parameter of a subscription; anything malformed counts as none."""
    _, sep, rest = subscription.partition("?")
    if not sep:
        return Options()
    values = parse_qs(rest.split("#", 1)[0], keep_blank_values=True).get("options")
    if not values or not values[0]:
        return Options()
    try:
        raw = orjson.loads(values[0])
    except orjson.JSONDecodeError:
        return Options()
    if not isinstance(raw, dict):
        return Options()
    query, headers = raw.get("query"), raw.get("headers")
    return Options(
        query={k: _string(v) for k, v in query.items()} if isinstance(query, dict) else {},
        headers={snakecase(k): _string(v) for k, v in headers.items()} if isinstance(headers, dict) else {},
    )


def _string(value: Any) -> str:
    """Go's cast.ToString for JSON values: objects and arrays become ""."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        number = float(value)
        if math.isfinite(number) and number == int(number) and abs(number) < 1e21:
            return str(int(number))
        return repr(number)
    return ""


def snakecase(text: str) -> str:
    """`X-Token` -> `x_token`, `myTestDB` -> `my_test_db`, as the reference's inflector."""
    words = []
    for word in _NON_WORD.split(text):
        if not word:
            continue
        out = []
        for i, ch in enumerate(word):
            if ch.isupper() and i > 0 and not word[i - 1].isupper():
                out.append("_")
            out.append(ch)
        words.append("".join(out))
    return "_".join(words).lower()
