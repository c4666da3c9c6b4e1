"""Analytics tables. `shop_daily_metrics` is declaratively partitioned by month on `metric_date`.

Month partitions are created on demand by `analytics.ensure_shop_daily_metrics_partitions(from, to)`
(see migrations and `storage.partitions`); they are not part of the model, and Alembic ignores them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, PrimaryKeyConstraint, String, text
from sqlalchemy.orm import Mapped, mapped_column

from etsy_pipeline.storage.base import ANALYTICS, CORE, Base

PARTITIONED_TABLE = "shop_daily_metrics"
PARTITION_PREFIX = f"{PARTITIONED_TABLE}_y"


class ShopDailyMetrics(Base):
    """One shop's day in one currency."""

    __tablename__ = PARTITIONED_TABLE
    __table_args__ = (
        PrimaryKeyConstraint("shop_id", "metric_date", "currency_code"),
        {"schema": ANALYTICS, "postgresql_partition_by": "RANGE (metric_date)"},
    )

    shop_id: Mapped[int] = mapped_column(ForeignKey(f"{CORE}.shops.id", ondelete="CASCADE"))
    metric_date: Mapped[date]
    currency_code: Mapped[str] = mapped_column(String(3))
    orders: Mapped[int] = mapped_column(Integer, server_default="0")
    items_sold: Mapped[int] = mapped_column(Integer, server_default="0")
    gross_sales: Mapped[Decimal] = mapped_column(server_default="0")
    discounts: Mapped[Decimal] = mapped_column(server_default="0")
    shipping: Mapped[Decimal] = mapped_column(server_default="0")
    tax: Mapped[Decimal] = mapped_column(server_default="0")
    refunds: Mapped[Decimal] = mapped_column(server_default="0")
    net_sales: Mapped[Decimal] = mapped_column(server_default="0")
    average_order_value: Mapped[Decimal | None]
    distinct_buyers: Mapped[int] = mapped_column(Integer, server_default="0")
    new_buyers: Mapped[int] = mapped_column(Integer, server_default="0")
    returning_buyers: Mapped[int] = mapped_column(Integer, server_default="0")
    views_gained: Mapped[int] = mapped_column(Integer, server_default="0")
    favorites_gained: Mapped[int] = mapped_column(Integer, server_default="0")
    reviews: Mapped[int] = mapped_column(Integer, server_default="0")
    average_rating: Mapped[Decimal | None]
    computed_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
