"""What a pull no longer repeats per shop must still happen when it matters: the raw indexes of every table dlt
creates (or re-creates), and the shop's row counts the catalog shows."""

from __future__ import annotations

from sqlalchemy import text

from etsy_pipeline.storage.database import Database
from etsy_pipeline.transform.raw import ensure_raw_indexes_once


def _indexes(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return set(conn.execute(text("SELECT indexname FROM pg_indexes WHERE schemaname = 'etsy_raw'")).scalars())


def _create(db: Database, table: str, key: str) -> None:
    columns = dict.fromkeys([key, "shop_id"], "bigint") | {"_dlt_load_id": "text"}
    with db.engine.begin() as conn:
        conn.execute(text("CREATE SCHEMA IF NOT EXISTS etsy_raw"))
        conn.execute(text(f"CREATE TABLE etsy_raw.{table} ({', '.join(f'{c} {t}' for c, t in columns.items())})"))


def _ensure(db: Database) -> int:
    with db.engine.begin() as conn:
        return ensure_raw_indexes_once(conn, db.url)


def test_raw_indexes_are_ensured_for_every_new_or_recreated_table_and_only_then(db: Database) -> None:
    _create(db, "shops", "shop_id")
    assert _ensure(db) == 2
    assert {"ix_shops_shop_id", "ix_shops_shop_id__dlt_load_id"} <= _indexes(db)
    assert _ensure(db) == 0  # nothing new: no catalog scan, nothing created

    _create(db, "receipts", "receipt_id")  # a table dlt creates once data arrives for it
    assert _ensure(db) == 2
    assert {"ix_receipts_receipt_id", "ix_receipts_shop_id__dlt_load_id"} <= _indexes(db)

    with db.engine.begin() as conn:  # dlt re-creates a table (a refresh): its indexes went with the old one
        conn.execute(text("DROP TABLE etsy_raw.receipts"))
    _create(db, "receipts", "receipt_id")
    assert _ensure(db) == 2
    assert {"ix_receipts_receipt_id", "ix_receipts_shop_id__dlt_load_id"} <= _indexes(db)


def test_a_root_table_gets_an_index_on_its_row_key_unless_dlt_made_one(db: Database) -> None:
    """dlt makes no `_dlt_id` index (`create_indexes=False`), but the merge deletes a root's old rows by it."""
    with db.engine.begin() as conn:
        conn.execute(text("CREATE SCHEMA IF NOT EXISTS etsy_raw"))
        conn.execute(text("CREATE TABLE etsy_raw.payments (payment_id bigint, _dlt_id text)"))
        # a table dlt created before, with its unique constraint on `_dlt_id`
        conn.execute(text("CREATE TABLE etsy_raw.reviews (transaction_id bigint, _dlt_id text UNIQUE)"))
    _ensure(db)
    indexes = _indexes(db)
    assert "ix_payments__dlt_id" in indexes
    assert "reviews__dlt_id_key" in indexes and "ix_reviews__dlt_id" not in indexes
