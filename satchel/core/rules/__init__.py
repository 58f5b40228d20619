"""API rules and the filter language: who may list, view, create, update or delete records.

`null` lets only superusers through, `""` lets everyone through, and any other rule is a
filter expression compiled to parameterised SQL (lexer -> parser -> resolver -> builder ->
dialect), checked in the same query that reads the records. See `access` for how each rule
is applied and `query` for the time-limited reads.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from ..auth import Auth, is_superuser
from ..collections import Collection
from . import query
from .access import Scope, SuperusersOnly, list_condition, rule_condition, scope_of, unsaved_check
from .errors import FilterError
from .sort import order_by
from .request_info import DEFAULT, PROTECTED_FILE, RequestInfo, normalize_body, normalize_headers

log = logging.getLogger("satchel.rules")

__all__ = [
    "DEFAULT", "PROTECTED_FILE", "FilterError", "RequestInfo", "Scope", "SuperusersOnly",
    "allows", "can_access", "create_allowed", "list_condition", "normalize_body", "normalize_headers", "order_by",
    "rule_condition", "scope_of", "superusers_only",
]


def allows(collection: Collection, rule_name: str, auth: Auth | None) -> bool:
    """True when the rule lets this caller act on every record (superuser, or an empty rule)."""
    return is_superuser(auth) or collection.rule(rule_name) == ""


def superusers_only(collection: Collection, rule_name: str) -> bool:
    return collection.rule(rule_name) is None


async def can_access(sat: Any, collection: Collection, record_id: str, rule_name: str, request: RequestInfo) -> bool:
    """Whether the stored record `record_id` meets the rule for this request (file downloads)."""
    try:
        where = rule_condition(scope_of(sat), collection, rule_name, request)
    except SuperusersOnly:
        return False
    except FilterError as exc:
        log.warning("%s.%s can't be applied: %s", collection.name, rule_name, exc)
        return False
    if where is None:
        return True
    try:
        row = await sat.db.read(query.find_record, sat.schema.table(collection), record_id, where)
    except sa.exc.SQLAlchemyError as exc:
        log.warning("%s.%s failed: %s", collection.name, rule_name, exc)
        return False
    return row is not None


async def create_allowed(sat: Any, collection: Collection, row: dict[str, Any], request: RequestInfo) -> bool:
    """Whether the create rule accepts this not-yet-stored record (superusers always pass)."""
    rule = collection.rule("createRule")
    if request.is_superuser or rule == "":
        return True
    if rule is None:
        return False
    try:
        check = unsaved_check(scope_of(sat), collection, rule, row, request)
        return await sat.db.read(query.exists, check)
    except FilterError as exc:
        log.info("%s.createRule can't be applied: %s", collection.name, exc)
        return False
    except sa.exc.SQLAlchemyError as exc:
        log.warning("%s.createRule failed: %s", collection.name, exc)
        return False
