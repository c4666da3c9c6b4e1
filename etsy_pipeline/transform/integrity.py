"""Integrity counts over the shaped tables, for one shop (its Etsy id) or every shop (None).

The Dagster checks on the pull call these with the shop partition their run built, so a check looks at the rows
its run wrote instead of scanning every shop on every run; run on its own it looks at everything.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from etsy_pipeline.transform.raw import RawSchema

# `:shop` is an Etsy shop id or NULL for every shop.
SCOPE = "(CAST(:shop AS bigint) IS NULL OR {alias}.shop_id = (SELECT id FROM core.shops WHERE etsy_shop_id = :shop))"

DUPLICATE_ORDERS = f"""
SELECT count(*) - count(DISTINCT o.etsy_receipt_id) FROM core.orders o WHERE {SCOPE.format(alias="o")}
"""
DUPLICATE_ITEMS = f"""
SELECT count(*) - count(DISTINCT i.etsy_transaction_id)
FROM core.order_items i JOIN core.orders o ON o.id = i.order_id WHERE {SCOPE.format(alias="o")}
"""
ORDERS_NOT_ADDING_UP = f"""
SELECT count(*) FROM core.orders o
WHERE {SCOPE.format(alias="o")}
  AND o.subtotal <> coalesce((SELECT sum(i.price * i.quantity) FROM core.order_items i WHERE i.order_id = o.id), 0)
                    - o.discount_amt
"""
ORPHAN_ITEMS = f"""
SELECT count(*) FROM core.order_items i LEFT JOIN core.orders o ON o.id = i.order_id
WHERE o.id IS NULL OR ({SCOPE.format(alias="o")} AND i.etsy_listing_id IS NOT NULL AND i.listing_id IS NULL)
"""
QUARANTINED = "SELECT count(*) FROM etsy_raw.quarantine q WHERE CAST(:shop AS bigint) IS NULL OR q.shop_id = :shop"

COUNTS = {
    "duplicate_orders": DUPLICATE_ORDERS,
    "duplicate_line_items": DUPLICATE_ITEMS,
    "orders_not_adding_up": ORDERS_NOT_ADDING_UP,
    "orphan_line_items": ORPHAN_ITEMS,
}


def count(conn: Connection, name: str, shop: int | None) -> int:
    """One of the integrity counts above, for the shop (Etsy id) or every shop."""
    return int(conn.execute(text(COUNTS[name]), {"shop": shop}).scalar() or 0)


def quarantined(conn: Connection, shop: int | None) -> int:
    """Records waiting in the quarantine (none when nothing was ever quarantined)."""
    if not RawSchema(conn).has("quarantine"):
        return 0
    return int(conn.execute(text(QUARANTINED), {"shop": shop}).scalar() or 0)
