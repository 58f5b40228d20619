"""The field types by name."""

from __future__ import annotations

from .autodate import AutodateField
from .base import FieldType, field_id
from .bool import BoolField
from .date import DateField
from .editor import EditorField
from .email import EmailField
from .file import FileField
from .geo_point import GeoPointField
from .json import JsonField
from .number import NumberField
from .password import PasswordField
from .relation import RelationField
from .select import SelectField
from .text import TextField
from .url import UrlField

FIELD_TYPES: dict[str, FieldType] = {
    cls.name: cls()
    for cls in (
        TextField, NumberField, BoolField, EmailField, UrlField, EditorField, DateField,
        AutodateField, SelectField, JsonField, FileField, RelationField, PasswordField, GeoPointField,
    )
}


def field_type(field: dict) -> FieldType:
    return FIELD_TYPES[field["type"]]


__all__ = ["FIELD_TYPES", "FieldType", "field_id", "field_type"]
