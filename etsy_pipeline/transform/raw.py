"""What exists in `etsy_raw` right now. dlt creates tables and columns only once data has arrived for them (a shop
with no refunds yet has no refunds table; an always-null field has no column), so the shaping SQL asks here
and reads NULL for what is not there yet."""

from __future__ import annotations

from sqlalchemy import Connection, text

RAW = "etsy_raw"


class RawSchema:
    def __init__(self, conn: Connection) -> None:
        rows = conn.execute(
            text("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = :schema"),
            {"schema": RAW},
        )
        self.columns: dict[str, set[str]] = {}
        for table, column in rows:
            self.columns.setdefault(table, set()).add(column)

    def has(self, table: str, column: str | None = None) -> bool:
        if table not in self.columns:
            return False
        return column is None or column in self.columns[table]

    def col(self, table: str, column: str, alias: str, cast: str | None = None) -> str:
        """`alias.column`, or a NULL of the right type when the column does not exist yet."""
        if self.has(table, column):
            return f'{alias}."{column}"'
        return f"NULL::{cast}" if cast else "NULL"

    def table(self, name: str) -> str:
        return f'{RAW}."{name}"'
