"""Claims on named time slots: one process of the whole cluster wins each slot.

A claim is a conditional UPDATE of one `_params` row: it succeeds only if the stored slot
is older than the one claimed. Slots are ISO-8601 UTC timestamps of a fixed width, so text
order is time order on every database.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from .tables import dialect_module, params_table


def claim(conn: Connection, key: str, slot: str) -> bool:
    """True for the first caller to claim `slot` under `key` (run inside a write transaction)."""
    insert = dialect_module(conn).insert(params_table)
    conn.execute(insert.values(id=key, value="").on_conflict_do_nothing(index_elements=["id"]))
    updated = conn.execute(
        params_table.update().where(params_table.c.id == key, params_table.c.value < slot).values(value=slot)
    )
    return updated.rowcount == 1

