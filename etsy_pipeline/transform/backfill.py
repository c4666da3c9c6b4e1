"""Rebuilding a range of days set-based: a statement per table over many days, never a loop over days.

The customer snapshots (month ends and the last day) are built first, all in one statement per table, since each
scans every buyer's history and one pass serves every as-of day. The daily tables follow a calendar month at a
time, each month in its own transaction, so a long backfill commits as it goes and reports progress day by day
(with the rows each day holds afterwards) without paying a per-day price.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import select

from etsy_pipeline.runtime import Runtime
from etsy_pipeline.storage.models import Shop
from etsy_pipeline.transform.analytics import (
    customer_snapshot_days,
    rebuild_customer_days,
    rebuild_inventory_alert_days,
    rebuild_listing_days,
    rebuild_segment_days,
    rebuild_shop_days,
)
from etsy_pipeline.transform.analytics_reads import rows_per_day

MAX_DAYS = 3660
DAILY_TABLES = ("shop_daily_metrics", "listing_daily_metrics", "inventory_alerts")
SNAPSHOT_TABLES = ("customers", "customer_segments")
Progress = Callable[[date, dict[str, int]], None]


def days_between(start: date, end: date) -> list[date]:
    if end < start:
        raise ValueError(f"--to {end.isoformat()} is before --from {start.isoformat()}")
    if (end - start).days >= MAX_DAYS:
        raise ValueError(f"a backfill covers at most {MAX_DAYS} days; split {start}..{end}")
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def months_between(start: date, end: date) -> list[tuple[date, date]]:
    """[start, end] cut at month ends: the chunks a backfill commits one by one."""
    chunks: list[tuple[date, date]] = []
    first = start
    while first <= end:
        next_month = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
        last = min(end, next_month - timedelta(days=1))
        chunks.append((first, last))
        first = last + timedelta(days=1)
    return chunks


def shop_ids_for(runtime: Runtime, etsy_shop_ids: list[int] | None) -> list[int] | None:
    """Core ids of the given Etsy shops (None: every shop); an unknown shop is an error that names it."""
    if not etsy_shop_ids:
        return None
    with runtime.db.session() as session:
        query = select(Shop.etsy_shop_id, Shop.id).where(Shop.etsy_shop_id.in_(etsy_shop_ids))
        found: dict[int, int] = {etsy: ident for etsy, ident in session.execute(query)}
    missing = sorted(set(etsy_shop_ids) - set(found))
    if missing:
        raise LookupError(f"shop(s) {missing} are not connected")
    return [found[e] for e in etsy_shop_ids]


def backfill(
    runtime: Runtime,
    start: date,
    end: date,
    *,
    shop_ids: list[int] | None = None,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Rebuild every analytics table for [start, end]; returns rows written per table.

    `progress` is called once per day, oldest first, with the rows each table holds for it once its month is
    committed (customers and segments only on the days they are kept).
    """
    days_between(start, end)  # validates the range
    settings = runtime.settings
    tz = settings.analytics_timezone
    snapshot_days = customer_snapshot_days(start, end)
    with runtime.db.engine.begin() as conn:
        rebuild_customer_days(conn, snapshot_days, tz=tz, shop_ids=shop_ids)
        rebuild_segment_days(conn, snapshot_days, shop_ids=shop_ids)
    totals = dict.fromkeys(DAILY_TABLES + SNAPSHOT_TABLES, 0)
    for first, last in months_between(start, end):
        with runtime.db.engine.begin() as conn:
            rebuild_shop_days(conn, first, last, tz=tz, shop_ids=shop_ids)
            rebuild_listing_days(conn, first, last, tz=tz, shop_ids=shop_ids)
            rebuild_inventory_alert_days(
                conn, first, last, default_threshold=settings.low_stock_threshold, shop_ids=shop_ids
            )
            held = rows_per_day(conn, first, last, shop_ids)
        for day in days_between(first, last):
            kept = SNAPSHOT_TABLES if day in snapshot_days else ()
            rows = {table: held.get(day, {}).get(table, 0) for table in DAILY_TABLES + kept}
            for table, count in rows.items():
                totals[table] += count
            if progress:
                progress(day, rows)
    invalidate_analytics(runtime, shop_ids)
    return totals


def invalidate_analytics(runtime: Runtime, shop_ids: list[int] | None) -> None:
    """Cached analytics reads of the rebuilt shops (every shop when None) must not outlive the rebuild."""
    if shop_ids is None:
        with runtime.db.session() as session:
            shop_ids = list(session.scalars(select(Shop.id)))
    for shop_id in shop_ids:
        runtime.cache.invalidate_shop(shop_id)
