"""Daily analytics, rebuilt a range of days at a time: one statement per table aggregates the whole range by day.

A rebuild deletes the range's rows and inserts them again, so re-running is idempotent; one day is the range
[day, day], and a range equals its days rebuilt one by one (a test holds this, table by table). Looping over
days cost a fixed price per day (two years took twelve minutes); a statement over the range pays it once.

Definitions (also in docs/analytics.md; the shared rules live in transform/rules.py): an order belongs to the
day it was placed, in the analytics time zone; canceled orders are left out; refunds count against the day of
the order they refund (order-date accounting), so a late refund changes an old day; Etsy's fees and the net after
fees come from the orders' payments (core.payments, after adjustments) and count on the order's day too; reviews
come from core.reviews; views and favorites gained come from daily listing snapshots, because Etsy's `views` is a
lifetime counter. Customers and their segments are kept for month ends and the latest day built only.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, text

from etsy_pipeline.storage.partitions import ensure_shop_daily_metrics_partitions
from etsy_pipeline.transform.rules import average, counted_order, customer_lifetime, net_sales

SCOPE = """
    scope AS (SELECT id, currency_code FROM core.shops WHERE CAST(:all_shops AS boolean) OR id = ANY(:shop_ids))"""

SHOPS_FILTER = "(CAST(:all_shops AS boolean) OR shop_id = ANY(:shop_ids))"


def local_day(column: str) -> str:
    """The calendar day of a timestamp in the analytics time zone: the day an order or review belongs to."""
    return f"({column} AT TIME ZONE :tz)::date"


def in_range(column: str) -> str:
    """A timestamp whose local day is one of the range's days (:range_days, [:start, :end] listed).

    The bounds, a day wider than the range on each side, let the (shop, timestamp) indexes narrow the scan; the
    local day decides. It is compared with the list of days rather than BETWEEN because the planner guesses a
    BETWEEN on an expression at half a percent of the rows (a two-year range planned as a few thousand orders,
    joined by index lookups), while `= ANY(days)` is guessed in proportion to the number of days.
    """
    return (
        f"{column} >= (CAST(:start AS date) - 1)::timestamp AT TIME ZONE :tz "
        f"AND {column} < (CAST(:end AS date) + 2)::timestamp AT TIME ZONE :tz "
        f"AND {local_day(column)} = ANY(CAST(:range_days AS date[]))"
    )


# The orders that count placed in the range, with their local day.
RANGE_ORDERS = f"""
    range_orders AS (
        SELECT o.id, o.shop_id, o.currency_code, o.etsy_buyer_user_id, o.total_price, o.discount_amt,
            o.total_shipping_cost, o.total_tax_cost, o.total_vat_cost, o.refunded_amount,
            {net_sales("o")} AS net_sales, {local_day("o.etsy_created_at")} AS day
        FROM core.orders o
        WHERE o.shop_id IN (SELECT id FROM scope) AND {in_range("o.etsy_created_at")}
          AND {counted_order("o")}
    )"""

# Each scoped listing's snapshots of the range, and its last one before (what the first of the range grows from).
# Views and favorites gained on a snapshot's day are its counters less the previous snapshot's (Etsy's counters
# are lifetime totals); a listing's first snapshot gains nothing.
LISTING_GAINS = """
    scoped_listings AS (SELECT l.id, l.shop_id FROM core.listings l WHERE l.shop_id IN (SELECT id FROM scope)),
    snaps AS (
        SELECT l.shop_id, s.listing_id, s.snapshot_date, s.views, s.num_favorers, s.quantity
        FROM core.listing_snapshots s JOIN scoped_listings l ON l.id = s.listing_id
        WHERE s.snapshot_date BETWEEN CAST(:start AS date) AND CAST(:end AS date)
        UNION ALL
        SELECT l.shop_id, l.id, p.snapshot_date, p.views, p.num_favorers, p.quantity
        FROM scoped_listings l CROSS JOIN LATERAL (
            SELECT b.snapshot_date, b.views, b.num_favorers, b.quantity FROM core.listing_snapshots b
            WHERE b.listing_id = l.id AND b.snapshot_date < CAST(:start AS date)
            ORDER BY b.snapshot_date DESC LIMIT 1
        ) p
    ),
    listing_gains AS (
        SELECT * FROM (
            SELECT shop_id, listing_id, snapshot_date AS day, quantity,
                greatest(views - coalesce(lag(views) OVER w, views), 0) AS views_gained,
                greatest(num_favorers - coalesce(lag(num_favorers) OVER w, num_favorers), 0) AS favorites_gained
            FROM snaps WINDOW w AS (PARTITION BY listing_id ORDER BY snapshot_date)
        ) g
        WHERE day >= CAST(:start AS date)
    )"""


def _params(start: date, end: date, tz: str, shop_ids: list[int] | None) -> dict[str, Any]:
    if end < start:
        raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    return {
        "start": start,
        "end": end,
        "range_days": days,
        "tz": tz,
        "all_shops": shop_ids is None,
        "shop_ids": shop_ids or [],
    }


# For the rest of the rebuild's transaction: no JIT (a range's row estimates are far off, so PostgreSQL compiled
# for seconds queries that run in less), and room to sort and hash a range in memory instead of on disk.
TUNING = ("SET LOCAL jit = off", "SET LOCAL work_mem = '256MB'")


def _replace(conn: Connection, delete: str, insert: str, params: dict[str, Any]) -> int:
    for setting in TUNING:
        conn.execute(text(setting))
    conn.execute(text(delete), params)
    return max(conn.execute(text(insert), params).rowcount, 0)


SHOP_DAYS = f"""
    WITH {SCOPE},
    days AS (
        SELECT CAST(d AS date) AS day FROM generate_series(CAST(:start AS date), CAST(:end AS date), interval '1 day') d
    ),
    {RANGE_ORDERS},
    units AS (
        SELECT i.order_id, sum(i.quantity) AS units FROM core.order_items i
        JOIN range_orders o ON o.id = i.order_id GROUP BY i.order_id
    ),
    buyer_days AS (
        SELECT DISTINCT shop_id, day, currency_code, etsy_buyer_user_id FROM range_orders
        WHERE etsy_buyer_user_id IS NOT NULL
    ),
    firsts AS (  -- buyers whose first counted order at the shop falls in the range, and its day
        SELECT f.shop_id, f.etsy_buyer_user_id, f.first_day
        FROM (SELECT shop_id, etsy_buyer_user_id, min(day) AS first_day FROM buyer_days GROUP BY 1, 2) f
        WHERE NOT EXISTS (
            SELECT 1 FROM core.orders p
            WHERE p.shop_id = f.shop_id AND p.etsy_buyer_user_id = f.etsy_buyer_user_id AND {counted_order("p")}
              AND p.etsy_created_at < (CAST(:start AS date) + 1)::timestamp AT TIME ZONE :tz
              AND {local_day("p.etsy_created_at")} < CAST(:start AS date)
        )
    ),
    buyers AS (  -- buyers of the day; new ones ordered at the shop for the first time that day
        SELECT b.shop_id, b.day, b.currency_code, count(*) AS distinct_buyers,
            count(*) FILTER (WHERE f.first_day = b.day) AS new_buyers
        FROM buyer_days b
        LEFT JOIN firsts f ON f.shop_id = b.shop_id AND f.etsy_buyer_user_id = b.etsy_buyer_user_id
        GROUP BY b.shop_id, b.day, b.currency_code
    ),
    sales AS (
        SELECT o.shop_id, o.day, o.currency_code, count(*) AS orders, coalesce(sum(u.units), 0) AS items_sold,
            sum(o.total_price) AS gross_sales, sum(o.discount_amt) AS discounts,
            sum(o.total_shipping_cost) AS shipping, sum(o.total_tax_cost + o.total_vat_cost) AS tax,
            sum(o.refunded_amount) AS refunds, sum(o.net_sales) AS net_sales,
            coalesce(max(b.distinct_buyers), 0) AS distinct_buyers, coalesce(max(b.new_buyers), 0) AS new_buyers
        FROM range_orders o
        LEFT JOIN units u ON u.order_id = o.id
        LEFT JOIN buyers b ON b.shop_id = o.shop_id AND b.day = o.day AND b.currency_code = o.currency_code
        GROUP BY o.shop_id, o.day, o.currency_code
    ),
    {LISTING_GAINS},
    gains AS (
        SELECT shop_id, day, sum(views_gained) AS views_gained, sum(favorites_gained) AS favorites_gained
        FROM listing_gains GROUP BY shop_id, day
    ),
    reviews AS (  -- reviews left that day, from core (typed and owned by the application, unlike etsy_raw)
        SELECT rv.shop_id, {local_day("rv.etsy_created_at")} AS day, count(*) AS reviews,
            round(avg(rv.rating), 4) AS average_rating
        FROM core.reviews rv
        WHERE rv.shop_id IN (SELECT id FROM scope) AND {in_range("rv.etsy_created_at")}
        GROUP BY 1, 2
    ),
    fees AS (  -- Etsy's fees and what Etsy pays out for the day's orders, after adjustments
        SELECT o.shop_id, o.day, o.currency_code, sum(coalesce(p.adjusted_fees, p.fees)) AS etsy_fees,
            sum(coalesce(p.adjusted_net, p.net)) AS net_after_fees
        FROM range_orders o JOIN core.payments p ON p.order_id = o.id
        GROUP BY o.shop_id, o.day, o.currency_code
    ),
    keys AS (  -- every shop has a row per day in its own currency, sales or not; and one per other currency sold
        SELECT shop_id, day, currency_code FROM sales
        UNION SELECT sc.id, d.day, sc.currency_code FROM scope sc CROSS JOIN days d WHERE sc.currency_code IS NOT NULL
    )
    INSERT INTO analytics.shop_daily_metrics (shop_id, metric_date, currency_code, orders, items_sold,
        gross_sales, discounts, shipping, tax, refunds, net_sales, etsy_fees, net_revenue_after_fees,
        average_order_value, distinct_buyers, new_buyers, returning_buyers, views_gained, favorites_gained,
        orders_per_1000_views, repeat_customer_rate, reviews, average_rating)
    SELECT k.shop_id, k.day, k.currency_code, coalesce(s.orders, 0), coalesce(s.items_sold, 0),
        coalesce(s.gross_sales, 0), coalesce(s.discounts, 0), coalesce(s.shipping, 0), coalesce(s.tax, 0),
        coalesce(s.refunds, 0), coalesce(s.net_sales, 0), coalesce(f.etsy_fees, 0), coalesce(f.net_after_fees, 0),
        {average("s.gross_sales - s.discounts", "s.orders")},
        coalesce(s.distinct_buyers, 0), coalesce(s.new_buyers, 0),
        coalesce(s.distinct_buyers - s.new_buyers, 0), coalesce(g.views_gained, 0),
        coalesce(g.favorites_gained, 0),
        CASE WHEN g.views_gained > 0 THEN round(1000.0 * coalesce(s.orders, 0) / g.views_gained, 4) END,
        CASE WHEN s.distinct_buyers > 0
             THEN round((s.distinct_buyers - s.new_buyers)::numeric / s.distinct_buyers, 4) END,
        coalesce(r.reviews, 0), r.average_rating
    FROM keys k
    LEFT JOIN sales s ON s.shop_id = k.shop_id AND s.day = k.day AND s.currency_code = k.currency_code
    LEFT JOIN fees f ON f.shop_id = k.shop_id AND f.day = k.day AND f.currency_code = k.currency_code
    LEFT JOIN scope sc ON sc.id = k.shop_id
    LEFT JOIN gains g ON g.shop_id = k.shop_id AND g.day = k.day
        AND k.currency_code IS NOT DISTINCT FROM sc.currency_code
    LEFT JOIN reviews r ON r.shop_id = k.shop_id AND r.day = k.day
        AND k.currency_code IS NOT DISTINCT FROM sc.currency_code
"""


def rebuild_shop_days(
    conn: Connection, start: date, end: date, *, tz: str = "UTC", shop_ids: list[int] | None = None
) -> int:
    """Replace `analytics.shop_daily_metrics` for [start, end] (all shops, or some); returns rows written."""
    ensure_shop_daily_metrics_partitions(conn, start, end)
    delete = f"DELETE FROM analytics.shop_daily_metrics WHERE metric_date BETWEEN :start AND :end AND {SHOPS_FILTER}"
    return _replace(conn, delete, SHOP_DAYS, _params(start, end, tz, shop_ids))


def rebuild_shop_day(conn: Connection, day: date, *, tz: str = "UTC", shop_ids: list[int] | None = None) -> int:
    """Replace `analytics.shop_daily_metrics` for one day: the range [day, day]."""
    return rebuild_shop_days(conn, day, day, tz=tz, shop_ids=shop_ids)


LISTING_DAYS = f"""
    WITH {SCOPE},
    {RANGE_ORDERS},
    sold AS (
        SELECT o.day, i.listing_id, max(i.currency_code) AS currency_code, sum(i.quantity) AS units,
            sum(i.price * i.quantity) AS revenue
        FROM range_orders o JOIN core.order_items i ON i.order_id = o.id
        WHERE i.listing_id IS NOT NULL
        GROUP BY o.day, i.listing_id
    ),
    {LISTING_GAINS},
    built AS (  -- listings that sold or were snapshotted, per day
        SELECT coalesce(s.day, g.day) AS day, coalesce(s.listing_id, g.listing_id) AS listing_id, s.currency_code,
            s.units, s.revenue, g.views_gained, g.favorites_gained, g.quantity AS stock, g.listing_id IS NULL AS unseen
        FROM sold s FULL JOIN listing_gains g ON g.listing_id = s.listing_id AND g.day = s.day
    ),
    carried AS (  -- a day sold without a snapshot that day ends with the stock of the last snapshot before it
        SELECT listing_id, day, unseen, max(snapshot_date) OVER (PARTITION BY listing_id ORDER BY day) AS last_snapshot
        FROM (
            SELECT listing_id, day, true AS unseen, NULL::date AS snapshot_date FROM built WHERE unseen
            UNION ALL
            SELECT listing_id, snapshot_date, false, snapshot_date FROM snaps
            WHERE listing_id IN (SELECT listing_id FROM built WHERE unseen)
        ) t
    ),
    unseen_stock AS (
        SELECT c.listing_id, c.day, s.quantity FROM carried c
        JOIN snaps s ON s.listing_id = c.listing_id AND s.snapshot_date = c.last_snapshot
        WHERE c.unseen
    )
    INSERT INTO analytics.listing_daily_metrics (metric_date, listing_id, shop_id, currency_code, views_gained,
        favorites_gained, units_sold, revenue, stock_at_day_end)
    SELECT b.day, l.id, l.shop_id, coalesce(b.currency_code, l.currency_code), coalesce(b.views_gained, 0),
        coalesce(b.favorites_gained, 0), coalesce(b.units, 0), coalesce(b.revenue, 0), coalesce(b.stock, us.quantity)
    FROM built b JOIN core.listings l ON l.id = b.listing_id
    LEFT JOIN unseen_stock us ON us.listing_id = b.listing_id AND us.day = b.day
"""


def rebuild_listing_days(
    conn: Connection, start: date, end: date, *, tz: str = "UTC", shop_ids: list[int] | None = None
) -> int:
    """Replace `analytics.listing_daily_metrics` for [start, end]: listings that sold or were snapshotted."""
    delete = f"DELETE FROM analytics.listing_daily_metrics WHERE metric_date BETWEEN :start AND :end AND {SHOPS_FILTER}"
    return _replace(conn, delete, LISTING_DAYS, _params(start, end, tz, shop_ids))


def rebuild_listing_day(conn: Connection, day: date, *, tz: str = "UTC", shop_ids: list[int] | None = None) -> int:
    """Replace `analytics.listing_daily_metrics` for one day: the range [day, day]."""
    return rebuild_listing_days(conn, day, day, tz=tz, shop_ids=shop_ids)


# Older days than :latest are kept at month ends only. The days to drop are found among the table's distinct as-of
# days, an index probe each (a few dozen), rather than by reading its millions of rows to test each one's date.
KEEP_ONLY_MONTH_ENDS = f"""
    WITH RECURSIVE held AS (
        SELECT min(as_of_date) AS day FROM {{table}}
        UNION ALL
        SELECT (SELECT min(as_of_date) FROM {{table}} WHERE as_of_date > h.day) FROM held h WHERE h.day IS NOT NULL
    )
    DELETE FROM {{table}} WHERE {SHOPS_FILTER} AND as_of_date IN (
        SELECT day FROM held WHERE day < CAST(:latest AS date)
          AND day <> (date_trunc('month', day) + interval '1 month - 1 day')::date
    )
"""

_LIFETIME = customer_lifetime("o", "u.units")

# Every buyer's lifetime figures as of each day of :as_of_days (sorted), in one pass over the orders: each counted order
# falls in the bucket of the first as-of day it is not later than (its position in :as_of_days), a buyer's orders
# are summed per bucket (transform/rules.py), and the buckets are rolled up in order. A buyer appears from the
# first as-of day that counts one of their orders, with the figures of their latest bucket up to that day: each
# rolled-up bucket is listed for its as-of day and the days before the buyer's next bucket. The rolling-up runs
# over the buckets (a buyer's orders, grouped), not over every buyer and as-of day (ten times as many rows), and
# the rows come out in the primary key's order (as-of day, shop, buyer), which the index takes as appends.
CUSTOMER_ROWS = f"""
    {SCOPE},
    counted AS (
        SELECT o.id, o.shop_id, o.etsy_buyer_user_id, o.etsy_created_at, o.grandtotal, o.refunded_amount,
            o.currency_code, {local_day("o.etsy_created_at")} AS day,
            width_bucket({local_day("o.etsy_created_at")}, CAST(:as_of_next AS date[])) + 1 AS bucket
        FROM core.orders o
        WHERE o.shop_id IN (SELECT id FROM scope) AND o.etsy_buyer_user_id IS NOT NULL
          AND o.etsy_created_at < (CAST(:latest AS date) + 2)::timestamp AT TIME ZONE :tz
          AND {counted_order("o")}
    ),
    units AS (
        SELECT i.order_id, sum(i.quantity) AS units FROM core.order_items i
        JOIN counted o ON o.id = i.order_id GROUP BY i.order_id
    ),
    buckets AS (
        SELECT o.shop_id, o.etsy_buyer_user_id, o.bucket, {_LIFETIME["first_order_at"]} AS first_order_at,
            {_LIFETIME["last_order_at"]} AS last_order_at, {_LIFETIME["order_count"]} AS order_count,
            {_LIFETIME["units"]} AS units, {_LIFETIME["total_spent"]} AS total_spent, max(o.day) AS last_day,
            max(o.currency_code) AS currency_code
        FROM counted o LEFT JOIN units u ON u.order_id = o.id
        WHERE o.bucket <= cardinality(CAST(:as_of_days AS date[]))
        GROUP BY o.shop_id, o.etsy_buyer_user_id, o.bucket
    ),
    cumulative AS (
        SELECT shop_id, etsy_buyer_user_id, bucket,
            coalesce(lead(bucket) OVER w, cardinality(CAST(:as_of_days AS date[])) + 1) AS next_bucket,
            min(first_order_at) OVER w AS first_order_at, max(last_order_at) OVER w AS last_order_at,
            sum(order_count) OVER w AS order_count, sum(units) OVER w AS units, sum(total_spent) OVER w AS total_spent,
            max(last_day) OVER w AS last_day, max(currency_code) OVER w AS currency_code
        FROM buckets
        WINDOW w AS (PARTITION BY shop_id, etsy_buyer_user_id ORDER BY bucket)
    ),
    rolled AS (  -- as-of day by as-of day, each a pass over the rolled-up buckets in (shop, buyer) order
        SELECT (CAST(:as_of_days AS date[]))[n] AS as_of_date, c.*
        FROM generate_series(1, cardinality(CAST(:as_of_days AS date[]))) n
        CROSS JOIN LATERAL (SELECT * FROM cumulative c WHERE c.bucket <= n AND n < c.next_bucket) c
    )"""

INSERT_CUSTOMERS = f"""
    INSERT INTO analytics.customers (as_of_date, shop_id, etsy_buyer_user_id, first_order_at, last_order_at,
        order_count, units, total_spent, average_order_value, days_since_last_order, currency_code)
    SELECT as_of_date, shop_id, etsy_buyer_user_id, first_order_at, last_order_at, order_count, units, total_spent,
        {average("total_spent", "order_count")}, as_of_date - last_day, currency_code
    FROM rolled
"""

CUSTOMERS = f"WITH {CUSTOMER_ROWS}{INSERT_CUSTOMERS}"


def _as_of_params(days: list[date], tz: str, shop_ids: list[int] | None) -> dict[str, Any]:
    ordered = sorted(set(days))
    return _params(ordered[0], ordered[-1], tz, shop_ids) | {
        "as_of_days": ordered,
        "as_of_next": [d + timedelta(days=1) for d in ordered],
        "latest": ordered[-1],
    }


def rebuild_customer_days(
    conn: Connection, days: list[date], *, tz: str = "UTC", shop_ids: list[int] | None = None
) -> int:
    """Replace `analytics.customers` as of each of `days`: lifetime figures over orders placed up to its end.

    Every buyer is listed for every day built, so older days are kept only at month ends (for trends); the
    latest of `days` and each month's last day remain, as after building the days one by one.
    """
    if not days:
        return 0
    p = _as_of_params(days, tz, shop_ids)
    delete = f"DELETE FROM analytics.customers WHERE as_of_date = ANY(:as_of_days) AND {SHOPS_FILTER}"
    written = _replace(conn, delete, CUSTOMERS, p)
    conn.execute(text(KEEP_ONLY_MONTH_ENDS.format(table="analytics.customers")), p)
    return written


def rebuild_customers(conn: Connection, as_of: date, *, tz: str = "UTC", shop_ids: list[int] | None = None) -> int:
    """Replace `analytics.customers` as of one day."""
    return rebuild_customer_days(conn, [as_of], tz=tz, shop_ids=shop_ids)


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


# Scores are per shop and as-of day, over `{customers}`: analytics.customers filtered to the days, or the rows
# the same statement has just written to it.
SEGMENT_ROWS = f"""
    base AS (
        SELECT as_of_date, shop_id, etsy_buyer_user_id, days_since_last_order AS recency_days,
            order_count AS frequency, total_spent AS monetary,
            ceil(5 * cume_dist() OVER (PARTITION BY as_of_date, shop_id ORDER BY last_order_at))::int AS r,
            ceil(5 * cume_dist() OVER (PARTITION BY as_of_date, shop_id ORDER BY total_spent))::int AS m
        FROM {{customers}}
    ),
    scored AS (
        SELECT *, ({FREQUENCY_SCORE})::int AS f FROM base
    ),
    mapped AS (
        SELECT *, round((f + m) / 2.0)::int AS fm FROM scored
    )
    INSERT INTO analytics.customer_segments (as_of_date, shop_id, etsy_buyer_user_id, recency_days, frequency,
        monetary, r_score, f_score, m_score, segment)
    SELECT as_of_date, shop_id, etsy_buyer_user_id, recency_days, frequency, monetary, r, f, m, {segment_case()}
    FROM mapped
"""

SEGMENTS = "WITH" + SEGMENT_ROWS.format(
    customers=f"analytics.customers WHERE as_of_date = ANY(:as_of_days) AND {SHOPS_FILTER}"
)

# Customers and their segments in one statement: the segments are scored from the rows the insert into customers
# returns, so the 4.4 million rows of a two-year backfill are not read back from the table they were written to.
CUSTOMERS_AND_SEGMENTS = f"""
    WITH {CUSTOMER_ROWS},
    written AS ({INSERT_CUSTOMERS}
        RETURNING as_of_date, shop_id, etsy_buyer_user_id, days_since_last_order, order_count, total_spent,
            last_order_at
    ),{SEGMENT_ROWS.format(customers="written")}"""


def rebuild_segment_days(conn: Connection, days: list[date], *, shop_ids: list[int] | None = None) -> int:
    """Replace `analytics.customer_segments` as of each of `days`, from `analytics.customers` of the same days
    (scores are per shop and day)."""
    if not days:
        return 0
    p = _as_of_params(days, "UTC", shop_ids)
    delete = f"DELETE FROM analytics.customer_segments WHERE as_of_date = ANY(:as_of_days) AND {SHOPS_FILTER}"
    written = _replace(conn, delete, SEGMENTS, p)
    conn.execute(text(KEEP_ONLY_MONTH_ENDS.format(table="analytics.customer_segments")), p)
    return written


def rebuild_segments(conn: Connection, as_of: date, *, shop_ids: list[int] | None = None) -> int:
    """Replace `analytics.customer_segments` as of one day."""
    return rebuild_segment_days(conn, [as_of], shop_ids=shop_ids)


SNAPSHOT_TABLES = ("analytics.customers", "analytics.customer_segments")


def rebuild_customer_snapshot_days(
    conn: Connection, days: list[date], *, tz: str = "UTC", shop_ids: list[int] | None = None
) -> int:
    """Replace `analytics.customers` and `analytics.customer_segments` as of each of `days` in one statement (the
    segments scored from the customer rows as they are written); returns the rows written to each, since every
    customer has a segment. Kept days are as for `rebuild_customer_days`."""
    if not days:
        return 0
    p = _as_of_params(days, tz, shop_ids)
    for setting in TUNING:
        conn.execute(text(setting))
    for table in SNAPSHOT_TABLES:
        conn.execute(text(f"DELETE FROM {table} WHERE as_of_date = ANY(:as_of_days) AND {SHOPS_FILTER}"), p)
    written = max(conn.execute(text(CUSTOMERS_AND_SEGMENTS), p).rowcount, 0)
    for table in SNAPSHOT_TABLES:
        conn.execute(text(KEEP_ONLY_MONTH_ENDS.format(table=table)), p)
    return written


# Inventory has no history: each day of the range gets the alerts of the inventory as it is now.
INVENTORY_ALERTS = """
    INSERT INTO analytics.inventory_alerts (alert_date, inventory_id, shop_id, listing_id, sku, quantity,
        threshold, kind)
    SELECT CAST(d AS date), a.* FROM generate_series(CAST(:start AS date), CAST(:end AS date), interval '1 day') d
    CROSS JOIN (
        SELECT i.id, i.shop_id, i.listing_id, i.sku, i.quantity, coalesce(s.low_stock_threshold, :default),
            CASE WHEN i.quantity = 0 THEN 'sold_out' ELSE 'low_stock' END
        FROM core.inventory i
        JOIN core.shops s ON s.id = i.shop_id
        JOIN core.listings l ON l.id = i.listing_id AND l.state IN ('active', 'sold_out')
        WHERE (CAST(:all_shops AS boolean) OR i.shop_id = ANY(:shop_ids)) AND i.is_enabled AND NOT i.is_deleted
          AND i.quantity <= coalesce(s.low_stock_threshold, :default)
    ) a
"""


def rebuild_inventory_alert_days(
    conn: Connection, start: date, end: date, *, default_threshold: int, shop_ids: list[int] | None = None
) -> int:
    """Replace the alerts of [start, end]: enabled offerings of active listings at or below the threshold."""
    p = _params(start, end, "UTC", shop_ids) | {"default": default_threshold}
    delete = f"DELETE FROM analytics.inventory_alerts WHERE alert_date BETWEEN :start AND :end AND {SHOPS_FILTER}"
    return _replace(conn, delete, INVENTORY_ALERTS, p)


def rebuild_inventory_alerts(
    conn: Connection, day: date, *, default_threshold: int, shop_ids: list[int] | None = None
) -> int:
    """Replace one day's alerts."""
    return rebuild_inventory_alert_days(conn, day, day, default_threshold=default_threshold, shop_ids=shop_ids)


def keeps_customer_snapshot(day: date, last_day_of_run: date) -> bool:
    """Customers and segments are kept only for month ends and the latest day, so a range builds only those."""
    return day == last_day_of_run or (day + timedelta(days=1)).day == 1


def customer_snapshot_days(start: date, end: date, last_day_of_run: date | None = None) -> list[date]:
    """The days of [start, end] whose customers a run ending on `last_day_of_run` (default `end`) keeps."""
    last = last_day_of_run or end
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    return [d for d in days if keeps_customer_snapshot(d, last)]


def rebuild_range(
    conn: Connection,
    start: date,
    end: date,
    *,
    tz: str,
    default_threshold: int,
    shop_ids: list[int] | None = None,
    last_day_of_run: date | None = None,
) -> dict[str, int]:
    """Every analytics table for [start, end], one statement each (customers and segments share one), in the
    caller's transaction."""
    snapshots = rebuild_customer_snapshot_days(
        conn, customer_snapshot_days(start, end, last_day_of_run), tz=tz, shop_ids=shop_ids
    )
    return {
        "shop_daily_metrics": rebuild_shop_days(conn, start, end, tz=tz, shop_ids=shop_ids),
        "listing_daily_metrics": rebuild_listing_days(conn, start, end, tz=tz, shop_ids=shop_ids),
        "inventory_alerts": rebuild_inventory_alert_days(
            conn, start, end, default_threshold=default_threshold, shop_ids=shop_ids
        ),
        "customers": snapshots,
        "customer_segments": snapshots,
    }


def rebuild_all(
    conn: Connection,
    day: date,
    *,
    tz: str,
    default_threshold: int,
    shop_ids: list[int] | None = None,
    last_day_of_run: date | None = None,
) -> dict[str, int]:
    """Every analytics table for one day, in the caller's transaction (customers only if the run keeps them)."""
    rows = rebuild_range(
        conn, day, day, tz=tz, default_threshold=default_threshold, shop_ids=shop_ids, last_day_of_run=last_day_of_run
    )
    if not keeps_customer_snapshot(day, last_day_of_run or day):
        del rows["customers"], rows["customer_segments"]
    return rows
