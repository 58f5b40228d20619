"""Collections being created or updated: their system fields and the checks on a submitted schema."""

from __future__ import annotations

import copy
import re
import zlib
from typing import Any

from ..db.indexes import Problem, has_unique_index, index_errors, parse_index, unknown_columns
from ..errors import ApiError, bad_request, field_error
from . import auth_options, collection_guards
from .auth_defaults import AUTH_DEFAULTS, PROVIDER_DEFAULTS, TOKEN_OPTIONS
from .collection_model import AUTH_RULES, RULES, TYPES, Collection
from .collection_shape import check_body
from .fields import FIELD_TYPES, field_type
from .fields.date import now
from .fields.text import generate
from .rules import rule_error
from .schema import Schema
from .views import Inference

_NAME = re.compile(r"^\w+$", re.ASCII)


def collection_id(type_: str, name: str) -> str:
    return f"pbc_{zlib.crc32((type_ + name).encode())}"


def _id_taken(lookup: Schema, id_: str) -> bool:
    return id_ in lookup.by_id  # ids only: a name doesn't take an id


def _free_id(checksum: str, lookup: Schema) -> str:
    """The generated id, with 2, 3, ... appended while a collection (maybe since renamed) holds it."""
    candidate = checksum
    for suffix in range(2, 1000):
        if not _id_taken(lookup, candidate):
            break
        candidate = f"{checksum}{suffix}"
    return candidate


def _system_field(type_: str, name: str, **options: Any) -> dict[str, Any]:
    field = {"name": name, "type": type_, "system": True, **options}
    return FIELD_TYPES[type_].normalize_options(field)


def id_field() -> dict[str, Any]:
    return _system_field(
        "text", "id", autogeneratePattern="[a-z0-9]{15}", max=15, min=15,
        pattern="^[a-z0-9]+$", primaryKey=True, required=True,
    )


def auth_system_fields() -> list[dict[str, Any]]:
    return [
        id_field(),
        _system_field("password", "password", hidden=True, min=8, required=True),
        _system_field("text", "tokenKey", autogeneratePattern="[a-zA-Z0-9]{50}", hidden=True, max=60, min=30, required=True),
        _system_field("email", "email", required=True),
        _system_field("bool", "emailVisibility"),
        _system_field("bool", "verified"),
    ]


def auth_indexes(collection_id_: str, name: str) -> list[str]:
    return [
        f"CREATE UNIQUE INDEX `idx_tokenKey_{collection_id_}` ON `{name}` (`tokenKey`)",
        f"CREATE UNIQUE INDEX `idx_email_{collection_id_}` ON `{name}` (`email`) WHERE `email` != ''",
    ]


def _secret() -> str:
    return generate("[a-zA-Z0-9]{50}")


def new_collection(body: dict[str, Any], lookup: Schema, *, check: bool = True, view: Inference | None = None) -> Collection:
    """Build and check a collection from a create request body (`check=False`: the caller
    validates it later, against the schema as it will be; `view`: what its query makes of a view)."""
    check_body(body)
    type_ = body.get("type") or "base"
    name: str = body["name"] if isinstance(body.get("name"), str) else ""
    stamp = now()
    data: dict[str, Any] = {
        "id": body.get("id") or _free_id(collection_id(type_, name), lookup),
        **{rule: None for rule in RULES},
        "name": name,
        "type": type_,
        "fields": [],
        "indexes": [],
        "created": stamp,
        "updated": stamp,
        "system": False,
    }
    if type_ == "auth":
        data.update(copy.deepcopy({"authRule": "", "manageRule": None, **AUTH_DEFAULTS}))
        for kind in TOKEN_OPTIONS:
            data[kind]["secret"] = _secret()
        data["indexes"] = auth_indexes(data["id"], name)
    if type_ == "view":
        data["viewQuery"] = ""
    system = auth_system_fields() if type_ == "auth" else [id_field()]
    return _apply(data, body, system, lookup, is_new=True, check=check, view=view)


def updated_collection(
    current: Collection, body: dict[str, Any], lookup: Schema, *, check: bool = True, view: Inference | None = None
) -> Collection:
    """Apply a PATCH body over a collection, keeping its system fields and secrets."""
    check_body(body)
    data = copy.deepcopy(current.data)
    data["updated"] = now()
    # Like the reference, a field list without the primary key (or an auth collection's own
    # fields) gets them back; other system fields left out are refused by collection_guards.
    intrinsic = {f["name"] for f in (auth_system_fields() if current.is_auth else [id_field()])}
    system = [f for f in current.fields if f.get("system") and f["name"] in intrinsic]
    return _apply(data, body, system, lookup, is_new=False, current=current, check=check, view=view)


def view_query(body: dict[str, Any], current: Collection | None = None) -> str | None:
    """The query a create or update body gives a view collection; None when it is no view."""
    type_ = current.data["type"] if current is not None else body.get("type")
    if type_ != "view":
        return None
    query = body.get("viewQuery")
    return query if isinstance(query, str) else (current.data.get("viewQuery", "") if current is not None else "")


def _apply(
    data: dict[str, Any],
    body: dict[str, Any],
    system: list[dict[str, Any]],
    lookup: Schema,
    is_new: bool,
    current: Collection | None = None,
    check: bool = True,
    view: Inference | None = None,
) -> Collection:
    if "fields" in body and not isinstance(body["fields"], list):
        raise bad_request("Failed to load the submitted data due to invalid formatting.")
    for key in ("name", "type", "system") if is_new else ("name", "system"):
        if body.get(key) is not None:  # null decodes to Go's zero value: the default stays
            data[key] = body[key]
    for key in RULES + (AUTH_RULES if data["type"] == "auth" else ()):
        if key in body:
            data[key] = body[key]
    if data["type"] == "auth":
        _apply_auth_options(data, body)
    if isinstance(body.get("indexes"), list):
        data["indexes"] = [i for i in body["indexes"] if isinstance(i, str)]
    if view is not None:  # a view's fields come from its query alone
        data["viewQuery"] = view_query(body, current)
        data["fields"] = view.fields
    elif "fields" in body or is_new:
        existing = current.fields if current else []
        data["fields"] = _merge_fields(system, existing, body.get("fields") or [])
    data["fields"] = [_with_system_defaults(f, data["type"]) for f in data["fields"]]
    if data["type"] == "auth":
        _settle_auth(data)
    collection = Collection(data)
    errors = validate_collection(collection, lookup, current) if check else {}
    if view is not None:
        errors.update(_view_errors(collection, view))
    if errors:
        raise ApiError(400, "Failed to create collection." if is_new else "Failed to update collection.", errors)
    return collection


def _settle_auth(data: dict[str, Any]) -> None:
    """As the reference does on save: the unique indexes of tokenKey and email are put back when
    missing, and an OAuth2 mapping to a field that doesn't exist is dropped."""
    for column, index in zip(("tokenKey", "email"), auth_indexes(data["id"], data["name"]), strict=True):
        if not has_unique_index(data["indexes"], column):
            data["indexes"] = [*data["indexes"], index]
    names = {f["name"] for f in data["fields"]}
    mapped = data["oauth2"]["mappedFields"]
    data["oauth2"]["mappedFields"] = {k: v if v in names else "" for k, v in mapped.items()}


def _apply_auth_options(data: dict[str, Any], body: dict[str, Any]) -> None:
    """Decode the body's auth options over the current ones as the reference does (objects merge,
    null is the zero value). A new token secret is stored, which is how an operator revokes every
    token of that kind at once (secrets stay out of every response)."""
    for key, default in AUTH_DEFAULTS.items():
        if key in body and (body[key] is None or isinstance(body[key], dict)):
            data[key] = _decoded(data.get(key, default), body[key])
    providers = data["oauth2"]["providers"]
    data["oauth2"]["providers"] = [{**PROVIDER_DEFAULTS, **{k: v for k, v in p.items() if v is not None}} for p in providers]


def _decoded(current: Any, value: Any) -> Any:
    """`value` read into a Go value holding `current`: objects merge key by key, null is zero."""
    if value is None:
        return _zero(current)
    if isinstance(current, dict) and isinstance(value, dict):
        return {**current, **{k: _decoded(current.get(k), v) for k, v in value.items()}}
    return value


def _zero(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _zero(v) for k, v in value.items()}
    return type(value)() if value is not None else None


def _merge_fields(
    system: list[dict[str, Any]], existing: list[dict[str, Any]], submitted: list[Any]
) -> list[dict[str, Any]]:
    """The new field list: submitted fields matched to old ones by id, then by name."""
    by_id = {f["id"]: f for f in existing}
    by_name = {f["name"]: f for f in existing}
    fields: list[dict[str, Any]] = []
    for raw in submitted:
        if not isinstance(raw, dict) or raw.get("type") not in FIELD_TYPES:
            raise bad_request("Failed to load the submitted data due to invalid formatting.")
        old = by_id.get(raw.get("id")) or (None if raw.get("id") else by_name.get(raw.get("name")))
        if old is not None and old["type"] == raw["type"]:
            raw = {**raw, "id": old["id"]}
        field = field_type(raw).normalize_options(raw)
        fields = [f for f in fields if f["id"] != field["id"] and f["name"] != field["name"]] + [field]
    ids = {f["id"] for f in fields}
    missing = [f for f in system if f["id"] not in ids]
    # Left out, the primary key comes back first and an auth collection's own fields last.
    return [f for f in missing if f.get("primaryKey")] + fields + [f for f in missing if not f.get("primaryKey")]


# What the reference enforces on a collection's own fields, whatever was sent (by name and type).
_ENFORCED: dict[tuple[str, str], dict[str, Any]] = {
    ("id", "text"): {"system": True, "required": True, "primaryKey": True, "hidden": False},
    ("password", "password"): {"system": True, "hidden": True, "required": True},
    ("tokenKey", "text"): {"system": True, "hidden": True, "required": True},
    ("email", "email"): {"system": True, "hidden": False},
    ("emailVisibility", "bool"): {"system": True},
    ("verified", "bool"): {"system": True},
}


def _with_system_defaults(field: dict[str, Any], type_: str) -> dict[str, Any]:
    """The field with the flags the reference forces on the primary key and on auth fields."""
    key = (field["name"], field["type"])
    if key not in _ENFORCED or (type_ != "auth" and key != ("id", "text")):
        return field
    field = {**field, **_ENFORCED[key]}
    if key == ("id", "text") and not field["pattern"]:
        field["pattern"] = id_field()["pattern"]
    return field


def validate_collection(collection: Collection, lookup: Schema, current: Collection | None) -> dict[str, Any]:
    data = collection.data
    errors: dict[str, Any] = {}
    name = data["name"]
    if not name:
        errors["name"] = field_error("validation_required", "Cannot be blank.")
    elif not isinstance(name, str) or not _NAME.match(name) or len(name) > 255:
        errors["name"] = field_error("validation_match_invalid", "Must be in a valid format.")
    else:
        other = lookup.find_collection(name)
        if other is not None and (current is None or other.id != current.id):
            errors["name"] = field_error("validation_collection_name_exists", "Collection name must be unique (case insensitive).")
    if current is None:
        errors.update(_new_id_errors(data["id"], lookup))
    if current is None and data["type"] not in TYPES:
        errors["type"] = field_error("validation_in_invalid", "Must be a valid value.")
    for rule in RULES + AUTH_RULES:
        if rule in data and data[rule] is not None and not isinstance(data[rule], str):
            errors[rule] = field_error("validation_invalid_rule", "Invalid rule.")
    field_errors: dict[str, Any] = {}
    seen: set[str] = set()
    for index, field in enumerate(collection.fields):
        problems = _field_errors(field, seen, lookup, collection.is_view)
        if problems:
            field_errors[str(index)] = problems
    guarded = [collection_guards.composite_key_errors(collection)]
    if current is not None:
        guarded += [collection_guards.autodate_errors(collection, current), collection_guards.relation_change_errors(collection, current)]
    for found in guarded:
        for position, mismatch in found.items():
            field_errors[position] = {**field_errors.get(position, {}), **mismatch}
    if field_errors:
        errors["fields"] = field_errors
    if current is not None:
        errors.update(collection_guards.update_errors(collection, current))
    indexes = data.get("indexes") or []
    problems = index_errors(indexes, _index_names(lookup, collection))
    if problems:
        errors["indexes"] = _problems(problems)
    if current is not None and "indexes" not in errors and (problem := collection_guards.unique_index_error(collection, current)):
        errors["indexes"] = problem
    if "name" not in errors or current is not None:
        errors.update({k: v for k, v in _rule_errors(collection, lookup).items() if k not in errors})
    if collection.is_auth:
        options = auth_options.option_errors(data)
        errors.update(options)
        if not options and not any(k in errors for k in AUTH_RULES):
            errors.update(auth_options.method_errors(
                collection, lambda rule: _rule_error(collection, lookup, rule) or collection_guards.mfa_rule_error(collection, current)))
    if current is not None:
        errors.update({k: v for k, v in collection_guards.rule_change_errors(collection, current).items() if k not in errors})
    if not errors and (problems := unknown_columns(indexes, {f["name"] for f in collection.fields})):
        errors["indexes"] = _problems(problems)
    return errors


def _view_errors(collection: Collection, view: Inference) -> dict[str, Any]:
    """The reference's checks of a view, which come before the common ones on the same keys:
    fields from a working query with an id, no write rules, no indexes, a query."""
    data = collection.data
    found: dict[str, Any] = {}
    if not collection.fields:
        found["fields"] = field_error("validation_required", "Cannot be blank.")
    elif not any(f["name"] == "id" and f.get("primaryKey") for f in collection.fields):
        found["fields"] = field_error("validation_missing_primary_key", 'Missing or invalid "id" PK field.')
    for rule in ("createRule", "updateRule", "deleteRule"):
        if data.get(rule) is not None:
            found[rule] = field_error("validation_nil", "Must be blank.")
    if data.get("indexes"):
        found["indexes"] = field_error("validation_indexes_not_supported", "View collections don't support indexes.")
    if not data["viewQuery"]:
        found["viewQuery"] = field_error("validation_required", "Cannot be blank.")
    elif view.error is not None:
        message = f"Invalid query - {view.error[:500]}"
        found["viewQuery"] = field_error("validation_invalid_view_query", message if message.endswith(".") else message + ".")
    return found


def _problems(problems: dict[str, Problem]) -> dict[str, Any]:
    return {key: field_error(code, message, params or None) for key, (code, message, params) in problems.items()}


def _new_id_errors(id_: str, lookup: Schema) -> dict[str, Any]:
    if not 1 <= len(id_) <= 100:
        return {"id": field_error("validation_length_out_of_range", "The length must be between 1 and 100.", {"max": 100, "min": 1})}
    if not _NAME.match(id_):  # Go's ^\w+$, as for names
        return {"id": field_error("validation_match_invalid", "Must be in a valid format.")}
    if _id_taken(lookup, id_):
        return {"id": field_error("validation_invalid_or_existing_id", "The model id is invalid or already exists.")}
    return {}


def _index_names(lookup: Schema, collection: Collection) -> dict[str, str]:
    """The index names other collections use (lower-cased), with their collection's name."""
    others = [c for c in lookup.all() if c.id != collection.id]
    return {index.name.lower(): other.name for other in others for index in map(parse_index, other.data.get("indexes") or []) if index}


def _rule_errors(collection: Collection, schema: Schema) -> dict[str, Any]:
    """Rules that can't be compiled against the collection as it will be saved (unknown fields, bad syntax)."""
    errors = {}
    for rule in RULES + (AUTH_RULES if collection.is_auth else ()):
        value = collection.data.get(rule)
        problem = _rule_error(collection, schema, value) if isinstance(value, str) else None
        if problem is not None:
            errors[rule] = problem
    return errors


def _rule_error(collection: Collection, schema: Schema, rule: str) -> dict[str, Any] | None:
    # Read against the fields that are well formed, so a rule is checked even beside field errors.
    sound: dict[str, dict[str, Any]] = {}
    for field in collection.fields:
        if isinstance(field.get("name"), str) and _NAME.match(field["name"]) and field.get("type") in FIELD_TYPES:
            sound.setdefault(field["name"], field)
    problem = rule_error(schema, Collection({**collection.data, "fields": list(sound.values())}), rule)
    return None if problem is None else field_error("validation_invalid_rule", f"Invalid rule. Raw error: {problem}.")


# Names a filter reads as something else: its literals and a record's dynamic fields.
_RESERVED_FIELD_NAMES = frozenset({"null", "true", "false", "_rowid_", "collectionId", "collectionName", "expand"})


def _field_name_error(name: Any) -> dict[str, Any] | None:
    """The reference's rules for a field name, in its order (reserved names are case-sensitive)."""
    if not name:
        return field_error("validation_required", "Cannot be blank.")
    if isinstance(name, str) and len(name) > 100:
        return field_error("validation_length_out_of_range", "The length must be between 1 and 100.", {"max": 100, "min": 1})
    if not isinstance(name, str) or not _NAME.match(name):
        return field_error("validation_match_invalid", "Must be in a valid format.")
    if name in _RESERVED_FIELD_NAMES:
        return field_error("validation_not_in_invalid", "Must not be in list.")
    if "_via_" in name.lower():
        return field_error("validation_found_via", 'The value cannot contain "_via_".')
    return None


def _field_errors(field: dict[str, Any], seen: set[str], lookup: Schema, in_view: bool) -> dict[str, Any]:
    problems: dict[str, Any] = {}
    name: str = field.get("name") or ""  # normalized fields always have a name, maybe ""
    if error := _field_name_error(name):
        problems["name"] = error
    elif name.lower() in seen:
        problems["name"] = field_error("validation_duplicated_field_name", f"Duplicated or invalid field name {name}.", {"fieldName": name})
    else:
        seen.add(name.lower())
    for key, limit in (("id", 100), ("help", 300)):
        if len(field.get(key) or "") > limit:
            problems[key] = field_error("validation_length_out_of_range", f"The length must be between 1 and {limit}.", {"max": limit, "min": 1})
    # The common rules come first: a field's own rule on the same option stands back.
    problems = {**field_type(field).validate_options(field, lookup), **problems}
    target = lookup.find_collection(field["collectionId"]) if field["type"] == "relation" and field.get("collectionId") else None
    if "collectionId" not in problems and target is not None and target.is_view and not in_view:
        problems["collectionId"] = field_error(
            "validation_relation_field_non_view_base_collection", "Only view collections are allowed to have relations to other views.")
    return problems
