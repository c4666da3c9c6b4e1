"""Rebuilding a range of days: each day in its own transaction, oldest first, reporting progress."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import select

from etsy_pipeline.runtime import Runtime
from etsy_pipeline.storage.models import Shop
from etsy_pipeline.transform.analytics import rebuild_all

MAX_DAYS = 3660


def days_between(start: date, end: date) -> list[date]:
    if end < start:
        raise ValueError(f"--to {end.isoformat()} is before --from {start.isoformat()}")
    if (end - start).days >= MAX_DAYS:
        raise ValueError(f"a backfill covers at most {MAX_DAYS} days; split {start}..{end}")
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


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
    progress: Callable[[date, dict[str, int]], None] | None = None,
) -> dict[str, int]:
    """Rebuild every analytics table for each day in [start, end]; returns rows written per table."""
    totals: dict[str, int] = {}
    settings = runtime.settings
    for day in days_between(start, end):
        with runtime.db.engine.begin() as conn:
            rows = rebuild_all(
                conn,
                day,
                tz=settings.analytics_timezone,
                default_threshold=settings.low_stock_threshold,
                shop_ids=shop_ids,
                last_day_of_run=end,
            )
        for table, count in rows.items():
            totals[table] = totals.get(table, 0) + count
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
