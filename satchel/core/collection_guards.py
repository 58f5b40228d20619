"""What an update may not change about a collection, as the reference refuses it.

A system collection (PocketBase's own, or one created with `"system": true`) keeps its name,
its system flag and its API rules; no collection loses or renames a system field, and no
field changes type under the same id. Each check answers the reference's error for its key.
"""

from __future__ import annotations

from typing import Any

from ..db.indexes import Index, parse_index
from ..errors import field_error
from .collection_model import AUTH_RULES, RULES, Collection


def update_errors(new: Collection, old: Collection) -> dict[str, Any]:
    """The refused changes from `old` to `new`, keyed as the reference keys them."""
    errors: dict[str, Any] = {}
    if new.data.get("system") != old.data.get("system"):
        errors["system"] = field_error("validation_collection_system_flag_change", "System collection state cannot be changed.")
    if old.data.get("system") and new.name != old.name:
        errors["name"] = field_error("validation_collection_system_name_change", "System collection name cannot be changed.")
    fields = _fields_errors(new, old)
    if fields:
        errors["fields"] = fields
    return errors


def mfa_rule_error(new: Collection, old: Collection | None) -> dict[str, Any] | None:
    """A system auth collection's MFA rule, like its API rules, stays as it was."""
    if old is None or not old.data.get("system") or new.data["mfa"].get("rule") == old.data["mfa"].get("rule"):
        return None
    return field_error("validation_collection_system_rule_change", "System collection API rule cannot be changed.")


def unique_index_error(new: Collection, old: Collection) -> dict[str, Any] | None:
    """A unique index over a system field must stay (under any name, table, WHERE, collation or order)."""
    system = {f["name"].lower(): f["name"] for f in old.fields if f.get("system")}
    kept = {_uniqueness(index) for index in map(parse_index, new.data.get("indexes") or []) if index}
    for index in map(parse_index, old.data.get("indexes") or []):
        if index is None or not index.unique:
            continue
        field = next((system[c.name.lower()] for c in index.columns if c.name.lower() in system), None)
        if field is not None and _uniqueness(index) not in kept:
            return field_error(
                "validation_invalid_unique_system_field_index",
                f"Unique index definition on system fields ({field}) is invalid or missing.",
                {"fieldName": field},
            )
    return None


def _uniqueness(index: Index) -> tuple[Any, ...]:
    return index.unique, index.optional, tuple(c.name for c in index.columns)


def rule_change_errors(new: Collection, old: Collection) -> dict[str, Any]:
    """A system collection's API rules as they were (null and "" differ)."""
    if not old.data.get("system"):
        return {}
    names = RULES + (AUTH_RULES if old.is_auth else ())
    return {
        name: field_error("validation_collection_system_rule_change", "System collection API rule cannot be changed.")
        for name in names
        if new.data.get(name) != old.data.get(name)
    }


def autodate_errors(new: Collection, old: Collection) -> dict[str, Any]:
    """A system autodate field keeps when it stamps (per field index, per option); this is checked
    before the option's other rules, so it stands in their place."""
    before = {f["id"]: f for f in old.fields if f["type"] == "autodate"}
    errors: dict[str, Any] = {}
    for index, field in enumerate(new.fields):
        previous = before.get(field["id"])
        if previous is None or field["type"] != "autodate" or not field.get("system"):
            continue
        changed = {
            key: field_error("validation_values_mismatch", "Values don't match.")
            for key in ("onCreate", "onUpdate") if bool(field.get(key)) != bool(previous.get(key))
        }
        if changed:
            errors[str(index)] = changed
    return errors


def _fields_errors(new: Collection, old: Collection) -> Any:
    by_id = {f["id"]: f for f in new.fields}
    for field in old.fields:
        if field.get("system") and by_id.get(field["id"], {}).get("name") != field["name"]:
            return field_error("validation_system_field_change", "System fields cannot be deleted or renamed.")
    types = {f["id"]: f["type"] for f in old.fields}
    changed = {
        str(index): field_error("validation_field_type_change", "Field type cannot be changed.")
        for index, field in enumerate(new.fields)
        if types.get(field["id"], field["type"]) != field["type"]
    }
    return changed or None


def relation_change_errors(new: Collection, old: Collection) -> dict[str, Any]:
    """A relation field keeps its target collection (per field index); this stands in place of
    the target's other checks, as there."""
    before = {f["id"]: f for f in old.fields if f["type"] == "relation"}
    errors: dict[str, Any] = {}
    for index, field in enumerate(new.fields):
        previous = before.get(field["id"])
        if field["type"] == "relation" and previous is not None and field.get("collectionId") and field["collectionId"] != previous["collectionId"]:
            errors[str(index)] = {"collectionId": field_error("validation_field_relation_change", "The relation collection cannot be changed.")}
    return errors


def composite_key_errors(collection: Collection) -> dict[str, Any]:
    """Every primary key field of a collection with more than one (per field index)."""
    keys = [i for i, f in enumerate(collection.fields) if f["type"] == "text" and f.get("primaryKey")]
    error = field_error("validation_unsupported_composite_pk", "Composite PKs are not supported and the collection must have only 1 PK.")
    return {str(i): {"primaryKey": error} for i in keys} if len(keys) > 1 else {}
