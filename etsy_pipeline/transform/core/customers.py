"""Raw → core for customers: lifetime figures per buyer of a shop, re-derived for the buyers whose orders the
load changed (canceled orders left out, refunds taken off the spend), and each order linked to its customer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from etsy_pipeline.storage.upsert import upsert_sql
from etsy_pipeline.transform.raw import RawSchema
from etsy_pipeline.transform.rules import counted_order, customer_lifetime
from etsy_pipeline.transform.statements import changed, run

COLUMNS = (
    "shop_id", "etsy_buyer_user_id", "name_encrypted", "email_encrypted", "country_iso", "first_order_at",
    "last_order_at", "order_count", "units", "total_spent", "currency_code",
)  # fmt: skip
LIFETIME = customer_lifetime("o")
# A buyer's lifetime figures (transform/rules.py, as analytics.customers reads them) and the newest personal data.
AGGREGATE = f"""
        WITH agg AS (
            SELECT o.etsy_buyer_user_id, {LIFETIME["first_order_at"]} AS first_order_at,
                {LIFETIME["last_order_at"]} AS last_order_at, {LIFETIME["order_count"]} AS order_count,
                {LIFETIME["units"]} AS units, {LIFETIME["total_spent"]} AS total_spent,
                max(o.currency_code) AS currency_code,
                (array_agg(o.buyer_name_encrypted ORDER BY o.etsy_created_at DESC))[1] AS name_encrypted,
                (array_agg(o.buyer_email_encrypted ORDER BY o.etsy_created_at DESC))[1] AS email_encrypted,
                (array_agg(o.country_iso ORDER BY o.etsy_created_at DESC))[1] AS country_iso
            FROM changed_buyers b
            JOIN core.orders o ON o.shop_id = :shop_id AND o.etsy_buyer_user_id = b.etsy_buyer_user_id
            LEFT JOIN LATERAL (SELECT sum(i.quantity) AS units FROM core.order_items i WHERE i.order_id = o.id) u
                ON true
            WHERE {counted_order("o")}
            GROUP BY o.etsy_buyer_user_id
        )"""


def _changed_buyers(conn: Connection, raw: RawSchema, p: dict[str, Any]) -> None:
    """The buyers go to an analysed temporary table first: planned against a CTE, the aggregation degenerated
    into a nested loop that took minutes on a 17,000-order load."""
    conn.execute(text("DROP TABLE IF EXISTS pg_temp.changed_buyers"))
    conn.execute(
        text(
            f"""
            CREATE TEMP TABLE changed_buyers ON COMMIT DROP AS
            WITH {changed(raw.table("receipts"), "r", "receipt_id")}
            SELECT DISTINCT o.etsy_buyer_user_id FROM core.orders o JOIN changed c ON c.receipt_id = o.etsy_receipt_id
            WHERE o.shop_id = :shop_id AND o.etsy_buyer_user_id IS NOT NULL
            """
        ),
        p,
    )
    conn.execute(text("CREATE UNIQUE INDEX ON changed_buyers (etsy_buyer_user_id)"))
    conn.execute(text("ANALYZE changed_buyers"))


def shape_customers(conn: Connection, raw: RawSchema, p: dict[str, Any]) -> int:
    if not raw.has("receipts"):
        return 0
    _changed_buyers(conn, raw, p)
    source = """
        SELECT :shop_id, a.etsy_buyer_user_id, a.name_encrypted, a.email_encrypted, a.country_iso,
            a.first_order_at, a.last_order_at, a.order_count, a.units, a.total_spent, a.currency_code
        FROM agg a"""
    upsert = upsert_sql(
        "core.customers",
        COLUMNS,
        source,
        key=["shop_id", "etsy_buyer_user_id"],
        compare=["order_count", "units", "total_spent", "last_order_at", "first_order_at"],
    )
    written = run(conn, f"{AGGREGATE} {upsert}", p)  # without JIT: `core.TUNING`
    written += run(
        conn,
        f"""
        DELETE FROM core.customers cu USING changed_buyers b
        WHERE cu.shop_id = :shop_id AND cu.etsy_buyer_user_id = b.etsy_buyer_user_id
          AND NOT EXISTS (SELECT 1 FROM core.orders o WHERE o.shop_id = :shop_id
                          AND o.etsy_buyer_user_id = cu.etsy_buyer_user_id AND {counted_order("o")})
        """,
        p,
    )
    run(
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
