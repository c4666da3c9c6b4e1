"""Upserts: the merge statement every writer of `core` uses (`upsert_sql`), and a bulk path for Python rows.

The set-based transforms (`transform/core/`) merge raw rows with `upsert_sql` over a SELECT. Rows built in
Python (`bulk_upsert`) are staged with COPY, then merged with the same statement, one per batch.

COPY into a temporary staging table is the fastest way to get many rows into PostgreSQL; the merge into the
target is then a single set-based statement per batch. Everything runs in the caller's transaction, so a
failing batch rolls back every batch before it. Rows whose values did not change are not rewritten (the
update carries an IS DISTINCT FROM guard), which keeps re-runs of a load cheap and leaves `updated_at`
meaning "last changed", not "last seen".
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from itertools import islice
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import Connection, Table
from sqlalchemy.dialects.postgresql import JSONB


class UpsertError(ValueError):
    """The rows or the key columns do not fit the table; the message names the column."""


def _batches(rows: Iterable[Mapping[str, Any]], size: int) -> Iterable[list[Mapping[str, Any]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def upsert_sql(
    target: str,
    columns: Sequence[str],
    source: str,
    *,
    key: Sequence[str],
    update: Sequence[str] | None = None,
    compare: Sequence[str] | None = None,
    touch: bool = True,
    returning: bool = False,
) -> str:
    """The one merge statement of the project: `INSERT INTO target (columns) <source> ON CONFLICT (key) DO UPDATE`.

    `update` (default: every column but the key) are overwritten from the new row; `touch` also sets
    `updated_at = now()`. The update carries a guard: only when the `compare` columns (default: `update`) differ
    is the row rewritten, so `updated_at` means "last changed", not "last seen", and a re-run of an unchanged load
    writes nothing (and reports nothing as written). With no columns to update the conflict does nothing.
    """
    cols = ", ".join(_quote(c) for c in columns)
    conflict = ", ".join(_quote(c) for c in key)
    updates = [c for c in columns if c not in key] if update is None else list(update)
    tail = " RETURNING 1" if returning else ""
    if not updates:
        return f"INSERT INTO {target} ({cols}) {source} ON CONFLICT ({conflict}) DO NOTHING{tail}"
    assignments = [f"{_quote(c)} = EXCLUDED.{_quote(c)}" for c in updates]
    if touch:
        assignments.append('"updated_at" = now()')
    guarded = updates if compare is None else list(compare)
    guard = ""
    if guarded:
        current = ", ".join(f"{target}.{_quote(c)}" for c in guarded)
        proposed = ", ".join(f"EXCLUDED.{_quote(c)}" for c in guarded)
        guard = f" WHERE ROW({current}) IS DISTINCT FROM ROW({proposed})"
    return (
        f"INSERT INTO {target} ({cols}) {source} ON CONFLICT ({conflict}) DO UPDATE SET {', '.join(assignments)}"
        f"{guard}{tail}"
    )


def _merge_sql(table: Table, staging: str, columns: list[str], key: Sequence[str]) -> str:
    conflict = ", ".join(_quote(c) for c in key)
    cols = ", ".join(_quote(c) for c in columns)
    # DISTINCT ON keeps the last occurrence of a key within the batch: ON CONFLICT cannot touch a row twice.
    source = f"SELECT DISTINCT ON ({conflict}) {cols} FROM {staging} ORDER BY {conflict}, _seq DESC"
    touch = "updated_at" in table.c and "updated_at" not in columns
    return upsert_sql(_target(table), columns, source, key=key, touch=touch, returning=True)


def _target(table: Table) -> str:
    return f"{_quote(table.schema)}.{_quote(table.name)}" if table.schema else _quote(table.name)


def _copy(
    conn: Connection,
    table: Table,
    staging: str,
    columns: list[str],
    json_columns: set[str],
    batch: list[Mapping[str, Any]],
) -> None:
    """COPY one batch into the staging table through the driver connection (same transaction)."""
    sql = f"COPY {staging} ({', '.join(_quote(c) for c in columns)}, _seq) FROM STDIN"
    expected = batch[0].keys()
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(sql) as copy:
            for seq, row in enumerate(batch):
                if row.keys() != expected:
                    raise UpsertError(f"row {seq} has columns {sorted(row)}, expected {sorted(columns)}")
                values = [Jsonb(row[c]) if c in json_columns and row[c] is not None else row[c] for c in columns]
                copy.write_row([*values, seq])
    except psycopg.Error as exc:
        raise UpsertError(f"rows do not fit {table.fullname}: {exc}") from exc
    finally:
        cursor.close()


def bulk_upsert(
    conn: Connection,
    table: Table,
    rows: Iterable[Mapping[str, Any]],
    *,
    key: Sequence[str],
    batch_size: int = 10_000,
) -> int:
    """Insert or update `rows` keyed on the unique columns `key`; returns how many rows were written.

    Every row must carry the same columns. Runs inside the caller's transaction on `conn`
    (use `engine.begin()`).
    """
    if batch_size < 1:
        raise UpsertError(f"batch_size must be >= 1, got {batch_size!r}")
    for name in key:
        if name not in table.c:
            raise UpsertError(f"key column {name!r} is not a column of {table.fullname}")
    written = 0
    staging: str | None = None
    columns: list[str] = []
    json_columns: set[str] = set()
    merge = ""
    for batch in _batches(rows, batch_size):
        if staging is None:
            columns = list(batch[0].keys())
            unknown = [c for c in columns if c not in table.c]
            if unknown:
                raise UpsertError(f"column(s) {unknown} are not columns of {table.fullname}")
            missing = [k for k in key if k not in columns]
            if missing:
                raise UpsertError(f"rows lack the key column(s) {missing}")
            staging = _quote(f"upsert_{uuid.uuid4().hex[:12]}")
            conn.exec_driver_sql(
                f"CREATE TEMP TABLE {staging} ON COMMIT DROP AS "
                f"SELECT {', '.join(_quote(c) for c in columns)} FROM {_target(table)} WITH NO DATA"
            )
            conn.exec_driver_sql(f"ALTER TABLE {staging} ADD COLUMN _seq bigint")
            merge = _merge_sql(table, staging, columns, key)
            json_columns = {c for c in columns if isinstance(table.c[c].type, JSONB)}
        _copy(conn, table, staging, columns, json_columns, batch)
        written += len(conn.exec_driver_sql(merge).all())
        conn.exec_driver_sql(f"TRUNCATE {staging}")
    if staging is not None:
        conn.exec_driver_sql(f"DROP TABLE {staging}")
    return written
