"""API rules: who may list, view, create, update or delete a collection's records.

`null` lets only superusers through and `""` lets everyone through. Filter
expressions come with the rules issue; until then a non-empty rule denies, and
says so in the log, so that no rule is ever looser than its author meant.
"""

from __future__ import annotations

import logging

from ..auth import Auth, is_superuser
from ..collections import Collection

log = logging.getLogger("satchel.rules")


def allows(collection: Collection, rule_name: str, auth: Auth | None) -> bool:
    """True when the rule lets this caller act on every record of the collection."""
    if is_superuser(auth):
        return True
    rule = collection.rule(rule_name)
    if rule is None:
        return False
    if rule == "":
        return True
    log.warning("%s.%s is an expression (%r); expressions are not evaluated yet, so access is denied", collection.name, rule_name, rule)
    return False


def superusers_only(collection: Collection, rule_name: str) -> bool:
    return collection.rule(rule_name) is None
