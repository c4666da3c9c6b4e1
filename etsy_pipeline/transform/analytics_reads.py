"""Reads over the analytics tables that the Dagster definitions show or check: SQL stays in transform/, so the
definitions only wire it (what a run shows in the UI, whether a check passes) and the rules come from rules.py.

The checks take the checked days as [first, end) (end excluded); `date.min`/`date.max` check every day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import Connection, text

from etsy_pipeline.transform.rules import counted_order, net_sales

# Days whose analytics disagree with core.orders, in either direction (a day missing from analytics counts too).
TOTALS = f"""
WITH truth AS (
    SELECT o.shop_id, (o.etsy_created_at AT TIME ZONE :tz)::date AS day, o.currency_code, count(*) AS orders,
        sum{net_sales("o")} AS net
    FROM core.orders o
    WHERE {counted_order("o")}
      AND o.etsy_created_at >= CAST(:first AS timestamp) AT TIME ZONE :tz
      AND o.etsy_created_at < CAST(:end AS timestamp) AT TIME ZONE :tz
    GROUP BY 1, 2, 3
), built AS (
    SELECT * FROM analytics.shop_daily_metrics WHERE metric_date >= :first AND metric_date < :end
)
SELECT count(*) FROM built m
FULL JOIN truth t ON t.shop_id = m.shop_id AND t.day = m.metric_date AND t.currency_code = m.currency_code
WHERE coalesce(m.orders, 0) <> coalesce(t.orders, 0) OR coalesce(m.net_sales, 0) <> coalesce(t.net, 0)
"""

NEGATIVE = """
SELECT count(*) FROM analytics.shop_daily_metrics
WHERE metric_date >= :first AND metric_date < :end
  AND (orders < 0 OR items_sold < 0 OR distinct_buyers < 0 OR new_buyers < 0 OR returning_buyers < 0
       OR views_gained < 0 OR favorites_gained < 0 OR reviews < 0 OR gross_sales < 0)
"""

UNSCORED = """
SELECT count(*) FROM analytics.customers c
WHERE c.as_of_date >= :first AND c.as_of_date < :end
  AND c.as_of_date IN (SELECT DISTINCT as_of_date FROM analytics.customer_segments
                       WHERE as_of_date >= :first AND as_of_date < :end)
  AND NOT EXISTS (SELECT 1 FROM analytics.customer_segments s WHERE s.as_of_date = c.as_of_date
                  AND s.shop_id = c.shop_id AND s.etsy_buyer_user_id = c.etsy_buyer_user_id)
"""


def _count(conn: Connection, sql: str, first: date, end: date, tz: str = "UTC") -> int:
    return int(conn.execute(text(sql), {"tz": tz, "first": first, "end": end}).scalar() or 0)


def days_not_reconciling(conn: Connection, first: date, end: date, *, tz: str) -> int:
    """Shop days of [first, end) whose orders or net sales differ from what core.orders holds for them."""
    return _count(conn, TOTALS, first, end, tz)


def negative_rows(conn: Connection, first: date, end: date) -> int:
    """Daily rows of [first, end) with a count or amount below zero that can only grow."""
    return _count(conn, NEGATIVE, first, end)


def customers_without_segment(conn: Connection, first: date, end: date) -> int:
    """Customers of scored as-of days in [first, end) that have no segment."""
    return _count(conn, UNSCORED, first, end)


def daily_net_sales(conn: Connection, last: date, days: int = 30) -> list[float]:
    """Net sales of every shop summed per day, for the `days` days up to `last` that have rows, oldest first."""
    rows = conn.execute(
        text(
            "SELECT metric_date, sum(net_sales) FROM analytics.shop_daily_metrics "
            "WHERE metric_date > CAST(:last AS date) - :days AND metric_date <= :last GROUP BY 1 ORDER BY 1"
        ),
        {"last": last, "days": days},
    ).all()
    return [float(v) for _, v in rows]


def day_preview(conn: Connection, day: date, limit: int = 20) -> list[tuple[str, str, int, int, float, int]]:
    """The day's first shops by name: (shop, currency, orders, items, net sales, buyers)."""
    rows = conn.execute(
        text(
            "SELECT s.shop_name, m.currency_code, m.orders, m.items_sold, m.net_sales, m.distinct_buyers "
            "FROM analytics.shop_daily_metrics m JOIN core.shops s ON s.id = m.shop_id WHERE m.metric_date = :d "
            "ORDER BY s.shop_name LIMIT :limit"
        ),
        {"d": day, "limit": limit},
    ).all()
    return [(a, b, c, d, e, f) for a, b, c, d, e, f in rows]


DAY_COLUMNS = {
    "shop_daily_metrics": "metric_date",
    "listing_daily_metrics": "metric_date",
    "inventory_alerts": "alert_date",
    "customers": "as_of_date",
    "customer_segments": "as_of_date",
}


def rows_per_day(
    conn: Connection, start: date, end: date, shop_ids: list[int] | None, tables: Iterable[str] = tuple(DAY_COLUMNS)
) -> dict[date, dict[str, int]]:
    """Rows each analytics table (of `tables`, every one by default) holds per day of [start, end] for the shops
    (every shop when None): what a rebuild of the range wrote, day by day (customers and segments only on the days
    they are kept)."""
    params = {"start": start, "end": end, "all_shops": shop_ids is None, "shop_ids": shop_ids or []}
    shops = "(CAST(:all_shops AS boolean) OR shop_id = ANY(:shop_ids))"
    out: dict[date, dict[str, int]] = {}
    for table in tables:
        column = DAY_COLUMNS[table]
        query = (
            f"SELECT {column}, count(*) FROM analytics.{table} "
            f"WHERE {column} BETWEEN :start AND :end AND {shops} GROUP BY 1"
        )
        for day, count in conn.execute(text(query), params):
            out.setdefault(day, {})[table] = int(count)
    return out
