"""What exists in `etsy_raw` right now. dlt creates tables and columns only once data has arrived for them (a shop
with no refunds yet has no refunds table; an always-null field has no column), so the shaping SQL asks here
and reads NULL for what is not there yet."""

from __future__ import annotations

from sqlalchemy import Connection, text

# `etsy_raw` tables (name -> oid) whose indexes this process has ensured, per database.
_INDEXED: dict[str, dict[str, int]] = {}
TABLES = (
    "SELECT c.relname, c.oid::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = :s AND c.relkind IN ('r', 'p')"
)

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


# dlt creates no index on primary keys (nor, with `create_indexes=False`, on `_dlt_id`: sync/workdir.py), and the
# shaping SQL reads by shop and load and joins children to their root (a direct child by `_dlt_root_id`, which is
# its `_dlt_parent_id` too: one index fewer to keep up on every row a load copies in). These indexes make both the
# merge (which deletes a root's old rows by `_dlt_id`) and the shaping cost follow the size of a load, not of the
# table.
ROOT_KEYS = {
    "shops": "shop_id",
    "shop_sections": "shop_section_id",
    "listings": "listing_id",
    "receipts": "receipt_id",
    "payments": "payment_id",
    "reviews": "transaction_id",
    "ledger_entries": "entry_id",
}
# Root tables a shop's first load appends to: with no row of the shop in them there is nothing to merge with, so
# dlt's staging copy and merge (two fifths of PostgreSQL's work in a first pull) are skipped, and the rows a load
# holds twice are removed before shaping (`transform/dedupe.py`). Small tables and those with children dlt
# normalizes (listings) keep the merge.
FIRST_LOAD_APPENDS = ("receipts", "ledger_entries", "payments", "reviews")


def ensure_raw_indexes(conn: Connection) -> int:
    """Create the missing indexes on `etsy_raw` (idempotent); returns how many were created."""
    raw = RawSchema(conn)
    wanted: list[tuple[str, str]] = []
    for table, key in ROOT_KEYS.items():
        if raw.has(table, key):
            wanted.append((table, key))
        if raw.has(table, "_dlt_id"):
            wanted.append((table, "_dlt_id"))  # skipped below where dlt's own unique constraint has it
        if raw.has(table, "shop_id") and raw.has(table, "_dlt_load_id"):
            wanted.append((table, "shop_id, _dlt_load_id"))
    for table, present in raw.columns.items():
        if "_dlt_root_id" in present:
            wanted.append((table, "_dlt_root_id"))
        if "_dlt_parent_id" in present and table.count("__") >= 2:  # a direct child's parent is its root
            wanted.append((table, "_dlt_parent_id"))
    existing = {
        row[0] for row in conn.execute(text("SELECT indexname FROM pg_indexes WHERE schemaname = :s"), {"s": RAW})
    }
    created = 0
    for table, columns in wanted:
        name = f"ix_{table}_{columns.replace(', ', '_')}"[:63]
        if name in existing or (columns == "_dlt_id" and f"{table}__dlt_id_key" in existing):
            continue
        conn.execute(text(f'CREATE INDEX IF NOT EXISTS "{name}" ON {RAW}."{table}" ({columns})'))
        created += 1
    return created


def ensure_raw_indexes_once(conn: Connection, database: str) -> int:
    """`ensure_raw_indexes` only when `etsy_raw` has a table this process has not indexed yet.

    Looking at every column and index of `etsy_raw` took two catalog queries per shop pulled; a batch of shops
    in one process now pays one cheap `pg_class` read per shop. A table dlt created or re-created (a new oid)
    since the last look is indexed as before; an index dropped by hand returns with the next process.
    """
    tables = raw_tables(conn)
    known = _INDEXED.get(database)
    if known is not None and tables.items() <= known.items():
        return 0
    created = ensure_raw_indexes(conn)
    _INDEXED[database] = tables
    return created


WITH_SHOP_ID = (
    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'shop_id' AND NOT a.attisdropped "
    "WHERE n.nspname = :s AND c.relname = ANY(:tables)"
)


def first_loads(conn: Connection, etsy_shop_id: int) -> frozenset[str]:
    """The `FIRST_LOAD_APPENDS` tables that hold no row of the shop (or do not exist yet): its next load of them
    appends. A table whose rows cannot be told apart by shop keeps the merge."""
    present = {name for (name,) in conn.execute(text(WITH_SHOP_ID), {"s": RAW, "tables": list(FIRST_LOAD_APPENDS)})}
    tables = set(raw_tables(conn)) & set(FIRST_LOAD_APPENDS)
    empty = {name for name in FIRST_LOAD_APPENDS if name not in tables}
    for name in present:
        held = text(f'SELECT EXISTS (SELECT 1 FROM {RAW}."{name}" WHERE shop_id = :s)')
        if not conn.execute(held, {"s": etsy_shop_id}).scalar():
            empty.add(name)
    return frozenset(empty)


def raw_tables(conn: Connection) -> dict[str, int]:
    """`etsy_raw`'s tables by name, with their oids."""
    return {name: int(oid) for name, oid in conn.execute(text(TABLES), {"s": RAW})}
