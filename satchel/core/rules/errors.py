"""The one error of the filter language: a filter or rule that can't be compiled."""

from __future__ import annotations


class FilterError(ValueError):
    """A bad filter: the API answers 400 (list), 404 (view/update/delete) or 400 (create)."""
