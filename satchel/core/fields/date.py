from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ...api.errors import field_error
from .base import FieldType


def format_datetime(moment: datetime) -> str:
    """PocketBase's datetime text: `2026-11-28 10:53:41.097Z`, always UTC."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def now() -> str:
    return format_datetime(datetime.now(UTC))


def parse_datetime(value: Any) -> datetime | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def normalize(value: Any) -> str:
    moment = parse_datetime(value)
    return format_datetime(moment) if moment else ""


class DateField(FieldType):
    name = "date"
    defaults = {"max": "", "min": "", "required": False}

    def prepare(self, value: Any, field: dict[str, Any]) -> str:
        return normalize(value)

    def validate_value(self, value: str, field: dict[str, Any], ctx: Any) -> dict[str, Any] | None:
        if field.get("min") and value < normalize(field["min"]):
            return field_error("validation_min_date_constraint", f"Must be no less than {field['min']}.", {"min": field["min"]})
        if field.get("max") and value > normalize(field["max"]):
            return field_error("validation_max_date_constraint", f"Must be no greater than {field['max']}.", {"max": field["max"]})
        return None
