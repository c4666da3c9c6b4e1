"""Every model of the `core` and `analytics` schemas, imported so `Base.metadata` is complete."""

from etsy_pipeline.storage.models.analytics import ShopDailyMetrics
from etsy_pipeline.storage.models.analytics_daily import (
    CustomerLifetime,
    CustomerSegment,
    InventoryAlert,
    ListingDailyMetrics,
)
from etsy_pipeline.storage.models.listings import (
    Inventory,
    Listing,
    ListingImage,
    ListingSnapshot,
    ListingVideo,
)
from etsy_pipeline.storage.models.ops import PendingChange, SyncCursor, SyncRun
from etsy_pipeline.storage.models.orders import Customer, Order, OrderItem
from etsy_pipeline.storage.models.payments import LedgerEntry, Payment
from etsy_pipeline.storage.models.shop_content import Review, ShopSection
from etsy_pipeline.storage.models.shops import Shop
from etsy_pipeline.storage.models.users import OAuthToken, User

__all__ = [
    "Customer",
    "CustomerLifetime",
    "CustomerSegment",
    "Inventory",
    "InventoryAlert",
    "LedgerEntry",
    "Listing",
    "ListingDailyMetrics",
    "ListingImage",
    "ListingSnapshot",
    "ListingVideo",
    "OAuthToken",
    "Order",
    "OrderItem",
    "Payment",
    "PendingChange",
    "Review",
    "Shop",
    "ShopDailyMetrics",
    "ShopSection",
    "SyncCursor",
    "SyncRun",
    "User",
]
