"""Analytics tables with a row per day (listing metrics, customers, segments, inventory alerts).

Every table and column carries a comment: analysts read them in their SQL client, and docs/analytics.md says
the same at more length. A range of days is replaced in one statement per table (transform.analytics).

The customers, segments and listing days have no foreign keys (migration 0010): they are rebuilt from core's own
rows, millions at a time, and a per-row check that cannot fail cost more than writing them. `derived_shop` and
`derived_listing` keep the comment that names the referenced row. The customers' primary key, led by the as-of
day, is their only index: every read picks a day (migration 0010 says which).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, PrimaryKeyConstraint, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from etsy_pipeline.storage.base import ANALYTICS, CORE, Base


def shop_fk() -> Mapped[int]:
    return mapped_column(ForeignKey(f"{CORE}.shops.id", ondelete="CASCADE"), comment="core.shops.id of the shop.")


def derived_shop() -> Mapped[int]:
    return mapped_column(comment="core.shops.id of the shop.")


def derived_listing() -> Mapped[int]:
    return mapped_column(comment="core.listings.id of the listing.")


def listing_fk() -> Mapped[int]:
    return mapped_column(
        ForeignKey(f"{CORE}.listings.id", ondelete="CASCADE"), comment="core.listings.id of the listing."
    )


class ListingDailyMetrics(Base):
    __tablename__ = "listing_daily_metrics"
    __table_args__ = (
        PrimaryKeyConstraint("metric_date", "listing_id"),
        Index("ix_listing_daily_metrics_shop_id_metric_date", "shop_id", "metric_date"),
        Index("ix_listing_daily_metrics_listing_id", "listing_id"),
        {"schema": ANALYTICS, "comment": "One listing's day: views and favorites gained, units sold, revenue, stock."},
    )

    metric_date: Mapped[date] = mapped_column(comment="The day, in the analytics time zone.")
    listing_id: Mapped[int] = derived_listing()
    shop_id: Mapped[int] = derived_shop()
    currency_code: Mapped[str | None] = mapped_column(String(3), comment="Currency of revenue (ISO 4217).")
    views_gained: Mapped[int] = mapped_column(
        Integer, server_default="0", comment="Growth of Etsy's lifetime view counter since the previous snapshot."
    )
    favorites_gained: Mapped[int] = mapped_column(
        Integer, server_default="0", comment="Growth of the favorites count since the previous snapshot."
    )
    units_sold: Mapped[int] = mapped_column(
        Integer, server_default="0", comment="Units in orders placed that day (canceled orders excluded)."
    )
    revenue: Mapped[Decimal] = mapped_column(
        server_default="0", comment="Unit price x quantity of those units, before discounts."
    )
    stock_at_day_end: Mapped[int | None] = mapped_column(
        Integer, comment="Quantity in stock in the last snapshot taken up to that day."
    )


class CustomerLifetime(Base):
    __tablename__ = "customers"
    __table_args__ = (
        PrimaryKeyConstraint("as_of_date", "shop_id", "etsy_buyer_user_id"),
        {"schema": ANALYTICS, "comment": "Every buyer of a shop with lifetime figures as of a day."},
    )

    as_of_date: Mapped[date] = mapped_column(comment="The figures count orders placed up to the end of this day.")
    shop_id: Mapped[int] = derived_shop()
    etsy_buyer_user_id: Mapped[int] = mapped_column(comment="The buyer's Etsy user id.")
    first_order_at: Mapped[datetime] = mapped_column(comment="When the first order (canceled excluded) was placed.")
    last_order_at: Mapped[datetime] = mapped_column(comment="When the latest order was placed.")
    order_count: Mapped[int] = mapped_column(Integer, comment="Orders placed (canceled excluded).")
    units: Mapped[int] = mapped_column(Integer, comment="Units bought.")
    total_spent: Mapped[Decimal] = mapped_column(comment="Grand totals less refunds, in the shop's currency.")
    average_order_value: Mapped[Decimal] = mapped_column(comment="total_spent / order_count.")
    days_since_last_order: Mapped[int] = mapped_column(Integer, comment="Days from the last order to as_of_date.")
    currency_code: Mapped[str] = mapped_column(String(3), comment="Currency of the money columns (ISO 4217).")


class CustomerSegment(Base):
    __tablename__ = "customer_segments"
    __table_args__ = (
        PrimaryKeyConstraint("as_of_date", "shop_id", "etsy_buyer_user_id"),
        Index("ix_customer_segments_shop_id_as_of_date_segment", "shop_id", "as_of_date", "segment"),
        {"schema": ANALYTICS, "comment": "RFM scores (1-5) and the named segment of every buyer as of a day."},
    )

    as_of_date: Mapped[date] = mapped_column(comment="The day the scores describe.")
    shop_id: Mapped[int] = derived_shop()
    etsy_buyer_user_id: Mapped[int] = mapped_column(comment="The buyer's Etsy user id.")
    recency_days: Mapped[int] = mapped_column(Integer, comment="Days since the buyer's last order.")
    frequency: Mapped[int] = mapped_column(Integer, comment="Orders placed.")
    monetary: Mapped[Decimal] = mapped_column(comment="Money spent (grand totals less refunds).")
    r_score: Mapped[int] = mapped_column(
        SmallInteger, comment="Recency 1-5: quintile of the last order time within the shop (5 = most recent)."
    )
    f_score: Mapped[int] = mapped_column(SmallInteger, comment="Frequency 1-5: 1, 2, 3, 4-5 and 6 or more orders.")
    m_score: Mapped[int] = mapped_column(
        SmallInteger, comment="Monetary 1-5: quintile of money spent within the shop (5 = most)."
    )
    segment: Mapped[str] = mapped_column(
        String(40), comment="Named segment from R and the rounded mean of F and M (see docs/analytics.md)."
    )


class InventoryAlert(Base):
    __tablename__ = "inventory_alerts"
    __table_args__ = (
        PrimaryKeyConstraint("alert_date", "inventory_id"),
        Index("ix_inventory_alerts_shop_id_alert_date", "shop_id", "alert_date"),
        Index("ix_inventory_alerts_inventory_id", "inventory_id"),
        Index("ix_inventory_alerts_listing_id", "listing_id"),
        {"schema": ANALYTICS, "comment": "Offerings at or below their shop's low-stock threshold, or sold out."},
    )

    alert_date: Mapped[date] = mapped_column(comment="The day the stock was looked at.")
    inventory_id: Mapped[int] = mapped_column(
        ForeignKey(f"{CORE}.inventory.id", ondelete="CASCADE"), comment="core.inventory.id of the offering."
    )
    shop_id: Mapped[int] = shop_fk()
    listing_id: Mapped[int] = listing_fk()
    sku: Mapped[str | None] = mapped_column(String(200), comment="The offering's SKU.")
    quantity: Mapped[int] = mapped_column(Integer, comment="Quantity in stock.")
    threshold: Mapped[int] = mapped_column(
        Integer, comment="The low-stock threshold that applied (the shop's own, or LOW_STOCK_THRESHOLD)."
    )
    kind: Mapped[str] = mapped_column(String(20), comment="sold_out (quantity 0) or low_stock.")
