"""The field types by name."""

from __future__ import annotations

from typing import Any, TypeVar

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
from .select import MultiValueField, SelectField
from .text import TextField
from .url import UrlField

FIELD_TYPES: dict[str, FieldType] = {
    cls.name: cls()
    for cls in (
        TextField, NumberField, BoolField, EmailField, UrlField, EditorField, DateField,
        AutodateField, SelectField, JsonField, FileField, RelationField, PasswordField, GeoPointField,
    )
}


T = TypeVar("T", bound=FieldType)


def field_type(field: dict[str, Any]) -> FieldType:
    return FIELD_TYPES[field["type"]]


def field_type_as(field: dict[str, Any], kind: type[T]) -> T:
    """The field's type where the caller knows its kind, e.g. a relation is a MultiValueField."""
    ftype = FIELD_TYPES[field["type"]]
    if not isinstance(ftype, kind):
        raise TypeError(f"a {field['type']} field is not a {kind.__name__}")
    return ftype


__all__ = ["FIELD_TYPES", "FieldType", "FileField", "MultiValueField", "field_id", "field_type", "field_type_as"]
