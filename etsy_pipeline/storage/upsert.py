"""Bulk INSERT ... ON CONFLICT DO UPDATE in batches, all in one transaction.

Rows whose values did not change are not rewritten (the update carries an IS DISTINCT FROM guard), which
keeps re-runs of a load cheap and leaves `updated_at` meaning "last changed", not "last seen".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import Connection, Table, func, literal_column, tuple_
from sqlalchemy.dialects.postgresql import insert


class UpsertError(ValueError):
    """The rows or the key columns do not fit the table; the message names the column."""


# PostgreSQL's wire protocol allows 65,535 bind parameters per statement.
MAX_PARAMETERS = 60_000


def _batches(rows: Iterable[Mapping[str, Any]], size: int) -> Iterable[list[Mapping[str, Any]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def bulk_upsert(
    conn: Connection,
    table: Table,
    rows: Iterable[Mapping[str, Any]],
    *,
    key: Sequence[str],
    batch_size: int = 1000,
) -> int:
    """Insert or update `rows` keyed on the unique columns `key`; returns how many rows were written.

    Runs inside the caller's transaction on `conn` (use `engine.begin()`), so a failing batch rolls back
    every batch before it. Every row must carry the same columns.
    """
    if batch_size < 1:
        raise UpsertError(f"batch_size must be >= 1, got {batch_size!r}")
    for name in key:
        if name not in table.c:
            raise UpsertError(f"key column {name!r} is not a column of {table.fullname}")
    written = 0
    for batch in _batches(rows, batch_size):
        if len(batch) * len(batch[0]) > MAX_PARAMETERS:
            written += bulk_upsert(conn, table, batch, key=key, batch_size=max(1, MAX_PARAMETERS // len(batch[0])))
            continue
        columns = list(batch[0].keys())
        unknown = [c for c in columns if c not in table.c]
        if unknown:
            raise UpsertError(f"column(s) {unknown} are not columns of {table.fullname}")
        stmt = insert(table).values(batch)
        updates = [c for c in columns if c not in key]
        if not updates:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(key))
        else:
            set_: dict[str, Any] = {c: stmt.excluded[c] for c in updates}
            if "updated_at" in table.c and "updated_at" not in columns:
                set_["updated_at"] = func.now()
            changed = tuple_(*[table.c[c] for c in updates]).is_distinct_from(
                tuple_(*[stmt.excluded[c] for c in updates])
            )
            stmt = stmt.on_conflict_do_update(index_elements=list(key), set_=set_, where=changed)
        # RETURNING counts the rows actually written (skipped no-op updates return nothing); the driver's
        # rowcount is not reliable for multi-row VALUES.
        written += len(conn.execute(stmt.returning(literal_column("1"))).all())
    return written
