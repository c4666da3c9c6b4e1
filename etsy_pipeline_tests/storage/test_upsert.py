from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, Table, func, select, text
from sqlalchemy.exc import IntegrityError

from etsy_pipeline.storage.base import table_of
from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.models import Inventory, Listing
from etsy_pipeline.storage.repositories import Repositories
from etsy_pipeline.storage.upsert import UpsertError, bulk_upsert, upsert_sql
from etsy_pipeline_tests.factories import add_listings, user_with_shop

LISTINGS: Table = table_of(Listing)
INVENTORY: Table = table_of(Inventory)


def _rows(shop_id: int, n: int, price: str = "10.00") -> list[dict[str, object]]:
    return [
        {"etsy_listing_id": 5_000 + i, "shop_id": shop_id, "title": f"L{i}", "state": "active", "price": Decimal(price)}
        for i in range(n)
    ]


def test_inserts_then_updates_only_changed_rows(db: Database, repos: Repositories) -> None:
    _, shop = user_with_shop(repos, "a@example.com")
    with db.engine.begin() as conn:
        assert bulk_upsert(conn, LISTINGS, _rows(shop.id, 2500), key=["etsy_listing_id"], batch_size=1000) == 2500
    with db.engine.begin() as conn:
        assert bulk_upsert(conn, LISTINGS, _rows(shop.id, 2500), key=["etsy_listing_id"]) == 0  # nothing changed
    changed = _rows(shop.id, 2500)
    changed[7]["price"] = Decimal("11.00")
    with db.engine.begin() as conn:
        assert bulk_upsert(conn, LISTINGS, changed, key=["etsy_listing_id"]) == 1
        assert conn.scalar(select(func.count()).select_from(LISTINGS)) == 2500
        assert conn.scalar(select(Listing.price).where(Listing.etsy_listing_id == 5_007)) == Decimal("11.00")


def test_a_failing_batch_rolls_back_the_whole_call(db: Database, repos: Repositories) -> None:
    _, shop = user_with_shop(repos, "a@example.com")
    rows = _rows(shop.id, 30)
    rows[25]["shop_id"] = 999_999  # foreign key violation in the third batch
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        bulk_upsert(conn, LISTINGS, rows, key=["etsy_listing_id"], batch_size=10)
    with db.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(LISTINGS)) == 0


def test_large_batches_load_completely(db: Database, repos: Repositories) -> None:
    _, shop = user_with_shop(repos, "a@example.com")
    with db.engine.begin() as conn:
        assert bulk_upsert(conn, LISTINGS, _rows(shop.id, 13_000), key=["etsy_listing_id"], batch_size=13_000) == 13_000
        assert conn.scalar(select(func.count()).select_from(LISTINGS)) == 13_000


def test_bad_columns_are_named(db: Database) -> None:
    with db.engine.begin() as conn:
        with pytest.raises(UpsertError, match=r"key column 'listing_key' is not a column of core\.listings"):
            bulk_upsert(conn, LISTINGS, [], key=["listing_key"])
        with pytest.raises(UpsertError, match=r"column\(s\) \['colour'\] are not columns of core.listings"):
            bulk_upsert(conn, LISTINGS, [{"etsy_listing_id": 1, "colour": "red"}], key=["etsy_listing_id"])


def test_duplicate_keys_in_one_call_keep_the_last_row(db: Database, repos: Repositories) -> None:
    _, shop = user_with_shop(repos, "a@example.com")
    rows = _rows(shop.id, 3)
    rows.append({**rows[1], "title": "second copy"})  # a listing seen on two pages
    with db.engine.begin() as conn:
        assert bulk_upsert(conn, LISTINGS, rows, key=["etsy_listing_id"]) == 3
        assert conn.scalar(select(Listing.title).where(Listing.etsy_listing_id == 5_001)) == "second copy"


def test_a_value_of_the_wrong_type_names_the_column(db: Database, repos: Repositories) -> None:
    _, shop = user_with_shop(repos, "a@example.com")
    rows = _rows(shop.id, 2)
    rows[1]["price"] = "twelve"
    pattern = r"(?s)rows do not fit core.listings: .*numeric.*twelve.*column price"
    with pytest.raises(UpsertError, match=pattern), db.engine.begin() as conn:
        bulk_upsert(conn, LISTINGS, rows, key=["etsy_listing_id"])


def test_json_and_array_columns_round_trip(db: Database, repos: Repositories) -> None:
    _, shop = user_with_shop(repos, "a@example.com")
    (listing,) = add_listings(db, shop.id, [{"title": "Mug", "tags": ["a", "ü"]}])
    values = [{"property_id": 513, "value_ids": [1], "values": ["Röd"]}]
    with db.engine.begin() as conn:
        bulk_upsert(
            conn,
            INVENTORY,
            [
                {
                    "listing_id": listing,
                    "shop_id": shop.id,
                    "variation_key": "513:1",
                    "quantity": 2,
                    "property_values": values,
                }
            ],
            key=["listing_id", "variation_key"],
        )
        assert conn.scalar(select(Inventory.property_values)) == values
        assert conn.scalar(select(Listing.tags)) == ["a", "ü"]


def _merge(conn: Connection, shop_id: int, title: str, views: int, **options: Any) -> int:
    source = "SELECT 777, CAST(:shop AS bigint), CAST(:title AS text), 'active', 5, CAST(:views AS bigint)"
    columns = ("etsy_listing_id", "shop_id", "title", "state", "price", "views")
    sql = upsert_sql("core.listings", columns, source, key=["etsy_listing_id"], **options)
    return max(conn.execute(text(sql), {"shop": shop_id, "title": title, "views": views}).rowcount, 0)


def test_the_merge_statement_rewrites_a_row_only_when_a_compared_column_changed(
    db: Database, repos: Repositories
) -> None:
    """What every transform relies on: `compare` decides what counts as a change, `update` what is written."""
    _, shop = user_with_shop(repos, "merge@example.com")
    with db.engine.begin() as conn:
        assert _merge(conn, shop.id, "first", 1, compare=["title"]) == 1  # inserted
        stamped = conn.execute(text("SELECT updated_at FROM core.listings WHERE etsy_listing_id = 777")).scalar_one()
        assert _merge(conn, shop.id, "first", 2, compare=["title"]) == 0  # views are not compared: untouched
        assert conn.execute(text("SELECT views FROM core.listings WHERE etsy_listing_id = 777")).scalar_one() == 1
        assert _merge(conn, shop.id, "second", 3, compare=["title"]) == 1  # a compared column: rewritten whole
        row = conn.execute(text("SELECT title, views, updated_at FROM core.listings WHERE etsy_listing_id = 777")).one()
        assert (row.title, row.views) == ("second", 3) and row.updated_at >= stamped
        assert _merge(conn, shop.id, "third", 4, update=["views"], compare=[]) == 1  # unguarded, only views
        row = conn.execute(text("SELECT title, views FROM core.listings WHERE etsy_listing_id = 777")).one()
        assert (row.title, row.views) == ("second", 4)
        assert _merge(conn, shop.id, "fourth", 5, update=[]) == 0  # nothing to update: the conflict does nothing
        assert (
            conn.execute(text("SELECT title FROM core.listings WHERE etsy_listing_id = 777")).scalar_one() == "second"
        )
