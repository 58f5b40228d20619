"""`?fields=id,title:excerpt(100,true),expand.author.name`: the reference's response field picker.

Fields are comma separated (commas inside parentheses or quotes don't count); `*` keeps
every key at its level; a dotted field descends into objects (and into each object of a
list); `:excerpt(max, ellipsis?)` turns HTML into a short plain-text excerpt.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from starlette.requests import Request

from ..errors import bad_request
from ..strconv import truthy
from ..tokenizer import split_tokens
from .context import JSONResponse, query_value

Modifier = Any  # a callable value -> value, or None
EXCLUDED_TAGS = {"head", "style", "script", "iframe", "embed", "applet", "object", "svg", "img", "picture", "dialog",
                 "template", "button", "form", "textarea", "input", "select", "option"}
INLINE_TAGS = {"a", "abbr", "acronym", "b", "bdo", "big", "br", "button", "cite", "code", "em", "i", "label", "q",
               "small", "span", "strong", "strike", "sub", "sup", "time"}
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
_GO_SPACE = re.compile(r"[\t\n\f\r ]+")


def parse_fields(raw: str) -> dict[str, Modifier]:
    fields: dict[str, Modifier] = {}
    for token in split_tokens(raw, ","):
        name, sep, modifier = token.strip().partition(":")
        fields[name] = _modifier(modifier) if sep else None
    return fields


def _modifier(raw: str) -> Modifier:
    parts = split_tokens(raw, "(), ", ignore_parentheses=True)
    if not parts:
        raise ValueError(f"invalid or empty modifier expression {raw!r}")
    name, args = parts[0], parts[1:]
    if name != "excerpt":
        raise ValueError(f"missing or invalid modifier {name!r}")
    if not args or len(args) > 2:
        raise ValueError("expected (max, withEllipsis?)")
    try:
        limit = int(args[0])
    except ValueError:
        limit = 0
    if limit <= 0:
        raise ValueError("max argument must be > 0")
    ellipsis = len(args) > 1 and truthy(args[1])
    return lambda value: excerpt(value, limit, ellipsis)


class _Text(HTMLParser):
    """Plain text of HTML with block elements as spaces, stopping a little past `limit` bytes."""

    def __init__(self, limit: int) -> None:
        super().__init__(convert_charrefs=True)
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0
        self.prev_space = False
        self.skipping = 0  # depth inside an excluded element

    def _write(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text.encode())

    def _block_edge(self, tag: str) -> None:
        if tag not in INLINE_TAGS and not self.prev_space and self.size <= self.limit + 2:
            self._write(" ")
            self.prev_space = True

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if self.skipping or tag in EXCLUDED_TAGS:
            self.skipping += tag not in VOID_TAGS  # an excluded element hides everything inside it
            return
        self._block_edge(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            self.skipping -= 1
            return
        self._block_edge(tag)

    def handle_data(self, data: str) -> None:
        if self.skipping or self.size > self.limit + 2:
            return
        text = _GO_SPACE.sub(" ", data)
        if self.prev_space:
            text = text.lstrip(" ")
        if text:
            self.prev_space = text.endswith(" ")
            self._write(text)


def excerpt(value: Any, limit: int, ellipsis: bool) -> Any:
    """The reference's excerpt modifier; non-text values pass through."""
    if not isinstance(value, str):
        return value
    parser = _Text(limit)
    parser.feed(value)
    parser.close()
    result = "".join(parser.parts).strip()
    if len(result.encode()) > limit and len(result) > limit:
        result = result[:limit].strip() + ("..." if ellipsis else "")
    return result


def pick(data: Any, fields: dict[str, Modifier]) -> Any:
    """The picked keys of `data` (an object or a list of objects), as new containers: `data` may be shared."""
    if isinstance(data, dict):
        return _pick_map(data, fields)
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return [_pick_map(item, fields) if isinstance(item, dict) else item for item in data]
    return data


def _pick_map(data: dict[str, Any], fields: dict[str, Modifier]) -> dict[str, Any]:
    if not fields:
        return data
    if "*" in fields:  # every key no field names keeps its value, with the `*` modifier
        fields = {**{key: fields["*"] for key in data if not any((f + ".").startswith(key + ".") for f in fields)}, **fields}
    out: dict[str, Any] = {}
    for key, value in data.items():
        matching = {f: m for f, m in fields.items() if (f + ".").startswith(key + ".")}
        if not matching:
            continue
        exact = [m for f, m in matching.items() if f == key]
        if exact:
            out[key] = value if exact[0] is None else exact[0](value)
        else:
            out[key] = pick(value, {f[len(key) + 1 :]: m for f, m in matching.items()})
    return out


def pick_response(item: Any, raw: str | None) -> Any:
    """`item` picked by the `fields` parameter (nothing to do without one); a bad one is a 400."""
    if not raw:
        return item
    try:
        return pick(item, parse_fields(raw))
    except ValueError:
        raise bad_request() from None


def picked_json(request: Request, data: Any) -> JSONResponse:
    """A 200 JSON answer shaped by `?fields=`, which the reference applies to every JSON success."""
    return JSONResponse(pick_response(data, query_value(request, "fields")))
