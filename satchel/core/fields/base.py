"""What every field type shares: its JSON options, its column and its value rules.

A field is a plain dict in the collection's JSON; a `FieldType` is the stateless
behaviour for one `type`. Subclasses list their own option defaults and override
only the hooks they need.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from ...errors import field_error

if TYPE_CHECKING:
    from ..collection_model import Collection

COMMON_DEFAULTS: dict[str, Any] = {
    "help": "",
    "hidden": False,
    "presentable": False,
    "system": False,
}

Errors = dict[str, Any]


class Lookup(Protocol):
    """What a field's options may ask about other collections (the schema being saved against)."""

    def find_collection(self, id_or_name: str) -> Collection | None: ...


class RecordLookup(Lookup, Protocol):
    """What a value may ask while a record is validated, inside the validating transaction."""

    def relations_exist(self, collection_id: str, ids: list[str]) -> bool: ...


def field_id(type_: str, name: str) -> str:
    """PocketBase names a new field `{type}{crc32(name)}`."""
    return f"{type_}{zlib.crc32(name.encode())}"


def required_error() -> dict[str, Any]:
    return field_error("validation_required", "Cannot be blank.")


class FieldType:
    name: ClassVar[str]
    #: the options every field has, as far as this type has them
    common: ClassVar[dict[str, Any]] = COMMON_DEFAULTS
    #: the option keys of this type and their defaults, besides the common ones
    defaults: ClassVar[dict[str, Any]] = {"required": False}
    #: column kind for db/: "text", "number", "bool" or "json"
    column: ClassVar[str] = "text"

    def normalize_options(self, field: dict[str, Any]) -> dict[str, Any]:
        """The field's JSON with every option present, keys sorted as PocketBase prints them."""
        out = {**self.common, **self.defaults}
        for key in (*out, "id", "name"):
            if key in field and (field[key] is not None or out.get(key) is None):
                out[key] = field[key]
        out["type"] = self.name
        if out.get("name") is None:  # null decodes to Go's zero value
            out["name"] = ""
        if not out.get("id"):
            out["id"] = field_id(self.name, out["name"])
        return dict(sorted(out.items()))

    def validate_options(self, field: dict[str, Any], ctx: Lookup) -> Errors:
        """Errors in the field's own settings, keyed by option name."""
        return {}

    def is_multiple(self, field: dict[str, Any]) -> bool:
        return False

    def body_allowance(self, field: dict[str, Any]) -> int:
        """Bytes a request body may carry for this field beyond the common limit (files, big JSON)."""
        return 0

    def column_kind(self, field: dict[str, Any]) -> str:
        return self.column

    def column_default(self, field: dict[str, Any]) -> Any:
        return {"text": "", "number": 0, "bool": False, "json": None}[self.column_kind(field)]

    def zero(self, field: dict[str, Any]) -> Any:
        """The value a new record gets when nothing is sent."""
        return self.column_default(field)

    def prepare(self, value: Any, field: dict[str, Any]) -> Any:
        """Cast a submitted value the lenient way PocketBase does ("12" -> 12.0 for numbers)."""
        return value

    def is_blank(self, value: Any) -> bool:
        return value in (None, "", 0, False, [], {})

    def validate(self, value: Any, field: dict[str, Any], ctx: RecordLookup) -> dict[str, Any] | None:
        """The first error for this value, or None."""
        if self.is_blank(value):
            return required_error() if field.get("required") else None
        return self.validate_value(value, field, ctx)

    def validate_value(self, value: Any, field: dict[str, Any], ctx: RecordLookup) -> dict[str, Any] | None:
        return None

    def to_db(self, value: Any, field: dict[str, Any]) -> Any:
        return value

    def from_db(self, value: Any, field: dict[str, Any]) -> Any:
        return value

    def from_view(self, value: Any, field: dict[str, Any]) -> Any:
        """A value read from a view collection's column, which any query may have filled."""
        return self.from_db(value, field)

    def to_json(self, value: Any, field: dict[str, Any]) -> Any:
        return value
