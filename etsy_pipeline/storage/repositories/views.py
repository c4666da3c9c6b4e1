"""What repositories return: frozen dataclasses, detached from sessions and safe to cache.

They carry no personal data and no secrets, so they can be cached, logged and shown in Dagster metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Generic, TypeVar

from etsy_pipeline.storage.codec import cacheable

T = TypeVar("T")


@cacheable
@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a keyset-paginated query; pass `next_cursor` back as `after` for the next page."""

    items: list[T]
    next_cursor: str | None


@cacheable
@dataclass(frozen=True)
class ShopView:
    id: int
    etsy_shop_id: int
    user_id: int
    shop_name: str
    title: str | None
    currency_code: str | None
    url: str | None
    is_vacation: bool
    listing_active_count: int
    transaction_sold_count: int
    num_favorers: int
    review_count: int
    review_average: Decimal | None
    sync_status: str
    last_synced_at: datetime | None
    last_sync_error: str | None
    low_stock_threshold: int | None


@cacheable
@dataclass(frozen=True)
class ListingView:
    id: int
    etsy_listing_id: int
    shop_id: int
    title: str
    state: str
    price: Decimal | None
    currency_code: str | None
    quantity: int
    tags: list[str]
    views: int
    num_favorers: int
    etsy_updated_at: datetime | None


@cacheable
@dataclass(frozen=True)
class SearchHit:
    listing: ListingView
    rank: float


@cacheable
@dataclass(frozen=True)
class InventoryView:
    id: int
    listing_id: int
    etsy_listing_id: int
    listing_title: str
    variation_key: str
    sku: str | None
    price: Decimal | None
    currency_code: str | None
    quantity: int
    is_enabled: bool


@dataclass(frozen=True)
class PendingChangeView:
    id: int
    shop_id: int
    entity_type: str
    entity_id: int
    change_type: str
    status: str
    priority: int
    idempotency_key: str


@cacheable
@dataclass(frozen=True)
class OrderView:
    id: int
    etsy_receipt_id: int
    shop_id: int
    status: str
    is_paid: bool
    is_shipped: bool
    currency_code: str
    grandtotal: Decimal
    subtotal: Decimal
    total_shipping_cost: Decimal
    total_tax_cost: Decimal
    discount_amt: Decimal
    refunded_amount: Decimal
    etsy_created_at: datetime


@cacheable
@dataclass(frozen=True)
class CustomerView:
    id: int
    shop_id: int
    etsy_buyer_user_id: int
    first_order_at: datetime
    last_order_at: datetime
    order_count: int
    units: int
    total_spent: Decimal
    currency_code: str


@cacheable
@dataclass(frozen=True)
class DailyMetricsView:
    shop_id: int
    metric_date: date
    currency_code: str
    orders: int
    items_sold: int
    gross_sales: Decimal
    discounts: Decimal
    shipping: Decimal
    tax: Decimal
    refunds: Decimal
    net_sales: Decimal
    etsy_fees: Decimal
    net_revenue_after_fees: Decimal
    average_order_value: Decimal | None
    distinct_buyers: int
    new_buyers: int
    returning_buyers: int
    views_gained: int
    favorites_gained: int
    reviews: int
    average_rating: Decimal | None
