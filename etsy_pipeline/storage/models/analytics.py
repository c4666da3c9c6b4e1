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
        {
            "schema": ANALYTICS,
            "postgresql_partition_by": "RANGE (metric_date)",
            "comment": "One shop's day in one currency; partitioned by month.",
        },
    )

    shop_id: Mapped[int] = mapped_column(
        ForeignKey(f"{CORE}.shops.id", ondelete="CASCADE"), comment="core.shops.id of the shop."
    )
    metric_date: Mapped[date] = mapped_column(comment="The day, in the analytics time zone.")
    currency_code: Mapped[str] = mapped_column(String(3), comment="Currency of the money columns (ISO 4217).")
    orders: Mapped[int] = mapped_column(Integer, server_default="0", comment="Orders placed (canceled excluded).")
    items_sold: Mapped[int] = mapped_column(Integer, server_default="0", comment="Units in those orders.")
    gross_sales: Mapped[Decimal] = mapped_column(server_default="0", comment="Unit price x quantity, summed.")
    discounts: Mapped[Decimal] = mapped_column(server_default="0", comment="Coupons and discounts.")
    shipping: Mapped[Decimal] = mapped_column(server_default="0", comment="Shipping charged to buyers.")
    tax: Mapped[Decimal] = mapped_column(server_default="0", comment="Sales tax and VAT collected.")
    refunds: Mapped[Decimal] = mapped_column(
        server_default="0", comment="Refunded on these orders so far, whenever refunded (order-date accounting)."
    )
    net_sales: Mapped[Decimal] = mapped_column(server_default="0", comment="gross_sales - discounts - refunds.")
    etsy_fees: Mapped[Decimal] = mapped_column(
        server_default="0",
        comment="Etsy's fees on these orders (their payments' fees after adjustments; none while unsynced).",
    )
    net_revenue_after_fees: Mapped[Decimal] = mapped_column(
        server_default="0",
        comment="What Etsy pays for these orders: buyers paid (items, shipping, tax) less refunds and fees.",
    )
    average_order_value: Mapped[Decimal | None] = mapped_column(comment="(gross_sales - discounts) / orders.")
    distinct_buyers: Mapped[int] = mapped_column(Integer, server_default="0", comment="Buyers with an order.")
    new_buyers: Mapped[int] = mapped_column(
        Integer, server_default="0", comment="Buyers whose first order at the shop was that day."
    )
    returning_buyers: Mapped[int] = mapped_column(
        Integer, server_default="0", comment="Buyers who had ordered from the shop before."
    )
    views_gained: Mapped[int] = mapped_column(
        Integer, server_default="0", comment="Listing views gained (from daily snapshots of Etsy's lifetime counter)."
    )
    favorites_gained: Mapped[int] = mapped_column(
        Integer, server_default="0", comment="Listing favorites gained (from daily snapshots)."
    )
    orders_per_1000_views: Mapped[Decimal | None] = mapped_column(
        comment="orders / views_gained x 1000; null without views."
    )
    repeat_customer_rate: Mapped[Decimal | None] = mapped_column(comment="returning_buyers / distinct_buyers.")
    reviews: Mapped[int] = mapped_column(Integer, server_default="0", comment="Reviews left that day.")
    average_rating: Mapped[Decimal | None] = mapped_column(comment="Mean rating (1-5) of those reviews.")
    computed_at: Mapped[datetime] = mapped_column(server_default=text("now()"), comment="When the row was built.")
