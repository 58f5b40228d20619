from __future__ import annotations

from typing import Any

from ...errors import field_error
from .base import Lookup, RecordLookup, required_error
from .select import MultiValueField


def missing_records_error() -> dict[str, Any]:
    return field_error("validation_missing_rel_records", "Failed to find all relation records with the provided ids.")


class RelationField(MultiValueField):
    name = "relation"
    defaults = {"cascadeDelete": False, "collectionId": "", "maxSelect": 0, "minSelect": 0, "required": False}

    def validate_options(self, field: dict[str, Any], ctx: Lookup) -> dict[str, Any]:
        errors = {}
        if not field.get("collectionId"):
            errors["collectionId"] = required_error()
        elif ctx.find_collection(field["collectionId"]) is None:
            errors["collectionId"] = field_error("validation_missing_collection", "The relation collection doesn't exist.")
        if error := self.max_select_error(field):
            errors["maxSelect"] = error
        return errors

    def validate_value(self, value: Any, field: dict[str, Any], ctx: RecordLookup) -> dict[str, Any] | None:
        ids = self.as_list(value)
        if field.get("minSelect") and len(ids) < field["minSelect"]:
            return field_error("validation_not_enough_values", f"Select at least {field['minSelect']}.", {"minSelect": field["minSelect"]})
        limit = max(field.get("maxSelect") or 0, 1)
        if len(ids) > limit:
            return field_error("validation_too_many_values", f"Select no more than {limit}.", {"maxSelect": limit})
        if not ctx.relations_exist(field["collectionId"], ids):
            return missing_records_error()
        return None
