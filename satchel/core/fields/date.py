from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ...errors import field_error
from .base import FieldType, RecordLookup


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

    def normalize_options(self, field: dict[str, Any]) -> dict[str, Any]:
        """min and max are read as dates, as the reference decodes them: unreadable is no bound."""
        out = super().normalize_options(field)
        return {**out, "min": normalize(out["min"]), "max": normalize(out["max"])}

    def prepare(self, value: Any, field: dict[str, Any]) -> str:
        return normalize(value)

    def validate_value(self, value: str, field: dict[str, Any], ctx: RecordLookup) -> dict[str, Any] | None:
        moment = parse_datetime(value)
        for option, code, words in (
            ("min", "validation_min_greater_equal_than_required", "no less"),
            ("max", "validation_max_less_equal_than_required", "no greater"),
        ):
            bound = parse_datetime(field.get(option))
            if moment is None or bound is None or (moment >= bound if option == "min" else moment <= bound):
                continue
            return field_error(code, f"Must be {words} than {go_time(bound)}.", {"threshold": rfc3339(bound)})
        return None


def _fraction(moment: datetime) -> str:
    return f".{moment.microsecond:06d}".rstrip("0").rstrip(".")


def go_time(moment: datetime) -> str:
    """Go's time.Time.String() for a UTC time: `2020-01-01 00:00:00.5 +0000 UTC`."""
    return moment.strftime("%Y-%m-%d %H:%M:%S") + _fraction(moment) + " +0000 UTC"


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + _fraction(moment) + "Z"
