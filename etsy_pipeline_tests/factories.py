"""Small builders for rows the tests need, written through the same storage layer the application uses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import select

from etsy_pipeline.storage.base import table_of
from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.models import Customer, Inventory, Listing, Order
from etsy_pipeline.storage.repositories import Repositories
from etsy_pipeline.storage.repositories.users import UserView
from etsy_pipeline.storage.repositories.views import ShopView
from etsy_pipeline.storage.upsert import bulk_upsert

BASE_TIME = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
_counter = iter(range(1, 10_000_000))


def next_id() -> int:
    return 1_000_000 + next(_counter)


def user_with_shop(repos: Repositories, email: str, shop_name: str = "Shop") -> tuple[UserView, ShopView]:
    user = repos.users.create(email)
    shop = repos.shops.create(user.id, etsy_shop_id=next_id(), shop_name=shop_name, currency_code="USD")
    return user, shop


def add_listings(db: Database, shop_id: int, rows: list[dict[str, Any]]) -> list[int]:
    """Insert listings (defaults filled in); returns their ids in the given order."""
    full = [
        {
            "etsy_listing_id": next_id(),
            "shop_id": shop_id,
            "title": "Listing",
            "description": None,
            "state": "active",
            "price": Decimal("10.00"),
            "currency_code": "USD",
            "quantity": 1,
            "tags": [],
            "etsy_updated_timestamp": 1_700_000_000,
        }
        | row
        for row in rows
    ]
    with db.engine.begin() as conn:
        bulk_upsert(conn, table_of(Listing), full, key=["etsy_listing_id"])
        ids: dict[int, int] = {e: i for e, i in conn.execute(select(Listing.etsy_listing_id, Listing.id))}
    return [ids[cast(int, r["etsy_listing_id"])] for r in full]


def add_inventory(db: Database, shop_id: int, listing_id: int, quantities: list[int]) -> list[int]:
    rows = [
        {
            "listing_id": listing_id,
            "shop_id": shop_id,
            "variation_key": f"513:{n}" if len(quantities) > 1 else "",
            "sku": f"SKU-{listing_id}-{n}",
            "price": Decimal("10.00"),
            "currency_code": "USD",
            "quantity": qty,
        }
        for n, qty in enumerate(quantities)
    ]
    with db.engine.begin() as conn:
        result = conn.execute(table_of(Inventory).insert().returning(Inventory.id), rows)
        return [r[0] for r in result]


def add_orders(db: Database, shop_id: int, count: int, **overrides: Any) -> list[int]:
    rows = [
        {
            "etsy_receipt_id": next_id(),
            "shop_id": shop_id,
            "status": "paid",
            "currency_code": "USD",
            "grandtotal": Decimal("30.00") + i,
            "subtotal": Decimal("25.00") + i,
            "total_price": Decimal("25.00") + i,
            "etsy_created_at": BASE_TIME + timedelta(hours=i),
            "etsy_buyer_user_id": 500 + i % 7,
        }
        | overrides
        for i in range(count)
    ]
    with db.engine.begin() as conn:
        result = conn.execute(table_of(Order).insert().returning(Order.id), rows)
        return [r[0] for r in result]


def add_customers(db: Database, shop_id: int, spends: list[Decimal]) -> None:
    rows = [
        {
            "shop_id": shop_id,
            "etsy_buyer_user_id": next_id(),
            "first_order_at": BASE_TIME,
            "last_order_at": BASE_TIME + timedelta(days=i),
            "order_count": i + 1,
            "units": i + 1,
            "total_spent": spend,
            "currency_code": "USD",
        }
        for i, spend in enumerate(spends)
    ]
    with db.engine.begin() as conn:
        conn.execute(table_of(Customer).insert(), rows)
