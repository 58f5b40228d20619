from __future__ import annotations

from typing import Any

from ...errors import field_error
from .base import Lookup, RecordLookup, required_error
from .limits import range_error
from .select import MultiValueField


def missing_records_error() -> dict[str, Any]:
    return field_error("validation_missing_rel_records", "Failed to find all relation records with the provided ids.")


class RelationField(MultiValueField):
    name = "relation"
    defaults = {"cascadeDelete": False, "collectionId": "", "maxSelect": 0, "minSelect": 0, "required": False}

    def validate_options(self, field: dict[str, Any], ctx: Lookup) -> dict[str, Any]:
        """The target by id (a name won't do); maxSelect is needed with minSelect and not below it."""
        errors = {}
        target = ctx.find_collection(field["collectionId"]) if field.get("collectionId") else None
        if not field.get("collectionId"):
            errors["collectionId"] = required_error()
        elif target is None or target.id != field["collectionId"]:
            errors["collectionId"] = field_error("validation_field_relation_missing_collection", "The relation collection doesn't exist.")
        low = field.get("minSelect") or 0
        if error := range_error(low, 0, None):
            errors["minSelect"] = error
        if low > 0 and not field.get("maxSelect"):
            errors["maxSelect"] = required_error()
        elif error := range_error(field.get("maxSelect"), low, None):
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
