"""Raw → core: set-based upserts from `etsy_raw` into the typed `core` tables, one shop at a time.

Only rows of loads newer than the shop's watermark (`core.shops.raw_load_id`) are read, so the cost follows
what the load changed, not the size of the tables. Money is converted exactly with `core.money(amount,
divisor)`. Children (images, inventory, line items) of a changed parent are upserted and the ones Etsy no
longer lists are removed. Customers are re-derived for the buyers whose orders changed. Everything runs in the
caller's transaction: the watermark moves only if every table was shaped.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import Connection, text

from etsy_pipeline.transform.payments import shape_ledger_entries, shape_payments
from etsy_pipeline.transform.raw import RawSchema
from etsy_pipeline.transform.reviews import shape_reviews
from etsy_pipeline.transform.sections import shape_sections

log = logging.getLogger(__name__)

MONEY_JSON = "core.money(({c}->>'amount')::bigint, ({c}->>'divisor')::bigint)"


def _money(prefix: str, alias: str = "r") -> str:
    return f"core.money({alias}.{prefix}__amount, {alias}.{prefix}__divisor)"


def _run(conn: Connection, sql: str, params: dict[str, Any]) -> int:
    return max(conn.execute(text(sql), params).rowcount, 0)


def _shops(conn: Connection, raw: RawSchema, p: dict[str, Any]) -> int:
    if not raw.has("shops"):
        return 0
    return _run(
        conn,
        f"""
        UPDATE core.shops s SET shop_name = r.shop_name, title = r.title, currency_code = r.currency_code,
            url = r.url, is_vacation = r.is_vacation, listing_active_count = r.listing_active_count,
            transaction_sold_count = r.transaction_sold_count, num_favorers = r.num_favorers,
            review_count = coalesce({raw.col("shops", "review_count", "r", "bigint")}, 0),
            review_average = {raw.col("shops", "review_average", "r", "numeric")}, etsy_user_id = r.user_id,
            etsy_created_at = to_timestamp(r.created_timestamp), etsy_updated_at = to_timestamp(r.updated_timestamp),
            updated_at = now()
        FROM {raw.table("shops")} r
        WHERE s.id = :shop_id AND r.shop_id = :etsy_shop_id AND r._dlt_load_id > :since AND r._dlt_load_id <= :upto
        """,
        p,
    )


def _text_array(raw: RawSchema, column: str) -> str:
    if not raw.has("listings", column):
        return "'{}'::text[]"
    return f"coalesce(ARRAY(SELECT jsonb_array_elements_text(l.\"{column}\"::jsonb)), '{{}}')"


CHANGED_LISTINGS = """
    changed AS (
        SELECT l._dlt_id, l.listing_id FROM {listings} l
        WHERE l.shop_id = :etsy_shop_id AND l._dlt_load_id > :since AND l._dlt_load_id <= :upto
    )"""


def _listings(conn: Connection, raw: RawSchema, p: dict[str, Any]) -> int:
    if not raw.has("listings"):
        return 0
    c = raw.col
    return _run(
        conn,
        f"""
        INSERT INTO core.listings (etsy_listing_id, shop_id, title, description, state, price, currency_code,
            quantity, tags, materials, taxonomy_id, shop_section_id, listing_type, who_made, when_made, url, views,
            num_favorers, has_variations, etsy_created_at, etsy_updated_at, etsy_updated_timestamp)
        SELECT l.listing_id, :shop_id, l.title, l.description, l.state, {_money("price", "l")},
            l.price__currency_code, l.quantity, {_text_array(raw, "tags")}, {_text_array(raw, "materials")},
            {c("listings", "taxonomy_id", "l", "bigint")}, {c("listings", "shop_section_id", "l", "bigint")},
            l.listing_type, {c("listings", "who_made", "l", "text")}, {c("listings", "when_made", "l", "text")},
            l.url, l.views, l.num_favorers, l.has_variations, to_timestamp(l.created_timestamp),
            to_timestamp(l.updated_timestamp), l.updated_timestamp
        FROM {raw.table("listings")} l
        WHERE l.shop_id = :etsy_shop_id AND l._dlt_load_id > :since AND l._dlt_load_id <= :upto
        ON CONFLICT (etsy_listing_id) DO UPDATE SET title = EXCLUDED.title, description = EXCLUDED.description,
            state = EXCLUDED.state, price = EXCLUDED.price, currency_code = EXCLUDED.currency_code,
            quantity = EXCLUDED.quantity, tags = EXCLUDED.tags, materials = EXCLUDED.materials,
            taxonomy_id = EXCLUDED.taxonomy_id, shop_section_id = EXCLUDED.shop_section_id,
            listing_type = EXCLUDED.listing_type, who_made = EXCLUDED.who_made, when_made = EXCLUDED.when_made,
            url = EXCLUDED.url, views = EXCLUDED.views, num_favorers = EXCLUDED.num_favorers,
            has_variations = EXCLUDED.has_variations, etsy_updated_at = EXCLUDED.etsy_updated_at,
            etsy_updated_timestamp = EXCLUDED.etsy_updated_timestamp, updated_at = now()
        WHERE (core.listings.title, core.listings.description, core.listings.state, core.listings.price,
               core.listings.quantity, core.listings.tags, core.listings.views, core.listings.num_favorers,
               core.listings.etsy_updated_timestamp, core.listings.shop_section_id, core.listings.materials)
          IS DISTINCT FROM (EXCLUDED.title, EXCLUDED.description, EXCLUDED.state, EXCLUDED.price,
               EXCLUDED.quantity, EXCLUDED.tags, EXCLUDED.views, EXCLUDED.num_favorers,
               EXCLUDED.etsy_updated_timestamp, EXCLUDED.shop_section_id, EXCLUDED.materials)
        """,
        p,
    )


def _removed_listings(conn: Connection, raw: RawSchema, p: dict[str, Any]) -> int:
    """After a complete scan, a listing Etsy no longer returns in any state is gone from the shop."""
    if p.get("complete") is None or not raw.has("listings"):
        return 0
    return _run(
        conn,
        f"""
        UPDATE core.listings cl SET state = 'removed', updated_at = now()
        WHERE cl.shop_id = :shop_id AND cl.state <> 'removed' AND NOT EXISTS (
            SELECT 1 FROM {raw.table("listings")} l
            WHERE l.listing_id = cl.etsy_listing_id AND l._dlt_load_id >= :complete)
        """,
        p,
    )


def _images(conn: Connection, raw: RawSchema, p: dict[str, Any]) -> int:
    if not raw.has("listings__images"):
        return 0
    changed = CHANGED_LISTINGS.format(listings=raw.table("listings"))
    written = _run(
        conn,
        f"""
        WITH {changed}
        INSERT INTO core.listing_images (etsy_image_id, listing_id, rank, url_570xn, url_fullxfull, full_width,
            full_height, alt_text, etsy_created_at)
        SELECT im.listing_image_id, cl.id, im.rank, {raw.col("listings__images", "url_570x_n", "im", "text")},
            im.url_fullxfull, {raw.col("listings__images", "full_width", "im", "bigint")},
            {raw.col("listings__images", "full_height", "im", "bigint")},
            {raw.col("listings__images", "alt_text", "im", "text")}, to_timestamp(im.created_timestamp)
        FROM {raw.table("listings__images")} im
        JOIN changed c ON im._dlt_root_id = c._dlt_id
        JOIN core.listings cl ON cl.etsy_listing_id = c.listing_id
        ON CONFLICT (etsy_image_id) DO UPDATE SET listing_id = EXCLUDED.listing_id, rank = EXCLUDED.rank,
            url_570xn = EXCLUDED.url_570xn, url_fullxfull = EXCLUDED.url_fullxfull, alt_text = EXCLUDED.alt_text,
            updated_at = now()
        WHERE (core.listing_images.listing_id, core.listing_images.rank, core.listing_images.alt_text)
            IS DISTINCT FROM (EXCLUDED.listing_id, EXCLUDED.rank, EXCLUDED.alt_text)
        """,
        p,
    )
    written += _run(
        conn,
        f"""
        WITH {changed}
        DELETE FROM core.listing_images i USING core.listings cl, changed c
        WHERE i.listing_id = cl.id AND cl.etsy_listing_id = c.listing_id AND NOT EXISTS (
            SELECT 1 FROM {raw.table("listings__images")} im
            WHERE im._dlt_root_id = c._dlt_id AND im.listing_image_id = i.etsy_image_id)
        """,
        p,
    )
    return written


def _inventory(conn: Connection, raw: RawSchema, p: dict[str, Any]) -> int:
    products, offerings = "listings__inventory__products", "listings__inventory__products__offerings"
    values = "listings__inventory__products__property_values"
    if not raw.has("listings"):
        return 0
    changed = CHANGED_LISTINGS.format(listings=raw.table("listings"))
    written = 0
    if raw.has(products) and raw.has(offerings):
        if raw.has(values):
            key = f"""coalesce((SELECT string_agg(pv.property_id || ':' || (pv.value_ids->>0), '|'
                        ORDER BY pv.property_id) FROM {raw.table(values)} pv
                        WHERE pv._dlt_parent_id = pr._dlt_id), '')"""
            described = f"""coalesce((SELECT jsonb_agg(jsonb_build_object('property_id', pv.property_id,
                        'property_name', pv.property_name, 'value_ids', pv.value_ids, 'values', pv."values")
                        ORDER BY pv._dlt_list_idx) FROM {raw.table(values)} pv WHERE pv._dlt_parent_id = pr._dlt_id),
                        '[]'::jsonb)"""
        else:
            key, described = "''", "'[]'::jsonb"
        written += _run(
            conn,
            f"""
            WITH {changed}
            INSERT INTO core.inventory (listing_id, shop_id, variation_key, etsy_product_id, etsy_offering_id, sku,
                property_values, price, currency_code, quantity, is_enabled, is_deleted)
            SELECT cl.id, :shop_id, {key}, pr.product_id, o.offering_id, nullif(pr.sku, ''), {described},
                {MONEY_JSON.format(c="o.price")}, o.price->>'currency_code', o.quantity, o.is_enabled,
                coalesce(o.is_deleted, false)
            FROM {raw.table(products)} pr
            JOIN changed c ON pr._dlt_root_id = c._dlt_id
            JOIN core.listings cl ON cl.etsy_listing_id = c.listing_id
            JOIN {raw.table(offerings)} o ON o._dlt_parent_id = pr._dlt_id
            ON CONFLICT (listing_id, variation_key) DO UPDATE SET etsy_product_id = EXCLUDED.etsy_product_id,
                etsy_offering_id = EXCLUDED.etsy_offering_id, sku = EXCLUDED.sku,
                property_values = EXCLUDED.property_values, price = EXCLUDED.price,
                currency_code = EXCLUDED.currency_code, quantity = EXCLUDED.quantity,
                is_enabled = EXCLUDED.is_enabled, is_deleted = EXCLUDED.is_deleted, updated_at = now()
            WHERE (core.inventory.etsy_product_id, core.inventory.etsy_offering_id, core.inventory.sku,
                   core.inventory.price, core.inventory.quantity, core.inventory.is_enabled)
              IS DISTINCT FROM (EXCLUDED.etsy_product_id, EXCLUDED.etsy_offering_id, EXCLUDED.sku,
                   EXCLUDED.price, EXCLUDED.quantity, EXCLUDED.is_enabled)
            """,
            p,
        )
    present = (
        f"SELECT 1 FROM {raw.table(products)} pr "
        "WHERE pr._dlt_root_id = c._dlt_id AND pr.product_id = inv.etsy_product_id"
        if raw.has(products)
        else "SELECT 1 WHERE false"
    )
    written += _run(
        conn,
        f"""
        WITH {changed}
        DELETE FROM core.inventory inv USING core.listings cl, changed c
        WHERE inv.listing_id = cl.id AND cl.etsy_listing_id = c.listing_id AND NOT EXISTS ({present})
        """,
        p,
    )
    return written


def _snapshots(conn: Connection, raw: RawSchema, p: dict[str, Any]) -> int:
    if not raw.has("listings"):
        return 0
    return _run(
        conn,
        f"""
        INSERT INTO core.listing_snapshots (listing_id, snapshot_date, views, num_favorers, quantity, state)
        SELECT cl.id, (now() AT TIME ZONE 'UTC')::date, cl.views, cl.num_favorers, cl.quantity, cl.state
        FROM core.listings cl
        WHERE cl.shop_id = :shop_id AND cl.etsy_listing_id IN (
            SELECT l.listing_id FROM {raw.table("listings")} l
            WHERE l.shop_id = :etsy_shop_id AND l._dlt_load_id > :since AND l._dlt_load_id <= :upto)
        ON CONFLICT (listing_id, snapshot_date) DO UPDATE SET views = EXCLUDED.views,
            num_favorers = EXCLUDED.num_favorers, quantity = EXCLUDED.quantity, state = EXCLUDED.state
        """,
        p,
    )


def _orders(conn: Connection, raw: RawSchema, p: dict[str, Any]) -> int:
    if not raw.has("receipts"):
        return 0
    refunds = (
        f"""coalesce((SELECT sum({MONEY_JSON.format(c="f.amount")}) FROM {raw.table("receipts__refunds")} f
                     WHERE f._dlt_parent_id = r._dlt_id), 0)"""
        if raw.has("receipts__refunds")
        else "0"
    )
    shipped = (
        f"""(SELECT to_timestamp(min(s.shipment_notification_timestamp)) FROM {raw.table("receipts__shipments")} s
             WHERE s._dlt_parent_id = r._dlt_id)"""
        if raw.has("receipts__shipments")
        else "NULL::timestamptz"
    )

    def secret(column: str) -> str:
        return f"convert_to({raw.col('receipts', column, 'r', 'text')}, 'UTF8')"

    money = ", ".join(
        _money(m)
        for m in ("grandtotal", "subtotal", "total_price", "total_shipping_cost", "total_tax_cost",
                  "total_vat_cost", "discount_amt", "gift_wrap_price")
    )  # fmt: skip
    return _run(
        conn,
        f"""
        INSERT INTO core.orders (etsy_receipt_id, shop_id, etsy_buyer_user_id, status, is_paid, is_shipped, is_gift,
            payment_method, country_iso, currency_code, grandtotal, subtotal, total_price, total_shipping_cost,
            total_tax_cost, total_vat_cost, discount_amt, gift_wrap_price, refunded_amount, buyer_name_encrypted,
            buyer_email_encrypted, shipping_address_encrypted, etsy_created_at, etsy_updated_at,
            etsy_updated_timestamp, shipped_at)
        SELECT r.receipt_id, :shop_id, r.buyer_user_id, r.status, r.is_paid, r.is_shipped, r.is_gift,
            r.payment_method, {raw.col("receipts", "country_iso", "r", "text")}, r.grandtotal__currency_code,
            {money}, {refunds}, {secret("buyer_name_encrypted")}, {secret("buyer_email_encrypted")},
            {secret("shipping_address_encrypted")}, to_timestamp(r.created_timestamp),
            to_timestamp(r.updated_timestamp), r.updated_timestamp, {shipped}
        FROM {raw.table("receipts")} r
        WHERE r.shop_id = :etsy_shop_id AND r._dlt_load_id > :since AND r._dlt_load_id <= :upto
        ON CONFLICT (etsy_receipt_id) DO UPDATE SET status = EXCLUDED.status, is_paid = EXCLUDED.is_paid,
            is_shipped = EXCLUDED.is_shipped, is_gift = EXCLUDED.is_gift, country_iso = EXCLUDED.country_iso,
            grandtotal = EXCLUDED.grandtotal, subtotal = EXCLUDED.subtotal, total_price = EXCLUDED.total_price,
            total_shipping_cost = EXCLUDED.total_shipping_cost, total_tax_cost = EXCLUDED.total_tax_cost,
            total_vat_cost = EXCLUDED.total_vat_cost, discount_amt = EXCLUDED.discount_amt,
            gift_wrap_price = EXCLUDED.gift_wrap_price, refunded_amount = EXCLUDED.refunded_amount,
            buyer_name_encrypted = EXCLUDED.buyer_name_encrypted,
            buyer_email_encrypted = EXCLUDED.buyer_email_encrypted,
            shipping_address_encrypted = EXCLUDED.shipping_address_encrypted,
            etsy_updated_at = EXCLUDED.etsy_updated_at, etsy_updated_timestamp = EXCLUDED.etsy_updated_timestamp,
            shipped_at = EXCLUDED.shipped_at, updated_at = now()
        WHERE (core.orders.status, core.orders.is_paid, core.orders.is_shipped, core.orders.grandtotal,
               core.orders.refunded_amount, core.orders.etsy_updated_timestamp, core.orders.shipped_at)
          IS DISTINCT FROM (EXCLUDED.status, EXCLUDED.is_paid, EXCLUDED.is_shipped, EXCLUDED.grandtotal,
               EXCLUDED.refunded_amount, EXCLUDED.etsy_updated_timestamp, EXCLUDED.shipped_at)
        """,
        p,
    )


CHANGED_RECEIPTS = """
    changed AS (
        SELECT r._dlt_id, r.receipt_id FROM {receipts} r
        WHERE r.shop_id = :etsy_shop_id AND r._dlt_load_id > :since AND r._dlt_load_id <= :upto
    )"""


def _order_items(conn: Connection, raw: RawSchema, p: dict[str, Any]) -> int:
    if not raw.has("receipts"):
        return 0
    changed = CHANGED_RECEIPTS.format(receipts=raw.table("receipts"))
    t = "receipts__transactions"
    written = 0
    if raw.has(t):
        written += _run(
            conn,
            f"""
            WITH {changed}
            INSERT INTO core.order_items (etsy_transaction_id, order_id, listing_id, etsy_listing_id, etsy_product_id,
                title, sku, quantity, price, shipping_cost, currency_code, variations, etsy_created_at, paid_at,
                shipped_at)
            SELECT tx.transaction_id, o.id, cl.id, {raw.col(t, "listing_id", "tx", "bigint")},
                {raw.col(t, "product_id", "tx", "bigint")}, {raw.col(t, "title", "tx", "text")},
                nullif({raw.col(t, "sku", "tx", "text")}, ''), tx.quantity, {MONEY_JSON.format(c="tx.price")},
                {MONEY_JSON.format(c="tx.shipping_cost")}, tx.price->>'currency_code',
                coalesce({raw.col(t, "variations", "tx", "jsonb")}::jsonb, '[]'::jsonb),
                to_timestamp(tx.created_timestamp), to_timestamp({raw.col(t, "paid_timestamp", "tx", "bigint")}),
                to_timestamp({raw.col(t, "shipped_timestamp", "tx", "bigint")})
            FROM {raw.table(t)} tx
            JOIN changed c ON tx._dlt_root_id = c._dlt_id
            JOIN core.orders o ON o.etsy_receipt_id = c.receipt_id
            LEFT JOIN core.listings cl ON cl.etsy_listing_id = {raw.col(t, "listing_id", "tx", "bigint")}
            ON CONFLICT (etsy_transaction_id) DO UPDATE SET order_id = EXCLUDED.order_id,
                listing_id = EXCLUDED.listing_id, quantity = EXCLUDED.quantity, price = EXCLUDED.price,
                shipping_cost = EXCLUDED.shipping_cost, paid_at = EXCLUDED.paid_at, shipped_at = EXCLUDED.shipped_at,
                updated_at = now()
            WHERE (core.order_items.listing_id, core.order_items.quantity, core.order_items.price,
                   core.order_items.paid_at, core.order_items.shipped_at)
              IS DISTINCT FROM (EXCLUDED.listing_id, EXCLUDED.quantity, EXCLUDED.price, EXCLUDED.paid_at,
                   EXCLUDED.shipped_at)
            """,
            p,
        )
    present = (
        f"SELECT 1 FROM {raw.table(t)} tx "
        "WHERE tx._dlt_root_id = c._dlt_id AND tx.transaction_id = i.etsy_transaction_id"
        if raw.has(t)
        else "SELECT 1 WHERE false"
    )
    written += _run(
        conn,
        f"""
        WITH {changed}
        DELETE FROM core.order_items i USING core.orders o, changed c
        WHERE i.order_id = o.id AND o.etsy_receipt_id = c.receipt_id AND NOT EXISTS ({present})
        """,
        p,
    )
    return written


def _customers(conn: Connection, raw: RawSchema, p: dict[str, Any]) -> int:
    """Lifetime figures per buyer of the shop, for the buyers whose orders changed (canceled orders excluded).

    The buyers go to an analysed temporary table first: planned against a CTE, the aggregation below
    degenerated into a nested loop that took minutes on a 17,000-order load.
    """
    if not raw.has("receipts"):
        return 0
    changed = CHANGED_RECEIPTS.format(receipts=raw.table("receipts"))
    conn.execute(text("DROP TABLE IF EXISTS pg_temp.changed_buyers"))
    conn.execute(
        text(
            f"""
            CREATE TEMP TABLE changed_buyers ON COMMIT DROP AS
            WITH {changed}
            SELECT DISTINCT o.etsy_buyer_user_id FROM core.orders o JOIN changed c ON c.receipt_id = o.etsy_receipt_id
            WHERE o.shop_id = :shop_id AND o.etsy_buyer_user_id IS NOT NULL
            """
        ),
        p,
    )
    conn.execute(text("CREATE UNIQUE INDEX ON changed_buyers (etsy_buyer_user_id)"))
    conn.execute(text("ANALYZE changed_buyers"))
    written = _run(
        conn,
        """
        WITH agg AS (
            SELECT o.etsy_buyer_user_id, min(o.etsy_created_at) AS first_order_at,
                max(o.etsy_created_at) AS last_order_at, count(*) AS order_count,
                coalesce(sum(u.units), 0) AS units,
                sum(o.grandtotal - o.refunded_amount) AS total_spent, max(o.currency_code) AS currency_code,
                (array_agg(o.buyer_name_encrypted ORDER BY o.etsy_created_at DESC))[1] AS name_encrypted,
                (array_agg(o.buyer_email_encrypted ORDER BY o.etsy_created_at DESC))[1] AS email_encrypted,
                (array_agg(o.country_iso ORDER BY o.etsy_created_at DESC))[1] AS country_iso
            FROM changed_buyers b
            JOIN core.orders o ON o.shop_id = :shop_id AND o.etsy_buyer_user_id = b.etsy_buyer_user_id
            LEFT JOIN LATERAL (SELECT sum(i.quantity) AS units FROM core.order_items i WHERE i.order_id = o.id) u
                ON true
            WHERE o.status <> 'canceled'
            GROUP BY o.etsy_buyer_user_id
        )
        INSERT INTO core.customers (shop_id, etsy_buyer_user_id, name_encrypted, email_encrypted, country_iso,
            first_order_at, last_order_at, order_count, units, total_spent, currency_code)
        SELECT :shop_id, a.etsy_buyer_user_id, a.name_encrypted, a.email_encrypted, a.country_iso,
            a.first_order_at, a.last_order_at, a.order_count, a.units, a.total_spent, a.currency_code
        FROM agg a
        ON CONFLICT (shop_id, etsy_buyer_user_id) DO UPDATE SET name_encrypted = EXCLUDED.name_encrypted,
            email_encrypted = EXCLUDED.email_encrypted, country_iso = EXCLUDED.country_iso,
            first_order_at = EXCLUDED.first_order_at, last_order_at = EXCLUDED.last_order_at,
            order_count = EXCLUDED.order_count, units = EXCLUDED.units, total_spent = EXCLUDED.total_spent,
            currency_code = EXCLUDED.currency_code, updated_at = now()
        WHERE (core.customers.order_count, core.customers.units, core.customers.total_spent,
               core.customers.last_order_at, core.customers.first_order_at)
          IS DISTINCT FROM (EXCLUDED.order_count, EXCLUDED.units, EXCLUDED.total_spent, EXCLUDED.last_order_at,
               EXCLUDED.first_order_at)
        """,
        p,
    )
    written += _run(
        conn,
        """
        DELETE FROM core.customers cu USING changed_buyers b
        WHERE cu.shop_id = :shop_id AND cu.etsy_buyer_user_id = b.etsy_buyer_user_id
          AND NOT EXISTS (SELECT 1 FROM core.orders o WHERE o.shop_id = :shop_id
                          AND o.etsy_buyer_user_id = cu.etsy_buyer_user_id AND o.status <> 'canceled')
        """,
        p,
    )
    _run(
        conn,
        """
        UPDATE core.orders o SET customer_id = cu.id
        FROM changed_buyers b, core.customers cu
        WHERE o.shop_id = :shop_id AND o.etsy_buyer_user_id = b.etsy_buyer_user_id AND cu.shop_id = o.shop_id
          AND cu.etsy_buyer_user_id = o.etsy_buyer_user_id AND o.customer_id IS DISTINCT FROM cu.id
        """,
        p,
    )
    return written


STEPS = (
    ("shops", _shops),
    ("listings", _listings),
    ("listings_removed", _removed_listings),
    ("listing_images", _images),
    ("inventory", _inventory),
    ("listing_snapshots", _snapshots),
    ("orders", _orders),
    ("order_items", _order_items),
    ("customers", _customers),
    ("payments", shape_payments),
    ("ledger_entries", shape_ledger_entries),
    ("shop_sections", shape_sections),
    ("reviews", shape_reviews),
)


def touched_days(conn: Connection, raw: RawSchema, p: dict[str, Any], tz: str) -> list[str]:
    """Days (in the analytics time zone) of the orders this load changed: the analytics days to rebuild."""
    if not raw.has("receipts"):
        return []
    rows = conn.execute(
        text(
            f"""
            SELECT DISTINCT (to_timestamp(r.created_timestamp) AT TIME ZONE :tz)::date FROM {raw.table("receipts")} r
            WHERE r.shop_id = :etsy_shop_id AND r._dlt_load_id > :since AND r._dlt_load_id <= :upto ORDER BY 1
            """
        ),
        p | {"tz": tz},
    )
    return [day.isoformat() for (day,) in rows]


def shape_shop(
    conn: Connection, *, shop_id: int, etsy_shop_id: int, complete_listing_load: str | None, tz: str = "UTC"
) -> dict[str, Any]:
    """Shape every load of the shop newer than its watermark.

    Returns rows written per core table, and under `touched_days` the order days the loads changed.
    """
    raw = RawSchema(conn)
    if not raw.has("_dlt_loads"):
        return {}
    since = conn.execute(
        text("SELECT coalesce(raw_load_id, '') FROM core.shops WHERE id = :id"), {"id": shop_id}
    ).scalar()
    upto = conn.execute(text(f"SELECT max(load_id) FROM {raw.table('_dlt_loads')} WHERE status = 0")).scalar()
    if upto is None or (since and upto <= since):
        return {}
    params = {
        "shop_id": shop_id,
        "etsy_shop_id": etsy_shop_id,
        "since": since or "",
        "upto": upto,
        "complete": complete_listing_load,
    }
    rows: dict[str, Any] = {"touched_days": touched_days(conn, raw, params, tz)}
    for name, step in STEPS:
        started = time.perf_counter()
        rows[name] = step(conn, raw, params)
        log.debug(
            "shaped %s for shop %s: %s rows in %.2fs", name, etsy_shop_id, rows[name], time.perf_counter() - started
        )
    conn.execute(text("UPDATE core.shops SET raw_load_id = :upto WHERE id = :id"), {"upto": upto, "id": shop_id})
    return rows
