from __future__ import annotations

from typing import Any

from ... import deepjson
from ...errors import field_error
from .base import FieldType, Lookup, RecordLookup
from .casting import go_numbers
from .limits import MAX_SAFE_INT, bounded

DEFAULT_MAX_SIZE = 1 << 20
_JSON_STARTS = frozenset('0123456789-"[{')


class JsonField(FieldType):
    name = "json"
    defaults = {"maxSize": 0, "required": False}
    column = "json"

    def prepare(self, value: Any, field: dict[str, Any]) -> Any:
        # A string holding valid JSON is that JSON (form bodies carry JSON as text).
        if isinstance(value, str):
            try:
                value = deepjson.loads(value)
            except ValueError:  # orjson's JSONDecodeError is one
                return value
        return deepjson.servable(go_numbers(value))

    def is_blank(self, value: Any) -> bool:
        return value is None or value == "" or value == [] or value == {}

    def validate_options(self, field: dict[str, Any], ctx: Lookup) -> dict[str, Any]:
        return bounded(field, {"maxSize": (0, MAX_SAFE_INT)})

    def max_size(self, field: dict[str, Any]) -> int:
        size: int = field.get("maxSize") or DEFAULT_MAX_SIZE
        return size

    def body_allowance(self, field: dict[str, Any]) -> int:
        return self.max_size(field)

    def validate_value(self, value: Any, field: dict[str, Any], ctx: RecordLookup) -> dict[str, Any] | None:
        limit = self.max_size(field)
        if len(deepjson.dumps(value)) > limit:
            return field_error("validation_json_size_limit", f"The maximum allowed JSON size is {limit} bytes.", {"maxSize": limit})
        return None

    def to_db(self, value: Any, field: dict[str, Any]) -> str | None:
        return None if value is None else deepjson.dumps(value).decode()

    def from_view(self, value: Any, field: dict[str, Any]) -> Any:
        """As the reference reads a view's column into a json field: text is JSON when it is
        `null`, `true`, `false` or valid JSON starting like a number, string, list or object,
        else it is a string ("" included); other values are themselves."""
        if not isinstance(value, str):
            return go_numbers(value)
        if value in ("null", "true", "false") or value[:1] in _JSON_STARTS:
            try:
                return deepjson.stored(value)
            except ValueError:
                return value
        return value

    def from_db(self, value: Any, field: dict[str, Any]) -> Any:
        if value is None or value == "":
            return None
        try:
            return deepjson.stored(value)
        except ValueError:
            return value
