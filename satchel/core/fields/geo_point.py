"""`geoPoint`: a longitude and latitude, stored as `{"lon":0,"lat":0}` JSON like the reference's.

A submitted value is read as the reference reads it: an object (or a string holding one) gives
its `lon` and `lat` numbers (exact keys); anything else, or a member of another type, is the
zero point, which counts as blank.
"""

from __future__ import annotations

from typing import Any

import orjson

from ...errors import field_error
from .base import FieldType, RecordLookup
from .casting import format_number

ZERO = '{"lon":0,"lat":0}'


def as_point(value: Any) -> dict[str, float]:
    if isinstance(value, str) and value:
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            value = None
    if not isinstance(value, dict):
        return {"lon": 0.0, "lat": 0.0}
    point = {"lon": value.get("lon", 0), "lat": value.get("lat", 0)}
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in point.values()):
        # The reference stops decoding at the first member of another type, in no fixed member
        # order, so it keeps either nothing or the other member; nothing is the one answer here.
        return {"lon": 0.0, "lat": 0.0}
    return {"lon": float(point["lon"]), "lat": float(point["lat"])}


class GeoPointField(FieldType):
    name = "geoPoint"
    column = "json"

    def column_default(self, field: dict[str, Any]) -> Any:
        return ZERO

    def zero(self, field: dict[str, Any]) -> Any:
        return {"lon": 0.0, "lat": 0.0}

    def prepare(self, value: Any, field: dict[str, Any]) -> dict[str, float]:
        return as_point(value)

    def is_blank(self, value: Any) -> bool:
        return value["lon"] == 0 and value["lat"] == 0

    def validate_value(self, value: dict[str, float], field: dict[str, Any], ctx: RecordLookup) -> dict[str, Any] | None:
        if not -90 <= value["lat"] <= 90:
            return field_error("validation_invalid_latitude", "Latitude must be between -90 and 90 degrees.")
        if not -180 <= value["lon"] <= 180:
            return field_error("validation_invalid_longitude", "Longitude must be between -180 and 180 degrees.")
        return None

    def to_db(self, value: Any, field: dict[str, Any]) -> str:
        return orjson.dumps(self.to_json(value, field)).decode()

    def from_db(self, value: Any, field: dict[str, Any]) -> dict[str, float]:
        return as_point(value)

    def to_json(self, value: Any, field: dict[str, Any]) -> dict[str, int | float]:
        return {"lon": format_number(value["lon"]), "lat": format_number(value["lat"])}
