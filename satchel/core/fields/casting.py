"""PocketBase's lenient casts (Go's spf13/cast), shared by the field types."""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

from ... import deepjson
from ...strconv import truthy


def to_str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float_text(value)
    if isinstance(value, (dict, list)):
        return ""  # cast.ToString can't turn a map or a slice into text (repeated form values too)
    return str(value)


def to_id(value: Any) -> str:
    """A record id as cast.ToString makes one: scalars as text, objects and lists as nothing."""
    return "" if isinstance(value, dict | list) else to_str(value)


def to_float(value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return 0.0
    return 0.0


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        return truthy(value.strip())
    return False


def go_float_text(value: float) -> str:
    """strconv.FormatFloat(f, 'f', -1, 64), as cast.ToString writes a float: no exponent, shortest digits."""
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
    return format(Decimal(repr(value)).normalize(), "f")


def go_json_number(value: float) -> str:
    """A float64 as Go's encoding/json writes it: plain digits from 1e-6 up to 1e21, else the
    shortest exponent form, a negative one without its leading zero ("1e-7", "1e+21")."""
    if value == 0 or 1e-6 <= abs(value) < 1e21:
        return go_float_text(value)
    return re.sub(r"e-0(\d)$", r"e-\1", repr(value))


def format_number(value: float) -> int | float:
    """Go prints a whole float64 without a fraction; JSON callers get an int then.

    Its digits are the shortest that read back as the same float (12345678901234567000, not
    the float's exact 12345678901234567168), so big ones go through repr. From 2**63 on the
    JSON encoder can't take an int, so those stay floats (1e+20 where Go writes all the digits)."""
    if math.isfinite(value) and value == int(value) and abs(value) < 2**63:
        return int(value) if abs(value) < 2**53 else int(Decimal(repr(value)))
    return value


def go_numbers(value: Any) -> Any:
    """A decoded JSON value with every number as Go's any-typed decode leaves it: a float64."""
    return deepjson.rebuild(value, _go_number)


def _go_number(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_number(float(value))
    return value


def to_str_list(value: Any) -> list[str]:
    """A list of unique non-empty strings; a string holding a JSON array is unpacked."""
    if value is None:
        return []
    if isinstance(value, str):
        if "[" in value:
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
            if isinstance(parsed, list):
                return to_str_list(parsed)
        value = [value]
    elif not isinstance(value, (list, tuple)):
        value = [value]
    out: list[str] = []
    for item in value:
        text = to_str(item) if not isinstance(item, str) else item
        if text and text not in out:
            out.append(text)
    return out
