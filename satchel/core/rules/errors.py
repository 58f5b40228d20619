"""The one error of the filter language: a filter or rule that can't be compiled."""

from __future__ import annotations

import json


class FilterError(ValueError):
    """A bad filter: the API answers 400 (list), 404 (view/update/delete) or 400 (create)."""


def quote(text: str) -> str:
    """Go's %q for the texts in these messages, so they read as the reference's do."""
    return json.dumps(text, ensure_ascii=False)
