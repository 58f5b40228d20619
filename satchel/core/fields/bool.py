from __future__ import annotations

from typing import Any

from .base import FieldType
from .casting import to_bool


class BoolField(FieldType):
    name = "bool"
    column = "bool"

    def prepare(self, value: Any, field: dict[str, Any]) -> bool:
        return to_bool(value)

    def from_db(self, value: Any, field: dict[str, Any]) -> bool:
        return bool(value)
