"""Daily analytics: each function rebuilds exactly one day (or one as-of date) in one transaction.

A rebuild deletes that day's rows and inserts them again, so re-running is idempotent and a backfilled range
equals day-by-day runs. Every query is bounded by the day (orders by `shop_id, etsy_created_at`, snapshots by
`listing_id, snapshot_date`), so a day costs what that day holds, not what the table holds.

Definitions (also in docs/analytics.md): an order belongs to the day it was placed, in the analytics time zone;
canceled orders are left out; refunds count against the day of the order they refund (order-date accounting),
so a late refund changes an old day; Etsy's fees and the net after fees come from the orders' payments
(core.payments, after adjustments) and count on the order's day too; reviews come from core.reviews; views and
favorites gained come from daily listing snapshots, because Etsy's `views` is a lifetime counter.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, text

from etsy_pipeline.storage.partitions import ensure_shop_daily_metrics_partitions

BOUNDS = """
    bounds AS (
        SELECT (CAST(:day AS date)::timestamp AT TIME ZONE :tz) AS lo,
               ((CAST(:day AS date) + 1)::timestamp AT TIME ZONE :tz) AS hi
    ),
    scope AS (SELECT id, currency_code FROM core.shops WHERE CAST(:all_shops AS boolean) OR id = ANY(:shop_ids))"""


# Views and favorites gained per listing on :day: its snapshot that day less its previous snapshot (Etsy's
# counters are lifetime totals). A listing's first snapshot gains nothing.
LISTING_GAINS = """
    listing_gains AS (
        SELECT s.listing_id, l.shop_id, greatest(s.views - coalesce(prev.views, s.views), 0) AS views_gained,
            greatest(s.num_favorers - coalesce(prev.num_favorers, s.num_favorers), 0) AS favorites_gained
        FROM core.listing_snapshots s JOIN core.listings l ON l.id = s.listing_id
        LEFT JOIN LATERAL (
            SELECT p.views, p.num_favorers FROM core.listing_snapshots p
            WHERE p.listing_id = s.listing_id AND p.snapshot_date < s.snapshot_date
            ORDER BY p.snapshot_date DESC LIMIT 1
        ) prev ON true
        WHERE s.snapshot_date = :day AND l.shop_id IN (SELECT id FROM scope)
    )"""


def _params(day: date, tz: str, shop_ids: list[int] | None) -> dict[str, Any]:
    return {"day": day, "tz": tz, "all_shops": shop_ids is None, "shop_ids": shop_ids or []}


# Reviews left on :day, from core (typed and owned by the application, unlike etsy_raw).
DAY_REVIEWS = """
        SELECT rv.shop_id, count(*) AS reviews, round(avg(rv.rating), 4) AS average_rating
        FROM core.reviews rv, bounds b
        WHERE rv.shop_id IN (SELECT id FROM scope) AND rv.etsy_created_at >= b.lo AND rv.etsy_created_at < b.hi
        GROUP BY rv.shop_id"""

# Etsy's fees and what Etsy pays out for the day's orders, from their payments (fees and net after adjustments).
DAY_FEES = """
        SELECT o.shop_id, o.currency_code, sum(coalesce(p.adjusted_fees, p.fees)) AS etsy_fees,
            sum(coalesce(p.adjusted_net, p.net)) AS net_after_fees
        FROM day_orders o JOIN core.payments p ON p.order_id = o.id
        GROUP BY o.shop_id, o.currency_code"""


def rebuild_shop_day(conn: Connection, day: date, *, tz: str = "UTC", shop_ids: list[int] | None = None) -> int:
    """Replace `analytics.shop_daily_metrics` for one day (all shops, or some); returns rows written."""
    ensure_shop_daily_metrics_partitions(conn, day, day)
    p = _params(day, tz, shop_ids)
    conn.execute(
        text(
            "DELETE FROM analytics.shop_daily_metrics WHERE metric_date = :day "
            "AND (CAST(:all_shops AS boolean) OR shop_id = ANY(:shop_ids))"
        ),
        p,
    )
    sql = f"""
        WITH {BOUNDS},
        day_orders AS (
            SELECT o.* FROM core.orders o, bounds b
            WHERE o.shop_id IN (SELECT id FROM scope) AND o.etsy_created_at >= b.lo AND o.etsy_created_at < b.hi
              AND o.status <> 'canceled'
        ),
        units AS (
            SELECT i.order_id, sum(i.quantity) AS units FROM core.order_items i
            JOIN day_orders o ON o.id = i.order_id GROUP BY i.order_id
        ),
        firsts AS (
            SELECT o.shop_id, o.etsy_buyer_user_id, min(o.etsy_created_at) AS first_at FROM core.orders o
            JOIN (SELECT DISTINCT shop_id, etsy_buyer_user_id FROM day_orders) d
              ON d.shop_id = o.shop_id AND d.etsy_buyer_user_id = o.etsy_buyer_user_id
            WHERE o.status <> 'canceled' GROUP BY o.shop_id, o.etsy_buyer_user_id
        ),
        sales AS (
            SELECT o.shop_id, o.currency_code, count(*) AS orders, coalesce(sum(u.units), 0) AS items_sold,
                sum(o.total_price) AS gross_sales, sum(o.discount_amt) AS discounts,
                sum(o.total_shipping_cost) AS shipping, sum(o.total_tax_cost + o.total_vat_cost) AS tax,
                sum(o.refunded_amount) AS refunds, count(DISTINCT o.etsy_buyer_user_id) AS distinct_buyers,
                count(DISTINCT o.etsy_buyer_user_id) FILTER (WHERE f.first_at >= b.lo) AS new_buyers
            FROM day_orders o CROSS JOIN bounds b
            LEFT JOIN units u ON u.order_id = o.id
            LEFT JOIN firsts f ON f.shop_id = o.shop_id AND f.etsy_buyer_user_id = o.etsy_buyer_user_id
            GROUP BY o.shop_id, o.currency_code
        ),
        {LISTING_GAINS},
        gains AS (
            SELECT shop_id, sum(views_gained) AS views_gained, sum(favorites_gained) AS favorites_gained
            FROM listing_gains GROUP BY shop_id
        ),
        reviews AS ({DAY_REVIEWS}),
        fees AS ({DAY_FEES}),
        keys AS (
            SELECT shop_id, currency_code FROM sales
            UNION SELECT id, currency_code FROM scope WHERE currency_code IS NOT NULL
        )
        INSERT INTO analytics.shop_daily_metrics (shop_id, metric_date, currency_code, orders, items_sold,
            gross_sales, discounts, shipping, tax, refunds, net_sales, etsy_fees, net_revenue_after_fees,
            average_order_value, distinct_buyers, new_buyers, returning_buyers, views_gained, favorites_gained,
            orders_per_1000_views, repeat_customer_rate, reviews, average_rating)
        SELECT k.shop_id, :day, k.currency_code, coalesce(s.orders, 0), coalesce(s.items_sold, 0),
            coalesce(s.gross_sales, 0), coalesce(s.discounts, 0), coalesce(s.shipping, 0), coalesce(s.tax, 0),
            coalesce(s.refunds, 0), coalesce(s.gross_sales - s.discounts - s.refunds, 0), coalesce(f.etsy_fees, 0),
            coalesce(f.net_after_fees, 0),
            CASE WHEN s.orders > 0 THEN round((s.gross_sales - s.discounts) / s.orders, 4) END,
            coalesce(s.distinct_buyers, 0), coalesce(s.new_buyers, 0),
            coalesce(s.distinct_buyers - s.new_buyers, 0), coalesce(g.views_gained, 0),
            coalesce(g.favorites_gained, 0),
            CASE WHEN g.views_gained > 0 THEN round(1000.0 * coalesce(s.orders, 0) / g.views_gained, 4) END,
            CASE WHEN s.distinct_buyers > 0
                 THEN round((s.distinct_buyers - s.new_buyers)::numeric / s.distinct_buyers, 4) END,
            coalesce(r.reviews, 0), r.average_rating
        FROM keys k
        LEFT JOIN sales s ON s.shop_id = k.shop_id AND s.currency_code = k.currency_code
        LEFT JOIN fees f ON f.shop_id = k.shop_id AND f.currency_code = k.currency_code
        LEFT JOIN scope sc ON sc.id = k.shop_id
        LEFT JOIN gains g ON g.shop_id = k.shop_id AND k.currency_code IS NOT DISTINCT FROM sc.currency_code
        LEFT JOIN reviews r ON r.shop_id = k.shop_id AND k.currency_code IS NOT DISTINCT FROM sc.currency_code
    """
    return max(conn.execute(text(sql), p).rowcount, 0)


def rebuild_listing_day(conn: Connection, day: date, *, tz: str = "UTC", shop_ids: list[int] | None = None) -> int:
    """Replace `analytics.listing_daily_metrics` for one day: listings that sold or were snapshotted."""
    p = _params(day, tz, shop_ids)
    conn.execute(
        text(
            "DELETE FROM analytics.listing_daily_metrics WHERE metric_date = :day "
            "AND (CAST(:all_shops AS boolean) OR shop_id = ANY(:shop_ids))"
        ),
        p,
    )
    sql = f"""
        WITH {BOUNDS},
        sold AS (
            SELECT i.listing_id, max(i.currency_code) AS currency_code, sum(i.quantity) AS units,
                sum(i.price * i.quantity) AS revenue
            FROM core.orders o JOIN core.order_items i ON i.order_id = o.id, bounds b
            WHERE o.shop_id IN (SELECT id FROM scope) AND o.etsy_created_at >= b.lo AND o.etsy_created_at < b.hi
              AND o.status <> 'canceled' AND i.listing_id IS NOT NULL
            GROUP BY i.listing_id
        ),
        {LISTING_GAINS}
        INSERT INTO analytics.listing_daily_metrics (metric_date, listing_id, shop_id, currency_code, views_gained,
            favorites_gained, units_sold, revenue, stock_at_day_end)
        SELECT :day, l.id, l.shop_id, coalesce(sold.currency_code, l.currency_code), coalesce(seen.views_gained, 0),
            coalesce(seen.favorites_gained, 0), coalesce(sold.units, 0), coalesce(sold.revenue, 0),
            (SELECT st.quantity FROM core.listing_snapshots st WHERE st.listing_id = l.id AND st.snapshot_date <= :day
             ORDER BY st.snapshot_date DESC LIMIT 1)
        FROM core.listings l
        LEFT JOIN sold ON sold.listing_id = l.id
        LEFT JOIN listing_gains seen ON seen.listing_id = l.id
        WHERE sold.listing_id IS NOT NULL OR seen.listing_id IS NOT NULL
    """
    return max(conn.execute(text(sql), p).rowcount, 0)


KEEP_ONLY_MONTH_ENDS = """
    DELETE FROM {table} WHERE as_of_date < :day AND (CAST(:all_shops AS boolean) OR shop_id = ANY(:shop_ids))
      AND as_of_date <> (date_trunc('month', as_of_date) + interval '1 month - 1 day')::date
"""


def rebuild_customers(conn: Connection, as_of: date, *, tz: str = "UTC", shop_ids: list[int] | None = None) -> int:
    """Replace `analytics.customers` as of a day: lifetime figures over orders placed up to its end.

    Every buyer is listed for every day built, so older days are kept only at month ends (for trends); the
    latest day built and each month's last day remain. A backfill therefore ends in the same state as
    day-by-day runs.
    """
    p = _params(as_of, tz, shop_ids)
    conn.execute(
        text(
            "DELETE FROM analytics.customers WHERE as_of_date = :day "
            "AND (CAST(:all_shops AS boolean) OR shop_id = ANY(:shop_ids))"
        ),
        p,
    )
    sql = f"""
        WITH {BOUNDS}
        INSERT INTO analytics.customers (as_of_date, shop_id, etsy_buyer_user_id, first_order_at, last_order_at,
            order_count, units, total_spent, average_order_value, days_since_last_order, currency_code)
        SELECT :day, o.shop_id, o.etsy_buyer_user_id, min(o.etsy_created_at), max(o.etsy_created_at), count(*),
            coalesce(sum(u.units), 0), sum(o.grandtotal - o.refunded_amount),
            round(sum(o.grandtotal - o.refunded_amount) / count(*), 4),
            CAST(:day AS date) - max((o.etsy_created_at AT TIME ZONE :tz)::date), max(o.currency_code)
        FROM core.orders o CROSS JOIN bounds b
        LEFT JOIN LATERAL (SELECT sum(i.quantity) AS units FROM core.order_items i WHERE i.order_id = o.id) u ON true
        WHERE o.shop_id IN (SELECT id FROM scope) AND o.etsy_created_at < b.hi AND o.status <> 'canceled'
          AND o.etsy_buyer_user_id IS NOT NULL
        GROUP BY o.shop_id, o.etsy_buyer_user_id
    """
    written = max(conn.execute(text(sql), p).rowcount, 0)
    conn.execute(text(KEEP_ONLY_MONTH_ENDS.format(table="analytics.customers")), p)
    return written


# Segment map, first matching rule wins; FM is the rounded mean of the F and M scores (docs/analytics.md).
SEGMENT_RULES = (
    ("Champions", "r >= 4 AND fm >= 4"),
    ("Loyal", "r >= 3 AND fm >= 3"),
    ("Potential Loyalists", "r >= 4 AND fm >= 2"),
    ("New", "r = 5 AND fm = 1"),
    ("Promising", "r = 4 AND fm = 1"),
    ("Need Attention", "r = 3 AND fm = 2"),
    ("About to Sleep", "r = 3 AND fm = 1"),
    ("Can't Lose", "r <= 2 AND fm = 5"),
    ("At Risk", "r <= 2 AND fm >= 3"),
    ("Hibernating", "r = 2"),
    ("Lost", "r = 1"),
)
FREQUENCY_SCORE = "CASE WHEN frequency >= 6 THEN 5 WHEN frequency >= 4 THEN 4 ELSE frequency END"


def segment_case() -> str:
    cases = " ".join(f"WHEN {rule} THEN '{name.replace(chr(39), chr(39) * 2)}'" for name, rule in SEGMENT_RULES)
    return f"CASE {cases} END"


def rebuild_segments(conn: Connection, as_of: date, *, shop_ids: list[int] | None = None) -> int:
    """Replace `analytics.customer_segments` as of a day, from `analytics.customers` of that day."""
    p = _params(as_of, "UTC", shop_ids)
    conn.execute(
        text(
            "DELETE FROM analytics.customer_segments WHERE as_of_date = :day "
            "AND (CAST(:all_shops AS boolean) OR shop_id = ANY(:shop_ids))"
        ),
        p,
    )
    sql = f"""
        WITH base AS (
            SELECT shop_id, etsy_buyer_user_id, days_since_last_order AS recency_days, order_count AS frequency,
                total_spent AS monetary,
                ceil(5 * cume_dist() OVER (PARTITION BY shop_id ORDER BY last_order_at))::int AS r,
                ceil(5 * cume_dist() OVER (PARTITION BY shop_id ORDER BY total_spent))::int AS m
            FROM analytics.customers
            WHERE as_of_date = :day AND (CAST(:all_shops AS boolean) OR shop_id = ANY(:shop_ids))
        ),
        scored AS (
            SELECT *, ({FREQUENCY_SCORE})::int AS f FROM base
        ),
        mapped AS (
            SELECT *, round((f + m) / 2.0)::int AS fm FROM scored
        )
        INSERT INTO analytics.customer_segments (as_of_date, shop_id, etsy_buyer_user_id, recency_days, frequency,
            monetary, r_score, f_score, m_score, segment)
        SELECT :day, shop_id, etsy_buyer_user_id, recency_days, frequency, monetary, r, f, m, {segment_case()}
        FROM mapped
    """
    written = max(conn.execute(text(sql), p).rowcount, 0)
    conn.execute(text(KEEP_ONLY_MONTH_ENDS.format(table="analytics.customer_segments")), p)
    return written


def rebuild_inventory_alerts(
    conn: Connection, day: date, *, default_threshold: int, shop_ids: list[int] | None = None
) -> int:
    """Replace the day's alerts: enabled offerings of active listings at or below the threshold."""
    p = _params(day, "UTC", shop_ids) | {"default": default_threshold}
    conn.execute(
        text(
            "DELETE FROM analytics.inventory_alerts WHERE alert_date = :day "
            "AND (CAST(:all_shops AS boolean) OR shop_id = ANY(:shop_ids))"
        ),
        p,
    )
    sql = """
        INSERT INTO analytics.inventory_alerts (alert_date, inventory_id, shop_id, listing_id, sku, quantity,
            threshold, kind)
        SELECT :day, i.id, i.shop_id, i.listing_id, i.sku, i.quantity, coalesce(s.low_stock_threshold, :default),
            CASE WHEN i.quantity = 0 THEN 'sold_out' ELSE 'low_stock' END
        FROM core.inventory i
        JOIN core.shops s ON s.id = i.shop_id
        JOIN core.listings l ON l.id = i.listing_id AND l.state IN ('active', 'sold_out')
        WHERE (CAST(:all_shops AS boolean) OR i.shop_id = ANY(:shop_ids)) AND i.is_enabled AND NOT i.is_deleted
          AND i.quantity <= coalesce(s.low_stock_threshold, :default)
    """
    return max(conn.execute(text(sql), p).rowcount, 0)


def keeps_customer_snapshot(day: date, last_day_of_run: date) -> bool:
    """Customers and segments are kept only for month ends and the latest day, so a range builds only those."""
    return day == last_day_of_run or (day + timedelta(days=1)).day == 1


def rebuild_all(
    conn: Connection,
    day: date,
    *,
    tz: str,
    default_threshold: int,
    shop_ids: list[int] | None = None,
    last_day_of_run: date | None = None,
) -> dict[str, int]:
    """Every analytics table for one day, in the caller's transaction."""
    rows = {
        "shop_daily_metrics": rebuild_shop_day(conn, day, tz=tz, shop_ids=shop_ids),
        "listing_daily_metrics": rebuild_listing_day(conn, day, tz=tz, shop_ids=shop_ids),
        "inventory_alerts": rebuild_inventory_alerts(conn, day, default_threshold=default_threshold, shop_ids=shop_ids),
    }
    if keeps_customer_snapshot(day, last_day_of_run or day):
        rows["customers"] = rebuild_customers(conn, day, tz=tz, shop_ids=shop_ids)
        rows["customer_segments"] = rebuild_segments(conn, day, shop_ids=shop_ids)
    return rows
