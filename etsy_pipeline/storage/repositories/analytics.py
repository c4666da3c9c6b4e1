"""Daily shop metrics for a date range (reads only; the analytics assets write them)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from etsy_pipeline.storage.models import ShopDailyMetrics
from etsy_pipeline.storage.repositories.base import (
    InvalidArgumentError,
    Repository,
    require_shop,
    to_view,
)
from etsy_pipeline.storage.repositories.views import DailyMetricsView

MAX_RANGE_DAYS = 3660


class AnalyticsRepository(Repository):
    def daily_metrics(self, user_id: int, shop_id: int, start: date, end: date) -> list[DailyMetricsView]:
        """Metrics of each day in [start, end] (inclusive), oldest first, one row per currency."""
        if end < start:
            raise InvalidArgumentError(f"end {end.isoformat()} is before start {start.isoformat()}")
        if (end - start).days > MAX_RANGE_DAYS:
            raise InvalidArgumentError(f"date range {start}..{end} is longer than {MAX_RANGE_DAYS} days")

        def load() -> list[DailyMetricsView]:
            with self.db.session() as session:
                require_shop(session, user_id, shop_id)
                rows = session.scalars(
                    select(ShopDailyMetrics)
                    .where(
                        ShopDailyMetrics.shop_id == shop_id,
                        ShopDailyMetrics.metric_date >= start,
                        ShopDailyMetrics.metric_date <= end,
                    )
                    .order_by(ShopDailyMetrics.metric_date, ShopDailyMetrics.currency_code)
                )
                return [to_view(DailyMetricsView, r) for r in rows]

        return self.cache.get_or_load(
            user_id=user_id,
            shop_id=shop_id,
            name=f"daily_metrics:{start.isoformat()}:{end.isoformat()}",
            ttl=self.ttls.analytics,
            loader=load,
        )
