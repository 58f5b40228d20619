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

from ..collection_model import Collection
from . import query
from .access import Scope, SuperusersOnly, list_condition, rule_condition, rule_error, scope_of, unsaved_check, values_check
from .collections_filter import matching_ids_query as collections_query
from .errors import FilterError
from .request_info import DEFAULT, PROTECTED_FILE, RequestInfo, normalize_body, normalize_headers
from .sort import RANDOM, order_by, parse_sort

log = logging.getLogger("satchel.rules")

__all__ = [
    "DEFAULT", "PROTECTED_FILE", "FilterError", "collections_query", "RequestInfo", "Scope", "SuperusersOnly",
    "can_access", "create_allowed", "list_condition", "normalize_body", "normalize_headers", "order_by",
    "managed_ids", "manages_unsaved", "parse_sort", "RANDOM", "rule_condition", "rule_error", "scope_of", "values_allowed",
]


async def can_access(sat: Any, collection: Collection, record_id: str, rule_name: str, request: RequestInfo) -> bool:
    """Whether the stored record `record_id` meets the rule for this request (file downloads)."""
    try:
        where = rule_condition(scope_of(sat), collection, rule_name, request)
    except SuperusersOnly:
        return False
    except (FilterError, RecursionError) as exc:
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
    return await _unsaved_matches(sat, collection, "createRule", rule, row, request)


async def manages_unsaved(sat: Any, collection: Collection, row: dict[str, Any], request: RequestInfo) -> bool:
    """Whether the caller manages this not-yet-stored auth record (manageRule; never for an empty rule)."""
    rule = collection.rule("manageRule")
    if not collection.is_auth or not rule or request.auth is None:
        return False
    return await _unsaved_matches(sat, collection, "manageRule", rule, row, request)


async def _unsaved_matches(sat: Any, collection: Collection, name: str, rule: str, row: dict[str, Any], request: RequestInfo) -> bool:
    try:
        check = unsaved_check(scope_of(sat), collection, rule, row, request)
        return await sat.db.read(query.exists, check)
    except (FilterError, RecursionError) as exc:
        log.info("%s.%s can't be applied: %s", collection.name, name, exc)
        return False
    except sa.exc.SQLAlchemyError as exc:
        log.warning("%s.%s failed: %s", collection.name, name, exc)
        return False


async def managed_ids(sat: Any, collection: Collection, ids: list[str], request: RequestInfo) -> set[str]:
    """The ids among `ids` of auth records the caller manages (their email shows, whatever emailVisibility)."""
    rule = collection.rule("manageRule")
    if not collection.is_auth or not ids or request.auth is None:
        return set()
    if request.is_superuser:
        return set(ids)
    if not rule:
        return set()
    try:
        where = rule_condition(scope_of(sat), collection, "manageRule", request)
        return await sat.db.read(query.matching_ids, sat.schema.table(collection), ids, where)
    except (FilterError, RecursionError, sa.exc.SQLAlchemyError) as exc:
        log.warning("%s.manageRule can't be applied: %s", collection.name, exc)
        return set()


async def values_allowed(
    sat: Any, collection: Collection, row: dict[str, Any], checks: list[tuple[str, RequestInfo, str]],
) -> list[bool]:
    """For each (rule name, request, filter): whether the record `row` meets them (see values_check).

    The queries of all checks run in one database read."""
    scope = scope_of(sat)
    answers: list[Any] = []
    for rule_name, request, filter_text in checks:
        try:
            answers.append(values_check(scope, collection, rule_name, row, request, filter_text))
        except (FilterError, RecursionError) as exc:
            log.info("%s.%s can't be applied to an event: %s", collection.name, rule_name, exc)
            answers.append(False)
    queries = [a for a in answers if not isinstance(a, bool)]
    if not queries:
        return answers

    def run(conn: Any) -> list[bool]:
        found = []
        for q in queries:
            try:
                with conn.begin_nested():
                    found.append(query.exists(conn, q))
            except sa.exc.SQLAlchemyError as exc:
                log.warning("%s: an event check failed: %s", collection.name, exc)
                found.append(False)
        return found

    results = iter(await sat.db.read(run))
    return [a if isinstance(a, bool) else next(results) for a in answers]
