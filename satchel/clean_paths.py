"""Go's ServeMux path cleaning: `//`, `.` and `..` segments are answered with a 307 to the clean path;
and, before that, net/http's 400 for a path with a broken `%` escape.

PocketBase's router is a ServeMux, so this happens before any of its handlers or middlewares: the
redirect carries none of the API's headers. The cleaning works on the escaped path, as there, so
`%2F` and `%2e%2e` stay as they are (and reach the handlers, which refuse them).
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")
_HTML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"})


def clean_path(path: str) -> str:
    """Go's path.Clean on a rooted path, keeping a trailing slash (ServeMux's cleanPath)."""
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in ("", "."):
            segments.append(segment)
    clean = "/" + "/".join(segments)
    return clean + "/" if path.endswith("/") and clean != "/" else clean


class CleanPaths:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = (scope.get("raw_path") or scope["path"].encode()) if scope["type"] == "http" else b"/"
        if b"%" in raw and _BAD_ESCAPE.search(raw):
            await _bad_request(send)  # Go's server can't parse the request URI: no handler ever runs
            return
        if b"//" in raw or b"/." in raw or not raw.startswith(b"/"):
            path = raw.decode("latin-1")
            clean = clean_path(path)
            if clean != path:
                await _redirect(scope, send, clean)
                return
        await self.app(scope, receive, send)


async def _redirect(scope: Scope, send: Send, clean: str) -> None:
    """Go's http.Redirect with 307: a short HTML body for GET and HEAD, nothing for other methods."""
    location = clean + ("?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else "")
    headers = [(b"location", location.encode("latin-1"))]
    body = b""
    if scope["method"] in ("GET", "HEAD"):
        headers.insert(0, (b"content-type", b"text/html; charset=utf-8"))
        body = f'<a href="{location.translate(_HTML_ESCAPES)}">Temporary Redirect</a>.\n\n'.encode("latin-1")
    if scope["method"] != "HEAD":
        headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": 307, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


async def _bad_request(send: Send) -> None:
    """net/http's own answer to a request it can't parse: plain text, and the connection closed."""
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": 400, "headers": headers})
    await send({"type": "http.response.body", "body": b"400 Bad Request"})
